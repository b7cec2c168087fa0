import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from harness.api import DataError
from harness.engine.config import DataConfig
from harness.engine.datasets import (
    SYNTH_MANIFEST,
    lock_file,
    resolve_data,
    synth_config,
    synthesize,
    synthetic_root,
)
from harness.engine.registry import load_task

TINY = {"n_patients": 2, "height": 40, "width": 32}


def test_synthetic_default_is_generated_once_then_reused(tmp_path: Path) -> None:
    task = load_task("rsna-breast")
    first = resolve_data(task, DataConfig(synth=TINY), tmp_path)
    manifest = first.root / SYNTH_MANIFEST
    stamp = manifest.stat().st_mtime_ns
    again = resolve_data(task, DataConfig(synth=TINY), tmp_path)
    assert again == first and first.kind == "synthetic"
    assert manifest.stat().st_mtime_ns == stamp
    other = resolve_data(task, DataConfig(synth={**TINY, "n_patients": 3}), tmp_path)
    assert other.root != first.root


def test_interrupted_generation_leaves_no_dataset_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = load_task("rsna-breast")

    def explode(root: Path, config: object, seed: int) -> None:
        (root / "train.csv").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(task, "synthesize", explode)
    with pytest.raises(KeyboardInterrupt):
        synthesize(task, tmp_path / "out", synth_config(task, TINY), seed=0)
    assert list(tmp_path.iterdir()) == []


def test_user_data_root_must_exist(tmp_path: Path) -> None:
    task = load_task("rsna-breast")
    with pytest.raises(DataError, match="is not a folder"):
        resolve_data(task, DataConfig(root=str(tmp_path / "nope")), tmp_path)
    resolved = resolve_data(task, DataConfig(root=str(tmp_path)), tmp_path)
    assert (resolved.root, resolved.kind) == (tmp_path.resolve(), "kaggle")


def test_synthesize_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    task = load_task("rsna-breast")
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        synthesize(task, tmp_path, synth_config(task, TINY), seed=0)


def test_threads_generate_each_dataset_once_and_never_two_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep's threads: the same dataset is generated once, different ones one at a time
    (pydicom's writers and the JPEG 2000 encoder are not thread-safe)."""
    task = load_task("rsna-breast")
    real = task.synthesize
    generated: list[int] = []
    inside: list[int] = []
    peak = [0]
    guard = threading.Lock()

    def counted(root: Path, config: Any, seed: int) -> None:
        with guard:
            generated.append(config.n_patients)
            inside.append(seed)
            peak[0] = max(peak[0], len(inside))
        try:
            real(root, config, seed)
        finally:
            with guard:
                inside.remove(seed)

    monkeypatch.setattr(task, "synthesize", counted)
    configs = [TINY, TINY, {**TINY, "n_patients": 3}, {**TINY, "n_patients": 3}]
    with ThreadPoolExecutor(len(configs)) as pool:
        resolved = list(
            pool.map(lambda c: resolve_data(task, DataConfig(synth=c), tmp_path), configs)
        )

    assert sorted(generated) == [2, 3]
    assert peak[0] == 1
    assert resolved[0] == resolved[1] and resolved[2] == resolved[3]
    assert (resolved[0].root / SYNTH_MANIFEST).is_file()
    assert (resolved[2].root / SYNTH_MANIFEST).is_file()


RUN_SYNTH = {"n_patients": 16, "height": 48, "width": 40, "prevalence": 0.5}


def test_two_harness_runs_at_once_on_an_empty_results_folder_generate_the_data_once(
    tmp_path: Path, test_solutions: Path
) -> None:
    """Two terminals: both runs wait on the lock (held here until both wait), then race for
    it; one generates, the other finds the dataset and reuses it, and both score."""
    results = (tmp_path / "results").resolve()
    root = synthetic_root(load_task("rsna-breast"), DataConfig(synth=RUN_SYNTH), results)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(test_solutions), *sys.path])}
    command = [
        sys.executable,
        "-m",
        "harness.cli",
        "run",
        "task=rsna-breast",
        "solution=constant",
        "budget=smoke",
        "bootstrap=0",
        f"results_dir={results}",
        *(f"data.synth.{key}={value}" for key, value in RUN_SYNTH.items()),
    ]
    logs = [tmp_path / "run-a.log", tmp_path / "run-b.log"]
    lock = FileLock(lock_file(root))
    lock.acquire()
    runs = []
    try:
        for log in logs:
            with log.open("w") as out:
                runs.append(
                    subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
                )
        deadline = time.monotonic() + 300
        while not all("waiting for synthetic rsna-breast data" in log.read_text() for log in logs):
            if time.monotonic() > deadline or any(run.poll() is not None for run in runs):
                raise AssertionError("both runs should wait for the lock:\n" + _texts(logs))
            time.sleep(0.5)
    finally:
        lock.release()
        for run in runs:
            try:
                run.wait(timeout=600)
            finally:
                if run.poll() is None:
                    run.kill()

    output = _texts(logs)
    assert [run.returncode for run in runs] == [0, 0], output
    assert output.count("generating synthetic rsna-breast data") == 1, output
    datasets = [p for p in root.parent.iterdir() if p.is_dir()]
    assert datasets == [root] and (root / SYNTH_MANIFEST).is_file()


def _texts(logs: list[Path]) -> str:
    return "\n".join(log.read_text() for log in logs)
