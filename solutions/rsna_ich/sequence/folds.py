"""Folds of the training split: what each fold's CNN trains on, and what it embeds.

Folds group whole patients (so every study and series of a patient, and every slice of a
series, share one fold) and spread the bleeding patients evenly. A training slice's
embedding comes from the one CNN that did not train on it: the CNN of its own fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold


def patient_folds(frame: pd.DataFrame, n_folds: int, seed: int) -> np.ndarray:
    """The fold of each row (0..n_folds-1): StratifiedGroupKFold over patients on whether the
    patient has any hemorrhage."""
    if n_folds < 2:
        raise ValueError(f"folds must be at least 2, got {n_folds}")
    patients = frame.groupby("PatientID", sort=True)["any"].max().astype(int)
    if len(patients) < n_folds:
        raise ValueError(f"{n_folds} folds need at least {n_folds} patients, got {len(patients)}")
    ids = patients.index.to_numpy()
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold_of: dict[object, int] = {}
    for fold, (_, held_out) in enumerate(splitter.split(ids, patients.to_numpy(), groups=ids)):
        fold_of.update(dict.fromkeys(ids[held_out].tolist(), fold))
    return frame["PatientID"].map(fold_of).to_numpy(dtype=np.int64)


@dataclass(frozen=True)
class FoldRows:
    """Row positions of one fold: its CNN trains on ``fit`` and embeds ``held_out``."""

    fold: int
    fit: np.ndarray
    held_out: np.ndarray


def fold_rows(folds: np.ndarray, usable: np.ndarray) -> list[FoldRows]:
    """Per fold, the usable rows of the other folds (fit) and of its own (held out)."""
    return [
        FoldRows(
            fold,
            np.flatnonzero((folds != fold) & usable),
            np.flatnonzero((folds == fold) & usable),
        )
        for fold in range(int(folds.max()) + 1)
    ]
