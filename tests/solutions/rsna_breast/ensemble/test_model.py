import pytest
import torch

from solutions.rsna_breast.ensemble.model import BreastNet, GeM


def test_gem_with_p_1_is_average_pooling_and_large_p_approaches_max() -> None:
    x = torch.rand(2, 3, 4, 5) + 0.1
    assert torch.allclose(GeM(1.0)(x), x.mean(dim=(2, 3)), atol=1e-6)
    assert torch.allclose(GeM(60.0)(x), x.amax(dim=(2, 3)), rtol=0.05)


def test_gem_p_is_learnable() -> None:
    gem = GeM(3.0)
    gem(torch.rand(1, 2, 3, 3)).sum().backward()
    assert gem.p.grad is not None


@pytest.mark.parametrize("name", ["convnextv2_atto", "seresnext26d_32x4d"])
def test_single_channel_crop_gives_one_logit(name: str) -> None:
    model = BreastNet(name, pretrained=False, pretrained_path=None, gem_p=3.0).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 1, 64, 32))
    assert out.shape == (2,)
    assert torch.isfinite(out).all()
