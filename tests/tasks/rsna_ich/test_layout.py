"""Reading the Kaggle layout: label csv (duplicates), DICOM headers, slice order; data check."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pydicom
import pytest

from harness.api import DataError, DataProblem
from harness.engine.registry import load_task
from harness.kit.file_checks import Opening
from tasks.rsna_ich.layout import (
    HEADER_INDEX,
    IMAGE_DIR,
    SUBTYPES,
    TEST_IMAGE_DIR,
    add_slice_index,
    check_layout,
    read_labels,
    read_test_images,
    read_train_table,
)

from .conftest import label_rows, write_slice


def _write_csv(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def test_labels_become_one_row_per_image(tmp_path: Path) -> None:
    csv = _write_csv(
        tmp_path / "l.csv", label_rows({"ID_b1": {"any": 1, "subdural": 1}, "ID_a1": {}})
    )
    labels = read_labels(csv)
    assert labels.columns.tolist() == ["image_id", *SUBTYPES]
    assert labels["image_id"].tolist() == ["ID_a1", "ID_b1"]
    assert labels.loc[1, ["subdural", "any", "epidural"]].tolist() == [1, 1, 0]


def test_identical_duplicate_rows_are_dropped(tmp_path: Path) -> None:
    rows = label_rows({"ID_a1": {"any": 1, "epidural": 1}, "ID_b1": {}})
    doubled = pd.concat([rows, rows.iloc[[0, 5, 7]]], ignore_index=True)
    labels = read_labels(_write_csv(tmp_path / "l.csv", doubled))
    assert len(labels) == 2
    assert labels.set_index("image_id").loc["ID_a1", "any"] == 1


def test_conflicting_duplicates_are_an_error_naming_the_id(tmp_path: Path) -> None:
    rows = label_rows({"ID_a1": {"any": 1, "epidural": 1}, "ID_b1": {}})
    conflict = pd.DataFrame({"ID": ["ID_b1_any"], "Label": [1]})
    csv = _write_csv(tmp_path / "l.csv", pd.concat([rows, conflict], ignore_index=True))
    with pytest.raises(DataError, match="ID_b1_any") as err:
        read_labels(csv)
    assert "conflicting" in str(err.value) and "line 13" in str(err.value)


def test_image_without_all_six_rows_is_an_error(tmp_path: Path) -> None:
    rows = label_rows({"ID_a1": {}, "ID_b1": {}})
    csv = _write_csv(tmp_path / "l.csv", rows.drop(index=[8, 9]))
    with pytest.raises(DataError, match="ID_b1 lacks intraventricular, subarachnoid"):
        read_labels(csv)


def test_bad_ids_and_labels_are_named_with_their_lines(tmp_path: Path) -> None:
    rows = label_rows({"ID_a1": {}})
    rows.loc[2, "ID"] = "ID_a1_bleed"
    rows.loc[4, "Label"] = 3
    with pytest.raises(DataError) as err:
        read_labels(_write_csv(tmp_path / "l.csv", rows))
    message = str(err.value)
    assert "'ID_a1_bleed' on line(s) 4" in message
    assert "Label must be 0 or 1" in message and "line(s) 6" in message


def test_table_joins_labels_and_headers_in_slice_order(small_dataset: Path) -> None:
    table = read_train_table(small_dataset)
    assert table.columns.tolist() == [
        "image_id",
        "path",
        "PatientID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "InstanceNumber",
        "position",
        "slice_index",
        "n_slices",
        *SUBTYPES,
    ]
    # sorted by patient, study, position: not by file name (ID_c0 is the top slice)
    assert table["image_id"].tolist() == ["ID_a0", "ID_b0", "ID_c0", "ID_d0", "ID_f0", "ID_e0"]
    assert table["slice_index"].tolist() == [0, 1, 2, 0, 0, 1]
    assert table["n_slices"].tolist() == [3, 3, 3, 1, 2, 2]
    assert table["position"].tolist() == [0.0, 5.0, 10.0, -5.0, 15.0, 20.0]
    assert table["subdural"].tolist() == [0, 1, 1, 0, 0, 0]
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in table["path"])


def test_position_follows_the_slice_normal_of_a_tilted_gantry(tmp_path: Path) -> None:
    # tilted 30 degrees: column cosines (0, cos, -sin), normal (0, sin, cos); the z order of the
    # origins is the reverse of their order along the normal
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    orientation = (1, 0, 0, 0, c, -s)
    root = tmp_path / "ich"
    for image_id, (y, z) in {"ID_a": (10.0, 0.0), "ID_b": (0.0, 2.0)}.items():
        path = write_slice(root, image_id, z=z, orientation=orientation)
        ds = pydicom.dcmread(path)
        ds.ImagePositionPatient = [-100.0, y, z]
        ds.save_as(path)
    _write_csv(root / "stage_2_train.csv", label_rows({"ID_a": {}, "ID_b": {}}))
    table = read_train_table(root)
    assert table["image_id"].tolist() == ["ID_b", "ID_a"]
    assert table["position"].tolist() == pytest.approx([2 * c, 10 * s])


def test_equal_positions_fall_back_to_instance_number() -> None:
    table = pd.DataFrame(
        {
            "image_id": ["ID_x", "ID_y", "ID_z"],
            "PatientID": ["p"] * 3,
            "StudyInstanceUID": ["s"] * 3,
            "SeriesInstanceUID": ["r"] * 3,
            "position": [1.0, 1.0, 0.0],
            "InstanceNumber": [9, 4, 7],
        }
    )
    assert add_slice_index(table)["image_id"].tolist() == ["ID_z", "ID_y", "ID_x"]


def test_a_second_load_reuses_the_index_and_sees_every_change(small_dataset: Path) -> None:
    first = read_train_table(small_dataset)
    again = read_train_table(small_dataset)
    pd.testing.assert_frame_equal(first, again)
    assert (first["InstanceNumber"].dtype, first["position"].dtype) == ("int64", "float64")
    assert first["StudyInstanceUID"].dtype == first["image_id"].dtype == "str"

    changed = first.iloc[0]
    ds = pydicom.dcmread(changed["path"])
    ds.InstanceNumber = 999
    ds.save_as(changed["path"])
    rows = pd.read_csv(small_dataset / "stage_2_train.csv")
    rows.loc[rows["ID"] == f"{changed['image_id']}_epidural", "Label"] = 1
    rows.loc[rows["ID"] == f"{changed['image_id']}_any", "Label"] = 1
    _write_csv(small_dataset / "stage_2_train.csv", rows)

    after = read_train_table(small_dataset).set_index("image_id").loc[changed["image_id"]]
    assert after["InstanceNumber"] == 999
    assert (after["epidural"], after["any"]) == (1, 1)


def test_missing_and_unreadable_files_fail_loading_by_name(small_dataset: Path) -> None:
    (small_dataset / "stage_2_train" / "ID_b0.dcm").unlink()
    (small_dataset / "stage_2_train" / "ID_e0.dcm").write_bytes(b"not dicom")
    with pytest.raises(DataError) as err:
        read_train_table(small_dataset)
    assert "2 DICOM file(s)" in str(err.value)
    assert "ID_b0.dcm: no such file" in str(err.value)
    assert "ID_e0.dcm: not a DICOM" in str(err.value)


def test_check_accepts_a_good_dataset_and_lists_every_problem(small_dataset: Path) -> None:
    assert check_layout(small_dataset) == []

    (small_dataset / "stage_2_train" / "ID_b0.dcm").unlink()
    truncated = small_dataset / "stage_2_train" / "ID_c0.dcm"
    truncated.write_bytes(truncated.read_bytes()[:-30])
    write_slice(small_dataset, "ID_e0", patient="")  # header without PatientID
    problems = check_layout(small_dataset)
    by_file = {Path(p.path).name: p.problem for p in problems}
    assert set(by_file) == {"ID_b0.dcm", "ID_c0.dcm", "ID_e0.dcm"}
    assert "missing" in by_file["ID_b0.dcm"]
    assert "truncated" in by_file["ID_c0.dcm"]
    assert "lacks PatientID" in by_file["ID_e0.dcm"]
    # without decoding, the header and the file's size still tell the truncation
    assert check_layout(small_dataset, decode=False) == problems


def test_check_reports_csv_problems_and_inconsistent_any(small_dataset: Path) -> None:
    csv = small_dataset / "stage_2_train.csv"
    rows = pd.read_csv(csv)
    rows.loc[rows["ID"] == "ID_a0_any", "Label"] = 1  # any without a subtype
    rows.to_csv(csv, index=False)
    (problem,) = check_layout(small_dataset)
    assert "ID_a0" in problem.problem and "union" in problem.problem

    conflict = pd.DataFrame({"ID": ["ID_f0_epidural"], "Label": [1]})
    pd.concat([rows, conflict]).to_csv(csv, index=False)
    (small_dataset / "stage_2_train" / "ID_e0.dcm").unlink()
    conflicting, missing = check_layout(small_dataset)
    assert conflicting.problem.startswith("1 ID(s) have conflicting labels")
    assert "ID_f0_epidural (line 32: 0, line 38: 1)" in conflicting.problem
    assert Path(missing.path).name == "ID_e0.dcm"  # files are still checked

    rows.rename(columns={"Label": "label"}).to_csv(csv, index=False)
    (problem,) = check_layout(small_dataset)
    assert "missing column(s) Label" in problem.problem


def test_check_of_a_missing_root(tmp_path: Path) -> None:
    (problem,) = check_layout(tmp_path / "nowhere")
    assert "not a folder" in problem.problem


def test_two_workers_find_what_one_finds(small_dataset: Path, pool_at_any_size: None) -> None:
    images = small_dataset / "stage_2_train"
    truncated = images / "ID_c0.dcm"
    truncated.write_bytes(truncated.read_bytes()[:-30])
    (images / "ID_a0.dcm").write_bytes(b"")
    (images / "ID_f0.dcm").write_text("not a DICOM file\n")
    alone = check_layout(small_dataset)
    reported: list[DataProblem] = []
    pooled = check_layout(small_dataset, opening=Opening(workers=2, on_problem=reported.append))
    assert {Path(p.path).name for p in alone} == {"ID_c0.dcm", "ID_a0.dcm", "ID_f0.dcm"}
    assert set(pooled) == set(alone)
    assert set(reported) == set(alone)


def _slice_order_by_pandas(table: pd.DataFrame) -> pd.DataFrame:
    """What add_slice_index returned before it sorted integer codes: the reference."""
    keys = ["PatientID", "StudyInstanceUID", "SeriesInstanceUID", "position", "InstanceNumber"]
    ordered = table.sort_values([*keys, "image_id"], kind="stable", ignore_index=True)
    series = ordered.groupby("SeriesInstanceUID", sort=False)
    ordered["slice_index"] = series.cumcount().astype("int64")
    ordered["n_slices"] = series["image_id"].transform("size").astype("int64")
    return ordered


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_slice_order_is_pandas_sort_with_ties_and_nan(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    series = rng.integers(0, 12, n)
    table = pd.DataFrame(
        {
            "image_id": [f"ID_{i:x}" for i in rng.permutation(n)],
            "PatientID": [f"P{s % 4}" for s in series],
            "StudyInstanceUID": [f"1.2.{s % 6}" for s in series],
            "SeriesInstanceUID": [f"1.3.{s}" for s in series],
            "position": np.where(rng.random(n) < 0.05, np.nan, rng.integers(-3, 3, n) * 2.5),
            "InstanceNumber": rng.integers(-1, 3, n),
        }
    )
    pd.testing.assert_frame_equal(add_slice_index(table), _slice_order_by_pandas(table))


def test_kaggles_stage_2_test_reads_as_the_holdouts_public_view(
    synthesized: Callable[[str, dict[str, Any]], Path], tmp_path: Path
) -> None:
    task = load_task("rsna-ich")
    root = tmp_path / "data"  # stage_2_test/ beside stage_2_train/, as Kaggle's download has it
    shutil.copytree(synthesized("rsna-ich", task.contract_synth), root)
    _, holdout = task.split(task.load(root))
    (root / TEST_IMAGE_DIR).mkdir()
    for image_id, path in zip(holdout["image_id"], holdout["path"], strict=True):
        (root / TEST_IMAGE_DIR / f"{image_id}.dcm").symlink_to(path)
    view = task.public_view(holdout)
    expected = view.assign(path=[f"{root}/{TEST_IMAGE_DIR}/{i}.dcm" for i in view["image_id"]])

    found = task.load_unlabelled(root)

    # Same rows in the same slice order (a sequence model reads a series' slices in a row).
    pd.testing.assert_frame_equal(found, expected, check_dtype=False)
    # Its headers are indexed apart: the training slices' index is still whole.
    again = HEADER_INDEX.rows(root, [f"{IMAGE_DIR}/{i}.dcm" for i in holdout["image_id"]])
    assert again.reread == 0


def test_a_broken_stage_2_test_is_named_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / TEST_IMAGE_DIR).mkdir()
    with pytest.raises(DataError, match=r"holds no \.dcm file"):
        read_test_images(tmp_path)
    (tmp_path / TEST_IMAGE_DIR / "ID_broken.dcm").write_bytes(b"not a dicom")
    with pytest.raises(DataError, match=r"1 DICOM file\(s\) cannot be used:\n  .*ID_broken\.dcm"):
        read_test_images(tmp_path)
