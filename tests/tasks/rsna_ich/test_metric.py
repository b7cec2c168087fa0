"""The weighted multi-label log loss against hand-computed values and its edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import log_loss

from tasks.rsna_ich.metric import EPSILON, SUBTYPE_WEIGHTS, row_weights, weighted_log_loss


def test_one_image_by_hand() -> None:
    # six rows of one image: subdural and any positive
    labels = [0, 0, 0, 0, 1, 1]
    predictions = [0.1, 0.2, 0.1, 0.1, 0.6, 0.8]
    weights = [1, 1, 1, 1, 1, 2]
    expected = (
        -(
            math.log(0.9)
            + math.log(0.8)
            + math.log(0.9)
            + math.log(0.9)
            + math.log(0.6)
            + 2 * math.log(0.8)
        )
        / 7
    )
    assert weighted_log_loss(labels, predictions, weights) == pytest.approx(expected, rel=1e-12)


def test_any_weighs_twice_a_subtype() -> None:
    # the same wrong prediction costs twice as much on 'any' as on a subtype (sum of weights 3)
    on_any = weighted_log_loss([0, 1], [0.5, 0.1], [1, 2])
    on_subtype = weighted_log_loss([1, 0], [0.1, 0.5], [1, 2])
    assert on_any == pytest.approx((math.log(2) + 2 * -math.log(0.1)) / 3)
    assert on_subtype == pytest.approx((-math.log(0.1) + 2 * math.log(2)) / 3)
    assert on_any > on_subtype


def test_equals_sklearn_log_loss_with_sample_weights() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 600)
    predictions = rng.uniform(0.01, 0.99, 600)
    weights = row_weights(np.tile(list(SUBTYPE_WEIGHTS), 100))
    expected = log_loss(labels, predictions, sample_weight=weights, labels=[0, 1])
    assert weighted_log_loss(labels, predictions, weights) == pytest.approx(expected, rel=1e-12)


def test_single_class_is_defined() -> None:
    # no positive at all (sklearn needs labels=[0, 1] here; the metric does not care)
    assert weighted_log_loss([0, 0, 0], [0.5, 0.5, 0.5], [1, 1, 2]) == pytest.approx(math.log(2))
    assert weighted_log_loss([1, 1], [0.25, 0.25], [1, 2]) == pytest.approx(math.log(4))


def test_all_zero_predictions_are_clipped_not_infinite() -> None:
    # 2 positive rows (weights 1 and 2) out of total weight 7, all predicted 0
    labels = [0, 0, 0, 0, 1, 1]
    score = weighted_log_loss(labels, [0.0] * 6, [1, 1, 1, 1, 1, 2])
    clipped = -math.log(EPSILON)  # 34.54
    assert score == pytest.approx(3 * clipped / 7, rel=1e-6)
    assert math.isfinite(score)


def test_clipping_at_both_ends() -> None:
    assert EPSILON == 1e-15
    perfect = weighted_log_loss([0, 1], [0.0, 1.0], [1, 1])
    assert 0.0 < perfect < 1e-14  # clipped: -log(1 - 1e-15) per row, not 0
    assert weighted_log_loss([1], [0.0], [1]) == pytest.approx(-math.log(1e-15), rel=1e-6)
    assert weighted_log_loss([0], [1.0], [1]) == pytest.approx(-math.log(1e-15), rel=1e-3)
    # inside the clip range nothing changes
    assert weighted_log_loss([1], [1e-10], [1]) == pytest.approx(-math.log(1e-10))


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="pair up"):
        weighted_log_loss([0, 1], [0.5], [1, 1])
    with pytest.raises(ValueError, match="0 or 1"):
        weighted_log_loss([0, 2], [0.5, 0.5], [1, 1])
    with pytest.raises(ValueError, match="NaN"):
        weighted_log_loss([0, 1], [0.5, np.nan], [1, 1])
    with pytest.raises(ValueError, match="sum to zero"):
        weighted_log_loss([0], [0.5], [0])


def test_row_weights_from_subtype_names() -> None:
    assert row_weights(["any", "epidural", "subdural"]).tolist() == [2.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="unknown subtype"):
        row_weights(["any", "hemorrhage"])
