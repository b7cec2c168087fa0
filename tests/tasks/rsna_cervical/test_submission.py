"""Answers and the submission validator: every error names its rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.api import DataError, InvalidSubmission
from tasks.rsna_cervical.layout import TARGETS
from tasks.rsna_cervical.submission import (
    answers_from_table,
    read_answers,
    solution_file,
    validate_submission,
)

UIDS = ["1.2.826.0.1.3680043.2", "1.2.826.0.1.3680043.1"]


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "StudyInstanceUID": UIDS,
            "patient_overall": [1, 0],
            **{v: [int(v == "C2"), 0] for v in TARGETS[:-1]},
        }
    )


def answers() -> pd.DataFrame:
    return answers_from_table(table())


def submission(values: list[float] | None = None) -> pd.DataFrame:
    ids = answers()["row_id"].tolist()
    return pd.DataFrame({"row_id": ids, "fractured": values or [0.5] * len(ids)})


def test_answers_are_eight_rows_per_study_sorted_by_uid_then_target():
    truth = answers()
    assert truth["row_id"].tolist()[:8] == [f"{UIDS[1]}_{t}" for t in TARGETS]
    assert truth["row_id"].iloc[-1] == f"{UIDS[0]}_patient_overall"
    assert truth["fractured"].tolist() == [0] * 8 + [0, 1, 0, 0, 0, 0, 0, 1]


def test_a_shuffled_submission_is_aligned_to_the_answers():
    shuffled = submission([i / 20 for i in range(16)]).sample(frac=1.0, random_state=0)
    aligned = validate_submission(shuffled, answers())
    assert aligned["row_id"].tolist() == answers()["row_id"].tolist()
    assert aligned["fractured"].tolist() == [i / 20 for i in range(16)]


def test_missing_duplicate_and_unknown_rows_are_named():
    bad = submission().drop(index=3)
    bad = pd.concat([bad, bad.head(1)])
    bad.loc[len(bad)] = [f"{UIDS[0]}_C8", 0.5]
    with pytest.raises(InvalidSubmission) as err:
        validate_submission(bad, answers())
    message = str(err.value)
    assert f"{UIDS[1]}_C4" in message and "missing" in message
    assert f"{UIDS[1]}_C1" in message and "repeat the row_id of an earlier row" in message
    assert f"{UIDS[0]}_C8" in message and "not in the answers" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.nan, "must be finite"),
        (1.5, "must lie in [0, 1]"),
        (-0.1, "must lie in [0, 1]"),
        ("abc", "must be a number"),
    ],
)
def test_bad_values_name_the_row_and_its_id(value, expected):
    bad = submission().astype({"fractured": object})
    bad.loc[5, "fractured"] = value
    with pytest.raises(InvalidSubmission) as err:
        validate_submission(bad, answers())
    assert expected in str(err.value)
    assert f"row 6 (row_id {UIDS[1]}_C6)" in str(err.value)


def test_missing_columns_are_named():
    with pytest.raises(InvalidSubmission, match=r"lacks column.*fractured"):
        validate_submission(submission().drop(columns=["fractured"]), answers())


def test_read_answers_from_train_csv_and_from_a_solution_file(tmp_path):
    table().to_csv(tmp_path / "train.csv", index=False)
    answers().sample(frac=1.0, random_state=2).to_csv(tmp_path / "solution.csv", index=False)
    pd.testing.assert_frame_equal(read_answers(tmp_path / "train.csv"), answers())
    pd.testing.assert_frame_equal(read_answers(tmp_path / "solution.csv"), answers())


def test_read_answers_rejects_incomplete_studies_and_probabilities(tmp_path):
    answers().drop(index=2).to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(DataError, match="one row per target"):
        read_answers(tmp_path / "short.csv")
    answers().assign(fractured=0.5).to_csv(tmp_path / "soft.csv", index=False)
    with pytest.raises(DataError, match="0 or 1"):
        read_answers(tmp_path / "soft.csv")


def test_the_solution_file_splits_each_row_id_into_study_and_target() -> None:
    answers = pd.DataFrame({"row_id": ["1.2.3_C1", "1.2.3_patient_overall"], "fractured": [0, 1]})
    written = solution_file(answers)
    assert written["StudyInstanceUID"].tolist() == ["1.2.3", "1.2.3"]
    assert (written["StudyInstanceUID"] + "_" + written["prediction_type"]).equals(
        written["row_id"]
    )
    assert written["fractured"].tolist() == [0, 1]
