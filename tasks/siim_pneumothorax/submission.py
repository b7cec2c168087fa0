"""Answers (the Kaggle solution file) and the submission validator.

A submission has one row per image: ``ImageId`` and ``EncodedPixels``, a SIIM relative RLE of
the predicted mask over the image's column-major flattening, ``-1`` for no pneumothorax.
Answers carry each image's ``height`` and ``width`` as well, since RLE only makes sense
against an image size.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from harness.kit.segmentation.rle import relative_runs
from harness.kit.segmentation.submission import (
    LabelledDataset,
    RleFormat,
    cell_text,
    read_rle_answers,
    validate_rle_submission,
)
from harness.kit.task import Submission
from tasks.siim_pneumothorax.layout import IMAGE_DIR, IMAGE_SIZE, TRAIN_CSV, read_train_table

SUBMISSION_COLUMNS: tuple[str, ...] = ("ImageId", "EncodedPixels")
ANSWER_COLUMNS: tuple[str, ...] = ("ImageId", "EncodedPixels", "height", "width")
RLE = RleFormat(
    id_column="ImageId", runs=relative_runs, row_label="ImageId {}", image_size=IMAGE_SIZE
)


def answers_from_table(table: pd.DataFrame) -> pd.DataFrame:
    """The answers of a labelled table (one row per image), sorted by ImageId."""
    answers = table.loc[:, list(ANSWER_COLUMNS)].sort_values("ImageId", kind="stable")
    return answers.astype({"ImageId": str, "EncodedPixels": str}).reset_index(drop=True)


def images(answers: pd.DataFrame) -> np.ndarray:
    """The image of each answers row: each image is its own bootstrap unit."""
    return answers["ImageId"].astype(str).to_numpy()


DATASET = LabelledDataset(
    TRAIN_CSV, IMAGE_DIR, lambda root: answers_from_table(read_train_table(root))
)


def read_answers(path: str | Path) -> pd.DataFrame:
    """Answers from a dataset's train-rle.csv or from a solution file.

    A ``train-rle.csv`` next to ``dicom-images-train/`` is read as a whole dataset (rows
    unioned, image sizes from the DICOM headers). Any other file needs the columns ImageId,
    EncodedPixels with one row per image, and may give ``height`` and ``width``; without them
    images are the competition's 1024x1024. Raises DataError naming the problem.
    """
    answers = read_rle_answers(path, RLE, dataset=DATASET, skipinitialspace=True)
    return answers.sort_values("ImageId", kind="stable").reset_index(drop=True)


def validate_submission(submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The submission aligned row for row with ``answers``: ImageId, EncodedPixels (text).

    Raises InvalidSubmission listing every problem: missing columns first, then ids (missing,
    repeated, absent from or unknown to the answers), then masks (empty cells, malformed RLE
    against the image's size: odd number of values, non-positive lengths, negative offsets i.e.
    overlapping runs, runs past the image). Rows are numbered from 1, header excluded.
    """
    return validate_rle_submission(
        submission,
        answers,
        RLE,
        missing_hint=" (write -1 for no pneumothorax)",
        as_text=partial(cell_text, whole_floats_as_integers=True),
    )


SUBMISSION = Submission(
    columns=SUBMISSION_COLUMNS,
    answers=answers_from_table,
    read_answers=read_answers,
    validate=validate_submission,
)
