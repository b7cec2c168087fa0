"""``harness sweep`` with the local executor: real runs, real child processes, real MLflow."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import Result

from harness.api import Budget
from harness.engine import gpu
from harness.engine.record import RECORD_FILE, RunRecord
from harness.engine.sweep.plan import plan_sweep

pytestmark = pytest.mark.usefixtures("sweep_solutions")


def _args(tmp_path: Path, root: Path, *extra: str) -> list[str]:
    return [
        "task=rsna-breast",
        f"data.root={root}",
        f"results_dir={tmp_path / 'results'}",
        "bootstrap=0",
        *extra,
    ]


def _records(tmp_path: Path) -> list[RunRecord]:
    return [RunRecord.load(p) for p in sorted((tmp_path / "results").glob(f"runs/*/{RECORD_FILE}"))]


def _mlflow_runs(tmp_path: Path):
    client = MlflowClient(f"sqlite:///{tmp_path / 'results' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("rsna-breast")
    return client.search_runs([experiment.experiment_id])


def test_failures_are_isolated_and_a_second_sweep_skips_what_finished(
    tmp_path: Path,
    tiny_breast_root: Path,
    sweep_command: Callable[..., Result],
    test_budgets: Mapping[str, Budget],
) -> None:
    args = _args(
        tmp_path,
        tiny_breast_root,
        "solution=constant,crashing,sleepy",
        "budget=quick",
        "solution.sleep_s=60",
        "cpus=3",
    )
    result = sweep_command(*args)

    assert result.exit_code == 1, result.output
    by_solution = {r.solution: r for r in _records(tmp_path)}
    assert by_solution["constant"].status == "ok"
    assert by_solution["crashing"].status == "failed"
    assert by_solution["sleepy"].status == "timeout"
    assert "3 run(s) executed, 1 ok, 1 failed, 1 timeout" in result.output
    assert "ValueError: boom in fit" in result.output
    assert "phase fit exceeded its 3 s limit" in result.output
    # the record and MLflow carry the hash the plan computed
    plans = {p.label["solution"]: p.config_hash for p in plan_sweep(args[:-1], test_budgets)}
    assert {r.solution: r.config_hash for r in _records(tmp_path)} == plans
    tagged = {
        r.data.tags["solution"]: r.data.tags["harness.config_hash"] for r in _mlflow_runs(tmp_path)
    }
    assert tagged == plans

    again = sweep_command(*args, "--dry-run")
    assert again.exit_code == 0, again.output
    assert "3 runs (2 queued, 1 done before)" in again.output
    assert len(_records(tmp_path)) == 3

    one_constant = _args(
        tmp_path, tiny_breast_root, "solution=constant", "budget=quick", "solution.sleep_s=60"
    )
    skipped = sweep_command(*one_constant)
    assert skipped.exit_code == 0, skipped.output
    assert "0 run(s) executed, 1 done before" in skipped.output
    assert len(_mlflow_runs(tmp_path)) == 3

    forced = sweep_command(*one_constant, "--force")
    assert forced.exit_code == 0, forced.output
    ok_runs = [r for r in _mlflow_runs(tmp_path) if r.data.tags["status"] == "ok"]
    assert len(ok_runs) == 2
    assert len({r.data.tags["harness.config_hash"] for r in ok_runs}) == 1


@pytest.mark.skipif(gpu.nvml_available(), reason="fake device ids would reach NVML")
def test_runs_share_gpus_one_each_and_cpu_runs_see_none(
    tmp_path: Path,
    tiny_breast_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    sweep_command: Callable[..., Result],
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    claims = tmp_path / "claims"
    claims.mkdir()
    args = _args(
        tmp_path,
        tiny_breast_root,
        "solution=probe",
        "budget=one-gpu,quick",
        "seed=0,1",
        "solution.sleep_s=2",
        f"solution.claims={claims}",
        "solution.rendezvous=2",
        "cpus=8",
    )
    result = sweep_command(*args)

    assert result.exit_code == 0, result.output
    records = _records(tmp_path)
    pinned = [r for r in records if r.budget_name == "one-gpu"]
    on_cpu = [r for r in records if r.budget_name == "quick"]
    assert len(pinned) == 2 and len(on_cpu) == 2
    assert {r.extra["cuda_visible_devices"] for r in pinned} == {"3", "5"}
    assert {r.extra["cuda_visible_devices"] for r in on_cpu} == {""}
    # the GPU runs were in fit together (two GPUs, two at once: both met at the rendezvous)
    # and never shared a device (claims)
    assert [r.extra["met"] for r in pinned] == [True, True]
