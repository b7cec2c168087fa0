"""The siim-pneumothorax task: SIIM-ACR Pneumothorax Segmentation (Kaggle, 2019)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from harness.api import DataProblem, DataView, Task
from harness.kit.file_checks import EVERY_FILE, Opening
from harness.kit.stats import GroupStatistics, mean_of_rows
from tasks.siim_pneumothorax import synthetic
from tasks.siim_pneumothorax.layout import LABEL_COLUMNS, check_layout, read_train_table
from tasks.siim_pneumothorax.metric import image_dices, mean_dice
from tasks.siim_pneumothorax.split import holdout_split
from tasks.siim_pneumothorax.submission import (
    SUBMISSION_COLUMNS,
    answers_from_table,
    read_answers,
    validate_submission,
)


class SiimPneumothoraxTask(Task):
    """Chest radiographs in, one pneumothorax mask per image out (RLE), scored with mean Dice."""

    name: ClassVar[str] = "siim-pneumothorax"
    version: ClassVar[str] = "1.0"
    metric_name: ClassVar[str] = "Dice"
    greater_is_better: ClassVar[bool] = True
    split_version: ClassVar[str] = "v1"
    submission_columns: ClassVar[tuple[str, ...]] = SUBMISSION_COLUMNS
    synth_config: ClassVar[type] = synthetic.PneumothoraxSynthConfig
    contract_synth: ClassVar[dict[str, Any]] = {
        "n_images": 24,
        "height": 64,
        "width": 64,
        "prevalence": 0.4,
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
        return holdout.drop(columns=list(LABEL_COLUMNS)).reset_index(drop=True)

    def answers(self, holdout: pd.DataFrame) -> pd.DataFrame:
        return answers_from_table(holdout)

    def read_answers(self, path: Path) -> pd.DataFrame:
        return read_answers(path)

    def validate(self, submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
        return validate_submission(submission, answers)

    def score(self, submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        return mean_dice(*_dice_inputs(submission, answers))

    def bootstrap_statistics(
        self, submission: pd.DataFrame, answers: pd.DataFrame
    ) -> GroupStatistics:
        """Per image, the sum of its rows' Dice and its row count: a resample's mean Dice."""
        return mean_of_rows(self.groups(answers), image_dices(*_dice_inputs(submission, answers)))

    def groups(self, answers: pd.DataFrame) -> np.ndarray:
        """Each image is its own bootstrap unit (the score is a mean over images)."""
        return answers["ImageId"].astype(str).to_numpy()

    def n_inputs(self, view: DataView) -> int:
        return len(view.frame)


def _dice_inputs(
    submission: pd.DataFrame, answers: pd.DataFrame
) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    """Predicted and true RLEs and image sizes of each row, once the pair is checked aligned."""
    # A misaligned pair would score silently wrong, so check what validate() guarantees.
    if not np.array_equal(
        submission["ImageId"].astype(str).to_numpy(), answers["ImageId"].astype(str).to_numpy()
    ):
        raise ValueError("submission rows do not match the answers: pass it through validate()")
    shapes = list(zip(answers["height"], answers["width"], strict=True))
    return (
        submission["EncodedPixels"].astype(str).tolist(),
        answers["EncodedPixels"].astype(str).tolist(),
        shapes,
    )
