"""The ensemble's probabilities: classifier gate and averaged U-Nets, with hflip TTA."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import nn

from harness.kit.amp import Precision
from solutions.severstal_steel.unet_cls_ensemble.training import normalise
from tasks.severstal_steel.layout import CLASS_IDS


@torch.no_grad()
def ensemble_probabilities(
    classifier: nn.Module,
    segmenters: Sequence[nn.Module],
    images: np.ndarray,
    device: torch.device,
    *,
    hflip: bool,
    batch_size: int,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per batch of uint8 (N, h, w) images: the classifier's (n, 4) probabilities and the
    U-Nets' mean (n, 4, h, w) probabilities, each also averaged over the mirrored image when
    ``hflip``."""
    precision = Precision.for_device(device)
    for start in range(0, len(images), batch_size):
        inputs = normalise(torch.from_numpy(images[start : start + batch_size]).to(device))
        views = [inputs, inputs.flip(-1)] if hflip else [inputs]
        gate = torch.zeros(len(inputs), len(CLASS_IDS), device=device)
        masks = torch.zeros(len(inputs), len(CLASS_IDS), *inputs.shape[-2:], device=device)
        with precision.autocast(device):
            for k, view in enumerate(views):
                gate += torch.sigmoid(classifier(view).float())
                for segmenter in segmenters:
                    probability = torch.sigmoid(segmenter(view).float())
                    masks += probability.flip(-1) if k == 1 else probability
        yield (
            (gate / len(views)).cpu().numpy(),
            (masks / (len(views) * len(segmenters))).cpu().numpy(),
        )
