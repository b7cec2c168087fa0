"""From predicted masks to vertebra crops: one box per vertebra, evenly sampled slices.

As in the write-up, what is kept on disk is the box of each vertebra (slices z0..z1, rows
y0..y1, columns x0..x1 in the study's native voxels) and the slice files it samples, not the
cropped pixels: a crop is cut from the volume in memory or re-read from those DICOM files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from solutions.rsna_cervical.seg_25d_gru.volumes import neighbour_indices, to_uint8
from tasks.rsna_cervical.layout import VERTEBRAE
from tasks.rsna_cervical.volume import read_slice_hu

MIN_SHARE = 0.2
"""A slice belongs to a vertebra when it holds at least this share of the vertebra's largest
per-slice pixel count: stray pixels on other slices do not stretch the box."""


@dataclass(frozen=True)
class VertebraBox:
    """Where one vertebra is, in native voxels; half-open row and column ranges."""

    found: bool
    z0: int
    z1: int
    """First and last slice (inclusive)."""
    y0: int
    y1: int
    x0: int
    x1: int


def sample_slices(z0: int, z1: int, n: int) -> np.ndarray:
    """``n`` slice indices spread evenly over z0..z1 (repeats when the vertebra is shorter)."""
    return np.linspace(z0, z1, n, dtype=int)


def vertebra_boxes(
    classes: np.ndarray, native_shape: tuple[int, int], margin: float
) -> list[VertebraBox]:
    """One box per vertebra C1..C7 from a (slices, s, s) class map predicted at size s.

    The in-plane box is the mask's extent over the vertebra's slices, scaled to the native
    size and widened by ``margin`` of its size on each side. A vertebra without a pixel gets
    ``found=False`` and the whole volume as its box.
    """
    n, size = classes.shape[0], classes.shape[1]
    rows, cols = native_shape
    boxes = []
    for label in range(1, len(VERTEBRAE) + 1):
        mask = classes == label
        counts = mask.reshape(n, -1).sum(1)
        if counts.max() == 0:
            boxes.append(VertebraBox(False, 0, n - 1, 0, rows, 0, cols))
            continue
        slices = np.flatnonzero(counts >= MIN_SHARE * counts.max())
        z0, z1 = int(slices[0]), int(slices[-1])
        _, ys, xs = np.nonzero(mask[z0 : z1 + 1])
        y0, y1 = ys.min() * rows / size, (ys.max() + 1) * rows / size
        x0, x1 = xs.min() * cols / size, (xs.max() + 1) * cols / size
        pad_y, pad_x = margin * (y1 - y0), margin * (x1 - x0)
        boxes.append(
            VertebraBox(
                True,
                z0,
                z1,
                max(0, int(y0 - pad_y)),
                min(rows, int(np.ceil(y1 + pad_y))),
                max(0, int(x0 - pad_x)),
                min(cols, int(np.ceil(x1 + pad_x))),
            )
        )
    return boxes


def level_prior(class_maps: list[np.ndarray]) -> np.ndarray:
    """Where each vertebra usually is: a (7, 6) array of (z0, z1, y0, y1, x0, x1) as fractions
    of the volume, the median over the training class maps in which it was found (the whole
    volume for a vertebra found in none)."""
    fractions = np.tile(np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]), (len(VERTEBRAE), 1))
    found: list[list[np.ndarray]] = [[] for _ in VERTEBRAE]
    for classes in class_maps:
        n, rows, cols = classes.shape
        scale = np.array([n, n, rows, rows, cols, cols], dtype=np.float64)
        for k, b in enumerate(vertebra_boxes(classes, (rows, cols), margin=0.0)):
            if b.found:
                found[k].append(np.array([b.z0, b.z1 + 1, b.y0, b.y1, b.x0, b.x1]) / scale)
    for k, places in enumerate(found):
        if places:
            fractions[k] = np.median(np.stack(places), axis=0)
    return fractions


def fill_missing_boxes(
    boxes: list[VertebraBox], prior: np.ndarray, n_slices: int, native_shape: tuple[int, int]
) -> list[VertebraBox]:
    """Boxes where every vertebra the U-Net missed takes its place from ``level_prior``
    (still ``found=False``), instead of the whole volume: an undertrained or confused
    segmenter then still hands stage 2 the right part of the neck."""
    rows, cols = native_shape
    filled = []
    for box, (z0, z1, y0, y1, x0, x1) in zip(boxes, prior, strict=True):
        if box.found:
            filled.append(box)
            continue
        first = min(int(z0 * n_slices), n_slices - 1)
        filled.append(
            VertebraBox(
                False,
                first,
                max(first, min(n_slices, int(np.ceil(z1 * n_slices))) - 1),
                int(y0 * rows),
                max(int(y0 * rows) + 1, int(np.ceil(y1 * rows))),
                int(x0 * cols),
                max(int(x0 * cols) + 1, int(np.ceil(x1 * cols))),
            )
        )
    return filled


def crop_vertebra(
    read_slice: Callable[[int], np.ndarray],
    n_slices: int,
    box: VertebraBox,
    n_sample: int,
    size: int,
) -> np.ndarray:
    """(n_sample, 3, size, size) uint8: each sampled slice with its neighbours, cropped to
    the box and resized. ``read_slice(z)`` returns the uint8 bone-window slice z."""
    indices = neighbour_indices(sample_slices(box.z0, box.z1, n_sample), n_slices)
    cache: dict[int, np.ndarray] = {}
    out = np.empty((n_sample, 3, size, size), dtype=np.uint8)
    for i, triple in enumerate(indices):
        for c, z in enumerate(triple):
            if z not in cache:
                cache[z] = read_slice(int(z))[box.y0 : box.y1, box.x0 : box.x1]
            out[i, c] = cv2.resize(cache[z], (size, size), interpolation=cv2.INTER_AREA)
    return out


def crop_study(
    read_slice: Callable[[int], np.ndarray],
    n_slices: int,
    boxes: list[VertebraBox],
    n_sample: int,
    size: int,
) -> np.ndarray:
    """(7, n_sample, 3, size, size) uint8 crops of C1..C7."""
    return np.stack([crop_vertebra(read_slice, n_slices, b, n_sample, size) for b in boxes])


def dicom_slice_reader(paths: list[Path]) -> Callable[[int], np.ndarray]:
    """``read_slice`` that decodes slice z from its DICOM file (the write-up's stage-2 input)."""
    return lambda z: to_uint8(read_slice_hu(paths[z]))


def boxes_table(
    uid: str, boxes: list[VertebraBox], paths: list[Path], n_sample: int
) -> pd.DataFrame:
    """The rows kept on disk for a study: its boxes and the slice files each one samples."""
    rows = []
    for vertebra, box in zip(VERTEBRAE, boxes, strict=True):
        sampled = sample_slices(box.z0, box.z1, n_sample)
        rows.append(
            {
                "StudyInstanceUID": uid,
                "vertebra": vertebra,
                **asdict(box),
                "slice_files": " ".join(paths[z].name for z in sampled),
            }
        )
    return pd.DataFrame(rows)


def boxes_from_table(table: pd.DataFrame) -> list[VertebraBox]:
    """A study's seven boxes back from its ``boxes_table`` rows (C1..C7 order)."""
    ordered = table.set_index("vertebra").loc[list(VERTEBRAE)]
    fields = ("found", "z0", "z1", "y0", "y1", "x0", "x1")
    return [
        VertebraBox(bool(r[0]), *(int(v) for v in r[1:]))
        for r in ordered.loc[:, list(fields)].itertuples(index=False)
    ]
