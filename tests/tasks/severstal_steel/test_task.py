"""The task end to end on a synthetic dataset: views, answers, scores, groups, bootstrap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.registry import load_task
from harness.stats import bootstrap_ci
from tasks.severstal_steel import SeverstalSteelTask
from tasks.severstal_steel.layout import LABEL_COLUMNS


@pytest.fixture(scope="module")
def task() -> SeverstalSteelTask:
    loaded = load_task("severstal-steel")
    assert isinstance(loaded, SeverstalSteelTask)
    return loaded


def test_views_answers_and_scores(task: SeverstalSteelTask, synthetic_root: Path) -> None:
    _, holdout = task.split(task.load(synthetic_root))
    view = task.public_view(holdout)
    assert not set(LABEL_COLUMNS) & set(view.columns)
    assert {"ImageId", "path", "height", "width"} <= set(view.columns)
    answers = task.answers(holdout)
    assert len(answers) == 4 * len(holdout)

    perfect = task.validate(answers[["ImageId_ClassId", "EncodedPixels"]], answers)
    assert task.score(perfect, answers) == 1.0
    empty = task.validate(answers[["ImageId_ClassId"]].assign(EncodedPixels=""), answers)
    empty_pairs = float((answers["EncodedPixels"] == "").mean())
    assert task.score(empty, answers) == pytest.approx(empty_pairs)
    groups = task.groups(answers)
    assert (pd.Series(groups).value_counts() == 4).all()
    assert set(groups) == set(holdout["ImageId"])
    interval = bootstrap_ci(task.score, empty, answers, groups, n=50, seed=0)
    assert interval.low <= empty_pairs <= interval.high


def test_score_refuses_misaligned_rows(task: SeverstalSteelTask) -> None:
    answers = pd.DataFrame(
        {"ImageId_ClassId": ["a.jpg_1", "a.jpg_2"], "EncodedPixels": "", "height": 2, "width": 2}
    )
    with pytest.raises(ValueError, match="validate"):
        task.score(answers.iloc[::-1].reset_index(drop=True), answers)
    np.testing.assert_array_equal(task.groups(answers), ["a.jpg", "a.jpg"])
