"""Truncated, empty and non-DICOM files are caught from the header alone, with the file named
and what to do, never pydicom's "Use force=True" advice. Files are written by pydicom and cut
with ``truncate``, the way an interrupted download leaves them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
)

from harness.kit.imaging.dicom import DicomReadError, read_dicom, read_header
from harness.kit.imaging.synth_dicom import write_dicom

SYNTAXES = [ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLosslessSV1]


def _write(path: Path, syntax: str = ExplicitVRLittleEndian) -> Path:
    pixels = np.random.default_rng(3).integers(0, 4096, (48, 40)).astype(np.uint16)
    write_dicom(path, pixels, transfer_syntax=syntax, patient_id="7")
    return path


def _pixel_offset(path: Path) -> int:
    with path.open("rb") as fp:
        pydicom.dcmread(fp, stop_before_pixels=True)
        return fp.tell()


def _cut(path: Path, size: int) -> Path:
    with path.open("r+b") as fp:
        fp.truncate(size)
    return path


def _reason(path: Path, **kwargs: bool) -> str:
    with pytest.raises(DicomReadError) as caught:
        read_header(path, **kwargs)
    message = str(caught.value)
    assert str(path) in message
    assert "force" not in message.lower()
    return caught.value.reason


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_a_whole_file_passes_the_header_check(tmp_path: Path, syntax: str) -> None:
    path = _write(tmp_path / "whole.dcm", syntax)

    assert read_header(path, require_pixels=True).Rows == 48


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("cut", ["700 bytes", "inside the pixel header", "last byte"])
def test_a_file_cut_short_is_caught_without_decoding(tmp_path: Path, syntax: str, cut: str) -> None:
    path = _write(tmp_path / "1.2.3.dcm", syntax)
    size = {
        "700 bytes": 700,
        "inside the pixel header": _pixel_offset(path) + 6,
        "last byte": path.stat().st_size - 1,
    }[cut]
    _cut(path, size)

    reason = _reason(path, require_pixels=True)

    assert "truncated" in reason or "ends at byte" in reason
    assert f"{size:,}" in reason  # the file's size is named


def test_a_native_file_says_how_many_bytes_the_image_needs(tmp_path: Path) -> None:
    path = _write(tmp_path / "native.dcm")
    offset = _pixel_offset(path)
    _cut(path, offset + 12 + 1000)  # 1000 of the 48 x 40 x 2 = 3840 pixel bytes

    reason = _reason(path)

    assert "48 x 40, 16 bits" in reason
    assert f"runs from byte {offset + 12:,} to byte {offset + 12 + 3840:,}" in reason


def test_pixel_data_shorter_than_rows_x_columns_x_bits_is_caught(tmp_path: Path) -> None:
    dataset = pydicom.dcmread(_write(tmp_path / "full.dcm"))
    dataset.PixelData = dataset.PixelData[:1000]
    path = tmp_path / "short.dcm"
    dataset.save_as(path, enforce_file_format=True)

    assert "Pixel Data holds 1,000 bytes but 48 x 40, 16 bits needs 3,840" in _reason(path)


def test_implicit_vr_files_are_checked_too(tmp_path: Path) -> None:
    dataset = pydicom.dcmread(_write(tmp_path / "full.dcm"))
    dataset.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    path = tmp_path / "implicit.dcm"
    dataset.save_as(path, implicit_vr=True, little_endian=True, enforce_file_format=True)
    assert read_header(path, require_pixels=True).Columns == 40

    _cut(path, path.stat().st_size - 100)

    assert "truncated" in _reason(path)


def test_a_compressed_file_cut_inside_a_fragment_names_the_fragment(tmp_path: Path) -> None:
    path = _write(tmp_path / "j2k.dcm", JPEG2000Lossless)
    _cut(path, path.stat().st_size - 50)

    reason = _reason(path)

    assert "fragment 1 of its compressed pixel data ends at byte" in reason


def test_an_empty_file_says_so_and_to_download_it_again(tmp_path: Path) -> None:
    path = tmp_path / "empty.dcm"
    path.touch()

    with pytest.raises(DicomReadError) as caught:
        read_dicom(path)

    assert str(caught.value).startswith(f"cannot read DICOM file {path}: empty file (0 bytes); ")
    assert "re-download" in caught.value.fix


def test_a_non_dicom_file_says_so_without_pydicom_advice(tmp_path: Path) -> None:
    path = tmp_path / "page.dcm"
    path.write_text("<html>rate limited</html>" * 20)

    assert _reason(path).startswith("not a DICOM file (no 'DICM' marker at byte 128")


def test_a_file_cut_before_its_pixel_data_fails_only_when_pixels_are_required(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "cut.dcm")
    _cut(path, _pixel_offset(path))

    assert read_header(path).Rows == 48  # the header itself is whole
    assert "no Pixel Data element: the file ends at byte" in _reason(path, require_pixels=True)
