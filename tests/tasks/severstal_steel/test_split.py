"""The holdout split: deterministic, stratified on each image's set of defect classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.severstal_steel.split import holdout_split

SETS = ["", "3", "1", "4", "2", "1 3", "3 4", "2 3"]
WEIGHTS = [0.47, 0.3, 0.07, 0.06, 0.03, 0.03, 0.02, 0.02]


def _table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ImageId": [f"{i:09x}.jpg" for i in rng.choice(16**9, size=n, replace=False)],
            "classes": rng.choice(SETS, size=n, p=WEIGHTS),
        }
    )


def test_each_class_set_is_split_in_proportion() -> None:
    table = _table()
    train, holdout = holdout_split(table)
    assert len(train) + len(holdout) == len(table)
    assert not set(train["ImageId"]) & set(holdout["ImageId"])
    for classes, stratum in table.groupby("classes"):
        held = int((holdout["classes"] == classes).sum())
        assert held == int(np.floor(0.2 * len(stratum) + 0.5)), classes


def test_split_ignores_row_order_and_changes_with_the_version() -> None:
    table = _table()
    _, holdout = holdout_split(table)
    _, shuffled = holdout_split(table.sample(frac=1, random_state=1))
    pd.testing.assert_frame_equal(holdout, shuffled)
    assert holdout["ImageId"].is_monotonic_increasing
    _, other = holdout_split(table, version="v2")
    assert set(other["ImageId"]) != set(holdout["ImageId"])


def test_one_row_per_image_is_required() -> None:
    table = _table(10)
    with pytest.raises(ValueError, match="one row per image"):
        holdout_split(pd.concat([table, table.iloc[:1]]))
