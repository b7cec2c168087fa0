"""The Kaggle layout of siim-acr-pneumothorax-segmentation: reading it and checking a download.

    <root>/train-rle.csv                       "ImageId, EncodedPixels": one row per annotated
                                               region, " -1" for an image without pneumothorax
    <root>/dicom-images-train/<StudyInstanceUID>/<SeriesInstanceUID>/<ImageId>.dcm
    <root>/dicom-images-test/...                 unlabelled, the same tree (``read_test_images``,
                                               harness predict rows=test)

The CSV's header and values carry a leading space (``ImageId, EncodedPixels``), read away with
``skipinitialspace``. Several rows of one image are one mask: their union. The masks are SIIM
relative RLEs over the column-major flattening of the image (harness.kit.segmentation.rle).

``read_train_table`` is what every run uses: the table, the image files and their headers
(PatientID for the split, Rows x Columns for the masks), no pixel data. ``check_layout`` is
``harness data check``: every problem listed, DICOMs opened (and decoded) up to a limit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import DataError, DataProblem
from harness.kit.file_checks import EVERY_FILE, Checked, Opening, read_checked
from harness.kit.file_index import FileIndex
from harness.kit.imaging.dicom import DicomReadError, read_dicom
from harness.kit.imaging.dicom_tags import read_header_tags
from harness.kit.layout import (
    check_prelude,
    empty_folder_error,
    mismatch_error,
    read_text_csv,
    require_folder,
    require_root,
)
from harness.kit.segmentation.rle import (
    EMPTY_RELATIVE,
    decode_relative,
    encode_relative,
    relative_runs,
)
from harness.kit.task import Layout

log = logging.getLogger(__name__)

TRAIN_CSV = "train-rle.csv"
IMAGE_DIR = "dicom-images-train"
TEST_IMAGE_DIR = "dicom-images-test"
CSV_COLUMNS: tuple[str, ...] = ("ImageId", "EncodedPixels")
"""The columns of Kaggle's train-rle.csv (its header reads ``ImageId, EncodedPixels``)."""
TABLE_COLUMNS: tuple[str, ...] = (
    "ImageId",
    "PatientID",
    "path",
    "height",
    "width",
    "EncodedPixels",
    "has_pneumothorax",
)
LABEL_COLUMNS: tuple[str, ...] = ("EncodedPixels", "has_pneumothorax")
"""Columns that must never reach a holdout view."""
IMAGE_SIZE: tuple[int, int] = (1024, 1024)
"""(Rows, Columns) of every competition image; used where a header has not been read."""

_DOWNLOAD_FIX = (
    "point data.root at the folder holding train-rle.csv and dicom-images-train/ (the "
    "competition's images came through the Cloud Healthcare API; Kaggle mirrors such as "
    "'siim-train-test' keep this layout)"
)
_REDOWNLOAD_FIX = "re-download this file or remove its rows from train-rle.csv"


_HEADER_TAGS = ("PatientID", "Rows", "Columns")


@dataclass(frozen=True)
class ImageHeader:
    patient_id: str
    height: int
    width: int


def read_rle_csv(csv_path: Path) -> pd.DataFrame:
    """train-rle.csv as strings, header and values without their leading spaces.

    Raises DataError when the file is missing, unreadable or lacks a column.
    """
    return read_text_csv(
        csv_path,
        CSV_COLUMNS,
        _DOWNLOAD_FIX,
        "the header 'ImageId, EncodedPixels'",
        skipinitialspace=True,
    )


def find_images(image_dir: Path) -> tuple[dict[str, Path], list[DataProblem]]:
    """ImageId (file stem) -> path of every .dcm under ``image_dir``, at any depth.

    Two files with the same name in different folders are a problem (which one is the image?).
    """
    found: dict[str, Path] = {}
    problems: list[DataProblem] = []
    for path in sorted(image_dir.rglob("*.dcm")):
        if path.stem in found:
            problems.append(
                DataProblem(
                    str(path),
                    f"ImageId {path.stem} also at {found[path.stem]}",
                    "keep one file per ImageId",
                )
            )
            continue
        found[path.stem] = path
    return found, problems


def read_image_header(path: Path) -> ImageHeader:
    """PatientID and size of one DICOM; raises DicomReadError naming the file."""
    header = read_header_tags(path, _HEADER_TAGS, require_pixels=True)
    patient_id = str(header.get("PatientID") or "").strip()
    if not patient_id:
        raise DicomReadError(path, "it has no PatientID (needed to keep a patient on one side)")
    if "Rows" not in header or "Columns" not in header:
        raise DicomReadError(path, "it has no Rows or Columns element")
    return ImageHeader(patient_id, int(header["Rows"]), int(header["Columns"]))


def _header_row(path: Path) -> dict[str, object] | DataProblem:
    """``read_image_header`` as a row of HEADER_INDEX, or the problem of the file."""
    try:
        header = read_image_header(path)
    except DicomReadError as err:
        return DataProblem(str(err.path), err.reason, _REDOWNLOAD_FIX)
    return {"PatientID": header.patient_id, "height": header.height, "width": header.width}


HEADER_INDEX = FileIndex("siim-pneumothorax-headers", ("PatientID", "height", "width"), _header_row)
"""Each image's header values, kept between loads (see harness.kit.file_index)."""
TEST_HEADER_INDEX = FileIndex(
    "siim-pneumothorax-test-headers", ("PatientID", "height", "width"), _header_row
)
"""The same for the unlabelled test images: an index holds the files of its last load, so the
two folders keep one each instead of replacing each other's."""


def row_problems(
    frame: pd.DataFrame, shapes: dict[str, tuple[int, int]], csv_path: Path
) -> list[DataProblem]:
    """Malformed rows of train-rle.csv: no ImageId, bad RLE, ``-1`` mixed with regions.

    Each RLE is checked against its image's size in ``shapes``, else ``IMAGE_SIZE``.
    """
    problems: list[DataProblem] = []
    where = str(csv_path)
    for position, (image_id, rle) in enumerate(frame.itertuples(index=False)):
        line = position + 2
        if not image_id:
            problems.append(DataProblem(where, f"line {line}: no ImageId", "fix or remove it"))
            continue
        try:
            relative_runs(rle, shapes.get(image_id, IMAGE_SIZE))
        except ValueError as err:
            problems.append(
                DataProblem(
                    where,
                    f"line {line} (ImageId {image_id}): malformed EncodedPixels: {err}",
                    "fix or remove the row",
                )
            )
    is_empty = frame["EncodedPixels"] == EMPTY_RELATIVE
    mixed = frame.loc[is_empty, "ImageId"].isin(frame.loc[~is_empty, "ImageId"].unique())
    for image_id in frame.loc[is_empty].loc[mixed, "ImageId"].unique():
        lines = ", ".join(str(i + 2) for i in np.flatnonzero(frame["ImageId"] == image_id))
        problems.append(
            DataProblem(
                where,
                f"ImageId {image_id} is both empty (-1) and has regions (lines {lines})",
                "drop the -1 row or the regions",
            )
        )
    return problems


def union_masks(rles: Iterable[str], shape: tuple[int, int]) -> str:
    """One canonical relative RLE for the union of an image's rows (``-1`` when all empty)."""
    regions = [rle for rle in rles if rle != EMPTY_RELATIVE]
    if len(regions) <= 1:
        return regions[0] if regions else EMPTY_RELATIVE
    mask = np.zeros(shape, dtype=np.uint8)
    for rle in regions:
        mask |= decode_relative(rle, shape)
    return encode_relative(mask)


def read_train_table(root: str | Path) -> pd.DataFrame:
    """One row per annotated image: TABLE_COLUMNS, ``path`` absolute, sorted by ImageId.

    DICOM files without a row in train-rle.csv are left out (they are unlabelled, not
    negative) with a warning. Raises DataError, naming the files, rows and the fix, when a row
    is malformed, an image file is missing or a header is unreadable.
    """
    root = require_root(root, _DOWNLOAD_FIX)
    csv_path, image_dir = root / TRAIN_CSV, root / IMAGE_DIR
    frame = read_rle_csv(csv_path)
    if not image_dir.is_dir():
        raise DataError(f"{image_dir} not found; {_DOWNLOAD_FIX}")
    files, problems = find_images(image_dir)
    image_ids = frame["ImageId"].unique()
    problems += [
        DataProblem(
            str(image_dir), f"no file {image_id}.dcm for ImageId {image_id}", _REDOWNLOAD_FIX
        )
        for image_id in image_ids
        if image_id and image_id not in files
    ]
    found = [image_id for image_id in image_ids if image_id in files]
    headers, unreadable = _headers(HEADER_INDEX, root, [files[i] for i in found])
    problems += unreadable + row_problems(frame, _shapes(headers), csv_path)
    if problems:
        raise mismatch_error(root, list(map(str, problems)), "siim-pneumothorax", root)
    unlabelled = len(files) - len(headers)
    if unlabelled:
        log.warning(
            "%d DICOM file(s) under %s have no row in %s: left out",
            unlabelled,
            image_dir,
            TRAIN_CSV,
        )

    rows = []
    for image_id, group in frame.groupby("ImageId", sort=True):
        header = headers[str(image_id)]
        shape = (header.height, header.width)
        rle = union_masks(group["EncodedPixels"], shape)
        rows.append(
            {
                "ImageId": str(image_id),
                "PatientID": header.patient_id,
                "path": str(files[str(image_id)]),
                "height": header.height,
                "width": header.width,
                "EncodedPixels": rle,
                "has_pneumothorax": int(rle != EMPTY_RELATIVE),
            }
        )
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def read_test_images(root: str | Path) -> pd.DataFrame:
    """Kaggle's unlabelled ``dicom-images-test/`` as a table shaped like a holdout's public
    view: ImageId, PatientID, absolute ``path``, ``height`` and ``width``, by ImageId. Headers
    are kept between loads as the training images' are, in an index of their own.

    Raises DataError when the folder is missing or holds no DICOM, or naming a file that is
    there twice or whose header cannot be read.
    """
    image_dir = require_folder(root, TEST_IMAGE_DIR)
    root = image_dir.parent
    files, problems = find_images(image_dir)
    if not files and not problems:
        raise empty_folder_error(image_dir, ".dcm")
    headers, unreadable = _headers(TEST_HEADER_INDEX, root, list(files.values()))
    problems += unreadable
    if problems:
        raise DataError(
            f"{image_dir}: {len(problems)} problem(s), e.g. {problems[0]}; "
            f"re-download {TEST_IMAGE_DIR}/ from Kaggle"
        )
    ids = sorted(files)
    return pd.DataFrame(
        {
            "ImageId": ids,
            "PatientID": [headers[i].patient_id for i in ids],
            "path": [str(files[i]) for i in ids],
            "height": [headers[i].height for i in ids],
            "width": [headers[i].width for i in ids],
        }
    )


def _headers(
    index: FileIndex, root: Path, paths: list[Path]
) -> tuple[dict[str, ImageHeader], list[DataProblem]]:
    """The header of each readable file of ``paths`` by ImageId, through ``index``, and the
    problems of the others."""
    indexed = index.rows(root, [str(path.relative_to(root)) for path in paths])
    read = indexed.frame
    headers = {
        Path(path).stem: ImageHeader(str(patient), int(height), int(width))
        for path, patient, height, width in zip(
            read["path"], read["PatientID"], read["height"], read["width"], strict=True
        )
    }
    return headers, list(indexed.problems)


def check_layout(
    root: str | Path, *, decode: bool = True, opening: Opening = EVERY_FILE
) -> list[DataProblem]:
    """Every problem with a dataset on disk; an empty list means ``read_train_table`` succeeds,
    every DICOM has a row and, among those opened, every file reads (and decodes).

    The image files that ``opening`` chooses (all by default, in ImageId order) are opened;
    with ``decode`` their pixel data is decoded too. RLEs of images not opened are checked
    against the competition's 1024x1024.
    """
    prelude = check_prelude(
        root, csv_name=TRAIN_CSV, image_dir=IMAGE_DIR, fix=_DOWNLOAD_FIX, read=read_rle_csv
    )
    frame, problems = prelude.frame, prelude.problems
    image_dir = prelude.root / IMAGE_DIR
    files: dict[str, Path] = {}
    if image_dir.is_dir():
        files, duplicates = find_images(image_dir)
        problems += duplicates
    if frame is None:
        return problems

    opened, headers = opening.open_files(
        partial(_open_image, decode=decode), sorted(files.items()), decode=decode
    )
    problems += opened
    problems += row_problems(frame, _shapes(headers), prelude.root / TRAIN_CSV)
    listed = set(frame["ImageId"])
    if image_dir.is_dir():
        problems += [
            DataProblem(
                str(image_dir),
                f"no file {image_id}.dcm for ImageId {image_id} (line "
                f"{int(np.flatnonzero(frame['ImageId'] == image_id)[0]) + 2} of {TRAIN_CSV})",
                _REDOWNLOAD_FIX,
            )
            for image_id in sorted(listed - set(files) - {""})
        ]
    problems += [
        DataProblem(
            str(files[image_id]),
            f"image without a row in {TRAIN_CSV}",
            "add its row (' -1' when it shows no pneumothorax) or remove the file",
        )
        for image_id in sorted(set(files) - listed)
    ]
    return problems


def _open_image(item: tuple[str, Path], *, decode: bool) -> Checked[ImageHeader]:
    """One DICOM's header and its problem, if any (run in a worker process)."""
    return read_checked(
        item[1],
        read_image_header,
        decode=read_dicom if decode else None,
        error=DicomReadError,
        problem=lambda err: DataProblem(
            str(err.path), f"unreadable DICOM: {err.reason}", _REDOWNLOAD_FIX
        ),
    )


def _shapes(headers: dict[str, ImageHeader]) -> dict[str, tuple[int, int]]:
    return {image_id: (h.height, h.width) for image_id, h in headers.items()}


LAYOUT = Layout(
    check=check_layout,
    load=read_train_table,
    label_columns=LABEL_COLUMNS,
    load_unlabelled=read_test_images,
)
