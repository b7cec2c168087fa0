"""rsna-cervical seg-2.5d-gru: 2.5D U-Net vertebra segmentation, per-vertebra slice crops,
CNN + bidirectional GRU with attention (the 2nd-place write-up)."""

from solutions.rsna_cervical.seg_25d_gru.config import Seg25dGruConfig
from solutions.rsna_cervical.seg_25d_gru.solution import Seg25dGruSolution

__all__ = ["Seg25dGruConfig", "Seg25dGruSolution"]
