"""RSNA Intracranial Hemorrhage Detection (Kaggle, 2019)."""

from tasks.rsna_ich.task import RsnaIchTask

__all__ = ["RsnaIchTask"]
