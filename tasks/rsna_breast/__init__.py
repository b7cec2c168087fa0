"""RSNA Screening Mammography Breast Cancer Detection (Kaggle, 2023)."""

from tasks.rsna_breast.task import RsnaBreastTask

__all__ = ["RsnaBreastTask"]
