"""3-window images from real DICOM files, against HU values computed by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tasks.rsna_ich.imaging import windowed_slice

from .conftest import write_slice

# HU -> (brain (40, 80), subdural (80, 200), soft tissue (40, 380)) by hand:
#   brain: (hu - 0) / 80, subdural: (hu + 20) / 200, soft tissue: (hu + 150) / 380, clipped
EXPECTED = {
    -1000: (0.0, 0.0, 0.0),
    0: (0.0, 0.1, 150 / 380),
    40: (0.5, 0.3, 0.5),
    70: (0.875, 0.45, 220 / 380),
    1000: (1.0, 1.0, 1.0),
}


def _expected(hus: np.ndarray) -> np.ndarray:
    return np.stack([[EXPECTED[int(h)][c] for h in hus.ravel()] for c in range(3)]).reshape(
        3, *hus.shape
    )


def _grid() -> np.ndarray:
    """An 8x8 HU pattern using every value of EXPECTED."""
    values = np.array(list(EXPECTED), dtype=np.int64)
    return np.resize(values, (8, 8))


def test_signed_slice_with_intercept_minus_1024(tmp_path: Path) -> None:
    hu = _grid()
    path = write_slice(tmp_path, "ID_s", pixels=(hu + 1024).astype(np.int16))
    np.testing.assert_allclose(windowed_slice(path), _expected(hu), atol=1e-6)


def test_signed_12_bit_slice_stored_in_hu(tmp_path: Path) -> None:
    hu = _grid()
    path = write_slice(tmp_path, "ID_s", pixels=hu.astype(np.int16), bits_stored=12, rescale=(1, 0))
    np.testing.assert_allclose(windowed_slice(path), _expected(hu), atol=1e-6)


def test_twelve_bit_unsigned_slice_with_the_shifted_intercept_quirk(tmp_path: Path) -> None:
    # the quirk: HU stored modulo 4096 as 12-bit unsigned with intercept 0; -1000 HU is stored
    # as 3096, which read naively (slope 1, intercept 0) would be bone
    hu = _grid()
    stored = np.mod(hu, 4096).astype(np.uint16)
    assert stored.max() == 3096
    path = write_slice(tmp_path, "ID_q", pixels=stored, bits_stored=12, rescale=(1, 0))
    np.testing.assert_allclose(windowed_slice(path), _expected(hu), atol=1e-6)


def test_slope_is_applied(tmp_path: Path) -> None:
    # stored 520 with slope 2 and intercept -1000: 40 HU
    path = write_slice(
        tmp_path, "ID_r", pixels=np.full((8, 8), 520, np.int16), rescale=(2.0, -1000.0)
    )
    np.testing.assert_allclose(windowed_slice(path)[:, 0, 0], [0.5, 0.3, 0.5], atol=1e-6)


def test_resize_keeps_three_channels(tmp_path: Path) -> None:
    path = write_slice(tmp_path, "ID_s", pixels=np.full((8, 8), 1064, np.int16))
    image = windowed_slice(path, size=4)
    assert image.shape == (3, 4, 4) and image.dtype == np.float32
    assert image[:, 0, 0] == pytest.approx([0.5, 0.3, 0.5])
