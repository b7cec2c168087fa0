"""Intervals and paired comparisons against cases whose answer is known analytically."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.engine.registry import load_task
from harness.engine.report.compare import paired_bootstrap, paired_difference
from harness.kit.stats import group_resamples, percentile_interval, resampled_scores


def _mean(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    return float((submission["p"] - answers["y"]).mean())


def _frames(values: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame({"p": values}), pd.DataFrame({"y": np.zeros(len(values))})


def test_ci_of_a_mean_matches_the_analytic_standard_error() -> None:
    values = np.random.default_rng(0).normal(0.0, 1.0, 400)
    submission, answers = _frames(values)
    resamples = group_resamples(np.arange(400), 2000, seed=0)

    low, high = percentile_interval(resampled_scores(_mean, [submission], answers, resamples))

    half_width = 1.96 * values.std(ddof=1) / np.sqrt(400)
    assert high - low == pytest.approx(2 * half_width, rel=0.1)
    assert low < values.mean() < high


def test_seed_mean_scores_average_the_submissions_on_each_resample() -> None:
    values = np.random.default_rng(1).normal(0.0, 1.0, 50)
    a, answers = _frames(values)
    b, _ = _frames(values + 1.0)
    resamples = group_resamples(np.arange(50), 20, seed=0)

    both = resampled_scores(_mean, [a, b], answers, resamples)

    alone = resampled_scores(_mean, [a], answers, resamples)
    np.testing.assert_allclose(both, alone + 0.5)


def test_identical_submissions_differ_by_exactly_zero_and_are_a_tie() -> None:
    submission, answers = _frames(np.random.default_rng(2).random(60))

    d = paired_bootstrap(_mean, submission, submission.copy(), answers, np.arange(60) // 2, n=200)

    assert (d.observed, d.low, d.high) == (0.0, 0.0, 0.0)
    assert not d.distinguishable


def test_pairing_cancels_the_noise_both_solutions_share() -> None:
    # b is a plus a constant 0.1 on every case: unpaired CIs (width ~0.4) overlap widely,
    # but on every resample the difference is exactly 0.1.
    values = np.random.default_rng(3).normal(0.0, 1.0, 100)
    a, answers = _frames(values)
    b, _ = _frames(values + 0.1)
    groups = np.arange(100)

    d = paired_bootstrap(_mean, b, a, answers, groups, n=500)

    assert d.observed == pytest.approx(0.1)
    assert d.low == pytest.approx(0.1) and d.high == pytest.approx(0.1)
    assert d.distinguishable
    resamples = group_resamples(groups, 500, seed=0)
    low_a, high_a = percentile_interval(resampled_scores(_mean, [a], answers, resamples))
    low_b, _ = percentile_interval(resampled_scores(_mean, [b], answers, resamples))
    assert low_a < low_b < high_a


def test_paired_interval_of_a_noisy_difference_matches_its_standard_error() -> None:
    rng = np.random.default_rng(4)
    shared = rng.normal(0.0, 5.0, 400)
    gap = rng.normal(0.05, 0.2, 400)
    a, answers = _frames(shared + gap)
    b, _ = _frames(shared)

    d = paired_bootstrap(_mean, a, b, answers, np.arange(400), n=2000)

    half_width = 1.96 * gap.std(ddof=1) / np.sqrt(400)
    assert d.high - d.low == pytest.approx(2 * half_width, rel=0.1)
    assert d.low < gap.mean() < d.high


def test_a_clearly_better_rsna_breast_submission_is_significant() -> None:
    task = load_task("rsna-breast")
    rng = np.random.default_rng(5)
    ids = [f"{patient}_{side}" for patient in range(60) for side in "LR"]
    cancer = (rng.random(len(ids)) < 0.3).astype(int)
    answers = pd.DataFrame({"prediction_id": ids, "cancer": cancer})
    good = answers.assign(cancer=np.where(cancer == 1, 0.9, 0.1))
    vague = answers.assign(cancer=0.5)

    d = paired_bootstrap(task.score, good, vague, answers, task.groups(answers), n=300)

    assert d.observed == pytest.approx(task.score(good, answers) - task.score(vague, answers))
    assert d.observed > 0 and d.low > 0
    assert d.distinguishable


def test_comparisons_are_seeded() -> None:
    rng = np.random.default_rng(6)
    a, answers = _frames(rng.normal(0.0, 1.0, 80))
    b, _ = _frames(rng.normal(0.0, 1.0, 80))
    groups = np.arange(80) // 4

    first = paired_bootstrap(_mean, a, b, answers, groups, n=100, seed=3)
    again = paired_bootstrap(_mean, a, b, answers, groups, n=100, seed=3)
    other = paired_bootstrap(_mean, a, b, answers, groups, n=100, seed=4)

    assert first == again
    assert (first.low, first.high) != (other.low, other.high)


def test_paired_scores_must_come_from_the_same_resamples() -> None:
    with pytest.raises(ValueError, match="same resamples"):
        paired_difference(np.zeros(3), np.zeros(4), 0.0)
