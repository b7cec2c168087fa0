"""grouped_folds: the patient-grouped cross-validation folds of every solution that needs them.

``grouped_folds.json`` holds the fold assignments of the three ``patient_folds`` that the
solutions had before this helper (effnet-meta, sequence, seresnext); each caller's parameters
must reproduce them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from harness.kit.splits import grouped_folds

GOLDEN = json.loads((Path(__file__).parent / "grouped_folds.json").read_text())


def patients(n_patients: int, n_positive: int, *, patient: str, label: str) -> pd.DataFrame:
    """Two to four rows per patient in shuffled order; the first ``n_positive`` patients have
    one positive row."""
    rng = np.random.default_rng(n_patients * 100 + n_positive)
    rows = []
    for index in range(n_patients):
        for row in range(int(rng.integers(2, 5))):
            rows.append({patient: f"P{index:03d}", label: int(index < n_positive and row == 0)})
    frame = pd.DataFrame(rows)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


FRAMES = {"balanced": (30, 12), "few_positive": (20, 2), "no_positive": (9, 0)}
CALLERS: dict[str, dict[str, Any]] = {
    "effnet_meta": {"group": "patient_id", "label": "cancer"},
    "sequence": {"group": "PatientID", "label": "any"},
    "seresnext": {"group": "PatientID", "label": "any", "unstratified_when_sparse": True},
}


def assignments(caller: str) -> dict[str, list[int]]:
    options = CALLERS[caller]
    out = {}
    for name, (n_patients, n_positive) in FRAMES.items():
        frame = patients(n_patients, n_positive, patient=options["group"], label=options["label"])
        for n_folds, seed in [(3, 0), (5, 7)]:
            folds = grouped_folds(frame, n_folds=n_folds, seed=seed, **options)
            out[f"{name}_{n_folds}folds_seed{seed}"] = folds.tolist()
    return out


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_folds_match_today(caller: str) -> None:
    assert assignments(caller) == GOLDEN[caller]


def _folds(table: pd.DataFrame, n_folds: int, seed: int) -> np.ndarray:
    return grouped_folds(table, group="patient_id", label="cancer", n_folds=n_folds, seed=seed)


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
    folds = _folds(table, n_folds, seed)
    patients = _per_patient(table, folds)

    assert (patients["n_folds"] == 1).all()  # every image of a patient in one fold
    assert sorted(np.unique(folds)) == list(range(n_folds))
    cancers = patients.groupby("fold")["cancer"].sum()
    assert cancers.max() - cancers.min() <= 1, cancers.tolist()
    assert cancers.sum() == n_cancer


def test_folds_are_deterministic_and_independent_of_row_order() -> None:
    table = _table(60, 13)
    folds = _folds(table, 3, seed=7)
    assert np.array_equal(folds, _folds(table, 3, seed=7))

    shuffled = table.sample(frac=1.0, random_state=1)
    again = pd.Series(_folds(shuffled, 3, seed=7), index=shuffled.index)
    assert np.array_equal(again.sort_index().to_numpy(), folds)

    other_seed = _folds(table, 3, seed=8)
    assert not np.array_equal(other_seed, folds)


def test_fold_counts_that_cannot_work_are_refused() -> None:
    table = _table(3, 1)
    with pytest.raises(ValueError, match="at least 2"):
        _folds(table, 1, seed=0)
    with pytest.raises(ValueError, match="at least 4 groups"):
        _folds(table, 4, seed=0)


def test_sparse_strata_can_make_the_folds_unstratified() -> None:
    table = _table(30, 2)
    stratified = _per_patient(table, _folds(table, 3, seed=0))
    assert sorted(stratified.groupby("fold")["cancer"].sum()) == [0, 1, 1]
    plain = grouped_folds(
        table, group="patient_id", label="cancer", n_folds=3, seed=0, unstratified_when_sparse=True
    )
    assert not np.array_equal(plain, _folds(table, 3, seed=0))
    assert (_per_patient(table, plain)["n_folds"] == 1).all()
