from pathlib import Path

import pytest

from harness.api import DataError
from harness.config import DataConfig
from harness.datasets import SYNTH_MANIFEST, resolve_data, synth_config, synthesize
from harness.registry import load_task

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
