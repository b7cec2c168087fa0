"""A timm backbone with generalised-mean pooling and a one-logit head."""

from __future__ import annotations

import torch
from torch import nn

from harness.kit.models import create_backbone


class GeM(nn.Module):
    """Generalised-mean pooling, p=3 as in the write-up (p=1 is average, p->inf is max)."""

    def __init__(self, p: float = 3.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.tensor(float(p)))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.clamp(min=self.eps).pow(self.p).mean(dim=(2, 3))
        return pooled.pow(1.0 / self.p)


class BreastNet(nn.Module):
    """Single-channel mammogram crop -> cancer logit."""

    def __init__(
        self, name: str, *, pretrained: bool, pretrained_path: str | None, gem_p: float
    ) -> None:
        super().__init__()
        self.backbone = create_backbone(
            name,
            pretrained=pretrained,
            pretrained_path=pretrained_path,
            in_chans=1,
            num_classes=0,
            global_pool="",
        )
        self.pool = GeM(gem_p)
        self.head = nn.Linear(self.backbone.num_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone(x)
        return self.head(self.pool(features.float())).squeeze(1)
