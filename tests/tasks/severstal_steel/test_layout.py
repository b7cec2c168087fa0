"""Reading train.csv and train_images/ (and the unlabelled test_images/), and `data check` on real
JPEG files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from harness.api import DataError
from harness.engine.registry import load_task
from harness.kit.file_checks import Opening
from tasks.severstal_steel.layout import (
    IMAGE_DIR,
    MASK_COLUMNS,
    TABLE_COLUMNS,
    TEST_IMAGE_DIR,
    TRAIN_CSV,
    check_layout,
    read_grey,
    read_test_images,
    read_train_table,
)


def _write_jpeg(path: Path, pixels: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".jpg", pixels)
    assert ok
    path.write_bytes(encoded.tobytes())


def _append_rows(root: Path, *lines: str) -> int:
    """Append CSV lines; the line number (header = 1) of the first one."""
    text = (root / TRAIN_CSV).read_text()
    (root / TRAIN_CSV).write_text(text + "".join(f"{line}\n" for line in lines))
    return len(text.splitlines()) + 1


def test_the_csv_is_written_like_kaggles(synthetic_root: Path) -> None:
    lines = (synthetic_root / TRAIN_CSV).read_text().splitlines()
    assert lines[0] == "ImageId,ClassId,EncodedPixels"
    image_id, class_id, rle = lines[1].split(",")
    assert image_id.endswith(".jpg") and class_id in "1234" and rle.split()[0].isdigit()


def test_table_has_every_image_with_its_four_masks(synthetic_root: Path) -> None:
    table = read_train_table(synthetic_root)
    csv = pd.read_csv(synthetic_root / TRAIN_CSV)
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert len(table) == 40 and table["ImageId"].is_monotonic_increasing
    assert (table["height"] == 32).all() and (table["width"] == 200).all()
    # Images without a row are in the table, defect-free.
    free = table.loc[~table["ImageId"].isin(csv["ImageId"])]
    assert len(free) == 16 and (free["classes"] == "").all()
    assert (free[list(MASK_COLUMNS)] == "").all().all()
    for image_id, class_id, rle in csv.itertuples(index=False):
        row = table.set_index("ImageId").loc[image_id]
        assert row[f"EncodedPixels_{class_id}"] == rle
        assert str(class_id) in row["classes"].split()


def test_train_csv_rle_is_one_based_and_column_major(dataset_copy: Callable[[], Path]) -> None:
    """A known encoding read through the task: '2 3 9 1' on a 4x3 image is pixels 2-4 and 9
    counted from 1 down the columns: rows 1-3 of column 0 and row 0 of column 2."""
    root = dataset_copy()
    for path in (root / IMAGE_DIR).iterdir():
        path.unlink()
    _write_jpeg(root / IMAGE_DIR / "abc.jpg", np.zeros((4, 3, 3), dtype=np.uint8))
    (root / TRAIN_CSV).write_text("ImageId,ClassId,EncodedPixels\nabc.jpg,2,2 3 9 1\n")
    row = read_train_table(root).iloc[0]
    from harness.kit.segmentation.rle import decode_absolute

    expected = np.zeros((4, 3), dtype=np.uint8)
    expected[1:4, 0] = 1
    expected[0, 2] = 1
    np.testing.assert_array_equal(decode_absolute(row["EncodedPixels_2"], (4, 3)), expected)
    assert row["classes"] == "2" and row["EncodedPixels_1"] == ""


def test_images_are_read_grey(synthetic_root: Path) -> None:
    path = next((synthetic_root / IMAGE_DIR).iterdir())
    grey = read_grey(path)
    assert grey.shape == (32, 200) and grey.dtype == np.uint8
    assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).shape == (32, 200, 3)


def test_clean_dataset_has_no_problems(synthetic_root: Path) -> None:
    assert check_layout(synthetic_root) == []


def test_check_names_each_problem(dataset_copy: Callable[[], Path]) -> None:
    root = dataset_copy()
    images = sorted((root / IMAGE_DIR).iterdir())
    truncated, wrong_size, grey, garbage = images[:4]
    truncated.write_bytes(truncated.read_bytes()[:300])  # cut inside the header
    _write_jpeg(wrong_size, np.zeros((32, 100, 3), dtype=np.uint8))
    _write_jpeg(grey, np.zeros((32, 200), dtype=np.uint8))
    garbage.write_bytes(b"not a jpeg")
    some = images[5].name
    first = _append_rows(
        root,
        f"{some},5,1 3",
        f"{some},1,1 2 3",
        f"{some},2,7000 10",
        f"{some},3,",
        "missing.jpg,1,1 1",
        f"{some},4,1 1",
        f"{some},4,5 1",
    )
    text = "\n".join(map(str, check_layout(root)))
    assert f"{truncated}: unreadable JPEG (OSError: Truncated" in text
    assert f"{garbage}: unreadable JPEG" in text
    assert f"{wrong_size}: image is 32x100, the others are 32x200" in text
    assert f"{grey}: image has 1 channel(s)" in text
    assert f"line {first} (ImageId {some}): ClassId must be 1, 2, 3 or 4, got '5'" in text
    assert f"line {first + 1} (ImageId {some}, ClassId 1): malformed EncodedPixels" in text
    assert "odd number of values" in text
    assert f"line {first + 2} (ImageId {some}, ClassId 2): malformed" in text
    assert "runs past the end of the 32x200 image" in text
    assert f"line {first + 3} (ImageId {some}): no EncodedPixels" in text
    assert f"no file missing.jpg for ImageId missing.jpg (line {first + 4}" in text
    assert f"ImageId {some}, ClassId 4 appears on several lines ({first + 5}, {first + 6})" in text
    with pytest.raises(DataError, match="does not match the Kaggle layout"):
        read_train_table(root)


def test_limit_and_decode_cap_the_work(dataset_copy: Callable[[], Path]) -> None:
    root = dataset_copy()
    last = sorted((root / IMAGE_DIR).iterdir())[-1]
    data = last.read_bytes()
    last.write_bytes(data[: len(data) * 3 // 4])  # header intact, pixel data cut
    assert any("truncated" in p.problem.lower() for p in check_layout(root))
    assert check_layout(root, decode=False) == []
    assert check_layout(root, opening=Opening(limit=5)) == []


def test_missing_folders_and_old_header(tmp_path: Path) -> None:
    problems = check_layout(tmp_path)
    assert {p.problem for p in problems} >= {"image folder not found"}
    assert any(TRAIN_CSV in p.path for p in problems)
    (tmp_path / IMAGE_DIR).mkdir()
    (tmp_path / TRAIN_CSV).write_text("ImageId_ClassId,EncodedPixels\na.jpg_1,1 1\n")
    with pytest.raises(DataError, match=r"lacks column\(s\) ImageId, ClassId"):
        read_train_table(tmp_path)


def test_two_workers_find_what_one_finds(
    dataset_copy: Callable[[], Path], pool_at_any_size: None
) -> None:
    root = dataset_copy()
    first, second, third = sorted((root / IMAGE_DIR).iterdir())[:3]
    data = first.read_bytes()
    first.write_bytes(data[: len(data) * 3 // 4])  # header intact, pixel data cut
    second.write_bytes(b"")
    third.write_text("not a JPEG\n")
    alone = check_layout(root)
    pooled = check_layout(root, opening=Opening(workers=2))
    assert {Path(p.path).name for p in alone} >= {first.name, second.name, third.name}
    assert set(pooled) == set(alone)


def _kaggle_test_folder(labelled: Path, out: Path) -> pd.DataFrame:
    """Kaggle's unlabelled layout (test_images/ only) of ``labelled``'s holdout images; returns
    the holdout's public view, which the folder must read back as."""
    task = load_task("severstal-steel")
    _, holdout = task.split(task.load(labelled))
    (out / TEST_IMAGE_DIR).mkdir(parents=True)
    for image_id in holdout["ImageId"]:
        (out / TEST_IMAGE_DIR / image_id).symlink_to(labelled / IMAGE_DIR / image_id)
    view = task.public_view(holdout)
    return view.assign(path=[str(out / TEST_IMAGE_DIR / i) for i in view["ImageId"]])


def test_kaggles_test_images_read_as_the_holdouts_public_view(
    synthetic_root: Path, tmp_path: Path
) -> None:
    expected = _kaggle_test_folder(synthetic_root, tmp_path)

    found = load_task("severstal-steel").load_unlabelled(tmp_path)

    pd.testing.assert_frame_equal(
        found, expected.sort_values("ImageId").reset_index(drop=True), check_dtype=False
    )


def test_a_broken_test_folder_is_named_with_the_fix(synthetic_root: Path, tmp_path: Path) -> None:
    expected = _kaggle_test_folder(synthetic_root, tmp_path)
    broken = tmp_path / TEST_IMAGE_DIR / expected["ImageId"].iloc[1]
    broken.unlink()
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"1 unreadable JPEG\(s\), e\.g\. .*: unreadable JPEG"):
        read_test_images(tmp_path)
