"""MLflow mirror of a RunRecord: one experiment per task, one MLflow run per harness run.

The MLflow run is created before the solution starts, so a run that crashes, is killed or
times out is still there, with whatever phases it finished.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.config import flatten
from harness.record import PhaseStats, RunRecord

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

MLFLOW_STATUS = {
    "ok": "FINISHED",
    "invalid_submission": "FAILED",
    "failed": "FAILED",
    "oom": "FAILED",
    "timeout": "KILLED",
    "running": "RUNNING",
}
_MAX_PARAM_LEN = 6000
CONFIG_HASH_TAG = "harness.config_hash"


def default_tracking_uri(results_dir: Path) -> str:
    """$MLFLOW_TRACKING_URI if set, else a sqlite store under the results folder."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{(results_dir / 'mlflow.db').resolve()}"


def is_server(tracking_uri: str) -> bool:
    """A tracking server decides where artifacts go (e.g. ``--artifacts-destination``)."""
    return tracking_uri.startswith(("http://", "https://"))


def open_client(tracking_uri: str) -> MlflowClient:
    """A client whose store is ready: a new sqlite store is created by one process at a time.

    MLflow creates a sqlite store's tables with migrations on first use; processes doing that
    at once (the runs of a sweep) corrupt each other's migrations, so an exclusive lock on a
    file next to the database serialises the first use.
    """
    from mlflow.tracking import MlflowClient

    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix):
        return MlflowClient(tracking_uri)
    database = Path(tracking_uri[len(prefix) :])
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{database}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            client = MlflowClient(tracking_uri)
            client.search_experiments(max_results=1)  # the store exists and is migrated now
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return client


class Tracker:
    """Writes one harness run into MLflow through the client API (no global fluent state)."""

    def __init__(self, tracking_uri: str, artifact_root: Path) -> None:
        self.uri = tracking_uri
        self._client = open_client(tracking_uri)
        self._artifact_root = artifact_root
        self.run_id = ""

    def _experiment_id(self, name: str) -> str:
        from mlflow.exceptions import MlflowException

        existing = self._client.get_experiment_by_name(name)
        if existing is not None:
            return str(existing.experiment_id)
        location = None if is_server(self.uri) else (self._artifact_root / name).resolve().as_uri()
        try:
            return str(self._client.create_experiment(name, artifact_location=location))
        except MlflowException:  # created meanwhile by a concurrent run
            again = self._client.get_experiment_by_name(name)
            if again is None:
                raise
            return str(again.experiment_id)

    def start(self, record: RunRecord) -> str:
        from mlflow.entities import Param, RunTag

        experiment_id = self._experiment_id(record.task)
        run = self._client.create_run(
            experiment_id,
            run_name=f"{record.solution}-{record.budget_name}-seed{record.seed}",
            tags=self._tags(record),
        )
        self.run_id = run.info.run_id
        params = flatten(record.config)
        params.update({"budget": record.budget_name, "seed": record.seed})
        params.update({f"budget.{k}": v for k, v in record.budget.items() if k != "name"})
        self._client.log_batch(
            self.run_id,
            params=[Param(k, str(v)[:_MAX_PARAM_LEN]) for k, v in sorted(params.items())],
            tags=[RunTag("harness.run_dir", record.run_dir)],
        )
        return self.run_id

    @staticmethod
    def _tags(record: RunRecord) -> dict[str, Any]:
        tags: dict[str, Any] = {
            "status": record.status,
            "task": record.task,
            "task.version": record.task_version,
            "split.version": record.split_version,
            "solution": record.solution,
            "solution.version": record.solution_version,
            "budget": record.budget_name,
            "data.kind": record.data_kind,
            "device": record.device,
            "git.sha": record.git_sha,
            "harness.run_id": record.run_id,
            CONFIG_HASH_TAG: record.config_hash,
            "metric": record.metric_name,
            "metric.greater_is_better": str(record.greater_is_better).lower(),
        }
        tags.update({f"lib.{k}": v for k, v in record.libraries.items()})
        tags.update({f"hw.{k}": str(v) for k, v in record.hardware.items()})
        if record.error:
            tags["error"] = record.error[:5000]
        if record.failed_phase:
            tags["failed_phase"] = record.failed_phase
        return tags

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self._client.log_batch(
            self.run_id,
            metrics=[Metric(k, float(v), now, step or 0) for k, v in metrics.items()],
        )

    def log_phase(self, phase: str, stats: PhaseStats) -> None:
        values = {f"{phase}.{k}": v for k, v in vars(stats).items() if v is not None}
        self.log_metrics(values)

    def finish(self, record: RunRecord, artifacts: Iterable[Path]) -> None:
        """Final metrics, tags and artifacts; the MLflow status mirrors the record's."""
        from mlflow.entities import RunTag

        summary: dict[str, float] = {"gpu_hours": record.gpu_hours}
        for name in ("score", "ci_low", "ci_high", "predict_images_per_s"):
            value = getattr(record, name)
            if value is not None:
                summary[name] = value
        summary["n_holdout_cases"] = record.n_holdout_cases
        summary.update(
            {f"extra.{k}": v for k, v in record.extra.items() if isinstance(v, int | float)}
        )
        self.log_metrics(summary)
        self._client.log_batch(
            self.run_id, tags=[RunTag(k, str(v)) for k, v in self._tags(record).items()]
        )
        for path in artifacts:
            if path.is_file():
                self._client.log_artifact(self.run_id, str(path))
        self._client.set_terminated(self.run_id, status=MLFLOW_STATUS[record.status])
