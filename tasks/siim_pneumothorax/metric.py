"""The competition metric: mean over images of the Dice of the predicted and true masks.

An image scores 1 when both masks are empty (``-1``), 0 when exactly one is. Each image is its own
bootstrap unit (harness.kit.segmentation.metric, read with SIIM's relative RLE).
"""

from harness.kit.segmentation.metric import dice_metric
from harness.kit.segmentation.rle import relative_runs
from tasks.siim_pneumothorax.submission import images

METRIC = dice_metric(id_column="ImageId", runs=relative_runs, groups=images, masks="images")
