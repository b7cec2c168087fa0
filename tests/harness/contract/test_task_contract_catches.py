"""The task conformance suite catches real bugs: subclasses of a built-in task, each broken once."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from harness.api import HiddenTest
from harness.contract.task import TaskConformanceError, assert_task_conforms
from harness.kit.stats import GroupStatistics, mean_of_rows
from tasks.rsna_breast import RsnaBreastTask


class LeaksLabels(RsnaBreastTask):
    def public_view(self, holdout: pd.DataFrame) -> pd.DataFrame:
        return holdout.reset_index(drop=True)


class SplitsRows(RsnaBreastTask):
    """Splits images, not patients: a patient's other images land on the other side."""

    def split(self, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        ordered = table.sort_values(["patient_id", "image_id"]).reset_index(drop=True)
        odd = ordered.index % 2 == 1
        return ordered[~odd].reset_index(drop=True), ordered[odd].reset_index(drop=True)


class ShufflesOnSplit(RsnaBreastTask):
    """A split that depends on the input's row order."""

    def split(self, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        cut = len(table) // 5
        return table.iloc[cut:].reset_index(drop=True), table.iloc[:cut].reset_index(drop=True)


class AcceptsAnything(RsnaBreastTask):
    def validate(self, submission: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
        return submission.reset_index(drop=True)


class LosesAnAnswer(RsnaBreastTask):
    def read_answers(self, path: Path) -> pd.DataFrame:
        return super().read_answers(path).iloc[1:].reset_index(drop=True)


class InvertedScore(RsnaBreastTask):
    def score(self, submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        return 1.0 - super().score(submission, answers)

    def bootstrap_statistics(
        self, submission: pd.DataFrame, answers: pd.DataFrame
    ) -> GroupStatistics | None:
        return None


class ScoresMisalignedRows(RsnaBreastTask):
    def score(self, submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        return self.metric.score(submission, answers)


class FastBootstrapOff(RsnaBreastTask):
    """A fast bootstrap that scores every patient as 1."""

    def bootstrap_statistics(
        self, submission: pd.DataFrame, answers: pd.DataFrame
    ) -> GroupStatistics | None:
        return mean_of_rows(self.groups(answers), np.ones(len(answers)))


class HiddenTestWithoutSource(RsnaBreastTask):
    hidden_test = HiddenTest(rows=100, unit="images", predict_limit_s=3600.0, source="")


class UnknownContractOption(RsnaBreastTask):
    contract_synth: ClassVar[dict[str, Any]] = {"n_patientz": 12}


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (LeaksLabels, "public_view shows label column(s) ['BIRADS', 'biopsy', 'cancer'"),
        (SplitsRows, "group(s) on both sides of the split"),
        (ShufflesOnSplit, "split of the shuffled table differs"),
        (AcceptsAnything, "validate accepted a submission missing its last row"),
        (LosesAnAnswer, "read_answers of the exported answers differs"),
        (InvertedScore, "not the metric's best 1.0"),
        (ScoresMisalignedRows, "score accepted a submission whose rows are out of order"),
        (FastBootstrapOff, "bootstrap_statistics scores the full set"),
        (HiddenTestWithoutSource, "hidden_test must be None or a HiddenTest with rows > 0"),
        (UnknownContractOption, "contract_synth names unknown generator option(s) ['n_patientz']"),
    ],
)
def test_a_broken_task_fails_with_the_check_it_breaks(
    broken: type[RsnaBreastTask], message: str, tmp_path: Path
) -> None:
    with pytest.raises(TaskConformanceError, match="does not conform") as raised:
        assert_task_conforms(broken(), tmp_path)
    assert message in str(raised.value)
