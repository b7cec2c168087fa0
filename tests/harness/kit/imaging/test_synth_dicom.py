import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, JPEGBaseline8Bit, JPEGLosslessSV1

from harness.kit.imaging.synth_dicom import COMPUTED_RADIOGRAPHY, CT_IMAGE, write_dicom

SYNTAXES = [
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
]


def _pixels(bits: int = 12, shape: tuple[int, int] = (64, 52)) -> np.ndarray:
    pixels = np.random.default_rng(0).integers(0, 2**bits, shape).astype(np.uint16)
    pixels[0, 0], pixels[-1, -1] = 0, 2**bits - 1
    return pixels


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_round_trip_is_bit_exact(tmp_path, syntax, photometric):
    pixels = _pixels()
    path = tmp_path / "image.dcm"
    write_dicom(path, pixels, transfer_syntax=syntax, photometric=photometric, patient_id="10006")

    dataset = pydicom.dcmread(path)
    assert dataset.file_meta.TransferSyntaxUID == syntax
    assert dataset.PhotometricInterpretation == photometric
    assert (dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit) == (16, 12, 11)
    assert dataset.PixelRepresentation == 0
    assert dataset.PatientID == "10006"
    assert dataset.pixel_array.dtype == np.uint16
    np.testing.assert_array_equal(dataset.pixel_array, pixels)


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_16_bit_values_above_int16_range_round_trip(tmp_path, syntax):
    pixels = _pixels(bits=16)
    pixels[1, :4] = [32767, 32768, 40000, 65535]
    path = tmp_path / "image.dcm"
    write_dicom(path, pixels, transfer_syntax=syntax, bits_stored=16, patient_id="1")

    decoded = pydicom.dcmread(path).pixel_array
    assert decoded.dtype == np.uint16
    np.testing.assert_array_equal(decoded, pixels)


def test_multi_valued_window_is_written_as_multi_valued_ds(tmp_path):
    path = tmp_path / "image.dcm"
    write_dicom(
        path,
        _pixels(),
        transfer_syntax=ExplicitVRLittleEndian,
        window=([2047.5, 1800.0, 2300.25], [3000.0, 2500.0, 3500.0]),
        voi_function="SIGMOID",
        rescale=(1.5, -10.0),
        patient_id="1",
    )

    dataset = pydicom.dcmread(path)
    assert dataset["WindowCenter"].VR == "DS"
    assert dataset["WindowCenter"].VM == 3
    assert [float(v) for v in dataset.WindowCenter] == [2047.5, 1800.0, 2300.25]
    assert [float(v) for v in dataset.WindowWidth] == [3000.0, 2500.0, 3500.0]
    assert dataset.VOILUTFunction == "SIGMOID"
    assert (float(dataset.RescaleSlope), float(dataset.RescaleIntercept)) == (1.5, -10.0)


def test_single_window_has_one_value_and_no_window_writes_none(tmp_path):
    single, none = tmp_path / "single.dcm", tmp_path / "none.dcm"
    write_dicom(
        single,
        _pixels(),
        transfer_syntax=ExplicitVRLittleEndian,
        window=([2048], [1024]),
        patient_id="1",
    )
    write_dicom(none, _pixels(), transfer_syntax=ExplicitVRLittleEndian, patient_id="1")

    dataset = pydicom.dcmread(single)
    assert dataset["WindowCenter"].VM == 1
    assert float(dataset.WindowCenter) == 2048.0
    assert "WindowCenter" not in pydicom.dcmread(none)


def test_extra_elements_and_uids(tmp_path):
    path = tmp_path / "image.dcm"
    write_dicom(
        path,
        _pixels(),
        transfer_syntax=JPEG2000Lossless,
        patient_id="10006",
        extra={"ImageLaterality": "L", "ViewPosition": "CC", "SOPInstanceUID": "1.2.3.4"},
    )

    dataset = pydicom.dcmread(path)
    assert (dataset.ImageLaterality, dataset.ViewPosition) == ("L", "CC")
    assert dataset.SOPInstanceUID == dataset.file_meta.MediaStorageSOPInstanceUID == "1.2.3.4"
    assert dataset.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1.2"
    assert dataset.StudyInstanceUID and dataset.SeriesInstanceUID


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_same_arguments_give_identical_files(tmp_path, syntax):
    first, second = tmp_path / "a.dcm", tmp_path / "b.dcm"
    for path in (first, second):
        write_dicom(path, _pixels(), transfer_syntax=syntax, window=([1], [2]), patient_id="7")
    assert first.read_bytes() == second.read_bytes()


def test_different_images_get_different_instance_uids(tmp_path):
    first, second = tmp_path / "a.dcm", tmp_path / "b.dcm"
    write_dicom(first, _pixels(), transfer_syntax=ExplicitVRLittleEndian, patient_id="7")
    write_dicom(second, _pixels() // 2, transfer_syntax=ExplicitVRLittleEndian, patient_id="7")
    uids = {pydicom.dcmread(p).SOPInstanceUID for p in (first, second)}
    assert len(uids) == 2


@pytest.mark.parametrize(
    ("pixels", "kwargs", "error"),
    [
        (np.zeros((4, 4), np.float32), {}, ValueError),
        (np.zeros((2, 4, 4), np.uint16), {}, ValueError),
        (np.full((4, 4), 4096, np.uint16), {}, ValueError),
        (np.zeros((4, 4), np.uint16), {"transfer_syntax": JPEGBaseline8Bit}, NotImplementedError),
        (np.zeros((4, 4), np.uint16), {"extra": {"NotAKeyword": 1}}, ValueError),
        (np.zeros((4, 4), np.uint16), {"window": ([], [])}, ValueError),
    ],
)
def test_invalid_arguments_are_rejected(tmp_path, pixels, kwargs, error):
    kwargs = {"transfer_syntax": ExplicitVRLittleEndian, "patient_id": "1", **kwargs}
    with pytest.raises(error):
        write_dicom(tmp_path / "image.dcm", pixels, **kwargs)


def test_jpeg_lossless_stream_is_process_14_selection_value_1(tmp_path):
    path = tmp_path / "image.dcm"
    write_dicom(path, _pixels(), transfer_syntax=JPEGLosslessSV1, patient_id="1")

    frame = next(pydicom.encaps.generate_frames(pydicom.dcmread(path).PixelData))
    assert frame[:2] == b"\xff\xd8" and b"\xff\xe0" not in frame[:4]  # SOI, no JFIF header
    sof3 = frame.index(b"\xff\xc3")
    assert frame[sof3 + 4] == 12  # sample precision = BitsStored
    sos = frame.index(b"\xff\xda")
    assert frame[sos + 4] == 1  # one component
    assert frame[sos + 7 : sos + 10] == bytes([1, 0, 0])  # Ss = predictor 1, Se = 0, Ah/Al = 0


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, JPEG2000Lossless])
def test_signed_ct_slice_round_trips_with_its_modality(tmp_path, syntax):
    pixels = np.random.default_rng(1).integers(-2048, 2048, (64, 48)).astype(np.int16)
    pixels[0, 0], pixels[-1, -1] = -2048, 2047
    path = tmp_path / "slice.dcm"
    write_dicom(
        path,
        pixels,
        transfer_syntax=syntax,
        bits_stored=12,
        rescale=(1.0, -1024.0),
        patient_id="ID_1",
        modality="CT",
    )

    dataset = pydicom.dcmread(path)
    assert (dataset.Modality, dataset.SOPClassUID) == ("CT", CT_IMAGE)
    assert "PresentationIntentType" not in dataset
    assert (dataset.BitsAllocated, dataset.BitsStored, dataset.PixelRepresentation) == (16, 12, 1)
    assert (float(dataset.RescaleSlope), float(dataset.RescaleIntercept)) == (1.0, -1024.0)
    assert dataset.pixel_array.dtype == np.int16
    np.testing.assert_array_equal(dataset.pixel_array, pixels)


def test_eight_bit_radiograph_round_trips(tmp_path):
    pixels = np.random.default_rng(2).integers(0, 256, (64, 64)).astype(np.uint8)
    path = tmp_path / "cr.dcm"
    write_dicom(
        path,
        pixels,
        transfer_syntax=ExplicitVRLittleEndian,
        bits_stored=8,
        patient_id="p",
        modality="CR",
    )

    dataset = pydicom.dcmread(path)
    assert (dataset.Modality, dataset.BitsAllocated, dataset.BitsStored) == ("CR", 8, 8)
    assert dataset.SOPClassUID == dataset.file_meta.MediaStorageSOPClassUID == COMPUTED_RADIOGRAPHY
    np.testing.assert_array_equal(dataset.pixel_array, pixels)


def test_a_modality_without_a_sop_class_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="modality must be one of MG, CR, CT, got 'MR'"):
        write_dicom(
            tmp_path / "x.dcm",
            np.zeros((8, 8), np.uint8),
            transfer_syntax=ExplicitVRLittleEndian,
            bits_stored=8,
            patient_id="p",
            modality="MR",
        )


def test_values_outside_the_signed_range_are_rejected(tmp_path):
    pixels = np.full((64, 48), 2048, dtype=np.int16)
    with pytest.raises(ValueError, match=r"2048\.\.2048 do not fit in 12 signed bits"):
        write_dicom(
            tmp_path / "x.dcm",
            pixels,
            transfer_syntax=ExplicitVRLittleEndian,
            bits_stored=12,
            patient_id="p",
        )


def test_signed_pixels_cannot_be_written_as_jpeg_lossless(tmp_path):
    with pytest.raises(NotImplementedError, match="unsigned pixels only"):
        write_dicom(
            tmp_path / "x.dcm",
            np.zeros((64, 48), dtype=np.int16),
            transfer_syntax=JPEGLosslessSV1,
            patient_id="p",
        )
