import shutil
from pathlib import Path

import numpy as np

from harness.engine.registry import load_task
from solutions.rsna_breast.ensemble.preprocess import prepare_images


def _prepare(table, cache: Path):
    return prepare_images(
        table,
        cache,
        height=32,
        width=16,
        crop=True,
        decode_device="cpu",
        decode_batch_size=4,
        num_threads=1,
    )


def test_truncated_dicom_is_named_and_the_rest_is_prepared(
    tmp_path: Path, tiny_breast_root: Path
) -> None:
    root = tmp_path / "data"
    shutil.copytree(tiny_breast_root, root)
    table = load_task("rsna-breast").load(root).head(12)
    victim = Path(table["path"].iloc[5])
    victim.write_bytes(victim.read_bytes()[:300])

    prepared = _prepare(table, tmp_path / "cache")

    assert prepared.unreadable == [str(victim)]
    assert prepared.ok.tolist() == [i != 5 for i in range(12)]
    assert prepared.decode.dali + prepared.decode.fallback == 11
    crop = np.load(prepared.files[0])
    assert crop.shape == (32, 16) and crop.dtype == np.float16
    assert float(crop.min()) >= 0.0 and float(crop.max()) <= 1.0


def test_second_prepare_is_served_from_the_cache_without_decoding(
    tmp_path: Path, tiny_breast_root: Path
) -> None:
    table = load_task("rsna-breast").load(tiny_breast_root).head(8)
    first = _prepare(table, tmp_path / "cache")
    again = _prepare(table, tmp_path / "cache")
    assert first.cache_hits == 0 and again.cache_hits == 8
    assert again.decode.dali == again.decode.fallback == 0
    assert again.files == first.files
