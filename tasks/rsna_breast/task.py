"""The rsna-breast task: RSNA Screening Mammography Breast Cancer Detection (Kaggle, 2023)."""

from harness.api import HiddenTest
from harness.kit.task import KaggleTask, Split
from tasks.rsna_breast.layout import LAYOUT
from tasks.rsna_breast.metric import METRIC
from tasks.rsna_breast.split import holdout_split
from tasks.rsna_breast.submission import SUBMISSION
from tasks.rsna_breast.synthetic import SYNTHETIC


class RsnaBreastTask(KaggleTask):
    """Mammograms in, one cancer probability per breast out, scored with probabilistic F1."""

    name = "rsna-breast"
    version = "1.0"
    layout = LAYOUT
    holdout = Split(holdout_split, version="v1")
    submission = SUBMISSION
    metric = METRIC
    synthetic = SYNTHETIC
    hidden_test = HiddenTest(
        rows=36_700,
        unit="images",
        predict_limit_s=9 * 3600,
        source="data page: roughly 8,000 patients; 4.59 images each, as in train.csv",
    )
