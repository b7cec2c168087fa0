"""RsnaBreastTask end to end: disk -> table -> split -> label-free view -> answers -> score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from harness.api import DataView, InvalidSubmission, Task
from harness.kit.imaging.synth_dicom import write_dicom
from tasks.rsna_breast import RsnaBreastTask
from tasks.rsna_breast.layout import COLUMNS, LABEL_COLUMNS, prediction_ids
from tasks.rsna_breast.synthetic import BreastSynthConfig


@pytest.fixture
def task() -> RsnaBreastTask:
    return RsnaBreastTask()


def labelled_table(n_patients: int = 20) -> pd.DataFrame:
    """Four images per patient (L/R x CC/MLO); every fifth patient has cancer on the left."""
    rows = []
    for k in range(n_patients):
        patient_id = 500 + 13 * k
        for i, (laterality, view) in enumerate(
            [("L", "CC"), ("L", "MLO"), ("R", "CC"), ("R", "MLO")]
        ):
            cancer = int(k % 5 == 0 and laterality == "L")
            rows.append(
                {
                    "site_id": 1 + k % 2,
                    "patient_id": patient_id,
                    "image_id": 10_000 * k + i,
                    "laterality": laterality,
                    "view": view,
                    "age": 40.0 + k,
                    "cancer": cancer,
                    "biopsy": cancer,
                    "invasive": cancer,
                    "BIRADS": np.nan if cancer else 1.0,
                    "implant": 0,
                    "density": "ABCD"[k % 4],
                    "machine_id": 21 + k % 3,
                    "difficult_negative_case": False,
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_dataset(root: Path, table: pd.DataFrame) -> None:
    root.mkdir(parents=True, exist_ok=True)
    table.to_csv(root / "train.csv", index=False)
    for patient_id, image_id in zip(table["patient_id"], table["image_id"], strict=True):
        pixels = np.arange(8 * 6, dtype=np.uint16).reshape(8, 6)
        path = root / "train_images" / str(patient_id) / f"{image_id}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_dicom(
            path, pixels, transfer_syntax=ExplicitVRLittleEndian, patient_id=str(patient_id)
        )


def test_declares_the_competition(task):
    assert isinstance(task, Task)
    assert (task.name, task.version, task.metric_name) == ("rsna-breast", "1.0", "pF1")
    assert task.greater_is_better is True
    assert task.split_version == "v1"
    assert task.synth_config is BreastSynthConfig


def test_check_names_unreadable_files_and_load_reads_the_rest(task, tmp_path):
    table = labelled_table(3)
    write_dataset(tmp_path, table)
    assert task.check(tmp_path) == []

    truncated = tmp_path / "train_images" / "500" / "1.dcm"
    truncated.write_bytes(truncated.read_bytes()[:-40])
    renamed = tmp_path / "train_images" / "513" / "10002.dcm"
    renamed.write_text("site_id,patient_id\n1,513\n")
    problems = task.check(tmp_path)
    assert [p.path for p in problems] == [str(truncated.resolve()), str(renamed.resolve())]
    assert all("unreadable DICOM" in p.problem for p in problems)

    loaded = task.load(tmp_path)  # the table is fine; reading images is the solution's job
    assert len(loaded) == len(table)
    assert loaded["path"].tolist()[1] == str(truncated.resolve())


def test_holdout_view_has_no_label(task):
    table = labelled_table()
    train, holdout = task.split(table.assign(prediction_id=prediction_ids(table)))
    view = task.public_view(holdout)
    assert not set(LABEL_COLUMNS) & set(view.columns)
    assert {"patient_id", "image_id", "laterality", "view", "prediction_id"} <= set(view.columns)
    assert list(view.index) == list(range(len(view)))
    assert "cancer" in holdout.columns  # the view is a copy
    assert set(train["patient_id"]).isdisjoint(view["patient_id"])


def test_answers_validate_score_chain(task, tmp_path):
    write_dataset(tmp_path, labelled_table())
    _, holdout = task.split(task.load(tmp_path))
    answers = task.answers(holdout)
    assert list(answers.columns) == ["prediction_id", "cancer"]
    assert len(answers) == 2 * holdout["patient_id"].nunique()
    assert answers["cancer"].sum() >= 1

    # a solution predicting the truth, in its own row order
    view = task.public_view(holdout)
    truth = dict(zip(answers["prediction_id"], answers["cancer"], strict=True))
    submission = pd.DataFrame({"prediction_id": sorted(set(view["prediction_id"]), reverse=True)})
    submission["cancer"] = submission["prediction_id"].map(truth).astype(float)
    aligned = task.validate(submission, answers)
    assert task.score(aligned, answers) == 1.0

    # P = 1, R = 1/2 on every positive at 0.5: pF1 = 2 * 0.5 / 1.5 = 2/3
    aligned["cancer"] = aligned["cancer"] * 0.5
    assert task.score(aligned, answers) == pytest.approx(2 / 3)

    with pytest.raises(ValueError, match="validate"):
        task.score(aligned.iloc[::-1], answers)
    with pytest.raises(InvalidSubmission, match="missing from the submission"):
        task.validate(submission.iloc[1:], answers)


def test_read_answers_of_a_labelled_table_matches_answers(task, tmp_path):
    table = labelled_table(5)
    table.to_csv(tmp_path / "train.csv", index=False)
    pd.testing.assert_frame_equal(task.read_answers(tmp_path / "train.csv"), task.answers(table))


def test_groups_are_patients(task):
    answers = pd.DataFrame({"prediction_id": ["500_L", "500_R", "513_L"], "cancer": [1, 0, 0]})
    assert task.groups(answers).tolist() == ["500", "500", "513"]


def test_n_inputs_counts_images(task):
    view = DataView(task=task.name, frame=labelled_table(3), has_labels=True)
    assert task.n_inputs(view) == 12


def test_synthetic_data_goes_through_the_whole_chain(task, tmp_path):
    config = BreastSynthConfig(n_patients=6, height=48, width=40, prevalence=0.5)
    task.synthesize(tmp_path, config, seed=0)
    assert task.check(tmp_path) == []
    _, holdout = task.split(task.load(tmp_path))
    answers = task.answers(holdout)
    submission = task.public_view(holdout)[["prediction_id"]].drop_duplicates().assign(cancer=0.5)
    score = task.score(task.validate(submission, answers), answers)
    assert 0.0 < score <= 1.0


def _breasts(n_patients: int, seed: int) -> pd.DataFrame:
    """Answers of ``n_patients`` patients with one or two breasts each, few positives."""
    rng = np.random.default_rng(seed)
    ids = [
        f"{p}_{side}"
        for p in range(10, 10 + n_patients)
        for side in (("L", "R") if p % 3 else ("L",))
    ]
    cancer = (rng.uniform(size=len(ids)) < 0.1).astype("int64")
    return pd.DataFrame({"prediction_id": sorted(ids), "cancer": cancer})


def test_fast_bootstrap_matches_the_resampled_rows(task: RsnaBreastTask, bootstrap_parity) -> None:
    answers = _breasts(30, seed=1)
    rng = np.random.default_rng(2)
    noisy = answers.assign(
        cancer=np.clip(answers["cancer"] + rng.normal(0, 0.4, len(answers)), -0.5, 1.5)
    )
    scores = bootstrap_parity(task, noisy, answers)
    assert (scores == 0.0).any() and (scores > 0.0).any()  # some resamples have no positive
    with pytest.warns(RuntimeWarning, match="every prediction is 0"):
        bootstrap_parity(task, answers.assign(cancer=0.0), answers)
    bootstrap_parity(task, answers.assign(cancer=answers["cancer"] * 1.0), answers)
    one = answers.iloc[:2].reset_index(drop=True).assign(cancer=[0, 1])
    bootstrap_parity(task, one.assign(cancer=[0.3, 0.6]), one)  # a single patient


def test_fast_bootstrap_refuses_what_score_refuses(task: RsnaBreastTask) -> None:
    answers = _breasts(5, seed=0)
    with pytest.raises(ValueError, match="validate"):
        task.bootstrap_statistics(answers.iloc[::-1], answers)
    with pytest.raises(ValueError, match="NaN"):
        task.bootstrap_statistics(answers.assign(cancer=np.nan), answers)
