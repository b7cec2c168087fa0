"""The fixed holdout split of the labelled images (the competition's stage-2 labels are private).

Patients, not images, are assigned to a side (PatientID from the DICOM headers), so that no
patient's other radiograph informs the holdout (harness.kit.splits: hash-ranked, independent of row
order). Changing ``version`` draws a new split; results made with different split versions are
not comparable.

A patient is positive if any of their images shows a pneumothorax; within each stratum patients
are ranked by ``sha256(f"siim-pneumothorax/{version}/{PatientID}")``. Both sides come back
sorted by ImageId.
"""

from __future__ import annotations

from harness.kit.splits import StratifiedHoldout

holdout_split = StratifiedHoldout(
    namespace="siim-pneumothorax",
    group="PatientID",
    stratum="has_pneumothorax",
    required=("ImageId", "PatientID", "has_pneumothorax"),
    sort_by=("ImageId",),
)
