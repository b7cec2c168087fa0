"""Reading train.csv and checking a download, on tiny datasets written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from harness.api import DataError, DataProblem
from harness.kit.file_checks import Opening
from tasks.rsna_breast.layout import (
    COLUMNS,
    LABEL_COLUMNS,
    check_layout,
    read_test_csv,
    read_train_csv,
)

MAMMOGRAPHY_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.2"


def write_dicom(path: Path, rows: int = 16, columns: int = 12) -> None:
    """A small uncompressed 12-bit-in-16 mammogram with file meta, as pydicom writes it."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MAMMOGRAPHY_FOR_PRESENTATION
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientID = path.parent.name
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = (np.arange(rows * columns) % 4096).astype(np.uint16).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def train_table() -> pd.DataFrame:
    """Two patients, four images; patient 10011 has cancer in the right breast."""
    return pd.DataFrame(
        {
            "site_id": [2, 2, 1, 1],
            "patient_id": [10006, 10006, 10011, 10011],
            "image_id": [462822612, 1459541791, 220375232, 270344397],
            "laterality": ["L", "R", "L", "R"],
            "view": ["CC", "MLO", "CC", "MLO"],
            "age": [61.0, 61.0, 55.0, np.nan],
            "cancer": [0, 0, 0, 1],
            "biopsy": [0, 0, 0, 1],
            "invasive": [0, 0, 0, 1],
            "BIRADS": [np.nan, np.nan, 1.0, 0.0],
            "implant": [0, 0, 0, 0],
            "density": [np.nan, np.nan, "B", "B"],
            "machine_id": [29, 29, 21, 21],
            "difficult_negative_case": [False, False, True, False],
        },
        columns=list(COLUMNS),
    )


def write_dataset(root: Path, table: pd.DataFrame | None = None) -> pd.DataFrame:
    table = train_table() if table is None else table
    root.mkdir(parents=True, exist_ok=True)
    table.to_csv(root / "train.csv", index=False)
    for patient_id, image_id in zip(table["patient_id"], table["image_id"], strict=True):
        write_dicom(root / "train_images" / str(patient_id) / f"{image_id}.dcm")
    return table


def image(root: Path, patient_id: int, image_id: int) -> Path:
    return root / "train_images" / str(patient_id) / f"{image_id}.dcm"


def test_columns_and_labels_are_kaggles():
    assert len(COLUMNS) == 14
    assert COLUMNS[:3] == ("site_id", "patient_id", "image_id")
    assert set(LABEL_COLUMNS) <= set(COLUMNS)


def test_read_train_csv_adds_absolute_paths_and_prediction_ids(tmp_path):
    write_dataset(tmp_path)
    table = read_train_csv(tmp_path)
    assert list(table.columns) == [*COLUMNS, "path", "prediction_id"]
    assert table["prediction_id"].tolist() == ["10006_L", "10006_R", "10011_L", "10011_R"]
    first = Path(table["path"].iloc[0])
    assert first.is_absolute()
    assert first == image(tmp_path, 10006, 462822612).resolve()
    assert all(Path(p).is_file() for p in table["path"])
    assert table["patient_id"].dtype == np.int64
    assert table["cancer"].dtype == np.int64


def test_read_train_csv_drops_unknown_columns(tmp_path):
    write_dataset(tmp_path, train_table().assign(notes="biopsy pending"))
    assert "notes" not in read_train_csv(tmp_path).columns


def test_read_train_csv_accepts_a_relative_root(tmp_path, monkeypatch):
    write_dataset(tmp_path / "rsna")
    monkeypatch.chdir(tmp_path)
    assert Path(read_train_csv("rsna")["path"].iloc[0]).is_absolute()


def test_missing_root_says_where_to_point(tmp_path):
    with pytest.raises(DataError, match=r"data\.root") as err:
        read_train_csv(tmp_path / "nowhere")
    assert "nowhere" in str(err.value)


def test_missing_train_csv_is_named(tmp_path):
    with pytest.raises(DataError, match=r"train\.csv not found.*data\.root"):
        read_train_csv(tmp_path)


def test_missing_columns_are_named_with_the_file(tmp_path):
    write_dataset(tmp_path, train_table().drop(columns=["laterality", "BIRADS"]))
    with pytest.raises(DataError) as err:
        read_train_csv(tmp_path)
    message = str(err.value)
    assert "train.csv" in message
    assert "missing column(s) laterality, BIRADS" in message
    assert "found site_id, patient_id" in message


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("laterality", "X", "laterality must be L or R: 1 row(s) are not, e.g. 'X' on line(s) 3"),
        ("cancer", 2, "cancer must be 0 or 1: 1 row(s) are not, e.g. 2 on line(s) 3"),
        ("image_id", "abc", "image_id must be an integer: 1 row(s) are not, e.g. 'abc'"),
        ("patient_id", 10006.5, "patient_id must be an integer"),
    ],
)
def test_bad_values_are_reported_with_line_numbers(tmp_path, column, value, expected):
    table = train_table().astype({column: object})
    table.loc[1, column] = value
    write_dataset(tmp_path, table)
    with pytest.raises(DataError, match="harness data check") as err:
        read_train_csv(tmp_path)
    assert expected in str(err.value)
    [problem] = [p for p in check_layout(tmp_path) if column in p.problem]
    assert expected in problem.problem
    assert problem.path == str((tmp_path / "train.csv").resolve())


def test_duplicate_image_ids_are_reported(tmp_path):
    table = train_table()
    table.loc[3, "image_id"] = table.loc[0, "image_id"]
    write_dataset(tmp_path, table)
    with pytest.raises(DataError, match=r"image_id 462822612 appears on several lines \(2, 5\)"):
        read_train_csv(tmp_path)


def test_a_complete_dataset_has_no_problem(tmp_path):
    write_dataset(tmp_path)
    assert check_layout(tmp_path) == []
    assert check_layout(tmp_path, decode=False) == []


def test_check_reports_a_missing_root(tmp_path):
    [problem] = check_layout(tmp_path / "nowhere")
    assert problem.path.endswith("nowhere")
    assert "data.root" in problem.fix


def test_check_reports_missing_csv_and_image_folder(tmp_path):
    problems = check_layout(tmp_path)
    assert [Path(p.path).name for p in problems] == ["train_images", "train.csv"]
    assert all("data.root" in p.fix for p in problems)


def test_check_reports_an_unreadable_csv(tmp_path):
    (tmp_path / "train_images").mkdir()
    (tmp_path / "train.csv").write_text("")
    [problem] = check_layout(tmp_path)
    assert "not a readable CSV file" in problem.problem


def test_check_reports_missing_columns(tmp_path):
    write_dataset(tmp_path, train_table().drop(columns=["cancer"]))
    [problem] = check_layout(tmp_path)
    assert "missing column(s) cancer" in problem.problem


def test_check_names_each_missing_image(tmp_path):
    write_dataset(tmp_path)
    image(tmp_path, 10006, 1459541791).unlink()
    image(tmp_path, 10011, 270344397).unlink()
    problems = check_layout(tmp_path)
    assert [p.path for p in problems] == [
        str(image(tmp_path, 10006, 1459541791).resolve()),
        str(image(tmp_path, 10011, 270344397).resolve()),
    ]
    assert "image file missing (patient_id 10006, image_id 1459541791)" in problems[0].problem


def test_check_names_a_missing_image_folder_once(tmp_path):
    write_dataset(tmp_path)
    for path in sorted((tmp_path / "train_images").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (tmp_path / "train_images").rmdir()
    [problem] = check_layout(tmp_path)
    assert problem.problem == "image folder not found"


def test_check_names_unreadable_dicoms(tmp_path):
    write_dataset(tmp_path)
    truncated = image(tmp_path, 10006, 1459541791)
    truncated.write_bytes(truncated.read_bytes()[:-100])
    not_dicom = image(tmp_path, 10011, 220375232)
    not_dicom.write_text("this is a CSV file renamed .dcm\n")

    problems = check_layout(tmp_path)
    assert [p.path for p in problems] == [str(truncated.resolve()), str(not_dicom.resolve())]
    assert "unreadable DICOM (image_id 1459541791)" in problems[0].problem
    assert "truncated" in problems[0].problem and "pixel data" in problems[0].problem
    assert "not a DICOM file" in problems[1].problem
    assert "re-download" in problems[1].fix
    assert "force" not in " ".join(map(str, problems)).lower()  # no pydicom advice

    # Without decoding, the header and the file's size still tell the truncation.
    assert check_layout(tmp_path, decode=False) == problems


@pytest.mark.parametrize("size", [0, 700])
def test_check_without_decoding_catches_an_empty_or_cut_file(tmp_path, size):
    write_dataset(tmp_path)
    victim = image(tmp_path, 10006, 1459541791)
    write_dicom(victim, rows=64, columns=64)  # 8 KB of pixels after a header of ~300 bytes
    with victim.open("r+b") as fp:
        fp.truncate(size)

    [problem] = check_layout(tmp_path, decode=False)

    assert problem.path == str(victim.resolve())
    expected = "empty file (0 bytes)" if size == 0 else "truncated: the file is 700 bytes"
    assert expected in problem.problem
    assert problem.fix.startswith("re-download")


def test_check_limit_caps_the_files_opened_but_not_the_files_looked_for(tmp_path):
    write_dataset(tmp_path)
    image(tmp_path, 10006, 462822612).unlink()
    image(tmp_path, 10011, 270344397).write_text("not a DICOM")
    problems = check_layout(tmp_path, opening=Opening(limit=2))
    assert [Path(p.path).name for p in problems] == ["462822612.dcm"]
    problems = check_layout(tmp_path, opening=Opening(limit=3))
    assert [Path(p.path).name for p in problems] == ["462822612.dcm", "270344397.dcm"]


def _corrupt(tmp_path: Path) -> set[str]:
    """The dataset with one truncated, one empty and one non-DICOM file: their names."""
    write_dataset(tmp_path)
    truncated = image(tmp_path, 10006, 1459541791)
    truncated.write_bytes(truncated.read_bytes()[:-100])
    image(tmp_path, 10011, 220375232).write_bytes(b"")
    image(tmp_path, 10011, 270344397).write_text("this is a CSV file renamed .dcm\n")
    return {"1459541791.dcm", "220375232.dcm", "270344397.dcm"}


@pytest.mark.parametrize("decode", [True, False])
def test_two_workers_find_what_one_finds_and_report_each_as_found(
    tmp_path, decode, pool_at_any_size
):
    bad = _corrupt(tmp_path)
    alone = check_layout(tmp_path, decode=decode)
    reported: list[DataProblem] = []
    pooled = check_layout(
        tmp_path, decode=decode, opening=Opening(workers=2, on_problem=reported.append)
    )
    assert {Path(p.path).name for p in alone} == bad
    assert set(pooled) == set(alone)
    assert set(reported) == set(alone) and len(reported) == len(alone)


def test_sample_opens_that_many_files_the_same_for_a_seed(tmp_path, pool_at_any_size):
    write_dataset(tmp_path)
    for path in (tmp_path / "train_images").rglob("*.dcm"):
        path.write_bytes(b"")  # every file opened is a problem: problems count the files opened

    def opened(sample: int, seed: int, workers: int = 2) -> set[str]:
        opening = Opening(sample=sample, seed=seed, workers=workers)
        return {p.path for p in check_layout(tmp_path, decode=False, opening=opening)}

    first = opened(2, seed=0)
    assert len(first) == 2
    assert opened(2, seed=0, workers=1) == first
    assert opened(2, seed=0) == first
    assert len(opened(3, seed=5)) == 3
    assert len(opened(100, seed=0)) == 4  # never more than exist


def _test_folder(tmp_path: Path, rows: list[dict[str, object]], images: bool = True) -> Path:
    """Kaggle's unlabelled layout: test.csv and test_images/<patient>/<image>.dcm (empty files:
    read_test_csv reads the table, not the images)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(tmp_path / "test.csv", index=False)
    for row in rows if images else []:
        folder = tmp_path / "test_images" / str(row["patient_id"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{row['image_id']}.dcm").touch()
    return tmp_path


TEST_ROW = {
    "site_id": 2,
    "patient_id": 10008,
    "image_id": 736471439,
    "laterality": "L",
    "view": "MLO",
    "age": 81,
    "implant": 0,
    "machine_id": 21,
    "prediction_id": "10008_L",
}


def test_read_test_csv_gives_a_holdout_views_columns_without_density(tmp_path):
    table = read_test_csv(_test_folder(tmp_path, [TEST_ROW, {**TEST_ROW, "image_id": 1}]))

    assert list(table.columns) == [
        *(c for c in COLUMNS if c not in LABEL_COLUMNS),
        "path",
        "prediction_id",
    ]
    assert table["density"].isna().all()  # Kaggle's test.csv has none
    assert table["path"].iloc[0] == str(tmp_path / "test_images" / "10008" / "736471439.dcm")
    assert table["prediction_id"].tolist() == ["10008_L", "10008_L"]


def test_read_test_csv_names_missing_columns_and_missing_images(tmp_path):
    without_age = {k: v for k, v in TEST_ROW.items() if k != "age"}
    with pytest.raises(DataError, match=r"test\.csv.*missing column\(s\) age"):
        read_test_csv(_test_folder(tmp_path / "a", [without_age]))
    with pytest.raises(DataError, match=r"1 image file\(s\) of test\.csv are not there"):
        read_test_csv(_test_folder(tmp_path / "b", [TEST_ROW], images=False))
