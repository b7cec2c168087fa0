"""The competition's weighted log loss as a training loss (on logits) and as a score.

Both stages train on BCEWithLogits weighted like the metric (any 2, the five subtypes 1) and
normalised by the weight sum, so a validation loss is the competition's score.
"""

from __future__ import annotations

import numpy as np
import torch

from harness.kit.losses import column_weighted_bce
from tasks.rsna_ich.layout import SUBTYPES
from tasks.rsna_ich.metric import row_weights, weighted_log_loss

SUBTYPE_WEIGHTS = torch.from_numpy(row_weights(list(SUBTYPES))).float()


def weighted_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The metric's weighted log loss of (N, 6) logits against (N, 6) 0/1 targets."""
    return column_weighted_bce(logits, targets, SUBTYPE_WEIGHTS)


def metric_loss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The competition metric of (N, 6) labels and probabilities."""
    weights = np.tile(SUBTYPE_WEIGHTS.numpy(), len(labels))
    return weighted_log_loss(labels.ravel(), probabilities.ravel(), weights)
