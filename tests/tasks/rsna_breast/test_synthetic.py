from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLosslessSV1

from harness.api import HarnessError
from tasks.rsna_breast.layout import COLUMNS
from tasks.rsna_breast.synthetic import BreastSynthConfig, synthesize

TINY = BreastSynthConfig(n_patients=8, height=64, width=52)
SEED = 3


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("rsna")
    return root, synthesize(root, TINY, seed=SEED)


def _dicom_paths(root: Path, table: pd.DataFrame) -> list[Path]:
    return [
        root / "train_images" / str(p) / f"{i}.dcm"
        for p, i in zip(table["patient_id"], table["image_id"], strict=True)
    ]


def _window_units(path: Path) -> np.ndarray:
    """Display values (MONOCHROME1 undone) in units of the first window: its span is [0, 1]."""
    dataset = pydicom.dcmread(path)
    values = dataset.pixel_array.astype(np.float64)
    center = float(np.atleast_1d(dataset.WindowCenter)[0])
    width = float(np.atleast_1d(dataset.WindowWidth)[0])
    if dataset.PhotometricInterpretation == "MONOCHROME1":
        values, center = 4095 - values, 4095 - center
    return (values - (center - width / 2)) / width


def _lesion_score(path: Path) -> float:
    """Brightest 3x3 neighbourhood below the marker rows, in window units."""
    units = _window_units(path)
    below_marker = units[int(0.14 * units.shape[0]) :]
    return float(cv2.blur(below_marker, (3, 3)).max())


def test_csv_has_kaggle_columns_in_order_and_types(dataset):
    root, table = dataset
    on_disk = pd.read_csv(root / "train.csv")

    assert tuple(on_disk.columns) == COLUMNS
    assert ",".join(COLUMNS) == (
        "site_id,patient_id,image_id,laterality,view,age,cancer,biopsy,invasive,BIRADS,implant,"
        "density,machine_id,difficult_negative_case"
    ), "the header line of Kaggle's train.csv"
    pd.testing.assert_frame_equal(on_disk, table)
    for column in ("site_id", "patient_id", "image_id", "cancer", "biopsy", "invasive"):
        assert pd.api.types.is_integer_dtype(on_disk[column]), column
    for column in ("implant", "machine_id"):
        assert pd.api.types.is_integer_dtype(on_disk[column]), column
    assert on_disk["age"].dtype == np.float64 and on_disk["BIRADS"].dtype == np.float64
    assert on_disk["difficult_negative_case"].dtype == bool
    assert set(on_disk["laterality"]) == {"L", "R"}
    assert set(on_disk["view"]) == {"CC", "MLO"}
    assert set(on_disk["density"].dropna()) <= {"A", "B", "C", "D"}
    assert on_disk["image_id"].is_unique
    assert on_disk.equals(on_disk.sort_values(["patient_id", "image_id"], ignore_index=True))
    assert set(on_disk["site_id"]) <= {1, 2}
    assert on_disk["machine_id"].nunique() <= TINY.n_machines


def test_four_views_per_patient_each_with_its_file(dataset):
    root, table = dataset
    assert table["patient_id"].nunique() == TINY.n_patients
    for _, views in table.groupby("patient_id"):
        assert sorted(zip(views["laterality"], views["view"], strict=True)) == [
            ("L", "CC"),
            ("L", "MLO"),
            ("R", "CC"),
            ("R", "MLO"),
        ]
        per_patient = ["site_id", "age", "implant", "density", "machine_id"]
        assert (views[per_patient].nunique(dropna=False) == 1).all()
    for path in _dicom_paths(root, table):
        assert path.is_file(), path


def test_labels_are_consistent_per_breast(dataset):
    _, table = dataset
    for _, breast in table.groupby(["patient_id", "laterality"]):
        labels = ["cancer", "biopsy", "invasive", "BIRADS", "difficult_negative_case"]
        assert (breast[labels].nunique(dropna=False) == 1).all()
    cancer = table[table["cancer"] == 1]
    assert (cancer["biopsy"] == 1).all() and not cancer["difficult_negative_case"].any()
    assert (table["invasive"] <= table["cancer"]).all()
    sides = cancer.groupby("patient_id")["laterality"].nunique()
    assert (sides == 1).all()  # cancer on one breast only


def test_prevalence_is_the_fraction_of_cancer_patients(dataset):
    _, table = dataset
    patients = table.groupby("patient_id")["cancer"].max()
    assert patients.sum() == round(TINY.prevalence * TINY.n_patients)


def test_same_seed_gives_identical_files_and_another_seed_differs(dataset, tmp_path):
    root, table = dataset
    again = synthesize(tmp_path / "again", TINY, seed=SEED)
    pd.testing.assert_frame_equal(again, table)
    assert (tmp_path / "again" / "train.csv").read_bytes() == (root / "train.csv").read_bytes()
    for first, second in zip(
        _dicom_paths(root, table), _dicom_paths(tmp_path / "again", again), strict=True
    ):
        assert first.read_bytes() == second.read_bytes()
        np.testing.assert_array_equal(
            pydicom.dcmread(first).pixel_array, pydicom.dcmread(second).pixel_array
        )
    other = synthesize(tmp_path / "other", TINY, seed=SEED + 1)
    assert not set(other["image_id"]) & set(table["image_id"])


def test_images_are_12_bit_mammograms(dataset):
    root, table = dataset
    for path in _dicom_paths(root, table):
        image = pydicom.dcmread(path)
        assert image.file_meta.TransferSyntaxUID in (
            ExplicitVRLittleEndian,
            JPEG2000Lossless,
            JPEGLosslessSV1,
        )
        assert (image.BitsStored, image.Rows, image.Columns) == (12, TINY.height, TINY.width)
        assert image.PhotometricInterpretation in ("MONOCHROME1", "MONOCHROME2")
        assert image.VOILUTFunction in ("LINEAR", "SIGMOID")
        assert image.pixel_array.dtype == np.uint16 and image.pixel_array.max() <= 4095
        assert image.PatientID == str(path.parent.name)


def test_lesion_only_on_the_cancer_side(dataset):
    root, table = dataset
    scores = np.array([_lesion_score(path) for path in _dicom_paths(root, table)])
    cancer = table["cancer"].to_numpy() == 1
    assert cancer.any() and (~cancer).any()
    assert scores[cancer].min() > 0.93, scores[cancer]
    assert scores[~cancer].max() < 0.88, scores[~cancer]


def test_chest_wall_is_on_the_laterality_side(dataset):
    root, table = dataset
    for path, laterality in zip(_dicom_paths(root, table), table["laterality"], strict=True):
        units = _window_units(path)
        middle = units[int(0.3 * len(units)) : int(0.7 * len(units))]
        edge = max(2, units.shape[1] // 7)
        left, right = middle[:, :edge].mean(), middle[:, -edge:].mean()
        assert (left > right + 0.2) if laterality == "L" else (right > left + 0.2)


@pytest.mark.parametrize("extreme", [0.0, 1.0])
def test_dicom_options_follow_the_fractions(tmp_path, extreme):
    config = replace(
        TINY,
        n_patients=2,
        jpeg2000_fraction=extreme,
        jpeg_lossless_fraction=0.0,
        monochrome1_fraction=extreme,
        sigmoid_fraction=extreme,
        multi_window_fraction=extreme,
    )
    table = synthesize(tmp_path, config, seed=0)
    for path in _dicom_paths(tmp_path, table):
        image = pydicom.dcmread(path)
        syntax = JPEG2000Lossless if extreme else ExplicitVRLittleEndian
        assert image.file_meta.TransferSyntaxUID == syntax
        assert image.PhotometricInterpretation == ("MONOCHROME1" if extreme else "MONOCHROME2")
        assert image.VOILUTFunction == ("SIGMOID" if extreme else "LINEAR")
        assert image["WindowCenter"].VM == image["WindowWidth"].VM
        assert (image["WindowCenter"].VM >= 2) == bool(extreme)


def test_jpeg_lossless_files(tmp_path):
    config = replace(TINY, n_patients=1, jpeg2000_fraction=0.0, jpeg_lossless_fraction=1.0)
    table = synthesize(tmp_path, config, seed=0)
    for path in _dicom_paths(tmp_path, table):
        image = pydicom.dcmread(path)
        assert image.file_meta.TransferSyntaxUID == JPEGLosslessSV1
        assert image.pixel_array.max() <= 4095


@pytest.mark.parametrize(
    "change",
    [
        {"prevalence": 1.5},
        {"n_patients": 0},
        {"height": 8},
        {"jpeg2000_fraction": 0.7, "jpeg_lossless_fraction": 0.5},
        {"n_sites": 3, "n_machines": 2},
    ],
)
def test_invalid_config_is_rejected(tmp_path, change):
    with pytest.raises(HarnessError, match="invalid BreastSynthConfig") as caught:
        synthesize(tmp_path, replace(TINY, **change), seed=0)
    assert isinstance(caught.value, ValueError)
    assert not (tmp_path / "train.csv").exists()
