"""The Kaggle layout of rsna-2022-cervical-spine-fracture-detection: reading and checking it.

    <root>/train.csv                          StudyInstanceUID, patient_overall, C1..C7
    <root>/train_images/<UID>/<n>.dcm         axial CT slices of one study (n = 1, 2, ...)
    <root>/segmentations/<UID>.nii            voxel labels for some studies (1-7 = C1-C7,
                                              8-19 = T1-T12)
    <root>/train_bounding_boxes.csv           StudyInstanceUID, x, y, width, height,
                                              slice_number (fracture boxes, some studies)
    <root>/test.csv, <root>/test_images/...   unlabelled: row_id, StudyInstanceUID,
                                              prediction_type (``read_test_csv``)

``read_train_csv`` is the fast path of every run: it checks the table and lists each study's
folder (no DICOM is opened). ``check_layout`` is ``harness data check``: it also opens the
slices, the segmentations and the bounding boxes.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from pydicom import Dataset

from harness.api import DataError, DataProblem
from harness.kit.file_checks import EVERY_FILE, Checked, Opening
from harness.kit.imaging.dicom import DicomReadError, read_dicom, read_header
from harness.kit.layout import (
    LabelCsvError,
    check_prelude,
    csv_lines,
    header_problems,
    mismatch_error,
    read_label_csv,
    require_root,
)
from harness.kit.task import Layout
from tasks.rsna_cervical.volume import read_segmentation, slice_files

VERTEBRAE: tuple[str, ...] = ("C1", "C2", "C3", "C4", "C5", "C6", "C7")
TARGETS: tuple[str, ...] = (*VERTEBRAE, "patient_overall")
"""The scored targets of a study, in the order of its submission rows."""
COLUMNS: tuple[str, ...] = ("StudyInstanceUID", "patient_overall", *VERTEBRAE)
"""The columns of Kaggle's train.csv, in file order."""
LABEL_COLUMNS: tuple[str, ...] = ("patient_overall", *VERTEBRAE, "segmentation")
"""What a holdout view must not show: the fracture labels and the segmentation path (the
Kaggle test set has no segmentations)."""
BOX_COLUMNS: tuple[str, ...] = ("StudyInstanceUID", "x", "y", "width", "height", "slice_number")

TRAIN_CSV = "train.csv"
IMAGE_DIR = "train_images"
SEGMENTATION_DIR = "segmentations"
BOXES_CSV = "train_bounding_boxes.csv"
TEST_CSV = "test.csv"
TEST_IMAGE_DIR = "test_images"

_DOWNLOAD_FIX = (
    "point data.root at the folder holding train.csv and train_images/ from the Kaggle download "
    "(kaggle competitions download -c rsna-2022-cervical-spine-fracture-detection)"
)
_TEST_DOWNLOAD_FIX = (
    "point data= at the folder holding test.csv and test_images/ from the Kaggle download "
    "(kaggle competitions download -c rsna-2022-cervical-spine-fracture-detection)"
)
_REDOWNLOAD_FIX = (
    "re-download this file from Kaggle; if every compressed slice fails, check that pylibjpeg, "
    "pylibjpeg-openjpeg and pylibjpeg-libjpeg are installed"
)
_MAX_EXAMPLES = 5


def read_train_csv(root: str | Path) -> pd.DataFrame:
    """One row per study: Kaggle's columns plus ``study_dir``, ``n_slices`` and ``segmentation``.

    ``study_dir`` is the absolute path of ``train_images/<UID>``; ``n_slices`` counts its
    ``.dcm`` files; ``segmentation`` is the absolute path of ``segmentations/<UID>.nii`` where
    that file exists, else missing (NaN). Raises DataError naming the file, the problem and the fix,
    also for a study whose folder is missing or empty.
    """
    root = require_root(root, _DOWNLOAD_FIX)
    csv_path = root / TRAIN_CSV
    frame = _read_csv(csv_path)
    problems = _table_problems(frame, csv_path)
    if problems:
        listed = [f"{p.problem} ({p.fix})" for p in problems]
        raise mismatch_error(csv_path, listed, "rsna-cervical", root)
    table = frame.loc[:, list(COLUMNS)].copy()
    for column in TARGETS:
        table[column] = pd.to_numeric(table[column]).astype("int64")
    table["study_dir"], table["n_slices"] = _study_folders(
        root / IMAGE_DIR, table["StudyInstanceUID"], csv_path
    )
    segmentations = [root / SEGMENTATION_DIR / f"{uid}.nii" for uid in table["StudyInstanceUID"]]
    table["segmentation"] = [str(p) if p.is_file() else None for p in segmentations]
    return table.sort_values("StudyInstanceUID", ignore_index=True)


def read_test_csv(root: str | Path) -> pd.DataFrame:
    """Kaggle's unlabelled ``test.csv`` and ``test_images/`` as a table shaped like a holdout's
    public view: one row per study of test.csv (StudyInstanceUID, absolute ``study_dir``,
    ``n_slices``), by StudyInstanceUID.

    Raises DataError when test.csv is missing or lacks StudyInstanceUID, or naming the study
    folders that are missing or empty.
    """
    root = require_root(root, _TEST_DOWNLOAD_FIX)
    csv_path = root / TEST_CSV
    frame = read_label_csv(csv_path, _TEST_DOWNLOAD_FIX, dtype={"StudyInstanceUID": str})
    if "StudyInstanceUID" not in frame.columns:
        raise DataError(
            f"{csv_path}: no StudyInstanceUID column; Kaggle's test.csv has row_id, "
            "StudyInstanceUID, prediction_type"
        )
    uids = pd.Series(sorted(frame["StudyInstanceUID"].dropna().astype(str).unique()))
    study_dirs, counts = _study_folders(root / TEST_IMAGE_DIR, uids, csv_path)
    return pd.DataFrame({"StudyInstanceUID": uids, "study_dir": study_dirs, "n_slices": counts})


def _study_folders(
    image_dir: Path, uids: pd.Series, csv_path: Path
) -> tuple[list[str], np.ndarray]:
    """Each study's folder under ``image_dir`` (absolute) and its number of slices; raises
    DataError naming the folders that are missing or hold no slice."""
    study_dirs = [image_dir / uid for uid in uids]
    counts = [len(slice_files(d)) if d.is_dir() else 0 for d in study_dirs]
    empty = [str(d) for d, n in zip(study_dirs, counts, strict=True) if n == 0]
    if empty:
        more = f" and {len(empty) - _MAX_EXAMPLES} more" if len(empty) > _MAX_EXAMPLES else ""
        raise DataError(
            f"{len(empty)} study folder(s) of {csv_path} are missing or hold no .dcm file, e.g. "
            f"{', '.join(empty[:_MAX_EXAMPLES])}{more}; re-download {image_dir.name}/ or remove "
            f"those studies from {csv_path.name}"
        )
    return [str(d) for d in study_dirs], np.asarray(counts, dtype=np.int64)


def check_layout(
    root: str | Path, *, decode: bool = True, opening: Opening = EVERY_FILE
) -> list[DataProblem]:
    """Every problem with a dataset on disk; empty means ``read_train_csv`` succeeds and every
    study, segmentation and bounding box that was opened is usable.

    Every study folder is looked for. The slices of the studies that ``opening`` chooses (it
    counts studies, not files; all by default) are opened: each needs an
    ImagePositionPatient, and with ``decode`` its pixel data must decode and match the study's
    first slice in size. Every segmentation of an opened study
    must load and match its DICOM stack (slices x rows x columns); bounding boxes must name
    known studies and slice files that exist.
    """
    prelude = check_prelude(
        root, csv_name=TRAIN_CSV, image_dir=IMAGE_DIR, fix=_DOWNLOAD_FIX, read=_read_csv
    )
    frame, problems, root = prelude.frame, prelude.problems, prelude.root
    if frame is None:
        return problems
    problems.extend(_table_problems(frame, root / TRAIN_CSV))
    if "StudyInstanceUID" not in frame.columns or not (root / IMAGE_DIR).is_dir():
        return problems
    uids = [uid for uid in frame["StudyInstanceUID"].dropna().astype(str).unique()]
    checks = partial(_check_study, root, decode=decode)
    opened = dict(opening.run(checks, uids, chunk_size=1, what="studies"))
    for uid in uids:
        checked = opened.get(uid)
        if checked is None:
            problems.extend(_study_problems(root, uid, open_files=False, decode=decode))
        else:
            problems.extend(checked.problems)
    problems.extend(_box_problems(root, set(uids)))
    return problems


def _read_csv(csv_path: Path) -> pd.DataFrame:
    return read_label_csv(csv_path, _DOWNLOAD_FIX, dtype={"StudyInstanceUID": str})


def _table_problems(frame: pd.DataFrame, csv_path: Path) -> list[DataProblem]:
    where = str(csv_path)
    problems = header_problems(frame, COLUMNS, csv_path, _DOWNLOAD_FIX)
    if frame.empty:
        return problems
    if "StudyInstanceUID" in frame.columns:
        uids = frame["StudyInstanceUID"]
        bad = uids.isna() | ~uids.astype(str).str.fullmatch(r"[0-9]+(\.[0-9]+)*")
        if bad.any():
            problems.append(
                DataProblem(
                    where,
                    f"StudyInstanceUID must be a DICOM UID (digits and dots): {int(bad.sum())} "
                    f"row(s) are not, on line(s) {csv_lines(bad)}",
                    "fix or remove those rows",
                )
            )
        duplicated = uids.duplicated(keep=False) & uids.notna()
        for uid, rows in frame.loc[duplicated].groupby("StudyInstanceUID").groups.items():
            lines = ", ".join(str(int(i) + 2) for i in rows)
            problems.append(
                DataProblem(where, f"study {uid} appears on several lines ({lines})", "keep one")
            )
    present = [c for c in TARGETS if c in frame.columns]
    for column in present:
        bad = ~frame[column].isin((0, 1))
        if bad.any():
            problems.append(
                DataProblem(
                    where,
                    f"{column} must be 0 or 1: {int(bad.sum())} row(s) are not, on line(s) "
                    f"{csv_lines(bad)}",
                    "fix or remove those rows",
                )
            )
    if len(present) == len(TARGETS):
        valid = frame.loc[:, list(TARGETS)].isin((0, 1)).all(axis=1)
        overall = frame["patient_overall"] != frame[list(VERTEBRAE)].max(axis=1)
        inconsistent = valid & overall
        if inconsistent.any():
            problems.append(
                DataProblem(
                    where,
                    f"patient_overall must be 1 exactly when one of C1..C7 is: "
                    f"{int(inconsistent.sum())} row(s) disagree, on line(s) "
                    f"{csv_lines(inconsistent)}",
                    "fix those rows",
                )
            )
    return problems


def _check_study(root: Path, uid: str, *, decode: bool) -> Checked[None]:
    """One study's problems, its slices opened (run in a worker process)."""
    return Checked(tuple(_study_problems(root, uid, open_files=True, decode=decode)))


def _study_problems(root: Path, uid: str, *, open_files: bool, decode: bool) -> list[DataProblem]:
    study_dir = root / IMAGE_DIR / uid
    files = slice_files(study_dir) if study_dir.is_dir() else []
    if not files:
        return [
            DataProblem(
                str(study_dir),
                f"study folder missing or without .dcm files (study {uid})",
                "re-download train_images/ or remove the study from train.csv",
            )
        ]
    if not open_files:
        return []
    problems: list[DataProblem] = []
    headers: list[Dataset] = []
    shape: tuple[int, ...] | None = None
    for path in files:
        try:
            if decode:
                image = read_dicom(path)
                header = image.header
                if shape is None:
                    shape = image.pixels.shape
                elif image.pixels.shape != shape:
                    problems.append(
                        DataProblem(
                            str(path),
                            f"slice of {image.pixels.shape} pixels in a study of {shape}",
                            "re-download the study",
                        )
                    )
            else:
                header = read_header(path, require_pixels=True)
        except DicomReadError as err:
            problems.append(
                DataProblem(str(path), f"unreadable DICOM: {err.reason}", _REDOWNLOAD_FIX)
            )
            continue
        if "ImagePositionPatient" not in header:
            problems.append(
                DataProblem(
                    str(path),
                    "no ImagePositionPatient: the slice cannot be placed in the volume",
                    _REDOWNLOAD_FIX,
                )
            )
            continue
        headers.append(header)
    segmentation = root / SEGMENTATION_DIR / f"{uid}.nii"
    if segmentation.is_file() and len(headers) == len(files):
        problems.extend(_segmentation_problems(segmentation, headers))
    return problems


def _segmentation_problems(path: Path, headers: list[Dataset]) -> list[DataProblem]:
    rows, columns = int(headers[0].Rows), int(headers[0].Columns)
    try:
        labels = read_segmentation(path)
    except DataError as err:
        return [DataProblem(str(path), str(err), "re-download segmentations/")]
    expected = (len(headers), rows, columns)
    if labels.shape != expected:
        return [
            DataProblem(
                str(path),
                f"segmentation of {labels.shape} (slices, rows, columns) does not match its "
                f"DICOM stack of {expected}",
                "re-download the segmentation and the study",
            )
        ]
    return []


def _box_problems(root: Path, uids: set[str]) -> list[DataProblem]:
    path = root / BOXES_CSV
    if not path.is_file():
        return []  # optional: no solution here needs it
    try:
        boxes = read_label_csv(path, _DOWNLOAD_FIX, dtype={"StudyInstanceUID": str})
    except LabelCsvError as err:
        return [DataProblem(str(path), err.reason, _DOWNLOAD_FIX)]
    missing = [c for c in BOX_COLUMNS if c not in boxes.columns]
    if missing:
        return [DataProblem(str(path), f"missing column(s) {', '.join(missing)}", _DOWNLOAD_FIX)]
    problems: list[DataProblem] = []
    unknown = ~boxes["StudyInstanceUID"].isin(uids)
    if unknown.any():
        problems.append(
            DataProblem(
                str(path),
                f"{int(unknown.sum())} box(es) name studies that train.csv does not have, on "
                f"line(s) {csv_lines(unknown)}",
                "re-download train_bounding_boxes.csv together with train.csv",
            )
        )
    known = boxes.loc[~unknown]
    slice_paths = [
        root / IMAGE_DIR / uid / f"{int(n)}.dcm"
        for uid, n in zip(known["StudyInstanceUID"], known["slice_number"], strict=True)
    ]
    absent = pd.Series([not p.is_file() for p in slice_paths], index=known.index, dtype=bool)
    if absent.any():
        mask = pd.Series(False, index=boxes.index)
        mask.loc[absent.index[absent]] = True
        problems.append(
            DataProblem(
                str(path),
                f"{int(absent.sum())} box(es) name a slice file that does not exist, on "
                f"line(s) {csv_lines(mask)}",
                "re-download train_images/ for those studies",
            )
        )
    return problems


LAYOUT = Layout(
    check=check_layout,
    load=read_train_csv,
    label_columns=LABEL_COLUMNS,
    inputs_column="n_slices",
    load_unlabelled=read_test_csv,
)
