"""The fixed holdout split of Kaggle's train set (the competition's test labels are private).

Studies are the unit: a study's slices, segmentation and eight targets stay on one side. Within
each ``patient_overall`` stratum, studies are ranked by a hash of their UID (harness.kit.splits),
so the split does not depend on row order, numpy's RNG or the pandas version. A new
``version`` draws a new split; scores made on different split versions are not comparable.

One row per study; studies are ranked by ``sha256(f"rsna-cervical/{version}/{uid}")``. Both
sides come back sorted by UID.
"""

from __future__ import annotations

from harness.kit.splits import StratifiedHoldout

holdout_split = StratifiedHoldout(
    namespace="rsna-cervical",
    group="StudyInstanceUID",
    stratum="patient_overall",
    one_row_per="study",
)
