"""RsnaCervicalTask end to end: disk -> table -> split -> label-free view -> answers -> score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.api import DataView
from harness.kit.stats import bootstrap_ci
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


def _cervical_answers(n_studies: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    uids = [f"1.2.826.{i}" for i in range(n_studies)]
    fractured = (rng.uniform(size=(n_studies, len(TARGETS))) < 0.15).astype("int64")
    row_id = [f"{u}_{t}" for u in uids for t in TARGETS]
    return pd.DataFrame({"row_id": row_id, "fractured": fractured.ravel()})


def test_fast_bootstrap_matches_the_resampled_rows(task, bootstrap_parity):
    answers = _cervical_answers(25, seed=0)
    rng = np.random.default_rng(1)
    submission = answers.assign(fractured=rng.uniform(0, 1, len(answers)))
    submission.loc[::5, "fractured"] = 0.0
    bootstrap_parity(task, submission, answers)
    bootstrap_parity(task, answers.assign(fractured=0.5), answers)
    single = _cervical_answers(1, seed=2)
    bootstrap_parity(task, single.assign(fractured=0.2), single)
    # studies of fewer rows (one target missing) are still one run each
    kept = ~answers["row_id"].str.endswith("_C3")
    partial = answers.loc[kept].reset_index(drop=True)
    bootstrap_parity(task, submission.loc[kept].reset_index(drop=True), partial)


def test_studies_out_of_target_order_take_the_reference_path(task):
    answers = _cervical_answers(4, seed=0)
    shuffled = answers.iloc[[1, 0, *range(2, len(answers))]].reset_index(drop=True)
    assert task.bootstrap_statistics(shuffled.assign(fractured=0.5), shuffled) is None
    repeated = answers.iloc[[0, 0, *range(1, len(answers))]].reset_index(drop=True)
    assert task.bootstrap_statistics(repeated.assign(fractured=0.5), repeated) is None
    interval = bootstrap_ci(
        task.score,
        shuffled.assign(fractured=0.5),
        shuffled,
        task.groups(shuffled),
        n=20,
        statistics=task.bootstrap_statistics,
    )
    assert interval.low <= interval.high
