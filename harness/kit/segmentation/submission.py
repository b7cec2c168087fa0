"""Answers files and submissions of the RLE segmentation competitions (SIIM, Severstal).

Both have an id column and ``EncodedPixels``, one mask per row, and the answers carry each
image's ``height`` and ``width`` since an RLE only reads against an image size. They differ in
the id column, the RLE reader (``rle.relative_runs``, ``rle.absolute_runs``) and the hints of
their messages, which are parameters here. Messages name the file or row, the id and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import DataError
from harness.kit.layout import read_answers_csv
from harness.kit.segmentation.metric import RleReader
from harness.kit.submissions import (
    MAX_EXAMPLES,
    id_problems,
    raise_problems,
    require_columns,
    rle_problems,
)

SIZE_COLUMNS: tuple[str, ...] = ("height", "width")


@dataclass(frozen=True)
class RleFormat:
    """How a competition's answers and submissions name their rows and encode their masks."""

    id_column: str
    runs: RleReader
    """The RLE reader (``rle.relative_runs``, ``rle.absolute_runs``)."""
    row_label: str
    """Formats a row's id in messages, e.g. ``"ImageId {}"``."""
    image_size: tuple[int, int]
    """The competition's (height, width): an answers file without sizes is read against it."""


@dataclass(frozen=True)
class LabelledDataset:
    """A dataset's label csv beside its image folder: an answers path naming that csv is read as
    the whole dataset's answers (image sizes from the files), not as a solution file."""

    label_csv: str
    image_dir: str
    answers: Callable[[Path], pd.DataFrame]
    """The answers of the dataset under a root folder."""

    def holds(self, path: Path) -> bool:
        """Whether ``path`` is a dataset's label csv, with its image folder beside it."""
        beside = path.parent / self.image_dir
        return path.name == self.label_csv and path.is_file() and beside.is_dir()


def read_rle_answers(
    path: str | Path,
    rle: RleFormat,
    *,
    dataset: LabelledDataset,
    skipinitialspace: bool = False,
    id_problem: Callable[[pd.Series], str | None] | None = None,
) -> pd.DataFrame:
    """The answers of a whole dataset when ``path`` is its label csv, else of a solution file:
    ``id_column``, ``EncodedPixels``, ``height``, ``width``, in file order, ids and masks stripped.

    A solution file's ``height`` and ``width`` default to ``rle.image_size``. Raises DataError for
    an unreadable file, a missing column, an id on several rows, an id ``id_problem`` rejects (it
    returns the message) and a malformed RLE (``rle.row_label`` formats the id).
    """
    path = Path(path)
    if dataset.holds(path):
        return dataset.answers(path.parent)
    id_column, runs, row_label, image_size = rle.id_column, rle.runs, rle.row_label, rle.image_size
    frame = read_answers_csv(
        path, dtype=str, skipinitialspace=skipinitialspace, keep_default_na=False
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    columns = (id_column, "EncodedPixels")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"answers file {path} lacks column(s) {', '.join(missing)}; expected a solution file "
            f"with {', '.join(columns)} (and optionally height, width), or a dataset's "
            f"{dataset.label_csv} next to its {dataset.image_dir}/"
        )
    for column, size in zip(SIZE_COLUMNS, image_size, strict=True):
        frame[column] = pd.to_numeric(frame[column]) if column in frame.columns else size
    answers = frame.loc[:, [*columns, *SIZE_COLUMNS]].astype({"height": "int64", "width": "int64"})
    ids = answers[id_column].str.strip()
    duplicated = ids.duplicated()
    if duplicated.any():
        examples = ids[duplicated].head(MAX_EXAMPLES).tolist()
        raise DataError(f"answers file {path}: {id_column}(s) on several rows, e.g. {examples}")
    problem = None if id_problem is None else id_problem(ids)
    if problem is not None:
        raise DataError(f"answers file {path}: {problem}")
    masks = answers["EncodedPixels"].str.strip()
    rows = zip(ids, masks, answers["height"], answers["width"], strict=True)
    for position, (key, mask, height, width) in enumerate(rows):
        try:
            runs(mask, (int(height), int(width)))
        except ValueError as err:
            raise DataError(
                f"answers file {path}, row {position + 1} ({row_label.format(key)}): {err}"
            ) from err
    return answers.assign(**{id_column: ids, "EncodedPixels": masks})


def validate_rle_submission(
    submission: pd.DataFrame,
    answers: pd.DataFrame,
    rle: RleFormat,
    *,
    missing_hint: str,
    unknown_hint: str = "",
    as_text: Callable[[object], str],
) -> pd.DataFrame:
    """The submission aligned row for row with ``answers``: ``id_column``, EncodedPixels (text).

    Raises InvalidSubmission listing every problem: missing columns first, then ids (empty,
    repeated, absent from or unknown to the answers), then masks that ``runs`` rejects against
    the image's size. ``as_text`` turns a cell into RLE text (see ``cell_text``).
    """
    id_column = rle.id_column
    submission = submission.rename(columns=lambda c: str(c).strip())
    require_columns(submission, (id_column, "EncodedPixels"))
    raw_ids = submission[id_column].reset_index(drop=True)
    no_id = (raw_ids.isna() | (raw_ids.astype(str).str.strip() == "")).to_numpy()
    ids = raw_ids.astype(str).str.strip()
    expected = answers[id_column].astype(str)
    problems = id_problems(
        ids, no_id, expected, name=id_column, missing_hint=missing_hint, unknown_hint=unknown_hint
    )
    masks = submission["EncodedPixels"].reset_index(drop=True).map(as_text)
    shapes = dict(zip(expected, zip(answers["height"], answers["width"], strict=True), strict=True))
    problems += rle_problems(ids, masks, shapes, rle.runs, row_label=rle.row_label)
    raise_problems(problems)
    aligned = pd.Series(masks.to_numpy(), index=ids.to_numpy()).loc[expected.tolist()]
    return pd.DataFrame({id_column: expected.to_numpy(), "EncodedPixels": aligned.to_numpy()})


def cell_text(value: object, *, whole_floats_as_integers: bool = False) -> str:
    """A cell as RLE text: pandas reads an empty cell as NaN (a whole empty column as float),
    and, with ``whole_floats_as_integers``, an all ``-1`` column as numbers (-1.0 -> "-1")."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if whole_floats_as_integers and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
