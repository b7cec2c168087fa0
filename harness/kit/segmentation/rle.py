"""Run-length encodings of binary masks, both flavours Kaggle segmentation competitions use.

Both walk the mask in column-major order (down the first column, then the next), i.e.
``mask.flatten(order="F")``, and write runs of foreground pixels as pairs of integers:

- **relative** (SIIM-ACR Pneumothorax): ``offset length`` where the offset counts the background
  pixels between the end of the previous run (or the image start) and this run's start, so the
  first offset is the 0-based start; an empty mask is ``-1``.
- **absolute** (Severstal steel, and most other competitions): ``start length`` with the start a
  1-based pixel index; an empty mask is the empty string.

Encoders return the canonical form (maximal runs, so relative offsets after the first are >= 1).
Decoders accept anything well-formed and raise ``ValueError`` saying what is wrong otherwise:
the caller adds the row or file it came from. ``relative_runs`` and ``absolute_runs`` stop at the
validated runs (0-based starts, lengths), which is all ``dice.runs_dice`` needs: scoring a full
1024x1024 holdout never has to build the masks.
"""

from __future__ import annotations

import numpy as np

EMPTY_RELATIVE = "-1"
"""SIIM's encoding of an empty mask."""
EMPTY_ABSOLUTE = ""
"""The standard encoding of an empty mask (Severstal's CSV leaves the cell blank)."""


def mask_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0-based starts and lengths of the foreground runs of a 2-D mask in column-major order."""
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    flat = np.asarray(mask, dtype=bool).flatten(order="F").astype(np.int8)
    changes = np.flatnonzero(np.diff(np.concatenate(([0], flat, [0]))))
    starts, ends = changes[0::2], changes[1::2]
    return starts.astype(np.int64), (ends - starts).astype(np.int64)


def runs_to_mask(starts: np.ndarray, lengths: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A uint8 0/1 mask of ``shape`` from sorted, non-overlapping, in-bounds 0-based runs."""
    height, width = shape
    edges = np.zeros(height * width + 1, dtype=np.int32)
    np.add.at(edges, starts, 1)
    np.add.at(edges, starts + lengths, -1)
    flat = np.cumsum(edges[:-1]).astype(np.uint8)
    return flat.reshape((width, height)).T.copy()


def encode_relative(mask: np.ndarray) -> str:
    """SIIM's relative RLE of a 2-D mask (nonzero = foreground); ``-1`` when it is empty."""
    starts, lengths = mask_runs(mask)
    if starts.size == 0:
        return EMPTY_RELATIVE
    previous_ends = np.concatenate(([0], starts[:-1] + lengths[:-1]))
    return _join(starts - previous_ends, lengths)


def decode_relative(rle: str, shape: tuple[int, int]) -> np.ndarray:
    """The uint8 0/1 mask of ``shape`` (height, width) that a SIIM relative RLE describes.

    ``-1`` is the empty mask. Raises ValueError as ``relative_runs`` does.
    """
    return runs_to_mask(*relative_runs(rle, shape), shape)


def relative_runs(rle: str, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """0-based starts and lengths of the runs of a SIIM relative RLE over a ``shape`` image.

    ``-1`` is the empty mask. Raises ValueError for anything else that is not an even number of
    integers with non-negative offsets and positive lengths, all inside the image.
    """
    _check_shape(shape)
    if rle.strip() == EMPTY_RELATIVE:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if not rle.strip():
        raise ValueError(f"empty RLE: an empty mask is written {EMPTY_RELATIVE}")
    offsets, lengths = _pairs(rle)
    negative = np.flatnonzero(offsets < 0)
    if negative.size:
        i = int(negative[0])
        raise ValueError(
            f"run {i + 1} has offset {offsets[i]}: offsets count the pixels since the end of the "
            "previous run and cannot be negative (a negative offset means overlapping or "
            f"unsorted runs; {EMPTY_RELATIVE} alone is the empty mask)"
        )
    _check_lengths(lengths)
    ends = np.cumsum(offsets + lengths)
    starts = ends - lengths
    _check_inside(starts, lengths, shape, one_based=False)
    return starts, lengths


def encode_absolute(mask: np.ndarray) -> str:
    """The standard absolute RLE (1-based start, length) of a 2-D mask; ``""`` when empty."""
    starts, lengths = mask_runs(mask)
    return _join(starts + 1, lengths) if starts.size else EMPTY_ABSOLUTE


def decode_absolute(rle: str, shape: tuple[int, int]) -> np.ndarray:
    """The uint8 0/1 mask of ``shape`` (height, width) that an absolute RLE describes.

    The empty string is the empty mask. Raises ValueError as ``absolute_runs`` does.
    """
    return runs_to_mask(*absolute_runs(rle, shape), shape)


def absolute_runs(rle: str, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """0-based starts and lengths of the runs of an absolute (1-based) RLE over ``shape``.

    The empty string is the empty mask. Raises ValueError unless the RLE is an even number of
    integers with 1-based starts in increasing order, positive lengths, runs that do not
    overlap and that stay inside the image.
    """
    _check_shape(shape)
    if not rle.strip():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts, lengths = _pairs(rle)
    below_one = np.flatnonzero(starts < 1)
    if below_one.size:
        i = int(below_one[0])
        raise ValueError(f"run {i + 1} starts at {starts[i]}: starts are 1-based pixel indices")
    _check_lengths(lengths)
    previous_ends = starts[:-1] + lengths[:-1]
    clash = np.flatnonzero(starts[1:] < previous_ends)
    if clash.size:
        i = int(clash[0]) + 1
        what = "is before the previous run" if starts[i] < starts[i - 1] else "overlaps run"
        raise ValueError(
            f"run {i + 1} (start {starts[i]}) {what} {i} (start {starts[i - 1]}, length "
            f"{lengths[i - 1]}): runs must be sorted and must not overlap"
        )
    _check_inside(starts - 1, lengths, shape, one_based=True)
    return starts - 1, lengths


def _join(firsts: np.ndarray, lengths: np.ndarray) -> str:
    return " ".join(str(int(v)) for v in np.column_stack((firsts, lengths)).ravel())


def _pairs(rle: str) -> tuple[np.ndarray, np.ndarray]:
    tokens = rle.split()
    try:
        values = np.array([int(token) for token in tokens], dtype=np.int64)
    except ValueError:
        bad = next(t for t in tokens if not t.lstrip("+-").isdigit())
        raise ValueError(f"RLE holds {bad!r}, which is not an integer") from None
    if values.size % 2:
        raise ValueError(
            f"RLE has an odd number of values ({values.size}): it must be pairs of (start, length)"
        )
    return values[0::2], values[1::2]


def _check_lengths(lengths: np.ndarray) -> None:
    bad = np.flatnonzero(lengths <= 0)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"run {i + 1} has length {lengths[i]}: lengths must be positive")


def _check_inside(
    starts: np.ndarray, lengths: np.ndarray, shape: tuple[int, int], *, one_based: bool
) -> None:
    n_pixels = shape[0] * shape[1]
    outside = np.flatnonzero(starts + lengths > n_pixels)
    if outside.size:
        i = int(outside[0])
        shown = int(starts[i]) + (1 if one_based else 0)
        raise ValueError(
            f"run {i + 1} (pixels {shown}..{shown + int(lengths[i]) - 1}"
            f"{', 1-based' if one_based else ', 0-based'}) runs past the end of the "
            f"{shape[0]}x{shape[1]} image ({n_pixels} pixels)"
        )


def _check_shape(shape: tuple[int, int]) -> None:
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be (height, width) with both >= 1, got {shape}")
