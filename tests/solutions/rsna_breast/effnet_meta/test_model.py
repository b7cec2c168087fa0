from __future__ import annotations

import pytest
import torch

from solutions.rsna_breast.effnet_meta.model import FusionNet, build_fusion_net

N_TABULAR = 7


def _net(*, freeze_backbone: bool, model: str = "test_efficientnet") -> FusionNet:
    torch.manual_seed(0)
    return build_fusion_net(
        model,
        N_TABULAR,
        pretrained=False,
        pretrained_path=None,
        in_chans=1,
        tabular_dim=8,
        hidden_dim=16,
        dropout=0.1,
        freeze_backbone=freeze_backbone,
    )


@pytest.mark.parametrize("model", ["test_efficientnet", "efficientnet_b0"])
def test_one_logit_per_image(model: str) -> None:
    net = _net(freeze_backbone=False, model=model)
    net.train()
    images = torch.rand(4, 1, 32, 32)
    assert net.backbone(images).shape == (4, net.embedding_dim)
    logits = net(images, torch.rand(4, N_TABULAR))
    assert logits.shape == (4,) and logits.dtype == torch.float32
    net.eval()
    with torch.no_grad():
        assert net(torch.rand(1, 1, 32, 32), torch.rand(1, N_TABULAR)).shape == (1,)


def test_the_tabular_features_change_the_logit() -> None:
    net = _net(freeze_backbone=False).eval()
    images = torch.rand(1, 1, 32, 32).repeat(2, 1, 1, 1)
    tabular = torch.stack([torch.zeros(N_TABULAR), torch.ones(N_TABULAR)])
    with torch.no_grad():
        logits = net(images, tabular)
    assert logits[0] != logits[1]


def test_frozen_backbone_gets_no_gradient_and_keeps_its_statistics() -> None:
    net = _net(freeze_backbone=True)
    statistics = {k: v.clone() for k, v in net.backbone.state_dict().items() if "running" in k}
    net.train()
    assert not net.backbone.training and net.head.training
    net(torch.rand(4, 1, 32, 32), torch.rand(4, N_TABULAR)).sum().backward()

    assert all(p.grad is None and not p.requires_grad for p in net.backbone.parameters())
    assert all(p.grad is not None for p in [*net.tabular.parameters(), *net.head.parameters()])
    after = net.backbone.state_dict()
    assert all(torch.equal(after[k], v) for k, v in statistics.items())


def test_unfrozen_backbone_learns() -> None:
    net = _net(freeze_backbone=False).train()
    net(torch.rand(4, 1, 32, 32), torch.rand(4, N_TABULAR)).sum().backward()
    assert all(p.grad is not None for p in net.backbone.parameters() if p.requires_grad)


def test_a_backbone_without_an_embedding_size_is_refused() -> None:
    with pytest.raises(TypeError, match="num_features"):
        FusionNet(torch.nn.Conv2d(1, 4, 3), N_TABULAR)
