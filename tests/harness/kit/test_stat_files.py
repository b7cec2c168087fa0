"""Stat'ing many files, in forked processes past a size."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from harness.kit import stat_files as module
from harness.kit.stat_files import stat_files


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    names = [f"d/f{i:03d}" for i in range(60)]
    (tmp_path / "d").mkdir()
    for i, name in enumerate(names):
        (tmp_path / name).write_bytes(b"x" * i)
    return [*names, "d/missing"]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_forked_parts_give_what_one_process_gives(
    tmp_path: Path, files: list[str], workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "PARALLEL_FROM", 10)
    size, mtime = stat_files(tmp_path, np.asarray(files, dtype=object), workers)
    expected = [os.stat(tmp_path / name) for name in files[:-1]]
    assert size.tolist() == [s.st_size for s in expected] + [-1]
    assert mtime.tolist() == [s.st_mtime_ns for s in expected] + [-1]


def test_a_child_that_fails_has_its_part_stated_here(
    tmp_path: Path, files: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "PARALLEL_FROM", 10)
    serial = stat_files(tmp_path, files, 1)
    monkeypatch.setattr(module, "_read_all", lambda reader, expected: os.close(reader))
    size, mtime = stat_files(tmp_path, files, 2)
    assert size.tolist() == serial[0].tolist() and mtime.tolist() == serial[1].tolist()
