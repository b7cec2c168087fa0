"""SIIM-ACR Pneumothorax Segmentation (Kaggle, 2019)."""

from tasks.siim_pneumothorax.task import SiimPneumothoraxTask

__all__ = ["SiimPneumothoraxTask"]
