"""The submission validator names the rows it rejects; answers from both file kinds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.api import DataError, InvalidSubmission
from tasks.siim_pneumothorax.layout import TRAIN_CSV, read_train_table
from tasks.siim_pneumothorax.submission import (
    answers_from_table,
    read_answers,
    validate_submission,
)

ANSWERS = pd.DataFrame(
    {
        "ImageId": ["a", "b", "c"],
        "EncodedPixels": ["-1", "2 3", "-1"],
        "height": [4, 4, 4],
        "width": [3, 3, 3],
    }
)


def _submission(*masks: object, ids: tuple[str, ...] = ("a", "b", "c")) -> pd.DataFrame:
    return pd.DataFrame({"ImageId": list(ids), "EncodedPixels": list(masks)})


def test_valid_submission_is_aligned_to_the_answers() -> None:
    aligned = validate_submission(_submission("1 1", "-1", "-1", ids=("c", "a", "b")), ANSWERS)
    assert aligned["ImageId"].tolist() == ["a", "b", "c"]
    assert aligned["EncodedPixels"].tolist() == ["-1", "-1", "1 1"]


def test_an_all_empty_column_read_as_numbers_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "sub.csv"
    _submission("-1", "-1", "-1").to_csv(path, index=False)
    submission = pd.read_csv(path)
    assert submission["EncodedPixels"].dtype.kind == "i"
    assert validate_submission(submission, ANSWERS)["EncodedPixels"].tolist() == ["-1"] * 3


@pytest.mark.parametrize(
    ("masks", "expected"),
    [
        (("-1", "1 2 3", "-1"), "row 2 (ImageId b): RLE has an odd number of values"),
        (("-1", "-1", "10 5"), "row 3 (ImageId c): run 1 (pixels 10..14, 0-based) runs past"),
        (("0 2 -1 2", "-1", "-1"), "row 1 (ImageId a): run 2 has offset -1"),
        (("-1", "2 0", "-1"), "row 2 (ImageId b): run 1 has length 0"),
        (("-1", None, "-1"), "row 2 (ImageId b): empty RLE: an empty mask is written -1"),
    ],
)
def test_malformed_rle_is_rejected_with_its_row(masks: tuple[object, ...], expected: str) -> None:
    with pytest.raises(InvalidSubmission) as err:
        validate_submission(_submission(*masks), ANSWERS)
    assert expected in str(err.value)


def test_id_problems_are_all_listed() -> None:
    submission = _submission("-1", "-1", "-1", "-1", ids=("a", "a", "b", "z"))
    with pytest.raises(InvalidSubmission) as err:
        validate_submission(submission, ANSWERS)
    message = str(err.value)
    assert "repeat the ImageId of an earlier row: row 2 (ImageId a)" in message
    assert "missing from the submission, e.g. c" in message
    assert "not in the answers: row 4 (ImageId z)" in message


def test_missing_column() -> None:
    with pytest.raises(InvalidSubmission, match=r"lacks column\(s\) EncodedPixels"):
        validate_submission(pd.DataFrame({"ImageId": ["a"]}), ANSWERS)


def test_answers_from_a_solution_file_default_to_1024(tmp_path: Path) -> None:
    path = tmp_path / "solution.csv"
    path.write_text("ImageId, EncodedPixels\nx, -1\ny, 1048570 5\n")
    answers = read_answers(path)
    assert answers["height"].tolist() == [1024, 1024]
    path.write_text("ImageId,EncodedPixels\nx, 1048575 5\n")
    with pytest.raises(DataError, match=r"row 1 \(ImageId x\).*runs past"):
        read_answers(path)


def test_answers_from_a_dataset_read_the_image_sizes(synthetic_root: Path) -> None:
    answers = read_answers(synthetic_root / TRAIN_CSV)
    expected = answers_from_table(read_train_table(synthetic_root))
    pd.testing.assert_frame_equal(answers, expected)
    assert (answers["height"] == 64).all()
