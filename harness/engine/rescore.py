"""``harness score run=<id|folder>``: grade a finished run's submission again, from its folder.

The run folder holds ``record.json`` (task, data root, split version, score) and
``submission.csv``; the holdout answers are rebuilt from the recorded data root exactly as the
runner built them, so an unchanged harness reproduces the recorded score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from harness.api import DataError, HarnessError
from harness.engine.holdout import holdout_answers
from harness.engine.record import RECORD_FILE, RunRecord
from harness.engine.registry import load_task
from harness.engine.scoring import ScoreResult, score_submission
from harness.engine.suggest import did_you_mean
from harness.engine.worker import SUBMISSION_FILE

DEFAULT_BOOTSTRAP = 1000


@dataclass(frozen=True)
class Rescore:
    record: RunRecord
    run_dir: Path
    result: ScoreResult
    notes: list[str] = field(default_factory=list)
    """Differences between the run and this scoring that may explain another score."""

    @property
    def matches(self) -> bool:
        """The new score equals the recorded one (to rounding: the same code gives the same
        float; a tolerance keeps a library's last-bit change from reading as a mismatch)."""
        recorded = self.record.score
        return recorded is not None and math.isclose(
            self.result.score, recorded, rel_tol=1e-9, abs_tol=1e-12
        )


def find_run(run: str, results_dir: Path) -> Path:
    """The folder of ``run``: a folder holding record.json, or a run id under results_dir/runs."""
    given = Path(run).expanduser()
    if (given / RECORD_FILE).is_file():
        return given.resolve()
    runs = results_dir.expanduser() / "runs"
    if (runs / run / RECORD_FILE).is_file():
        return (runs / run).resolve()
    known = sorted(p.name for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []
    raise HarnessError(
        f"run={run} is neither a run folder with {RECORD_FILE} nor a run id under "
        f"{runs}{did_you_mean(run, known)}; pass the folder or set results_dir="
    )


def rescore_run(run: str, results_dir: Path, bootstrap: int | None = None) -> Rescore:
    """Re-score the submission of a finished run against its own holdout.

    ``bootstrap`` defaults to the resamples the run used. Raises HarnessError when the run has
    no submission, its data is gone, or the task's split has changed since.
    """
    run_dir = find_run(run, results_dir)
    record = RunRecord.load(run_dir / RECORD_FILE)
    task = load_task(record.task)
    submission = run_dir / SUBMISSION_FILE
    if not submission.is_file():
        reason = f": {record.error}" if record.error else ""
        raise HarnessError(
            f"run {record.run_id} has no {SUBMISSION_FILE} to score (status {record.status}"
            f"{reason})"
        )
    if record.rows == "test":
        raise HarnessError(
            f"run {record.run_id} predicted unlabelled test data ({record.data_root}): there are "
            "no answers to score it against"
        )
    if record.rows == "holdout" and record.split_version != task.split_version:
        raise HarnessError(
            f"run {record.run_id} used split {record.split_version} of {task.name}; the "
            f"installed task splits with {task.split_version}, so its holdout is not the run's"
        )
    root = Path(record.data_root)
    if not root.is_dir():
        raise DataError(
            f"the run's data {root} is gone; restore it there ({record.data_kind} data) to "
            "rebuild the holdout answers"
        )
    notes = []
    if record.task_version != task.version:
        notes.append(f"the run used {task.name} {record.task_version}; scored with {task.version}")
    if bootstrap is None:
        bootstrap = int(record.config.get("run", {}).get("bootstrap", DEFAULT_BOOTSTRAP))
    answers = holdout_answers(task, root, record.rows)
    result = score_submission(task, submission, answers, bootstrap)
    return Rescore(record, run_dir, result, notes)
