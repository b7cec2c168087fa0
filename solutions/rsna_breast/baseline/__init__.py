"""rsna-breast baseline: a small timm CNN on downsampled, cached mammograms."""

from solutions.rsna_breast.baseline.solution import BaselineConfig, BaselineSolution

__all__ = ["BaselineConfig", "BaselineSolution"]
