"""The fixed holdout split of Kaggle's train set (the competition's test labels are private).

Patients, not images or breasts, are assigned to a side, so that no patient's other breast or
other view informs the holdout. The assignment ranks patients by a hash of their id, so it does
not depend on row order, on numpy's RNG or on the pandas version. Changing ``version`` draws a new
split; results made with different split versions are not comparable.
"""

from __future__ import annotations

import hashlib
import math

import pandas as pd

REQUIRED_COLUMNS: tuple[str, ...] = ("patient_id", "image_id", "cancer")


def _patient_key(version: str, patient_id: object) -> str:
    return hashlib.sha256(f"rsna-breast/{version}/{patient_id}".encode()).hexdigest()


def _n_holdout(n: int, fraction: float, *, positive: bool) -> int:
    """round(fraction * n) half up, keeping a positive on each side where there are enough."""
    k = math.floor(fraction * n + 0.5)
    if positive and n >= 1:
        k = max(k, 1)
        if n >= 2:
            k = min(k, n - 1)
    return k


def holdout_split(
    table: pd.DataFrame, *, fraction: float = 0.2, version: str = "v1"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic (train, holdout) split, grouped by patient and stratified on cancer.

    A patient is positive if any of their images has cancer=1. Within each stratum, patients are
    ordered by ``sha256(f"rsna-breast/{version}/{patient_id}")`` and the first
    ``round(fraction * n_stratum)`` go to the holdout; the holdout gets at least one positive
    patient when there is any, and train keeps one when there are two or more. Both tables come
    back sorted by (patient_id, image_id) with a fresh index, so shuffling the input rows changes
    nothing in the output.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"holdout_split needs column(s) {', '.join(missing)}")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be strictly between 0 and 1, got {fraction}")

    positive = table.groupby("patient_id", sort=False)["cancer"].max().astype(bool)
    holdout_patients: list[object] = []
    for is_positive in (True, False):
        patients = positive.index[positive == is_positive]
        ordered = sorted(patients, key=lambda pid: _patient_key(version, pid))
        holdout_patients.extend(ordered[: _n_holdout(len(ordered), fraction, positive=is_positive)])

    ordered_table = table.sort_values(["patient_id", "image_id"], kind="stable")
    in_holdout = ordered_table["patient_id"].isin(holdout_patients)
    train = ordered_table.loc[~in_holdout].reset_index(drop=True)
    holdout = ordered_table.loc[in_holdout].reset_index(drop=True)
    return train, holdout
