import numpy as np
import pandas as pd
import torch

from solutions.rsna_breast.ensemble.solution import _validation_mask
from solutions.rsna_breast.ensemble.training import augment, breast_probabilities


def test_augment_keeps_shape_and_range_and_is_seeded() -> None:
    batch = torch.rand(4, 1, 32, 16)
    first = augment(batch, torch.Generator().manual_seed(1))
    again = augment(batch, torch.Generator().manual_seed(1))
    assert first.shape == batch.shape
    assert float(first.min()) >= 0 and float(first.max()) <= 1
    assert torch.equal(first, again)


def test_breast_probabilities_aggregate_per_id() -> None:
    ids = np.array(["1_L", "1_L", "1_R", "2_L"])
    probs = np.array([0.2, 0.6, 0.5, 0.1])
    assert breast_probabilities(ids, probs, "mean").to_dict() == {
        "1_L": 0.4,
        "1_R": 0.5,
        "2_L": 0.1,
    }
    assert breast_probabilities(ids, probs, "max")["1_L"] == 0.6


def test_validation_fold_is_patient_disjoint_and_holds_positives() -> None:
    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(50), 4)
    cancer = np.isin(patients, rng.choice(50, 10, replace=False)).astype(int)
    frame = pd.DataFrame({"patient_id": patients, "cancer": cancer})
    mask = _validation_mask(frame, 0.2, seed=0)
    assert set(frame.patient_id[mask]).isdisjoint(frame.patient_id[~mask])
    assert 0.1 < mask.mean() < 0.3
    assert frame.cancer[mask].sum() > 0
    assert np.array_equal(mask, _validation_mask(frame, 0.2, seed=0))
