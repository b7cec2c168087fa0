"""The fixed holdout split of the labelled images (the competition's stage-2 labels are private).

Patients, not images, are assigned to a side (PatientID from the DICOM headers), so that no
patient's other radiograph informs the holdout. Patients are ranked by a hash of their id,
so the split does not depend on row order, numpy's RNG or the pandas version. Changing
``version`` draws a new split; results made with different split versions are not comparable.
"""

from __future__ import annotations

import hashlib
import math

import pandas as pd

REQUIRED_COLUMNS: tuple[str, ...] = ("ImageId", "PatientID", "has_pneumothorax")


def _patient_key(version: str, patient_id: object) -> str:
    return hashlib.sha256(f"siim-pneumothorax/{version}/{patient_id}".encode()).hexdigest()


def _n_holdout(n: int, fraction: float) -> int:
    """round(fraction * n) half up, leaving at least one patient on each side when n >= 2."""
    k = math.floor(fraction * n + 0.5)
    return min(max(k, 1), n - 1) if n >= 2 else k


def holdout_split(
    table: pd.DataFrame, *, fraction: float = 0.2, version: str = "v1"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic (train, holdout) split, grouped by patient, stratified on pneumothorax.

    A patient is positive if any of their images shows a pneumothorax. Within each stratum,
    patients are ordered by ``sha256(f"siim-pneumothorax/{version}/{PatientID}")`` and the first
    ``round(fraction * n_stratum)`` go to the holdout (at least one, and not all, of a stratum of
    two or more). Both tables come back sorted by ImageId with a fresh index.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"holdout_split needs column(s) {', '.join(missing)}")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be strictly between 0 and 1, got {fraction}")

    positive = table.groupby("PatientID", sort=False)["has_pneumothorax"].max().astype(bool)
    holdout_patients: list[object] = []
    for is_positive in (True, False):
        patients = positive.index[positive == is_positive]
        ordered = sorted(patients, key=lambda pid: _patient_key(version, pid))
        holdout_patients.extend(ordered[: _n_holdout(len(ordered), fraction)])

    ordered_table = table.sort_values("ImageId", kind="stable")
    in_holdout = ordered_table["PatientID"].isin(holdout_patients)
    return (
        ordered_table.loc[~in_holdout].reset_index(drop=True),
        ordered_table.loc[in_holdout].reset_index(drop=True),
    )
