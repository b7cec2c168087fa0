"""Decode throughput of 12-bit JPEG 2000 lossless mammograms: pydicom against DALI, one run.

    python tests/benchmarks/decode_table.py [--sizes 3328x2560 2048x1024] [--n 16]
        [--device cpu|mixed] [--batch-size 8] [--threads 2] [--repeat 3] [--data-dir DIR]

For each size, ``n`` synthetic rsna-breast mammograms are written as JPEG 2000 lossless DICOMs
to a temporary folder (or ``--data-dir``, reused on the next run), then decoded ``--repeat``
times by pydicom (one thread, ``read_dicom``) and by ``DicomDecoder`` on DALI's CPU pipeline
(and on the GPU with ``--device mixed``), the methods taking turns within each round. Each
figure is the best of the rounds; a warm-up batch (pipeline build, the first-file check against
pydicom) is not timed. CPU seconds per image count every thread of the process, so they show
whether a speed-up comes from parallel threads or from a faster decoder. Other processes slow
the parallel DALI pipeline more than one pydicom thread: "others' cores" is how many cores they
kept busy during the kept round (from /proc/stat), so a figure taken on a busy machine shows as
such.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.kit.imaging.dali_decode import DicomDecoder
from harness.kit.imaging.dicom import DicomImage, read_dicom
from tasks.rsna_breast.synthetic import BreastSynthConfig, synthesize


@dataclass
class Timing:
    wall_s: float
    cpu_s: float
    """CPU time of this process, all threads."""
    others_cores: float
    """Cores kept busy by other processes meanwhile: the machine's CPU time minus ours."""


def _machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (Linux /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def write_mammograms(root: Path, n: int, height: int, width: int) -> list[Path]:
    """``n`` 12-bit JPEG 2000 lossless mammograms of height x width pixels under ``root``.

    Files already there from an earlier run with the same n and size are reused.
    """
    existing = sorted((root / "train_images").rglob("*.dcm"))[:n]
    if len(existing) == n:
        return existing
    config = BreastSynthConfig(
        n_patients=math.ceil(n / 4),
        height=height,
        width=width,
        jpeg2000_fraction=1.0,
        jpeg_lossless_fraction=0.0,
    )
    synthesize(root, config, seed=0)
    return sorted((root / "train_images").rglob("*.dcm"))[:n]


def timed(run: Callable[[], None]) -> Timing:
    wall, cpu, busy = time.perf_counter(), time.process_time(), _machine_busy_s()
    run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Timing(wall, cpu, max(0.0, _machine_busy_s() - busy - cpu) / wall)


def decode_with_pydicom(paths: list[Path]) -> None:
    for path in paths:
        read_dicom(path)


def decode_with(decoder: DicomDecoder, paths: list[Path]) -> None:
    for path, result in decoder.decode(paths):
        if not isinstance(result, DicomImage):
            raise SystemExit(f"{path}: {result}")


def measure(paths: list[Path], args: argparse.Namespace) -> dict[str, Timing]:
    """Best round of each method; the methods take turns within a round, so that a change in
    the machine's load hits them alike."""
    reference = read_dicom(paths[0]).pixels
    runs: dict[str, Callable[[], None]] = {"pydicom": lambda: decode_with_pydicom(paths)}
    decoders = []
    for device in ("cpu", "mixed") if args.device == "mixed" else ("cpu",):
        decoder = DicomDecoder(device, batch_size=args.batch_size, num_threads=args.threads)
        # Warm-up (not timed) and a check that DALI's pixels are pydicom's.
        ((_, first),) = list(decoder.decode(paths[:1]))
        if not (isinstance(first, DicomImage) and np.array_equal(first.pixels, reference)):
            raise SystemExit(f"DALI {device} and pydicom disagree on {paths[0]}")
        runs[f"DALI {device}"] = functools.partial(decode_with, decoder, paths)
        decoders.append(decoder)
    rounds = [{name: timed(run) for name, run in runs.items()} for _ in range(args.repeat)]
    for decoder in decoders:
        if decoder.stats.dali != 1 + args.repeat * len(paths):
            raise SystemExit(f"DALI {decoder.device} did not decode every file: {decoder.stats}")
        decoder.close()
    return {name: min((r[name] for r in rounds), key=lambda t: t.wall_s) for name in runs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["3328x2560", "2048x1024"])
    parser.add_argument("--n", type=int, default=16, help="images per size")
    parser.add_argument("--device", choices=["cpu", "mixed"], default="cpu")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="DALI threads")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds; the best is kept")
    parser.add_argument(
        "--data-dir", type=Path, help="keep the generated files here and reuse them next time"
    )
    args = parser.parse_args(argv)

    rows = []
    for size in args.sizes:
        height, width = (int(v) for v in size.lower().split("x"))
        with tempfile.TemporaryDirectory(prefix="decode-bench-") as folder:
            root = Path(folder) if args.data_dir is None else args.data_dir / f"{size}-n{args.n}"
            started = time.perf_counter()
            paths = write_mammograms(root, args.n, height, width)
            megabytes = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
            print(
                f"{size}: {len(paths)} files ({megabytes:.1f} MB each) ready in "
                f"{time.perf_counter() - started:.0f} s under {root}",
                file=sys.stderr,
            )
            rows.append((size, len(paths), measure(paths, args)))

    methods = list(rows[0][2])
    print(
        f"\nCPUs available: {len(os.sched_getaffinity(0))}; DALI batch size {args.batch_size}, "
        f"{args.threads} threads; best of {args.repeat} rounds\n"
    )
    header = ["image size", "n"]
    for method in methods:
        header += [f"{method} img/s", f"{method} CPU s/img", f"{method}: others' cores"]
    header += [f"{m} / pydicom" for m in methods[1:]]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for size, n, timings in rows:
        cells = [size, str(n)]
        for method in methods:
            timing = timings[method]
            cells += [
                f"{n / timing.wall_s:.2f}",
                f"{timing.cpu_s / n:.3f}",
                f"{timing.others_cores:.1f}",
            ]
        cells += [f"{timings['pydicom'].wall_s / timings[m].wall_s:.2f}x" for m in methods[1:]]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
