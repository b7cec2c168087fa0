"""The contract's data: the task's tiny synthetic dataset, and which of its files hold labels."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.api import Task
from harness.engine.datasets import synth_config, synthesize


@dataclass(frozen=True)
class ContractData:
    root: Path
    label_files: list[Path]
    """Files under ``root`` (relative) that neither the training nor the test view names: what
    a solution has no business opening, the label tables above all."""


def contract_data(task: Task, folder: Path, seed: int) -> ContractData:
    """``task.contract_synth`` generated under ``folder/<task>``, with its label files."""
    config = synth_config(task, task.contract_synth)
    root = synthesize(task, folder / task.name, config, seed)
    return ContractData(root, _unreferenced_files(task, root))


def _unreferenced_files(task: Task, root: Path) -> list[Path]:
    table = task.load(root)
    train, holdout = task.split(table)
    prefix = f"{root}{os.sep}"
    referenced: set[Path] = set()
    for frame in (train, task.public_view(holdout)):
        for column in frame.columns:
            values = (value for value in frame[column] if isinstance(value, str))
            referenced.update(Path(value) for value in values if value.startswith(prefix))
    files = (path for path in sorted(root.rglob("*")) if path.is_file())
    return [
        path.relative_to(root)
        for path in files
        if path not in referenced and referenced.isdisjoint(path.parents)
    ]
