"""What every rsna-ich solution's smoke run must do: `harness run task=rsna-ich solution=S
budget=smoke` beats the constant submission of the train split's prevalence per subtype by
the solution's margin, and windows every slice once into its cache.

The margins leave about half of each solution's measured gap to the prior for noise and
budget-shortened training (the measurements are in each solution's test module). The runs are
shared with those modules' other end-to-end tests (see ``run_solution``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.engine.record import RunRecord

PRIOR_MARGINS = {"seresnext": 0.1, "sequence": 0.15}
"""Weighted log loss below the prior's (lower is better), per solution."""


@pytest.mark.slow
@pytest.mark.parametrize(("solution", "margin"), PRIOR_MARGINS.items())
def test_smoke_run_beats_the_constant_prior(
    solution: str,
    margin: float,
    run_ich: Callable[[str], RunRecord],
    beats_prior: Callable[[RunRecord, float], None],
) -> None:
    beats_prior(run_ich(solution), margin)


@pytest.mark.slow
@pytest.mark.parametrize("solution", PRIOR_MARGINS)
def test_every_slice_is_windowed_once_into_the_cache(
    solution: str, run_ich: Callable[[str], RunRecord]
) -> None:
    run = run_ich(solution)
    cache = Path(run.run_dir).parents[1] / "cache" / "rsna-ich" / solution
    assert len(list(cache.rglob("*.npy"))) == run.n_train + run.n_holdout_cases // 6
