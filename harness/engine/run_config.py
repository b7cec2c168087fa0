"""What a run is: its solution options resolved, and the digest of everything that decides it.

The runner, the sweep planner and the contract suite resolve a run's configuration the same
way, so a sweep's plan names exactly the config hash its runs record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from harness.api import Budget, Solution, Task
from harness.engine.config import RunConfig, as_plain_dict, merge_overrides


def resolve_solution_config(
    solution_cls: type[Solution], budget_name: str, overrides: list[str]
) -> Any:
    """Option defaults, then the budget's preset, then the user's ``solution.*`` overrides."""
    preset = solution_cls.presets.get(budget_name, {})
    return merge_overrides(solution_cls.config_class, [preset], overrides, where="solution")


def config_hash(
    task: Task, solution_cls: type[Solution], budget: Budget, cfg: RunConfig, solution_config: Any
) -> str:
    """A short digest of everything that decides a run's result, and nothing else.

    Versions, budget profile, seed, bootstrap, data and the resolved solution options count;
    where results and tracking go does not. Sweeps skip a run whose hash already finished ok.
    """
    run = as_plain_dict(cfg)
    for where_it_goes in ("results_dir", "tracking_uri"):
        run.pop(where_it_goes)
    run.update(task=task.name, solution=solution_cls.name)
    if cfg.data.root is not None:
        run["data"]["root"] = str(Path(cfg.data.root).expanduser().resolve())
    identity = {
        "task_version": task.version,
        "split_version": task.split_version,
        "solution_version": solution_cls.version,
        "budget": dataclasses.asdict(budget),
        "run": run,
        "solution_config": as_plain_dict(solution_config),
    }
    text = json.dumps(identity, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
