"""MLflow mirror of a run folder: one experiment per task, one MLflow run per harness run.

The run folder is the source of truth: ``record.json`` holds the result and ``metrics.jsonl``
every metric point in the order it was logged. MLflow gets a copy, live while the server
answers; a server that stops answering never fails or slows a run: the mirror stops trying,
says so once, and ``harness sync`` pushes what is missing later. What was pushed is kept per
tracking URI in ``tracking.json``, so pushing again adds nothing twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.api import HarnessError
from harness.engine.config import flatten
from harness.engine.record import (
    CONFIG_FILE,
    LOG_FILE,
    RECORD_FILE,
    SUBMISSION_FILE,
    PhaseStats,
    RunRecord,
)

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

MLFLOW_STATUS = {
    "ok": "FINISHED",
    "invalid_submission": "FAILED",
    "failed": "FAILED",
    "oom": "FAILED",
    "killed": "FAILED",
    "timeout": "KILLED",
    "interrupted": "KILLED",
    "running": "RUNNING",
}
_MAX_PARAM_LEN = 6000
CONFIG_HASH_TAG = "harness.config_hash"
RUN_ID_TAG = "harness.run_id"
SOURCE_RUN_TAG = "harness.source_run_id"
"""On a ``harness predict`` run: the run whose saved solution predicted."""
METRICS_FILE = "metrics.jsonl"
STATE_FILE = "tracking.json"
ARTIFACT_FILES = (SUBMISSION_FILE, CONFIG_FILE, RECORD_FILE, LOG_FILE, METRICS_FILE)
"""The files of a run folder that go to MLflow as artifacts (those that exist)."""
REACH_TIMEOUT_S = 3.0
"""How long the check before a run waits for a tracking server's /health."""

# MLflow's HTTP client retries 7 times with exponential back-off (4 minutes against a dead
# server). The run folder keeps everything, so fail fast and let `harness sync` retry later.
_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}


class TrackingUnavailable(HarnessError):
    """The tracking server does not answer."""


def default_tracking_uri(results_dir: Path) -> str:
    """$MLFLOW_TRACKING_URI if set, else a sqlite store under the results folder."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return local_tracking_uri(results_dir)


def local_tracking_uri(results_dir: Path) -> str:
    return f"sqlite:///{(results_dir / 'mlflow.db').resolve()}"


def is_server(tracking_uri: str) -> bool:
    """A tracking server decides where artifacts go (e.g. ``--artifacts-destination``)."""
    return tracking_uri.startswith(("http://", "https://"))


def check_reachable(tracking_uri: str, timeout_s: float = REACH_TIMEOUT_S) -> None:
    """Raise TrackingUnavailable, naming the URI and the alternatives, if a server is down."""
    if not is_server(tracking_uri):
        return
    try:
        with urllib.request.urlopen(f"{tracking_uri.rstrip('/')}/health", timeout=timeout_s):
            return
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TrackingUnavailable(
            f"tracking server {tracking_uri} does not answer ({reason}); start it, or use a "
            "local store (leave tracking_uri out: sqlite under results_dir), or add "
            "offline=true to run now and push the run later with `harness sync`"
        ) from None


_client_import: threading.Thread | None = None
"""The import started by ``import_client_in_background``; ``open_client`` waits for it."""


def import_client_in_background(tracking_uri: str) -> None:
    """Import MLflow's client (about a second) on a thread while the runner loads the data, so
    that creating the MLflow run afterwards does not wait for the import; for a sqlite
    ``tracking_uri`` its store too (SQLAlchemy and Alembic: 0.9 s more, which creating the run
    waited for at rsna-ich's full size).

    Nothing else may import MLflow until ``open_client`` has waited for the thread: two threads
    importing MLflow's circular modules at once can see one half-initialised (ImportError). The
    runner calls this after its last MLflow use before the data is loaded.
    """
    global _client_import
    if _client_import is None:
        _client_import = threading.Thread(
            target=_import_client,
            args=(tracking_uri.startswith("sqlite:"),),
            name="mlflow-import",
            daemon=True,
        )
        _client_import.start()


def _import_client(sqlite: bool) -> None:
    with contextlib.suppress(ImportError):  # the main thread's own import reports it
        import mlflow.entities
        import mlflow.tracking

        if sqlite:
            import mlflow.store.tracking.sqlalchemy_store  # noqa: F401


def open_client(tracking_uri: str) -> MlflowClient:
    """A client whose store is ready: a new sqlite store is created by one process at a time.

    MLflow creates a sqlite store's tables with migrations on first use; processes doing that
    at once (the runs of a sweep) corrupt each other's migrations, so an exclusive lock on a
    file next to the database serialises the first use.
    """
    if _client_import is not None:
        _client_import.join()
    from mlflow.tracking import MlflowClient

    for key, value in _HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
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


@dataclass
class MetricPoint:
    key: str
    value: float
    timestamp_ms: int
    step: int


def append_metrics(run_dir: Path, values: dict[str, float], step: int | None) -> list[MetricPoint]:
    """Append metric points to the run folder's ``metrics.jsonl`` (the source of truth)."""
    now = int(time.time() * 1000)
    points = [MetricPoint(k, float(v), now, step or 0) for k, v in values.items()]
    with open(run_dir / METRICS_FILE, "a") as fh:
        for point in points:
            fh.write(json.dumps(asdict(point)) + "\n")
    return points


def read_metrics(run_dir: Path) -> list[MetricPoint]:
    """Every complete metric line of the run (a line cut by a crash is ignored)."""
    path = run_dir / METRICS_FILE
    if not path.is_file():
        return []
    points = []
    for line in path.read_text().splitlines():
        try:
            points.append(MetricPoint(**json.loads(line)))
        except (json.JSONDecodeError, TypeError):
            continue
    return points


@dataclass
class PushState:
    """What of one run folder is in one MLflow store."""

    mlflow_run_id: str = ""
    metrics_pushed: int = 0
    """Lines of metrics.jsonl already in MLflow."""
    finished_digest: str = ""
    """Digest of the record whose final state (tags, status, artifacts) MLflow holds."""


def _read_states(run_dir: Path) -> dict[str, dict[str, Any]]:
    path = run_dir / STATE_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def load_state(run_dir: Path, uri: str) -> PushState:
    return PushState(**_read_states(run_dir).get(uri, {}))


def save_state(run_dir: Path, uri: str, state: PushState) -> None:
    states = _read_states(run_dir)
    states[uri] = asdict(state)
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".tracking-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(states, fh, indent=2, sort_keys=True)
    os.replace(tmp, run_dir / STATE_FILE)


def record_digest(record: RunRecord) -> str:
    """What the final push depends on: the record less the MLflow run id it gives back."""
    values = record.to_dict()
    values.pop("mlflow_run_id", None)
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_synced(record: RunRecord, run_dir: Path, uri: str) -> bool:
    state = load_state(run_dir, uri)
    return state.finished_digest == record_digest(record) and state.metrics_pushed >= len(
        read_metrics(run_dir)
    )


@contextlib.contextmanager
def run_folder_lock(run_dir: Path) -> Iterator[None]:
    """One pusher per run folder at a time (a run finishing and a `harness sync`, say)."""
    with open(run_dir / ".tracking.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class MlflowPusher:
    """Writes a run folder into one MLflow store through the client API (no fluent state)."""

    def __init__(self, tracking_uri: str, artifact_root: Path) -> None:
        self.uri = tracking_uri
        self._client = open_client(tracking_uri)
        self._artifact_root = artifact_root

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

    def ensure_run(self, record: RunRecord, state: PushState) -> str:
        """The MLflow run of ``record``: the one pushed before, found by tag, or a new one.

        Looking the harness run id up before creating makes a retried push that had created
        the run (and lost the answer) reuse it instead of making a duplicate.
        """
        from mlflow.entities import Param, RunTag

        if state.mlflow_run_id:
            return state.mlflow_run_id
        experiment_id = self._experiment_id(record.task)
        found = self._client.search_runs(
            [experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{record.run_id}'"
        )
        if found:
            return str(found[0].info.run_id)
        run = self._client.create_run(
            experiment_id,
            run_name=f"{record.solution}-{record.budget_name}-seed{record.seed}",
            tags=_tags(record),
        )
        params = flatten(record.config)
        params.update({"budget": record.budget_name, "seed": record.seed})
        params.update({f"budget.{k}": v for k, v in record.budget.items() if k != "name"})
        self._client.log_batch(
            run.info.run_id,
            params=[Param(k, str(v)[:_MAX_PARAM_LEN]) for k, v in sorted(params.items())],
            tags=[RunTag("harness.run_dir", record.run_dir)],
        )
        return str(run.info.run_id)

    def push_metrics(self, mlflow_run_id: str, points: list[MetricPoint]) -> None:
        from mlflow.entities import Metric

        for start in range(0, len(points), 1000):  # MLflow's log_batch limit
            batch = points[start : start + 1000]
            self._client.log_batch(
                mlflow_run_id,
                metrics=[Metric(p.key, p.value, p.timestamp_ms, p.step) for p in batch],
            )

    def push_final(self, mlflow_run_id: str, record: RunRecord, artifacts: Iterable[Path]) -> None:
        """Tags, artifacts and the status, which mirrors the record's."""
        from mlflow.entities import RunTag

        self._client.log_batch(
            mlflow_run_id, tags=[RunTag(k, str(v)) for k, v in _tags(record).items()]
        )
        for path in artifacts:
            if path.is_file():
                self._client.log_artifact(mlflow_run_id, str(path))
        end_time = None if record.status == "running" else int(time.time() * 1000)
        self._client.set_terminated(
            mlflow_run_id, status=MLFLOW_STATUS[record.status], end_time=end_time
        )


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
        RUN_ID_TAG: record.run_id,
        CONFIG_HASH_TAG: record.config_hash,
        "metric": record.metric_name,
        "metric.greater_is_better": str(record.greater_is_better).lower(),
    }
    tags.update({f"lib.{k}": v for k, v in record.libraries.items()})
    tags.update({f"hw.{k}": str(v) for k, v in record.hardware.items()})
    if record.source_run_id:
        tags[SOURCE_RUN_TAG] = record.source_run_id
        tags["rows"] = record.rows
    if record.error:
        tags["error"] = record.error[:5000]
    if record.failed_phase:
        tags["failed_phase"] = record.failed_phase
    return tags


def summary_metrics(record: RunRecord) -> dict[str, float]:
    """The metrics a finished run adds: score and CI, throughput, the hidden-test projection,
    GPU hours, facts."""
    summary: dict[str, float] = {"gpu_hours": record.gpu_hours}
    for name in (
        "score",
        "ci_low",
        "ci_high",
        "predict_images_per_s",
        "hidden_test_projected_s",
        "hidden_test_limit_s",
    ):
        value = getattr(record, name)
        if value is not None:
            summary[name] = value
    summary["n_holdout_cases"] = record.n_holdout_cases
    summary.update({f"extra.{k}": v for k, v in record.extra.items() if isinstance(v, int | float)})
    return summary


def push_run(run_dir: Path, record: RunRecord, uri: str) -> str:
    """Push whatever of ``run_dir`` the store at ``uri`` lacks; return the MLflow run id.

    Idempotent: metric lines already pushed are skipped and the final state is pushed only
    when the record changed since. Raises whatever MLflow raises; nothing is marked pushed
    that was not.
    """
    with run_folder_lock(run_dir):
        state = load_state(run_dir, uri)
        pusher = MlflowPusher(uri, run_dir.parent.parent / "mlartifacts")
        state.mlflow_run_id = pusher.ensure_run(record, state)
        save_state(run_dir, uri, state)
        if uri == record.tracking_uri and record.mlflow_run_id != state.mlflow_run_id:
            record.mlflow_run_id = state.mlflow_run_id  # a run that started offline
            record.save(run_dir)
        points = read_metrics(run_dir)
        if state.metrics_pushed < len(points):
            pusher.push_metrics(state.mlflow_run_id, points[state.metrics_pushed :])
            state.metrics_pushed = len(points)
            save_state(run_dir, uri, state)
        digest = record_digest(record)
        if record.status != "running" and state.finished_digest != digest:
            artifacts = [run_dir / name for name in ARTIFACT_FILES]
            pusher.push_final(state.mlflow_run_id, record, artifacts)
            state.finished_digest = digest
            save_state(run_dir, uri, state)
        return state.mlflow_run_id


class Tracker:
    """The live mirror of one run: every call writes the run folder, then tries MLflow.

    After the first MLflow failure the tracker stops calling MLflow for this run (no retry
    storm against a dead server) and logs one warning telling how to push later.
    """

    def __init__(self, tracking_uri: str, run_dir: Path, offline: bool = False) -> None:
        self.uri = tracking_uri
        self.run_dir = run_dir
        self.offline = offline
        self.run_id = ""
        self.error = ""
        """Why MLflow lacks part of this run ('' while everything reached it)."""
        self._pusher: MlflowPusher | None = None

    @property
    def connected(self) -> bool:
        return not self.offline and not self.error

    def _try(self, what: str, action: Any) -> Any:
        if not self.connected:
            return None
        try:
            return action()
        except Exception as exc:  # MLflow raises many kinds; the run must go on regardless
            self.error = f"{what} failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            log.warning(
                "MLflow at %s stopped answering (%s); the run goes on and is kept in %s; "
                "push it later with `harness sync`",
                self.uri,
                self.error,
                self.run_dir,
            )
            return None

    def start(self, record: RunRecord) -> str:
        def create() -> str:
            self._pusher = MlflowPusher(self.uri, self.run_dir.parent.parent / "mlartifacts")
            state = load_state(self.run_dir, self.uri)
            state.mlflow_run_id = self._pusher.ensure_run(record, state)
            save_state(self.run_dir, self.uri, state)
            return state.mlflow_run_id

        self.run_id = self._try("creating the MLflow run", create) or ""
        return self.run_id

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        points = append_metrics(self.run_dir, metrics, step)

        def push() -> None:
            assert self._pusher is not None
            self._pusher.push_metrics(self.run_id, points)
            state = load_state(self.run_dir, self.uri)
            state.metrics_pushed += len(points)
            save_state(self.run_dir, self.uri, state)

        self._try("logging metrics", push)

    def log_phase(self, phase: str, stats: PhaseStats) -> None:
        self.log_metrics({f"{phase}.{k}": v for k, v in vars(stats).items() if v is not None})

    def finish(self, record: RunRecord) -> None:
        """Final metrics, tags and artifacts; the MLflow status mirrors the record's.

        Call after the record is saved: the record file is one of the artifacts.
        """
        self._try("finishing the MLflow run", lambda: push_run(self.run_dir, record, self.uri))
