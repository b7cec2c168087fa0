"""The holdout answers a run is scored against, and their export for the competition's grader.

The runner splits ``task.load(root)`` with ``task.split`` and scores against
``task.answers(holdout)``; ``holdout_answers`` does exactly that, so that an exported file, a
re-scored run and the run itself all use the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.api import DataError, Task
from harness.engine.config import DataConfig
from harness.engine.datasets import ResolvedData, resolve_data


@dataclass(frozen=True)
class ExportedAnswers:
    path: Path
    rows: int
    data: ResolvedData


def holdout_answers(task: Task, root: Path, rows: str = "holdout") -> pd.DataFrame:
    """The answers of the holdout split of the dataset at ``root``, as the runner makes them;
    with ``rows="all"`` those of every row (a ``harness predict`` run on data not trained on)."""
    table = task.load(root)
    return task.answers(table if rows == "all" else task.split(table)[1])


def export_holdout_answers(
    task: Task, out: Path, data: DataConfig, results_dir: Path
) -> ExportedAnswers:
    """Write the holdout answers of ``data`` (a Kaggle download or the synthetic default,
    generated under ``results_dir`` if needed) to ``out`` in the competition's format."""
    resolved = resolve_data(task, data, results_dir)
    out = out.expanduser().resolve()
    if out.is_relative_to(resolved.root):
        raise DataError(
            f"out={out} is inside the dataset {resolved.root}; write the answers elsewhere so "
            "that the dataset stays as downloaded"
        )
    if out.is_dir():
        raise DataError(f"out={out} is a folder; give a file name, e.g. out=answers.csv")
    answers = holdout_answers(task, resolved.root)
    out.parent.mkdir(parents=True, exist_ok=True)
    task.export_answers(answers, out)
    return ExportedAnswers(out, len(answers), resolved)
