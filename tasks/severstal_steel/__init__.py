"""Severstal: Steel Defect Detection (Kaggle, 2019)."""

from tasks.severstal_steel.task import SeverstalSteelTask

__all__ = ["SeverstalSteelTask"]
