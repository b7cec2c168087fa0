"""FusionNet: an image embedding from a timm backbone concatenated with encoded metadata.

As in the write-up: the scan runs through an EfficientNet whose classifier is removed
(``num_classes=0`` gives the pooled embedding), the metadata through a small MLP, and a small
head maps the concatenation to one cancer logit. The notebooks kept the pretrained backbone
frozen; ``freeze_backbone`` does the same here (only the two small networks learn).
"""

from __future__ import annotations

import torch
from torch import nn

from harness.kit.models import create_backbone


class FusionNet(nn.Module):
    """``forward(images (N, C, H, W), tabular (N, F)) -> logits (N,)``."""

    def __init__(
        self,
        backbone: nn.Module,
        n_tabular: int,
        *,
        tabular_dim: int = 32,
        hidden_dim: int = 128,
        dropout: float = 0.2,
        freeze_backbone: bool = False,
    ) -> None:
        super().__init__()
        embedding_dim = getattr(backbone, "num_features", None)
        if not isinstance(embedding_dim, int):
            raise TypeError("the backbone must expose num_features, as timm models do")
        self.backbone = backbone
        self.embedding_dim = embedding_dim
        self.freeze_backbone = freeze_backbone
        if freeze_backbone:
            self.backbone.requires_grad_(False)
        self.tabular = nn.Sequential(nn.Linear(n_tabular, tabular_dim), nn.ReLU())
        self.head = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(embedding_dim + tabular_dim, hidden_dim),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_dim, 1),
        )

    def train(self, mode: bool = True) -> FusionNet:
        super().train(mode)
        if self.freeze_backbone:
            # A frozen backbone stays in eval mode: its batch-norm statistics must not drift.
            self.backbone.eval()
        return self

    def forward(self, images: torch.Tensor, tabular: torch.Tensor) -> torch.Tensor:
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze_backbone):
            embedding = self.backbone(images)
        fused = torch.cat([embedding, self.tabular(tabular)], dim=1)
        return self.head(fused).squeeze(1)


def build_fusion_net(
    model: str,
    n_tabular: int,
    *,
    pretrained: bool,
    pretrained_path: str | None,
    in_chans: int,
    tabular_dim: int,
    hidden_dim: int,
    dropout: float,
    freeze_backbone: bool,
) -> FusionNet:
    """A FusionNet over timm backbone ``model`` (pretrained weights via harness.kit.models)."""
    backbone = create_backbone(
        model,
        pretrained=pretrained,
        pretrained_path=pretrained_path,
        in_chans=in_chans,
        num_classes=0,
    )
    return FusionNet(
        backbone,
        n_tabular,
        tabular_dim=tabular_dim,
        hidden_dim=hidden_dim,
        dropout=dropout,
        freeze_backbone=freeze_backbone,
    )
