"""The Kaggle layout of severstal-steel-defect-detection: reading it and checking a download.

    <root>/train.csv               ImageId,ClassId,EncodedPixels: one row per (image, defect
                                   class) present; an image without a row is defect-free
    <root>/train_images/<ImageId>  e.g. 0002cc93b.jpg: a 256 x 1600 JPEG, 3 channels (grey)
    <root>/test_images/<ImageId>   unlabelled (``read_test_images``, harness predict rows=test)

ImageId is the file name, extension included, as in Kaggle's CSV. Masks are absolute RLEs
(1-based start, length) over the column-major flattening of the image
(``harness.kit.segmentation.rle.absolute_runs``), unlike SIIM's relative RLE.

``read_train_table`` is what every run uses: one row per JPEG in ``train_images/`` with its four
class masks and its size from the JPEG header (no decoding). ``check_layout`` is
``harness data check``: every problem listed, JPEGs decoded up to a limit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from harness.api import DataError, DataProblem
from harness.kit.file_checks import EVERY_FILE, Checked, Opening, read_checked
from harness.kit.layout import (
    check_prelude,
    empty_folder_error,
    mismatch_error,
    read_text_csv,
    require_folder,
    require_root,
)
from harness.kit.segmentation.rle import absolute_runs
from harness.kit.task import Layout

TRAIN_CSV = "train.csv"
IMAGE_DIR = "train_images"
TEST_IMAGE_DIR = "test_images"
IMAGE_SUFFIX = ".jpg"
CSV_COLUMNS: tuple[str, ...] = ("ImageId", "ClassId", "EncodedPixels")
CLASS_IDS: tuple[int, ...] = (1, 2, 3, 4)
IMAGE_SIZE: tuple[int, int] = (256, 1600)
"""(height, width) of every competition image; used where a header has not been read."""
IMAGE_CHANNELS = 3
MASK_COLUMNS: tuple[str, ...] = tuple(f"EncodedPixels_{k}" for k in CLASS_IDS)
"""One absolute RLE per class in the table, ``""`` when the image has no defect of that class."""
TABLE_COLUMNS: tuple[str, ...] = ("ImageId", "path", "height", "width", *MASK_COLUMNS, "classes")
LABEL_COLUMNS: tuple[str, ...] = (*MASK_COLUMNS, "classes")
"""Columns that must never reach a holdout view. ``classes`` lists the defect classes present,
e.g. ``"3 4"``, ``""`` for a defect-free image (the split's strata)."""

_DOWNLOAD_FIX = (
    "point data.root at the folder holding train.csv and train_images/ from the Kaggle download "
    "(kaggle competitions download -c severstal-steel-defect-detection)"
)
_REDOWNLOAD_FIX = "re-download this file from Kaggle or remove it and its rows from train.csv"


class ImageReadError(Exception):
    """A JPEG that cannot be opened or decoded; ``path`` and ``reason`` say which and why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class ImageInfo:
    height: int
    width: int
    channels: int


def read_image_info(path: Path) -> ImageInfo:
    """Size and channel count from a JPEG's header (no decoding); raises ImageReadError."""
    try:
        with Image.open(path) as image:
            if image.format != "JPEG":
                raise ImageReadError(path, f"it is a {image.format} file, not a JPEG")
            width, height = image.size
            return ImageInfo(height, width, len(image.getbands()))
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(path, f"unreadable JPEG ({type(err).__name__}: {err})") from err


def read_grey(path: Path) -> np.ndarray:
    """The decoded image as a (height, width) uint8 grey array; raises ImageReadError.

    Pillow refuses truncated files (OpenCV would return a half-grey image without an error).
    """
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"))
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(path, f"unreadable JPEG ({type(err).__name__}: {err})") from err


def read_defect_csv(csv_path: Path) -> pd.DataFrame:
    """train.csv as stripped strings (CSV_COLUMNS); raises DataError when missing or malformed."""
    return read_text_csv(
        csv_path,
        CSV_COLUMNS,
        _DOWNLOAD_FIX,
        f"the header '{','.join(CSV_COLUMNS)}' (the competition's second train.csv; the first "
        "one, with ImageId_ClassId, was replaced during the competition)",
    )


def find_images(image_dir: Path) -> dict[str, Path]:
    """ImageId (file name) -> path of every JPEG directly in ``image_dir``."""
    return {path.name: path for path in sorted(image_dir.glob(f"*{IMAGE_SUFFIX}"))}


def row_problems(
    frame: pd.DataFrame, sizes: dict[str, tuple[int, int]], csv_path: Path
) -> list[DataProblem]:
    """Malformed rows of train.csv: no ImageId, ClassId outside 1-4, missing or bad RLE, and an
    (ImageId, ClassId) pair on several lines. RLEs are checked against ``sizes``, else
    IMAGE_SIZE."""
    where = str(csv_path)
    problems: list[DataProblem] = []
    for position, (image_id, class_id, rle) in enumerate(frame.itertuples(index=False)):
        line = f"line {position + 2}"
        if not image_id:
            problems.append(DataProblem(where, f"{line}: no ImageId", "fix or remove the row"))
            continue
        if class_id not in {str(k) for k in CLASS_IDS}:
            problems.append(
                DataProblem(
                    where,
                    f"{line} (ImageId {image_id}): ClassId must be 1, 2, 3 or 4, got {class_id!r}",
                    "fix or remove the row",
                )
            )
        if not rle:
            problems.append(
                DataProblem(
                    where,
                    f"{line} (ImageId {image_id}): no EncodedPixels (train.csv lists defects "
                    "only; a defect-free image has no row)",
                    "remove the row",
                )
            )
            continue
        try:
            absolute_runs(rle, sizes.get(image_id, IMAGE_SIZE))
        except ValueError as err:
            problems.append(
                DataProblem(
                    where,
                    f"{line} (ImageId {image_id}, ClassId {class_id}): malformed EncodedPixels: "
                    f"{err}",
                    "fix or remove the row",
                )
            )
    named = frame.loc[frame["ImageId"] != ""]
    pairs = "ImageId " + named["ImageId"] + ", ClassId " + named["ClassId"]
    for pair, rows in pairs[pairs.duplicated(keep=False)].groupby(pairs).groups.items():
        lines = ", ".join(str(int(i) + 2) for i in rows)
        problems.append(
            DataProblem(
                where,
                f"{pair} appears on several lines ({lines})",
                "keep one row per image and class (the union of its regions)",
            )
        )
    return problems


def read_train_table(root: str | Path) -> pd.DataFrame:
    """One row per JPEG in ``train_images/``: TABLE_COLUMNS, ``path`` absolute, by ImageId.

    Raises DataError naming the files, lines and the fix when a row is malformed, names an image
    that is not there, or an image header cannot be read.
    """
    root = require_root(root, _DOWNLOAD_FIX)
    csv_path, image_dir = root / TRAIN_CSV, root / IMAGE_DIR
    frame = read_defect_csv(csv_path)
    if not image_dir.is_dir():
        raise DataError(f"{image_dir} not found; {_DOWNLOAD_FIX}")
    files = find_images(image_dir)
    infos, unreadable = _image_infos(files)
    problems = _rows_without_file(frame, files, image_dir) + unreadable
    problems += row_problems(frame, _sizes(infos), csv_path)
    if problems:
        raise mismatch_error(root, list(map(str, problems)), "severstal-steel", root)
    if not files:
        raise DataError(f"{image_dir} holds no {IMAGE_SUFFIX} file; {_DOWNLOAD_FIX}")

    masks = {(str(i), int(k)): str(rle) for i, k, rle in frame.itertuples(index=False)}
    rows = []
    for image_id, path in files.items():
        rles = [masks.get((image_id, k), "") for k in CLASS_IDS]
        rows.append(
            {
                "ImageId": image_id,
                "path": str(path),
                "height": infos[image_id].height,
                "width": infos[image_id].width,
                **dict(zip(MASK_COLUMNS, rles, strict=True)),
                "classes": " ".join(str(k) for k, rle in zip(CLASS_IDS, rles, strict=True) if rle),
            }
        )
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def read_test_images(root: str | Path) -> pd.DataFrame:
    """Kaggle's unlabelled ``test_images/`` as a table shaped like a holdout's public view:
    ImageId, absolute ``path``, ``height`` and ``width`` from the JPEG headers, by ImageId.

    Raises DataError when the folder is missing or empty, or naming every unreadable JPEG.
    """
    image_dir = require_folder(root, TEST_IMAGE_DIR)
    files = find_images(image_dir)
    if not files:
        raise empty_folder_error(image_dir, IMAGE_SUFFIX)
    infos, problems = _image_infos(files)
    if problems:
        raise DataError(
            f"{image_dir}: {len(problems)} unreadable JPEG(s), e.g. {problems[0].path}: "
            f"{problems[0].problem}; re-download {TEST_IMAGE_DIR}/ from Kaggle"
        )
    return pd.DataFrame(
        {
            "ImageId": list(files),
            "path": [str(path) for path in files.values()],
            "height": [infos[i].height for i in files],
            "width": [infos[i].width for i in files],
        }
    )


def _image_infos(files: dict[str, Path]) -> tuple[dict[str, ImageInfo], list[DataProblem]]:
    """Each readable JPEG's header, and a problem for each unreadable one."""
    infos: dict[str, ImageInfo] = {}
    problems: list[DataProblem] = []
    for image_id, path in files.items():
        try:
            infos[image_id] = read_image_info(path)
        except ImageReadError as err:
            problems.append(DataProblem(str(err.path), err.reason, _REDOWNLOAD_FIX))
    return infos, problems


def check_layout(
    root: str | Path, *, decode: bool = True, opening: Opening = EVERY_FILE
) -> list[DataProblem]:
    """Every problem with a dataset on disk; an empty list means ``read_train_table`` succeeds
    and every JPEG opened reads (and decodes), has 3 channels and the dataset's size.

    The images that ``opening`` chooses (all by default, by ImageId) are opened; with
    ``decode`` their pixels are decoded too, which catches truncated files. An image whose size
    differs from the most common size among those opened is a problem (the competition's are
    all 256 x 1600; a synthetic or resized copy is fine as long as it is uniform). RLEs of
    images not opened are checked against 256 x 1600.
    """
    prelude = check_prelude(
        root, csv_name=TRAIN_CSV, image_dir=IMAGE_DIR, fix=_DOWNLOAD_FIX, read=read_defect_csv
    )
    frame, problems = prelude.frame, prelude.problems
    if frame is None:
        return problems
    csv_path, image_dir = prelude.root / TRAIN_CSV, prelude.root / IMAGE_DIR
    files = find_images(image_dir) if image_dir.is_dir() else {}

    opened, infos = opening.open_files(
        partial(_open_image, decode=decode), list(files.items()), decode=decode
    )
    problems += opened
    problems += _image_shape_problems(infos, files)
    problems += row_problems(frame, _sizes(infos), csv_path)
    if image_dir.is_dir():
        problems += _rows_without_file(frame, files, image_dir)
    return problems


def _open_image(item: tuple[str, Path], *, decode: bool) -> Checked[ImageInfo]:
    """One JPEG's size and channels and its problem, if any (run in a worker process)."""
    return read_checked(
        item[1],
        read_image_info,
        decode=read_grey if decode else None,
        error=ImageReadError,
        problem=lambda err: DataProblem(str(err.path), err.reason, _REDOWNLOAD_FIX),
    )


def _image_shape_problems(infos: dict[str, ImageInfo], files: dict[str, Path]) -> list[DataProblem]:
    problems: list[DataProblem] = []
    if not infos:
        return problems
    (usual, _), *_ = Counter((i.height, i.width) for i in infos.values()).most_common(1)
    for image_id, info in infos.items():
        if (info.height, info.width) != usual:
            problems.append(
                DataProblem(
                    str(files[image_id]),
                    f"image is {info.height}x{info.width}, the others are {usual[0]}x{usual[1]} "
                    f"(the competition's are {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]})",
                    _REDOWNLOAD_FIX,
                )
            )
        if info.channels != IMAGE_CHANNELS:
            problems.append(
                DataProblem(
                    str(files[image_id]),
                    f"image has {info.channels} channel(s), the competition's JPEGs have "
                    f"{IMAGE_CHANNELS}",
                    _REDOWNLOAD_FIX,
                )
            )
    return problems


def _rows_without_file(
    frame: pd.DataFrame, files: dict[str, Path], image_dir: Path
) -> list[DataProblem]:
    """Rows naming an ImageId that has no file in ``image_dir``, one problem per ImageId."""
    absent = frame["ImageId"].ne("") & ~frame["ImageId"].isin(list(files))
    problems = []
    for image_id in sorted(frame.loc[absent, "ImageId"].unique()):
        line = int(np.flatnonzero(frame["ImageId"] == image_id)[0]) + 2
        problems.append(
            DataProblem(
                str(image_dir),
                f"no file {image_id} for ImageId {image_id} (line {line} of {TRAIN_CSV})",
                _REDOWNLOAD_FIX,
            )
        )
    return problems


def _sizes(infos: dict[str, ImageInfo]) -> dict[str, tuple[int, int]]:
    return {image_id: (i.height, i.width) for image_id, i in infos.items()}


LAYOUT = Layout(
    check=check_layout,
    load=read_train_table,
    label_columns=LABEL_COLUMNS,
    load_unlabelled=read_test_images,
)
