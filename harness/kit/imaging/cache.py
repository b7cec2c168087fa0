"""Disk cache of preprocessed images keyed by file content and preprocessing parameters.

Keying on the file's bytes (not its path or mtime) means a re-downloaded, identical dataset
still hits the cache, and a changed file never returns a stale image. Hashing a full Kaggle
download (hundreds of GB) on every run would cost more than decoding it, so each file's digest
is remembered in a small SQLite index next to the cache, keyed by path, size and modification
time (the test make and rsync use): an unchanged file is hashed once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class DigestIndex:
    """``file_digest`` remembered per (path, size, mtime) in SQLite, safe for concurrent runs."""

    def __init__(self, database: Path) -> None:
        database.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(database, timeout=60, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS digests "
            "(path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, digest TEXT)"
        )
        self.computed = 0

    def digest(self, path: Path) -> str:
        resolved = str(path.resolve())
        stat = path.stat()
        row = self._db.execute(
            "SELECT digest FROM digests WHERE path = ? AND size = ? AND mtime_ns = ?",
            (resolved, stat.st_size, stat.st_mtime_ns),
        ).fetchone()
        if row is not None:
            return str(row[0])
        digest = file_digest(path)
        self.computed += 1
        self._db.execute(
            "INSERT OR REPLACE INTO digests VALUES (?, ?, ?, ?)",
            (resolved, stat.st_size, stat.st_mtime_ns, digest),
        )
        return digest


class ArrayCache:
    """Arrays stored under ``<folder>/<params hash>/<file content hash>.npy``.

    ``get(path, compute)`` serves one file; ``key``/``load``/``save`` let a caller find the
    misses first and compute them in a batch (e.g. one DALI decode per batch of files).
    """

    def __init__(self, folder: Path, params: dict[str, Any]) -> None:
        params_key = hashlib.blake2b(
            json.dumps(params, sort_keys=True, default=str).encode(), digest_size=8
        ).hexdigest()
        self.folder = folder / params_key
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "params.json").write_text(json.dumps(params, sort_keys=True, default=str))
        self.digests = DigestIndex(folder / "digests.sqlite")
        self.hits = 0
        self.misses = 0

    def key(self, path: Path) -> str:
        """The content digest of ``path`` (read from the index when the file is unchanged)."""
        return self.digests.digest(path)

    def file(self, key: str) -> Path:
        """Where the array of ``key`` is (or will be) stored."""
        return self.folder / f"{key}.npy"

    def load(self, key: str) -> np.ndarray | None:
        """The cached array, or None (counted as a miss)."""
        target = self.file(key)
        if target.is_file():
            self.hits += 1
            return np.load(target)
        self.misses += 1
        return None

    def save(self, key: str, array: np.ndarray) -> None:
        """Write atomically: a killed run never leaves a truncated entry behind."""
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".npy.partial")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, array)
        os.replace(tmp, self.file(key))

    def get(self, path: Path, compute: Callable[[Path], np.ndarray]) -> np.ndarray:
        key = self.key(path)
        cached = self.load(key)
        if cached is not None:
            return cached
        array = compute(path)
        self.save(key, array)
        return array


class CachedImages(NamedTuple):
    images: np.ndarray
    """(N, *shape) stacked arrays; zeros where ``ok`` is False."""
    ok: np.ndarray
    unreadable: list[str]


def load_cached_images(
    paths: Sequence[str | Path],
    cache: ArrayCache,
    preprocess: Callable[[Path], np.ndarray],
    shape: tuple[int, ...],
    dtype: np.dtype | type,
) -> CachedImages:
    """Every file's preprocessed array, from ``cache`` or computed and cached on a miss.

    An unreadable DICOM is logged by name and left as zeros outside ``ok``: one corrupt file
    must not end a long run.
    """
    from harness.kit.imaging.dicom import DicomReadError

    result = CachedImages(
        np.zeros((len(paths), *shape), dtype=dtype), np.zeros(len(paths), dtype=bool), []
    )
    for i, path in enumerate(paths):
        try:
            result.images[i] = cache.get(Path(path), preprocess)
        except DicomReadError as exc:
            log.warning("skipping unreadable image: %s", exc)
            result.unreadable.append(str(path))
            continue
        result.ok[i] = True
    log.info(
        "%d images ready (%d from cache, %d computed, %d unreadable)",
        int(result.ok.sum()),
        cache.hits,
        cache.misses - len(result.unreadable),
        len(result.unreadable),
    )
    return result
