"""Disk cache of preprocessed images keyed by file content and preprocessing parameters.

Keying on the file's bytes (not its path or mtime) means a re-downloaded, identical dataset
still hits the cache, and a changed file never returns a stale image.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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
        self.hits = 0
        self.misses = 0

    def key(self, path: Path) -> str:
        return file_digest(path)

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
