"""Stage 2: a bidirectional LSTM (or GRU) over a series' slice embeddings, six logits per slice.

After the write-up's best sequence model: two stacked bidirectional recurrent layers, each
also passed through a linear layer with ReLU, summed with both layers' outputs and a linear
projection of the input (a skip connection, so stage 2 starts from what stage 1 already
knows), and one linear head per slice. Inputs are standardised with the training embeddings'
mean and std (CNNs trained from scratch have arbitrary feature scales) and dropped as whole
features across a series (spatial dropout). Series are packed by length: neither direction
of a recurrent layer reads the padding of a shorter series.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from tasks.rsna_ich.layout import SUBTYPES


class SliceSequenceModel(nn.Module):
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        in_features: int,
        *,
        hidden: int,
        rnn: str,
        dropout: float,
        mean: torch.Tensor,
        std: torch.Tensor,
    ) -> None:
        super().__init__()
        if rnn not in ("lstm", "gru"):
            raise ValueError(f"rnn must be lstm or gru, got {rnn!r}")
        recurrent = nn.LSTM if rnn == "lstm" else nn.GRU
        self.register_buffer("mean", mean.float().view(1, 1, -1))
        self.register_buffer("std", std.float().clamp_min(1e-6).view(1, 1, -1))
        self.dropout = nn.Dropout1d(dropout)
        self.rnn1 = recurrent(in_features, hidden, batch_first=True, bidirectional=True)
        self.rnn2 = recurrent(2 * hidden, hidden, batch_first=True, bidirectional=True)
        self.linear1 = nn.Linear(2 * hidden, 2 * hidden)
        self.linear2 = nn.Linear(2 * hidden, 2 * hidden)
        self.skip = nn.Linear(in_features, 2 * hidden)
        self.head = nn.Linear(2 * hidden, len(SUBTYPES))

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, F) padded features and (B,) lengths -> (B, T, 6) logits (padding: garbage)."""
        steps = features.shape[1]
        x = (features - self.mean) / self.std
        x = self.dropout(x.transpose(1, 2)).transpose(1, 2)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed1, _ = self.rnn1(packed)
        packed2, _ = self.rnn2(packed1)
        h1, _ = pad_packed_sequence(packed1, batch_first=True, total_length=steps)
        h2, _ = pad_packed_sequence(packed2, batch_first=True, total_length=steps)
        hidden = h1 + h2 + F.relu(self.linear1(h1)) + F.relu(self.linear2(h2)) + self.skip(x)
        logits: torch.Tensor = self.head(hidden)
        return logits
