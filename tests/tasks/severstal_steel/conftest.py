"""A small synthetic severstal-steel dataset (real JPEG files), shared per session."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.severstal_steel.synthetic import SteelSynthConfig, synthesize

SMALL = SteelSynthConfig(n_images=40, height=32, width=200, defect_fraction=0.6)


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("severstal") / "data"
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
