"""The seresnext solution's parts: model, loss, augmentations, TTA views, folds, slice cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from harness.kit.losses import column_weighted_bce
from harness.kit.splits import grouped_folds
from solutions.rsna_ich.seresnext.augment import TTA_VIEWS, train_transform, tta_view
from solutions.rsna_ich.seresnext.images import prepare_slices, slice_image
from solutions.rsna_ich.seresnext.model import TINY, build_model
from solutions.rsna_ich.seresnext.solution import SeresnextSolution
from solutions.rsna_ich.seresnext.training import SUBTYPE_WEIGHTS, validation_loss
from tasks.rsna_ich.metric import weighted_log_loss


def test_tiny_model_is_a_squeeze_excitation_resnext_with_six_outputs() -> None:
    model = build_model(TINY, pretrained=False, pretrained_path=None)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 6)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.groups > 1]
    assert convs and all(c.groups == 8 for c in convs)  # grouped 3x3 convolutions
    assert any("se" in name for name, _ in model.named_modules())
    with pytest.raises(ValueError, match="no pretrained weights"):
        build_model(TINY, pretrained=True, pretrained_path=None)


def test_timm_models_get_six_outputs() -> None:
    model = build_model("seresnext26d_32x4d", pretrained=False, pretrained_path=None)
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 6)


def test_loss_is_the_competition_metric() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, (40, 6)).astype(np.float32)
    logits = rng.normal(0, 2, (40, 6)).astype(np.float32)
    probabilities = 1 / (1 + np.exp(-logits.astype(np.float64)))
    weights = np.tile([1, 1, 1, 1, 1, 2], 40)
    expected = weighted_log_loss(labels.ravel(), probabilities.ravel(), weights)
    loss = column_weighted_bce(torch.from_numpy(logits), torch.from_numpy(labels), SUBTYPE_WEIGHTS)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    assert validation_loss(labels, probabilities) == pytest.approx(expected)


def test_augmentation_keeps_shape_and_range_and_follows_the_seed() -> None:
    image = torch.rand(3, 32, 32)
    transform = train_transform(32)
    torch.manual_seed(1)
    first = transform(image)
    torch.manual_seed(1)
    again = transform(image)
    assert first.shape == (3, 32, 32) and torch.equal(first, again)
    assert float(first.min()) >= 0.0 and float(first.max()) <= 1.0 + 1e-6
    torch.manual_seed(2)
    assert not torch.equal(first, transform(image))


def test_tta_views() -> None:
    batch = torch.rand(2, 3, 32, 32)
    assert torch.equal(tta_view(batch, 0), batch)
    assert torch.equal(tta_view(batch, 1), batch.flip(-1))
    views = [tta_view(batch, v) for v in range(TTA_VIEWS)]
    assert all(v.shape == batch.shape for v in views)
    assert all(not torch.equal(views[a], views[b]) for a in range(5) for b in range(a + 1, 5))
    with pytest.raises(ValueError, match=r"0\.\.4"):
        tta_view(batch, 5)


_FOLDS = {"group": "PatientID", "label": "any", "unstratified_when_sparse": True}
"""The solution's folds."""


def test_folds_keep_patients_together_and_spread_bleeding_patients() -> None:
    frame = pd.DataFrame(
        {
            "PatientID": np.repeat([f"p{i}" for i in range(12)], 3),
            "any": np.repeat([1, 0, 0] * 4, 3),
        }
    )
    folds = grouped_folds(frame, **_FOLDS, n_folds=3, seed=0)
    assert (frame.assign(f=folds).groupby("PatientID")["f"].nunique() == 1).all()
    bleeding = frame.assign(fold=folds).query("any == 1").groupby("fold")["PatientID"].nunique()
    assert sorted(bleeding.tolist()) == [1, 1, 2]  # 4 bleeding patients over 3 folds
    assert (grouped_folds(frame, **_FOLDS, n_folds=3, seed=0) == folds).all()
    with pytest.raises(ValueError, match="at least 2"):
        grouped_folds(frame, **_FOLDS, n_folds=1, seed=0)


def test_slices_are_windowed_once_into_the_cache(tiny_ich_root: Path, tmp_path: Path) -> None:
    paths = sorted(str(p) for p in (tiny_ich_root / "stage_2_train").glob("*.dcm"))[:4]
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"no")
    prepared = prepare_slices([*paths, str(broken)], tmp_path / "cache", 32)
    assert prepared.ok.tolist() == [True] * 4 + [False]
    assert prepared.unreadable == [str(broken)]
    first = prepared.files[0]
    assert first is not None
    cached = np.load(first)
    assert cached.dtype == np.uint8 and cached.shape == (3, 32, 32)
    np.testing.assert_array_equal(cached, slice_image(Path(paths[0]), 32))
    mtime = first.stat().st_mtime_ns
    assert prepare_slices(paths, tmp_path / "cache", 32).files[0] == first
    assert first.stat().st_mtime_ns == mtime  # served from the cache, not rewritten


def test_presets() -> None:
    presets = SeresnextSolution.presets
    assert {"contract", "smoke", "cpu-default", "kaggle-p100", "kaggle-t4", "gpu-full"} <= set(
        presets
    )
    for budget in ("kaggle-p100", "kaggle-t4", "gpu-full"):
        assert presets[budget]["model"] == "seresnext50_32x4d"
        assert presets[budget]["pretrained"] is True and presets[budget]["folds"] == 5
    for budget in ("contract", "smoke", "cpu-default"):
        assert not presets[budget].get("pretrained", False)
