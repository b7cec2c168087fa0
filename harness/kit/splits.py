"""Deterministic holdout splits of a Kaggle train set, and cross-validation folds of the
training side, both grouped and stratified.

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
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


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

    ordered_table = (
        table if is_sorted(table, sort_by) else table.sort_values(list(sort_by), kind="stable")
    )
    in_holdout = ordered_table[group].isin(holdout_groups)
    return (
        ordered_table.loc[~in_holdout].reset_index(drop=True),
        ordered_table.loc[in_holdout].reset_index(drop=True),
    )


def is_sorted(table: pd.DataFrame, columns: Sequence[str]) -> bool:
    """Whether ``table`` is already in the order ``sort_values(columns, kind="stable")`` gives
    (which it then returns unchanged), decided without sorting: rsna-ich's loaded table comes
    in its split's order, and sorting its 752,803 rows again by their UID strings took pandas
    0.7 s. False (so: sort) where a column is not numbers or strings, or misses a value."""
    undecided = np.ones(max(len(table) - 1, 0), dtype=bool)  # rows equal on every column so far
    for column in columns:
        if not undecided.any():
            break
        values = _comparable(table[column])
        if values is None:
            return False
        after, before = values[1:], values[:-1]
        if pc.any(pc.and_(pa.array(undecided), pc.less(after, before))).as_py():
            return False
        undecided &= pc.equal(after, before).to_numpy(zero_copy_only=False)
    return True


def _comparable(column: pd.Series) -> pa.Array | None:
    """``column`` as one Arrow array where Arrow compares its values as pandas sorts them:
    integers, floats without NaN, strings; else None."""
    try:
        values = pa.array(column)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    kind = values.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or _is_text(kind)):
        return None
    if values.null_count or (pa.types.is_floating(kind) and pc.any(pc.is_nan(values)).as_py()):
        return None
    return values


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


@dataclass(frozen=True)
class StratifiedHoldout:
    """A task's holdout split, declared: called as ``split(table, fraction=..., version=...)``.

    Groups are ``group`` values. With ``one_row_per`` unset, a table holds many rows per group
    and a group's stratum is whether any of its rows has a true ``stratum``. With
    ``one_row_per`` set ("study", "image"), each row is a group, its (string) id is ``group``
    and its stratum is its ``stratum`` value. ``sort_by`` columns that the table has order both
    sides; ``positive_singleton_held_out`` sends the lone positive group of its stratum to the
    holdout (for a metric that needs one positive case).
    """

    namespace: str
    group: str
    stratum: str
    required: tuple[str, ...] | None = None
    """The columns a table must have; None: ``group`` and ``stratum``."""
    sort_by: tuple[str, ...] | None = None
    """None: ``group``."""
    one_row_per: str | None = None
    positive_singleton_held_out: bool = False

    def __call__(
        self, table: pd.DataFrame, *, fraction: float = 0.2, version: str = "v1"
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        required = (self.group, self.stratum) if self.required is None else self.required
        missing = [c for c in required if c not in table.columns]
        if missing:
            raise ValueError(f"holdout_split needs column(s) {', '.join(missing)}")
        if self.one_row_per is None:
            strata = table.groupby(self.group, sort=False)[self.stratum].max().astype(bool)
        else:
            if table[self.group].duplicated().any():
                raise ValueError(
                    f"holdout_split needs one row per {self.one_row_per}: {self.group} repeats"
                )
            ids = table[self.group].astype(str)
            strata = pd.Series(table[self.stratum].to_numpy(), index=ids.to_numpy())
            table = table.assign(**{self.group: ids})
        return grouped_holdout(
            table,
            group=self.group,
            strata=strata,
            namespace=self.namespace,
            version=version,
            fraction=fraction,
            sort_by=[c for c in self.sort_by or (self.group,) if c in table.columns],
            singletons_held_out={True} if self.positive_singleton_held_out else (),
        )


def grouped_folds(
    frame: pd.DataFrame,
    *,
    group: str,
    label: str,
    n_folds: int,
    seed: int,
    unstratified_when_sparse: bool = False,
) -> np.ndarray:
    """The cross-validation fold (0 .. n_folds - 1) of each row of ``frame``.

    StratifiedGroupKFold over the ``group`` values (patients), stratified on whether a group
    has any positive ``label``, shuffled with ``seed``: a group's rows share one fold, the
    positive groups are spread evenly, and the same frame and seed give the same folds whatever
    the row order. With ``unstratified_when_sparse``, a stratum of fewer groups than folds
    makes the split unstratified instead of leaving some folds without it.
    """
    if n_folds < 2:
        raise ValueError(f"folds must be at least 2, got {n_folds}")
    positive = frame.groupby(group, sort=True)[label].max().astype(int)
    if len(positive) < n_folds:
        raise ValueError(f"{n_folds} folds need at least {n_folds} groups, got {len(positive)}")
    ids = positive.index.to_numpy()
    strata = positive.to_numpy()
    if unstratified_when_sparse and np.bincount(strata, minlength=2).min() < n_folds:
        strata = np.zeros_like(strata)
    # Imported here: scikit-learn takes 0.7 s to import, and every run's start-up loads the
    # task (this module) while only the solutions that fold need it.
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold_of: dict[object, int] = {}
    for fold, (_, held_out) in enumerate(splitter.split(ids, strata, groups=ids)):
        fold_of.update(dict.fromkeys(ids[held_out].tolist(), fold))
    return frame[group].map(fold_of).to_numpy(dtype=np.int64)
