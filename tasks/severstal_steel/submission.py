"""Answers (the Kaggle solution file) and the submission validator.

A submission is the competition's ``ImageId_ClassId,EncodedPixels``: four rows per image
(``0002cc93b.jpg_1`` ... ``_4``), each an absolute RLE (1-based start, length, column-major)
of the predicted mask of that class, the empty string for no defect. Answers carry each image's
``height`` and ``width`` as well, since an RLE only makes sense against an image size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.kit.segmentation.rle import absolute_runs
from harness.kit.segmentation.submission import (
    LabelledDataset,
    RleFormat,
    cell_text,
    read_rle_answers,
    validate_rle_submission,
)
from harness.kit.submissions import (
    MAX_EXAMPLES,
)
from harness.kit.task import Submission
from tasks.severstal_steel.layout import (
    CLASS_IDS,
    IMAGE_DIR,
    IMAGE_SIZE,
    MASK_COLUMNS,
    TRAIN_CSV,
    read_train_table,
)

ID_COLUMN = "ImageId_ClassId"
SUBMISSION_COLUMNS: tuple[str, ...] = (ID_COLUMN, "EncodedPixels")
RLE = RleFormat(id_column=ID_COLUMN, runs=absolute_runs, row_label="{}", image_size=IMAGE_SIZE)


def pair_id(image_id: str, class_id: int) -> str:
    """The submission's row id of one (image, class) pair: ``f"{ImageId}_{ClassId}"``."""
    return f"{image_id}_{class_id}"


def image_ids(pair_ids: pd.Series) -> pd.Series:
    """The ImageId part of ``ImageId_ClassId`` values."""
    return pair_ids.astype(str).str.rsplit("_", n=1).str[0]


def images(answers: pd.DataFrame) -> np.ndarray:
    """The image of each (image, class) row: the bootstrap resamples whole images."""
    return image_ids(answers[ID_COLUMN]).to_numpy()


def answers_from_table(table: pd.DataFrame) -> pd.DataFrame:
    """Four answer rows per image of a labelled table, by ImageId then ClassId."""
    table = table.sort_values("ImageId", kind="stable")
    n_classes = len(CLASS_IDS)
    images = np.repeat(table["ImageId"].astype(str).to_numpy(), n_classes)
    classes = np.tile(CLASS_IDS, len(table))
    return pd.DataFrame(
        {
            ID_COLUMN: [pair_id(i, int(k)) for i, k in zip(images, classes, strict=True)],
            "EncodedPixels": table[list(MASK_COLUMNS)].astype(str).to_numpy().ravel(),
            "height": np.repeat(table["height"].to_numpy(np.int64), n_classes),
            "width": np.repeat(table["width"].to_numpy(np.int64), n_classes),
        }
    )


DATASET = LabelledDataset(
    TRAIN_CSV, IMAGE_DIR, lambda root: answers_from_table(read_train_table(root))
)


def read_answers(path: str | Path) -> pd.DataFrame:
    """Answers from a dataset's train.csv or from a solution file.

    A ``train.csv`` next to ``train_images/`` is read as a whole dataset (every image, four
    rows each, sizes from the JPEG headers). Any other file needs the columns ImageId_ClassId,
    EncodedPixels, one row per pair, and may give ``height`` and ``width``; without them images
    are the competition's 256x1600. Raises DataError naming the problem.
    """
    answers = read_rle_answers(path, RLE, dataset=DATASET, id_problem=_pair_id_problem)
    ids = answers[ID_COLUMN]
    order = np.lexsort((ids.str.rsplit("_", n=1).str[1], image_ids(ids)))
    return answers.iloc[order].reset_index(drop=True)


def _pair_id_problem(ids: pd.Series) -> str | None:
    bad = ~ids.str.fullmatch(r".+_[1-4]")
    if not bad.any():
        return None
    examples = ids[bad].head(MAX_EXAMPLES).tolist()
    return f"{ID_COLUMN} must end in _1 to _4, e.g. 0002cc93b.jpg_3; found {examples}"


def validate_submission(submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The submission aligned row for row with ``answers``: ImageId_ClassId, EncodedPixels.

    Raises InvalidSubmission listing every problem: missing columns first, then ids (empty,
    repeated, absent from or unknown to the answers), then masks (malformed RLE against the
    image's size: non-integers, an odd number of values, starts below 1, non-positive lengths,
    unsorted or overlapping runs, runs past the image). Rows are numbered from 1, header
    excluded. An empty cell is an empty mask.
    """
    return validate_rle_submission(
        submission,
        answers,
        RLE,
        missing_hint=" (write four rows per image, ClassId 1 to 4, with an empty EncodedPixels "
        "for no defect)",
        unknown_hint=" (ids are <ImageId>_<ClassId> with the ImageId's .jpg and ClassId 1 to 4)",
        as_text=cell_text,
    )


SUBMISSION = Submission(
    columns=SUBMISSION_COLUMNS,
    answers=answers_from_table,
    read_answers=read_answers,
    validate=validate_submission,
)
