"""Today's patient-grouped folds of each solution, pinned before one helper replaces them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from solutions.rsna_breast.effnet_meta.folds import patient_folds as breast_folds
from solutions.rsna_ich.sequence.folds import patient_folds as sequence_folds
from solutions.rsna_ich.seresnext.solution import patient_folds as seresnext_folds

GOLDEN = json.loads((Path(__file__).parent / "grouped_folds.json").read_text())


def patients(n_patients: int, n_positive: int, *, patient: str, label: str) -> pd.DataFrame:
    """Two to four rows per patient in shuffled order; the first ``n_positive`` patients have
    one positive row."""
    rng = np.random.default_rng(n_patients * 100 + n_positive)
    rows = []
    for index in range(n_patients):
        for row in range(int(rng.integers(2, 5))):
            rows.append({patient: f"P{index:03d}", label: int(index < n_positive and row == 0)})
    frame = pd.DataFrame(rows)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


FRAMES = {"balanced": (30, 12), "few_positive": (20, 2), "no_positive": (9, 0)}
CALLERS: dict[str, tuple[Callable[[pd.DataFrame, int, int], np.ndarray], str, str]] = {
    "effnet_meta": (breast_folds, "patient_id", "cancer"),
    "sequence": (sequence_folds, "PatientID", "any"),
    "seresnext": (seresnext_folds, "PatientID", "any"),
}


def assignments(caller: str) -> dict[str, list[int]]:
    folds, patient, label = CALLERS[caller]
    out = {}
    for name, (n_patients, n_positive) in FRAMES.items():
        frame = patients(n_patients, n_positive, patient=patient, label=label)
        for n_folds, seed in [(3, 0), (5, 7)]:
            out[f"{name}_{n_folds}folds_seed{seed}"] = folds(frame, n_folds, seed).tolist()
    return out


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_folds_match_today(caller: str) -> None:
    assert assignments(caller) == GOLDEN[caller]
