"""rsna-ich sequence: CNN slice embeddings read in slice order by a bidirectional LSTM."""

from solutions.rsna_ich.sequence.config import SequenceConfig
from solutions.rsna_ich.sequence.solution import SequenceSolution

__all__ = ["SequenceConfig", "SequenceSolution"]
