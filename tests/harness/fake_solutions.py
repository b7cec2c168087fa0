"""Solutions that misbehave on purpose, to test the runner (registered by conftest)."""

from __future__ import annotations

import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import DataView, RunContext, Solution
from tasks.rsna_ich.layout import SUBTYPES
from tasks.rsna_ich.submission import submission_frame


@dataclass
class Options:
    value: float = 0.5
    sleep_s: float = 60.0


class _Base(Solution):
    version = "0.1"
    tasks = ("rsna-breast",)
    config_class = Options

    def fit(self, train: DataView, ctx: RunContext) -> None:
        assert train.has_labels

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        ids = sorted(test.frame["prediction_id"].unique())
        return pd.DataFrame({"prediction_id": ids, "cancer": self.config.value})


class ConstantSolution(_Base):
    name = "constant"


class IchConstantSolution(_Base):
    """rsna-ich's no-op: ``value`` for every subtype of every slice."""

    name = "constant"
    tasks = ("rsna-ich",)

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        ids = test.frame["image_id"]
        return submission_frame(ids, np.full((len(ids), len(SUBTYPES)), self.config.value))


class SleepySolution(_Base):
    name = "sleepy"

    def fit(self, train: DataView, ctx: RunContext) -> None:
        time.sleep(self.config.sleep_s)


class PacedSolution(_Base):
    """Trains for ``sleep_s`` in ten epochs, reporting progress and a metric after each."""

    name = "paced"

    def fit(self, train: DataView, ctx: RunContext) -> None:
        epochs = 10
        for epoch in range(epochs):
            time.sleep(self.config.sleep_s / epochs)
            ctx.report({"train_loss": 1.0 / (epoch + 1)}, step=epoch)
            ctx.progress(epoch + 1, epochs, unit="epoch", items=(epoch + 1) * len(train))


class CrashingSolution(_Base):
    name = "crashing"

    def fit(self, train: DataView, ctx: RunContext) -> None:
        raise ValueError("boom in fit")


class WrongIdsSolution(_Base):
    name = "wrong-ids"

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        return pd.DataFrame({"prediction_id": ["nobody_L"], "cancer": [0.5]})


class ReportingSolution(_Base):
    name = "reporting"

    def fit(self, train: DataView, ctx: RunContext) -> None:
        for epoch in range(3):
            ctx.report({"val_pf1": 0.1 * epoch}, step=epoch)
        ctx.record_fact("threshold", 0.25)
        (ctx.run_dir / "labels_seen.txt").write_text(",".join(train.frame.columns))

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        (ctx.run_dir / "test_columns.txt").write_text(",".join(test.frame.columns))
        return super().predict(test, ctx)


class TorchInFitSolution(_Base):
    """Imports torch only inside fit, and records how the run process had configured it."""

    name = "torch-in-fit"

    def fit(self, train: DataView, ctx: RunContext) -> None:
        imported_before = "torch" in sys.modules
        import torch

        ctx.record_fact("torch_imported_before_fit", int(imported_before))
        ctx.record_fact("initial_seed", torch.initial_seed())
        ctx.record_fact("threads", torch.get_num_threads())
        ctx.record_fact("draw", torch.rand(1).item())


@dataclass
class StatefulOptions:
    save_sleep_s: float = 0.0
    load_sleep_s: float = 0.0
    predict_sleep_s: float = 0.0


class StatefulSolution(_Base):
    """Learns the prevalence in fit and predicts it; records which process did each."""

    name = "stateful"
    config_class = StatefulOptions

    def __init__(self, config: StatefulOptions) -> None:
        super().__init__(config)
        self.prevalence: float | None = None
        self.fit_pid = 0

    def fit(self, train: DataView, ctx: RunContext) -> None:
        self.prevalence = float(train.frame["cancer"].mean())
        self.fit_pid = os.getpid()

    def save(self, folder: Path, ctx: RunContext) -> None:
        time.sleep(self.config.save_sleep_s)
        super().save(folder, ctx)

    def load(self, folder: Path, ctx: RunContext) -> None:
        time.sleep(self.config.load_sleep_s)
        super().load(folder, ctx)

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        if self.prevalence is None:
            raise RuntimeError("predict before fit: no prevalence learnt")
        ctx.record_fact("fit_pid", self.fit_pid)
        ctx.record_fact("predict_pid", os.getpid())
        time.sleep(self.config.predict_sleep_s)
        ids = sorted(test.frame["prediction_id"].unique())
        return pd.DataFrame({"prediction_id": ids, "cancer": self.prevalence})


class UnsavedSolution(StatefulSolution):
    """Keeps its state in memory only: predict in a fresh process finds nothing."""

    name = "unsaved"

    def save(self, folder: Path, ctx: RunContext) -> None:
        pass

    def load(self, folder: Path, ctx: RunContext) -> None:
        pass


@dataclass
class NetworkOptions:
    phase: str = "predict"
    """The phase that reaches out."""
    host: str = "example.com"
    port: int = 0
    """0: look ``host`` up (a download starts so); else connect to ``host:port``."""


class NetworkSolution(_Base):
    """Reaches for the network in one phase; records whether it got there."""

    name = "network"
    config_class = NetworkOptions

    def _reach(self, ctx: RunContext) -> None:
        cfg = self.config
        try:
            if cfg.port:
                with socket.socket() as sock:
                    sock.settimeout(5)
                    sock.connect((cfg.host, cfg.port))
            else:
                socket.getaddrinfo(cfg.host, 80)
            ctx.record_fact("network", "reached")
        except OSError as exc:  # no network here: still not blocked by the harness
            ctx.record_fact("network", f"unreachable: {exc}")

    def fit(self, train: DataView, ctx: RunContext) -> None:
        if self.config.phase == "fit":
            self._reach(ctx)

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        if self.config.phase == "predict":
            self._reach(ctx)
        ids = sorted(test.frame["prediction_id"].unique())
        return pd.DataFrame({"prediction_id": ids, "cancer": 0.5})
