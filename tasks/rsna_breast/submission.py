"""Answers (the Kaggle solution file) and the submission validator.

A submission has one row per breast: ``prediction_id = f"{patient_id}_{laterality}"`` and
``cancer``, a probability in [0, 1]. The truth of a breast is the max of ``cancer`` over its
images.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.api import DataError
from harness.kit.layout import read_answers_csv
from harness.kit.submissions import (
    MAX_EXAMPLES,
    rows,
    validate_probabilities,
)
from harness.kit.task import Submission
from tasks.rsna_breast.layout import LATERALITIES, prediction_ids

SUBMISSION_COLUMNS: tuple[str, ...] = ("prediction_id", "cancer")


def answers_from_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per breast of a labelled image table, sorted by prediction_id, cancer as int."""
    answers = (
        table.assign(prediction_id=prediction_ids(table))
        .groupby("prediction_id", sort=True)["cancer"]
        .max()
        .astype("int64")
        .reset_index()
    )
    return answers.loc[:, list(SUBMISSION_COLUMNS)]


def read_answers(path: str | Path) -> pd.DataFrame:
    """Answers from a solution file (prediction_id, cancer) or a labelled train.csv-like table.

    Raises DataError when the file is missing, has neither shape, or holds labels other than 0/1.
    """
    frame = read_answers_csv(path)
    columns = set(frame.columns)
    is_solution_file = {"prediction_id", "cancer"} <= columns
    if not is_solution_file and not {"patient_id", "laterality", "cancer"} <= columns:
        raise DataError(
            f"answers file {path} has columns {', '.join(map(str, frame.columns))}; expected a "
            "solution file with prediction_id, cancer or a labelled table like train.csv with "
            "patient_id, laterality, cancer"
        )
    bad = ~frame["cancer"].isin((0, 1))
    if bad.any():
        raise DataError(
            f"answers file {path}: cancer must be 0 or 1, but {int(bad.sum())} row(s) are not, "
            f"e.g. rows {rows(bad)}"
        )
    if not is_solution_file:
        bad = ~frame["laterality"].isin(LATERALITIES) | frame["patient_id"].isna()
        if bad.any():
            raise DataError(
                f"answers file {path}: {int(bad.sum())} row(s) lack a patient_id or have a "
                f"laterality other than L/R, e.g. rows {rows(bad)}"
            )
        return answers_from_table(frame)

    answers = frame.loc[:, list(SUBMISSION_COLUMNS)].astype({"cancer": "int64"})
    answers["prediction_id"] = answers["prediction_id"].astype(str)
    duplicated = answers["prediction_id"].duplicated()
    if duplicated.any():
        examples = answers.loc[duplicated, "prediction_id"].head(MAX_EXAMPLES).tolist()
        raise DataError(f"answers file {path}: duplicate prediction_id(s), e.g. {examples}")
    return answers.sort_values("prediction_id").reset_index(drop=True)


def validate_submission(submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The submission aligned row for row with ``answers`` (prediction_id, float cancer).

    Raises InvalidSubmission listing every problem found: missing columns first (nothing else
    can be checked without them), then ids (missing, duplicate, absent from or unknown to the
    answers) and values (not a number, NaN/inf, outside [0, 1]). Rows are numbered from 1,
    header excluded. Columns besides prediction_id and cancer are ignored.
    """
    return validate_probabilities(
        submission,
        answers,
        id_column="prediction_id",
        value_column="cancer",
        clip_note="pF1 would clip them, but the harness rejects out-of-range values as a likely "
        "bug (logits or percentages instead of probabilities?)",
        unknown_hint=" (ids are {patient_id}_{laterality} with laterality L or R)",
    )


SUBMISSION = Submission(
    columns=SUBMISSION_COLUMNS,
    answers=answers_from_table,
    read_answers=read_answers,
    validate=validate_submission,
)
