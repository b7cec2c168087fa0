"""Series as sequences: which rows form one, in which order, and how a batch of them is padded.

A sequence is one series (patient, study, series) in anatomical order, ``slice_index`` from
the task (the position along the slice normal), never file name or row order. Each slice's
features are its embedding and its differences to the previous and the next slice of the same
series (the write-up's "delta" inputs), zero at the series' ends, so no feature mixes two
series. Batches pad series to the longest with zeros; the model packs them by length, so
padding never enters a recurrent state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

SERIES_KEYS: list[str] = ["PatientID", "StudyInstanceUID", "SeriesInstanceUID"]


def series_sequences(frame: pd.DataFrame, rows: np.ndarray | None = None) -> list[np.ndarray]:
    """Row positions (into ``frame``) of each series, ordered by ``slice_index``; only the
    positions in ``rows`` when given. Series come in the order of their keys."""
    missing = [c for c in [*SERIES_KEYS, "slice_index"] if c not in frame.columns]
    if missing:
        raise ValueError(f"the table lacks column(s) {', '.join(missing)} needed to order slices")
    positions = np.arange(len(frame)) if rows is None else np.asarray(rows, dtype=np.int64)
    table = frame.iloc[positions][[*SERIES_KEYS, "slice_index"]].astype({"slice_index": "int64"})
    table = table.assign(_position=positions).sort_values(
        [*SERIES_KEYS, "slice_index"], kind="stable"
    )
    return [
        group["_position"].to_numpy(dtype=np.int64)
        for _, group in table.groupby(SERIES_KEYS, sort=True)
    ]


def series_features(embeddings: np.ndarray, *, deltas: bool) -> np.ndarray:
    """(T, D) embeddings of one series in slice order -> (T, 3D) with the differences to the
    previous and the next slice (zero where there is none), or (T, D) without ``deltas``."""
    if not deltas:
        return embeddings.astype(np.float32)
    lag = np.zeros_like(embeddings)
    lead = np.zeros_like(embeddings)
    lag[1:] = embeddings[1:] - embeddings[:-1]
    lead[:-1] = embeddings[:-1] - embeddings[1:]
    return np.concatenate([embeddings, lag, lead], axis=1).astype(np.float32)


@dataclass
class SeriesBatch:
    features: torch.Tensor
    """(B, T, F), zero after each series' length."""
    lengths: torch.Tensor
    """(B,) int64 on the CPU (what pack_padded_sequence wants)."""
    mask: torch.Tensor
    """(B, T) bool: True at a real slice."""
    labels: torch.Tensor | None
    """(B, T, 6), zero where ``mask`` is False."""

    def to(self, device: torch.device) -> SeriesBatch:
        return SeriesBatch(
            self.features.to(device),
            self.lengths,
            self.mask.to(device),
            None if self.labels is None else self.labels.to(device),
        )


def pad_series(
    features: Sequence[np.ndarray], labels: Sequence[np.ndarray] | None = None
) -> SeriesBatch:
    """A batch of series of different lengths, padded with zeros to the longest."""
    if not features:
        raise ValueError("a batch needs at least one series")
    lengths = torch.tensor([len(f) for f in features], dtype=torch.int64)
    if int(lengths.min()) < 1:
        raise ValueError("every series needs at least one slice")
    steps = int(lengths.max())
    padded = torch.zeros(len(features), steps, features[0].shape[1])
    mask = torch.arange(steps)[None, :] < lengths[:, None]
    for i, series in enumerate(features):
        padded[i, : len(series)] = torch.from_numpy(np.asarray(series, dtype=np.float32))
    padded_labels = None
    if labels is not None:
        padded_labels = torch.zeros(len(labels), steps, labels[0].shape[1])
        for i, series_labels in enumerate(labels):
            padded_labels[i, : len(series_labels)] = torch.from_numpy(
                np.asarray(series_labels, dtype=np.float32)
            )
    return SeriesBatch(padded, lengths, mask, padded_labels)
