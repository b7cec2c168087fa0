"""FileIndex and cached_table: reuse, change detection, problems, concurrent builders."""

from __future__ import annotations

import functools
import multiprocessing
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from harness.api import DataProblem
from harness.kit.file_index import FileIndex, cached_table, index_dir


def read_value(log: Path, path: Path, delay: float = 0.0) -> dict[str, object] | DataProblem:
    """A file's text as ``value`` (``bad`` files are a problem); each read is logged."""
    with log.open("a") as out:
        out.write(f"{path.name}\n")
    time.sleep(delay)
    text = path.read_text() if path.is_file() else "missing"
    if text in ("bad", "missing"):
        return DataProblem(str(path), f"{text} file", "fix it")
    return {"value": text, "length": len(text)}


def _index(log: Path, delay: float = 0.0) -> FileIndex:
    reader = functools.partial(read_value, log, delay=delay)
    return FileIndex("values", ("value", "length"), reader)


def _files(root: Path, count: int) -> list[str]:
    (root / "files").mkdir(parents=True, exist_ok=True)
    names = [f"files/{i:03d}.txt" for i in range(count)]
    for i, name in enumerate(names):
        (root / name).write_text(f"v{i}")
    return names


def _reads(log: Path) -> list[str]:
    return log.read_text().split() if log.is_file() else []


def test_second_call_reads_nothing_and_gives_the_same_rows(tmp_path):
    root, log = tmp_path / "data", tmp_path / "reads.log"
    names = _files(root, 20)
    index = _index(log)

    first = index.rows(root, names, workers=1)
    second = index.rows(root, names, workers=1)

    assert first.reread == 20 and second.reread == 0
    assert len(_reads(log)) == 20
    assert first.frame["value"].tolist() == [f"v{i}" for i in range(20)]
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert first.frame["length"].dtype == "int64"
    assert first.frame["path"].tolist() == names


def test_changed_and_new_files_are_read_again_and_rows_follow_the_request_order(tmp_path):
    root, log = tmp_path / "data", tmp_path / "reads.log"
    names = _files(root, 10)
    index = _index(log)
    index.rows(root, names, workers=1)
    (root / names[3]).write_text("changed, and longer")
    same_size = root / names[5]
    same_size.write_text("w5")  # same size: only the mtime tells
    os.utime(same_size, ns=(time.time_ns(), time.time_ns() + 10**9))
    (root / "files/new.txt").write_text("new")
    log.unlink()

    asked = ["files/new.txt", *reversed(names)]
    found = index.rows(root, asked, workers=1)

    assert sorted(_reads(log)) == ["003.txt", "005.txt", "new.txt"]
    assert found.reread == 3
    assert found.frame["path"].tolist() == asked
    values = dict(zip(found.frame["path"], found.frame["value"], strict=True))
    assert values[names[3]] == "changed, and longer" and values[names[5]] == "w5"
    assert values["files/new.txt"] == "new" and values[names[0]] == "v0"


def test_unreadable_files_are_reported_and_read_again_next_time(tmp_path):
    root, log = tmp_path / "data", tmp_path / "reads.log"
    names = _files(root, 5)
    (root / names[1]).write_text("bad")
    index = _index(log)

    first = index.rows(root, [*names, "files/absent.txt"], workers=1)
    second = index.rows(root, [*names, "files/absent.txt"], workers=1)

    for found in (first, second):
        assert [p.problem for p in found.problems] == ["bad file", "missing file"]
        assert found.frame["path"].tolist() == [n for n in names if n != names[1]]
    assert second.reread == 2  # the two failures only


def test_pool_reads_each_file_once(tmp_path, pool_at_any_size):
    root, log = tmp_path / "data", tmp_path / "reads.log"
    names = _files(root, 64)

    found = _index(log).rows(root, names, workers=2)

    assert sorted(_reads(log)) == sorted(Path(n).name for n in names)
    assert found.frame["value"].tolist() == [f"v{i}" for i in range(64)]


def _build(root: Path, log: Path, names: list[str], out: Path) -> None:
    found = _index(log, delay=0.02).rows(root, names, workers=1)
    out.write_text(",".join(found.frame["value"]))


def test_concurrent_builders_read_each_file_once_between_them(tmp_path):
    root, log = tmp_path / "data", tmp_path / "reads.log"
    names = _files(root, 30)
    context = multiprocessing.get_context("spawn")
    outs = [tmp_path / f"out{i}.txt" for i in range(2)]
    builders = [context.Process(target=_build, args=(root, log, names, out)) for out in outs]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join(120)
        assert builder.exitcode == 0

    assert sorted(_reads(log)) == sorted(Path(n).name for n in names)
    expected = ",".join(f"v{i}" for i in range(30))
    assert [out.read_text() for out in outs] == [expected, expected]


def test_index_lives_outside_the_data_folder_one_folder_per_root(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_INDEX_DIR", str(tmp_path / "indexes"))
    root, log = tmp_path / "data", tmp_path / "reads.log"
    names = _files(root, 3)

    _index(log).rows(root, names, workers=1)

    folder = index_dir(root)
    assert folder.parent == tmp_path / "indexes"
    assert sorted(p.name for p in folder.iterdir()) == ["values-v1.parquet", "values.lock"]
    assert sorted(p.name for p in root.rglob("*")) == ["000.txt", "001.txt", "002.txt", "files"]
    assert index_dir(tmp_path / "other") != folder
    monkeypatch.delenv("HARNESS_INDEX_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert index_dir(root).parent == tmp_path / "cache" / "harness" / "index"


def test_a_new_version_does_not_use_the_old_index(tmp_path):
    root, log = tmp_path / "data", tmp_path / "reads.log"
    names = _files(root, 4)
    _index(log).rows(root, names, workers=1)
    newer = FileIndex("values", ("value", "length"), functools.partial(read_value, log), version=2)

    assert newer.rows(root, names, workers=1).reread == 4


def test_cached_table_is_built_once_until_its_source_changes(tmp_path):
    source = tmp_path / "labels.csv"
    source.write_text("a,b\n1,2\n")
    builds: list[int] = []

    def build() -> pd.DataFrame:
        builds.append(1)
        return pd.read_csv(source)

    first = cached_table(source, "labels", 1, build)
    second = cached_table(source, "labels", 1, build)
    source.write_text("a,b\n1,2\n3,4\n")
    third = cached_table(source, "labels", 1, build)

    assert len(builds) == 2
    pd.testing.assert_frame_equal(first, second)
    assert third["a"].tolist() == [1, 3]
    assert len(list(index_dir(tmp_path).glob("labels-v1-*.parquet"))) == 1


def test_cached_table_keeps_nothing_when_the_build_fails(tmp_path):
    source = tmp_path / "labels.csv"
    source.write_text("broken")

    def build() -> pd.DataFrame:
        raise ValueError("bad csv")

    with pytest.raises(ValueError, match="bad csv"):
        cached_table(source, "labels", 1, build)
    assert not list(index_dir(tmp_path).glob("*.parquet"))
