"""Stage 1: a timm CNN per slice, six logits and the pooled (pre-logit) embedding they come from."""

from __future__ import annotations

import torch
from torch import nn

from harness.kit.models import create_backbone
from tasks.rsna_ich.layout import SUBTYPES


class SliceCnn(nn.Module):
    """(N, 3, H, W) images in [0, 1] -> ((N, 6) logits, (N, D) global-average-pooled features).

    The backbone is any timm model without its classifier (``num_classes=0`` leaves the pooled
    features); a linear layer on them gives the six subtype logits, so the embedding that
    stage 2 reads is exactly what the classifier saw. Inputs are normalised with the
    backbone's own mean and std (ImageNet's for the pretrained GPU presets).
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, name: str, *, pretrained: bool, pretrained_path: str | None) -> None:
        super().__init__()
        self.backbone = create_backbone(
            name, pretrained=pretrained, pretrained_path=pretrained_path, num_classes=0
        )
        self.embedding_size = int(self.backbone.num_features)
        self.head = nn.Linear(self.embedding_size, len(SUBTYPES))
        config = self.backbone.pretrained_cfg
        self.register_buffer("mean", torch.tensor(config["mean"]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(config["std"]).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embeddings = self.backbone((images - self.mean) / self.std)
        return self.head(embeddings), embeddings
