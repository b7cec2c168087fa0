"""severstal-steel unet-cls-ensemble: a classification gate per class over two averaged U-Nets."""

from solutions.severstal_steel.unet_cls_ensemble.config import UnetClsEnsembleConfig
from solutions.severstal_steel.unet_cls_ensemble.solution import UnetClsEnsembleSolution

__all__ = ["UnetClsEnsembleConfig", "UnetClsEnsembleSolution"]
