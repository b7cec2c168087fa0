from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.api import DataView, PhaseBudget, RunContext
from harness.engine.budgets import get_budget
from harness.kit.imaging.cache import ArrayCache, CachedImages, load_cached_images
from harness.kit.imaging.dicom import read_dicom
from harness.kit.imaging.view_images import ViewImages


def _mean_of(path: Path) -> np.ndarray:
    return np.array([read_dicom(path).pixels.mean()])


def _load(view: DataView, ctx: RunContext) -> CachedImages:
    cache = ArrayCache(ctx.cache_dir, {"v": 1})
    return load_cached_images(list(view.frame["path"]), cache, _mean_of, (1,), np.float64)


def test_prepared_images_go_to_fit_once_and_every_load_counts_its_unreadable_files(
    tmp_path: Path, tiny_breast_root: Path
) -> None:
    good = [str(p) for p in sorted((tiny_breast_root / "train_images").rglob("*.dcm"))[:3]]
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"not a DICOM file")
    facts: dict[str, Any] = {}

    def context(phase: str) -> RunContext:
        budget = PhaseBudget(get_budget("smoke"), phase)
        return RunContext(
            tmp_path / "run", tmp_path / "cache", budget, 0, "cpu", fact_fn=facts.__setitem__
        )

    def view(paths: list[str]) -> DataView:
        return DataView("rsna-breast", pd.DataFrame({"path": paths}), True)

    images = ViewImages(_load)
    train = view([good[0], str(broken), good[1]])
    images.prepare(view(good), context("prepare"))
    assert facts == {}
    images.prepare(train, context("prepare"))
    assert facts == {"unreadable_images": 1}

    prepared = images.for_fit(train, context("fit"))
    assert prepared.ok.tolist() == [True, False, True] and facts["unreadable_images"] == 1
    images.for_fit(train, context("fit"))  # nothing prepared any more: decoded again
    assert facts["unreadable_images"] == 2

    tested = images.load(view([str(broken), good[2]]), context("predict"))
    assert tested.unreadable == [str(broken)] and facts["unreadable_images"] == 3
    assert images.unreadable == 3
