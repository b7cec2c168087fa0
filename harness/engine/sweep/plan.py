"""A sweep's plan: every grid point resolved and validated before any run starts.

Resolving each point here (plug-ins, budget, solution options) means a typo in the tenth
combination is an error now, not after nine runs; it also gives each point its config hash.
Plug-ins are loaded once per distinct (task, solution), and solution options resolved once
per distinct (solution, budget, options), not once per point: a sweep may have hundreds.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.api import Budget, Solution, Task
from harness.engine.budgets import BUDGETS
from harness.engine.config import RunConfig, parse_run_overrides
from harness.engine.registry import load_solution, load_task
from harness.engine.run_config import config_hash, resolve_solution_config
from harness.engine.sweep.grid import expand, parse_axes
from harness.engine.tracking import default_tracking_uri


@dataclass
class PlannedRun:
    """One grid point, ready for ``harness.engine.runner.execute`` here or on a Ray worker."""

    index: int
    label: dict[str, str]
    """The values of the keys the sweep varies (what tells this run from the others)."""
    config: RunConfig
    solution_args: list[str]
    budget: Budget
    config_hash: str

    @property
    def tracking_uri(self) -> str:
        assert self.config.tracking_uri is not None  # set by plan_sweep
        return self.config.tracking_uri


def plan_sweep(args: list[str], budgets: Mapping[str, Budget] = BUDGETS) -> list[PlannedRun]:
    """The grid of ``args`` (``key=a,b`` lists), one PlannedRun per distinct config hash.

    Budget names are looked up in ``budgets``; each plan carries its Budget to the executor
    (a Ray worker included), which looks nothing up again. Paths are made absolute and the
    tracking URI fixed here, so every run of the sweep, on whichever worker, writes to the
    same results folder and MLflow store.
    """
    axes = parse_axes(args)
    varying = [key for key, values in axes.items() if len(values) > 1]
    plans: list[PlannedRun] = []
    seen: set[str] = set()

    @functools.cache
    def plugins(task: str, solution: str) -> tuple[Task, type[Solution]]:
        return load_task(task), load_solution(task, solution)

    @functools.cache
    def solution_options(task: str, solution: str, budget: str, overrides: tuple[str, ...]) -> Any:
        return resolve_solution_config(plugins(task, solution)[1], budget, list(overrides))

    for point in expand(axes):
        cfg, budget, solution_args = parse_run_overrides(point, budgets)
        results = cfg.results_path
        cfg = dataclasses.replace(
            cfg,
            results_dir=str(results),
            tracking_uri=cfg.tracking_uri or default_tracking_uri(results),
        )
        task, solution_cls = plugins(cfg.task, cfg.solution)
        solution_config = solution_options(
            cfg.task, cfg.solution, budget.name, tuple(solution_args)
        )
        digest = config_hash(task, solution_cls, budget, cfg, solution_config)
        if digest in seen:
            continue
        seen.add(digest)
        values = dict(arg.split("=", 1) for arg in point)
        plans.append(
            PlannedRun(
                index=len(plans),
                label={key: values[key] for key in varying},
                config=cfg,
                solution_args=solution_args,
                budget=budget,
                config_hash=digest,
            )
        )
    return plans
