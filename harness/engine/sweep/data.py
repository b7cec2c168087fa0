"""Every distinct dataset of a sweep resolved, synthetic ones generated, before any run starts.

The local executor's runs are threads of one process, and dataset generation is not
thread-safe (pydicom's writers, the JPEG 2000 encoder): two grid points generating the same
dataset at once crashed the sweep. Resolved here once each, in the main thread, the runs only
ever find their data ready (``resolve_data`` also locks, for other processes).
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from harness.engine.config import as_plain_dict
from harness.engine.datasets import resolve_data
from harness.engine.registry import load_task
from harness.engine.sweep.plan import PlannedRun


def prepare_data(plans: list[PlannedRun], console: Console) -> None:
    """Resolve the dataset of each distinct (task, data, results folder) among ``plans``."""
    distinct: dict[str, PlannedRun] = {}
    for plan in plans:
        cfg = plan.config
        key = json.dumps([cfg.task, cfg.results_dir, as_plain_dict(cfg.data)], sort_keys=True)
        distinct.setdefault(key, plan)
    console.print(f"preparing data: {len(distinct)} dataset(s) for {len(plans)} run(s)")
    for plan in distinct.values():
        cfg = plan.config
        data = resolve_data(load_task(cfg.task), cfg.data, Path(cfg.results_dir))
        console.print(f"  {cfg.task}: {data.kind} data in {data.root}", highlight=False)
