"""The fixed holdout split of Kaggle's train set (the competition's test labels are private).

Steel images carry no patient or coil id, so each image is its own group. Images are stratified
on the set of defect classes they contain (``""``, ``"3"``, ``"3 4"``, ...), so that the rare
classes and class combinations appear on both sides in proportion. Within a stratum, images
are ranked by a hash of their id (harness.kit.splits): the split does not depend on row order,
numpy's RNG or the pandas version. Changing ``version`` draws a new split; results made with
different split versions are not comparable.

One row per image; images are ranked by ``sha256(f"severstal-steel/{version}/{ImageId}")`` and
a lone image of its class set stays in train. Both sides come back sorted by ImageId.
"""

from __future__ import annotations

from harness.kit.splits import StratifiedHoldout

holdout_split = StratifiedHoldout(
    namespace="severstal-steel",
    group="ImageId",
    stratum="classes",
    one_row_per="image",
)
