"""The synthetic generator: Kaggle layout, deterministic, four defect kinds told apart by shape."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from harness.kit.segmentation.rle import decode_absolute
from harness.kit.synthetic import InvalidSynthConfig
from tasks.severstal_steel.synthetic import SteelSynthConfig, synthesize


def test_same_seed_same_files(tmp_path: Path) -> None:
    config = SteelSynthConfig(n_images=6, height=32, width=200)
    synthesize(tmp_path / "a", config, seed=5)
    synthesize(tmp_path / "b", config, seed=5)
    for a in sorted((tmp_path / "a").rglob("*")):
        b = tmp_path / "b" / a.relative_to(tmp_path / "a")
        assert a.is_dir() or a.read_bytes() == b.read_bytes()


def test_defect_kinds_differ_in_shape_and_brightness(tmp_path: Path) -> None:
    """Per class, the masks' mean bounding-box aspect and area and the image's brightness
    inside the mask relative to outside: pits small, cracks tall, scratches wide and bright,
    patches large and dark."""
    config = SteelSynthConfig(n_images=120, height=64, width=400, defect_fraction=1.0)
    table = synthesize(tmp_path, config, seed=1)
    stats: dict[int, list[tuple[float, float, float]]] = {k: [] for k in (1, 2, 3, 4)}
    for image_id, class_id, rle in table.itertuples(index=False):
        mask = decode_absolute(rle, (64, 400)).astype(bool)
        grey = cv2.imread(str(tmp_path / "train_images" / image_id), cv2.IMREAD_GRAYSCALE)
        rows, columns = np.nonzero(mask)
        aspect = (np.ptp(columns) + 1) / (np.ptp(rows) + 1)
        contrast = float(grey[mask].mean() - grey[~mask].mean())
        stats[class_id].append((aspect, float(mask.sum()), contrast))
    aspect, area, contrast = (
        {k: np.median([s[i] for s in v]) for k, v in stats.items()} for i in range(3)
    )
    assert all(len(v) >= 10 for v in stats.values())
    assert aspect[2] < 1 < aspect[3]  # cracks run top-down, scratches along the strip
    assert area[1] < area[4] and area[2] < area[4]  # patches are the largest
    assert contrast[3] > 0 > max(contrast[1], contrast[2], contrast[4])  # only scratches bright


def test_images_without_defects_have_no_rows_and_aspect_is_kept(tmp_path: Path) -> None:
    table = synthesize(tmp_path, SteelSynthConfig(n_images=20), seed=0)
    files = sorted(p.name for p in (tmp_path / "train_images").iterdir())
    assert len(files) == 20 and table["ImageId"].nunique() == 11  # round(0.55 * 20)
    assert pd.read_csv(tmp_path / "train.csv").equals(table)
    height, width = cv2.imread(str(tmp_path / "train_images" / files[0])).shape[:2]
    assert width / height == pytest.approx(6.25)


def test_bad_parameters_are_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidSynthConfig, match="class_weights") as err:
        synthesize(tmp_path, SteelSynthConfig(class_weights=[1.0, 0.0], defect_fraction=2.0), 0)
    assert "defect_fraction must be in [0, 1]" in str(err.value)
