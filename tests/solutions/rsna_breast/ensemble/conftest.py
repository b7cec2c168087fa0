"""Fixtures of the ensemble's decode tests: rows of a copied tiny set, and preparing them on CPU."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from harness.engine.registry import load_task
from solutions.rsna_breast.ensemble.preprocess import PreparedImages, prepare_images


@pytest.fixture
def rows_with_a_truncated_file(
    tmp_path: Path, tiny_breast_root: Path
) -> Callable[[int, int], tuple[pd.DataFrame, Path]]:
    """The first ``n`` rows of a copy of the tiny breast set, row ``broken``'s DICOM cut to 300
    bytes (DALI and pydicom both fail on it); returns the rows and the broken file."""

    def rows(n: int, broken: int) -> tuple[pd.DataFrame, Path]:
        root = tmp_path / "data"
        shutil.copytree(tiny_breast_root, root)
        frame = load_task("rsna-breast").load(root).head(n).reset_index(drop=True)
        victim = Path(frame["path"].iloc[broken])
        victim.write_bytes(victim.read_bytes()[:300])
        return frame, victim

    return rows


@pytest.fixture(scope="session")
def prepare_on_cpu() -> Callable[[pd.DataFrame, Path, int, int], PreparedImages]:
    """``prepare_images`` of rows into ``cache`` at ``height`` x ``width``: DALI on CPU, cropped."""

    def prepare(frame: pd.DataFrame, cache: Path, height: int, width: int) -> PreparedImages:
        return prepare_images(
            frame,
            cache,
            height=height,
            width=width,
            crop=True,
            decode_device="cpu",
            decode_batch_size=4,
            num_threads=1,
        )

    return prepare
