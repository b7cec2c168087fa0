"""The label guard: the label files are out of the data root while a run's process lives.

The runner loads the labels (``task.load``), creates the run folder, tells its observer
``run_started``, and only then starts the run's process. The guard is that observer: on
``run_started`` it moves the label files into a store outside the data root, and it moves them
back when its ``with`` block ends, after the run. No thread, no timing: the solution's process
never exists while the files are in the root.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.contract.data import ContractData
from harness.engine.observe import LineObserver, LineSink, PhaseMeter
from harness.engine.record import RunRecord


class LabelGuard(LineObserver):
    """Watches one run (one line per event to ``emit``) and hides ``data``'s label files.

    ``hidden_before_first_phase`` says whether they were gone when the runner reported the
    first phase (None: no phase started); the check counts a run only when they were.
    """

    def __init__(self, data: ContractData, store: Path, emit: LineSink) -> None:
        super().__init__(emit)
        self.data = data
        self.store = store
        self.hidden = False
        self.hidden_before_first_phase: bool | None = None

    def run_started(self, record: RunRecord) -> None:
        self._move(self.data.root, self.store)
        self.hidden = True
        super().run_started(record)

    def phase_started(self, meter: PhaseMeter) -> None:
        if self.hidden_before_first_phase is None:
            self.hidden_before_first_phase = self.hidden
        super().phase_started(meter)

    def __enter__(self) -> LabelGuard:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.hidden:
            self._move(self.store, self.data.root)
            self.hidden = False

    def _move(self, source: Path, target: Path) -> None:
        for relative in self.data.label_files:
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            os.replace(source / relative, target / relative)
