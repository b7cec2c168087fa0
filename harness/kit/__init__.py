"""The plug-in kit: what tasks and solutions build from (imaging, segmentation, holdout
splits and cross-validation folds, submissions, models, training plans, losses, cached slices,
statistics, file checks).

The kit imports nothing from ``harness.engine``; the engine may import the kit.
"""
