"""The fixed holdout split of Kaggle's train set (the competition's test labels are private).

Patients (the DICOM PatientID), not slices, are assigned to a side: every slice of every study
of a patient lands on one side, so no neighbouring slice or follow-up scan of a holdout patient
informs training. Patients are ranked by a hash of their id (harness.kit.splits), so the split
does not depend on row order, numpy's RNG or the pandas version. Changing ``version`` draws a
new split; results made with different split versions are not comparable.

A patient is positive if any of their slices has any=1; within each stratum patients are ranked
by ``sha256(f"rsna-ich/{version}/{PatientID}")``, at least one positive patient held out when
there is one. Both sides come back sorted by patient, study, series and slice (image_id where
there is no slice_index).
"""

from __future__ import annotations

from harness.kit.splits import StratifiedHoldout

holdout_split = StratifiedHoldout(
    namespace="rsna-ich",
    group="PatientID",
    stratum="any",
    required=("PatientID", "image_id", "any"),
    sort_by=("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "slice_index", "image_id"),
    positive_singleton_held_out=True,
)
