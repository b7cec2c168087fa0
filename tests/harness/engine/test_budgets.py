import dataclasses
import time

import pytest

from harness.api import HarnessError, PhaseBudget
from harness.engine.budgets import BUDGETS, get_budget


def test_required_profiles_exist_with_real_limits() -> None:
    assert {"smoke", "cpu-default", "kaggle-p100", "gpu-full"} <= set(BUDGETS)
    p100 = get_budget("kaggle-p100")
    assert (p100.device, p100.gpus, p100.gpu_memory_gb) == ("cuda", 1, 16.0)
    assert p100.predict_s == 9 * 3600
    assert get_budget("gpu-full").gpu_memory_gb is None


def test_unknown_budget_suggests_nearest() -> None:
    with pytest.raises(HarnessError, match="did you mean 'kaggle-p100'"):
        get_budget("kaggle-p10")


def test_the_built_in_table_is_read_only_and_other_tables_resolve_the_same_way() -> None:
    with pytest.raises(TypeError):
        BUDGETS["mine"] = BUDGETS["smoke"]  # type: ignore[index]
    mine = dataclasses.replace(BUDGETS["smoke"], name="mine", fit_s=1)
    assert get_budget("mine", {"mine": mine}) is mine
    with pytest.raises(HarnessError, match=r"unknown budget 'smoke'; budgets are mine"):
        get_budget("smoke", {"mine": mine})


def test_phase_budget_counts_down_from_the_phase_limit() -> None:
    profile = get_budget("smoke")
    clock = PhaseBudget(profile, "fit", started=time.monotonic() - 10)
    assert profile.fit_s - 11 < clock.remaining() <= profile.fit_s - 10
    assert clock.cpu_workers == profile.cpu_workers
    expired = PhaseBudget(profile, "predict", started=time.monotonic() - 10 * profile.predict_s)
    assert expired.remaining() == 0.0


def test_unknown_phase_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown phase 'train'"):
        get_budget("smoke").limit_s("train")
