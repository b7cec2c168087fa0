"""The RunRecord: one run's full result, written atomically as JSON next to its artifacts."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.api import Status

RECORD_FILE = "record.json"
SUBMISSION_FILE = "submission.csv"
LOG_FILE = "run.log"
CONFIG_FILE = "config.yaml"
ARTIFACTS_DIR = "artifacts"
"""Where fit saves what a fresh predict process loads (``Solution.save``)."""


@dataclass(frozen=True)
class Owner:
    """The harness process that runs a run: a later command can tell whether it is still alive.

    The process start time tells a live owner from a new process that reused its pid.
    """

    host: str
    pid: int
    started_at: float
    """psutil's create_time of the process (seconds since the epoch)."""


@dataclass
class PhaseStats:
    """Resources one phase used. GPU fields stay None where no GPU was used."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    gpu_peak_mem_gb: float | None = None
    gpu_util_mean: float | None = None


@dataclass
class RunRecord:
    """Everything needed to trust, compare and reproduce one run."""

    run_id: str
    task: str
    task_version: str
    split_version: str
    solution: str
    solution_version: str
    budget: dict[str, Any]
    seed: int
    config: dict[str, Any]
    metric_name: str
    greater_is_better: bool
    data_root: str
    data_kind: str
    created_at: str
    status: Status = "running"
    error: str = ""
    failed_phase: str = ""
    current_phase: str = ""
    """The phase running now (while status is running); where an interrupted run stopped."""
    owner: Owner | None = None
    finished_at: str = ""
    score: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n_train: int = 0
    n_holdout_cases: int = 0
    """Rows of the holdout answers (rsna-ich: slices x 6 labels)."""
    n_holdout_groups: int = 0
    """Units the bootstrap resamples (patients, studies or images: the task's ``groups``)."""
    rows: str = "holdout"
    """The rows predicted and scored: the split's ``holdout``, or ``all`` rows of the data
    (``harness predict`` on data the source run did not train on)."""
    source_run_id: str = ""
    """``harness predict``: the finished run whose saved solution predicted here."""
    phases: dict[str, PhaseStats] = field(default_factory=dict)
    predict_images_per_s: float | None = None
    gpu_hours: float = 0.0
    hidden_test_rows: int | None = None
    """The competition's hidden test set, in rows of the task's table (``Task.hidden_test``)."""
    hidden_test_unit: str = ""
    """What its rows are (images, slices, studies)."""
    hidden_test_projected_s: float | None = None
    """Predict wall time projected to that size on this run's hardware (engine.projection)."""
    hidden_test_limit_s: float | None = None
    """The competition's predict limit; None where predictions were uploaded."""
    hidden_test_fits: bool | None = None
    """The projection is within that limit; None without a limit or a projection."""
    device: str = "cpu"
    fresh_predict: bool = False
    """Predict ran in a fresh process from what fit saved in ``ARTIFACTS_DIR``."""
    offline_predict: bool = False
    """That process had no network."""
    git_sha: str = ""
    libraries: dict[str, str] = field(default_factory=dict)
    hardware: dict[str, Any] = field(default_factory=dict)
    run_dir: str = ""
    mlflow_run_id: str = ""
    tracking_uri: str = ""
    """The MLflow store this run is mirrored to (``harness sync`` pushes it there)."""
    config_hash: str = ""
    """What decides the result (versions, budget, seed, data, options): equal hash, same run."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Solution-reported facts (chosen threshold, epochs run, fallbacks counted...)."""

    @property
    def budget_name(self) -> str:
        return str(self.budget["name"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, folder: Path) -> Path:
        """Write ``record.json`` atomically: a reader never sees a half-written file."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / RECORD_FILE
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".record-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(self.to_dict(), fh, indent=2, sort_keys=True, default=str)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    @classmethod
    def load(cls, path: Path) -> RunRecord:
        data = json.loads(path.read_text())
        data["phases"] = {k: PhaseStats(**v) for k, v in data.get("phases", {}).items()}
        if data.get("owner") is not None:
            data["owner"] = Owner(**data["owner"])
        return cls(**data)
