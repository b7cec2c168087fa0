from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solutions.rsna_breast.effnet_meta.folds import patient_folds


def _table(n_patients: int, n_cancer: int, seed: int = 0) -> pd.DataFrame:
    """Kaggle-like rows: 2-6 images per patient, cancer on one breast of the cancer patients."""
    rng = np.random.default_rng(seed)
    cancer_patients = set(rng.choice(n_patients, n_cancer, replace=False).tolist())
    rows = []
    for p in range(n_patients):
        side = rng.choice(["L", "R"])
        for laterality in ("L", "R"):
            for _ in range(int(rng.integers(1, 4))):
                cancer = int(p in cancer_patients and laterality == side)
                rows.append({"patient_id": 10_000 + p, "laterality": laterality, "cancer": cancer})
    return pd.DataFrame(rows)


def _per_patient(table: pd.DataFrame, folds: np.ndarray) -> pd.DataFrame:
    return (
        table.assign(fold=folds)
        .groupby("patient_id")
        .agg(cancer=("cancer", "max"), fold=("fold", "first"), n_folds=("fold", "nunique"))
    )


@pytest.mark.parametrize(
    ("n_patients", "n_cancer", "n_folds", "seed"),
    [(60, 13, 2, 0), (60, 13, 5, 1), (128, 32, 2, 2), (200, 5, 5, 3), (97, 11, 4, 4)],
)
def test_folds_are_patient_disjoint_and_balanced(
    n_patients: int, n_cancer: int, n_folds: int, seed: int
) -> None:
    table = _table(n_patients, n_cancer, seed)
    folds = patient_folds(table, n_folds, seed)
    patients = _per_patient(table, folds)

    assert (patients["n_folds"] == 1).all()  # every image of a patient in one fold
    assert sorted(np.unique(folds)) == list(range(n_folds))
    cancers = patients.groupby("fold")["cancer"].sum()
    assert cancers.max() - cancers.min() <= 1, cancers.tolist()
    assert cancers.sum() == n_cancer


def test_folds_are_deterministic_and_independent_of_row_order() -> None:
    table = _table(60, 13)
    folds = patient_folds(table, 3, seed=7)
    assert np.array_equal(folds, patient_folds(table, 3, seed=7))

    shuffled = table.sample(frac=1.0, random_state=1)
    again = pd.Series(patient_folds(shuffled, 3, seed=7), index=shuffled.index)
    assert np.array_equal(again.sort_index().to_numpy(), folds)

    other_seed = patient_folds(table, 3, seed=8)
    assert not np.array_equal(other_seed, folds)


def test_fold_counts_that_cannot_work_are_refused() -> None:
    table = _table(3, 1)
    with pytest.raises(ValueError, match="at least 2"):
        patient_folds(table, 1, seed=0)
    with pytest.raises(ValueError, match="at least 4 patients"):
        patient_folds(table, 4, seed=0)
