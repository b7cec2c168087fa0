"""The severstal-steel task: Severstal: Steel Defect Detection (Kaggle, 2019)."""

from harness.api import HiddenTest
from harness.kit.task import KaggleTask, Split
from tasks.severstal_steel.layout import LAYOUT
from tasks.severstal_steel.metric import METRIC
from tasks.severstal_steel.split import holdout_split
from tasks.severstal_steel.submission import SUBMISSION
from tasks.severstal_steel.synthetic import SYNTHETIC


class SeverstalSteelTask(KaggleTask):
    """Steel-strip JPEGs in, one mask per image and defect class out (RLE), mean Dice."""

    name = "severstal-steel"
    version = "1.0"
    layout = LAYOUT
    holdout = Split(holdout_split, version="v1")
    submission = SUBMISSION
    metric = METRIC
    synthetic = SYNTHETIC
    hidden_test = HiddenTest(
        rows=5_506,
        unit="images",
        predict_limit_s=3600,
        source="competition data: 5,506 test images; kernels-only, 1 hour of GPU",
    )
