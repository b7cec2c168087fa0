"""End to end: `harness run task=siim-pneumothorax solution=unet budget=smoke` on synthetic data.

Measured on the default synthetic data (60 holdout images, 14 with pneumothorax): predicting
every mask empty scores 0.767 (the share of negatives); the smoke run scores well above it
(see the README draft for the figures); tests/solutions/test_all_empty_margins.py asserts it.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.engine.record import RunRecord
from solutions.siim_pneumothorax.unet import UnetConfig, UnetSolution
from solutions.siim_pneumothorax.unet.augment import augment
from solutions.siim_pneumothorax.unet.training import plan_stages

pytestmark = pytest.mark.smoke_run("siim-pneumothorax", "unet", expect=("Dice", "95% CI"))


@pytest.mark.slow
def test_smoke_run_trains_and_tunes_its_threshold(smoke_run: RunRecord) -> None:
    assert smoke_run.extra["epochs_run"] >= 1
    assert 0.0 < smoke_run.extra["threshold"] < 1.0


def test_augmentation_moves_the_mask_with_the_image() -> None:
    image = np.zeros((64, 64), dtype=np.float32)
    image[10:20, 5:15] = 1.0
    mask = (image > 0).astype(np.uint8)
    for seed in range(20):
        out_image, out_mask = augment(image, mask, np.random.default_rng([seed]))
        assert out_image.shape == image.shape and out_mask.dtype == np.uint8
        # Bright pixels and mask pixels stay together after every geometric transform.
        bright = out_image > 0.9
        assert (bright & (out_mask == 0)).sum() <= 0.1 * max(int(bright.sum()), 1)


def test_schedule_has_one_stage_per_resolution_then_focal_with_swa() -> None:
    stages = plan_stages(UnetConfig(), [64, 128], [3, 2])
    assert [(s.resolution, s.loss) for s in stages] == [
        (64, "bce_dice"),
        (128, "bce_dice"),
        (128, "focal"),
    ]
    assert stages[-1].swa_epochs == UnetConfig().swa_epochs


def test_presets_size_the_model_per_budget() -> None:
    presets = UnetSolution.presets
    assert presets["kaggle-t4"]["encoder"] == "efficientnet-b4"
    assert presets["kaggle-t4"]["encoder_weights"] == "imagenet"
    assert presets["gpu-full"]["resolutions"] == [256, 512, 768]
    for name in ("contract", "smoke", "cpu-default"):
        assert presets[name].get("encoder_weights") is None
