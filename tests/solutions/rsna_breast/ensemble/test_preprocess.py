"""The ensemble's cached decode: a broken file is named and skipped, a second pass decodes none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from harness.engine.registry import load_task
from solutions.rsna_breast.ensemble.preprocess import PreparedImages

Prepare = Callable[[pd.DataFrame, Path, int, int], PreparedImages]


def test_truncated_dicom_is_named_and_the_rest_is_prepared(
    tmp_path: Path,
    rows_with_a_truncated_file: Callable[[int, int], tuple[pd.DataFrame, Path]],
    prepare_on_cpu: Prepare,
) -> None:
    table, victim = rows_with_a_truncated_file(12, 5)

    prepared = prepare_on_cpu(table, tmp_path / "cache", 32, 16)

    assert prepared.unreadable == [str(victim)]
    assert prepared.ok.tolist() == [i != 5 for i in range(12)]
    assert prepared.decode.dali + prepared.decode.fallback == 11
    crop = np.load(prepared.files[0])
    assert crop.shape == (32, 16) and crop.dtype == np.float16
    assert float(crop.min()) >= 0.0 and float(crop.max()) <= 1.0


def test_second_prepare_is_served_from_the_cache_without_decoding(
    tmp_path: Path, tiny_breast_root: Path, prepare_on_cpu: Prepare
) -> None:
    table = load_task("rsna-breast").load(tiny_breast_root).head(8)
    first = prepare_on_cpu(table, tmp_path / "cache", 32, 16)
    again = prepare_on_cpu(table, tmp_path / "cache", 32, 16)
    assert first.cache_hits == 0 and again.cache_hits == 8
    assert again.decode.dali == again.decode.fallback == 0
    assert again.files == first.files
