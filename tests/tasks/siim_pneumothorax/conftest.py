"""A small synthetic siim-pneumothorax dataset, real pydicom-written files, shared per module."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.siim_pneumothorax.synthetic import PneumothoraxSynthConfig, synthesize

SMALL = PneumothoraxSynthConfig(n_images=30, height=64, width=48, prevalence=0.4)


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("siim") / "data"
    synthesize(root, SMALL, seed=3)
    return root


@pytest.fixture
def dataset_copy(synthetic_root: Path, tmp_path: Path) -> Callable[[], Path]:
    """A fresh copy of the synthetic dataset that a test may break."""

    def copy() -> Path:
        target = tmp_path / "copy"
        shutil.copytree(synthetic_root, target)
        return target

    return copy
