"""What every task's layout does the same way: the data root, the label CSV and the files it names.

A layout reads its data twice over: ``read_*`` (every run) raises one DataError that lists
what is wrong, ``check_layout`` (``harness data check``) returns every DataProblem. Both start
by finding the data root and reading the label CSV (``require_root``, ``read_label_csv``;
``check_prelude`` for the check; ``require_folder`` for a folder read without a CSV), look for
the file of every row (``find_files``), and the read path ends with ``mismatch_error`` when
anything was wrong. ``read_answers_csv`` opens an answers file. Each message names the file
(and the row or line), the problem and the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from harness.api import DataError, DataProblem

T = TypeVar("T")

CSV_ERRORS = (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError)
"""What pandas raises on a file that is not a CSV table."""
MAX_LISTED = 10
"""Problems a DataError lists before '... and N more'."""
MAX_LINES = 5
"""CSV line numbers a problem shows before ', ...'."""


class LabelCsvError(DataError):
    """A label CSV that is missing or not a CSV table; ``reason`` says which, without the path."""

    def __init__(self, path: Path, reason: str, fix: str) -> None:
        super().__init__(f"{path} {reason}; {fix}")
        self.path = path
        self.reason = reason


def require_root(root: str | Path, fix: str) -> Path:
    """The data root, resolved; raises DataError when it is not a folder."""
    resolved = Path(root).expanduser().resolve()
    if not resolved.is_dir():
        raise DataError(f"data root {resolved} is not a folder; {fix}")
    return resolved


def require_folder(root: str | Path, folder: str) -> Path:
    """``folder`` of the data root, for a reader of one folder of the Kaggle download (e.g. the
    unlabelled test images); raises DataError naming the folder and how to get it when the root
    or the folder is not there."""
    resolved = Path(root).expanduser().resolve()
    if not resolved.is_dir():
        raise DataError(
            f"data root {resolved} is not a folder; point data= at the folder that holds "
            f"{folder}/ of the Kaggle download"
        )
    path = resolved / folder
    if not path.is_dir():
        raise DataError(f"{path} not found; {_unpack_fix(path)}")
    return path


def empty_folder_error(folder: Path, suffix: str) -> DataError:
    """The DataError of a folder from ``require_folder`` that holds no ``suffix`` file."""
    return DataError(f"{folder} holds no {suffix} file; {_unpack_fix(folder)}")


def _unpack_fix(folder: Path) -> str:
    return f"unpack {folder.name}/ of the Kaggle download into {folder.parent}"


def read_label_csv(csv_path: Path, fix: str, **options: Any) -> pd.DataFrame:
    """``pd.read_csv(csv_path, **options)``; raises LabelCsvError when missing or unreadable."""
    if not csv_path.is_file():
        raise LabelCsvError(csv_path, "not found", fix)
    try:
        return pd.read_csv(csv_path, **options)
    except CSV_ERRORS as err:
        raise LabelCsvError(csv_path, f"is not a readable CSV file ({err})", fix) from err


def read_text_csv(
    csv_path: Path,
    columns: Sequence[str],
    fix: str,
    expected: str,
    *,
    skipinitialspace: bool = False,
) -> pd.DataFrame:
    """``columns`` of a CSV as stripped strings (an empty cell is ""), header names stripped.

    Raises LabelCsvError when the file is missing or unreadable, DataError naming the missing
    and the found columns when one lacks; ``expected`` ends that message (the header wanted).
    """
    frame = read_label_csv(
        csv_path, fix, dtype=str, skipinitialspace=skipinitialspace, keep_default_na=False
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{csv_path} lacks column(s) {', '.join(missing)}; found "
            f"{', '.join(map(str, frame.columns)) or '(none)'}; expected {expected}"
        )
    return frame.loc[:, list(columns)].apply(lambda column: column.str.strip())


def read_answers_csv(path: str | Path, **options: Any) -> pd.DataFrame:
    """An answers file (``harness score --answers``, ``read_answers``) as ``pd.read_csv`` reads it
    with ``options``; raises DataError when it is missing or not a CSV table."""
    if not Path(path).is_file():
        raise DataError(f"answers file {path} not found")
    try:
        return pd.read_csv(path, **options)
    except CSV_ERRORS as err:
        raise DataError(f"answers file {path} is not a readable CSV file: {err}") from err


@dataclass(frozen=True)
class Prelude:
    """What ``check_layout`` finds before it looks at rows: the root, first problems, the CSV."""

    root: Path
    problems: list[DataProblem]
    frame: pd.DataFrame | None
    """The label CSV as read; None when it could not be (nothing more to check then)."""


def check_prelude(
    root: str | Path,
    *,
    csv_name: str,
    image_dir: str,
    fix: str,
    read: Callable[[Path], pd.DataFrame],
) -> Prelude:
    """The data root is a folder holding ``image_dir`` and ``csv_name``, which ``read`` reads.

    ``read`` raises DataError (LabelCsvError for a missing or unreadable file) on a CSV it
    cannot use; that becomes a problem of the CSV, with ``fix``.
    """
    resolved = Path(root).expanduser().resolve()
    if not resolved.is_dir():
        problem = DataProblem(str(resolved), "data root does not exist or is not a folder", fix)
        return Prelude(resolved, [problem], None)
    problems: list[DataProblem] = []
    if not (resolved / image_dir).is_dir():
        problems.append(DataProblem(str(resolved / image_dir), "image folder not found", fix))
    csv_path = resolved / csv_name
    try:
        frame = read(csv_path)
    except LabelCsvError as err:
        return Prelude(resolved, [*problems, DataProblem(str(csv_path), err.reason, fix)], None)
    except DataError as err:
        return Prelude(resolved, [*problems, DataProblem(str(csv_path), str(err), fix)], None)
    return Prelude(resolved, problems, frame)


def csv_lines(mask: pd.Series) -> str:
    """CSV line numbers (header = line 1) of the first rows where ``mask`` holds."""
    lines = [int(i) + 2 for i in mask.to_numpy().nonzero()[0][:MAX_LINES]]
    more = ", ..." if int(mask.sum()) > MAX_LINES else ""
    return ", ".join(map(str, lines)) + more


def header_problems(
    frame: pd.DataFrame, columns: Sequence[str], csv_path: Path, fix: str
) -> list[DataProblem]:
    """The competition's ``columns`` missing from a label CSV, and a CSV without rows."""
    where = str(csv_path)
    problems: list[DataProblem] = []
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        problems.append(
            DataProblem(
                where,
                f"missing column(s) {', '.join(missing)}; "
                f"found {', '.join(map(str, frame.columns))}",
                f"restore Kaggle's header; {fix}",
            )
        )
    if frame.empty:
        problems.append(DataProblem(where, "the table has no rows", fix))
    return problems


def find_files(
    items: Iterable[T], path: Callable[[T], Path], missing: Callable[[T], str], fix: str
) -> tuple[list[T], list[DataProblem]]:
    """The items whose ``path`` is a file, and a problem for each other one (``missing`` says
    which row wanted it, e.g. "image file missing (image ID_1a2b)")."""
    found: list[T] = []
    problems: list[DataProblem] = []
    for item in items:
        file = path(item)
        if file.is_file():
            found.append(item)
        else:
            problems.append(DataProblem(str(file), missing(item), fix))
    return found, problems


def mismatch_error(where: Path, listed: Sequence[str], task: str, root: Path) -> DataError:
    """The DataError of a ``read_*`` that found problems: the first MAX_LISTED, then how to see
    them all."""
    shown = "\n  ".join(listed[:MAX_LISTED])
    extra = len(listed) - MAX_LISTED
    more = f"\n  ... and {extra} more" if extra > 0 else ""
    return DataError(
        f"{where} does not match the Kaggle layout:\n  {shown}{more}\n"
        f"(run `harness data check task={task} root={root}` for a full report)"
    )
