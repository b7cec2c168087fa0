"""Submissions: building one, the validator's errors, answers files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.api import DataError, InvalidSubmission
from tasks.rsna_ich.layout import SUBTYPES
from tasks.rsna_ich.submission import (
    answers_from_table,
    read_answers,
    submission_frame,
    validate_submission,
)


def _labelled() -> pd.DataFrame:
    frame = pd.DataFrame({"image_id": ["ID_b", "ID_a"], "StudyInstanceUID": ["1.2.1", "1.2.2"]})
    for subtype in SUBTYPES:
        frame[subtype] = 0
    frame.loc[0, ["subdural", "any"]] = 1
    return frame


@pytest.fixture
def answers() -> pd.DataFrame:
    return answers_from_table(_labelled())


def _answers_by_pandas(table: pd.DataFrame) -> pd.DataFrame:
    """What answers_from_table returned before it sorted images: the reference."""
    long = table.melt(
        id_vars=["image_id", "StudyInstanceUID"], value_vars=list(SUBTYPES), var_name="subtype"
    )
    answers = pd.DataFrame(
        {
            "ID": long["image_id"].astype(str) + "_" + long["subtype"].astype(str),
            "Label": long["value"].astype("int64"),
            "StudyInstanceUID": long["StudyInstanceUID"].astype(str),
        }
    )
    return answers.sort_values("ID", ignore_index=True)


@pytest.mark.parametrize(
    "image_ids",
    [
        ["ID_0c", "ID_a1", "ID_B2", "ID_09"],  # one length: images sorted, not their IDs
        ["ID_a0", "ID_a", "ID_A", "ID_b"],  # ID_a_any sorts after ID_a0_any
        ["ID_c", "ID_a", "ID_c", "ID_b"],  # a repeated image
        [],
    ],
)
def test_answers_are_the_sorted_melt_of_the_table(image_ids: list[str]) -> None:
    rng = np.random.default_rng(len(image_ids))
    table = pd.DataFrame(
        {"image_id": image_ids, "StudyInstanceUID": [f"1.2.{i % 2}" for i in range(len(image_ids))]}
    )
    for subtype in SUBTYPES:
        table[subtype] = rng.integers(0, 2, len(image_ids))
    pd.testing.assert_frame_equal(answers_from_table(table), _answers_by_pandas(table))


def _submission(answers: pd.DataFrame, value: float = 0.5) -> pd.DataFrame:
    return answers[["ID"]].assign(Label=value)


def test_answers_have_six_rows_per_image_sorted_by_id(answers: pd.DataFrame) -> None:
    assert answers.columns.tolist() == ["ID", "Label", "StudyInstanceUID"]
    assert len(answers) == 12
    assert answers["ID"].tolist() == sorted(answers["ID"])
    positive = answers.loc[answers["Label"] == 1, "ID"].tolist()
    assert positive == ["ID_b_any", "ID_b_subdural"]
    assert set(answers.loc[answers["ID"].str.startswith("ID_b"), "StudyInstanceUID"]) == {"1.2.1"}


def test_submission_frame_writes_six_rows_per_image() -> None:
    probabilities = np.arange(12).reshape(2, 6) / 20
    frame = submission_frame(["ID_x", "ID_y"], probabilities)
    assert frame["ID"].tolist()[:6] == [f"ID_x_{s}" for s in SUBTYPES]
    assert frame["Label"].tolist()[6:] == pytest.approx([0.3, 0.35, 0.4, 0.45, 0.5, 0.55])
    with pytest.raises(ValueError, match="shape"):
        submission_frame(["ID_x"], probabilities)


def test_valid_submission_is_aligned_with_the_answers(answers: pd.DataFrame) -> None:
    shuffled = _submission(answers).assign(Label=np.linspace(0, 1, 12)).iloc[::-1]
    aligned = validate_submission(shuffled, answers)
    assert aligned["ID"].tolist() == answers["ID"].tolist()
    assert aligned["Label"].tolist() == pytest.approx(np.linspace(0, 1, 12).tolist())


def test_missing_columns(answers: pd.DataFrame) -> None:
    with pytest.raises(InvalidSubmission, match="lacks column\\(s\\) Label"):
        validate_submission(answers[["ID"]].assign(label=0.5), answers)


def test_missing_rows_are_named(answers: pd.DataFrame) -> None:
    partial = _submission(answers)
    partial = partial[partial["ID"] != "ID_a_epidural"]
    missing = r"1 ID\(s\) of the answers are missing.*ID_a_epidural"
    with pytest.raises(InvalidSubmission, match=missing):
        validate_submission(partial, answers)


def test_duplicate_rows_are_named(answers: pd.DataFrame) -> None:
    doubled = pd.concat([_submission(answers), _submission(answers).iloc[[3]]])
    repeated = r"repeat the ID of an earlier row: row 13 \(ID ID_a_intraventricular\)"
    with pytest.raises(InvalidSubmission, match=repeated):
        validate_submission(doubled, answers)


def test_unknown_ids_are_named(answers: pd.DataFrame) -> None:
    extra = pd.concat(
        [_submission(answers), pd.DataFrame({"ID": ["ID_zz_any", "ID_a_bleed"], "Label": 0.1})]
    )
    with pytest.raises(InvalidSubmission) as err:
        validate_submission(extra, answers)
    assert "row 13 (ID ID_zz_any)" in str(err.value)
    assert "row 14 (ID ID_a_bleed)" in str(err.value)


def test_nan_text_and_out_of_range_values_are_named(answers: pd.DataFrame) -> None:
    bad = _submission(answers).astype({"Label": object})
    bad.iloc[0, 1] = np.nan
    bad.iloc[1, 1] = "high"
    bad.iloc[2, 1] = 1.5
    bad.iloc[3, 1] = -0.1
    bad.iloc[4, 1] = np.inf
    with pytest.raises(InvalidSubmission) as err:
        validate_submission(bad, answers)
    message = str(err.value)
    assert "row 2 (ID ID_a_epidural): 'high'" in message
    assert "row 1 (ID ID_a_any): nan" in message and "row 5 (ID ID_a_subarachnoid): inf" in message
    assert "row 3 (ID ID_a_intraparenchymal): 1.5" in message
    assert "row 4 (ID ID_a_intraventricular): -0.1" in message


def test_empty_ids(answers: pd.DataFrame) -> None:
    broken = _submission(answers)
    broken.iloc[0, 0] = None
    with pytest.raises(InvalidSubmission, match="have no ID: rows 1"):
        validate_submission(broken, answers)


def test_read_answers_of_a_kaggle_csv_drops_duplicates(
    tmp_path: Path, answers: pd.DataFrame
) -> None:
    kaggle = answers[["ID", "Label"]]
    path = tmp_path / "stage_2_train.csv"
    pd.concat([kaggle, kaggle.iloc[[0, 1]]]).iloc[::-1].to_csv(path, index=False)
    read = read_answers(path)
    assert read[["ID", "Label"]].equals(answers[["ID", "Label"]])
    # without a study column, each image is its own bootstrap group
    assert read["StudyInstanceUID"].tolist()[:6] == ["ID_a"] * 6


def test_read_answers_keeps_the_study_column(tmp_path: Path, answers: pd.DataFrame) -> None:
    path = tmp_path / "answers.csv"
    answers.to_csv(path, index=False)
    pd.testing.assert_frame_equal(read_answers(path), answers)


def test_read_answers_errors(tmp_path: Path, answers: pd.DataFrame) -> None:
    path = tmp_path / "answers.csv"
    with pytest.raises(DataError, match="not found"):
        read_answers(path)
    conflicting = pd.concat([answers, answers.iloc[[0]].assign(Label=1)])
    conflicting.to_csv(path, index=False)
    with pytest.raises(DataError, match="ID_a_any"):
        read_answers(path)
    answers.rename(columns={"Label": "y"}).to_csv(path, index=False)
    with pytest.raises(DataError, match="expected ID, Label"):
        read_answers(path)
