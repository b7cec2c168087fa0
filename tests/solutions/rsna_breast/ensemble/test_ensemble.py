"""End to end: `harness run task=rsna-breast solution=ensemble budget=smoke` on synthetic data.

Measured on 2 CPU cores, default synthetic data, seed 0: pF1 0.857 (95% CI 0.571-1.000),
binarised at the validation threshold; the baseline scores 0.828 on the same holdout. Chance
(the same predictions permuted across breasts) is ~0.1. The ConvNeXtV2 member learns little
from scratch at 64x32 (validation pF1 0.33); the SEResNeXt member carries the CPU score.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from harness.engine.record import RunRecord

CHANCE_MARGIN = 0.3


pytestmark = pytest.mark.smoke_run("rsna-breast", "ensemble", expect=("pF1", "95% CI"))


def test_smoke_run_beats_chance(smoke_run: RunRecord, beats_chance: Callable[..., None]) -> None:
    beats_chance(smoke_run, CHANCE_MARGIN, ci=False)


def test_submission_is_binarised_at_the_recorded_threshold(smoke_run: RunRecord) -> None:
    submission = pd.read_csv(Path(smoke_run.run_dir) / "submission.csv")
    assert set(submission["cancer"].unique()) <= {0.0, 1.0}
    assert 0.0 < smoke_run.extra["threshold"] < 1.0
    assert smoke_run.extra["aggregate"] == "mean"


def test_both_members_trained_and_reported(smoke_run: RunRecord) -> None:
    for member in ("convnextv2_atto", "seresnext26d_32x4d"):
        assert smoke_run.extra[f"{member}.epochs_run"] >= 1
    client = MlflowClient(f"sqlite:///{Path(smoke_run.run_dir).parents[1] / 'mlflow.db'}")
    history = client.get_metric_history(smoke_run.mlflow_run_id, "seresnext26d_32x4d.val_pf1")
    assert len(history) == smoke_run.extra["seresnext26d_32x4d.epochs_run"]
    assert smoke_run.extra["unreadable_images"] == 0


def test_images_are_decoded_by_dali_with_counted_fallbacks_and_cached(
    smoke_run: RunRecord,
) -> None:
    # JPEG 2000 goes through the DALI CPU pipeline; uncompressed files fall back to pydicom.
    assert smoke_run.extra["decoded_by_dali"] > 0
    assert smoke_run.extra["decode_fallbacks"] > 0
    total = smoke_run.extra["decoded_by_dali"] + smoke_run.extra["decode_fallbacks"]
    assert total == smoke_run.n_train + 2 * smoke_run.n_holdout_cases
    cache = Path(smoke_run.run_dir).parents[1] / "cache" / "rsna-breast" / "ensemble"
    crops = list(cache.rglob("*.npy"))
    assert len(crops) == smoke_run.n_train + 2 * smoke_run.n_holdout_cases
    assert np.load(crops[0]).shape == (64, 32)
