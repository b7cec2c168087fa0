"""The holdout split: deterministic, patient-grouped, stratified, independent of row order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.rsna_breast.split import holdout_split


def image_table(n_patients: int, n_positive: int, seed: int = 0) -> pd.DataFrame:
    """Patients with 2-6 images each; the first ``n_positive`` have one cancer image."""
    rng = np.random.default_rng(seed)
    rows = []
    image_id = 1000
    for k in range(n_patients):
        patient_id = 10_000 + 7 * k
        n_images = int(rng.integers(2, 7))
        for i in range(n_images):
            image_id += int(rng.integers(1, 50))
            cancer = int(k < n_positive and i == 0)
            rows.append((patient_id, image_id, "LR"[i % 2], cancer))
    return pd.DataFrame(rows, columns=["patient_id", "image_id", "laterality", "cancer"])


def patient_labels(table: pd.DataFrame) -> pd.Series:
    return table.groupby("patient_id")["cancer"].max()


def test_is_deterministic():
    table = image_table(200, 10)
    train_a, holdout_a = holdout_split(table)
    train_b, holdout_b = holdout_split(table.copy())
    pd.testing.assert_frame_equal(train_a, train_b)
    pd.testing.assert_frame_equal(holdout_a, holdout_b)


def test_is_independent_of_row_order():
    table = image_table(200, 10)
    shuffled = table.sample(frac=1.0, random_state=3).reset_index(drop=True)
    for expected, got in zip(holdout_split(table), holdout_split(shuffled), strict=True):
        pd.testing.assert_frame_equal(expected, got)


def test_keeps_every_row_once_and_each_patient_on_one_side():
    table = image_table(200, 10)
    train, holdout = holdout_split(table)
    assert len(train) + len(holdout) == len(table)
    assert set(train["image_id"]).isdisjoint(holdout["image_id"])
    assert set(train["patient_id"]).isdisjoint(holdout["patient_id"])
    assert list(train.index) == list(range(len(train)))


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.5])
def test_respects_the_fraction_within_each_stratum(fraction):
    table = image_table(300, 23)
    _, holdout = holdout_split(table, fraction=fraction)
    labels = patient_labels(holdout)
    # per stratum: fraction * n patients rounded half up (0.5 * 277 = 138.5 -> 139)
    assert int(labels.sum()) == int(fraction * 23 + 0.5)
    assert int((labels == 0).sum()) == int(fraction * 277 + 0.5)


@settings(max_examples=40, deadline=None)
@given(
    n_patients=st.integers(1, 60),
    positive_share=st.floats(0.0, 1.0),
    fraction=st.floats(0.05, 0.95),
)
def test_stratification_is_within_one_patient(n_patients, positive_share, fraction):
    n_positive = round(positive_share * n_patients)
    table = image_table(n_patients, n_positive)
    train, holdout = holdout_split(table, fraction=fraction)
    held = patient_labels(holdout)
    held_positive = int(held.sum())
    held_negative = len(held) - held_positive
    assert abs(held_positive - fraction * n_positive) <= 1
    assert abs(held_negative - fraction * (n_patients - n_positive)) <= 1
    if n_positive >= 1:
        assert held_positive >= 1
    if n_positive >= 2:
        assert int(patient_labels(train).sum()) >= 1


def test_a_lone_positive_patient_goes_to_the_holdout():
    train, holdout = holdout_split(image_table(20, 1))
    assert holdout["cancer"].sum() == 1
    assert train["cancer"].sum() == 0


def test_versions_draw_different_splits():
    table = image_table(200, 10)
    _, v1 = holdout_split(table, version="v1")
    _, v2 = holdout_split(table, version="v2")
    assert set(v1["patient_id"]) != set(v2["patient_id"])
    assert len(set(v1["patient_id"])) == len(set(v2["patient_id"]))


def test_a_patient_is_positive_if_any_image_is():
    table = image_table(100, 0)
    table.loc[table["patient_id"] == 10_000, "cancer"] = [1] + [0] * (
        int((table["patient_id"] == 10_000).sum()) - 1
    )
    _, holdout = holdout_split(table)
    assert 10_000 in set(holdout["patient_id"])  # the only positive patient


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_rejects_a_degenerate_fraction(fraction):
    with pytest.raises(ValueError, match="fraction"):
        holdout_split(image_table(10, 1), fraction=fraction)


def test_names_missing_columns():
    with pytest.raises(ValueError, match="cancer"):
        holdout_split(image_table(10, 1).drop(columns=["cancer"]))
