"""The fixed holdout split of the labelled images (the competition's stage-2 labels are private).

Patients, not images, are assigned to a side (PatientID from the DICOM headers), so that no
patient's other radiograph informs the holdout (harness.kit.splits: hash-ranked, independent of row
order). Changing ``version`` draws a new split; results made with different split versions are
not comparable.
"""

from __future__ import annotations

import pandas as pd

from harness.kit.splits import grouped_holdout

REQUIRED_COLUMNS: tuple[str, ...] = ("ImageId", "PatientID", "has_pneumothorax")


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
    positive = table.groupby("PatientID", sort=False)["has_pneumothorax"].max().astype(bool)
    return grouped_holdout(
        table,
        group="PatientID",
        strata=positive,
        namespace="siim-pneumothorax",
        version=version,
        fraction=fraction,
        sort_by=["ImageId"],
    )
