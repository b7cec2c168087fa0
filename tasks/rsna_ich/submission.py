"""Answers (the Kaggle solution file), the submission validator, and building a submission.

A submission is Kaggle's ``ID,Label``: six rows per image, ``ID = ID_<image>_<subtype>`` and
``Label`` a probability in [0, 1]. The answers have the same two columns plus
``StudyInstanceUID``, the bootstrap unit (``Task.groups``), and are sorted by ID.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import DataError, InvalidSubmission
from tasks.rsna_ich.layout import ID_PATTERN, SUBTYPES, deduplicate_labels, label_id

SUBMISSION_COLUMNS: tuple[str, ...] = ("ID", "Label")
GROUP_COLUMN = "StudyInstanceUID"
_MAX_EXAMPLES = 5


def submission_frame(image_ids: pd.Series | list[str], probabilities: np.ndarray) -> pd.DataFrame:
    """A submission from one row of six probabilities per image (columns in ``SUBTYPES`` order).

    Rows come out image by image, subtypes in Kaggle's order.
    """
    ids = [str(i) for i in image_ids]
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.shape != (len(ids), len(SUBTYPES)):
        raise ValueError(
            f"probabilities must have shape ({len(ids)}, {len(SUBTYPES)}), got "
            f"{probabilities.shape}"
        )
    return pd.DataFrame(
        {
            "ID": [label_id(i, s) for i in ids for s in SUBTYPES],
            "Label": probabilities.reshape(-1),
        }
    )


def answers_from_table(table: pd.DataFrame) -> pd.DataFrame:
    """Six rows per image of a labelled table (ID, Label as int, StudyInstanceUID), by ID."""
    long = table.melt(
        id_vars=["image_id", GROUP_COLUMN], value_vars=list(SUBTYPES), var_name="subtype"
    )
    answers = pd.DataFrame(
        {
            "ID": long["image_id"].astype(str) + "_" + long["subtype"].astype(str),
            "Label": long["value"].astype("int64"),
            GROUP_COLUMN: long[GROUP_COLUMN].astype(str),
        }
    )
    return answers.sort_values("ID", ignore_index=True)


def read_answers(path: str | Path) -> pd.DataFrame:
    """Answers from a CSV with ID and Label: a solution file or Kaggle's stage_2_train.csv.

    Identical duplicate rows are dropped, conflicting ones raise DataError naming the ID (as
    when loading the task). With a ``StudyInstanceUID`` column the bootstrap resamples studies;
    without one (the Kaggle csv has none) each image is its own group.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"answers file {path} not found")
    try:
        frame = pd.read_csv(path, dtype={"ID": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"answers file {path} is not a readable CSV file: {err}") from err
    if not set(SUBMISSION_COLUMNS) <= set(frame.columns):
        raise DataError(
            f"answers file {path} has columns {', '.join(map(str, frame.columns))}; expected "
            "ID, Label (a solution file or stage_2_train.csv)"
        )
    bad = ~frame["Label"].isin((0, 1)) | ~frame["ID"].astype(str).str.fullmatch(ID_PATTERN)
    if bad.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad.to_numpy())[:_MAX_EXAMPLES])
        raise DataError(
            f"answers file {path}: {int(bad.sum())} row(s) lack an ID_<image>_<subtype> ID or a "
            f"0/1 Label, e.g. rows {rows}"
        )
    columns = [*SUBMISSION_COLUMNS, *([GROUP_COLUMN] if GROUP_COLUMN in frame.columns else [])]
    answers = deduplicate_labels(frame.loc[:, columns], f"answers file {path}")
    if GROUP_COLUMN not in answers.columns:
        answers[GROUP_COLUMN] = answers["ID"].str.extract(ID_PATTERN)[0]
    answers = answers.astype({"ID": str, "Label": "int64", GROUP_COLUMN: str})
    return answers.sort_values("ID", ignore_index=True)


def _more(count: int) -> str:
    return f" and {count - _MAX_EXAMPLES} more" if count > _MAX_EXAMPLES else ""


def _row(position: int, ids: pd.Series) -> str:
    """How a message names a row: 1-based, header excluded, with its ID."""
    return f"row {position + 1} (ID {ids.iloc[position]})"


def validate_submission(submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The submission aligned row for row with ``answers`` (ID, float Label).

    Raises InvalidSubmission listing every problem: missing columns first (nothing else can be
    checked without them), then IDs (empty, duplicate, missing, unknown) and Label values (not a
    number, NaN/inf, outside [0, 1]). Rows are numbered from 1, header excluded. Extra columns
    are ignored.
    """
    missing_columns = [c for c in SUBMISSION_COLUMNS if c not in submission.columns]
    if missing_columns:
        raise InvalidSubmission(
            f"submission lacks column(s) {', '.join(missing_columns)}; found columns: "
            f"{', '.join(map(str, submission.columns)) or '(none)'}; expected ID, Label"
        )
    ids = submission["ID"].reset_index(drop=True)
    no_id = ids.isna().to_numpy()
    ids = ids.astype(str)
    expected = answers["ID"].astype(str)
    problems: list[str] = []

    if no_id.any():
        where = np.flatnonzero(no_id)
        shown = ", ".join(str(i + 1) for i in where[:_MAX_EXAMPLES])
        problems.append(f"{len(where)} row(s) have no ID: rows {shown}{_more(len(where))}")
    duplicated = ids.duplicated(keep="first").to_numpy() & ~no_id
    if duplicated.any():
        where = np.flatnonzero(duplicated)
        shown = ", ".join(_row(i, ids) for i in where[:_MAX_EXAMPLES])
        problems.append(
            f"{len(where)} row(s) repeat an ID of an earlier row: {shown}{_more(len(where))}"
        )
    present = set(ids[~no_id])
    absent = [i for i in expected if i not in present]
    if absent:
        problems.append(
            f"{len(absent)} row(s) of the answers are missing from the submission (every image "
            f"needs all six subtypes), e.g. {', '.join(absent[:_MAX_EXAMPLES])}{_more(len(absent))}"
        )
    known = set(expected)
    unknown = np.flatnonzero(~ids.isin(known).to_numpy() & ~no_id)
    if len(unknown):
        shown = ", ".join(_row(i, ids) for i in unknown[:_MAX_EXAMPLES])
        problems.append(
            f"{len(unknown)} row(s) have an ID that is not in the answers: {shown}"
            f"{_more(len(unknown))} (IDs are ID_<image>_<subtype>, subtype one of "
            f"{', '.join(SUBTYPES)})"
        )

    raw = submission["Label"].reset_index(drop=True)
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    not_number = (values.isna() & raw.notna()).to_numpy()
    if not_number.any():
        where = np.flatnonzero(not_number)
        shown = ", ".join(f"{_row(i, ids)}: {raw.iloc[i]!r}" for i in where[:_MAX_EXAMPLES])
        problems.append(
            f"Label must be a number: {len(where)} row(s) are not, e.g. {shown}{_more(len(where))}"
        )
    not_finite = ~np.isfinite(values.to_numpy()) & ~not_number
    if not_finite.any():
        where = np.flatnonzero(not_finite)
        shown = ", ".join(f"{_row(i, ids)}: {values.iloc[i]}" for i in where[:_MAX_EXAMPLES])
        problems.append(
            f"Label must be finite: {len(where)} row(s) are empty, NaN or infinite, e.g. {shown}"
            f"{_more(len(where))}"
        )
    out_of_range = ((values < 0.0) | (values > 1.0)).to_numpy() & ~not_finite
    if out_of_range.any():
        where = np.flatnonzero(out_of_range)
        shown = ", ".join(f"{_row(i, ids)}: {values.iloc[i]}" for i in where[:_MAX_EXAMPLES])
        problems.append(
            f"Label must lie in [0, 1]: {len(where)} row(s) are outside, e.g. {shown}"
            f"{_more(len(where))}; the log loss would clip them, but the harness rejects them as "
            "a likely bug (logits instead of probabilities?)"
        )

    if problems:
        raise InvalidSubmission("invalid submission:\n- " + "\n- ".join(problems))
    aligned = pd.Series(values.to_numpy(), index=ids.to_numpy()).loc[expected.tolist()]
    return pd.DataFrame({"ID": expected.to_numpy(), "Label": aligned.to_numpy(dtype=np.float64)})
