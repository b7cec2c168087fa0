"""The fixed holdout split of Kaggle's train set (the competition's test labels are private).

Patients, not images or breasts, are assigned to a side, so that no patient's other breast or
other view informs the holdout (harness.kit.splits: hash-ranked, independent of row order).
Changing ``version`` draws a new split; results made with different split versions are not
comparable.

A patient is positive if any of their images has cancer=1; within each stratum patients are
ranked by ``sha256(f"rsna-breast/{version}/{patient_id}")``. The holdout gets at least one
positive patient when there is any (pF1 needs one). Both sides come back sorted by
(patient_id, image_id).
"""

from __future__ import annotations

from harness.kit.splits import StratifiedHoldout

holdout_split = StratifiedHoldout(
    namespace="rsna-breast",
    group="patient_id",
    stratum="cancer",
    required=("patient_id", "image_id", "cancer"),
    sort_by=("patient_id", "image_id"),
    positive_singleton_held_out=True,
)
