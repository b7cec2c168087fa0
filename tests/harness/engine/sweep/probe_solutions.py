"""A solution that reports where it ran, to test GPU pinning and parallelism of sweeps."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.api import DataView, RunContext, Solution


@dataclass
class ProbeOptions:
    sleep_s: float = 0.0
    claims: str = ""
    """A folder where fit claims its GPUs with an exclusive file: a second claim fails the run."""
    rendezvous: int = 0
    """With claims: wait (up to 50 s) until this many GPU runs are in fit at once; the fact
    ``met`` says whether they were."""


class ProbeSolution(Solution[ProbeOptions]):
    name = "probe"
    version = "0.1"
    tasks = ("rsna-breast",)

    def fit(self, train: DataView, ctx: RunContext) -> None:
        devices = os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>")
        ctx.record_fact("cuda_visible_devices", devices)
        ctx.record_fact("fit_started", time.time())
        claimed = self.config.claims and devices not in ("", "<unset>")
        claim = Path(self.config.claims) / f"gpu-{devices}" if claimed else None
        if claim is not None:
            claim.touch(exist_ok=False)
            (Path(self.config.claims) / f"started-{devices}").touch()
            ctx.record_fact("met", self._meet(Path(self.config.claims)))
        time.sleep(self.config.sleep_s)
        if claim is not None:
            claim.unlink()
        ctx.record_fact("fit_ended", time.time())

    def _meet(self, claims: Path) -> bool:
        deadline = time.monotonic() + 50
        while len(list(claims.glob("started-*"))) < self.config.rendezvous:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        ids = sorted(test.frame["prediction_id"].unique())
        return pd.DataFrame({"prediction_id": ids, "cancer": 0.5})
