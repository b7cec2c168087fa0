"""The kit's smp builder: the model smp builds, or an error that says how to go on."""

from __future__ import annotations

import pytest

from harness.api import HarnessError
from harness.kit.models import create_smp_model


def test_create_smp_model_builds_the_named_architecture() -> None:
    model = create_smp_model(
        "unet",
        encoder="resnet18",
        encoder_weights=None,
        encoder_depth=3,
        decoder_channels=(16, 8, 8),
        in_channels=1,
        classes=2,
    )

    assert type(model).__name__ == "Unet"
    assert model.segmentation_head[0].out_channels == 2


def test_an_unknown_encoder_names_the_option_that_trains_from_scratch() -> None:
    with pytest.raises(HarnessError, match=r"encoder 'no-such-encoder'.*encoder_weights=null"):
        create_smp_model("unet", encoder="no-such-encoder", encoder_weights=None, classes=1)
