"""Which planned runs already finished ok, according to the MLflow store they record into.

MLflow, not the local run folders, is the source of truth: on a Ray cluster the run folders
are spread over the workers, while every run reports to the one tracking store.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlflow.exceptions import MlflowException

from harness.api import HarnessError
from harness.sweep.plan import PlannedRun
from harness.tracking import CONFIG_HASH_TAG, open_client


@dataclass(frozen=True)
class PreviousRun:
    mlflow_run_id: str
    score: float | None
    run_dir: str


def find_completed(plans: list[PlannedRun]) -> dict[str, PreviousRun]:
    """Config hash -> the latest run with that hash whose status is ``ok``."""
    found: dict[str, PreviousRun] = {}
    by_store: dict[tuple[str, str], list[PlannedRun]] = {}
    for plan in plans:
        by_store.setdefault((plan.tracking_uri, plan.config.task), []).append(plan)
    for (uri, task), group in by_store.items():
        try:
            found.update(_completed_in(uri, task, group))
        except (MlflowException, OSError) as exc:
            raise HarnessError(
                f"could not read the MLflow store {uri} to find finished runs: {exc}; "
                "start the tracking server, fix tracking_uri=, or pass --force"
            ) from exc
    return found


def _completed_in(uri: str, task: str, plans: list[PlannedRun]) -> dict[str, PreviousRun]:
    client = open_client(uri)
    experiment = client.get_experiment_by_name(task)
    if experiment is None:
        return {}
    found: dict[str, PreviousRun] = {}
    for plan in plans:
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.`{CONFIG_HASH_TAG}` = '{plan.config_hash}' AND tags.status = 'ok'",
            max_results=1,
            order_by=["attributes.start_time DESC"],
        )
        if runs:
            found[plan.config_hash] = PreviousRun(
                mlflow_run_id=runs[0].info.run_id,
                score=runs[0].data.metrics.get("score"),
                run_dir=runs[0].data.tags.get("harness.run_dir", ""),
            )
    return found
