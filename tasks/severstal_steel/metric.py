"""The competition metric: mean Dice over every (image, class) pair of the test set.

A pair scores 2|P & T| / (|P| + |T|), and 1 when both masks are empty, so an image without
defects contributes four 1s to a submission that leaves it empty. The bootstrap resamples whole
images (harness.kit.segmentation.metric, read with the absolute RLE).
"""

from harness.kit.segmentation.metric import dice_metric
from harness.kit.segmentation.rle import absolute_runs
from tasks.severstal_steel.submission import ID_COLUMN, images

METRIC = dice_metric(
    id_column=ID_COLUMN, runs=absolute_runs, groups=images, masks="(image, class) pairs"
)
