"""rsna-breast ensemble: DALI decode, ROI crop, ConvNeXtV2 + SEResNeXt with GeM (94th place)."""

from solutions.rsna_breast.ensemble.config import EnsembleConfig
from solutions.rsna_breast.ensemble.solution import EnsembleSolution

__all__ = ["EnsembleConfig", "EnsembleSolution"]
