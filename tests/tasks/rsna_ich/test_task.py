"""RsnaIchTask end to end: disk -> table -> split -> label-free view -> answers -> score."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.api import DataView, InvalidSubmission, Task
from harness.engine.datasets import synth_config, synthesize
from harness.engine.registry import load_task
from harness.kit.stats import bootstrap_ci
from tasks.rsna_ich import RsnaIchTask
from tasks.rsna_ich.layout import SUBTYPES
from tasks.rsna_ich.submission import submission_frame
from tasks.rsna_ich.synthetic import IchSynthConfig


@pytest.fixture(scope="module")
def task() -> RsnaIchTask:
    return RsnaIchTask()


@pytest.fixture(scope="module")
def contract_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    task = load_task("rsna-ich")
    config = synth_config(task, task.contract_synth)
    return synthesize(task, tmp_path_factory.mktemp("d") / "rsna-ich", config, seed=0)


def test_declares_the_competition(task: RsnaIchTask) -> None:
    assert isinstance(task, Task) and isinstance(load_task("rsna-ich"), RsnaIchTask)
    assert (task.name, task.version, task.metric_name) == ("rsna-ich", "1.0", "weighted log loss")
    assert task.greater_is_better is False
    assert task.synth_config is IchSynthConfig


def test_chain_on_the_contract_data(task: RsnaIchTask, contract_root: Path) -> None:
    assert task.check(contract_root) == []
    table = task.load(contract_root)
    train, holdout = task.split(table)
    assert train["any"].sum() > 0 and holdout["any"].sum() > 0
    view = task.public_view(holdout)
    assert not set(SUBTYPES) & set(view.columns)
    assert {"StudyInstanceUID", "SeriesInstanceUID", "position", "slice_index"} <= set(view.columns)
    assert task.n_inputs(DataView(task.name, view, has_labels=False)) == len(holdout)

    answers = task.answers(holdout)
    assert len(answers) == 6 * len(holdout)
    groups = task.groups(answers)
    assert len(set(groups)) == holdout["StudyInstanceUID"].nunique()

    truth = holdout[list(SUBTYPES)].to_numpy(dtype=float)
    perfect = task.validate(submission_frame(view["image_id"], truth), answers)
    assert task.score(perfect, answers) < 1e-12

    # the train split's prevalence per subtype, by hand: the weighted mean of the binary
    # cross-entropies of the holdout's labels against it
    prior = train[list(SUBTYPES)].mean().to_numpy()
    constant = task.validate(
        submission_frame(view["image_id"], np.tile(prior, (len(view), 1))), answers
    )
    positives = holdout[list(SUBTYPES)].to_numpy()
    weights = np.array([1, 1, 1, 1, 1, 2])
    per_cell = -(positives * np.log(prior) + (1 - positives) * np.log(1 - prior))
    expected = (per_cell * weights).sum() / (weights.sum() * len(holdout))
    assert task.score(constant, answers) == pytest.approx(expected)

    ci = bootstrap_ci(task.score, constant, answers, groups, n=50, seed=0)
    assert ci.low <= task.score(constant, answers) <= ci.high

    with pytest.raises(ValueError, match="validate"):
        task.score(constant.iloc[::-1], answers)
    with pytest.raises(InvalidSubmission, match="missing"):
        task.validate(constant.iloc[6:], answers)


def test_groups_fall_back_to_images(task: RsnaIchTask) -> None:
    answers = pd.DataFrame({"ID": ["ID_a_any", "ID_a_epidural", "ID_b_any"], "Label": [0, 0, 1]})
    assert task.groups(answers).tolist() == ["ID_a", "ID_a", "ID_b"]


def test_read_answers_of_the_kaggle_csv_scores_like_the_answers(
    task: RsnaIchTask, contract_root: Path
) -> None:
    answers = task.answers(task.load(contract_root))
    read = task.read_answers(contract_root / "stage_2_train.csv")
    assert read[["ID", "Label"]].equals(answers[["ID", "Label"]])
    half = task.validate(answers[["ID"]].assign(Label=0.5), read)
    assert task.score(half, read) == pytest.approx(math.log(2))


def _ich_answers(slices_per_study: list[int], seed: int) -> pd.DataFrame:
    """Answers of studies with the given numbers of slices, six subtype rows per slice."""
    rng = np.random.default_rng(seed)
    rows = []
    for study, n_slices in enumerate(slices_per_study):
        for s in range(n_slices):
            image = f"ID_{study:02d}{s:03d}"
            labels = (rng.uniform(size=len(SUBTYPES)) < 0.2).astype("int64")
            rows += [
                (f"{image}_{t}", y, f"1.2.{study}") for t, y in zip(SUBTYPES, labels, strict=True)
            ]
    answers = pd.DataFrame(rows, columns=["ID", "Label", "StudyInstanceUID"])
    return answers.sort_values("ID", ignore_index=True)


def test_fast_bootstrap_matches_the_resampled_rows(task: RsnaIchTask, bootstrap_parity) -> None:
    answers = _ich_answers([1, 5, 2, 9, 3, 1, 4], seed=0)
    rng = np.random.default_rng(1)
    predictions = answers.assign(Label=rng.uniform(0, 1, len(answers)))
    predictions.loc[::7, "Label"] = 0.0  # clipped to EPSILON: confident mistakes cost 34.5
    predictions.loc[3::11, "Label"] = 1.0
    bootstrap_parity(task, predictions[["ID", "Label"]], answers)
    bootstrap_parity(task, answers.assign(Label=0.0)[["ID", "Label"]], answers)
    no_study = answers.drop(columns="StudyInstanceUID")  # grouped by image instead
    bootstrap_parity(task, predictions[["ID", "Label"]], no_study)
    single = _ich_answers([3], seed=2)
    bootstrap_parity(task, single.assign(Label=0.3)[["ID", "Label"]], single)
