"""Training losses that equal a competition's metric, so a validation loss is its score."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def column_weighted_bce(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """BCE of (N, C) logits against 0/1 targets, column ``c`` weighted by ``weights[c]`` and
    normalised by the weight sum: a weighted log loss over every (row, column), such as the
    RSNA ICH metric (``any`` 2, each subtype 1)."""
    weights = weights.to(logits.device)
    losses = F.binary_cross_entropy_with_logits(logits.float(), targets, reduction="none")
    return (losses * weights).sum() / (weights.sum() * len(targets))
