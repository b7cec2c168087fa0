"""RSNA 2022 Cervical Spine Fracture Detection (Kaggle, 2022)."""

from tasks.rsna_cervical.task import RsnaCervicalTask

__all__ = ["RsnaCervicalTask"]
