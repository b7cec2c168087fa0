"""rsna-ich seresnext: SE-ResNeXt on three CT windows, patient folds, TTA (48th place)."""

from solutions.rsna_ich.seresnext.config import SeresnextConfig
from solutions.rsna_ich.seresnext.solution import SeresnextSolution

__all__ = ["SeresnextConfig", "SeresnextSolution"]
