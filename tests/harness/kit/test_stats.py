import numpy as np
import pandas as pd
import pytest

from harness.kit.stats import (
    GroupResamples,
    GroupStatistics,
    bootstrap_ci,
    group_resamples,
    group_sums,
    ratio_of_sums,
    resampled_scores,
)


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


def _todays_draws(n_groups: int, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n_groups, size=(n, n_groups))


@pytest.mark.parametrize("chunk_draws", [1, 7, 24, 1 << 22])
def test_counts_are_the_bincounts_of_todays_draws(chunk_draws: int) -> None:
    groups = np.array(["c", "a", "b", "a", "d", "c", "e", "b"])
    resamples = GroupResamples(groups, 13, seed=5, chunk_draws=chunk_draws)
    counts = np.concatenate(list(resamples.counts()))
    draws = _todays_draws(5, 13, seed=5)
    assert counts.shape == (13, 5)
    assert (counts.sum(axis=1) == 5).all()
    assert np.array_equal(counts, [np.bincount(d, minlength=5) for d in draws])


def test_row_indices_are_todays_resamples() -> None:
    groups = np.array([3, 1, 2, 1, 3, 3, 0, 2, 9])
    codes, uniques = pd.factorize(pd.Series(groups), sort=True)
    members = [np.flatnonzero(codes == g) for g in range(len(uniques))]
    expected = [np.concatenate([members[g] for g in d]) for d in _todays_draws(5, 30, seed=2)]
    resamples = GroupResamples(groups, 30, seed=2, chunk_draws=4)
    assert len(resamples) == 30
    assert all(np.array_equal(a, b) for a, b in zip(resamples, expected, strict=True))


def _mean_statistics(sub: pd.DataFrame, ans: pd.DataFrame, groups: np.ndarray) -> GroupStatistics:
    errors = (sub["p"] - ans["y"]).abs().to_numpy()
    rows = np.stack([errors, np.ones_like(errors)], axis=1)
    return GroupStatistics(group_sums(groups, rows), ratio_of_sums)


def test_sums_of_counts_score_the_resamples_as_their_rows_do() -> None:
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 12, 60).astype(str)  # groups of unequal sizes
    ans = pd.DataFrame({"y": rng.uniform(size=60)})
    subs = [pd.DataFrame({"p": rng.uniform(size=60)}) for _ in range(3)]
    resamples = group_resamples(groups, 100, seed=4)

    def statistics(sub: pd.DataFrame, answers: pd.DataFrame) -> GroupStatistics:
        return _mean_statistics(sub, answers, groups)

    fast = resampled_scores(_mean_metric, subs, ans, resamples, statistics)
    reference = resampled_scores(_mean_metric, subs, ans, resamples)
    np.testing.assert_allclose(fast, reference, rtol=0, atol=1e-12)
    assert statistics(subs[0], ans).score() == pytest.approx(_mean_metric(subs[0], ans), abs=1e-12)


def test_without_statistics_the_rows_are_scored() -> None:
    ans = pd.DataFrame({"y": [0.0, 0.0, 1.0, 1.0]})
    sub = pd.DataFrame({"p": [0.5, 0.0, 1.0, 0.0]})
    groups = np.array([1, 1, 2, 3])
    resamples = group_resamples(groups, 50, seed=0)
    reference = resampled_scores(_mean_metric, [sub], ans, resamples)
    none = resampled_scores(_mean_metric, [sub], ans, resamples, lambda s, a: None)
    assert np.array_equal(none, reference)


def test_statistics_of_other_groups_are_refused() -> None:
    ans = pd.DataFrame({"y": [0.0, 1.0, 1.0]})
    resamples = group_resamples(np.array([1, 2, 3]), 5, seed=0)

    def two_groups(sub: pd.DataFrame, answers: pd.DataFrame) -> GroupStatistics:
        return _mean_statistics(sub, answers, np.array([1, 1, 2]))

    with pytest.raises(ValueError, match="same answers"):
        resampled_scores(_mean_metric, [ans.rename(columns={"y": "p"})], ans, resamples, two_groups)
