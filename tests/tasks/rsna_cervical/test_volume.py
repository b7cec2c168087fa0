"""Volumes stacked by ImagePositionPatient and segmentations aligned to them."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pydicom
import pytest

from harness.api import DataError
from tasks.rsna_cervical.layout import read_train_csv
from tasks.rsna_cervical.volume import (
    bone_window,
    from_nifti_array,
    ordered_slice_paths,
    read_segmentation,
    read_volume,
    slice_files,
    to_nifti_array,
)


def z_positions(paths: list[Path]) -> list[float]:
    return [
        float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]) for p in paths
    ]


def test_slices_are_ordered_by_position_whichever_way_files_are_numbered(tiny_cervical_root):
    table = read_train_csv(tiny_cervical_root)
    directions = set()
    for study_dir in table["study_dir"]:
        by_name = slice_files(Path(study_dir))
        numbers_z = z_positions(by_name)
        directions.add(numbers_z[0] < numbers_z[-1])  # file 1 at the feet or at the head
        volume = read_volume(study_dir)
        assert np.all(np.diff(volume.positions) > 0)
        assert z_positions(volume.paths) == sorted(numbers_z)
        assert ordered_slice_paths(study_dir) == volume.paths
    assert directions == {True, False}  # the data has both numberings


def test_hu_and_bone_window(tiny_cervical_root):
    volume = read_volume(read_train_csv(tiny_cervical_root)["study_dir"].iloc[0])
    assert volume.hu.dtype == np.float32
    assert volume.hu.min() == pytest.approx(-2000, abs=1)  # padding outside the field of view
    assert volume.hu.max() > 700  # cortical bone
    windowed = bone_window(volume.hu)
    # air and padding clip to 0; cortical bone (~900 HU) is bright in the 400/1800 window
    assert windowed.min() == 0.0 and windowed.max() > 0.7


def test_segmentation_labels_cover_the_bone_of_the_aligned_volume(tiny_cervical_root):
    table = read_train_csv(tiny_cervical_root)
    segmented = table.loc[table["segmentation"].notna()]
    assert len(segmented) >= 2
    for study_dir, path in zip(segmented["study_dir"], segmented["segmentation"], strict=True):
        volume = read_volume(study_dir)
        labels = read_segmentation(path)
        assert labels.shape == volume.hu.shape
        vertebra = labels > 0
        # labelled voxels are bone; misaligned (e.g. unflipped rows) they would mostly be soft
        assert np.median(volume.hu[vertebra]) > 250
        assert np.median(volume.hu[~vertebra]) < 100
        # C1 is the highest vertebra, thoracic ones the lowest, along ascending position
        levels = [int(np.bincount(s[s > 0]).argmax()) for s in labels if s.any()]
        assert levels[0] >= 8 and levels[-1] == 1 and levels == sorted(levels, reverse=True)


def test_the_kaggle_notebook_transform_matches_file_order_on_head_first_studies(
    tiny_cervical_root,
):
    """Stacked by file number (head first), the community's seg[:, ::-1, ::-1].transpose(2, 1, 0)
    lines the raw NIfTI array up with the slices: what the real files need."""
    table = read_train_csv(tiny_cervical_root)
    checked = 0
    for study_dir, path in zip(table["study_dir"], table["segmentation"], strict=True):
        if pd.isna(path):
            continue
        by_name = slice_files(Path(study_dir))
        z = z_positions(by_name)
        if z[0] < z[-1]:
            continue  # numbered from the feet: the notebooks' transform does not apply
        raw = np.asanyarray(nib.load(path).dataobj)
        by_file = raw[:, ::-1, ::-1].transpose(2, 1, 0)
        np.testing.assert_array_equal(by_file[::-1], read_segmentation(path))
        checked += 1
    assert checked >= 1


def test_nifti_round_trip_and_orientation():
    labels = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)  # (slice, row, column)
    raw = to_nifti_array(labels)
    assert raw.shape == (4, 3, 2)  # (column, row, slice)
    assert raw[1, 0, 0] == labels[0, 2, 1]  # rows mirrored
    np.testing.assert_array_equal(from_nifti_array(raw), labels)


def test_a_slice_without_position_is_named(tmp_path, tiny_cervical_root):
    study_dir = Path(read_train_csv(tiny_cervical_root)["study_dir"].iloc[0])
    copy = tmp_path / study_dir.name
    copy.mkdir()
    for path in slice_files(study_dir):
        dataset = pydicom.dcmread(path)
        if path.name == "3.dcm":
            del dataset.ImagePositionPatient
        dataset.save_as(copy / path.name)
    with pytest.raises(DataError, match=r"3\.dcm has no ImagePositionPatient"):
        read_volume(copy)


def test_an_unreadable_segmentation_is_named(tmp_path):
    path = tmp_path / "broken.nii"
    path.write_bytes(b"not a nifti file")
    with pytest.raises(DataError, match=r"broken\.nii"):
        read_segmentation(path)
