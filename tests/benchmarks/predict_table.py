"""End-to-end predict throughput of the rsna-breast ensemble: decode + ROI crop + both models.

    python tests/benchmarks/predict_table.py [--sizes 2048x1024] [--inputs 64x32 512x256]
        [--n 16] [--device cpu|cuda]

For each DICOM size, ``n`` synthetic 12-bit JPEG 2000 mammograms are written once; then for
each model input size the ensemble's own code prepares them (``prepare_images``: DALI decode,
windowing, ROI crop, resize, into a fresh cache so every image is decoded) and scores them with
both members, untrained (``predict_probabilities``; weights do not change the cost). Prints
images/s of each stage and end to end, measured in the same run. ``--device cuda`` decodes on
DALI's mixed backend and runs the models on the GPU under autocast.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from decode_table import write_mammograms  # sibling script (sys.path[0] when run as a script)

from solutions.rsna_breast.ensemble.config import EnsembleConfig
from solutions.rsna_breast.ensemble.model import BreastNet
from solutions.rsna_breast.ensemble.preprocess import prepare_images
from solutions.rsna_breast.ensemble.training import predict_probabilities


def _size(text: str) -> tuple[int, int]:
    height, width = text.lower().split("x")
    return int(height), int(width)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["2048x1024"])
    parser.add_argument("--inputs", nargs="+", default=["64x32", "512x256"])
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(2)
    print("| DICOM | model input | n | decode+crop img/s | models img/s | end to end img/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            height, width = _size(size)
            paths = write_mammograms(Path(tmp) / size, args.n, height, width)
            frame = pd.DataFrame({"path": [str(p) for p in paths], "laterality": "L"})
            for model_input in args.inputs:
                in_h, in_w = _size(model_input)
                cfg = EnsembleConfig(height=in_h, width=in_w, tta_vflip=False)
                started = time.perf_counter()
                prepared = prepare_images(
                    frame,
                    Path(tmp) / f"cache-{size}-{model_input}",
                    height=in_h,
                    width=in_w,
                    crop=True,
                    decode_device="mixed" if args.device == "cuda" else "cpu",
                    decode_batch_size=8,
                    num_threads=2,
                )
                decode_s = time.perf_counter() - started
                files = [f for f in prepared.files if f is not None]
                models = [
                    BreastNet(name, pretrained=False, pretrained_path=None, gem_p=3.0).to(device)
                    for name in cfg.models
                ]
                predict_probabilities(models[0], files[:2], cfg, device, 0)  # warm-up
                started = time.perf_counter()
                for model in models:
                    predict_probabilities(model, files, cfg, device, 0)
                model_s = time.perf_counter() - started
                n = len(files)
                print(
                    f"| {size} | {model_input} | {n} | {n / decode_s:.2f} | {n / model_s:.2f} "
                    f"| {n / (decode_s + model_s):.2f} |"
                )


if __name__ == "__main__":
    main()
