"""A tiny rsna-cervical dataset shared by the task's tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine.datasets import synth_config, synthesize
from harness.engine.registry import load_task

TINY = {
    "n_studies": 8,
    "size": 32,
    "min_slices": 24,
    "max_slices": 30,
    "segmentation_fraction": 0.5,
    "reversed_numbering_fraction": 0.5,
    "jpeg2000_fraction": 0.25,
    "jpeg_lossless_fraction": 0.25,
}


@pytest.fixture(scope="session")
def tiny_cervical_params() -> dict[str, object]:
    """The generator parameters of ``tiny_cervical_root`` (seed 3)."""
    return dict(TINY)


@pytest.fixture(scope="session")
def tiny_cervical_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    task = load_task("rsna-cervical")
    config = synth_config(task, TINY)
    return synthesize(task, tmp_path_factory.mktemp("data") / "rsna-cervical", config, seed=3)
