"""The rsna-breast task: RSNA Screening Mammography Breast Cancer Detection (Kaggle, 2023)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from harness.api import DataProblem, DataView, Task
from harness.kit.file_checks import EVERY_FILE, Opening
from harness.kit.stats import GroupStatistics, group_sums
from tasks.rsna_breast import synthetic
from tasks.rsna_breast.layout import LABEL_COLUMNS, check_layout, read_train_csv
from tasks.rsna_breast.metric import pfbeta, pfbeta_from_sums, pfbeta_row_terms
from tasks.rsna_breast.split import holdout_split
from tasks.rsna_breast.submission import (
    SUBMISSION_COLUMNS,
    answers_from_table,
    read_answers,
    validate_submission,
)


class RsnaBreastTask(Task):
    """Mammograms in, one cancer probability per breast out, scored with probabilistic F1."""

    name: ClassVar[str] = "rsna-breast"
    version: ClassVar[str] = "1.0"
    metric_name: ClassVar[str] = "pF1"
    greater_is_better: ClassVar[bool] = True
    split_version: ClassVar[str] = "v1"
    submission_columns: ClassVar[tuple[str, ...]] = SUBMISSION_COLUMNS
    synth_config: ClassVar[type] = synthetic.BreastSynthConfig
    contract_synth: ClassVar[dict[str, Any]] = {
        "n_patients": 12,
        "height": 48,
        "width": 40,
        "prevalence": 0.5,
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

    def validate(self, submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
        return validate_submission(submission, answers)

    def score(self, submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        return pfbeta(*_labels_and_predictions(submission, answers))

    def bootstrap_statistics(
        self, submission: pd.DataFrame, answers: pd.DataFrame
    ) -> GroupStatistics:
        """Per patient, the sums of pF1's ctp, cfp and positives."""
        terms = pfbeta_row_terms(*_labels_and_predictions(submission, answers))
        return GroupStatistics(group_sums(self.groups(answers), terms), pfbeta_from_sums)

    def groups(self, answers: pd.DataFrame) -> np.ndarray:
        """The patient of each breast: bootstrap resamples patients, as the split groups them."""
        return answers["prediction_id"].astype(str).str.rsplit("_", n=1).str[0].to_numpy()

    def n_inputs(self, view: DataView) -> int:
        return len(view.frame)


def _labels_and_predictions(
    submission: pd.DataFrame, answers: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    # A misaligned pair would score silently wrong, so check what validate() guarantees.
    if not np.array_equal(
        submission["prediction_id"].astype(str).to_numpy(),
        answers["prediction_id"].astype(str).to_numpy(),
    ):
        raise ValueError("submission rows do not match the answers: pass it through validate()")
    return answers["cancer"].to_numpy(), submission["cancer"].to_numpy(dtype=np.float64)
