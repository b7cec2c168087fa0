"""The fixed holdout split of Kaggle's train set (the competition's test labels are private).

Studies are the unit: a study's slices, segmentation and eight targets stay on one side. Within
each ``patient_overall`` stratum, studies are ranked by a hash of their UID (harness.kit.splits),
so the split does not depend on row order, numpy's RNG or the pandas version. A new
``version`` draws a new split; scores made on different split versions are not comparable.
"""

from __future__ import annotations

import pandas as pd

from harness.kit.splits import grouped_holdout

REQUIRED_COLUMNS: tuple[str, ...] = ("StudyInstanceUID", "patient_overall")


def holdout_split(
    table: pd.DataFrame, *, fraction: float = 0.2, version: str = "v1"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic (train, holdout) split by study, stratified on ``patient_overall``.

    Within each stratum the studies are ordered by ``sha256(f"rsna-cervical/{version}/{uid}")``
    and the first ``round(fraction * n)`` go to the holdout (at least one, and at most n - 1,
    where the stratum has two or more). Both tables come back sorted by UID with a fresh index.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"holdout_split needs column(s) {', '.join(missing)}")
    if table["StudyInstanceUID"].duplicated().any():
        raise ValueError("holdout_split expects one row per study (StudyInstanceUID repeats)")
    uids = table["StudyInstanceUID"].astype(str)
    strata = pd.Series(table["patient_overall"].to_numpy(), index=uids.to_numpy())
    return grouped_holdout(
        table.assign(StudyInstanceUID=uids),
        group="StudyInstanceUID",
        strata=strata,
        namespace="rsna-cervical",
        version=version,
        fraction=fraction,
        sort_by=["StudyInstanceUID"],
    )
