"""severstal-steel/unet-cls-ensemble: post-processing, tuning, data plumbing, and end to end.

The end-to-end tests run `harness run task=severstal-steel solution=unet-cls-ensemble
budget=smoke` on the default synthetic data (40 holdout images, 160 (image, class) pairs); its
score against the all-empty submission is tested in tests/solutions/test_all_empty_margins.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.api import HarnessError
from harness.engine.record import RunRecord
from harness.kit.segmentation.components import remove_small_components
from harness.kit.segmentation.dice import dice
from solutions.severstal_steel.unet_cls_ensemble import (
    UnetClsEnsembleConfig,
    UnetClsEnsembleSolution,
)
from solutions.severstal_steel.unet_cls_ensemble.images import input_size, load_masks, unpack
from solutions.severstal_steel.unet_cls_ensemble.postprocess import (
    NEVER,
    ClassRule,
    area_dices,
    to_mask,
    tune_class,
)
from solutions.severstal_steel.unet_cls_ensemble.solution import _validation_split

pytestmark = pytest.mark.smoke_run(
    "severstal-steel", "unet-cls-ensemble", expect=("Dice", "95% CI")
)


@pytest.mark.slow
def test_smoke_run_trains_every_network_and_predicts_within_the_kernel_limit(
    smoke_run: RunRecord,
) -> None:
    facts = smoke_run.extra
    assert facts["classifier.epochs_run"] >= 1 and facts["tu-test_resnet.epochs_run"] >= 1
    assert facts["inference_limit_s"] == 3600
    assert facts["predict_within_limit"] is True
    assert 0 < facts["predict_s"] < facts["inference_limit_s"]


def test_area_dices_match_removing_components_then_dice() -> None:
    rng = np.random.default_rng(0)
    min_areas = np.array([0, 3, 8, 20])
    for _ in range(20):
        probability = rng.random((16, 24)).astype(np.float32)
        truth = rng.random((16, 24)) < 0.3
        dices = area_dices(probability, truth, 0.6, min_areas)
        expected = [
            dice(remove_small_components(probability > 0.6, int(a)), truth) for a in min_areas
        ]
        np.testing.assert_allclose(dices, expected)
    assert (
        area_dices(np.zeros((4, 4)), np.zeros((4, 4), bool), 0.5, min_areas).tolist() == [1.0] * 4
    )


def test_the_gate_empties_a_class() -> None:
    probability = np.full((4, 6), 0.9, dtype=np.float32)
    assert to_mask(0.3, probability, ClassRule(0.5, 0.5, 0)).sum() == 0
    assert to_mask(0.7, probability, ClassRule(0.5, 0.5, 0)).sum() == 24
    assert to_mask(1.0, probability, ClassRule(NEVER, 0.5, 0)).sum() == 0


def test_tuning_gates_on_the_classifier_and_refuses_a_useless_class() -> None:
    truths = np.zeros((10, 8, 8), dtype=np.uint8)
    truths[:4, 2:6, 2:6] = 1  # images 0-3 have the defect
    maps = np.where(truths > 0, 0.9, 0.1).astype(np.float32)
    maps[4:, :2, :2] = 0.9  # the segmenter's false positives on defect-free images
    gates = np.array([0.9] * 4 + [0.1] * 6)
    rule, score = tune_class(gates, maps, truths, image_pixels=64)
    assert score == 1.0 and 0.1 < rule.gate_threshold <= 0.9
    noise = np.random.default_rng(0).random(maps.shape).astype(np.float32)
    rule, score = tune_class(np.full(10, 0.5), noise, truths, image_pixels=64)
    assert rule.gate_threshold == NEVER and score == pytest.approx(0.6)  # the empty images


def test_validation_split_is_stratified_and_survives_singletons() -> None:
    classes = [""] * 40 + ["3"] * 30 + ["1"] * 10 + ["4"] * 10 + ["2 4"]
    frame = pd.DataFrame({"classes": classes})
    fit, val = _validation_split(frame, 0.2, seed=0)
    assert len(val) == 18 and not set(fit) & set(val)
    assert (frame.iloc[val]["classes"] == "").sum() == 8
    assert _validation_split(frame, 0.0, seed=0)[1].size == 0


def test_masks_are_packed_per_class_and_sizes_follow_the_stride() -> None:
    frame = pd.DataFrame(
        {
            "height": [4],
            "width": [6],
            "EncodedPixels_1": ["1 4"],  # column 0
            "EncodedPixels_2": [""],
            "EncodedPixels_3": ["21 4"],  # column 5
            "EncodedPixels_4": ["1 24"],  # everything
        }
    )
    masks = unpack(load_masks(frame, (4, 6)))[0]
    assert masks.shape == (4, 4, 6)
    assert masks[0].sum() == 4 and masks[0][:, 0].all()
    assert masks[1].sum() == 0 and masks[2][:, 5].all() and masks[3].all()
    sizes = pd.DataFrame({"height": [256], "width": [1600]})
    assert input_size(sizes, 1.0, 32) == (256, 1600)
    assert input_size(sizes, 0.125, 16) == (32, 192)


def test_presets_size_the_ensemble_per_budget() -> None:
    presets = UnetClsEnsembleSolution.presets
    assert set(presets) == {
        "contract",
        "smoke",
        "cpu-default",
        "kaggle-p100",
        "kaggle-t4",
        "gpu-full",
    }
    for name in ("kaggle-p100", "kaggle-t4", "gpu-full"):
        assert presets[name]["encoders"] == ["resnet34", "efficientnet-b5"]
        assert presets[name]["encoder_weights"] == "imagenet"
    for name in ("contract", "smoke", "cpu-default"):
        assert presets[name].get("encoder_weights") is None
        assert not presets[name].get("classifier_pretrained", False)


def test_per_class_options_need_four_values() -> None:
    with pytest.raises(HarnessError, match=r"solution.min_areas needs one value per class \(4\)"):
        UnetClsEnsembleSolution(UnetClsEnsembleConfig(min_areas=[0, 0]))
