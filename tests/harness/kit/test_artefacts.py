"""The default Solution.save/load: the instance's attributes, through torch.save or pickle."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.preprocessing import StandardScaler

from harness.api import DataView, PhaseBudget, RunContext, Solution
from harness.engine.budgets import BUDGETS
from harness.kit.artefacts import PICKLE_FILE, TORCH_FILE


class _Config:
    size = 3


class _Fitted(Solution[_Config]):
    name = "fitted"
    version = "0"
    tasks = ()

    def __init__(self, config: _Config) -> None:
        super().__init__(config)
        self.net: torch.nn.Module | None = None
        self.scaler: StandardScaler | None = None
        self.prior = np.zeros(config.size)
        self.threshold = 0.5

    def fit(self, train: DataView, ctx: RunContext) -> None:
        torch.manual_seed(0)
        self.net = torch.nn.Linear(self.config.size, 1)
        self.scaler = StandardScaler().fit(np.arange(12.0).reshape(4, 3))
        self.prior = np.array([0.1, 0.2, 0.3])
        self.threshold = 0.25

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        raise NotImplementedError


def _ctx(tmp_path: Path) -> RunContext:
    return RunContext(
        run_dir=tmp_path,
        cache_dir=tmp_path,
        budget=PhaseBudget(BUDGETS["smoke"], "predict"),
        seed=0,
        device="cpu",
        log=logging.getLogger("test"),
    )


def _round_trip(tmp_path: Path) -> tuple[_Fitted, _Fitted]:
    ctx = _ctx(tmp_path)
    fitted = _Fitted(_Config())
    fitted.fit(DataView("none", None, has_labels=True), ctx)  # type: ignore[arg-type]
    fitted.save(tmp_path / "artifacts", ctx)
    fresh = _Fitted(_Config())
    fresh.load(tmp_path / "artifacts", ctx)
    return fitted, fresh


def test_every_attribute_but_the_config_survives_torch_save(tmp_path: Path) -> None:
    fitted, fresh = _round_trip(tmp_path)

    assert (tmp_path / "artifacts" / TORCH_FILE).is_file()
    assert fresh.net is not None and fitted.net is not None
    x = torch.ones(2, 3)
    assert torch.equal(fresh.net(x), fitted.net(x))
    assert fresh.scaler is not None
    np.testing.assert_array_equal(fresh.scaler.mean_, [4.5, 5.5, 6.5])
    np.testing.assert_array_equal(fresh.prior, fitted.prior)
    assert fresh.threshold == 0.25
    assert fresh.config is not fitted.config, "the config is the fresh instance's own"


_WITHOUT_TORCH = """
import sys
from pathlib import Path
import numpy as np
from harness.kit.artefacts import load_attributes, save_attributes

class State:
    def __init__(self):
        self.config = "rebuilt"
        self.prior = None

fitted = State()
fitted.prior = np.array([0.1, 0.2])
path = save_attributes(fitted, Path(sys.argv[1]))
fresh = State()
load_attributes(fresh, Path(sys.argv[1]), "cpu")
print(path.name, fresh.prior.tolist(), "torch" in sys.modules)
"""


def test_a_solution_that_never_imported_torch_is_pickled(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TORCH, str(tmp_path / "artifacts")],
        capture_output=True,
        text=True,
        check=True,
    )

    assert done.stdout.split() == [PICKLE_FILE, "[0.1,", "0.2]", "False"]


def test_loading_where_nothing_was_saved_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no saved solution in .*empty.*save\(\)"):
        _Fitted(_Config()).load(tmp_path / "empty", _ctx(tmp_path))
