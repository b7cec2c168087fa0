"""The weighted log loss against hand-computed values, both normalisations, and its edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tasks.rsna_cervical.layout import TARGETS
from tasks.rsna_cervical.metric import (
    EPSILON,
    row_weights,
    study_occurrences,
    weighted_log_loss,
    weighted_log_loss_all_rows,
)

# Study A: C1 fractured (so patient_overall too); study B: nothing fractured.
LABELS = np.asarray([1, 0, 0, 0, 0, 0, 0, 1] + [0] * 8)
PREDICTIONS = np.asarray([0.8] + [0.1] * 6 + [0.9] + [0.2] * 8)
TARGET_NAMES = np.asarray(list(TARGETS) * 2)
STUDIES = np.asarray(["A"] * 8 + ["B"] * 8)

# A: weights 2 (C1 positive) + 6 x 1 (C2..C7 negative) + 14 (overall positive) = 22
A_SUM = 2 * -math.log(0.8) + 6 * -math.log(0.9) + 14 * -math.log(0.9)
# B: weights 7 x 1 + 7 (overall negative) = 14, every row -log(1 - 0.2)
B_SUM = 7 * -math.log(0.8) + 7 * -math.log(0.8)


def test_per_study_normalisation_by_hand():
    expected = (A_SUM / 22 + B_SUM / 14) / 2  # = (0.116068 + 0.223144) / 2 = 0.169606
    assert weighted_log_loss(LABELS, PREDICTIONS, TARGET_NAMES, STUDIES) == pytest.approx(expected)
    assert expected == pytest.approx(0.169606, abs=1e-6)


def test_all_rows_normalisation_by_hand():
    expected = (A_SUM + B_SUM) / (22 + 14)  # = 0.157709
    assert weighted_log_loss_all_rows(LABELS, PREDICTIONS, TARGET_NAMES) == pytest.approx(expected)
    assert expected == pytest.approx(0.157709, abs=1e-6)


def test_weights_follow_target_and_truth():
    weights = row_weights(TARGET_NAMES, LABELS)
    assert weights[:8].tolist() == [2, 1, 1, 1, 1, 1, 1, 14]
    assert weights[8:].tolist() == [1] * 7 + [7]


def test_one_study_gives_the_same_value_both_ways():
    one = slice(0, 8)
    per_study = weighted_log_loss(LABELS[one], PREDICTIONS[one], TARGET_NAMES[one], STUDIES[one])
    all_rows = weighted_log_loss_all_rows(LABELS[one], PREDICTIONS[one], TARGET_NAMES[one])
    assert per_study == pytest.approx(all_rows) == pytest.approx(A_SUM / 22)


def test_perfect_predictions_score_near_zero_and_confident_mistakes_are_clipped():
    assert weighted_log_loss(LABELS, LABELS.astype(float), TARGET_NAMES, STUDIES) < 1e-12
    # a positive predicted 0 costs -log(EPSILON) = 34.539 per unit of weight, not infinity
    one = slice(0, 8)
    missed = np.where(LABELS[one] == 1, 0.0, PREDICTIONS[one])
    expected = (2 * -math.log(EPSILON) + 6 * -math.log(0.9) + 14 * -math.log(EPSILON)) / 22
    score = weighted_log_loss(LABELS[one], missed, TARGET_NAMES[one], STUDIES[one])
    assert score == pytest.approx(expected) and -math.log(EPSILON) == pytest.approx(34.539, 1e-4)
    assert np.isfinite(weighted_log_loss(LABELS, 1.0 - LABELS, TARGET_NAMES, STUDIES))


def test_a_study_drawn_twice_counts_twice():
    doubled = np.concatenate([np.arange(8), np.arange(8), np.arange(8, 16)])
    occurrences = study_occurrences(STUDIES[doubled], TARGET_NAMES[doubled])
    assert occurrences.tolist() == [0] * 8 + [1] * 8 + [2] * 8
    score = weighted_log_loss(
        LABELS[doubled], PREDICTIONS[doubled], TARGET_NAMES[doubled], occurrences
    )
    assert score == pytest.approx((2 * A_SUM / 22 + B_SUM / 14) / 3)


@pytest.mark.parametrize(
    ("labels", "predictions", "targets", "match"),
    [
        ([0, 2], [0.1, 0.2], ["C1", "C2"], "0 or 1"),
        ([0, 1], [0.1, np.nan], ["C1", "C2"], "NaN"),
        ([0, 1], [0.1], ["C1", "C2"], "one length"),
        ([0, 1], [0.1, 0.2], ["C1", "C8"], "unknown target"),
    ],
)
def test_rejects_malformed_input(labels, predictions, targets, match):
    with pytest.raises(ValueError, match=match):
        weighted_log_loss(labels, predictions, targets, ["s", "s"])
