"""The scale benchmark runs end to end at a tiny fraction (part of the default run, as CI's
check that it still works; it asserts nothing about time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

SCRIPT = Path(__file__).with_name("scale_table.py")
STEPS = (
    "write the layout",
    "old header pass",
    "first load (index built)",
    "second load (index reused)",
    "run start-up",
    "run, no-op solution (total)",
    "data check decode=false",
    "data check decode=true sample=500",
    "answers file",
    "score bootstrap=1000",
    "report of 2 runs",
)


def test_scale_table_at_a_tiny_fraction(tmp_path: Path) -> None:
    options = ["--fractions", "0.0001", "0.0002", "--runs", "2", "--work", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *options],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "| step | 75 slices | 151 slices | growth |"
    assert [line.split(" | ")[0].removeprefix("| ") for line in lines[2:13]] == list(STEPS)
    assert any(line.startswith("| speed-up |") for line in lines)
    root = tmp_path / "rsna-ich-151"
    labels = pd.read_csv(root / "stage_2_train.csv")
    assert len(labels) == 6 * 151 == 6 * len(list((root / "stage_2_train").iterdir()))
    assert len(list((tmp_path / "results-151" / "runs").iterdir())) == 2
    assert list((tmp_path / "index-151").glob("rsna-ich-*/rsna-ich-headers-v1.parquet"))
