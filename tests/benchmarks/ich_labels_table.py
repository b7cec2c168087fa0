"""Reading rsna-ich's label csv at Kaggle scale: seconds and peak memory of ``read_labels``.

    python tests/benchmarks/ich_labels_table.py [--images 75280 752803]

Writes a ``stage_2_train.csv`` of six rows per image (``ID_<hex>_<subtype>``, 5% positive; the
full stage-2 train set has 752,803 images, 4.5M rows) in a temporary folder, then reads it with
``read_labels`` in a fresh process per size, so that each peak resident set size is that
read's alone (with the interpreter, pandas and pyarrow loaded: about 140 MB).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from tasks.rsna_ich.layout import SUBTYPES

_READ = """
import resource, sys, time
from pathlib import Path
from tasks.rsna_ich.layout import read_labels
started = time.perf_counter()
labels = read_labels(Path(sys.argv[1]))
seconds = time.perf_counter() - started
print(len(labels), seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def write_labels(path: Path, n_images: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    images = np.char.add("ID_", np.char.mod("%09x", rng.choice(2**36, n_images, replace=False)))
    rows = np.char.add(
        np.char.add(np.repeat(images, len(SUBTYPES)), "_"), np.tile(SUBTYPES, n_images)
    )
    labels = (rng.random(len(rows)) < 0.05).astype(np.int8)
    pd.DataFrame({"ID": rows, "Label": labels}).to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs="+", default=[75_280, 752_803])
    args = parser.parse_args()
    print("| images | csv rows | read_labels s | peak RSS MB |")
    print("| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for n_images in args.images:
            path = Path(folder) / f"labels-{n_images}.csv"
            write_labels(path, n_images)
            out = subprocess.run(
                [sys.executable, "-c", _READ, str(path)], capture_output=True, text=True, check=True
            ).stdout.split()
            n, seconds, peak_mb = int(out[0]), float(out[1]), float(out[2])
            print(f"| {n:,} | {n * len(SUBTYPES):,} | {seconds:.1f} | {peak_mb:.0f} |")


if __name__ == "__main__":
    main()
