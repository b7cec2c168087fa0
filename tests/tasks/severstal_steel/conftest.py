"""A small synthetic severstal-steel dataset (real JPEG files), shared per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SMALL = {"n_images": 40, "height": 32, "width": 200, "defect_fraction": 0.6}


@pytest.fixture(scope="session")
def synthetic_root(synthesized: Callable[[str, dict[str, Any]], Path]) -> Path:
    return synthesized("severstal-steel", SMALL)
