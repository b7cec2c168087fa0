"""Answers (the Kaggle solution file) and the submission validator.

A submission has eight rows per study: ``row_id = f"{StudyInstanceUID}_{target}"`` for the
targets C1..C7 and patient_overall, and ``fractured``, a probability in [0, 1]. Answers are
ordered by UID, then by target in that order; a validated submission comes back in the same
order, which the metric relies on to tell studies apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import DataError
from harness.kit.layout import read_answers_csv
from harness.kit.submissions import (
    rows,
    validate_probabilities,
)
from harness.kit.task import Submission
from tasks.rsna_cervical.layout import TARGETS

SUBMISSION_COLUMNS: tuple[str, ...] = ("row_id", "fractured")
_ROW_ID = r"^(.+)_(" + "|".join(TARGETS) + r")$"


def row_ids(uids: pd.Series | list[str]) -> list[str]:
    """The eight row ids of each study, in answer order."""
    return [f"{uid}_{target}" for uid in uids for target in TARGETS]


def split_row_ids(ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(StudyInstanceUID, target) of each row id; both empty where the id names no target."""
    parts = ids.astype(str).str.extract(_ROW_ID, expand=True).fillna("")
    return parts[0], parts[1]


def answers_from_table(table: pd.DataFrame) -> pd.DataFrame:
    """The solution file of a labelled study table: row_id, fractured (int), in answer order."""
    ordered = table.sort_values("StudyInstanceUID")
    labels = ordered.loc[:, list(TARGETS)].to_numpy(dtype=np.int64).reshape(-1)
    return pd.DataFrame(
        {"row_id": row_ids(ordered["StudyInstanceUID"].astype(str)), "fractured": labels}
    )


def solution_file(answers: pd.DataFrame) -> pd.DataFrame:
    """The answers as mle-bench writes this competition's ``answers.csv``: StudyInstanceUID,
    prediction_type (C1..C7 or patient_overall), fractured, row_id. Its ``grade.py`` reads
    row_id and fractured; ``read_answers`` reads the file back to ``answers``."""
    ids = answers["row_id"].astype(str)
    uids, targets = split_row_ids(ids)
    return pd.DataFrame(
        {
            "StudyInstanceUID": uids,
            "prediction_type": targets,
            "fractured": answers["fractured"].to_numpy(),
            "row_id": ids,
        }
    )


def read_answers(path: str | Path) -> pd.DataFrame:
    """Answers from a solution file (row_id, fractured) or a labelled table like train.csv.

    Raises DataError when the file is missing, has neither shape, holds labels other than 0/1,
    unknown targets, repeated rows, or a study without all eight rows.
    """
    frame = read_answers_csv(path, dtype={"StudyInstanceUID": str, "row_id": str})
    columns = set(frame.columns)
    if {"StudyInstanceUID", *TARGETS} <= columns:
        bad = ~frame.loc[:, list(TARGETS)].isin((0, 1)).all(axis=1)
        if bad.any():
            raise DataError(
                f"answers file {path}: targets must be 0 or 1, rows {rows(bad)} are not"
            )
        if frame["StudyInstanceUID"].duplicated().any():
            raise DataError(f"answers file {path}: a StudyInstanceUID appears more than once")
        return answers_from_table(frame)
    if not set(SUBMISSION_COLUMNS) <= columns:
        raise DataError(
            f"answers file {path} has columns {', '.join(map(str, frame.columns))}; expected a "
            "solution file with row_id, fractured or a labelled table like train.csv with "
            f"StudyInstanceUID, {', '.join(TARGETS)}"
        )
    bad = ~frame["fractured"].isin((0, 1))
    if bad.any():
        raise DataError(f"answers file {path}: fractured must be 0 or 1, rows {rows(bad)} are not")
    ids = frame["row_id"].astype(str)
    uids, targets = split_row_ids(ids)
    bad = ~targets.isin(TARGETS)
    if bad.any():
        raise DataError(f"answers file {path}: row_id without a known target, rows {rows(bad)}")
    if ids.duplicated().any():
        raise DataError(
            f"answers file {path}: duplicate row_id(s), e.g. {ids[ids.duplicated()].iloc[0]}"
        )
    counts = uids.value_counts()
    incomplete = counts.index[counts != len(TARGETS)].tolist()
    if incomplete:
        raise DataError(
            f"answers file {path}: study {incomplete[0]} does not have one row per target "
            f"({', '.join(TARGETS)})"
        )
    order = pd.DataFrame({"uid": uids, "rank": targets.map(TARGETS.index)}).sort_values(
        ["uid", "rank"]
    )
    answers = frame.loc[order.index, list(SUBMISSION_COLUMNS)].astype({"fractured": "int64"})
    answers["row_id"] = answers["row_id"].astype(str)
    return answers.reset_index(drop=True)


def validate_submission(submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The submission aligned row for row with ``answers`` (row_id, float fractured).

    Raises InvalidSubmission listing every problem: missing columns first, then ids (empty,
    duplicate, missing from the submission, unknown to the answers) and values (not a number,
    NaN/inf, outside [0, 1]), each naming rows (1-based, header excluded) and their row_id.
    Columns besides row_id and fractured are ignored.
    """
    return validate_probabilities(
        submission,
        answers,
        id_column="row_id",
        value_column="fractured",
        clip_note="the metric would clip them, but the harness rejects out-of-range values as "
        "a likely bug (logits or percentages instead of probabilities?)",
        unknown_hint=" (row ids are {StudyInstanceUID}_{target} with target one of "
        + ", ".join(TARGETS)
        + ")",
    )


SUBMISSION = Submission(
    columns=SUBMISSION_COLUMNS,
    answers=answers_from_table,
    read_answers=read_answers,
    validate=validate_submission,
    solution_file=solution_file,
)
