"""Stage 2: sequence models over series of out-of-fold embeddings, trained on the same folds.

A series lies wholly in one fold (folds group patients), so its embeddings all come from the
one CNN that did not train on it. Sequence model ``f`` trains on the series of the other folds
and keeps its epoch with the lowest loss on fold ``f``'s series: its predictions there are
out-of-fold too, and their loss compares directly with stage 1's on the same slices.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from harness.kit.amp import Precision
from harness.kit.training import scaled_step, state_snapshot, warmup_cosine
from solutions.rsna_ich.sequence.config import SequenceConfig
from solutions.rsna_ich.sequence.losses import metric_loss, weighted_bce
from solutions.rsna_ich.sequence.sequence_model import SliceSequenceModel
from solutions.rsna_ich.sequence.sequences import pad_series, series_features
from solutions.rsna_ich.sequence.stage1 import Reporter, epoch_plan

log = logging.getLogger(__name__)


def features_of(
    series: Sequence[np.ndarray], embeddings: np.ndarray, *, deltas: bool
) -> list[np.ndarray]:
    """The (T, F) input of each series (row positions in slice order) from per-row
    ``embeddings``."""
    return [series_features(embeddings[rows], deltas=deltas) for rows in series]


@torch.no_grad()
def predict_series(
    model: SliceSequenceModel,
    features: Sequence[np.ndarray],
    batch_size: int,
    device: torch.device,
) -> list[np.ndarray]:
    """(T, 6) probabilities of each series."""
    model.eval()
    precision = Precision.for_device(device)
    out: list[np.ndarray] = []
    for start in range(0, len(features), batch_size):
        batch = pad_series(features[start : start + batch_size]).to(device)
        with precision.autocast(device):
            logits = model(batch.features, batch.lengths)
        probabilities = torch.sigmoid(logits.float()).cpu().numpy()
        out.extend(probabilities[i, :length] for i, length in enumerate(batch.lengths.tolist()))
    return out


@dataclass
class SequenceFold:
    model: SliceSequenceModel
    held_out: list[int]
    """Positions (in the series list) of the fold's validation series."""
    probabilities: list[np.ndarray]
    """(T, 6) of each held-out series, from the kept epoch."""
    best_loss: float
    epochs_run: int


def train_sequence_fold(
    cfg: SequenceConfig,
    fold: int,
    data: tuple[list[np.ndarray], list[np.ndarray], np.ndarray],
    device: torch.device,
    seconds: float,
    report: Reporter,
) -> SequenceFold | None:
    """Sequence model ``fold`` from ``data`` = (features, labels, fold) of every series, at its
    best epoch; None when a side of the fold has no series. At least one epoch runs."""
    features, labels, series_fold = data
    fit = [i for i in range(len(features)) if series_fold[i] != fold]
    held_out = [i for i in range(len(features)) if series_fold[i] == fold]
    if not fit or not held_out:
        return None
    stacked = torch.from_numpy(np.concatenate([features[i] for i in fit]))
    model = SliceSequenceModel(
        stacked.shape[1],
        hidden=cfg.hidden,
        rnn=cfg.rnn,
        dropout=cfg.seq_dropout,
        mean=stacked.mean(0),
        std=stacked.std(0),
    ).to(device)
    precision = Precision.for_device(device)
    scaler = precision.scaler(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.seq_lr)
    steps_per_epoch = -(-len(fit) // cfg.seq_batch_size)
    held_out_labels = np.concatenate([labels[i] for i in held_out])
    plan = epoch_plan(cfg.seq_epochs, seconds)
    best: tuple[float, dict[str, torch.Tensor], list[np.ndarray]] | None = None
    step = 0
    while plan.another():
        started = time.monotonic()
        model.train()
        total, seen = 0.0, 0
        order = torch.randperm(len(fit)).tolist()
        for start in range(0, len(order), cfg.seq_batch_size):
            chosen = [fit[i] for i in order[start : start + cfg.seq_batch_size]]
            batch = pad_series([features[i] for i in chosen], [labels[i] for i in chosen])
            batch = batch.to(device)
            assert batch.labels is not None
            for group in optimiser.param_groups:
                group["lr"] = warmup_cosine(cfg.seq_lr, step, steps_per_epoch * plan.planned)
            with precision.autocast(device):
                logits = model(batch.features, batch.lengths)
            loss = weighted_bce(logits[batch.mask], batch.labels[batch.mask])
            scaled_step(loss, optimiser, scaler)
            step += 1
            slices = int(batch.mask.sum())
            total += float(loss.detach()) * slices
            seen += slices
        probabilities = predict_series(
            model, [features[i] for i in held_out], cfg.seq_batch_size, device
        )
        val_loss = metric_loss(held_out_labels, np.concatenate(probabilities))
        plan.record(time.monotonic() - started)
        report(
            {"seq_fold": fold, "seq_train_loss": total / max(seen, 1), "seq_val_loss": val_loss},
            plan.done - 1,
        )
        if best is None or val_loss < best[0]:
            best = (val_loss, state_snapshot(model), probabilities)
    assert best is not None  # the epoch plan runs at least one epoch
    model.load_state_dict(best[1])
    log.info(
        "sequence fold %d: best validation weighted log loss %.4f after %d epochs",
        fold,
        best[0],
        plan.done,
    )
    return SequenceFold(model.eval(), held_out, best[2], best[0], plan.done)
