import numpy as np
import pytest

from solutions.rsna_breast.ensemble.threshold import best_threshold


def test_threshold_separating_the_classes_gives_pf1_1() -> None:
    labels = np.array([0, 0, 1, 1, 0])
    probs = np.array([0.1, 0.3, 0.6, 0.9, 0.2])
    threshold, score = best_threshold(labels, probs)
    assert threshold == 0.6
    assert score == 1.0


def test_overlapping_classes_pick_the_best_f1_by_hand() -> None:
    labels = np.array([1, 0, 1, 0])
    probs = np.array([0.8, 0.7, 0.4, 0.2])
    # t=0.8: TP1 FP0 FN1 -> F1 2/3; t=0.7: TP1 FP1 FN1 -> 1/2; t=0.4: TP2 FP1 -> 4/5; t=0.2: 2/3
    threshold, score = best_threshold(labels, probs)
    assert threshold == 0.4
    assert score == pytest.approx(0.8)


def test_no_positive_returns_the_default() -> None:
    assert best_threshold(np.zeros(3), np.array([0.1, 0.5, 0.9]), default=0.3) == (0.3, 0.0)
