"""Answers (the Kaggle solution file) and the submission validator.

A submission has one row per breast: ``prediction_id = f"{patient_id}_{laterality}"`` and
``cancer``, a probability in [0, 1]. The truth of a breast is the max of ``cancer`` over its
images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import DataError, InvalidSubmission
from tasks.rsna_breast.layout import LATERALITIES, prediction_ids

SUBMISSION_COLUMNS: tuple[str, ...] = ("prediction_id", "cancer")
_MAX_EXAMPLES = 5


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
    path = Path(path)
    if not path.is_file():
        raise DataError(f"answers file {path} not found")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"answers file {path} is not a readable CSV file: {err}") from err
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
            f"e.g. rows {_rows(bad)}"
        )
    if not is_solution_file:
        bad = ~frame["laterality"].isin(LATERALITIES) | frame["patient_id"].isna()
        if bad.any():
            raise DataError(
                f"answers file {path}: {int(bad.sum())} row(s) lack a patient_id or have a "
                f"laterality other than L/R, e.g. rows {_rows(bad)}"
            )
        return answers_from_table(frame)

    answers = frame.loc[:, list(SUBMISSION_COLUMNS)].astype({"cancer": "int64"})
    answers["prediction_id"] = answers["prediction_id"].astype(str)
    duplicated = answers["prediction_id"].duplicated()
    if duplicated.any():
        examples = answers.loc[duplicated, "prediction_id"].head(_MAX_EXAMPLES).tolist()
        raise DataError(f"answers file {path}: duplicate prediction_id(s), e.g. {examples}")
    return answers.sort_values("prediction_id").reset_index(drop=True)


def _rows(mask: pd.Series) -> str:
    """1-based row numbers (header excluded) of the first rows where ``mask`` holds."""
    rows = (np.flatnonzero(mask.to_numpy())[:_MAX_EXAMPLES] + 1).tolist()
    return ", ".join(map(str, rows)) + _more(int(mask.sum()))


def _row(position: int, ids: pd.Series) -> str:
    """How a message names a row: 1-based, header excluded, with its prediction_id."""
    return f"row {position + 1} (prediction_id {ids.iloc[position]})"


def _more(count: int) -> str:
    return f" and {count - _MAX_EXAMPLES} more" if count > _MAX_EXAMPLES else ""


def validate_submission(submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The submission aligned row for row with ``answers`` (prediction_id, float cancer).

    Raises InvalidSubmission listing every problem found: missing columns first (nothing else
    can be checked without them), then ids (missing, duplicate, absent from or unknown to the
    answers) and values (not a number, NaN/inf, outside [0, 1]). Rows are numbered from 1,
    header excluded. Columns besides prediction_id and cancer are ignored.
    """
    missing_columns = [c for c in SUBMISSION_COLUMNS if c not in submission.columns]
    if missing_columns:
        raise InvalidSubmission(
            f"submission lacks column(s) {', '.join(missing_columns)}; found columns: "
            f"{', '.join(map(str, submission.columns)) or '(none)'}; "
            f"expected {', '.join(SUBMISSION_COLUMNS)}"
        )
    ids = submission["prediction_id"].reset_index(drop=True)
    no_id = ids.isna()
    ids = ids.astype(str)
    expected = answers["prediction_id"].astype(str)
    problems: list[str] = []

    if no_id.any():
        problems.append(f"{int(no_id.sum())} row(s) have no prediction_id: rows {_rows(no_id)}")
    counts = ids[~no_id].value_counts(sort=False)
    duplicates = counts.index[counts > 1].tolist()
    if duplicates:
        problems.append(
            f"{len(duplicates)} prediction_id(s) appear more than once: "
            f"{', '.join(duplicates[:_MAX_EXAMPLES])}{_more(len(duplicates))}"
        )
    absent = sorted(set(expected) - set(ids[~no_id]))
    if absent:
        problems.append(
            f"{len(absent)} prediction_id(s) of the answers are missing from the submission, e.g. "
            f"{', '.join(absent[:_MAX_EXAMPLES])}{_more(len(absent))}"
        )
    unknown = sorted(set(ids[~no_id]) - set(expected))
    if unknown:
        problems.append(
            f"{len(unknown)} prediction_id(s) are not in the answers, e.g. "
            f"{', '.join(unknown[:_MAX_EXAMPLES])}{_more(len(unknown))} "
            "(ids are {patient_id}_{laterality} with laterality L or R)"
        )

    raw = submission["cancer"].reset_index(drop=True)
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    not_number = (values.isna() & raw.notna()).to_numpy()
    if not_number.any():
        where = np.flatnonzero(not_number)
        examples = ", ".join(f"{_row(i, ids)}: {raw.iloc[i]!r}" for i in where[:_MAX_EXAMPLES])
        problems.append(
            f"cancer must be a number: {len(where)} row(s) are not, e.g. {examples}"
            f"{_more(len(where))}"
        )
    not_finite = ~np.isfinite(values.to_numpy()) & ~not_number
    if not_finite.any():
        where = np.flatnonzero(not_finite)
        examples = ", ".join(f"{_row(i, ids)}: {values.iloc[i]}" for i in where[:_MAX_EXAMPLES])
        problems.append(
            f"cancer must be finite: {len(where)} row(s) are empty, NaN or infinite, e.g. "
            f"{examples}{_more(len(where))}"
        )
    out_of_range = ((values < 0.0) | (values > 1.0)).to_numpy() & ~not_finite
    if out_of_range.any():
        where = np.flatnonzero(out_of_range)
        examples = ", ".join(f"{_row(i, ids)}: {values.iloc[i]}" for i in where[:_MAX_EXAMPLES])
        problems.append(
            f"cancer must lie in [0, 1]: {len(where)} row(s) are outside, e.g. {examples}"
            f"{_more(len(where))}; pF1 would clip them, but the harness rejects out-of-range "
            "values as a likely bug (logits or percentages instead of probabilities?)"
        )

    if problems:
        raise InvalidSubmission("invalid submission:\n- " + "\n- ".join(problems))
    aligned = pd.Series(values.to_numpy(), index=ids.to_numpy()).loc[expected.tolist()]
    return pd.DataFrame(
        {"prediction_id": expected.to_numpy(), "cancer": aligned.to_numpy(dtype=np.float64)}
    )
