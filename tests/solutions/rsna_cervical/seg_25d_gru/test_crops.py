"""Vertebra boxes from class maps, the evenly spaced slice sampler and crop extraction."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from harness.engine.datasets import synth_config, synthesize
from harness.engine.registry import load_task
from solutions.rsna_cervical.seg_25d_gru.crops import (
    boxes_from_table,
    boxes_table,
    crop_study,
    dicom_slice_reader,
    fill_missing_boxes,
    level_prior,
    sample_slices,
    vertebra_boxes,
)
from solutions.rsna_cervical.seg_25d_gru.volumes import read_study
from tasks.rsna_cervical.layout import read_train_csv


def test_sampler_spreads_24_slices_over_a_long_vertebra():
    indices = sample_slices(10, 69, 24)  # 60 slices
    assert len(indices) == 24 and indices[0] == 10 and indices[-1] == 69
    assert np.all(np.diff(indices) >= 2)  # evenly spread, no repeats
    np.testing.assert_array_equal(indices, np.linspace(10, 69, 24, dtype=int))


def test_sampler_repeats_slices_of_a_short_vertebra_in_order():
    indices = sample_slices(5, 9, 24)  # 5 slices
    assert len(indices) == 24 and set(indices.tolist()) == {5, 6, 7, 8, 9}
    assert np.all(np.diff(indices) >= 0)
    assert sample_slices(7, 7, 4).tolist() == [7, 7, 7, 7]


def test_boxes_cover_each_label_scaled_to_native_size():
    classes = np.zeros((10, 8, 8), dtype=np.uint8)
    classes[2:5, 1:3, 2:6] = 1  # C1 on slices 2-4, rows 1-2, columns 2-5
    classes[6, 2:8, 2:8] = 2
    classes[9, 0, 0] = 2  # a stray pixel: too few to stretch C2's slices
    boxes = vertebra_boxes(classes, (32, 64), margin=0.0)
    c1, c2 = boxes[0], boxes[1]
    assert (c1.found, c1.z0, c1.z1, c1.y0, c1.y1, c1.x0, c1.x1) == (True, 2, 4, 4, 12, 16, 48)
    assert (c2.z0, c2.z1) == (6, 6)
    assert not boxes[2].found and (boxes[2].z0, boxes[2].z1) == (0, 9)


def test_boxes_round_trip_through_their_table():
    classes = np.zeros((6, 8, 8), dtype=np.uint8)
    classes[1:3, 2:4, 2:4] = 3
    boxes = vertebra_boxes(classes, (8, 8), margin=0.5)
    paths = [Path(f"{n}.dcm") for n in range(6, 0, -1)]
    table = boxes_table("1.2.3", boxes, paths, n_sample=4)
    assert table["vertebra"].tolist() == ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    assert table.loc[2, "slice_files"] == "5.dcm 5.dcm 5.dcm 4.dcm"  # linspace truncates
    assert boxes_from_table(table.sample(frac=1.0, random_state=0)) == boxes


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> pd.Series:
    task = load_task("rsna-cervical")
    config = synth_config(task, {"n_studies": 2, "size": 32, "min_slices": 24, "max_slices": 26})
    root = synthesize(task, tmp_path_factory.mktemp("crops") / "data", config, seed=5)
    return read_train_csv(root).iloc[0]


def test_crops_from_memory_equal_crops_reread_from_dicom(study):
    volume, paths = read_study(study.study_dir)
    classes = np.zeros((len(volume), 16, 16), dtype=np.uint8)
    for label in range(1, 8):
        classes[3 * label : 3 * label + 2, 4:12, 5:11] = label
    boxes = vertebra_boxes(classes, volume.shape[1:], margin=0.1)
    in_memory = crop_study(volume.__getitem__, len(volume), boxes, n_sample=6, size=20)
    reread = crop_study(dicom_slice_reader(paths), len(paths), boxes, n_sample=6, size=20)
    assert in_memory.shape == (7, 6, 3, 20, 20) and in_memory.dtype == np.uint8
    np.testing.assert_array_equal(in_memory, reread)
    # channel 1 is the sampled slice itself, channels 0 and 2 its neighbours below and above
    box = boxes[2]
    z = int(sample_slices(box.z0, box.z1, 6)[0])
    for channel, neighbour in enumerate((z - 1, z, z + 1)):
        patch = volume[neighbour, box.y0 : box.y1, box.x0 : box.x1]
        expected = cv2.resize(patch, (20, 20), interpolation=cv2.INTER_AREA)
        np.testing.assert_array_equal(in_memory[2, 0, channel], expected)


def _stacked_levels(n_slices: int, size: int) -> np.ndarray:
    """A class map with C7 at the bottom and C1 at the top, each 1/8 of the slices, centred."""
    classes = np.zeros((n_slices, size, size), dtype=np.int64)
    step = n_slices // 8
    for label in range(1, 8):
        z0 = (7 - label) * step
        classes[z0 : z0 + step, size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = label
    return classes


def test_level_prior_is_the_median_place_of_each_vertebra():
    prior = level_prior([_stacked_levels(40, 16), _stacked_levels(80, 32)])
    # C1 (row 0) sits in slices 30..34 of 40 and 60..69 of 80: z from 0.75 to 0.875.
    np.testing.assert_allclose(prior[0], [0.75, 0.875, 0.25, 0.75, 0.25, 0.75])
    np.testing.assert_allclose(prior[6, :2], [0.0, 0.125])


def test_missed_vertebrae_take_their_usual_place_and_found_ones_stay():
    prior = level_prior([_stacked_levels(40, 16)])
    predicted = _stacked_levels(48, 16)
    predicted[predicted == 3] = 0  # the U-Net missed C3
    boxes = vertebra_boxes(predicted, (64, 64), margin=0.0)
    assert not boxes[2].found
    filled = fill_missing_boxes(boxes, prior, n_slices=48, native_shape=(64, 64))
    assert filled[:2] == boxes[:2] and filled[3:] == boxes[3:]
    c3 = filled[2]
    assert not c3.found
    # C3 holds 0.5..0.625 of the volume: slices 24..29 of 48, the centred half in-plane.
    assert (c3.z0, c3.z1, c3.y0, c3.y1, c3.x0, c3.x1) == (24, 29, 16, 48, 16, 48)


def test_a_vertebra_never_seen_in_training_falls_back_to_the_whole_volume():
    without_c1 = _stacked_levels(40, 16)
    without_c1[without_c1 == 1] = 0
    prior = level_prior([without_c1])
    boxes = vertebra_boxes(np.zeros((10, 16, 16), dtype=np.int64), (32, 32), margin=0.0)
    c1 = fill_missing_boxes(boxes, prior, n_slices=10, native_shape=(32, 32))[0]
    assert (c1.z0, c1.z1, c1.y0, c1.y1, c1.x0, c1.x1) == (0, 9, 0, 32, 0, 32)
