"""PydicomPool and DicomDecoder's fallback pool: real worker processes decoding real DICOM files.

Every expected image is ``read_dicom(path).pixels``. Files are tiny (64x52) so the module runs in
a few seconds; the speed-up is measured by tests/benchmarks/flagship_table.py, not here.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLosslessSV1

from harness.kit.imaging.dali_decode import DecodeStats, DicomDecoder
from harness.kit.imaging.dicom import DicomImage, DicomReadError, read_dicom
from harness.kit.imaging.fallback_pool import PydicomPool
from harness.kit.imaging.synth_dicom import write_dicom

pytest.importorskip("nvidia.dali")

SYNTAXES = (JPEG2000Lossless, JPEGLosslessSV1, ExplicitVRLittleEndian)


def _write_mix(folder: Path, n: int) -> list[Path]:
    """``n`` 12-bit files cycling through J2K, SV1 and uncompressed."""
    paths = []
    for k in range(n):
        pixels = np.random.default_rng(k).integers(0, 4096, (64, 52)).astype(np.uint16)
        path = folder / f"{k}.dcm"
        write_dicom(path, pixels, transfer_syntax=SYNTAXES[k % 3], patient_id="10006")
        paths.append(path)
    return paths


def test_a_decode_error_crosses_the_process_boundary_whole() -> None:
    err = DicomReadError(Path("/data/1.dcm"), "empty file (0 bytes)", "re-download it")
    again = pickle.loads(pickle.dumps(err))
    assert (again.path, again.reason, again.fix, str(again)) == (
        err.path,
        err.reason,
        err.fix,
        str(err),
    )


def test_pool_decodes_like_pydicom_and_names_a_broken_file(tmp_path: Path) -> None:
    paths = _write_mix(tmp_path, 3)
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(paths[1].read_bytes()[:300])

    with PydicomPool(2) as pool:
        futures = [(path, pool.submit(path)) for path in [*paths, broken]]
        for path, future in futures[:3]:
            np.testing.assert_array_equal(pool.result(future, path), read_dicom(path).pixels)
        with pytest.raises(DicomReadError, match=r"broken\.dcm") as caught:
            pool.result(futures[3][1], broken)
    assert caught.value.path == broken


def test_decoder_with_a_pool_gives_the_same_images_and_counts_as_without(tmp_path: Path) -> None:
    paths = _write_mix(tmp_path, 10)
    paths[4].write_bytes(paths[4].read_bytes()[:300])  # an SV1 file cut short

    with DicomDecoder("cpu", batch_size=2) as serial:
        expected = list(serial.decode(paths))
    with DicomDecoder("cpu", batch_size=2, fallback_workers=2, pool_min_pixels=0) as pooled:
        got = list(pooled.decode(paths))
        assert pooled.pool is not None and pooled.pool.started

    assert [path for path, _ in got] == paths
    for (path, image), (_, reference) in zip(got, expected, strict=True):
        if path == paths[4]:
            assert isinstance(image, DicomReadError) and image.path == path
            continue
        assert isinstance(image, DicomImage) and isinstance(reference, DicomImage)
        np.testing.assert_array_equal(image.pixels, read_dicom(path).pixels)
        assert "PixelData" not in image.header
    # 4 J2K by DALI; 3 uncompressed and 2 SV1 by pydicom; the cut SV1 file failed.
    assert pooled.stats == serial.stats == DecodeStats(dali=4, fallback=5, failed=1)


def test_a_decode_call_below_pool_min_pixels_starts_no_process(tmp_path: Path) -> None:
    paths = _write_mix(tmp_path, 3)
    with DicomDecoder("cpu", fallback_workers=2, pool_min_pixels=4 * 64 * 52) as decoder:
        images = [image for _, image in decoder.decode(paths)]
        assert decoder.pool is not None and not decoder.pool.started
        list(decoder.decode(paths + paths[:1]))  # 4 files of 64x52: now it pays off
        assert decoder.pool.started
    assert all(isinstance(image, DicomImage) for image in images)
    assert decoder.stats == DecodeStats(dali=3, fallback=4)


def test_invalid_worker_counts_raise() -> None:
    with pytest.raises(ValueError, match="workers"):
        PydicomPool(0)
    with pytest.raises(ValueError, match="fallback_workers"):
        DicomDecoder("cpu", fallback_workers=-1)
