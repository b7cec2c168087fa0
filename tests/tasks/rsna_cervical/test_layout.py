"""Reading the Kaggle layout and `harness data check` on good and broken downloads."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from harness.api import DataError
from harness.engine.registry import load_task
from harness.kit.file_checks import Opening
from tasks.rsna_cervical.layout import (
    COLUMNS,
    TARGETS,
    TEST_CSV,
    TEST_IMAGE_DIR,
    check_layout,
    read_test_csv,
    read_train_csv,
)
from tasks.rsna_cervical.volume import slice_files


@pytest.fixture
def copy_root(tiny_cervical_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(tiny_cervical_root, root)
    return root


def test_table_has_one_row_per_study_with_paths(tiny_cervical_root):
    table = read_train_csv(tiny_cervical_root)
    assert list(table.columns) == [*COLUMNS, "study_dir", "n_slices", "segmentation"]
    assert table["StudyInstanceUID"].is_unique and len(table) == 8
    for row in table.itertuples():
        assert Path(row.study_dir).is_absolute()
        assert row.n_slices == len(slice_files(Path(row.study_dir))) >= 24
        assert pd.isna(row.segmentation) or Path(row.segmentation).is_file()
    assert table["segmentation"].notna().sum() == 4


def test_a_complete_download_has_no_problem(tiny_cervical_root):
    assert check_layout(tiny_cervical_root) == []


def test_missing_study_folder_is_an_error_naming_it(copy_root):
    uid = read_train_csv(copy_root)["StudyInstanceUID"].iloc[0]
    shutil.rmtree(copy_root / "train_images" / uid)
    with pytest.raises(DataError, match=uid):
        read_train_csv(copy_root)
    folder, *others = check_layout(copy_root)
    assert uid in folder.path and "study folder missing" in folder.problem
    assert all("slice file that does not exist" in p.problem for p in others)  # its boxes


def test_bad_labels_are_reported_with_line_numbers(copy_root):
    frame = pd.read_csv(copy_root / "train.csv", dtype={"StudyInstanceUID": str})
    frame.loc[2, "C3"] = 2
    frame.loc[4, "patient_overall"] = 1 - frame.loc[4, "patient_overall"]
    frame.to_csv(copy_root / "train.csv", index=False)
    text = "\n".join(str(p) for p in check_layout(copy_root, decode=False))
    assert "C3 must be 0 or 1" in text and "line(s) 4" in text
    assert "patient_overall must be 1 exactly when" in text and "line(s) 6" in text
    with pytest.raises(DataError, match="C3 must be 0 or 1"):
        read_train_csv(copy_root)


def test_unreadable_slice_and_mismatched_segmentation_are_named(copy_root):
    table = read_train_csv(copy_root)
    study = table.loc[table["segmentation"].notna()].iloc[0]
    broken = slice_files(Path(study.study_dir))[1]
    broken.write_bytes(broken.read_bytes()[:300])
    other = table.loc[table["segmentation"].notna()].iloc[1]
    seg = nib.load(other.segmentation)
    short = seg.get_fdata()[:, :, :-2].astype(np.uint8)  # a copy: the file will be replaced
    nib.save(nib.Nifti1Image(short, seg.affine), other.segmentation)
    problems = check_layout(copy_root)
    paths = [p.path for p in problems]
    assert str(broken) in paths
    mismatch = next(p for p in problems if p.path == other.segmentation)
    assert "does not match its DICOM stack" in mismatch.problem
    assert (
        len(check_layout(copy_root, opening=Opening(limit=0))) == 0
    )  # nothing opened, every folder present


def test_bounding_boxes_naming_unknown_studies_or_slices(copy_root):
    boxes = pd.read_csv(copy_root / "train_bounding_boxes.csv", dtype={"StudyInstanceUID": str})
    assert len(boxes) > 0
    boxes.loc[0, "StudyInstanceUID"] = "1.2.3"
    boxes.loc[1, "slice_number"] = 999
    boxes.to_csv(copy_root / "train_bounding_boxes.csv", index=False)
    text = "\n".join(p.problem for p in check_layout(copy_root, decode=False))
    assert "studies that train.csv does not have, on line(s) 2" in text
    assert "slice file that does not exist, on line(s) 3" in text


def _kaggle_test_folder(labelled: Path, out: Path) -> pd.DataFrame:
    """Kaggle's unlabelled layout (test.csv, eight rows a study, and test_images/<UID>/) of
    ``labelled``'s holdout studies; returns the holdout's public view, which it must read as."""
    task = load_task("rsna-cervical")
    _, holdout = task.split(task.load(labelled))
    uids = holdout["StudyInstanceUID"].tolist()
    rows = [(f"{uid}_{target}", uid, target) for uid in uids for target in TARGETS]
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["row_id", "StudyInstanceUID", "prediction_type"]).to_csv(
        out / TEST_CSV, index=False
    )
    (out / TEST_IMAGE_DIR).mkdir()
    for uid in uids:
        (out / TEST_IMAGE_DIR / uid).symlink_to(labelled / "train_images" / uid)
    view = task.public_view(holdout)
    return view.assign(study_dir=[str(out / TEST_IMAGE_DIR / uid) for uid in uids])


def test_kaggles_test_folder_reads_as_the_holdouts_public_view(
    tiny_cervical_root: Path, tmp_path: Path
) -> None:
    expected = _kaggle_test_folder(tiny_cervical_root, tmp_path)

    found = load_task("rsna-cervical").load_unlabelled(tmp_path)

    pd.testing.assert_frame_equal(found, expected, check_dtype=False)


def test_a_study_missing_from_the_test_folder_is_named_with_the_fix(
    tiny_cervical_root: Path, tmp_path: Path
) -> None:
    expected = _kaggle_test_folder(tiny_cervical_root, tmp_path)
    Path(expected["study_dir"].iloc[0]).unlink()
    missing = r"1 study folder\(s\) of .*test\.csv are missing .*re-download test_images/"
    with pytest.raises(DataError, match=missing):
        read_test_csv(tmp_path)
