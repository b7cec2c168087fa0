"""The rsna-cervical task: RSNA 2022 Cervical Spine Fracture Detection (Kaggle, 2022)."""

from harness.api import HiddenTest
from harness.kit.task import KaggleTask, Split
from tasks.rsna_cervical.layout import LAYOUT
from tasks.rsna_cervical.metric import METRIC
from tasks.rsna_cervical.split import holdout_split
from tasks.rsna_cervical.submission import SUBMISSION
from tasks.rsna_cervical.synthetic import SYNTHETIC


class RsnaCervicalTask(KaggleTask):
    """Cervical spine CT studies in, eight fracture probabilities per study out."""

    name = "rsna-cervical"
    version = "1.0"
    layout = LAYOUT
    holdout = Split(holdout_split, version="v1")
    submission = SUBMISSION
    metric = METRIC
    synthetic = SYNTHETIC
    hidden_test = HiddenTest(
        rows=1_500,
        unit="studies",
        predict_limit_s=9 * 3600,
        source="competition data page: roughly 1,500 scans in the hidden test set",
    )
