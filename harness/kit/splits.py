"""Deterministic holdout splits of a Kaggle train set, grouped and stratified.

Every task holds out part of the public train set (the competitions' test labels are private).
Groups (patients, studies, images) rather than rows are assigned to a side, so that no
patient's other images inform the holdout. Within each stratum, groups are ranked by
``sha256("<namespace>/<version>/<group>")`` and the first ``round(fraction * n)`` go to the
holdout: the split does not depend on row order, numpy's RNG or the pandas version, and a new
``version`` draws a new split.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Hashable, Sequence

import pandas as pd


def holdout_size(n: int, fraction: float, *, singleton_held_out: bool = False) -> int:
    """round(fraction * n) half up, leaving at least one group on each side when n >= 2.

    A stratum of one group keeps it in train unless ``singleton_held_out``.
    """
    if n == 1:
        return int(singleton_held_out)
    k = math.floor(fraction * n + 0.5)
    return min(max(k, 1), n - 1) if n >= 2 else k


def grouped_holdout(
    table: pd.DataFrame,
    *,
    group: str,
    strata: pd.Series,
    namespace: str,
    version: str,
    fraction: float,
    sort_by: Sequence[str],
    singletons_held_out: Collection[Hashable] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, holdout) rows of ``table``, whole ``group``s on each side.

    ``strata`` maps each group id (its index) to a hashable stratum, e.g. "has a positive image"
    or the set of classes present. Each stratum of two or more groups keeps at least one group
    on each side; the lone group of a stratum in ``singletons_held_out`` goes to the holdout
    (a metric that needs a positive case), any other lone group stays in train. Both tables
    come back sorted by ``sort_by`` with a fresh index.
    """
    missing = [c for c in (group, *sort_by) if c not in table.columns]
    if missing:
        raise ValueError(f"the split needs column(s) {', '.join(missing)}")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be strictly between 0 and 1, got {fraction}")
    unassigned = set(table[group].unique()) - set(strata.index)
    if unassigned:
        raise ValueError(f"{len(unassigned)} {group} value(s) have no stratum")

    def rank(group_id: Hashable) -> str:
        return hashlib.sha256(f"{namespace}/{version}/{group_id}".encode()).hexdigest()

    holdout_groups: list[Hashable] = []
    for stratum, members in strata.groupby(strata, sort=False):
        ordered = sorted(members.index, key=rank)
        size = holdout_size(
            len(ordered), fraction, singleton_held_out=stratum in singletons_held_out
        )
        holdout_groups.extend(ordered[:size])

    ordered_table = table.sort_values(list(sort_by), kind="stable")
    in_holdout = ordered_table[group].isin(holdout_groups)
    return (
        ordered_table.loc[~in_holdout].reset_index(drop=True),
        ordered_table.loc[in_holdout].reset_index(drop=True),
    )
