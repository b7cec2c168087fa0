"""The task end to end on a synthetic dataset: views, answers, scores, groups, bootstrap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.kit.stats import bootstrap_ci
from tasks.severstal_steel import SeverstalSteelTask

TASK = SeverstalSteelTask()


def test_views_answers_and_scores(synthetic_root: Path) -> None:
    """Label hiding is the task contract's check (tests/harness/contract/test_task_contract.py)."""
    _, holdout = TASK.split(TASK.load(synthetic_root))
    view = TASK.public_view(holdout)
    assert {"ImageId", "path", "height", "width"} <= set(view.columns)
    answers = TASK.answers(holdout)
    assert len(answers) == 4 * len(holdout)

    perfect = TASK.validate(answers[["ImageId_ClassId", "EncodedPixels"]], answers)
    assert TASK.score(perfect, answers) == 1.0
    empty = TASK.validate(answers[["ImageId_ClassId"]].assign(EncodedPixels=""), answers)
    empty_pairs = float((answers["EncodedPixels"] == "").mean())
    assert TASK.score(empty, answers) == pytest.approx(empty_pairs)
    groups = TASK.groups(answers)
    assert (pd.Series(groups).value_counts() == 4).all()
    assert set(groups) == set(holdout["ImageId"])
    interval = bootstrap_ci(TASK.score, empty, answers, groups, n=50, seed=0)
    assert interval.low <= empty_pairs <= interval.high


def test_the_bootstrap_unit_is_the_image() -> None:
    answers = pd.DataFrame(
        {"ImageId_ClassId": ["a.jpg_1", "a.jpg_2"], "EncodedPixels": "", "height": 2, "width": 2}
    )
    np.testing.assert_array_equal(TASK.groups(answers), ["a.jpg", "a.jpg"])


def test_fast_bootstrap_matches_the_resampled_rows(bootstrap_parity) -> None:
    masks = [("1 3", "", "", ""), ("", "", "", ""), ("5 10", "", "30 4", ""), ("", "2 2", "", "")]
    images = [f"{i:04d}.jpg" for i in range(len(masks))]
    ids = [f"{image}_{k}" for image in images for k in (1, 2, 3, 4)]
    answers = pd.DataFrame(
        {
            "ImageId_ClassId": ids,
            "EncodedPixels": [m for four in masks for m in four],
            "height": 8,
            "width": 10,
        }
    )
    predicted = ["1 2", "", "", "7 1", "", "", "", "", "5 8", "", "", "", "", "2 2", "40 3", ""]
    submission = answers[["ImageId_ClassId"]].assign(EncodedPixels=predicted)
    scores = bootstrap_parity(TASK, submission, answers)
    assert scores.min() < scores.max()
    bootstrap_parity(TASK, submission.assign(EncodedPixels=""), answers)  # empty vs empty = 1
    three_pairs = answers.iloc[:3].reset_index(drop=True)  # an image with fewer rows
    bootstrap_parity(TASK, submission.iloc[:3].reset_index(drop=True), three_pairs)
