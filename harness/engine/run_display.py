"""``harness run``'s live view: the run folder first, then one progress line per phase.

On a terminal, rich redraws a bar per phase (units done, images/s, ETA, budget time left);
elsewhere (CI logs, pipes) plain lines are printed, progress at most every ``interval_s``.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Task as ProgressTask
from rich.text import Text

from harness.engine.observe import LineObserver, PhaseMeter
from harness.engine.record import PhaseStats, RunRecord


class _MeterColumn(ProgressColumn):
    """The phase's meter, read at each redraw, so ETA and budget left tick between updates."""

    def render(self, task: ProgressTask) -> Text:
        meter = task.fields.get("meter")
        if isinstance(meter, PhaseMeter):
            return Text(meter.describe().split(": ", 1)[-1])
        return Text(task.description)


class RunDisplay:
    def __init__(self, console: Console, interval_s: float = 10.0) -> None:
        self._console = console
        self._live = console.is_terminal
        self._lines = LineObserver(self._print, interval_s)
        self._bars: Progress | None = None
        self._task: TaskID | None = None

    def _print(self, line: str) -> None:
        self._console.print(f"  {line}", highlight=False, soft_wrap=True)

    def run_started(self, record: RunRecord) -> None:
        self._console.print(f"run folder: {record.run_dir}", highlight=False, soft_wrap=True)

    def phase_started(self, meter: PhaseMeter) -> None:
        if not self._live:
            self._lines.phase_started(meter)
            return
        if self._bars is None:
            self._bars = Progress(
                TextColumn("  {task.fields[phase]:<8}"),
                BarColumn(bar_width=24),
                TimeElapsedColumn(),
                _MeterColumn(),
                console=self._console,
                transient=False,
            )
            self._bars.start()
        self._task = self._bars.add_task("", total=None, phase=meter.phase, meter=meter)

    def progress(self, meter: PhaseMeter) -> None:
        if not self._live:
            self._lines.progress(meter)
            return
        if self._bars is None or self._task is None:
            return
        if meter.latest is not None:
            self._bars.update(self._task, total=meter.latest.total, completed=meter.latest.done)

    def phase_ended(self, phase: str, stats: PhaseStats) -> None:
        if not self._live:
            self._lines.phase_ended(phase, stats)
            return
        if self._bars is not None and self._task is not None:
            task = self._bars.tasks[self._task]
            self._bars.update(
                self._task,
                total=task.total or 1,
                completed=task.total or 1,
                description=f"finished in {stats.wall_s:.1f} s",
                meter=None,
            )
            self._bars.stop_task(self._task)
        self._task = None

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
