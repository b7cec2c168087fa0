"""Reading the Kaggle layout (and its unlabelled test folder) and `data check` on real
pydicom-written files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest

from harness.api import DataError
from harness.engine.registry import load_task
from harness.kit.file_checks import Opening
from harness.kit.segmentation.rle import decode_relative, encode_relative
from tasks.siim_pneumothorax.layout import (
    HEADER_INDEX,
    IMAGE_DIR,
    TABLE_COLUMNS,
    TEST_HEADER_INDEX,
    TEST_IMAGE_DIR,
    TRAIN_CSV,
    check_layout,
    read_test_images,
    read_train_table,
    union_masks,
)


def _csv_lines(root: Path) -> list[str]:
    return (root / TRAIN_CSV).read_text().splitlines()


def _write_lines(root: Path, lines: list[str]) -> None:
    (root / TRAIN_CSV).write_text("\n".join(lines) + "\n")


def test_the_csv_is_written_like_kaggles(synthetic_root: Path) -> None:
    lines = _csv_lines(synthetic_root)
    assert lines[0] == "ImageId, EncodedPixels"
    assert all(", " in line for line in lines[1:])
    assert any(line.endswith(", -1") for line in lines)


def test_table_has_one_row_per_image_with_header_facts(synthetic_root: Path) -> None:
    table = read_train_table(synthetic_root)
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert len(table) == 30 and table["ImageId"].is_unique
    assert (table["height"] == 64).all() and (table["width"] == 48).all()
    assert table["PatientID"].nunique() < 30  # some patients have several images
    assert table["has_pneumothorax"].sum() == 12  # 0.4 * 30
    for path, image_id in zip(table["path"], table["ImageId"], strict=True):
        assert Path(path).is_file() and Path(path).stem == image_id
        assert Path(path).parents[2].name == IMAGE_DIR  # <study>/<series>/<image>.dcm


def test_a_second_load_reuses_the_header_index_and_sees_a_changed_file(
    synthetic_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "data"
    shutil.copytree(synthetic_root, root)
    first = read_train_table(root)
    pd.testing.assert_frame_equal(read_train_table(root), first)

    changed = first.iloc[0]
    dataset = pydicom.dcmread(changed["path"])
    dataset.PatientID = "moved-patient"
    dataset.save_as(changed["path"])

    after = read_train_table(root).set_index("ImageId")
    assert after.loc[changed["ImageId"], "PatientID"] == "moved-patient"
    assert (after["PatientID"] == first.set_index("ImageId")["PatientID"]).sum() == len(first) - 1


def test_several_rows_of_an_image_are_unioned(synthetic_root: Path) -> None:
    raw = pd.read_csv(synthetic_root / TRAIN_CSV, skipinitialspace=True, dtype=str)
    repeated = raw["ImageId"].value_counts()
    image_id = repeated.index[repeated > 1][0]
    table = read_train_table(synthetic_root).set_index("ImageId")
    rows = raw.loc[raw["ImageId"] == image_id, "EncodedPixels"]
    expected = np.zeros((64, 48), dtype=np.uint8)
    for rle in rows:
        expected |= decode_relative(rle, (64, 48))
    np.testing.assert_array_equal(
        decode_relative(table.loc[image_id, "EncodedPixels"], (64, 48)), expected
    )


def test_union_of_overlapping_rows() -> None:
    a = np.zeros((4, 4), dtype=np.uint8)
    b = a.copy()
    a[0:2, 0] = 1
    b[1:3, 0] = 1
    union = union_masks([encode_relative(a), encode_relative(b)], (4, 4))
    assert union == "0 3"
    assert union_masks(["-1"], (4, 4)) == "-1"


def test_clean_dataset_has_no_problems(synthetic_root: Path) -> None:
    assert check_layout(synthetic_root) == []


def test_check_names_each_problem(dataset_copy: Callable[[], Path]) -> None:
    root = dataset_copy()
    lines = _csv_lines(root)
    table = read_train_table(root)
    missing_id, unreadable_id, unlisted_id = table["ImageId"].iloc[:3]
    paths = dict(zip(table["ImageId"], table["path"], strict=True))
    Path(paths[missing_id]).unlink()
    Path(paths[unreadable_id]).write_bytes(b"not a dicom")
    kept = [line for line in lines if not line.startswith(unlisted_id)]
    kept.append("1.2.3.4, 1 2 3")  # odd number of values, for an image without a file
    kept.append(f"{missing_id}, 5 -3")
    _write_lines(root, kept)

    problems = [str(p) for p in check_layout(root)]
    text = "\n".join(problems)
    assert f"no file {missing_id}.dcm" in text
    assert f"{unreadable_id}.dcm: unreadable DICOM" in text
    assert f"{unlisted_id}.dcm: image without a row in {TRAIN_CSV}" in text
    assert f"line {len(kept) - 1} (ImageId 1.2.3.4): malformed EncodedPixels: " in text
    assert "odd number of values" in text
    assert f"line {len(kept)} (ImageId {missing_id}): malformed" in text
    with pytest.raises(DataError, match="does not match the Kaggle layout"):
        read_train_table(root)


def test_rle_past_the_image_is_checked_against_the_header_size(
    dataset_copy: Callable[[], Path],
) -> None:
    root = dataset_copy()
    lines = _csv_lines(root)
    image_id = lines[1].split(",")[0]
    lines[1] = f"{image_id}, 3000 200"  # inside 1024x1024, past 64x48
    _write_lines(root, lines)
    (problem,) = check_layout(root)
    assert "line 2" in problem.problem and "runs past the end of the 64x48 image" in problem.problem


def test_empty_and_regions_on_one_image_is_a_problem(dataset_copy: Callable[[], Path]) -> None:
    root = dataset_copy()
    lines = _csv_lines(root)
    positive = next(line for line in lines[1:] if not line.endswith("-1"))
    lines.append(positive.split(",")[0] + ", -1")
    _write_lines(root, lines)
    (problem,) = check_layout(root, decode=False)
    assert "both empty (-1) and has regions" in problem.problem


def test_missing_folders_and_bad_header(tmp_path: Path) -> None:
    problems = check_layout(tmp_path)
    assert {p.problem for p in problems} >= {"image folder not found"}
    assert any(TRAIN_CSV in p.path for p in problems)
    (tmp_path / IMAGE_DIR).mkdir()
    (tmp_path / TRAIN_CSV).write_text("ImageId,Mask\n1,-1\n")
    with pytest.raises(DataError, match="lacks column"):
        read_train_table(tmp_path)


def test_limit_caps_the_files_opened(dataset_copy: Callable[[], Path]) -> None:
    root = dataset_copy()
    last = sorted((root / IMAGE_DIR).rglob("*.dcm"))
    broken = max(last, key=lambda p: p.stem)  # opened last, in ImageId order
    broken.write_bytes(b"garbage")
    assert any("unreadable" in p.problem for p in check_layout(root, decode=False))
    assert not any("unreadable" in p.problem for p in check_layout(root, opening=Opening(limit=5)))


def _kaggle_test_folder(labelled: Path, out: Path) -> pd.DataFrame:
    """Kaggle's unlabelled tree (dicom-images-test/<study>/<series>/<id>.dcm) of ``labelled``'s
    holdout images; returns the holdout's public view, which the folder must read back as."""
    task = load_task("siim-pneumothorax")
    _, holdout = task.split(task.load(labelled))
    view = task.public_view(holdout)
    paths = []
    for source in view["path"]:
        target = out / TEST_IMAGE_DIR / Path(source).relative_to(labelled / IMAGE_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        paths.append(str(target))
    return view.assign(path=paths).sort_values("ImageId").reset_index(drop=True)


def test_kaggles_test_images_read_as_the_holdouts_public_view(
    synthetic_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "data"
    shutil.copytree(synthetic_root, root)
    expected = _kaggle_test_folder(root, root)

    def relative(paths: pd.Series) -> list[str]:
        return [str(Path(p).relative_to(root)) for p in paths]

    train_paths = relative(read_train_table(root)["path"])

    found = load_task("siim-pneumothorax").load_unlabelled(root)

    pd.testing.assert_frame_equal(found, expected, check_dtype=False)
    # The test folder's headers are indexed apart: the training images' index is still whole.
    assert HEADER_INDEX.rows(root, train_paths).reread == 0
    assert TEST_HEADER_INDEX.rows(root, relative(expected["path"])).reread == 0


def test_a_broken_test_folder_is_named_with_the_fix(synthetic_root: Path, tmp_path: Path) -> None:
    expected = _kaggle_test_folder(synthetic_root, tmp_path)
    Path(expected["path"].iloc[2]).write_bytes(b"not a dicom")
    with pytest.raises(DataError, match=rf"{TEST_IMAGE_DIR}: 1 problem\(s\), e\.g\. .*\.dcm: "):
        read_test_images(tmp_path)
