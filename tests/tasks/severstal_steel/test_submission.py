"""The submission validator names the rows it rejects; answers from both file kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.api import DataError, InvalidSubmission
from harness.kit.segmentation.rle import decode_absolute, encode_absolute
from tasks.severstal_steel.layout import TRAIN_CSV, read_train_table
from tasks.severstal_steel.submission import answers_from_table, read_answers, validate_submission

IDS = ("a.jpg_1", "a.jpg_2", "a.jpg_3", "a.jpg_4")
ANSWERS = pd.DataFrame(
    {"ImageId_ClassId": list(IDS), "EncodedPixels": ["", "2 3", "", ""], "height": 4, "width": 3}
)


def _submission(*masks: object, ids: tuple[str, ...] = IDS) -> pd.DataFrame:
    return pd.DataFrame({"ImageId_ClassId": list(ids), "EncodedPixels": list(masks)})


def test_answers_have_four_rows_per_image_in_order() -> None:
    table = pd.DataFrame(
        {
            "ImageId": ["b.jpg", "a.jpg"],
            "height": [4, 4],
            "width": [3, 3],
            "EncodedPixels_1": ["", "1 1"],
            "EncodedPixels_2": ["", ""],
            "EncodedPixels_3": ["2 2", ""],
            "EncodedPixels_4": ["", ""],
        }
    )
    answers = answers_from_table(table)
    assert answers["ImageId_ClassId"].tolist() == [
        *(f"a.jpg_{k}" for k in range(1, 5)),
        *(f"b.jpg_{k}" for k in range(1, 5)),
    ]
    assert answers["EncodedPixels"].tolist() == ["1 1", "", "", "", "", "", "2 2", ""]


def test_valid_submission_is_aligned_and_keeps_the_masks() -> None:
    mask = np.zeros((4, 3), dtype=np.uint8)
    mask[1:3, 1] = 1
    rle = encode_absolute(mask)
    assert rle == "6 2"  # 1-based, down the columns: pixels 6 and 7
    submission = _submission("", "", rle, "", ids=(IDS[1], IDS[0], IDS[2], IDS[3]))
    aligned = validate_submission(submission, ANSWERS)
    assert aligned["ImageId_ClassId"].tolist() == list(IDS)
    np.testing.assert_array_equal(decode_absolute(aligned["EncodedPixels"].iloc[2], (4, 3)), mask)


def test_empty_cells_read_back_from_csv_are_empty_masks(tmp_path: Path) -> None:
    path = tmp_path / "sub.csv"
    _submission("", "", "", "").to_csv(path, index=False)
    submission = pd.read_csv(path)
    assert submission["EncodedPixels"].isna().all()
    assert validate_submission(submission, ANSWERS)["EncodedPixels"].tolist() == [""] * 4


@pytest.mark.parametrize(
    ("masks", "expected"),
    [
        (("", "1 2 3", "", ""), "row 2 (a.jpg_2): RLE has an odd number of values"),
        (("", "", "0 2", ""), "row 3 (a.jpg_3): run 1 starts at 0: starts are 1-based"),
        (("", "", "", "10 5"), "row 4 (a.jpg_4): run 1 (pixels 10..14, 1-based) runs past"),
        (("5 2 3 1", "", "", ""), "row 1 (a.jpg_1): run 2 (start 3) is before the previous run"),
        (("", "2 0", "", ""), "row 2 (a.jpg_2): run 1 has length 0"),
        (("x 1", "", "", ""), "row 1 (a.jpg_1): RLE holds 'x', which is not an integer"),
    ],
)
def test_malformed_rle_is_rejected_with_its_row(masks: tuple[object, ...], expected: str) -> None:
    with pytest.raises(InvalidSubmission) as err:
        validate_submission(_submission(*masks), ANSWERS)
    assert expected in str(err.value)


def test_id_problems_are_all_listed() -> None:
    ids = ("a.jpg_1", "a.jpg_1", "a.jpg_2", "a.jpg_3", "a.jpg_5", "")
    with pytest.raises(InvalidSubmission) as err:
        validate_submission(_submission(*[""] * 6, ids=ids), ANSWERS)
    message = str(err.value)
    assert "1 row(s) have no ImageId_ClassId: rows 6" in message
    assert (
        "repeat the ImageId_ClassId of an earlier row: row 2 (ImageId_ClassId a.jpg_1)" in message
    )
    assert "missing from the submission, e.g. a.jpg_4" in message
    assert "not in the answers: row 5 (ImageId_ClassId a.jpg_5)" in message


def test_missing_column() -> None:
    with pytest.raises(InvalidSubmission, match=r"lacks column\(s\) ImageId_ClassId"):
        validate_submission(pd.DataFrame({"ImageId": ["a.jpg"], "EncodedPixels": [""]}), ANSWERS)


def test_answers_from_a_solution_file_default_to_256x1600(tmp_path: Path) -> None:
    path = tmp_path / "solution.csv"
    path.write_text("ImageId_ClassId,EncodedPixels\nx.jpg_2,409590 10\nx.jpg_1,\n")
    answers = read_answers(path)
    assert answers["ImageId_ClassId"].tolist() == ["x.jpg_1", "x.jpg_2"]
    assert answers["height"].tolist() == [256, 256] and answers["width"].tolist() == [1600] * 2
    path.write_text("ImageId_ClassId,EncodedPixels\nx.jpg_1,409600 5\n")
    with pytest.raises(DataError, match=r"row 1 \(x.jpg_1\).*runs past"):
        read_answers(path)
    path.write_text("ImageId_ClassId,EncodedPixels\nx.jpg,1 1\n")
    with pytest.raises(DataError, match="must end in _1 to _4"):
        read_answers(path)


def test_answers_from_a_dataset_cover_every_image(synthetic_root: Path) -> None:
    answers = read_answers(synthetic_root / TRAIN_CSV)
    pd.testing.assert_frame_equal(answers, answers_from_table(read_train_table(synthetic_root)))
    assert len(answers) == 4 * 40 and (answers["height"] == 32).all()
