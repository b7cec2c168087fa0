"""MLflow -> one tidy table, one row per harness run, that every part of the report reads.

Only runs written by the harness are read (they carry the ``solution`` tag); everything comes
from MLflow's tags, params and metrics, except the dataset root, which only the run's
``record.json`` artifact holds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from packaging.version import InvalidVersion, Version

from harness.api import PHASES, HarnessError
from harness.engine.record import RECORD_FILE

_PROGRESS_BAR = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
SOLUTION_PARAM_PREFIX = "solution."
"""Params under this prefix are the solution's resolved options (see harness.engine.tracking)."""

COLUMNS: tuple[str, ...] = (
    "mlflow_run_id",
    "run_id",
    "task",
    "task_version",
    "split_version",
    "metric",
    "greater_is_better",
    "solution",
    "solution_version",
    "options",
    "budget",
    "seed",
    "status",
    "error",
    "failed_phase",
    "device",
    "data_kind",
    "data_root",
    "rows",
    "source_run_id",
    "kind",
    "run_dir",
    "started",
    "score",
    "ci_low",
    "ci_high",
    "n_holdout_cases",
    *(f"{phase}_wall_s" for phase in PHASES),
    "wall_s",
    "gpu_hours",
    "gpu_peak_mem_gb",
    "gpu_util_mean",
    "predict_images_per_s",
    "hidden_test_projected_s",
    "hidden_test_limit_s",
    "git_sha",
    "libraries",
    "hardware",
)


def parse_since(since: str | None) -> dt.datetime | None:
    """An ISO date or date-time; one without an offset is read as UTC."""
    if since is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(since)
    except ValueError:
        raise HarnessError(
            f"since={since!r} is not an ISO date; use e.g. since=2024-05-01 or "
            "since=2024-05-01T14:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _check_store(tracking_uri: str) -> None:
    """A missing sqlite file would silently become a new, empty store: refuse instead."""
    prefix = "sqlite:///"
    if tracking_uri.startswith(prefix) and not Path(tracking_uri[len(prefix) :]).is_file():
        raise HarnessError(
            f"no MLflow store at {tracking_uri}; run `harness run ...` first, or point "
            "results_dir= or tracking_uri= at the store that holds your runs"
        )


def collect_runs(
    tracking_uri: str,
    *,
    task: str | None = None,
    budget: str | None = None,
    since: str | None = None,
    all_versions: bool = False,
) -> pd.DataFrame:
    """The harness runs in the store, filtered, as a table with columns ``COLUMNS``.

    Unless ``all_versions``, only the latest version of each task and of each solution is kept:
    older versions may have another metric, split or model, so they are not ranked with it.
    """
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    _check_store(tracking_uri)
    filters = ["tags.solution != ''"]
    moment = parse_since(since)
    if moment is not None:
        filters.append(f"attributes.start_time >= {int(moment.timestamp() * 1000)}")
    rows: list[dict[str, Any]] = []
    try:
        client = MlflowClient(tracking_uri)
        experiments = client.search_experiments()
        ids = [e.experiment_id for e in experiments if task is None or e.name == task]
        token: str | None = None
        while ids:
            page = client.search_runs(ids, " and ".join(filters), page_token=token)
            rows.extend(_row(client, run) for run in page)
            token = page.token
            if not token:
                break
    except MlflowException as exc:
        raise HarnessError(f"cannot read the MLflow store {tracking_uri}: {exc}") from exc
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    if budget is not None:
        frame = frame.loc[frame["budget"] == budget]
    if not all_versions:
        frame = latest_versions(frame)
    return frame.sort_values(["task", "budget", "solution", "seed", "started"]).reset_index(
        drop=True
    )


def _row(client: Any, run: Any) -> dict[str, Any]:
    tags: dict[str, str] = run.data.tags
    params: dict[str, str] = run.data.params
    metrics: dict[str, float] = run.data.metrics
    record = _record(client, run.info.run_id, tags.get("harness.run_dir", ""))
    walls = {p: metrics.get(f"{p}.wall_s") for p in PHASES}
    utils = [
        (metrics[f"{p}.gpu_util_mean"], walls[p] or 0.0)
        for p in PHASES
        if f"{p}.gpu_util_mean" in metrics
    ]
    memory = [metrics[f"{p}.gpu_peak_mem_gb"] for p in PHASES if f"{p}.gpu_peak_mem_gb" in metrics]
    options = {
        k[len(SOLUTION_PARAM_PREFIX) :]: v
        for k, v in params.items()
        if k.startswith(SOLUTION_PARAM_PREFIX)
    }
    return {
        "mlflow_run_id": run.info.run_id,
        "run_id": tags.get("harness.run_id", run.info.run_id),
        "task": tags.get("task", ""),
        "task_version": tags.get("task.version", ""),
        "split_version": tags.get("split.version", ""),
        "metric": tags.get("metric", "score"),
        "greater_is_better": tags.get("metric.greater_is_better", "true") == "true",
        "solution": tags["solution"],
        "solution_version": tags.get("solution.version", ""),
        "options": json.dumps(options, sort_keys=True),
        "budget": tags.get("budget", ""),
        "seed": int(params.get("seed", -1)),
        "status": tags.get("status", "running"),
        "error": tags.get("error", ""),
        "failed_phase": tags.get("failed_phase", ""),
        "device": tags.get("device", ""),
        "data_kind": tags.get("data.kind", ""),
        "data_root": str(record.get("data_root", "")),
        "rows": tags.get("rows", "holdout"),
        "source_run_id": tags.get("harness.source_run_id", ""),
        "kind": "predict" if tags.get("harness.source_run_id") else "run",
        "run_dir": tags.get("harness.run_dir", ""),
        "started": pd.Timestamp(run.info.start_time, unit="ms", tz="UTC"),
        "score": metrics.get("score", np.nan),
        "ci_low": metrics.get("ci_low", np.nan),
        "ci_high": metrics.get("ci_high", np.nan),
        "n_holdout_cases": metrics.get("n_holdout_cases", np.nan),
        **{f"{p}_wall_s": np.nan if w is None else w for p, w in walls.items()},
        "wall_s": sum(w for w in walls.values() if w is not None),
        "gpu_hours": metrics.get("gpu_hours", 0.0),
        "gpu_peak_mem_gb": max(memory) if memory else np.nan,
        "gpu_util_mean": _weighted_mean(utils),
        "predict_images_per_s": metrics.get("predict_images_per_s", np.nan),
        "hidden_test_projected_s": metrics.get("hidden_test_projected_s", np.nan),
        "hidden_test_limit_s": metrics.get("hidden_test_limit_s", np.nan),
        "git_sha": tags.get("git.sha", ""),
        "libraries": {k[4:]: v for k, v in tags.items() if k.startswith("lib.")},
        "hardware": {k[3:]: v for k, v in tags.items() if k.startswith("hw.")},
    }


def _weighted_mean(pairs: list[tuple[float, float]]) -> float:
    """Mean of values weighted by phase wall time (plain mean if no phase took any time)."""
    if not pairs:
        return np.nan
    values, weights = np.array(pairs).T
    if weights.sum() <= 0:
        return float(values.mean())
    return float(np.average(values, weights=weights))


@contextlib.contextmanager
def _no_progress_bars() -> Iterator[None]:
    """MLflow draws a progress bar per downloaded artifact; the report downloads many."""
    previous = os.environ.get(_PROGRESS_BAR)
    os.environ[_PROGRESS_BAR] = "false"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[_PROGRESS_BAR]
        else:
            os.environ[_PROGRESS_BAR] = previous


def _record(client: Any, run_id: str, run_dir: str) -> dict[str, Any]:
    """The run's record.json: the MLflow artifact, else the run folder's copy, else empty.

    A run whose harness process was killed outright has no artifacts yet.
    """
    with tempfile.TemporaryDirectory(prefix="harness-report-") as tmp:
        try:
            with _no_progress_bars():
                path = Path(client.download_artifacts(run_id, RECORD_FILE, tmp))
            return dict(json.loads(path.read_text()))
        except Exception:  # missing artifact, or a store that cannot be reached
            local = Path(run_dir) / RECORD_FILE
            if run_dir and local.is_file():
                return dict(json.loads(local.read_text()))
    return {}


def fetch_artifact(tracking_uri: str, mlflow_run_id: str, name: str, folder: Path) -> Path:
    """Download one artifact of a run into ``folder``; raises if the run has none by that name."""
    from mlflow.tracking import MlflowClient

    with _no_progress_bars():
        path = MlflowClient(tracking_uri).download_artifacts(mlflow_run_id, name, str(folder))
    return Path(path)


def _newest(versions: pd.Series, started: pd.Series) -> str:
    """The latest version: by version order where all parse (PEP 440), else the newest run's."""
    try:
        return str(max(versions.unique(), key=Version))
    except InvalidVersion:
        return str(versions.iloc[int(started.to_numpy().argmax())])


def latest_versions(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the runs of each task's latest version and of each solution's latest version."""
    keep = pd.Series(True, index=frame.index)
    for groups, column in ((["task"], "task_version"), (["task", "solution"], "solution_version")):
        newest = frame.groupby(groups)[column].transform(
            lambda versions: _newest(versions, frame.loc[versions.index, "started"])
        )
        keep &= frame[column] == newest
    return frame.loc[keep]
