"""The holdout split: by study, stratified on patient_overall, deterministic, versioned."""

from __future__ import annotations

import pandas as pd
import pytest

from tasks.rsna_cervical.split import holdout_split


def studies(n: int = 50, positive_every: int = 2) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "StudyInstanceUID": [f"1.2.826.0.1.3680043.{1000 + 7 * k}" for k in range(n)],
            "patient_overall": [int(k % positive_every == 0) for k in range(n)],
        }
    )


def test_is_deterministic_and_independent_of_row_order():
    table = studies()
    train, holdout = holdout_split(table)
    shuffled = table.sample(frac=1.0, random_state=1)
    train2, holdout2 = holdout_split(shuffled)
    pd.testing.assert_frame_equal(train, train2)
    pd.testing.assert_frame_equal(holdout, holdout2)


def test_every_study_lands_on_exactly_one_side():
    train, holdout = holdout_split(studies())
    uids = set(train["StudyInstanceUID"]) | set(holdout["StudyInstanceUID"])
    assert len(uids) == 50 and set(train["StudyInstanceUID"]).isdisjoint(
        holdout["StudyInstanceUID"]
    )


def test_is_stratified_on_patient_overall():
    _, holdout = holdout_split(studies(50, positive_every=5))  # 10 positive, 40 negative
    assert holdout["patient_overall"].sum() == 2 and len(holdout) == 10


def test_versions_draw_different_splits():
    _, v1 = holdout_split(studies(), version="v1")
    _, v2 = holdout_split(studies(), version="v2")
    assert set(v1["StudyInstanceUID"]) != set(v2["StudyInstanceUID"])


def test_rejects_repeated_studies_and_missing_columns():
    table = studies()
    with pytest.raises(ValueError, match="one row per study"):
        holdout_split(pd.concat([table, table.head(1)]))
    with pytest.raises(ValueError, match="patient_overall"):
        holdout_split(table.drop(columns=["patient_overall"]))
