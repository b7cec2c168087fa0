"""The holdout split: deterministic, grouped by patient, stratified on pneumothorax."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.siim_pneumothorax.split import holdout_split


def _table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    patients = [f"p{i}" for i in rng.integers(0, 120, size=300)]
    return pd.DataFrame(
        {
            "ImageId": [f"1.2.{i}" for i in range(300)],
            "PatientID": patients,
            "has_pneumothorax": (rng.random(300) < 0.22).astype(int),
        }
    )


def test_patients_stay_on_one_side_and_strata_are_kept() -> None:
    table = _table()
    train, holdout = holdout_split(table)
    assert not set(train["PatientID"]) & set(holdout["PatientID"])
    assert len(train) + len(holdout) == len(table)
    patient_positive = table.groupby("PatientID")["has_pneumothorax"].max()
    held = patient_positive.loc[holdout["PatientID"].unique()]
    for value in (0, 1):
        n = int((patient_positive == value).sum())
        assert int((held == value).sum()) == int(np.floor(0.2 * n + 0.5))


def test_split_ignores_row_order_and_changes_with_the_version() -> None:
    table = _table()
    _, holdout = holdout_split(table)
    _, shuffled = holdout_split(table.sample(frac=1, random_state=1))
    pd.testing.assert_frame_equal(holdout, shuffled)
    _, other = holdout_split(table, version="v2")
    assert set(other["ImageId"]) != set(holdout["ImageId"])
