"""A small synthetic siim-pneumothorax dataset, real pydicom-written files, shared per module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SMALL = {"n_images": 30, "height": 64, "width": 48, "prevalence": 0.4}


@pytest.fixture(scope="session")
def synthetic_root(synthesized: Callable[[str, dict[str, Any]], Path]) -> Path:
    return synthesized("siim-pneumothorax", SMALL)
