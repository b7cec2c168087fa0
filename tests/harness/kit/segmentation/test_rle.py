"""RLE encoders and decoders: hand-computed encodings, round trips, and malformed input."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from harness.kit.segmentation.rle import (
    decode_absolute,
    decode_relative,
    encode_absolute,
    encode_relative,
)

# A 3x4 mask. Column-major order visits (0,0), (1,0), (2,0), (0,1), ... so the flat indices are
#   0 3 6 9
#   1 4 7 10
#   2 5 8 11
# Foreground: flat 1, 2 (column 0 rows 1-2), 3 (column 1 row 0) -> one run 1..3;
# flat 9 (column 3 row 0) and flat 11 (column 3 row 2) -> two runs of one pixel.
KNOWN = np.array(
    [
        [0, 1, 0, 1],
        [1, 0, 0, 0],
        [1, 0, 0, 1],
    ],
    dtype=np.uint8,
)
# Relative: run 1 starts at 1 (offset 1), ends at 4; run 2 starts at 9 (offset 5), ends at 10;
# run 3 starts at 11 (offset 1).
KNOWN_RELATIVE = "1 3 5 1 1 1"
KNOWN_ABSOLUTE = "2 3 10 1 12 1"


Encode = Callable[[np.ndarray], str]
Decode = Callable[[str, tuple[int, int]], np.ndarray]
FLAVOURS: dict[str, tuple[Encode, Decode]] = {
    "relative": (encode_relative, decode_relative),
    "absolute": (encode_absolute, decode_absolute),
}
"""SIIM's relative RLE and Severstal's absolute RLE: (encode, decode)."""


@pytest.mark.parametrize(
    ("flavour", "known"), [("relative", KNOWN_RELATIVE), ("absolute", KNOWN_ABSOLUTE)]
)
def test_known_encoding(flavour: str, known: str) -> None:
    encode, decode = FLAVOURS[flavour]
    assert encode(KNOWN) == known
    np.testing.assert_array_equal(decode(known, KNOWN.shape), KNOWN)


def test_run_from_first_pixel_and_to_last_pixel() -> None:
    full = np.ones((2, 3), dtype=bool)
    assert encode_relative(full) == "0 6"
    assert encode_absolute(full) == "1 6"
    np.testing.assert_array_equal(decode_relative("0 6", (2, 3)), full)


def test_empty_masks() -> None:
    empty = np.zeros((5, 7), dtype=np.uint8)
    assert encode_relative(empty) == "-1"
    assert encode_absolute(empty) == ""
    np.testing.assert_array_equal(decode_relative(" -1", (5, 7)), empty)
    np.testing.assert_array_equal(decode_absolute("", (5, 7)), empty)


def test_relative_decoding_accepts_adjacent_runs() -> None:
    # Offset 0 after a run is legal (not canonical): the two runs just touch.
    np.testing.assert_array_equal(decode_relative("0 1 0 2", (3, 1)), np.ones((3, 1)))


def test_nonzero_values_count_as_foreground() -> None:
    assert encode_relative(KNOWN * 255) == KNOWN_RELATIVE


@st.composite
def masks(draw: st.DrawFn) -> np.ndarray:
    height = draw(st.integers(1, 12))
    width = draw(st.integers(1, 12))
    return draw(arrays(np.uint8, (height, width), elements=st.integers(0, 1)))


@pytest.mark.parametrize("flavour", FLAVOURS)
@settings(max_examples=300, deadline=None)
@given(masks())
def test_round_trip(flavour: str, mask: np.ndarray) -> None:
    encode, decode = FLAVOURS[flavour]
    encoded = encode(mask)
    np.testing.assert_array_equal(decode(encoded, mask.shape), mask)
    assert encode(decode(encoded, mask.shape)) == encoded


@settings(max_examples=100, deadline=None)
@given(masks())
def test_flavours_describe_the_same_runs(mask: np.ndarray) -> None:
    relative = decode_relative(encode_relative(mask), mask.shape)
    np.testing.assert_array_equal(relative, decode_absolute(encode_absolute(mask), mask.shape))


@pytest.mark.parametrize(
    ("flavour", "rle", "message"),
    [
        ("relative", "1 3 5", "odd number of values"),
        ("relative", "1 0", "run 1 has length 0"),
        ("relative", "1 2 3 -4", "run 2 has length -4"),
        ("relative", "2 3 4 -1", "run 2 has length -1"),
        ("relative", "10 3", "runs past the end of the 3x4 image"),
        ("relative", "0 5 -2 1", "run 2 has offset -2"),
        ("relative", "1 x", "'x', which is not an integer"),
        ("relative", "", "an empty mask is written -1"),
        ("absolute", "1 3 5", "odd number of values"),
        ("absolute", "0 2", "run 1 starts at 0"),
        ("absolute", "1 0", "run 1 has length 0"),
        ("absolute", "12 2", "runs past the end of the 3x4 image"),
        ("absolute", "1 4 3 1", "run 2 .start 3. overlaps run 1"),
        ("absolute", "6 1 2 1", "run 2 .start 2. is before the previous run"),
        ("absolute", "1.5 2", "not an integer"),
    ],
)
def test_decoding_rejects_malformed(flavour: str, rle: str, message: str) -> None:
    _, decode = FLAVOURS[flavour]
    with pytest.raises(ValueError, match=message):
        decode(rle, (3, 4))


def test_decoding_checks_the_shape() -> None:
    with pytest.raises(ValueError, match="shape must be"):
        decode_relative("0 1", (0, 4))


def test_encoding_needs_a_2d_mask() -> None:
    with pytest.raises(ValueError, match="2-D"):
        encode_relative(np.zeros((2, 2, 2)))
