"""Where a run's data comes from: a user's Kaggle download, or the embedded synthetic dataset.

Synthetic datasets are generated once per (task version, generator parameters, seed) under
``<results>/data/<task>/`` and reused; generation writes to a temporary folder that is renamed
into place only when complete, so an interrupted generation is never mistaken for a dataset.
A file lock beside the dataset folder (``synthetic-<digest>.lock``) makes runs started at once
(two terminals, a sweep's threads) generate it once: the others wait and reuse it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.api import DataError, Task
from harness.engine.config import DataConfig, as_plain_dict, merge_overrides
from harness.kit.locks import exclusive

log = logging.getLogger(__name__)

SYNTH_MANIFEST = "synthetic.json"

_GENERATING = threading.Lock()
"""One generation at a time in a process: pydicom's writers and the JPEG 2000 encoder are not
thread-safe (two sweep threads generating at once crashed the interpreter)."""


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
        with _GENERATING:
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


def synthetic_root(task: Task, data: DataConfig, results_dir: Path) -> Path:
    """Where the synthetic dataset of ``data`` lives (or will) under ``results_dir``."""
    config = synth_config(task, data.synth)
    key = json.dumps(
        {"v": task.version, "seed": data.synth_seed, "config": as_plain_dict(config)},
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return results_dir / "data" / task.name / f"synthetic-{digest}"


def lock_file(root: Path) -> Path:
    """The lock that serialises generating the dataset ``root``: a file beside it."""
    return root.with_name(f"{root.name}.lock")


def resolve_data(task: Task, data: DataConfig, results_dir: Path) -> ResolvedData:
    """The dataset root of a run, generating the synthetic default on first use.

    Safe to call from several processes and threads at once: one generates, the others wait.
    """
    if data.root is not None:
        root = Path(data.root).expanduser().resolve()
        if not root.is_dir():
            raise DataError(
                f"data.root={data.root} is not a folder; point it at the unpacked Kaggle "
                f"download of {task.name}, or leave it out to use synthetic data"
            )
        return ResolvedData(root, "kaggle")
    root = synthetic_root(task, data, results_dir)
    if (root / SYNTH_MANIFEST).is_file():
        return ResolvedData(root, "synthetic")
    with exclusive(lock_file(root), f"synthetic {task.name} data in {root}"):
        if not (root / SYNTH_MANIFEST).is_file():  # whoever held the lock may have made it
            if root.exists():  # left by an interrupted generation of an older harness
                shutil.rmtree(root, ignore_errors=True)
            log.info(
                "generating synthetic %s data in %s (once; later runs reuse it)", task.name, root
            )
            synthesize(task, root, synth_config(task, data.synth), data.synth_seed)
    return ResolvedData(root, "synthetic")
