"""The Pareto front of the score-vs-cost plot."""

from __future__ import annotations

import numpy as np

from harness.engine.report.plots import error_bar, pareto_front


def test_pareto_front_keeps_points_nothing_cheaper_beats() -> None:
    costs = np.array([1.0, 2.0, 3.0, 0.5, 2.0])
    scores = np.array([0.5, 0.4, 0.9, 0.2, 0.6])
    # 0.5 -> 0.2, 1.0 -> 0.5, 2.0 -> 0.6 (the better of the two at cost 2), 3.0 -> 0.9
    assert pareto_front(costs, scores, greater_is_better=True).tolist() == [3, 0, 4, 2]


def test_pareto_front_for_a_loss_prefers_lower_scores() -> None:
    costs = np.array([1.0, 2.0, 3.0])
    losses = np.array([0.5, 0.6, 0.3])
    assert pareto_front(costs, losses, greater_is_better=False).tolist() == [0, 2]


def test_error_bar_reaches_from_the_ci_low_to_the_ci_high() -> None:
    assert error_bar(0.5, (0.25, 0.75)) == [[0.25], [0.25]]
    assert error_bar(0.5, None) == [[0.0], [0.0]]


def test_error_bar_of_a_ci_just_beside_the_score_is_never_negative() -> None:
    # a constant rsna-ich submission: ln 2 on every resample, ends off by a few ulps
    score = 0.6931471805599453
    assert error_bar(score, (0.6931471805599448, 0.693147180559945)) == [
        [score - 0.6931471805599448],
        [0.0],
    ]
    assert error_bar(score, (0.6931471805599455, 0.6931471805599456))[0] == [0.0]
