"""Which registered solution a ``harness check solution=...`` argument means."""

from __future__ import annotations

from harness.api import HarnessError
from harness.engine.registry import PluginError, solution_names
from harness.engine.suggest import did_you_mean


def resolve_solution(solution: str, task: str | None = None) -> tuple[str, str]:
    """(task, solution) from ``task/solution``, or from a solution name and an optional task.

    Without a task, a name that only one task has is enough.
    """
    if "/" in solution:
        prefix, _, name = solution.partition("/")
        if task is not None and task != prefix:
            raise HarnessError(f"solution={solution} belongs to task {prefix}, not task={task}")
        return prefix, name
    if task is not None:
        return task, solution
    keys = solution_names()
    matches = [key for key in keys if key.partition("/")[2] == solution]
    if len(matches) == 1:
        prefix, _, name = matches[0].partition("/")
        return prefix, name
    if matches:
        raise HarnessError(
            f"solution {solution!r} exists for several tasks ({', '.join(matches)}): "
            "write solution=<task>/<solution>"
        )
    names = [key.partition("/")[2] for key in keys]
    raise PluginError(
        f"unknown solution {solution!r}{did_you_mean(solution, names)}"
        f"; solutions are {', '.join(keys) or 'none'} (see `harness list`)"
    )
