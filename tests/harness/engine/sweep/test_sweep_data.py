"""A sweep resolves each distinct dataset once, before any run starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from harness.engine.datasets import SYNTH_MANIFEST
from harness.engine.record import RECORD_FILE, RunRecord

pytestmark = pytest.mark.usefixtures("sweep_solutions")

SYNTH = ("data.synth.n_patients=16", "data.synth.height=48", "data.synth.width=40")
CONSTANT_QUICK = ("task=rsna-breast", "solution=constant", "budget=quick")


def test_two_seeds_on_an_empty_results_folder_share_one_generated_dataset(
    tmp_path: Path, sweep_command: Callable[..., Result]
) -> None:
    results = tmp_path / "results"
    result = sweep_command(
        *CONSTANT_QUICK,
        "seed=11,12",
        "bootstrap=0",
        "data.synth.prevalence=0.5",
        *SYNTH,
        f"results_dir={results}",
        "cpus=2",
    )

    assert result.exit_code == 0, result.output
    assert "preparing data: 1 dataset(s) for 2 run(s)" in result.output
    records = [RunRecord.load(p) for p in results.glob(f"runs/*/{RECORD_FILE}")]
    assert sorted((r.seed, r.status) for r in records) == [(11, "ok"), (12, "ok")]
    datasets = [p for p in (results / "data" / "rsna-breast").iterdir() if p.is_dir()]
    assert len(datasets) == 1 and (datasets[0] / SYNTH_MANIFEST).is_file()


def test_a_missing_data_root_stops_the_sweep_before_any_run(
    tmp_path: Path, sweep_command: Callable[..., Result]
) -> None:
    results = tmp_path / "results"
    result = sweep_command(
        *CONSTANT_QUICK,
        "seed=0,1",
        f"data.root={tmp_path / 'nowhere'}",
        f"results_dir={results}",
    )

    assert result.exit_code == 2, result.output
    assert "is not a folder" in result.output
    assert not (results / "runs").exists()
