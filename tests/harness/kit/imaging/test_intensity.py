import numpy as np
import pytest
from pydicom import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from harness.api import HarnessError
from harness.kit.imaging.dicom import DicomImage, read_dicom
from harness.kit.imaging.intensity import to_unit_range
from harness.kit.imaging.synth_dicom import write_dicom

# Window center 2048, width 1024, LINEAR (PS3.3 C.11.2.1.2):
#   x <= c - 0.5 - (w - 1) / 2 = 1536  -> 0
#   x >  c - 0.5 + (w - 1) / 2 = 2559  -> 1
#   else ((x - (c - 0.5)) / (w - 1) + 0.5): 1537 -> 1 / 1023, 2048 -> 0.5 + 0.5 / 1023
LINEAR_IN = [0, 1536, 1537, 2048, 2559, 2560, 4095]
LINEAR_OUT = [0.0, 0.0, 1 / 1023, 0.5 + 0.5 / 1023, 1.0, 1.0, 1.0]
# SIGMOID (PS3.3 C.11.2.1.3.1): 1 / (1 + exp(-4 (x - c) / w)), c = 2048, w = 1024
SIGMOID_IN = [1536, 2048, 2560, 3072]
SIGMOID_OUT = [1 / (1 + np.exp(2.0)), 0.5, 1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(-4.0))]


def _unit(tmp_path, values, **kwargs) -> np.ndarray:
    pixels = np.array([values], dtype=np.uint16)
    path = tmp_path / "image.dcm"
    write_dicom(path, pixels, transfer_syntax=ExplicitVRLittleEndian, patient_id="1", **kwargs)
    unit = to_unit_range(read_dicom(path))
    assert unit.dtype == np.float32
    assert unit.shape == pixels.shape
    return unit[0]


def test_linear_window_matches_the_dicom_formula(tmp_path):
    unit = _unit(tmp_path, LINEAR_IN, window=([2048], [1024]), voi_function="LINEAR")
    np.testing.assert_allclose(unit, LINEAR_OUT, atol=1e-6)


def test_missing_voi_function_means_linear(tmp_path):
    unit = _unit(tmp_path, LINEAR_IN, window=([2048], [1024]))
    np.testing.assert_allclose(unit, LINEAR_OUT, atol=1e-6)


def test_sigmoid_window(tmp_path):
    unit = _unit(tmp_path, SIGMOID_IN, window=([2048], [1024]), voi_function="SIGMOID")
    np.testing.assert_allclose(unit, SIGMOID_OUT, atol=1e-6)
    np.testing.assert_allclose(unit, [0.11920292, 0.5, 0.88079708, 0.98201379], atol=1e-6)


def test_multi_valued_window_uses_the_first_value(tmp_path):
    window = ([2048, 100, 3000], [1024, 50, 10])
    unit = _unit(tmp_path, LINEAR_IN, window=window, voi_function="LINEAR")
    np.testing.assert_allclose(unit, LINEAR_OUT, atol=1e-6)


def test_monochrome1_is_inverted_after_windowing(tmp_path):
    kwargs = {"window": ([2048], [1024]), "photometric": "MONOCHROME1"}
    linear = _unit(tmp_path, LINEAR_IN, **kwargs)
    sigmoid = _unit(tmp_path, SIGMOID_IN, voi_function="SIGMOID", **kwargs)
    np.testing.assert_allclose(linear, 1.0 - np.array(LINEAR_OUT), atol=1e-6)
    np.testing.assert_allclose(sigmoid, 1.0 - np.array(SIGMOID_OUT), atol=1e-6)


def test_min_max_scaling_without_window(tmp_path):
    np.testing.assert_allclose(_unit(tmp_path, [100, 300, 500, 200]), [0, 0.5, 1, 0.25])
    np.testing.assert_allclose(
        _unit(tmp_path, [100, 300, 500], photometric="MONOCHROME1"), [1, 0.5, 0]
    )
    np.testing.assert_array_equal(_unit(tmp_path, [7, 7, 7]), [0, 0, 0])


def test_rescale_is_applied_before_the_window(tmp_path):
    # 2 x - 1000 maps stored 1268, 1524, 1780 onto 1536, 2048, 2560.
    unit = _unit(tmp_path, [1268, 1524, 1780], window=([2048], [1024]), rescale=(2.0, -1000.0))
    np.testing.assert_allclose(unit, [0.0, 0.5 + 0.5 / 1023, 1.0], atol=1e-6)


def test_negative_rescale_slope_reverses_min_max(tmp_path):
    np.testing.assert_allclose(_unit(tmp_path, [0, 10, 40], rescale=(-1.0, 0.0)), [1, 0.75, 0])


def _voi_lut_item(lut: np.ndarray) -> Dataset:
    item = Dataset()
    item.add_new(0x00283002, "US", [len(lut), 0, 16])  # LUT Descriptor
    item.add_new(0x00283006, "US", lut.tolist())  # LUT Data
    return item


def test_voi_lut_sequence_wins_over_the_window(tmp_path):
    path = tmp_path / "image.dcm"
    stored = np.array([[0, 1024, 2048, 4095]], dtype=np.uint16)
    write_dicom(
        path, stored, transfer_syntax=ExplicitVRLittleEndian, window=([1], [2]), patient_id="1"
    )
    image = read_dicom(path)
    entries = np.arange(4096)
    lut = (100 + np.round(3000 * (entries / 4095) ** 2)).astype(np.uint16)  # 100 .. 3100
    image.header.VOILUTSequence = [_voi_lut_item(lut)]

    unit = to_unit_range(image)

    expected = [(float(lut[v]) - 100) / 3000 for v in stored[0]]
    np.testing.assert_allclose(unit[0], expected, atol=1e-6)
    assert expected[0] == 0.0 and expected[-1] == 1.0 and 0.05 < expected[1] < 0.07


def test_non_grayscale_image_is_rejected(tmp_path):
    header = Dataset()
    header.PhotometricInterpretation = "RGB"
    image = DicomImage(np.zeros((2, 2, 3), np.uint8), header, tmp_path / "colour.dcm")
    with pytest.raises(HarnessError, match=r"colour\.dcm.*RGB"):
        to_unit_range(image)


def test_invalid_window_raises_naming_the_file(tmp_path):
    path = tmp_path / "badwindow.dcm"
    write_dicom(
        path,
        np.zeros((2, 2), np.uint16),
        transfer_syntax=ExplicitVRLittleEndian,
        window=([10], [0]),
        patient_id="1",
    )
    with pytest.raises(HarnessError, match=r"badwindow\.dcm.*window"):
        to_unit_range(read_dicom(path))
