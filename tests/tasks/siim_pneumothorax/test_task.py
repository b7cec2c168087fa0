"""The task end to end on a synthetic dataset: views, answers, all-empty score, groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.siim_pneumothorax import SiimPneumothoraxTask

TASK = SiimPneumothoraxTask()


def test_views_answers_and_scores(synthetic_root: Path) -> None:
    """Label hiding is the task contract's check (tests/harness/contract/test_task_contract.py)."""
    _, holdout = TASK.split(TASK.load(synthetic_root))
    answers = TASK.answers(holdout)
    assert answers["ImageId"].tolist() == sorted(holdout["ImageId"])

    perfect = TASK.validate(answers[["ImageId", "EncodedPixels"]], answers)
    assert TASK.score(perfect, answers) == 1.0
    empty = TASK.validate(answers.assign(EncodedPixels="-1"), answers)
    negatives = float((answers["EncodedPixels"] == "-1").mean())
    assert TASK.score(empty, answers) == pytest.approx(negatives)
    np.testing.assert_array_equal(TASK.groups(answers), answers["ImageId"].to_numpy())


def test_fast_bootstrap_matches_the_resampled_rows(bootstrap_parity) -> None:
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
    scores = bootstrap_parity(TASK, submission, answers)
    assert scores.min() < scores.max()
    bootstrap_parity(TASK, submission.assign(EncodedPixels="-1"), answers)  # all empty
    one = answers.iloc[:1]
    bootstrap_parity(TASK, one[["ImageId"]].assign(EncodedPixels="1 1"), one)
