"""Solutions that break the contract on purpose, to test that each check catches it.

Each is the runner tests' constant solution (tests/harness/fake_solutions.py, registered beside
this module) with one fault added.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from fake_solutions import ConstantSolution, NetworkSolution, UnsavedSolution

from harness.api import DataView, RunContext


class SloppySolution(ConstantSolution):
    """Unseeded, writes outside its run folder and leaves a process running."""

    name = "sloppy"

    def fit(self, train: DataView, ctx: RunContext) -> None:
        Path("model.pt").write_text("weights")  # the working directory
        tempfile.mkstemp(suffix=".npy")  # TMPDIR, never removed
        (ctx.run_dir.parent / "notes.txt").write_text("beside the run folder")
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        submission = super().predict(test, ctx)
        return submission.assign(cancer=np.random.default_rng().random(len(submission)))


class PeekerSolution(ConstantSolution):
    """Reads the Kaggle label table from the data root instead of its training view."""

    name = "peeker"

    def prepare(self, train: DataView, ctx: RunContext) -> None:
        root = Path(train.frame["path"].iloc[0]).parents[2]  # <root>/train_images/<patient>/
        self.labels = pd.read_csv(root / "train.csv")


class QuitterSolution(ConstantSolution):
    """Gives up fitting when the budget is short, then cannot predict."""

    name = "quitter"

    def fit(self, train: DataView, ctx: RunContext) -> None:
        self.fitted = ctx.budget.remaining() > 30

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        if not self.fitted:
            raise RuntimeError("no model: fit was cut short")
        return super().predict(test, ctx)


class MisdeclaredSolution(ConstantSolution):
    """Presets for a budget that does not exist and with an option that does not exist."""

    name = "misdeclared"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "smok": {"value": 0.1},
        "cpu-default": {"valu": 0.2},
    }


class ForgetfulSolution(UnsavedSolution):
    """Keeps what it learnt in memory only: its save writes nothing."""

    name = "forgetful"


class DownloaderSolution(NetworkSolution):
    """Looks a host up at predict time, as a download of weights would."""

    name = "downloader"
