"""The rsna-ich task: RSNA Intracranial Hemorrhage Detection (Kaggle, 2019)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from harness.api import DataProblem, DataView, Task
from harness.kit.file_checks import EVERY_FILE, Opening
from harness.kit.stats import GroupStatistics, mean_of_rows
from tasks.rsna_ich import synthetic
from tasks.rsna_ich.layout import SUBTYPES, check_layout, read_train_table
from tasks.rsna_ich.metric import row_weights, weighted_log_loss, weighted_row_losses
from tasks.rsna_ich.split import holdout_split
from tasks.rsna_ich.submission import (
    GROUP_COLUMN,
    SUBMISSION_COLUMNS,
    answers_from_table,
    read_answers,
    validate_submission,
)


class RsnaIchTask(Task):
    """Head CT slices in, six hemorrhage probabilities per slice out, scored with the weighted
    multi-label log loss (lower is better; see tasks.rsna_ich.metric).

    The tables (``load``; the training view) have one row per slice with columns ``image_id``
    (``ID_<hex>``, the file stem), ``path`` (absolute), ``PatientID``, ``StudyInstanceUID``,
    ``SeriesInstanceUID``, ``InstanceNumber`` (-1 when absent), ``position`` (mm along the slice
    normal, from ImagePositionPatient and ImageOrientationPatient), ``slice_index`` (0 = lowest
    position in its series) and ``n_slices`` (of its series), then the six labels ``epidural``,
    ``intraparenchymal``, ``intraventricular``, ``subarachnoid``, ``subdural``, ``any`` (0/1).
    Rows are sorted by patient, study, series and slice_index, so a series' slices are
    consecutive and in anatomical order. The holdout view (``public_view``) has the same columns
    without the six labels. A submission is Kaggle's ``ID,Label`` with six rows per image
    (``tasks.rsna_ich.submission.submission_frame`` builds one).
    """

    name: ClassVar[str] = "rsna-ich"
    version: ClassVar[str] = "1.0"
    metric_name: ClassVar[str] = "weighted log loss"
    greater_is_better: ClassVar[bool] = False
    split_version: ClassVar[str] = "v1"
    submission_columns: ClassVar[tuple[str, ...]] = SUBMISSION_COLUMNS
    synth_config: ClassVar[type] = synthetic.IchSynthConfig
    contract_synth: ClassVar[dict[str, Any]] = {
        "n_patients": 10,
        "slices_per_study": 5,
        "size": 32,
        "bleeding_fraction": 0.8,
    }

    def synthesize(self, root: Path, config: Any, seed: int) -> None:
        synthetic.synthesize(root, config, seed)

    def check(
        self, root: Path, *, decode: bool = True, opening: Opening | None = None
    ) -> list[DataProblem]:
        return check_layout(root, decode=decode, opening=opening or EVERY_FILE)

    def load(self, root: Path) -> pd.DataFrame:
        return read_train_table(root)

    def split(self, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        return holdout_split(table, version=self.split_version)

    def public_view(self, holdout: pd.DataFrame) -> pd.DataFrame:
        return holdout.drop(columns=list(SUBTYPES)).reset_index(drop=True)

    def answers(self, holdout: pd.DataFrame) -> pd.DataFrame:
        return answers_from_table(holdout)

    def read_answers(self, path: Path) -> pd.DataFrame:
        return read_answers(path)

    def validate(self, submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
        return validate_submission(submission, answers)

    def score(self, submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        return weighted_log_loss(*_metric_inputs(submission, answers))

    def bootstrap_statistics(
        self, submission: pd.DataFrame, answers: pd.DataFrame
    ) -> GroupStatistics:
        """Per study, the sums of its rows' weighted losses and of their weights."""
        weighted, weights = weighted_row_losses(*_metric_inputs(submission, answers))
        return mean_of_rows(self.groups(answers), weighted, weights)

    def groups(self, answers: pd.DataFrame) -> np.ndarray:
        """The study of each row: the bootstrap resamples whole studies (their slices are
        correlated), falling back to the image where the answers name no study."""
        if GROUP_COLUMN in answers.columns:
            return answers[GROUP_COLUMN].astype(str).to_numpy()
        return answers["ID"].astype(str).str.rsplit("_", n=1).str[0].to_numpy()

    def n_inputs(self, view: DataView) -> int:
        return len(view.frame)


def _metric_inputs(
    submission: pd.DataFrame, answers: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, predictions and weights of each row, once the pair is checked aligned."""
    # A misaligned pair would score silently wrong, so check what validate() guarantees.
    if not np.array_equal(
        submission["ID"].astype(str).to_numpy(), answers["ID"].astype(str).to_numpy()
    ):
        raise ValueError("submission rows do not match the answers: pass it through validate()")
    subtypes = answers["ID"].astype(str).str.rsplit("_", n=1).str[1]
    return (
        answers["Label"].to_numpy(),
        submission["Label"].to_numpy(dtype=np.float64),
        row_weights(subtypes.to_numpy()),
    )
