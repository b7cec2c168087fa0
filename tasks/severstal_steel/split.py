"""The fixed holdout split of Kaggle's train set (the competition's test labels are private).

Steel images carry no patient or coil id, so each image is its own group. Images are stratified
on the set of defect classes they contain (``""``, ``"3"``, ``"3 4"``, ...), so that the rare
classes and class combinations appear on both sides in proportion. Within a stratum, images
are ranked by a hash of their id (harness.kit.splits): the split does not depend on row order,
numpy's RNG or the pandas version. Changing ``version`` draws a new split; results made with
different split versions are not comparable.
"""

from __future__ import annotations

import pandas as pd

from harness.kit.splits import grouped_holdout

REQUIRED_COLUMNS: tuple[str, ...] = ("ImageId", "classes")


def holdout_split(
    table: pd.DataFrame, *, fraction: float = 0.2, version: str = "v1"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic (train, holdout) split stratified on each image's set of defect classes.

    Within each stratum, images are ordered by ``sha256(f"severstal-steel/{version}/{ImageId}")``
    and the first ``round(fraction * n_stratum)`` (half up) go to the holdout, at least one of a
    stratum of two or more and never all of it; a lone image stays in train. Both tables come
    back sorted by ImageId with a fresh index.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"holdout_split needs column(s) {', '.join(missing)}")
    if table["ImageId"].duplicated().any():
        raise ValueError("holdout_split needs one row per image: ImageId repeats")
    ids = table["ImageId"].astype(str)
    return grouped_holdout(
        table.assign(ImageId=ids),
        group="ImageId",
        strata=pd.Series(table["classes"].to_numpy(), index=ids.to_numpy()),
        namespace="severstal-steel",
        version=version,
        fraction=fraction,
        sort_by=["ImageId"],
    )
