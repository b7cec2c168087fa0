"""The Kaggle layout of rsna-breast-cancer-detection: reading it and checking a download.

    <root>/train.csv
    <root>/train_images/<patient_id>/<image_id>.dcm
    <root>/test.csv, <root>/test_images/...   (unlabelled: ``read_test_csv``, harness predict)

``read_train_csv`` is the fast path used by every run: it checks the table only. ``check_layout``
is ``harness data check``: it also looks for every image file and opens (and decodes) them.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import DataError, DataProblem
from harness.kit.file_checks import EVERY_FILE, Checked, Opening, files_per_chunk
from harness.kit.imaging.dicom import DicomReadError, read_dicom, read_header
from harness.kit.layout import (
    check_prelude,
    csv_lines,
    find_files,
    header_problems,
    mismatch_error,
    read_label_csv,
    require_root,
)
from harness.kit.task import Layout

COLUMNS: tuple[str, ...] = (
    "site_id",
    "patient_id",
    "image_id",
    "laterality",
    "view",
    "age",
    "cancer",
    "biopsy",
    "invasive",
    "BIRADS",
    "implant",
    "density",
    "machine_id",
    "difficult_negative_case",
)
"""The columns of Kaggle's train.csv, in file order."""

LABEL_COLUMNS: tuple[str, ...] = (
    "cancer",
    "biopsy",
    "invasive",
    "BIRADS",
    "difficult_negative_case",
)
"""Columns derived from follow-up or diagnosis: they must never reach a holdout view."""

TRAIN_CSV = "train.csv"
IMAGE_DIR = "train_images"
TEST_CSV = "test.csv"
TEST_IMAGE_DIR = "test_images"
TEST_COLUMNS: tuple[str, ...] = tuple(
    c for c in COLUMNS if c not in LABEL_COLUMNS and c != "density"
)
"""The columns of Kaggle's test.csv that a holdout view also has: train.csv's without the
labels and ``density`` (test.csv adds prediction_id; a view of the hidden test shows density as
missing)."""
LATERALITIES: tuple[str, ...] = ("L", "R")

_DOWNLOAD_FIX = (
    "point data.root at the folder holding train.csv and train_images/ from the Kaggle download "
    "(kaggle competitions download -c rsna-breast-cancer-detection)"
)
_TEST_DOWNLOAD_FIX = (
    "point data= at the folder holding test.csv and test_images/ from the Kaggle download "
    "(kaggle competitions download -c rsna-breast-cancer-detection)"
)
_REDOWNLOAD_FIX = (
    "re-download this file from Kaggle; if every file fails to decode, check that pylibjpeg, "
    "pylibjpeg-openjpeg and pylibjpeg-libjpeg are installed"
)
_MAX_EXAMPLES = 5


def prediction_ids(table: pd.DataFrame) -> pd.Series:
    """The scoring unit of each row: ``f"{patient_id}_{laterality}"`` (one breast)."""
    return table["patient_id"].astype(str) + "_" + table["laterality"].astype(str)


def read_train_csv(root: str | Path) -> pd.DataFrame:
    """The labelled train table with an absolute ``path`` and a ``prediction_id`` column.

    Checks the table only (columns, ids, laterality, cancer, duplicate image ids), not the images:
    ``check_layout`` does that. Raises DataError naming the file, the problem and the fix.
    Columns beyond Kaggle's 14 are dropped so that no unexpected column reaches a solution.
    """
    root = require_root(root, _DOWNLOAD_FIX)
    csv_path = root / TRAIN_CSV
    frame = read_label_csv(csv_path, _DOWNLOAD_FIX)
    problems = _table_problems(frame, csv_path)
    if problems:
        listed = [f"{p.problem} ({p.fix})" for p in problems]
        raise mismatch_error(csv_path, listed, "rsna-breast", root)
    table = frame.loc[:, list(COLUMNS)].copy()
    for column in ("patient_id", "image_id", "cancer"):
        table[column] = pd.to_numeric(table[column]).astype("int64")
    prefix = str(root / IMAGE_DIR) + os.sep
    table["path"] = (
        prefix + table["patient_id"].astype(str) + os.sep + table["image_id"].astype(str) + ".dcm"
    )
    table["prediction_id"] = prediction_ids(table)
    return table


def read_test_csv(root: str | Path) -> pd.DataFrame:
    """Kaggle's unlabelled test folder as a table shaped like a holdout's public view: every
    column a solution sees on the holdout (``density`` missing, as Kaggle gives none), an
    absolute ``path`` under ``test_images/`` and ``prediction_id``.

    Raises DataError naming test.csv's missing columns or the image files that are not there.
    """
    root = require_root(root, _TEST_DOWNLOAD_FIX)
    csv_path = root / TEST_CSV
    frame = read_label_csv(csv_path, _TEST_DOWNLOAD_FIX)
    missing = [c for c in TEST_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{csv_path}: missing column(s) {', '.join(missing)}; Kaggle's test.csv has "
            f"{', '.join(TEST_COLUMNS)} and prediction_id"
        )
    table = frame.loc[:, list(TEST_COLUMNS)].copy()
    for column in ("patient_id", "image_id"):
        table[column] = pd.to_numeric(table[column]).astype("int64")
    table["density"] = pd.Series(np.nan, index=table.index, dtype="str")
    table = table.loc[:, [c for c in COLUMNS if c not in LABEL_COLUMNS]]
    prefix = str(root / TEST_IMAGE_DIR) + os.sep
    table["path"] = (
        prefix + table["patient_id"].astype(str) + os.sep + table["image_id"].astype(str) + ".dcm"
    )
    absent = [p for p in table["path"] if not os.path.isfile(p)]
    if absent:
        raise DataError(
            f"{csv_path}: {len(absent)} image file(s) of test.csv are not there, e.g. "
            f"{absent[0]}; unpack test_images/ beside it"
        )
    table["prediction_id"] = prediction_ids(table)
    return table


def check_layout(
    root: str | Path, *, decode: bool = True, opening: Opening = EVERY_FILE
) -> list[DataProblem]:
    """Every problem with a dataset on disk; an empty list means ``read_train_csv`` succeeds and
    every image file exists and, among those opened, reads (and decodes).

    Every row's image file is looked for. The files found that ``opening`` chooses (all by
    default) are opened: their header is read and checked to hold all of the pixel data it
    declares, which catches empty and truncated files; with ``decode`` their pixel data is
    decoded too, which also catches missing JPEG 2000 / JPEG lossless decoders, at the cost of
    time.
    """
    prelude = check_prelude(
        root,
        csv_name=TRAIN_CSV,
        image_dir=IMAGE_DIR,
        fix=_DOWNLOAD_FIX,
        read=partial(read_label_csv, fix=_DOWNLOAD_FIX),
    )
    frame, problems = prelude.frame, prelude.problems
    if frame is None:
        return problems
    image_dir = prelude.root / IMAGE_DIR
    problems.extend(_table_problems(frame, prelude.root / TRAIN_CSV))
    if image_dir.is_dir() and {"patient_id", "image_id"} <= set(frame.columns):
        problems.extend(_image_problems(frame, image_dir, decode=decode, opening=opening))
    return problems


def _examples(values: pd.Series) -> str:
    return ", ".join(repr(v) for v in values.unique()[:_MAX_EXAMPLES].tolist())


def _not_integer(column: pd.Series) -> pd.Series:
    """Rows whose value is missing or not an integer (e.g. '12a', 3.5)."""
    numeric = pd.to_numeric(column, errors="coerce").astype("float64")
    return pd.Series(~np.isfinite(numeric) | (numeric != numeric.round()), index=column.index)


def _table_problems(frame: pd.DataFrame, csv_path: Path) -> list[DataProblem]:
    where = str(csv_path)
    problems = header_problems(frame, COLUMNS, csv_path, _DOWNLOAD_FIX)
    if frame.empty:
        return problems

    for column in ("site_id", "patient_id", "image_id", "machine_id"):
        if column in frame.columns:
            bad = _not_integer(frame[column])
            if bad.any():
                problems.append(
                    DataProblem(
                        where,
                        f"{column} must be an integer: {int(bad.sum())} row(s) are not, e.g. "
                        f"{_examples(frame.loc[bad, column])} on line(s) {csv_lines(bad)}",
                        "fix or remove those rows",
                    )
                )
    if "laterality" in frame.columns:
        bad = ~frame["laterality"].isin(LATERALITIES)
        if bad.any():
            problems.append(
                DataProblem(
                    where,
                    f"laterality must be L or R: {int(bad.sum())} row(s) are not, e.g. "
                    f"{_examples(frame.loc[bad, 'laterality'])} on line(s) {csv_lines(bad)}",
                    "fix or remove those rows",
                )
            )
    if "cancer" in frame.columns:
        bad = ~frame["cancer"].isin((0, 1))
        if bad.any():
            problems.append(
                DataProblem(
                    where,
                    f"cancer must be 0 or 1: {int(bad.sum())} row(s) are not, e.g. "
                    f"{_examples(frame.loc[bad, 'cancer'])} on line(s) {csv_lines(bad)}",
                    "fix or remove those rows",
                )
            )
    if "image_id" in frame.columns:
        duplicated = frame["image_id"].duplicated(keep=False) & frame["image_id"].notna()
        for image_id, rows in frame.loc[duplicated].groupby("image_id", sort=True).groups.items():
            lines = ", ".join(str(int(i) + 2) for i in rows)
            problems.append(
                DataProblem(
                    where,
                    f"image_id {image_id} appears on several lines ({lines})",
                    "keep one row per image",
                )
            )
    return problems


def _image_problems(
    frame: pd.DataFrame, image_dir: Path, *, decode: bool, opening: Opening
) -> list[DataProblem]:
    """Missing files for every row with valid ids, then unreadable DICOMs among those opened."""
    valid = ~(_not_integer(frame["patient_id"]) | _not_integer(frame["image_id"]))
    ids = frame.loc[valid, ["patient_id", "image_id"]].astype("int64")
    paths = [
        (image_dir / str(patient_id) / f"{image_id}.dcm", patient_id, image_id)
        for patient_id, image_id in ids.itertuples(index=False)
    ]
    found, problems = find_files(
        paths,
        lambda item: item[0],
        lambda item: f"image file missing (patient_id {item[1]}, image_id {item[2]})",
        "re-download train_images/ or remove the row from train.csv",
    )
    opened = opening.run(
        partial(_open_image, decode=decode),
        [(path, image_id) for path, _, image_id in found],
        chunk_size=files_per_chunk(decode),
    )
    return problems + [p for _, checked in opened for p in checked.problems]


def _open_image(item: tuple[Path, int], *, decode: bool) -> Checked[None]:
    """The problem of one DICOM file, if any (run in a worker process)."""
    path, image_id = item
    try:
        if decode:
            read_dicom(path)
        else:
            read_header(path, require_pixels=True)  # also catches a file cut short
    except DicomReadError as err:
        problem = DataProblem(
            str(path), f"unreadable DICOM (image_id {image_id}): {err.reason}", _REDOWNLOAD_FIX
        )
        return Checked((problem,))
    return Checked()


LAYOUT = Layout(
    check=check_layout,
    load=read_train_csv,
    label_columns=LABEL_COLUMNS,
    load_unlabelled=read_test_csv,
)
