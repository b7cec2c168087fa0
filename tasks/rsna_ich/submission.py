"""Answers (the Kaggle solution file), the submission validator, and building a submission.

A submission is Kaggle's ``ID,Label``: six rows per image, ``ID = ID_<image>_<subtype>`` and
``Label`` a probability in [0, 1]. The answers have the same two columns plus
``StudyInstanceUID``, the bootstrap unit (``Task.groups``), and are sorted by ID.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from harness.api import DataError
from harness.kit.layout import read_answers_csv
from harness.kit.submissions import (
    MAX_EXAMPLES,
    validate_probabilities,
)
from harness.kit.task import Submission
from tasks.rsna_ich.layout import ID_PATTERN, SUBTYPES, deduplicate_labels, label_id

SUBMISSION_COLUMNS: tuple[str, ...] = ("ID", "Label")
GROUP_COLUMN = "StudyInstanceUID"


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
    image_ids = table["image_id"].astype(str)
    order = _images_by_id(image_ids)
    if order is None:
        return _answers_by_string_sort(table)
    by_name = np.argsort(np.asarray(SUBTYPES))  # an image's IDs differ in the subtype only
    rows = np.repeat(order, len(SUBTYPES))
    subtypes = np.tile(by_name, len(order))
    suffixes = np.asarray([f"_{subtype}" for subtype in SUBTYPES], dtype=object)[subtypes]
    labels = table[list(SUBTYPES)].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "ID": image_ids.take(rows).reset_index(drop=True) + suffixes,
            "Label": labels[rows, subtypes],
            GROUP_COLUMN: table[GROUP_COLUMN].astype(str).take(rows).reset_index(drop=True),
        }
    )


def _images_by_id(image_ids: pd.Series) -> np.ndarray | None:
    """The rows in the order of their answers' IDs, sorting the images rather than six times
    as many ``ID_<image>_<subtype>`` strings (0.5 s of a run's start-up at Kaggle's size).

    That order is the images' when the image ids are distinct and of one length (Kaggle's:
    ``ID_`` and 9 hex digits). Otherwise None: an id that is the start of another sorts
    differently with a suffix (``"ID_a_any" > "ID_a0_any"``)."""
    values = pa.array(image_ids)
    lengths = pc.utf8_length(values)
    if len(values) and pc.min_max(lengths)["min"] != pc.min_max(lengths)["max"]:
        return None
    order = pc.sort_indices(values).to_numpy()
    ordered = values.take(pa.array(order))
    if pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py():
        return None
    return order


def _answers_by_string_sort(table: pd.DataFrame) -> pd.DataFrame:
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
    frame = read_answers_csv(path, dtype={"ID": str})
    if not set(SUBMISSION_COLUMNS) <= set(frame.columns):
        raise DataError(
            f"answers file {path} has columns {', '.join(map(str, frame.columns))}; expected "
            "ID, Label (a solution file or stage_2_train.csv)"
        )
    bad = ~frame["Label"].isin((0, 1)) | ~frame["ID"].astype(str).str.fullmatch(ID_PATTERN)
    if bad.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad.to_numpy())[:MAX_EXAMPLES])
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


def validate_submission(submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The submission aligned row for row with ``answers`` (ID, float Label).

    Raises InvalidSubmission listing every problem: missing columns first (nothing else can be
    checked without them), then IDs (empty, duplicate, missing, unknown) and Label values (not a
    number, NaN/inf, outside [0, 1]). Rows are numbered from 1, header excluded. Extra columns
    are ignored.
    """
    return validate_probabilities(
        submission,
        answers,
        id_column="ID",
        value_column="Label",
        clip_note="the log loss would clip them, but the harness rejects them as a likely bug "
        "(logits instead of probabilities?)",
        missing_hint=" (every image needs all six subtypes)",
        unknown_hint=" (IDs are ID_<image>_<subtype>, subtype one of " + ", ".join(SUBTYPES) + ")",
    )


SUBMISSION = Submission(
    columns=SUBMISSION_COLUMNS,
    answers=answers_from_table,
    read_answers=read_answers,
    validate=validate_submission,
)
