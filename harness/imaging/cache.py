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
    """``get(path, compute)`` returns the cached array for the file, computing it on a miss."""

    def __init__(self, folder: Path, params: dict[str, Any]) -> None:
        params_key = hashlib.blake2b(
            json.dumps(params, sort_keys=True, default=str).encode(), digest_size=8
        ).hexdigest()
        self.folder = folder / params_key
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "params.json").write_text(json.dumps(params, sort_keys=True, default=str))
        self.hits = 0
        self.misses = 0

    def get(self, path: Path, compute: Callable[[Path], np.ndarray]) -> np.ndarray:
        target = self.folder / f"{file_digest(path)}.npy"
        if target.is_file():
            self.hits += 1
            return np.load(target)
        self.misses += 1
        array = compute(path)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".npy.partial")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, array)
        os.replace(tmp, target)
        return array
