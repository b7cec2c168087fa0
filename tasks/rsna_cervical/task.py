"""The rsna-cervical task: RSNA 2022 Cervical Spine Fracture Detection (Kaggle, 2022)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from harness.api import DataProblem, DataView, Task
from harness.kit.file_checks import EVERY_FILE, Opening
from harness.kit.stats import GroupStatistics, group_sums, ratio_of_sums
from tasks.rsna_cervical import synthetic
from tasks.rsna_cervical.layout import LABEL_COLUMNS, check_layout, read_train_csv
from tasks.rsna_cervical.metric import (
    one_run_per_study,
    row_losses,
    row_weights,
    study_occurrences,
    weighted_log_loss,
)
from tasks.rsna_cervical.split import holdout_split
from tasks.rsna_cervical.submission import (
    SUBMISSION_COLUMNS,
    answers_from_table,
    read_answers,
    solution_file,
    split_row_ids,
    validate_submission,
)


class RsnaCervicalTask(Task):
    """Cervical spine CT studies in, eight fracture probabilities per study out.

    The table handed to solutions has one row per study: ``StudyInstanceUID``, ``study_dir``
    (absolute path of the study's slice folder; ``tasks.rsna_cervical.volume.read_volume`` or
    ``ordered_slice_paths`` put its slices in ImagePositionPatient order) and ``n_slices``. The
    training view adds the labels ``patient_overall``, ``C1`` .. ``C7`` and ``segmentation``,
    the absolute path of the study's NIfTI label volume or missing (NaN) (read it with
    ``volume.read_segmentation``, aligned to ``read_volume``). ``train_bounding_boxes.csv`` is
    not handed over. The submission has ``row_id = {StudyInstanceUID}_{C1..C7|patient_overall}``
    and ``fractured``; the score is the host's per-study weighted log loss (lower is better).
    """

    name: ClassVar[str] = "rsna-cervical"
    version: ClassVar[str] = "1.0"
    metric_name: ClassVar[str] = "weighted log loss"
    greater_is_better: ClassVar[bool] = False
    split_version: ClassVar[str] = "v1"
    submission_columns: ClassVar[tuple[str, ...]] = SUBMISSION_COLUMNS
    synth_config: ClassVar[type] = synthetic.CervicalSynthConfig
    contract_synth: ClassVar[dict[str, Any]] = {
        "n_studies": 10,
        "size": 32,
        "min_slices": 24,
        "max_slices": 28,
        "segmentation_fraction": 0.6,
    }

    def synthesize(self, root: Path, config: Any, seed: int) -> None:
        synthetic.synthesize(root, config, seed)

    def check(
        self, root: Path, *, decode: bool = True, opening: Opening | None = None
    ) -> list[DataProblem]:
        return check_layout(root, decode=decode, opening=opening or EVERY_FILE)

    def load(self, root: Path) -> pd.DataFrame:
        return read_train_csv(root)

    def split(self, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        return holdout_split(table, version=self.split_version)

    def public_view(self, holdout: pd.DataFrame) -> pd.DataFrame:
        return holdout.drop(columns=list(LABEL_COLUMNS)).reset_index(drop=True)

    def answers(self, holdout: pd.DataFrame) -> pd.DataFrame:
        return answers_from_table(holdout)

    def read_answers(self, path: Path) -> pd.DataFrame:
        return read_answers(path)

    def export_answers(self, answers: pd.DataFrame, path: Path) -> None:
        solution_file(answers).to_csv(path, index=False)

    def validate(self, submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
        return validate_submission(submission, answers)

    def score(self, submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        labels, predictions, uids, targets = _metric_inputs(submission, answers)
        return weighted_log_loss(labels, predictions, targets, study_occurrences(uids, targets))

    def bootstrap_statistics(
        self, submission: pd.DataFrame, answers: pd.DataFrame
    ) -> GroupStatistics | None:
        """Per study, its own normalised loss and 1: the host's mean over studies, each copy of
        a study in a resample counting as one. None where a study's rows are not in target
        order (see ``one_run_per_study``): the bootstrap then scores the resampled rows."""
        labels, predictions, uids, targets = _metric_inputs(submission, answers)
        if not one_run_per_study(uids, targets):
            return None
        weights = row_weights(targets, labels)
        rows = np.stack([weights * row_losses(labels, predictions), weights], axis=1)
        per_study = ratio_of_sums(group_sums(uids, rows))
        return GroupStatistics(
            np.stack([per_study, np.ones_like(per_study)], axis=1), ratio_of_sums
        )

    def groups(self, answers: pd.DataFrame) -> np.ndarray:
        """The study of each row: the bootstrap resamples studies, as the split groups them."""
        return split_row_ids(answers["row_id"])[0].to_numpy()

    def n_inputs(self, view: DataView) -> int:
        """Slices (DICOM files) in the view."""
        return int(view.frame["n_slices"].sum())


def _metric_inputs(
    submission: pd.DataFrame, answers: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels, predictions, study UIDs and targets of each row, once the pair is checked aligned."""
    ids = answers["row_id"].astype(str)
    # A misaligned pair would score silently wrong, so check what validate() guarantees.
    if not np.array_equal(submission["row_id"].astype(str).to_numpy(), ids.to_numpy()):
        raise ValueError("submission rows do not match the answers: pass it through validate()")
    uids, targets = split_row_ids(ids)
    return (
        answers["fractured"].to_numpy(),
        submission["fractured"].to_numpy(dtype=np.float64),
        uids.to_numpy(),
        targets.to_numpy(),
    )
