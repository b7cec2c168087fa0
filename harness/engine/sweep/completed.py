"""Which planned runs already finished ok, according to the MLflow store they record into.

MLflow, not the local run folders, is the source of truth: on a Ray cluster the run folders
are spread over the workers, while every run reports to the one tracking store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.api import HarnessError
from harness.engine.sweep.plan import PlannedRun
from harness.engine.tracking import CONFIG_HASH_TAG, open_client

_SQLITE = "sqlite:///"
_PAGE = 1000


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
        if uri.startswith(_SQLITE) and not Path(uri[len(_SQLITE) :]).is_file():
            continue  # no store yet, so nothing finished (and a dry run creates none)
        from mlflow.exceptions import MlflowException  # only once a store is there: 4 s

        try:
            found.update(_completed_in(uri, task, group))
        except (MlflowException, OSError) as exc:
            raise HarnessError(
                f"could not read the MLflow store {uri} to find finished runs: {exc}; "
                "start the tracking server, fix tracking_uri=, or pass --force"
            ) from exc
    return found


def _completed_in(uri: str, task: str, plans: list[PlannedRun]) -> dict[str, PreviousRun]:
    """One paged query for the experiment's ok runs, not one per planned run."""
    client = open_client(uri)
    experiment = client.get_experiment_by_name(task)
    if experiment is None:
        return {}
    wanted = {plan.config_hash for plan in plans}
    found: dict[str, PreviousRun] = {}
    page_token = None
    while True:
        page = client.search_runs(
            [experiment.experiment_id],
            filter_string="tags.status = 'ok'",
            max_results=_PAGE,
            order_by=["attributes.start_time DESC"],
            page_token=page_token,
        )
        for run in page:  # newest first: the first run of a hash is its latest
            digest = run.data.tags.get(CONFIG_HASH_TAG, "")
            if digest in wanted and digest not in found:
                found[digest] = PreviousRun(
                    mlflow_run_id=run.info.run_id,
                    score=run.data.metrics.get("score"),
                    run_dir=run.data.tags.get("harness.run_dir", ""),
                )
        page_token = page.token
        if not page_token:
            return found
