"""The rsna-ich task: RSNA Intracranial Hemorrhage Detection (Kaggle, 2019)."""

from harness.api import HiddenTest
from harness.kit.task import KaggleTask, Split
from tasks.rsna_ich.layout import LAYOUT
from tasks.rsna_ich.metric import METRIC
from tasks.rsna_ich.split import holdout_split
from tasks.rsna_ich.submission import SUBMISSION
from tasks.rsna_ich.synthetic import SYNTHETIC


class RsnaIchTask(KaggleTask):
    """Head CT slices in, six hemorrhage probabilities per slice out."""

    name = "rsna-ich"
    version = "1.0"
    layout = LAYOUT
    holdout = Split(holdout_split, version="v1")
    submission = SUBMISSION
    metric = METRIC
    synthetic = SYNTHETIC
    hidden_test = HiddenTest(
        rows=121_232,
        unit="slices",
        predict_limit_s=None,
        source="stage 2 download: 874,035 slices, 752,803 of them train; predictions were uploaded",
    )
