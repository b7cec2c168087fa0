"""pF1 against hand-computed values, the host's reference code and sklearn's F1."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from tasks.rsna_breast.metric import pfbeta, probabilistic_precision_recall


def reference_pfbeta(labels, predictions, beta):
    """The competition host's code, verbatim apart from names (raises on the 0/0 cases)."""
    y_true_count = 0
    ctp = 0
    cfp = 0
    for idx in range(len(labels)):
        prediction = min(max(predictions[idx], 0), 1)
        if labels[idx]:
            y_true_count += 1
            ctp += prediction
        else:
            cfp += prediction
    beta_squared = beta * beta
    c_precision = ctp / (ctp + cfp)
    c_recall = ctp / y_true_count
    if c_precision > 0 and c_recall > 0:
        return (
            (1 + beta_squared) * (c_precision * c_recall) / (beta_squared * c_precision + c_recall)
        )
    return 0


def test_hand_computed_example():
    # ctp = 0.9 + 0.4 = 1.3, cfp = 0.2 + 0.1 = 0.3
    # precision = 1.3 / 1.6 = 13/16, recall = 1.3 / 2 = 13/20
    # pF1 = 2 * (13/16) * (13/20) / (13/16 + 13/20) = (169/160) / (117/80) = 13/18
    assert pfbeta([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.1]) == pytest.approx(13 / 18)


def test_beta_two():
    # same P = 13/16, R = 13/20; F2 = 5 P R / (4 P + R)
    # = (845/320) / (13/4 + 13/20) = (845/320) / (78/20) = 845/1248 = 65/96
    assert pfbeta([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.1], beta=2.0) == pytest.approx(65 / 96)


def test_hard_predictions_give_the_ordinary_f1():
    # ctp = 1, cfp = 1 -> P = 1/2; R = 1/2 -> F1 = 1/2
    assert pfbeta([1, 0, 1, 0], [1, 1, 0, 0]) == pytest.approx(0.5)


def test_perfect_prediction_scores_one():
    assert pfbeta([1, 0, 0, 1], [1.0, 0.0, 0.0, 1.0]) == 1.0


def test_all_zero_predictions_score_zero_with_a_warning():
    with pytest.warns(RuntimeWarning, match="every prediction is 0"):
        assert pfbeta([1, 0, 1], [0.0, 0.0, 0.0]) == 0.0


def test_no_positive_scores_zero_with_a_warning():
    # ctp = 0 -> precision 0; recall = 0/0 -> 0
    with pytest.warns(RuntimeWarning, match="no positive"):
        assert pfbeta([0, 0], [0.3, 0.1]) == 0.0


def test_predictions_are_clipped_to_unit_interval():
    # clipped to [1, 0]: P = 1, R = 1
    assert pfbeta([1, 0], [1.7, -0.5]) == 1.0
    # clipped to [1, 0, 0.5]: ctp = 1.5, cfp = 0 -> P = 1, R = 1.5/2 = 3/4
    # pF1 = 2 * 3/4 / (1 + 3/4) = 6/7
    assert pfbeta([1, 0, 1], [2.0, -1.0, 0.5]) == pytest.approx(6 / 7)


def test_only_positives():
    # cfp = 0 -> P = 1; ctp = 0.5 + 0.5 + 1 = 2 -> R = 2/3; pF1 = (4/3) / (5/3) = 4/5
    assert pfbeta([1, 1, 1], [0.5, 0.5, 1.0]) == pytest.approx(0.8)


def test_positives_predicted_zero_score_zero():
    # ctp = 0, cfp = 0.6 -> P = 0 -> 0
    assert pfbeta([1, 0, 0], [0.0, 0.5, 0.1]) == 0.0


def test_accepts_bool_labels_and_tuples():
    # ctp = 0.8, cfp = 0.2 -> P = 0.8; R = 0.8 / 1 -> pF1 = 0.8
    assert pfbeta(np.array([True, False]), (0.8, 0.2)) == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("labels", "predictions", "match"),
    [
        ([1, 0], [0.5], "1 predictions"),
        ([1, 2], [0.5, 0.5], "must be 0 or 1"),
        ([1, 0], [0.5, float("nan")], "NaN"),
        ([[1, 0]], [[0.5, 0.5]], "1-D"),
    ],
)
def test_rejects_malformed_input(labels, predictions, match):
    with pytest.raises(ValueError, match=match):
        pfbeta(labels, predictions)


unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
pairs = st.lists(st.tuples(st.booleans(), unit), min_size=1, max_size=60)


@given(pairs=pairs, beta=st.sampled_from([0.5, 1.0, 2.0]))
def test_matches_the_reference_code(pairs, beta):
    labels = [int(y) for y, _ in pairs]
    predictions = [p for _, p in pairs]
    assume(any(labels) and sum(predictions) > 0)
    expected = reference_pfbeta(labels, predictions, beta)
    assert pfbeta(labels, predictions, beta) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@given(pairs=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_hard_predictions_match_sklearn_f1(pairs):
    labels = np.array([y for y, _ in pairs], dtype=int)
    predictions = np.array([p for _, p in pairs], dtype=float)
    assume(labels.any() and predictions.any())
    assert pfbeta(labels, predictions) == pytest.approx(f1_score(labels, predictions))


@given(
    pairs=st.lists(
        st.tuples(st.booleans(), st.floats(-5, 5, allow_nan=False)), min_size=1, max_size=60
    )
)
def test_is_within_unit_interval(pairs):
    labels = [int(y) for y, _ in pairs]
    predictions = [p for _, p in pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        score = pfbeta(labels, predictions)
    assert 0.0 <= score <= 1.0


@given(pairs=pairs, c=st.floats(min_value=1e-3, max_value=1.0))
def test_scaling_predictions_keeps_precision_and_scales_recall(pairs, c):
    labels = np.array([y for y, _ in pairs], dtype=int)
    predictions = np.array([p for _, p in pairs])
    # Far below float precision (subnormals) scaling underflows to 0: not what this tests.
    assume(labels.any() and predictions[labels == 1].sum() > 1e-12)
    precision, recall = probabilistic_precision_recall(labels, predictions)
    scaled_precision, scaled_recall = probabilistic_precision_recall(labels, c * predictions)
    assert scaled_precision == pytest.approx(precision, rel=1e-9)
    assert scaled_recall == pytest.approx(c * recall, rel=1e-9)
    # so pF1 moves only through recall: 2 P (cR) / (P + cR)
    expected = 2 * precision * c * recall / (precision + c * recall)
    assert pfbeta(labels, c * predictions) == pytest.approx(expected, rel=1e-9)
