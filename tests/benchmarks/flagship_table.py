"""The flagship's predict pipeline stage by stage and end to end, on the same files, one process.

    python tests/benchmarks/flagship_table.py [--sizes 2048x1024 3328x2560] [--n 16]
        [--input 64x32] [--device cpu|cuda] [--workers 2] [--model-rounds 3] [--pool-rounds 3]
        [--data-dir DIR]

For each DICOM size, ``n`` synthetic mammograms are written, half 12-bit JPEG 2000 lossless and
half JPEG Lossless SV1 (as the real data). Then, in this order and on those files:

- pool: pydicom decoding all the files in this process and in a warm ``PydicomPool`` of
  ``--workers`` processes, in turns, best of ``--pool-rounds`` each (the fallback pool's
  speed-up; its cold start is shown apart);
- decode: ``DicomDecoder.decode_on_device`` (DALI for what it decodes, the pool for the rest,
  overlapped), warm (pipeline built, first-result checks and workers started untimed); also
  with the fallbacks decoded in this process, one after another (``serial fallbacks``);
- preprocess: ``model_batch`` on the decoded tensors (windowing, ROI, crop, resize), after
  one untimed image;
- models: both untrained members (weights do not change the cost) on the preprocessed batches,
  after a warm-up batch, ``--model-rounds`` passes;
- end to end: ``stream_probabilities`` (decode -> preprocess -> both members, batch by batch)
  with the same warm decoder, with the GPU utilisation sampled by NVML meanwhile ("-" without
  a GPU).

"e2e / min" is end to end divided by the slower of decode and models: 1.0 means the pipeline
runs at the speed of its slowest part, as if the stages overlapped perfectly.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from pydicom.uid import JPEG2000Lossless, JPEGLosslessSV1

from harness.engine import gpu
from harness.kit.imaging.dali_decode import DeviceImage, DicomDecoder
from harness.kit.imaging.device_preprocess import model_batch
from harness.kit.imaging.dicom import read_header
from harness.kit.imaging.fallback_pool import PydicomPool, decode_file
from solutions.rsna_breast.ensemble.config import EnsembleConfig
from solutions.rsna_breast.ensemble.model import BreastNet
from solutions.rsna_breast.ensemble.stream import (
    members_probabilities,
    roi_rows,
    stream_probabilities,
)
from tasks.rsna_breast.synthetic import BreastSynthConfig, synthesize


def _size(text: str) -> tuple[int, int]:
    height, width = text.lower().split("x")
    return int(height), int(width)


def write_mix(root: Path, n: int, height: int, width: int) -> pd.DataFrame:
    """``n`` mammograms, half JPEG 2000 and half SV1 (columns path, laterality, syntax); files
    already under ``root`` from an earlier run are reused."""
    if not (root / "train.csv").is_file():
        config = BreastSynthConfig(
            n_patients=max(2, math.ceil(n / 2)),  # 2n images: about n of each syntax
            height=height,
            width=width,
            jpeg2000_fraction=0.5,
            jpeg_lossless_fraction=0.5,
        )
        synthesize(root, config, seed=0)
    table = pd.read_csv(root / "train.csv")
    table["path"] = [
        str(root / "train_images" / str(row.patient_id) / f"{row.image_id}.dcm")
        for row in table.itertuples()
    ]
    table["syntax"] = [str(read_header(p).file_meta.TransferSyntaxUID) for p in table["path"]]
    halves = [table[table["syntax"] == s].head(math.ceil(n / 2)) for s in _SYNTAXES]
    if min(len(h) for h in halves) < n // 2:
        raise SystemExit(f"{root}: too few files of one syntax for n={n}; try another n")
    mix = pd.concat(halves).sort_index().head(n).reset_index(drop=True)
    return mix[["path", "laterality", "syntax"]]


_SYNTAXES = (JPEG2000Lossless, JPEGLosslessSV1)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run: Callable[[], object], device: torch.device) -> float:
    _sync(device)
    started = time.perf_counter()
    run()
    _sync(device)
    return time.perf_counter() - started


class GpuSampler:
    """Mean NVML utilisation of GPU ``index`` while in the ``with`` block (None without NVML)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.samples += [s.utilisation_pct for s in gpu.sample([self.index])]

    def __enter__(self) -> GpuSampler:
        if gpu.nvml_available():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.samples) if self.samples else None


@dataclass
class Row:
    size: str
    n: int
    pool_serial_s: float
    pool_s: float
    pool_start_s: float
    decode_s: float
    decode_serial_s: float
    preprocess_s: float
    models_rate: float
    e2e_s: float
    gpu_util: float | None


def measure(frame: pd.DataFrame, size: str, args: argparse.Namespace) -> Row:
    device = torch.device(args.device)
    decode_device = "mixed" if device.type == "cuda" else "cpu"
    in_h, in_w = _size(args.input)
    cfg = EnsembleConfig(height=in_h, width=in_w, tta_vflip=False, batch_size=args.batch_size)
    paths = [Path(p) for p in frame["path"]]
    n = len(paths)

    # The fallback pool alone: every file by pydicom, here and in the pool, taking turns
    # within each round so that a change in the machine's load hits both; best of the rounds.
    host = torch.device("cpu")
    with PydicomPool(args.workers) as pool:
        start_s = timed(pool.warm_up, host)
        rounds = [
            (
                timed(lambda: [decode_file(p) for p in paths], host),
                timed(lambda: [f.result() for f in [pool.submit(p) for p in paths]], host),
            )
            for _ in range(args.pool_rounds)
        ]
    serial_s, pool_s = (min(times) for times in zip(*rounds, strict=True))

    def decoder(workers: int) -> DicomDecoder:
        made = DicomDecoder(
            decode_device,
            batch_size=args.batch_size,
            num_threads=args.workers,
            fallback_workers=workers,
            pool_min_pixels=0,
        )
        # Warm-up, untimed: the pipeline, the first-result check of each syntax, the workers.
        if made.pool is not None:
            made.pool.warm_up()
        first = [frame.index[frame["syntax"] == s][0] for s in _SYNTAXES]
        list(made.decode_on_device([paths[i] for i in first]))
        return made

    with decoder(0) as serial:
        decode_serial_s = timed(lambda: list(serial.decode_on_device(paths)), device)
    with decoder(args.workers) as pooled:
        images: list[DeviceImage] = []
        decode_s = timed(
            lambda: images.extend(
                image
                for _, image in pooled.decode_on_device(paths)
                if isinstance(image, DeviceImage)
            ),
            device,
        )
        if len(images) != n:
            raise SystemExit(f"{size}: only {len(images)} of {n} files decoded")
        sides = list(frame["laterality"])
        step = cfg.batch_size * 2
        batches: list[torch.Tensor] = []

        def preprocess() -> None:
            for start in range(0, n, step):
                batches.append(
                    model_batch(
                        images[start : start + step],
                        sides[start : start + step],
                        in_h,
                        in_w,
                        roi_rows=roi_rows(cfg),
                    ).to(device)
                )

        model_batch(images[:1], sides[:1], in_h, in_w, roi_rows=roi_rows(cfg))  # warm-up
        preprocess_s = timed(preprocess, device)
        images.clear()
        torch.manual_seed(0)
        models = [
            BreastNet(name, pretrained=False, pretrained_path=None, gem_p=3.0).to(device).eval()
            for name in cfg.models
        ]
        if cfg.channels_last:
            models = [m.to(memory_format=torch.channels_last) for m in models]
        timed(lambda: members_probabilities(models, batches[0], cfg), device)  # warm-up
        models_s = timed(
            lambda: [
                members_probabilities(models, batch, cfg)
                for _ in range(args.model_rounds)
                for batch in batches
            ],
            device,
        )
        models_rate = args.model_rounds * n / models_s
        with GpuSampler(device.index or 0) as sampler:
            e2e_s = timed(lambda: stream_probabilities(pooled, models, frame, cfg, device), device)
    return Row(
        size,
        n,
        serial_s,
        pool_s,
        start_s,
        decode_s,
        decode_serial_s,
        preprocess_s,
        models_rate,
        e2e_s,
        sampler.mean if device.type == "cuda" else None,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["2048x1024", "3328x2560"])
    parser.add_argument("--n", type=int, default=16, help="images per size (half J2K, half SV1)")
    parser.add_argument("--input", default="64x32", help="model input, e.g. 1024x512 on a GPU")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--workers", type=int, default=2, help="DALI threads and pool processes")
    parser.add_argument("--batch-size", type=int, default=8, help="DALI batch; models take 2x")
    parser.add_argument("--model-rounds", type=int, default=3)
    parser.add_argument("--pool-rounds", type=int, default=3, help="best of, for the pool")
    parser.add_argument("--data-dir", type=Path, help="keep the generated files here for reuse")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.workers)

    rows = []
    with tempfile.TemporaryDirectory(prefix="flagship-bench-") as folder:
        for size in args.sizes:
            height, width = _size(size)
            root = (args.data_dir or Path(folder)) / f"{size}-n{args.n}"
            started = time.perf_counter()
            frame = write_mix(root, args.n, height, width)
            print(
                f"{size}: {len(frame)} files in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            rows.append(measure(frame, size, args))

    print(
        f"\ndevice {args.device}, model input {args.input}, {args.workers} workers, DALI batch "
        f"{args.batch_size}, models {args.model_rounds} passes after warm-up, pool best of "
        f"{args.pool_rounds}; images/s\n"
    )
    header = [
        "DICOM",
        "n",
        "decode",
        "decode, serial fallbacks",
        "preprocess",
        "models",
        "end to end",
        "e2e / min(decode, models)",
        f"pool speed-up ({args.workers} procs vs 1)",
        "pool start s",
        "GPU util %",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in rows:
        decode, e2e = row.n / row.decode_s, row.n / row.e2e_s
        cells = [
            row.size,
            str(row.n),
            f"{decode:.2f}",
            f"{row.n / row.decode_serial_s:.2f}",
            f"{row.n / row.preprocess_s:.2f}",
            f"{row.models_rate:.2f}",
            f"{e2e:.2f}",
            f"{e2e / min(decode, row.models_rate):.2f}",
            f"{row.pool_serial_s / row.pool_s:.2f}x",
            f"{row.pool_start_s:.2f}",
            "-" if row.gpu_util is None else f"{row.gpu_util:.0f}",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
