"""Answers and the submission validator: every rejection names what to fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.api import DataError, InvalidSubmission
from tasks.rsna_breast.submission import answers_from_table, read_answers, validate_submission


def image_table() -> pd.DataFrame:
    """Three patients; 10011's right breast has one cancer image out of two."""
    return pd.DataFrame(
        {
            "patient_id": [10011, 10011, 10011, 10006, 10006, 10042],
            "image_id": [1, 2, 3, 4, 5, 6],
            "laterality": ["R", "R", "L", "L", "R", "L"],
            "cancer": [0, 1, 0, 0, 0, 0],
        }
    )


def answers() -> pd.DataFrame:
    return answers_from_table(image_table())


def submission(values=(0.1, 0.2, 0.3, 0.9)) -> pd.DataFrame:
    ids = ["10006_L", "10006_R", "10011_L", "10011_R"]
    return pd.DataFrame({"prediction_id": ids, "cancer": list(values)})


def rejection(sub: pd.DataFrame) -> str:
    with pytest.raises(InvalidSubmission) as err:
        validate_submission(sub, answers())
    return str(err.value)


def test_answers_take_the_max_per_breast_sorted_by_id():
    expected = pd.DataFrame(
        {
            "prediction_id": ["10006_L", "10006_R", "10011_L", "10011_R", "10042_L"],
            "cancer": np.array([0, 0, 0, 1, 0], dtype=np.int64),
        }
    )
    pd.testing.assert_frame_equal(answers(), expected)


def test_read_answers_from_a_solution_file(tmp_path):
    path = tmp_path / "solution.csv"
    shuffled = answers().iloc[[3, 0, 4, 2, 1]].assign(Usage="Private")
    shuffled.to_csv(path, index=False)
    pd.testing.assert_frame_equal(read_answers(path), answers())


def test_read_answers_from_a_labelled_table(tmp_path):
    path = tmp_path / "train.csv"
    image_table().to_csv(path, index=False)
    pd.testing.assert_frame_equal(read_answers(path), answers())


def test_read_answers_rejects_other_files(tmp_path):
    path = tmp_path / "sample_submission.csv"
    pd.DataFrame({"prediction_id": ["1_L"], "score": [0.5]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"has columns prediction_id, score; expected a solution"):
        read_answers(path)


def test_read_answers_rejects_probabilities_as_labels(tmp_path):
    path = tmp_path / "sub.csv"
    submission().to_csv(path, index=False)
    with pytest.raises(DataError, match=r"cancer must be 0 or 1, but 4 row\(s\) are not"):
        read_answers(path)


def test_read_answers_rejects_duplicate_ids(tmp_path):
    path = tmp_path / "solution.csv"
    pd.concat([answers(), answers().head(1)]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"duplicate prediction_id.*10006_L"):
        read_answers(path)


def test_read_answers_rejects_bad_laterality(tmp_path):
    path = tmp_path / "train.csv"
    image_table().assign(laterality=["R", "R", "L", "L", "R", "B"]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"laterality other than L/R, e\.g\. rows 6"):
        read_answers(path)


def test_read_answers_names_a_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv not found"):
        read_answers(tmp_path / "nope.csv")


def test_a_valid_submission_is_aligned_to_the_answers():
    sub = pd.DataFrame(
        {
            "prediction_id": ["10042_L", "10011_R", "10006_L", "10011_L", "10006_R"],
            "cancer": [0.0, 1.0, 0.25, 0.5, 0.75],
            "extra": ["ignored"] * 5,
        }
    )
    aligned = validate_submission(sub, answers())
    assert aligned["prediction_id"].tolist() == answers()["prediction_id"].tolist()
    assert aligned["cancer"].tolist() == [0.25, 0.75, 0.5, 1.0, 0.0]
    assert aligned["cancer"].dtype == np.float64
    assert list(aligned.columns) == ["prediction_id", "cancer"]


def full(values) -> pd.DataFrame:
    """A submission covering all five answers with the given values."""
    ids = ["10006_L", "10006_R", "10011_L", "10011_R", "10042_L"]
    return pd.DataFrame({"prediction_id": ids, "cancer": pd.Series(list(values), dtype=object)})


def test_missing_columns_are_named_with_the_columns_found():
    message = rejection(pd.DataFrame({"id": ["10006_L"], "target": [0.5]}))
    assert "lacks column(s) prediction_id, cancer" in message
    assert "found columns: id, target" in message


def test_duplicate_ids_are_named():
    sub = pd.concat([full([0.1] * 5), full([0.2] * 5).iloc[[0, 3]]])
    message = rejection(sub)
    assert "2 row(s) repeat the prediction_id of an earlier row: row " in message
    assert "(prediction_id 10006_L)" in message and "(prediction_id 10011_R)" in message


def test_at_most_five_examples_are_listed():
    ids = [f"{20_000 + k}_L" for k in range(8)]
    extra = pd.DataFrame({"prediction_id": ids, "cancer": [0.5] * 8})
    message = rejection(pd.concat([full([0.1] * 5), extra]))
    assert "8 row(s) have a prediction_id that is not in the answers: row " in message
    assert "(prediction_id 20004_L) and 3 more" in message
    assert "20005_L" not in message


def test_missing_ids_are_counted_with_examples():
    message = rejection(full([0.1] * 5).iloc[[0, 2, 4]])
    assert "2 prediction_id(s) of the answers are missing from the submission" in message
    assert "e.g. 10006_R, 10011_R" in message


def test_unexpected_ids_are_counted_with_examples():
    sub = full([0.1] * 5)
    sub.loc[4, "prediction_id"] = "10042_X"
    message = rejection(sub)
    assert "have a prediction_id that is not in the answers: row " in message
    assert "(prediction_id 10042_X)" in message
    assert "{patient_id}_{laterality}" in message
    assert "missing from the submission, e.g. 10042_L" in message


def test_rows_without_an_id_are_named():
    sub = full([0.1] * 5)
    sub.loc[1, "prediction_id"] = None
    assert "1 row(s) have no prediction_id: rows 2" in rejection(sub)


def test_non_numeric_values_name_the_row_and_value():
    message = rejection(full([0.1, "high", 0.3, 0.4, 0.5]))
    assert "cancer must be a number: 1 row(s) are not" in message
    assert "row 2 (prediction_id 10006_R): 'high'" in message


def test_nan_and_inf_name_the_row():
    message = rejection(full([0.1, 0.2, np.nan, 0.4, np.inf]))
    assert "cancer must be finite: 2 row(s)" in message
    assert "row 3 (prediction_id 10011_L): nan" in message
    assert "row 5 (prediction_id 10042_L): inf" in message


def test_out_of_range_values_name_the_row_and_value_and_explain():
    message = rejection(full([0.1, 1.5, -0.2, 0.4, 0.5]))
    assert "cancer must lie in [0, 1]: 2 row(s) are outside" in message
    assert "row 2 (prediction_id 10006_R): 1.5" in message
    assert "row 3 (prediction_id 10011_L): -0.2" in message
    assert "pF1 would clip them" in message
    assert "likely bug" in message


def test_zero_and_one_are_in_range():
    aligned = validate_submission(full([0, 1, 0.0, 1.0, 0.5]), answers())
    assert aligned["cancer"].tolist() == [0.0, 1.0, 0.0, 1.0, 0.5]


def test_every_problem_is_reported_at_once():
    sub = full([0.1, "x", 2.0, 0.4, 0.5]).iloc[1:]
    message = rejection(sub)
    assert "missing from the submission" in message
    assert "must be a number" in message
    assert "must lie in [0, 1]" in message


def test_numbers_read_from_text_are_accepted():
    aligned = validate_submission(full(["0.1", "0.2", "0.3", "0.4", "1e-3"]), answers())
    assert aligned["cancer"].tolist() == [0.1, 0.2, 0.3, 0.4, 0.001]
