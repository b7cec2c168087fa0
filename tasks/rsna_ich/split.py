"""The fixed holdout split of Kaggle's train set (the competition's test labels are private).

Patients (the DICOM PatientID), not slices, are assigned to a side: every slice of every study
of a patient lands on one side, so no neighbouring slice or follow-up scan of a holdout patient
informs training. Patients are ranked by a hash of their id (harness.kit.splits), so the split
does not depend on row order, numpy's RNG or the pandas version. Changing ``version`` draws a
new split; results made with different split versions are not comparable.
"""

from __future__ import annotations

import pandas as pd

from harness.kit.splits import grouped_holdout

REQUIRED_COLUMNS: tuple[str, ...] = ("PatientID", "image_id", "any")
SORT_COLUMNS: list[str] = ["PatientID", "StudyInstanceUID", "SeriesInstanceUID", "slice_index"]


def holdout_split(
    table: pd.DataFrame, *, fraction: float = 0.2, version: str = "v1"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic (train, holdout) split, grouped by patient, stratified on hemorrhage.

    A patient is positive if any of their slices has any=1. Within each stratum, patients are
    ordered by ``sha256(f"rsna-ich/{version}/{PatientID}")`` and the first
    ``round(fraction * n_stratum)`` go to the holdout (at least one positive patient when there
    is one, and train keeps one when there are two or more). Both tables come back sorted by
    patient, study, series and slice (image_id where there is no slice_index) with a fresh
    index, so shuffling the input rows changes nothing.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"holdout_split needs column(s) {', '.join(missing)}")
    positive = table.groupby("PatientID", sort=False)["any"].max().astype(bool)
    return grouped_holdout(
        table,
        group="PatientID",
        strata=positive,
        namespace="rsna-ich",
        version=version,
        fraction=fraction,
        sort_by=[c for c in SORT_COLUMNS if c in table.columns] + ["image_id"],
        singletons_held_out={True},
    )
