"""Stage 2: a timm CNN on every sampled slice, a bidirectional GRU over the slices of a
vertebra, attention pooling, one fracture logit per vertebra; and the competition's weighted
loss on the eight targets of a study."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from harness.kit.models import create_backbone
from tasks.rsna_cervical.layout import TARGETS
from tasks.rsna_cervical.metric import NEGATIVE_WEIGHT, POSITIVE_WEIGHT


class AttentionPool(nn.Module):
    """Softmax-weighted sum over time of (batch, time, features)."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.score = nn.Sequential(nn.Linear(features, features), nn.Tanh(), nn.Linear(features, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.score(x).squeeze(-1), dim=1)
        return (weights.unsqueeze(-1) * x).sum(1)


class VertebraGru(nn.Module):
    """(studies, 7, slices, 3, H, W) -> (studies, 7) vertebra logits and (studies,) overall
    logit, the latter from its own head on the vertebrae's pooled features when
    ``overall_head`` (else None: patient_overall is then 1 - prod(1 - p))."""

    def __init__(
        self,
        backbone: str,
        *,
        pretrained: bool,
        pretrained_path: str | None,
        hidden: int,
        spatial_dropout: float,
        overall_head: bool,
    ) -> None:
        super().__init__()
        self.cnn = create_backbone(
            backbone,
            pretrained=pretrained,
            pretrained_path=pretrained_path,
            num_classes=0,
            in_chans=3,
        )
        features = int(self.cnn.num_features)
        self.spatial_dropout = nn.Dropout1d(spatial_dropout)
        self.gru = nn.GRU(features, hidden, batch_first=True, bidirectional=True)
        self.pool = AttentionPool(2 * hidden)
        self.head = nn.Linear(2 * hidden, 1)
        self.overall = nn.Linear(2 * hidden, 1) if overall_head else None
        _init_gru(self.gru)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        studies, vertebrae, slices = x.shape[:3]
        features = self.cnn(x.flatten(0, 2)).view(studies * vertebrae, slices, -1)
        # Spatial dropout: whole feature channels dropped across every slice of a sequence.
        features = self.spatial_dropout(features.transpose(1, 2)).transpose(1, 2)
        sequence, _ = self.gru(features)
        pooled = self.pool(sequence)
        logits = self.head(pooled).view(studies, vertebrae)
        overall = None
        if self.overall is not None:
            overall = self.overall(pooled.view(studies, vertebrae, -1).amax(1)).squeeze(-1)
        return logits, overall


def _init_gru(gru: nn.GRU) -> None:
    """Orthogonal recurrent and Xavier input weights, zero biases (the write-up re-initialised
    the GRU: PyTorch's uniform default trained worse)."""
    for name, parameter in gru.named_parameters():
        if "weight_hh" in name:
            nn.init.orthogonal_(parameter)
        elif "weight_ih" in name:
            nn.init.xavier_uniform_(parameter)
        else:
            nn.init.zeros_(parameter)


def log_probabilities(
    logits: torch.Tensor, overall: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(log p, log(1 - p)) of the eight targets, shape (studies, 8), computed stably.

    Without an overall head p_overall = 1 - prod(1 - p_c): log(1 - p_overall) is the sum of
    the vertebrae's log(1 - p_c).
    """
    log_p, log_not_p = F.logsigmoid(logits), F.logsigmoid(-logits)
    if overall is None:
        log_none = log_not_p.sum(1, keepdim=True)
        log_any = torch.log(-torch.expm1(log_none).clamp_max(-1e-12))
    else:
        log_any, log_none = F.logsigmoid(overall)[:, None], F.logsigmoid(-overall)[:, None]
    return torch.cat([log_p, log_any], 1), torch.cat([log_not_p, log_none], 1)


def competition_loss(
    log_p: torch.Tensor, log_not_p: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """The metric as a loss: per study sum(w * bce) / sum(w), averaged over studies."""
    negative = torch.tensor([NEGATIVE_WEIGHT[t] for t in TARGETS], device=labels.device)
    positive = torch.tensor([POSITIVE_WEIGHT[t] for t in TARGETS], device=labels.device)
    weights = labels * positive + (1 - labels) * negative
    bce = -(labels * log_p + (1 - labels) * log_not_p)
    return ((weights * bce).sum(1) / weights.sum(1)).mean()
