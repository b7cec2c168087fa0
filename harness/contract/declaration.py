"""The static half of the solution contract: what a solution class declares."""

from __future__ import annotations

import dataclasses

from harness.api import HarnessError, Solution
from harness.contract.report import CheckResult
from harness.engine.budgets import BUDGETS
from harness.engine.config import merge_overrides
from harness.engine.run_config import resolve_solution_config
from harness.engine.suggest import did_you_mean

CONTRACT_PRESET = "contract"
"""Optional preset that sizes a solution for the contract's tiny data (seconds per run)."""
BASE_BUDGET = "smoke"
"""The built-in budget whose limits the contract's runs have."""


def check_declaration(solution_cls: type[Solution]) -> CheckResult:
    """The class's static promises: its options are a dataclass and every preset fits it."""
    name = "declaration"
    config_class = solution_cls.config_class
    if not (dataclasses.is_dataclass(config_class) and isinstance(config_class, type)):
        return CheckResult(name, "fail", f"config_class {config_class!r} is not a dataclass")
    problems = []
    try:
        merge_overrides(config_class, [], [], where="solution")
    except HarnessError as exc:
        problems.append(f"the defaults of {config_class.__name__}: {exc}")
    known = [*BUDGETS, CONTRACT_PRESET]
    for preset in solution_cls.presets:
        if preset not in known:
            problems.append(f"preset {preset!r} is for no budget{did_you_mean(preset, known)}")
            continue
        try:
            resolve_solution_config(solution_cls, preset, [])
        except HarnessError as exc:
            problems.append(f"preset {preset!r}: {exc}")
    if problems:
        return CheckResult(name, "fail", "; ".join(problems))
    presets = ", ".join(solution_cls.presets) or "none"
    detail = f"presets ({presets}) resolve against {config_class.__name__}"
    if CONTRACT_PRESET not in solution_cls.presets:
        fallback = "smoke preset" if BASE_BUDGET in solution_cls.presets else "option defaults"
        detail += f"; no '{CONTRACT_PRESET}' preset, so the runs use its {fallback}"
    return CheckResult(name, "pass", detail)
