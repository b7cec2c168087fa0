"""Where a run's data comes from: a user's Kaggle download, or the embedded synthetic dataset.

Synthetic datasets are generated once per (task version, generator parameters, seed) under
``<results>/data/<task>/`` and reused; generation writes to a temporary folder that is renamed
into place only when complete, so an interrupted generation is never mistaken for a dataset.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.api import DataError, Task
from harness.config import DataConfig, as_plain_dict, merge_overrides

log = logging.getLogger(__name__)

SYNTH_MANIFEST = "synthetic.json"


@dataclass(frozen=True)
class ResolvedData:
    root: Path
    kind: str
    """'synthetic' or 'kaggle'."""


def synth_config(task: Task, overrides: dict[str, Any]) -> Any:
    """The task's generator parameters with ``data.synth.*`` overrides applied."""
    return merge_overrides(task.synth_config, [overrides], [], where="data.synth")


def synthesize(task: Task, out: Path, config: Any, seed: int) -> Path:
    """Generate a dataset into ``out`` atomically (temporary sibling folder, then rename)."""
    out = out.expanduser().resolve()
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out} exists and is not empty; choose another out= or delete it")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-partial-"))
    try:
        task.synthesize(staging, config, seed)
        manifest = {
            "task": task.name,
            "task_version": task.version,
            "seed": seed,
            "config": as_plain_dict(config),
        }
        (staging / SYNTH_MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def resolve_data(task: Task, data: DataConfig, results_dir: Path) -> ResolvedData:
    """The dataset root of a run, generating the synthetic default on first use."""
    if data.root is not None:
        root = Path(data.root).expanduser().resolve()
        if not root.is_dir():
            raise DataError(
                f"data.root={data.root} is not a folder; point it at the unpacked Kaggle "
                f"download of {task.name}, or leave it out to use synthetic data"
            )
        return ResolvedData(root, "kaggle")
    config = synth_config(task, data.synth)
    key = json.dumps(
        {"v": task.version, "seed": data.synth_seed, "config": as_plain_dict(config)},
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    root = results_dir / "data" / task.name / f"synthetic-{digest}"
    if not (root / SYNTH_MANIFEST).is_file():
        if root.exists():  # left by an interrupted generation of an older harness
            shutil.rmtree(root, ignore_errors=True)
        log.info("generating synthetic %s data in %s (once; later runs reuse it)", task.name, root)
        try:
            synthesize(task, root, config, data.synth_seed)
        except (DataError, OSError):
            # A concurrent run generated the same dataset first: use theirs.
            if not (root / SYNTH_MANIFEST).is_file():
                raise
    return ResolvedData(root, "synthetic")
