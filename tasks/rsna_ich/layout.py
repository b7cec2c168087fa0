"""The Kaggle layout of rsna-intracranial-hemorrhage-detection: reading it and checking it.

    <root>/stage_2_train.csv             ID (ID_<image>_<subtype>), Label; six rows per image
    <root>/stage_2_train/ID_<image>.dcm  one CT slice per file
    <root>/stage_2_test/ID_<image>.dcm   unlabelled (``read_test_images``, predict rows=test)

The label file says nothing about which study a slice belongs to or where it sits in it: that
is in the DICOM headers (PatientID, StudyInstanceUID, SeriesInstanceUID, ImagePositionPatient).
``read_train_table`` returns one row per image with both. It reads each header once (the tags
it needs, pixel data skipped) and keeps what it read, with the parsed csv, in the data folder's
index (``harness.kit.file_index``): later runs stat the files and read only new or changed
ones. ``check_layout`` is ``harness data check``: it lists every problem instead of stopping at
the first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from harness.api import DataError, DataProblem
from harness.kit.arrow_csv import read_plain_csv
from harness.kit.file_checks import EVERY_FILE, Checked, Opening, files_per_chunk
from harness.kit.file_index import FileIndex, cached_table
from harness.kit.imaging.ct import slice_geometry, to_hu
from harness.kit.imaging.dicom import DicomReadError, read_dicom
from harness.kit.imaging.dicom_tags import read_header_tags
from harness.kit.layout import (
    check_prelude,
    csv_lines,
    empty_folder_error,
    find_files,
    read_label_csv,
    require_folder,
    require_root,
)
from harness.kit.task import Layout
from tasks.rsna_ich.label_ids import split_ids

SUBTYPES: tuple[str, ...] = (
    "epidural",
    "intraparenchymal",
    "intraventricular",
    "subarachnoid",
    "subdural",
    "any",
)
"""The six labels of every image, in the order of Kaggle's csv; ``any`` is their union."""

LABEL_CSV = "stage_2_train.csv"
IMAGE_DIR = "stage_2_train"
TEST_IMAGE_DIR = "stage_2_test"
CSV_COLUMNS: tuple[str, ...] = ("ID", "Label")
HEADER_COLUMNS: tuple[str, ...] = (
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "InstanceNumber",
    "position",
)
"""Per image, from its DICOM header: ``position`` is ImagePositionPatient projected on the
slice normal (mm), as ``harness.kit.imaging.ct.slice_geometry`` computes it."""
ID_PATTERN = re.compile(r"^(ID_[0-9A-Za-z]+)_(" + "|".join(SUBTYPES) + r")$")
_ID_GROUPS = r"^(?P<image>ID_[0-9A-Za-z]+)_(?P<subtype>" + "|".join(SUBTYPES) + r")$"
"""ID_PATTERN with named groups, for pyarrow's regex extraction."""

_DOWNLOAD_FIX = (
    "point data.root at the folder holding stage_2_train.csv and stage_2_train/ from the Kaggle "
    "download (kaggle competitions download -c rsna-intracranial-hemorrhage-detection)"
)
_REDOWNLOAD_FIX = "re-download this file from Kaggle, or remove its six rows from the csv"
_MAX_EXAMPLES = 5
_HEADER_TAGS = (*HEADER_COLUMNS[:4], "ImagePositionPatient", "ImageOrientationPatient")


def label_id(image_id: str, subtype: str) -> str:
    """The csv/submission row id of one image and subtype: ``ID_<image>_<subtype>``."""
    return f"{image_id}_{subtype}"


def image_path(root: Path, image_id: str) -> Path:
    return root / IMAGE_DIR / f"{image_id}.dcm"


def deduplicate_labels(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """``frame`` (ID, Label) with identical duplicate rows dropped.

    Kaggle's stage_2_train.csv repeats some rows verbatim; those are harmless. Two rows with one
    ID and different labels cannot both be right: DataError names the IDs and their lines.
    """
    ids, _ = pd.factorize(frame["ID"])
    return frame.iloc[_unique_rows(frame, ids, where)]


def _unique_rows(frame: pd.DataFrame, ids: np.ndarray, where: str) -> np.ndarray:
    """Positions of ``frame``'s rows less verbatim repeats, ``ids`` coding each row's ID.

    Integer codes keep the full csv's 4.5M rows out of pandas' hashing of string pairs.
    """
    labels, _ = pd.factorize(frame["Label"])
    order = np.lexsort((labels, ids))  # stable: of equal rows, the first comes first
    ids_sorted, labels_sorted = ids[order], labels[order]
    repeat = np.zeros(len(order), dtype=bool)
    repeat[1:] = (ids_sorted[1:] == ids_sorted[:-1]) & (labels_sorted[1:] == labels_sorted[:-1])
    order, ids_sorted = order[~repeat], ids_sorted[~repeat]
    same = ids_sorted[1:] == ids_sorted[:-1]  # one ID, two labels
    if same.any():
        conflicting = np.zeros(len(order), dtype=bool)
        conflicting[1:] |= same
        conflicting[:-1] |= same
        raise _conflict_error(frame.iloc[np.sort(order[conflicting])], where)
    return np.sort(order)


def _conflict_error(rows: pd.DataFrame, where: str) -> DataError:
    """The rows of IDs that have two labels, named with their csv lines."""
    label_text = rows["Label"].astype(str)
    groups = list(rows.groupby("ID", sort=True).groups.items())
    shown = []
    for row_id, index in groups[:_MAX_EXAMPLES]:
        lines = ", ".join(f"line {int(i) + 2}: {label_text[i]}" for i in index[:_MAX_EXAMPLES])
        shown.append(f"{row_id} ({lines})")
    n_ids = len(groups)
    return DataError(
        f"{where}: {n_ids} ID(s) have conflicting labels on different lines: "
        f"{'; '.join(shown)}{_more(n_ids)}; keep the correct row of each and delete the other"
    )


def _arrow(values: pd.Series) -> pa.Array:
    """The column as one Arrow array (Arrow-backed strings are not turned into Python ones)."""
    array = pa.array(values)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def read_labels(csv_path: Path) -> pd.DataFrame:
    """One row per image (``image_id``) with the six subtype columns as int64, sorted by id.

    Raises DataError naming the file and the rows for: unreadable csv, missing columns, IDs that
    are not ``ID_<image>_<subtype>``, labels other than 0/1, conflicting duplicates, images
    without all six rows.
    """
    frame = _read_csv(csv_path)
    problems = _label_problems(frame, str(csv_path))
    if problems:
        listed = "\n  ".join(f"{p.problem} ({p.fix})" for p in problems[:10])
        raise DataError(f"{csv_path} does not match the Kaggle layout:\n  {listed}")
    return labels_by_image(frame, str(csv_path))


def _sort_codes(values: pa.Array) -> np.ndarray:
    """Integers that sort as ``values`` do, nulls last (as pandas sorts them)."""
    encoded = pc.dictionary_encode(values)
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    rank[-1] = len(order)  # a null's index, filled with -1
    return rank[encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)]


def labels_by_image(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """``read_labels`` of a csv already read and checked by ``_label_problems``.

    The 4.5M rows of the full csv stay in Arrow strings and integer arrays (no Python string
    per row, no pivot): each row's ID is parsed by Arrow into an image code and a subtype code
    (``split_ids``, a slice of rows at a time), which fill one (images x 6) grid. Only the rows
    of a repeated ID are compared for conflicting labels.
    """
    image_codes, image_ids, subtype_codes = split_ids(pa.array(frame["ID"]), _ID_GROUPS, SUBTYPES)
    cells = image_codes.astype(np.int64) * len(SUBTYPES) + subtype_codes
    del image_codes, subtype_codes
    _raise_conflicts(frame, cells, len(image_ids) * len(SUBTYPES), where)
    grid = np.full((len(image_ids), len(SUBTYPES)), -1, dtype=np.int8)
    grid.reshape(-1)[cells] = frame["Label"].to_numpy(dtype=np.int8)  # repeats agree
    incomplete = (grid < 0).any(axis=1)
    if incomplete.any():
        examples = [
            f"{image_ids[i]} lacks {', '.join(np.asarray(SUBTYPES)[grid[i] < 0])}"
            for i in np.flatnonzero(incomplete)[:_MAX_EXAMPLES]
        ]
        raise DataError(
            f"{where}: {int(incomplete.sum())} image(s) do not have all six subtype rows: "
            f"{'; '.join(examples)}{_more(int(incomplete.sum()))}; {_DOWNLOAD_FIX}"
        )
    wide = pd.DataFrame(grid.astype(np.int64), columns=list(SUBTYPES))
    wide.insert(0, "image_id", np.asarray(image_ids, dtype=object))
    return wide


def _raise_conflicts(frame: pd.DataFrame, cells: np.ndarray, n_cells: int, where: str) -> None:
    """DataError (``_unique_rows``'s) where rows with one ID, ``cells`` coding each row's ID
    as an integer below ``n_cells``, have different labels; the rows of IDs that occur once
    are not sorted, nor copied."""
    repeated = np.flatnonzero(np.bincount(cells, minlength=n_cells)[cells] > 1)
    if len(repeated):
        _unique_rows(frame.iloc[repeated], cells[repeated], where)


def read_headers(
    root: Path, relative: Sequence[str], index: FileIndex, *, fix: str
) -> pd.DataFrame:
    """``HEADER_COLUMNS`` of the files ``relative`` (under ``root``), headers only, from the data
    folder's header ``index`` (files new or changed since it was written are read now).

    Raises DataError listing every file that is missing, unreadable or lacks a needed tag, then
    ``fix``.
    """
    indexed = index.rows(root, relative)
    failures = indexed.problems
    if failures:
        listed = "\n  ".join(str(p) for p in failures[:10])
        raise DataError(
            f"{len(failures)} DICOM file(s) cannot be used:\n  {listed}{_more(len(failures), 10)}"
            f"\n({fix})"
        )
    return indexed.frame.loc[:, list(HEADER_COLUMNS)]


def add_slice_index(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` sorted by patient, study, series and position along the slice normal, with
    ``slice_index`` (0 = lowest position) and ``n_slices`` per series.

    Ties in position are broken by InstanceNumber, as ``harness.kit.imaging.ct.slice_order`` does,
    then by image_id so that the order never depends on the input's.
    """
    ordered = table.iloc[_slice_order(table)].reset_index(drop=True)
    series = _sort_codes(_arrow(ordered["SeriesInstanceUID"]))
    slice_index, n_slices = _rank_in_group(series)
    ordered["slice_index"] = slice_index
    ordered["n_slices"] = n_slices
    return ordered


def _slice_order(table: pd.DataFrame) -> np.ndarray:
    """The rows' order by patient, study, series, position, InstanceNumber and image_id: what
    ``sort_values(kind="stable")`` gives, NaN last, from a numpy sort of integer codes (sorting
    the 752,803 slices by their UID strings took pandas over a second). image_id, unique, is
    only ranked when rows tie on everything else."""
    uids = ["PatientID", "StudyInstanceUID", "SeriesInstanceUID"]
    keys = [_sort_codes(_arrow(table[column])) for column in uids]
    keys += [table["position"].to_numpy(), table["InstanceNumber"].to_numpy()]
    order = np.lexsort(keys[::-1])
    tied = np.ones(max(len(order) - 1, 0), dtype=bool)
    for key in keys:
        after, before = key[order][1:], key[order][:-1]
        same = after == before
        if key.dtype.kind == "f":
            same |= np.isnan(after) & np.isnan(before)
        tied &= same
    if tied.any():
        order = np.lexsort([_sort_codes(_arrow(table["image_id"])), *keys[::-1]])
    return order


def _rank_in_group(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's rank among the earlier rows of its group (``groupby.cumcount``) and its
    group's size, groups given as integer ``codes``."""
    counts = np.bincount(codes)
    by_group = np.argsort(codes, kind="stable")
    starts = np.cumsum(counts) - counts
    rank = np.empty(len(codes), dtype=np.int64)
    rank[by_group] = np.arange(len(codes)) - np.repeat(starts, counts)
    return rank, counts[codes].astype(np.int64)


def read_train_table(root: str | Path) -> pd.DataFrame:
    """The labelled table: one row per image with ``image_id``, absolute ``path``, the header
    columns, ``slice_index`` and ``n_slices``, and the six subtype labels.

    Sorted so that the slices of a series are consecutive and in position order.
    """
    root = require_root(root, _DOWNLOAD_FIX)
    csv_path = root / LABEL_CSV
    labels = cached_table(csv_path, "rsna-ich-labels", 1, lambda: read_labels(csv_path))
    relative = f"{IMAGE_DIR}/" + labels["image_id"] + ".dcm"
    fix = f"run `harness data check task=rsna-ich root={root}` for a full report"
    headers = read_headers(root, relative.tolist(), HEADER_INDEX, fix=fix)
    table = pd.concat(
        [
            labels[["image_id"]],
            (f"{root}/" + relative).rename("path"),
            headers,
            labels[list(SUBTYPES)],
        ],
        axis=1,
    )
    ordered = add_slice_index(table)
    columns = ["image_id", "path", *HEADER_COLUMNS, "slice_index", "n_slices", *SUBTYPES]
    return ordered.loc[:, columns]


def read_test_images(root: str | Path) -> pd.DataFrame:
    """Kaggle's unlabelled ``stage_2_test/`` as a table shaped like a holdout's public view:
    ``image_id``, absolute ``path``, the header columns, ``slice_index`` and ``n_slices``, in
    slice order. Headers are kept between loads as the training slices' are, in an index of
    their own.

    Raises DataError when the folder is missing or holds no slice, or listing the files that
    cannot be used.
    """
    image_dir = require_folder(root, TEST_IMAGE_DIR)
    root = image_dir.parent
    names = sorted(e.name for e in os.scandir(image_dir) if e.name.endswith(".dcm"))
    if not names:
        raise empty_folder_error(image_dir, ".dcm")
    relative = [f"{TEST_IMAGE_DIR}/{name}" for name in names]
    table = pd.concat(
        [
            pd.DataFrame(
                {
                    "image_id": [name.removesuffix(".dcm") for name in names],
                    "path": [f"{root}/{r}" for r in relative],
                }
            ),
            read_headers(
                root, relative, TEST_HEADER_INDEX, fix="every test slice is predicted: mend these"
            ),
        ],
        axis=1,
    )
    columns = ["image_id", "path", *HEADER_COLUMNS, "slice_index", "n_slices"]
    return add_slice_index(table).loc[:, columns]


def check_layout(
    root: str | Path, *, decode: bool = True, opening: Opening = EVERY_FILE
) -> list[DataProblem]:
    """Every problem with a dataset on disk; an empty list means ``read_train_table`` succeeds.

    Every image's file is looked for. The files found that ``opening`` chooses (all by default)
    have their header read and checked for the tags the task needs; with ``decode`` their pixel
    data is decoded and converted to HU too (slow on the full 450 GB download).
    """
    prelude = check_prelude(
        root, csv_name=LABEL_CSV, image_dir=IMAGE_DIR, fix=_DOWNLOAD_FIX, read=_read_csv
    )
    frame, problems, root = prelude.frame, prelude.problems, prelude.root
    del prelude
    if frame is None:
        return problems
    csv_path = root / LABEL_CSV
    table_problems = _label_problems(frame, str(csv_path))
    problems.extend(table_problems)
    if table_problems:
        return problems
    try:
        labels = labels_by_image(frame, str(csv_path))
        problems.extend(_any_problems(labels, str(csv_path)))
        image_ids = labels["image_id"]
    except DataError as err:  # conflicting duplicates, incomplete images
        problems.append(DataProblem(str(csv_path), str(err).removeprefix(f"{csv_path}: ")))
        image_ids = frame["ID"].str.extract(ID_PATTERN)[0].drop_duplicates()
    # The 4.5M-row csv is not needed for the files: give its memory back before opening them.
    del frame
    pa.default_memory_pool().release_unused()
    if (root / IMAGE_DIR).is_dir():
        problems.extend(_image_problems(root, image_ids, decode=decode, opening=opening))
    return problems


def _read_csv(csv_path: Path) -> pd.DataFrame:
    # Arrow strings: the full csv's 4.5M IDs as Python objects would take gigabytes. Arrow's
    # reader where it reads what pandas would; pandas (and its errors) for any other file.
    frame = read_plain_csv(csv_path, {"ID": pa.string(), "Label": pa.int64()})
    if frame is not None:
        return frame
    return read_label_csv(csv_path, _DOWNLOAD_FIX, dtype={"ID": "string[pyarrow]"})


def _more(count: int, shown: int = _MAX_EXAMPLES) -> str:
    return f" and {count - shown} more" if count > shown else ""


def _label_problems(frame: pd.DataFrame, where: str) -> list[DataProblem]:
    """Column, ID and label value problems of the raw csv (duplicates are read_labels' job)."""
    missing = [c for c in CSV_COLUMNS if c not in frame.columns]
    if missing:
        return [
            DataProblem(
                where,
                f"missing column(s) {', '.join(missing)}; "
                f"found {', '.join(map(str, frame.columns))}",
                f"restore Kaggle's header ID,Label; {_DOWNLOAD_FIX}",
            )
        ]
    if frame.empty:
        return [DataProblem(where, "the table has no rows", _DOWNLOAD_FIX)]
    problems = []
    ids = frame["ID"].astype("string[pyarrow]")
    bad_id = ~ids.str.fullmatch(ID_PATTERN).fillna(False).astype(bool)
    if bad_id.any():
        what = (
            f"{int(bad_id.sum())} ID(s) are not ID_<image>_<subtype> with subtype one of "
            f"{', '.join(SUBTYPES)}"
        )
        problems.append(_rows_problem(where, frame, bad_id, "ID", what))
    bad_label = ~frame["Label"].isin((0, 1))
    if bad_label.any():
        what = f"Label must be 0 or 1: {int(bad_label.sum())} row(s) are not"
        problems.append(_rows_problem(where, frame, bad_label, "Label", what))
    return problems


def _rows_problem(
    where: str, frame: pd.DataFrame, bad: pd.Series, column: str, what: str
) -> DataProblem:
    """``what`` is wrong with the rows ``bad`` marks: shown with examples of their ``column``."""
    examples = ", ".join(repr(v) for v in frame.loc[bad, column].head(_MAX_EXAMPLES))
    return DataProblem(
        where, f"{what}, e.g. {examples} on line(s) {csv_lines(bad)}", "fix or remove those rows"
    )


def _any_problems(labels: pd.DataFrame, where: str) -> list[DataProblem]:
    """Images whose ``any`` label is not the union of their subtype labels."""
    union = labels[list(SUBTYPES[:-1])].max(axis=1)
    wrong = labels["any"] != union
    if not wrong.any():
        return []
    examples = ", ".join(labels.loc[wrong, "image_id"].head(_MAX_EXAMPLES))
    return [
        DataProblem(
            where,
            f"{int(wrong.sum())} image(s) have an 'any' label that is not the union of their "
            f"subtype labels, e.g. {examples}{_more(int(wrong.sum()))}",
            "check those rows against the Kaggle download",
        )
    ]


def _header_row(path: Path, fix: str = _REDOWNLOAD_FIX) -> dict[str, object] | DataProblem:
    """The header columns of one file, or the problem that stops it being used (and ``fix``)."""
    try:
        header = read_header_tags(path, _HEADER_TAGS, require_pixels=True)
    except DicomReadError as err:
        return DataProblem(str(path), err.reason, fix)
    missing = [tag for tag in HEADER_COLUMNS[:3] if not str(header.get(tag) or "").strip()]
    if "ImagePositionPatient" not in header:
        missing.append("ImagePositionPatient")
    if missing:
        return DataProblem(str(path), f"header lacks {', '.join(missing)}", fix)
    geometry = slice_geometry(header)
    return {
        "PatientID": str(header["PatientID"]),
        "StudyInstanceUID": str(header["StudyInstanceUID"]),
        "SeriesInstanceUID": str(header["SeriesInstanceUID"]),
        "InstanceNumber": -1 if geometry.instance_number is None else geometry.instance_number,
        "position": geometry.position,
    }


def _image_problems(
    root: Path, image_ids: pd.Series, *, decode: bool, opening: Opening
) -> list[DataProblem]:
    """Missing files for every image, then unreadable ones among those opened."""
    found, problems = find_files(
        [str(image_id) for image_id in image_ids],
        partial(image_path, root),
        lambda image_id: f"image file missing (image {image_id})",
        "re-download stage_2_train/ or remove the image's six rows from the csv",
    )
    # Paths as strings: 752,803 Path objects took 190 MB of the check's peak, strings 75 MB.
    folder = f"{root / IMAGE_DIR}{os.sep}"
    opened = opening.run(
        partial(_open_slice, decode=decode),
        [f"{folder}{image_id}.dcm" for image_id in found],
        chunk_size=files_per_chunk(decode),
    )
    return problems + [p for _, checked in opened for p in checked.problems]


def _open_slice(file: str, *, decode: bool) -> Checked[None]:
    """The problem of one slice's file, if any (run in a worker process)."""
    path = Path(file)
    found = _header_row(path)
    if isinstance(found, DataProblem):
        return Checked((found,))
    if not decode:
        return Checked()
    try:
        image = read_dicom(path)
        to_hu(image.pixels, image.header)
    except DicomReadError as err:
        return Checked((DataProblem(str(path), err.reason, _REDOWNLOAD_FIX),))
    except (ValueError, TypeError) as err:
        problem = DataProblem(str(path), f"no HU values ({err})", "check RescaleSlope/Intercept")
        return Checked((problem,))
    return Checked()


HEADER_INDEX = FileIndex("rsna-ich-headers", HEADER_COLUMNS, _header_row, version=1)
"""Each slice's header columns, kept between runs (see harness.kit.file_index)."""

TEST_HEADER_INDEX = FileIndex(
    "rsna-ich-test-headers",
    HEADER_COLUMNS,
    partial(_header_row, fix=f"re-download this file of {TEST_IMAGE_DIR}/ from Kaggle"),
    version=1,
)
"""The same for the unlabelled test slices: an index holds the files of its last load, so the
two folders keep one each instead of replacing each other's."""

LAYOUT = Layout(
    check=check_layout,
    load=read_train_table,
    label_columns=SUBTYPES,
    load_unlabelled=read_test_images,
)
