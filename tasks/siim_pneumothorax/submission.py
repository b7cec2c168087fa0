"""Answers (the Kaggle solution file) and the submission validator.

A submission has one row per image: ``ImageId`` and ``EncodedPixels``, a SIIM relative RLE of
the predicted mask over the image's column-major flattening, ``-1`` for no pneumothorax.
Answers carry each image's ``height`` and ``width`` as well, since RLE only makes sense
against an image size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import DataError
from harness.kit.segmentation.rle import relative_runs
from harness.kit.submissions import (
    MAX_EXAMPLES,
    id_problems,
    raise_problems,
    require_columns,
    rle_problems,
)
from harness.kit.task import Submission
from tasks.siim_pneumothorax.layout import IMAGE_DIR, IMAGE_SIZE, TRAIN_CSV, read_train_table

SUBMISSION_COLUMNS: tuple[str, ...] = ("ImageId", "EncodedPixels")
ANSWER_COLUMNS: tuple[str, ...] = ("ImageId", "EncodedPixels", "height", "width")
_CSV_ERRORS = (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError)


def answers_from_table(table: pd.DataFrame) -> pd.DataFrame:
    """The answers of a labelled table (one row per image), sorted by ImageId."""
    answers = table.loc[:, list(ANSWER_COLUMNS)].sort_values("ImageId", kind="stable")
    return answers.astype({"ImageId": str, "EncodedPixels": str}).reset_index(drop=True)


def images(answers: pd.DataFrame) -> np.ndarray:
    """The image of each answers row: each image is its own bootstrap unit."""
    return answers["ImageId"].astype(str).to_numpy()


def read_answers(path: str | Path) -> pd.DataFrame:
    """Answers from a dataset's train-rle.csv or from a solution file.

    A ``train-rle.csv`` next to ``dicom-images-train/`` is read as a whole dataset (rows
    unioned, image sizes from the DICOM headers). Any other file needs the columns ImageId,
    EncodedPixels with one row per image, and may give ``height`` and ``width``; without them
    images are the competition's 1024x1024. Raises DataError naming the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"answers file {path} not found")
    if path.name == TRAIN_CSV and (path.parent / IMAGE_DIR).is_dir():
        return answers_from_table(read_train_table(path.parent))
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
    except _CSV_ERRORS as err:
        raise DataError(f"answers file {path} is not a readable CSV file: {err}") from err
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in SUBMISSION_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"answers file {path} lacks column(s) {', '.join(missing)}; expected a solution file "
            f"with ImageId, EncodedPixels (and optionally height, width), or a dataset's "
            f"{TRAIN_CSV} next to its {IMAGE_DIR}/"
        )
    for column, size in zip(("height", "width"), IMAGE_SIZE, strict=True):
        frame[column] = pd.to_numeric(frame[column]) if column in frame.columns else size
    answers = frame.loc[:, list(ANSWER_COLUMNS)].astype({"height": "int64", "width": "int64"})
    duplicated = answers["ImageId"].duplicated()
    if duplicated.any():
        examples = answers.loc[duplicated, "ImageId"].head(MAX_EXAMPLES).tolist()
        raise DataError(f"answers file {path}: ImageId(s) on several rows, e.g. {examples}")
    columns = (answers[c] for c in ANSWER_COLUMNS)
    for position, (image_id, rle, height, width) in enumerate(zip(*columns, strict=True)):
        try:
            relative_runs(str(rle), (int(height), int(width)))
        except ValueError as err:
            raise DataError(
                f"answers file {path}, row {position + 1} (ImageId {image_id}): {err}"
            ) from err
    return answers.sort_values("ImageId", kind="stable").reset_index(drop=True)


def validate_submission(submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The submission aligned row for row with ``answers``: ImageId, EncodedPixels (text).

    Raises InvalidSubmission listing every problem: missing columns first, then ids (missing,
    repeated, absent from or unknown to the answers), then masks (empty cells, malformed RLE
    against the image's size: odd number of values, non-positive lengths, negative offsets i.e.
    overlapping runs, runs past the image). Rows are numbered from 1, header excluded.
    """
    submission = submission.rename(columns=lambda c: str(c).strip())
    require_columns(submission, SUBMISSION_COLUMNS)
    raw_ids = submission["ImageId"].reset_index(drop=True)
    no_id = (raw_ids.isna() | (raw_ids.astype(str).str.strip() == "")).to_numpy()
    ids = raw_ids.astype(str).str.strip()
    expected = answers["ImageId"].astype(str)
    problems = id_problems(
        ids,
        no_id,
        expected,
        name="ImageId",
        missing_hint=" (write -1 for no pneumothorax)",
    )

    masks = submission["EncodedPixels"].reset_index(drop=True).map(_as_text)
    shapes = dict(zip(expected, zip(answers["height"], answers["width"], strict=True), strict=True))
    problems += rle_problems(ids, masks, shapes, relative_runs, row_label="ImageId {}")

    raise_problems(problems)
    aligned = pd.Series(masks.to_numpy(), index=ids.to_numpy()).loc[expected.tolist()]
    return pd.DataFrame({"ImageId": expected.to_numpy(), "EncodedPixels": aligned.to_numpy()})


def _as_text(value: object) -> str:
    """A cell as RLE text: pandas reads an all ``-1`` column as numbers, an empty cell as NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


SUBMISSION = Submission(
    columns=SUBMISSION_COLUMNS,
    answers=answers_from_table,
    read_answers=read_answers,
    validate=validate_submission,
)
