"""The task end to end on a synthetic dataset: views, answers, all-empty score, groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.engine.registry import load_task
from tasks.siim_pneumothorax import SiimPneumothoraxTask
from tasks.siim_pneumothorax.layout import LABEL_COLUMNS


@pytest.fixture(scope="module")
def task() -> SiimPneumothoraxTask:
    loaded = load_task("siim-pneumothorax")
    assert isinstance(loaded, SiimPneumothoraxTask)
    return loaded


def test_views_answers_and_scores(task: SiimPneumothoraxTask, synthetic_root: Path) -> None:
    _, holdout = task.split(task.load(synthetic_root))
    view = task.public_view(holdout)
    assert not set(LABEL_COLUMNS) & set(view.columns)
    answers = task.answers(holdout)
    assert answers["ImageId"].tolist() == sorted(holdout["ImageId"])

    perfect = task.validate(answers[["ImageId", "EncodedPixels"]], answers)
    assert task.score(perfect, answers) == 1.0
    empty = task.validate(answers.assign(EncodedPixels="-1"), answers)
    negatives = float((answers["EncodedPixels"] == "-1").mean())
    assert task.score(empty, answers) == pytest.approx(negatives)
    np.testing.assert_array_equal(task.groups(answers), answers["ImageId"].to_numpy())


def test_fast_bootstrap_matches_the_resampled_rows(
    task: SiimPneumothoraxTask, bootstrap_parity
) -> None:
    truths = ["-1", "2 3", "-1", "0 5 1 2", "4 4", "-1", "1 1", "-1"]
    predictions = ["-1", "2 2", "1 1", "-1", "4 4", "-1", "0 3", "3 2"]
    answers = pd.DataFrame(
        {
            "ImageId": [f"1.2.{i}" for i in range(len(truths))],
            "EncodedPixels": truths,
            "height": 4,
            "width": 5,
        }
    )
    submission = answers[["ImageId"]].assign(EncodedPixels=predictions)
    scores = bootstrap_parity(task, submission, answers)
    assert scores.min() < scores.max()
    bootstrap_parity(task, submission.assign(EncodedPixels="-1"), answers)  # all empty
    one = answers.iloc[:1]
    bootstrap_parity(task, one[["ImageId"]].assign(EncodedPixels="1 1"), one)
