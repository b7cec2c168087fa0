"""The fixed holdout split of Kaggle's train set (the competition's test labels are private).

Patients, not images or breasts, are assigned to a side, so that no patient's other breast or
other view informs the holdout (harness.kit.splits: hash-ranked, independent of row order).
Changing ``version`` draws a new split; results made with different split versions are not
comparable.
"""

from __future__ import annotations

import pandas as pd

from harness.kit.splits import grouped_holdout

REQUIRED_COLUMNS: tuple[str, ...] = ("patient_id", "image_id", "cancer")


def holdout_split(
    table: pd.DataFrame, *, fraction: float = 0.2, version: str = "v1"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic (train, holdout) split, grouped by patient and stratified on cancer.

    A patient is positive if any of their images has cancer=1. Within each stratum, patients are
    ordered by ``sha256(f"rsna-breast/{version}/{patient_id}")`` and the first
    ``round(fraction * n_stratum)`` go to the holdout; the holdout gets at least one positive
    patient when there is any (pF1 needs one), and train keeps one when there are two or more.
    Both tables come back sorted by (patient_id, image_id) with a fresh index, so shuffling the
    input rows changes nothing in the output.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"holdout_split needs column(s) {', '.join(missing)}")
    positive = table.groupby("patient_id", sort=False)["cancer"].max().astype(bool)
    return grouped_holdout(
        table,
        group="patient_id",
        strata=positive,
        namespace="rsna-breast",
        version=version,
        fraction=fraction,
        sort_by=["patient_id", "image_id"],
        singletons_held_out={True},
    )
