"""The streamed predict path against the cached one, with real DALI CPU decoding, a real
pydicom process pool and real (untrained, tiny-input) members."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from harness.kit.imaging.dali_decode import DicomDecoder
from solutions.rsna_breast.ensemble.config import EnsembleConfig
from solutions.rsna_breast.ensemble.model import BreastNet
from solutions.rsna_breast.ensemble.preprocess import PreparedImages
from solutions.rsna_breast.ensemble.solution import resolve_predict_path
from solutions.rsna_breast.ensemble.stream import predict_streamed, stream_probabilities
from solutions.rsna_breast.ensemble.training import predict_probabilities

pytest.importorskip("nvidia.dali")


def test_streamed_probabilities_are_the_cached_paths(
    tmp_path: Path,
    rows_with_a_truncated_file: Callable[[int, int], tuple[pd.DataFrame, Path]],
    prepare_on_cpu: Callable[[pd.DataFrame, Path, int, int], PreparedImages],
) -> None:
    frame, victim = rows_with_a_truncated_file(20, 7)
    cfg = EnsembleConfig(height=64, width=32, batch_size=4, decode_batch_size=4)
    torch.manual_seed(0)
    models = [
        BreastNet(name, pretrained=False, pretrained_path=None, gem_p=3.0).eval()
        for name in cfg.models
    ]
    cpu = torch.device("cpu")

    with DicomDecoder(
        "cpu", batch_size=4, num_threads=1, fallback_workers=2, pool_min_pixels=0
    ) as decoder:
        streamed = stream_probabilities(decoder, models, frame, cfg, cpu)
        assert decoder.pool is not None and decoder.pool.started
    again = predict_streamed(
        models, frame, cfg, cpu, decode_device="cpu", fallback_workers=2, decode_threads=1
    )
    prepared = prepare_on_cpu(frame, tmp_path / "cache", 64, 32)
    files = [f for f in prepared.files if f is not None]
    cached = np.mean([predict_probabilities(m, files, cfg, cpu, 0) for m in models], axis=0)

    assert streamed.unreadable == prepared.unreadable == [str(victim)]
    assert np.isnan(streamed.probs[7]) and not np.isnan(np.delete(streamed.probs, 7)).any()
    assert streamed.decode == prepared.decode == again.decode
    np.testing.assert_array_equal(again.probs, streamed.probs)
    # Same boxes (the ROI copy is the full 48-row image); inputs differ by at most one
    # float16 step in a few pixels, which moves an untrained member's output far less.
    np.testing.assert_allclose(np.delete(streamed.probs, 7), cached, atol=1e-3)


def test_predict_path_auto_streams_on_cuda_only_and_unknown_names_are_refused() -> None:
    assert EnsembleConfig().predict_path == "cache"  # until the stream has run on a GPU
    assert resolve_predict_path("auto", "cuda") == "stream"
    assert resolve_predict_path("auto", "cpu") == "cache"
    assert resolve_predict_path("stream", "cpu") == "stream"
    with pytest.raises(ValueError, match="predict_path"):
        resolve_predict_path("disk", "cpu")
