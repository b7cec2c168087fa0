"""siim-pneumothorax unet: U-Net / UNet++ (bronze-medal report), progressive resolution, SWA."""

from solutions.siim_pneumothorax.unet.config import UnetConfig
from solutions.siim_pneumothorax.unet.solution import UnetSolution

__all__ = ["UnetConfig", "UnetSolution"]
