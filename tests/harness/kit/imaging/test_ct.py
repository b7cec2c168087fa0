import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from harness.kit.imaging.ct import (
    WINDOWS,
    correct_shifted_intercept,
    slice_order,
    stack_windows,
    to_hu,
    window,
)
from harness.kit.imaging.dicom import read_dicom
from harness.kit.imaging.synth_dicom import write_dicom


def _header(**tags: object) -> pydicom.Dataset:
    header = pydicom.Dataset()
    for keyword, value in tags.items():
        setattr(header, keyword, value)
    return header


def test_hu_from_slope_and_intercept_by_hand():
    header = _header(RescaleSlope=2, RescaleIntercept=-1024, BitsStored=16, PixelRepresentation=1)
    pixels = np.array([[0, 512], [1024, -10]], dtype=np.int16)
    np.testing.assert_array_equal(to_hu(pixels, header), [[-1024, 0], [1024, -1044]])


def test_shifted_12_bit_intercept_is_undone():
    # Stored 24 with intercept 0 is really 24 + 1000 - 1000 = 24 HU; stored 3100 wraps to
    # 3100 + 1000 - 4096 = 4 -> -996 HU (air), as the Kaggle community fix does.
    header = _header(RescaleSlope=1, RescaleIntercept=0, BitsStored=12, PixelRepresentation=0)
    pixels = np.array([[24, 3100]], dtype=np.uint16)
    values, intercept = correct_shifted_intercept(pixels, header)
    np.testing.assert_array_equal(values, [[1024, 4]])
    assert intercept == -1000.0
    np.testing.assert_array_equal(to_hu(pixels, header), [[24, -996]])


@pytest.mark.parametrize(
    "tags",
    [
        {"BitsStored": 12, "PixelRepresentation": 0, "RescaleIntercept": -1024},
        {"BitsStored": 16, "PixelRepresentation": 0, "RescaleIntercept": 0},
        {"BitsStored": 12, "PixelRepresentation": 1, "RescaleIntercept": 0},
    ],
)
def test_slices_without_the_quirk_are_unchanged(tags):
    header = _header(RescaleSlope=1, **tags)
    pixels = np.array([[40000, 5]], dtype=np.uint16)
    values, intercept = correct_shifted_intercept(pixels, header)
    np.testing.assert_array_equal(values, [[40000, 5]])
    assert intercept == float(tags["RescaleIntercept"])


def test_windows_by_hand():
    hu = np.array([-100.0, 0.0, 40.0, 60.0, 80.0, 200.0])
    # Brain (40, 80) spans 0..80 HU.
    np.testing.assert_allclose(window(hu, *WINDOWS["brain"]), [0, 0, 0.5, 0.75, 1, 1])
    # Subdural (80, 200) spans -20..180 HU.
    np.testing.assert_allclose(window(hu, *WINDOWS["subdural"]), [0, 0.1, 0.3, 0.4, 0.5, 1])
    stacked = stack_windows(hu.reshape(2, 3), ("brain", "subdural"))
    assert stacked.shape == (2, 3, 2) and stacked.dtype == np.float32
    np.testing.assert_allclose(stacked[0, 2], [0.5, 0.3])


def test_window_arguments_are_checked():
    with pytest.raises(ValueError, match="width must be positive"):
        window(np.zeros(2), 40, 0)
    with pytest.raises(ValueError, match="unknown window"):
        stack_windows(np.zeros((2, 2)), ("brain", "lung"))


def test_slices_are_ordered_by_position_not_file_name_or_instance_number(tmp_path):
    # Written in shuffled file order, with InstanceNumbers that disagree with the geometry.
    z_by_file = {"a.dcm": 10.0, "b.dcm": -5.0, "c.dcm": 2.5, "d.dcm": 0.0}
    for number, (name, z) in enumerate(z_by_file.items(), start=1):
        write_dicom(
            tmp_path / name,
            np.full((32, 32), int(z * 10), dtype=np.int16),
            transfer_syntax=ExplicitVRLittleEndian,
            bits_stored=16,
            patient_id="ID_p",
            modality="CT",
            extra={
                "ImagePositionPatient": [-120.0, -120.0, z],
                "ImageOrientationPatient": [1, 0, 0, 0, 1, 0],
                "InstanceNumber": number,
            },
        )
    headers = [read_dicom(tmp_path / name).header for name in z_by_file]
    order = slice_order(headers)
    assert [list(z_by_file)[i] for i in order] == ["b.dcm", "d.dcm", "c.dcm", "a.dcm"]


def test_tilted_series_is_ordered_along_its_normal():
    # Rows along x, columns tilted in y-z: the normal is (0, -sin, cos); positions move along it.
    angle = np.deg2rad(20)
    orientation = [1, 0, 0, 0, np.cos(angle), np.sin(angle)]
    normal = np.array([0, -np.sin(angle), np.cos(angle)])
    steps = [3.0, -1.0, 0.5]
    headers = [
        _header(ImagePositionPatient=list(step * normal), ImageOrientationPatient=orientation)
        for step in steps
    ]
    assert slice_order(headers).tolist() == [1, 2, 0]


def test_missing_position_names_the_slice():
    headers = [_header(ImagePositionPatient=[0, 0, 1]), _header(InstanceNumber=2)]
    with pytest.raises(ValueError, match="slice 1: the slice has no ImagePositionPatient"):
        slice_order(headers)
