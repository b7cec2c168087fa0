import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless

from harness.api import HarnessError
from harness.kit.imaging.dicom import DicomImage, DicomReadError, read_dicom, read_header
from harness.kit.imaging.synth_dicom import write_dicom


def _write(path, pixels, syntax=ExplicitVRLittleEndian, **kwargs):
    write_dicom(path, pixels, transfer_syntax=syntax, patient_id="10006", **kwargs)
    return path


def _pixels(high: int = 4096) -> np.ndarray:
    return np.random.default_rng(1).integers(0, high, (48, 40)).astype(np.uint16)


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, JPEG2000Lossless])
def test_read_dicom_returns_stored_values_and_header(tmp_path, syntax):
    pixels = _pixels()
    path = _write(tmp_path / "1.dcm", pixels, syntax, photometric="MONOCHROME1")

    image = read_dicom(path)

    assert isinstance(image, DicomImage)
    assert image.path == path
    assert image.photometric == "MONOCHROME1"
    assert image.transfer_syntax == syntax
    assert image.pixels.dtype == np.uint16
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.header.PatientID == "10006"
    assert "PixelData" not in image.header  # the encoded bytes are not kept twice


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, JPEG2000Lossless])
def test_uint16_values_above_32767_survive(tmp_path, syntax):
    pixels = _pixels(high=2**16)
    pixels[0, :4] = [32767, 32768, 50000, 65535]
    path = _write(tmp_path / "1.dcm", pixels, syntax, bits_stored=16)

    image = read_dicom(path)

    assert image.pixels.dtype == np.uint16
    np.testing.assert_array_equal(image.pixels, pixels)
    assert int(image.pixels.max()) == 65535


def test_read_header_stops_before_pixels(tmp_path):
    path = _write(tmp_path / "1.dcm", _pixels(), JPEG2000Lossless, window=([2048, 1000], [1, 2]))

    header = read_header(path)

    assert isinstance(header, pydicom.Dataset)
    assert "PixelData" not in header
    assert (header.Rows, header.Columns) == (48, 40)
    assert header["WindowCenter"].VM == 2


@pytest.mark.filterwarnings("ignore:End of file reached before delimiter")
@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, JPEG2000Lossless])
@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_truncated_file_raises_naming_the_file(tmp_path, syntax, keep):
    source = _write(tmp_path / "full.dcm", _pixels(), syntax)
    data = source.read_bytes()
    path = tmp_path / "123456789.dcm"
    path.write_bytes(data[: int(len(data) * keep)])

    with pytest.raises(DicomReadError, match=r"123456789\.dcm") as caught:
        read_dicom(path)
    assert caught.value.path == path
    assert "re-download" in str(caught.value)


def test_file_cut_inside_the_header_raises(tmp_path):
    data = _write(tmp_path / "full.dcm", _pixels()).read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[:200])  # inside the file meta group

    for read in (read_dicom, read_header):
        with pytest.raises(DicomReadError, match=r"cut\.dcm"):
            read(path)


@pytest.mark.parametrize("read", [read_dicom, read_header])
def test_non_dicom_file_raises_naming_the_file(tmp_path, read):
    path = tmp_path / "notes.dcm"
    path.write_text("patient_id,image_id\n1,2\n")

    with pytest.raises(DicomReadError, match=r"notes\.dcm.*not a DICOM"):
        read(path)


@pytest.mark.parametrize("read", [read_dicom, read_header])
def test_missing_file_raises_naming_the_file(tmp_path, read):
    with pytest.raises(DicomReadError, match=r"absent\.dcm: no such file"):
        read(tmp_path / "absent.dcm")


def test_dataset_without_pixel_data_raises(tmp_path):
    dataset = pydicom.dcmread(_write(tmp_path / "full.dcm", _pixels()))
    del dataset.PixelData
    path = tmp_path / "header_only.dcm"
    dataset.save_as(path, enforce_file_format=True)

    with pytest.raises(DicomReadError, match=r"header_only\.dcm.*no Pixel Data"):
        read_dicom(path)
    assert read_header(path).Rows == 48


def test_undecodable_pixel_data_raises(tmp_path):
    dataset = pydicom.dcmread(_write(tmp_path / "full.dcm", _pixels(), JPEG2000Lossless))
    frame = next(pydicom.encaps.generate_frames(dataset.PixelData))
    dataset.PixelData = pydicom.encaps.encapsulate([frame[:12] + b"\x00" * (len(frame) - 12)])
    path = tmp_path / "corrupt.dcm"
    dataset.save_as(path, enforce_file_format=True)

    with pytest.raises(DicomReadError, match=r"corrupt\.dcm.*cannot be decoded"):
        read_dicom(path)


def test_dicom_read_error_is_a_harness_error():
    assert issubclass(DicomReadError, HarnessError)
