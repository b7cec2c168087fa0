"""RsnaCervicalTask end to end: disk -> table -> split -> label-free view -> answers -> score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.api import DataView
from harness.stats import bootstrap_ci
from tasks.rsna_cervical import RsnaCervicalTask
from tasks.rsna_cervical.layout import LABEL_COLUMNS, TARGETS


@pytest.fixture
def task() -> RsnaCervicalTask:
    return RsnaCervicalTask()


def test_declares_the_competition(task):
    assert task.name == "rsna-cervical" and task.greater_is_better is False


def test_holdout_view_has_no_label_and_answers_score(task, tiny_cervical_root):
    table = task.load(tiny_cervical_root)
    train, holdout = task.split(table)
    view = task.public_view(holdout)
    assert not set(LABEL_COLUMNS) & set(view.columns)
    assert {"StudyInstanceUID", "study_dir", "n_slices"} <= set(view.columns)
    answers = task.answers(holdout)
    assert len(answers) == 8 * len(holdout)
    assert task.n_inputs(DataView(task.name, view, has_labels=False)) == holdout["n_slices"].sum()

    # The prior-probability submission: each target's training prevalence.
    prior = train.loc[:, list(TARGETS)].mean().to_dict()
    targets = answers["row_id"].str.extract(r"_(C\d|patient_overall)$")[0]
    submission = pd.DataFrame({"row_id": answers["row_id"], "fractured": targets.map(prior)})
    aligned = task.validate(submission.iloc[::-1], answers)
    score = task.score(aligned, answers)
    assert 0.1 < score < 2.0
    perfect = task.score(task.validate(answers.astype({"fractured": float}), answers), answers)
    assert perfect < 1e-12 < score


def test_groups_are_studies_and_the_bootstrap_resamples_them(task, tiny_cervical_root):
    _, holdout = task.split(task.load(tiny_cervical_root))
    answers = task.answers(holdout)
    groups = task.groups(answers)
    assert len(set(groups)) == len(holdout) and list(groups[:8]) == [groups[0]] * 8
    rng = np.random.default_rng(0)
    submission = answers.assign(fractured=rng.uniform(0.05, 0.95, len(answers)))
    interval = bootstrap_ci(task.score, submission, answers, groups, n=200, seed=0)
    score = task.score(submission, answers)
    assert interval.low <= score <= interval.high


def test_score_refuses_an_unaligned_submission(task, tiny_cervical_root):
    _, holdout = task.split(task.load(tiny_cervical_root))
    answers = task.answers(holdout)
    with pytest.raises(ValueError, match="validate"):
        task.score(answers.iloc[::-1].reset_index(drop=True), answers)
