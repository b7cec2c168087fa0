"""The plug-in kit: what tasks and solutions build from (imaging, segmentation, splits,
submissions, models, training plans, statistics, file checks).

The kit imports nothing from ``harness.engine``; the engine may import the kit.
"""
