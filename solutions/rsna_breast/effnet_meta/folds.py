"""Cross-validation folds: patient-disjoint, with about the same number of cancer patients each.

The write-up's notebooks built folds "so that each contains roughly the same number of cancer
targets"; with ~2% positives a plain patient split can leave a fold without any cancer, and
its validation pF1 is then 0 whatever the model does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold


def patient_folds(frame: pd.DataFrame, n_folds: int, seed: int) -> np.ndarray:
    """The validation fold (0 .. n_folds - 1) of each row of ``frame``.

    StratifiedGroupKFold over patients, stratified on patient-level cancer (any image with
    cancer=1), shuffled with ``seed``: every image of a patient is in the same fold, the cancer
    patients are spread evenly, and the same frame and seed give the same folds whatever the
    row order.
    """
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    patients = frame.groupby("patient_id", sort=True)["cancer"].max().astype(int)
    if len(patients) < n_folds:
        raise ValueError(f"{n_folds} folds need at least {n_folds} patients, got {len(patients)}")
    ids = patients.index.to_numpy()
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold_of_patient: dict[object, int] = {}
    for fold, (_, valid) in enumerate(splitter.split(ids, patients.to_numpy(), groups=ids)):
        fold_of_patient.update(dict.fromkeys(ids[valid].tolist(), fold))
    return frame["patient_id"].map(fold_of_patient).to_numpy(dtype=np.int64)
