"""The README's figures about each task's default synthetic data, recomputed from the plug-ins.

`harness run` without `data.root` scores on the task's default synthetic dataset (generator
defaults, `data.synth_seed=0`). The README quotes that holdout's size, the unit the bootstrap
resamples and what a trivial submission scores on it; each test here builds those figures with
the real task (generator, split, answers, groups, metric) and asserts that the README states
them, so a change that moves a figure fails here until the README follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.api import Task
from harness.engine.config import DataConfig
from harness.engine.datasets import synth_config, synthesize
from harness.engine.registry import load_task
from tasks.rsna_cervical.layout import TARGETS
from tasks.rsna_cervical.submission import split_row_ids
from tasks.rsna_ich.layout import SUBTYPES
from tasks.severstal_steel.submission import image_ids

README = Path(__file__).resolve().parents[1] / "README.md"


@dataclass(frozen=True)
class Holdout:
    task: Task
    train: pd.DataFrame
    holdout: pd.DataFrame
    answers: pd.DataFrame

    @property
    def n_groups(self) -> int:
        return len(set(self.task.groups(self.answers)))


def _holdout(name: str, tmp_path_factory: pytest.TempPathFactory) -> Holdout:
    task = load_task(name)
    root = tmp_path_factory.mktemp("readme") / name
    synthesize(task, root, synth_config(task, {}), seed=DataConfig().synth_seed)
    train, holdout = task.split(task.load(root))
    return Holdout(task, train, holdout, task.answers(holdout))


@pytest.fixture(scope="module")
def readme() -> str:
    """The README with every run of whitespace as one space (sentences wrap across lines)."""
    return " ".join(README.read_text(encoding="utf-8").split())


def _cervical_prior(data: Holdout) -> float:
    """Each target's training prevalence submitted for every holdout study."""
    targets = split_row_ids(data.answers["row_id"])[1]
    prevalence = {t: float(data.train[t].mean()) for t in TARGETS}
    submission = pd.DataFrame(
        {"row_id": data.answers["row_id"], "fractured": targets.map(prevalence)}
    )
    return data.task.score(submission, data.answers)


def _ich_prior(data: Holdout) -> float:
    """Each subtype's training prevalence submitted for every holdout slice."""
    subtypes = data.answers["ID"].str.rsplit("_", n=1).str[1]
    prevalence = {s: float(data.train[s].mean()) for s in SUBTYPES}
    submission = pd.DataFrame({"ID": data.answers["ID"], "Label": subtypes.map(prevalence)})
    return data.task.score(submission, data.answers)


def _breast_phrases(breast: Holdout) -> list[str]:
    breasts = len(breast.answers)
    patients = breast.holdout["patient_id"].nunique()
    assert breast.n_groups == patients  # the bootstrap draws patients
    return [
        f"({breasts} holdout breasts)",
        f"{breasts} breasts of {patients} patients",
        "resamples patients in rsna-breast",
    ]


def _siim_phrases(siim: Holdout) -> list[str]:
    images = len(siim.answers)
    positives = int((siim.answers["EncodedPixels"] != "-1").sum())
    all_empty = siim.task.score(siim.answers.assign(EncodedPixels="-1"), siim.answers)
    assert siim.n_groups == images  # one bootstrap unit per image, not per patient
    return [
        f"({images} holdout images, {positives} with a pneumothorax)",
        f"the all-empty submission scores {all_empty:.3f}",
        f"{images} radiographs",
        "images in siim-pneumothorax",
        "The CI resamples images",
    ]


def _cervical_phrases(cervical: Holdout) -> list[str]:
    studies = len(cervical.holdout)
    assert cervical.n_groups == studies
    assert len(cervical.answers) == len(TARGETS) * studies
    return [
        f"default synthetic data ({studies} holdout studies)",
        f"{studies} spine studies",
        f"training prevalence) scores {_cervical_prior(cervical):.3f}",
        "studies in rsna-cervical",
    ]


def _ich_phrases(ich: Holdout) -> list[str]:
    slices = len(ich.holdout)
    studies = ich.holdout["StudyInstanceUID"].nunique()
    assert len(ich.answers) == len(SUBTYPES) * slices  # six answer rows per slice
    assert ich.n_groups == studies  # the bootstrap draws studies, not slices or rows
    prior = f"{_ich_prior(ich):.3f}"
    return [
        f"{len(ich.train) + slices} slices: {len(ich.train)} train, {slices} holdout",
        f"{slices} CT slices of {studies} studies",
        f"on the {slices} holdout slices ({studies} studies)",
        f"the train split's prevalence scores {prior}",
        f"| {prior} (prior) |",
        "rsna-ich (all slices of a study, six rows each)",
    ]


def _severstal_phrases(steel: Holdout) -> list[str]:
    images = len(steel.holdout)
    pairs = len(steel.answers)
    empty = int((steel.answers["EncodedPixels"].fillna("") == "").sum())
    all_empty = steel.task.score(steel.answers.assign(EncodedPixels=""), steel.answers)
    assert np.isclose(all_empty, empty / pairs)  # Dice 1 on every empty pair, 0 elsewhere
    groups = steel.task.groups(steel.answers)
    assert list(groups) == list(image_ids(steel.answers["ImageId_ClassId"]))
    assert steel.n_groups == images  # an image's four rows are drawn together
    return [
        f"{len(steel.train)} training and {images} holdout images ({pairs} pairs)",
        f"({all_empty:.3f} on the default synthetic holdout: {empty} of its {pairs} pairs",
        f"| {all_empty:.3f} (all empty) |",
        f"{images} steel images",
    ]


PHRASES: dict[str, Callable[[Holdout], list[str]]] = {
    "rsna-breast": _breast_phrases,
    "siim-pneumothorax": _siim_phrases,
    "rsna-cervical": _cervical_phrases,
    "rsna-ich": _ich_phrases,
    "severstal-steel": _severstal_phrases,
}
"""Per task: its default holdout's figures (checked on the way) as the README must phrase them."""


@pytest.mark.parametrize("name", PHRASES)
def test_readme_states_the_default_holdout_figures(
    name: str, tmp_path_factory: pytest.TempPathFactory, readme: str
) -> None:
    missing = [p for p in PHRASES[name](_holdout(name, tmp_path_factory)) if p not in readme]
    if missing:  # name the phrases, not the whole README
        pytest.fail(f"README.md does not say {missing}; update it to what the code gives")


@pytest.mark.parametrize(
    "name", ["rsna-breast", "rsna-cervical", "rsna-ich", "siim-pneumothorax", "severstal-steel"]
)
def test_the_hidden_test_table_states_what_each_task_declares(name: str) -> None:
    hidden = load_task(name).hidden_test
    assert hidden is not None
    limit = "none" if hidden.predict_limit_s is None else f"{hidden.predict_limit_s / 3600:g} h"
    row = f"| `{name}` | {hidden.rows:,} {hidden.unit} | {limit}"
    assert row in README.read_text(), row
