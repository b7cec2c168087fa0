"""What a task reads from its data folder's files, kept between runs: read once, then only stat.

rsna-ich needs five header tags of each of 752,803 slices before a run can start (which study,
series and position a slice has is in no csv). ``FileIndex`` keeps one row per file (its path
relative to the data root, size, mtime and the values read) in a parquet file; later calls stat
every file and read again only those that are new or whose size or mtime changed. Reading is
spread over a process pool with a progress bar. ``cached_table`` does the same for a table
derived from one file (a label csv of 4.5M rows).

Indexes live outside the data folder (a Kaggle download may be read-only, and a data folder's
files must not change under the checks that compare it), in ``$HARNESS_INDEX_DIR`` or else
``$XDG_CACHE_HOME/harness/index`` (``~/.cache/harness/index``), one folder per data root (by
its resolved path: a moved folder is indexed again). Writers hold a cross-process file lock
and replace files atomically, so runs started together on one data folder read the files once
between them and never see half an index. Deleting the folder is always safe.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import DataProblem
from harness.kit.file_checks import HEADER_CHUNK, Checked, check_files, default_workers
from harness.kit.locks import exclusive
from harness.kit.stat_files import stat_files

log = logging.getLogger(__name__)

INDEX_DIR_ENV = "HARNESS_INDEX_DIR"
_KEY_COLUMNS = ("path", "size", "mtime_ns")

RowReader = Callable[[Path], "dict[str, object] | DataProblem"]
"""Reads one file's values, or says why it cannot be used. Must be picklable (a module-level
function or a ``functools.partial`` of one): it runs in the pool's processes."""


def index_dir(root: Path) -> Path:
    """The folder that keeps the indexes of the data folder ``root``."""
    base = os.environ.get(INDEX_DIR_ENV)
    if base is None:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        base = str(Path(cache) / "harness" / "index")
    resolved = Path(root).resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    return Path(base) / f"{resolved.name}-{digest}"


@dataclass(frozen=True)
class IndexedRows:
    """The values of every readable file, and why the others could not be read."""

    frame: pd.DataFrame
    """``path`` (as asked for) and the index's columns, one row per readable file, in the order
    the files were asked for."""
    problems: list[DataProblem]
    reread: int
    """Files read this time (new, changed, or unreadable last time); the rest came from the
    index."""


@dataclass(frozen=True)
class FileIndex:
    """A persistent table of ``columns`` for the files of a data folder, ``read`` per file.

    ``name`` and ``version`` name the index file: raise ``version`` whenever ``read`` changes
    what it returns, so that indexes written by the old code are not used.
    """

    name: str
    columns: tuple[str, ...]
    read: RowReader
    version: int = 1

    def rows(
        self, root: Path, relative: Sequence[str], *, workers: int | None = None
    ) -> IndexedRows:
        """The index's rows for the files ``relative`` (paths under ``root``), bringing the
        index up to date first: files whose size or mtime differ from the index's are read
        again, in ``workers`` processes (default: the CPUs this process may use, at most 16),
        which also share the stat'ing of the files."""
        paths = np.asarray(relative, dtype=object)
        workers = workers or default_workers()
        size, mtime = stat_files(root, paths, workers)
        folder = index_dir(root)
        stored_file = folder / f"{self.name}-v{self.version}.parquet"
        with exclusive(folder / f"{self.name}.lock", f"the {self.name} index of {root}"):
            stored = _read_parquet(stored_file, [*_KEY_COLUMNS, *self.columns])
            # The usual later load asks for the files the index holds, in its order: no lookup.
            same_files = len(stored) == len(paths) and np.array_equal(
                stored["path"].to_numpy(dtype=object), paths
            )
            if same_files:
                at = np.arange(len(paths))
            elif len(stored):
                at = pd.Index(stored["path"]).get_indexer(paths)
            else:
                at = np.full(len(paths), -1)
            fresh = at >= 0
            fresh[fresh] = (stored["size"].to_numpy()[at[fresh]] == size[fresh]) & (
                stored["mtime_ns"].to_numpy()[at[fresh]] == mtime[fresh]
            )
            if same_files and fresh.all():
                return IndexedRows(stored.drop(columns=["size", "mtime_ns"]), [], 0)
            kept = stored.iloc[at[fresh]].reset_index(drop=True)
            kept["path"] = paths[fresh]
            stale = np.flatnonzero(~fresh)
            read, problems = self._read(root, paths[stale], workers)
            read_ok = np.ones(len(stale), dtype=bool)
            read_ok[list(problems)] = False
            new = read.loc[read_ok].reset_index(drop=True)
            new.insert(0, "path", paths[stale][read_ok])
            new.insert(1, "size", size[stale][read_ok])
            new.insert(2, "mtime_ns", mtime[stale][read_ok])
            order = np.concatenate([np.flatnonzero(fresh), stale[read_ok]])
            parts = [part for part in (kept, new) if len(part)] or [new]
            merged = pd.concat(parts, ignore_index=True).iloc[np.argsort(order, kind="stable")]
            merged = merged.reset_index(drop=True).infer_objects()
            if len(stale):
                _write_atomic(merged, stored_file)
                log.info(
                    "%s index of %s: %d file(s) read, %d from the index (%s)",
                    self.name,
                    root,
                    len(stale),
                    int(fresh.sum()),
                    stored_file,
                )
        return IndexedRows(
            merged.drop(columns=["size", "mtime_ns"]), list(problems.values()), len(stale)
        )

    def _read(
        self, root: Path, paths: np.ndarray, workers: int
    ) -> tuple[pd.DataFrame, dict[int, DataProblem]]:
        """The rows of ``paths`` read now (by position), and the problems of those that failed."""
        if not len(paths):
            return pd.DataFrame(columns=list(self.columns)), {}
        checked = check_files(
            functools.partial(_read_checked, self.read),
            [root / p for p in paths],
            workers=workers,
            chunk_size=HEADER_CHUNK,
            what=f"{self.name} (first index of this data folder)",
        )
        problems = {i: c.problems[0] for i, c in enumerate(checked) if c.problems}
        rows = [{} if c.value is None else c.value for c in checked]
        return pd.DataFrame(rows, columns=list(self.columns)), problems


def _read_checked(read: RowReader, path: Path) -> Checked[dict[str, object]]:
    found = read(path)
    if isinstance(found, DataProblem):
        return Checked((found,))
    return Checked(value=found)


def cached_table(
    source: Path, name: str, version: int, build: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    """``build()``, a table made from the file ``source`` alone, kept until ``source``'s size
    or mtime changes (or ``version`` is raised). ``build`` raising leaves nothing cached."""
    found = source.stat()
    folder = index_dir(source.parent)
    cached = folder / f"{name}-v{version}-{found.st_size}-{found.st_mtime_ns}.parquet"
    with exclusive(folder / f"{name}.lock", f"the {name} table of {source}"):
        if cached.is_file():
            return pd.read_parquet(cached)
        table = build()
        for old in folder.glob(f"{name}-v*.parquet"):
            old.unlink()
        _write_atomic(table, cached)
    return table


def _read_parquet(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.read_parquet(path)


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _temporary_beside(path) as temporary:
        frame.to_parquet(temporary, index=False)
        os.replace(temporary, path)


@contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)
