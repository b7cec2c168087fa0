"""The synthetic generator: deterministic, consistent labels, boxes on fractured vertebrae."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest

from harness.engine.datasets import synth_config
from harness.engine.registry import load_task
from harness.kit.synthetic import InvalidSynthConfig
from tasks.rsna_cervical.layout import VERTEBRAE, read_train_csv
from tasks.rsna_cervical.synthetic import CervicalSynthConfig, synthesize
from tasks.rsna_cervical.volume import read_segmentation, read_volume


def test_same_seed_same_files(tmp_path, tiny_cervical_root, tiny_cervical_params):
    config = synth_config(load_task("rsna-cervical"), tiny_cervical_params)
    synthesize(tmp_path / "again", config, seed=3)
    for name in ("train.csv", "train_bounding_boxes.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (tiny_cervical_root / name).read_bytes()
    first = sorted((tiny_cervical_root / "train_images").rglob("*.dcm"))[0]
    twin = tmp_path / "again" / first.relative_to(tiny_cervical_root)
    assert twin.read_bytes() == first.read_bytes()


def test_labels_are_consistent_and_files_vary_like_the_real_data(tiny_cervical_root):
    table = read_train_csv(tiny_cervical_root)
    assert (table["patient_overall"] == table[list(VERTEBRAE)].max(axis=1)).all()
    assert 0 < table["patient_overall"].sum() < len(table)
    syntaxes, signed = set(), set()
    for study_dir in table["study_dir"]:
        header = pydicom.dcmread(next(Path(study_dir).glob("*.dcm")), stop_before_pixels=True)
        syntaxes.add(str(header.file_meta.TransferSyntaxUID))
        signed.add(int(header.PixelRepresentation))
        assert header.Modality == "CT" and float(header.RescaleIntercept) == -1024
    assert len(syntaxes) == 3 and signed == {0, 1}


def test_boxes_mark_dark_clefts_inside_fractured_vertebrae(tiny_cervical_root):
    table = read_train_csv(tiny_cervical_root).set_index("StudyInstanceUID")
    boxes = pd.read_csv(
        tiny_cervical_root / "train_bounding_boxes.csv", dtype={"StudyInstanceUID": str}
    )
    assert len(boxes) > 0
    for uid, rows in boxes.groupby("StudyInstanceUID"):
        assert table.loc[uid, "patient_overall"] == 1
        volume = read_volume(table.loc[uid, "study_dir"])
        names = [p.name for p in volume.paths]
        for box in rows.itertuples():
            k = names.index(f"{box.slice_number}.dcm")
            y, x = int(box.y), int(box.x)
            patch = volume.hu[k, y : y + int(box.height), x : x + int(box.width)]
            assert patch.min() < 150 < patch.max()  # a soft cleft through bone


def test_fractured_vertebrae_have_soft_voxels_inside_their_label(tiny_cervical_root):
    table = read_train_csv(tiny_cervical_root)
    for row in table.loc[table["segmentation"].notna()].itertuples():
        hu = read_volume(row.study_dir).hu
        labels = read_segmentation(row.segmentation)
        for index, vertebra in enumerate(VERTEBRAE, start=1):
            soft = np.mean(hu[labels == index] < 150)
            if getattr(row, vertebra):
                assert soft > 0.05, (row.StudyInstanceUID, vertebra)
            else:
                assert soft < 0.05, (row.StudyInstanceUID, vertebra)


def test_rejects_bad_parameters():
    with pytest.raises(InvalidSynthConfig, match="size must be >= 32"):
        synthesize("/nonexistent", CervicalSynthConfig(size=16), seed=0)
    with pytest.raises(InvalidSynthConfig, match="min_slices"):
        synthesize("/nonexistent", CervicalSynthConfig(min_slices=10), seed=0)
