"""The siim-pneumothorax task: SIIM-ACR Pneumothorax Segmentation (Kaggle, 2019)."""

from harness.api import HiddenTest
from harness.kit.task import KaggleTask, Split
from tasks.siim_pneumothorax.layout import LAYOUT
from tasks.siim_pneumothorax.metric import METRIC
from tasks.siim_pneumothorax.split import holdout_split
from tasks.siim_pneumothorax.submission import SUBMISSION
from tasks.siim_pneumothorax.synthetic import SYNTHETIC


class SiimPneumothoraxTask(KaggleTask):
    """Chest radiographs in, one pneumothorax mask per image out (RLE), scored with mean Dice."""

    name = "siim-pneumothorax"
    version = "1.0"
    layout = LAYOUT
    holdout = Split(holdout_split, version="v1")
    submission = SUBMISSION
    metric = METRIC
    synthetic = SYNTHETIC
    hidden_test = HiddenTest(
        rows=3_205,
        unit="images",
        predict_limit_s=None,
        source="stage 2 test set; predictions were uploaded",
    )
