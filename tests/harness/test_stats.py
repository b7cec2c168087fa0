import numpy as np
import pandas as pd
import pytest

from harness.stats import bootstrap_ci, group_resamples


def _mean_metric(sub: pd.DataFrame, ans: pd.DataFrame) -> float:
    return float((sub["p"] - ans["y"]).abs().mean())


def test_resamples_keep_groups_whole() -> None:
    groups = np.array(["a", "a", "b", "c", "c", "c"])
    for idx in group_resamples(groups, 50, seed=1):
        drawn = groups[idx]
        for g in ("a", "b", "c"):
            # a group enters a resample with all its rows, as many times as it was drawn
            assert (drawn == g).sum() % (groups == g).sum() == 0
        assert len({len(idx)}) == 1


def test_resamples_are_seeded() -> None:
    groups = np.arange(20) // 2
    first = group_resamples(groups, 5, seed=7)
    again = group_resamples(groups, 5, seed=7)
    other = group_resamples(groups, 5, seed=8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_ci_of_a_mean_matches_the_analytic_standard_error() -> None:
    rng = np.random.default_rng(0)
    n = 400
    values = rng.normal(0.0, 1.0, n)
    sub = pd.DataFrame({"p": values})
    ans = pd.DataFrame({"y": np.zeros(n)})

    def mean(s: pd.DataFrame, a: pd.DataFrame) -> float:
        return float((s["p"] - a["y"]).mean())

    ci = bootstrap_ci(mean, sub, ans, np.arange(n), n=2000, seed=0)
    half_width = 1.96 * values.std(ddof=1) / np.sqrt(n)
    assert ci.high - ci.low == pytest.approx(2 * half_width, rel=0.1)
    assert ci.low < values.mean() < ci.high


def test_ci_collapses_when_every_case_scores_the_same() -> None:
    sub = pd.DataFrame({"p": [1.0, 1.0, 1.0, 1.0]})
    ans = pd.DataFrame({"y": [0.0, 0.0, 0.0, 0.0]})
    ci = bootstrap_ci(_mean_metric, sub, ans, np.array([1, 1, 2, 2]), n=100)
    assert ci.low == ci.high == 1.0


def test_misaligned_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="aligned"):
        bootstrap_ci(
            _mean_metric, pd.DataFrame({"p": [1]}), pd.DataFrame({"y": [1, 2]}), np.array([1])
        )
