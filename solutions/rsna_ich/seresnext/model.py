"""The classifier: an SE-ResNeXt with six sigmoid outputs, one per subtype."""

from __future__ import annotations

from torch import nn

from harness.kit.models import create_backbone
from tasks.rsna_ich.layout import SUBTYPES

TINY = "seresnext_tiny"


def build_model(name: str, *, pretrained: bool, pretrained_path: str | None) -> nn.Module:
    """A timm model with ``len(SUBTYPES)`` logits; ``seresnext_tiny`` is built from timm's
    ResNet class as an SE-ResNeXt (32x4d-style grouped bottlenecks with squeeze-excitation, the
    'd' stem and average-pool downsampling of seresnext26d) with one block per stage and a
    quarter of the channels, small enough to train on two CPU cores in seconds."""
    if name == TINY:
        from timm.models.resnet import Bottleneck, ResNet

        if pretrained or pretrained_path:
            raise ValueError(f"{TINY} has no pretrained weights; set solution.pretrained=false")
        return ResNet(
            block=Bottleneck,  # type: ignore[arg-type]  # timm annotates the class as an instance
            layers=(1, 1, 1, 1),
            channels=(16, 32, 64, 128),
            cardinality=8,
            base_width=4,
            stem_width=16,
            stem_type="deep",
            avg_down=True,
            block_args={"attn_layer": "se"},
            num_classes=len(SUBTYPES),
        )
    model: nn.Module = create_backbone(
        name, pretrained=pretrained, pretrained_path=pretrained_path, num_classes=len(SUBTYPES)
    )
    return model
