"""executor=local queues runs by the cores, GPUs and memory they need: never more at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from typer.testing import Result

from harness.api import Budget
from harness.engine.record import RECORD_FILE, RunRecord
from harness.engine.sweep.local import _Pool
from harness.engine.sweep.plan import PlannedRun, plan_sweep

pytestmark = pytest.mark.usefixtures("sweep_solutions")


def _plans(tmp_path: Path, budget: Budget, runs: int = 3) -> list[PlannedRun]:
    return plan_sweep(
        [
            "task=rsna-breast",
            "solution=constant",
            f"budget={budget.name}",
            f"seed={','.join(map(str, range(runs)))}",
            f"results_dir={tmp_path / 'results'}",
        ],
        {budget.name: budget},
    )


def test_a_run_holds_its_budgets_cores_until_it_gives_them_back(
    tmp_path: Path, test_budgets: Mapping[str, Budget]
) -> None:
    first, second, third = _plans(tmp_path, test_budgets["smoke"])  # 2 cores each
    pool = _Pool(gpus=[], cpus=4)
    for plan in (first, second):
        assert pool.waiting_for(plan, available_gb=64) == ""
        pool.take(plan)
    assert pool.waiting_for(third, available_gb=64) == "waiting for cores (2 of 4)"
    pool.give_back(first, [])
    assert pool.waiting_for(third, available_gb=64) == ""


def test_a_budget_asking_more_cores_than_there_are_runs_alone(
    tmp_path: Path, test_budgets: Mapping[str, Budget]
) -> None:
    first, second, _ = _plans(tmp_path, test_budgets["smoke"])
    pool = _Pool(gpus=[], cpus=1)
    assert pool.cpu_need(first) == 1
    pool.take(first)
    assert pool.waiting_for(second, available_gb=64) == "waiting for cores (1 of 1)"


def test_gpus_max_parallel_and_memory_each_hold_a_run_back(
    tmp_path: Path, test_budgets: Mapping[str, Budget]
) -> None:
    gpu_run, other_gpu_run, _ = _plans(tmp_path, test_budgets["one-gpu"])
    pool = _Pool(gpus=[3], cpus=8, min_free_gb=2)
    assert pool.take(gpu_run) == [3]
    assert pool.waiting_for(other_gpu_run, 64) == "waiting for 1 free GPU(s)"
    cpu_run = _plans(tmp_path, test_budgets["quick"])[0]
    assert pool.waiting_for(cpu_run, 64) == ""
    assert pool.waiting_for(cpu_run, 1.5) == (
        "waiting for memory (1.5 GB available, min_free_gb=2)"
    )
    pool.give_back(gpu_run, [3])
    assert pool.waiting_for(cpu_run, 1.5) == ""  # nothing runs: low memory holds nobody back
    limited = _Pool(gpus=[], cpus=8, max_parallel=1)
    limited.take(cpu_run)
    assert limited.waiting_for(cpu_run, 64) == "waiting: max_parallel=1 runs are running"


def _most_at_once(records: list[RunRecord]) -> int:
    """The most fits that overlapped, from the times the runs' own processes wrote."""
    events = sorted(
        [(r.extra["fit_started"], 1) for r in records]
        + [(r.extra["fit_ended"], -1) for r in records]
    )
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


def _sweep(
    sweep: Callable[..., Result], tmp_path: Path, root: Path, *extra: str
) -> list[RunRecord]:
    results = tmp_path / "results"
    result = sweep(
        "task=rsna-breast",
        "solution=probe",
        "budget=quick",
        "bootstrap=0",
        f"data.root={root}",
        f"results_dir={results}",
        *extra,
    )
    assert result.exit_code == 0, result.output
    records = [RunRecord.load(p) for p in results.glob(f"runs/*/{RECORD_FILE}")]
    assert all(r.status == "ok" for r in records)
    return records


def test_never_more_runs_at_once_than_the_cores_allow(
    tmp_path: Path, tiny_breast_root: Path, sweep_command: Callable[..., Result]
) -> None:
    records = _sweep(
        sweep_command, tmp_path, tiny_breast_root, "seed=0,1,2,3", "solution.sleep_s=2", "cpus=2"
    )
    assert len(records) == 4
    assert _most_at_once(records) <= 2  # quick asks for 1 core: two at a time on 2


def test_short_of_memory_runs_start_one_at_a_time(
    tmp_path: Path, tiny_breast_root: Path, sweep_command: Callable[..., Result]
) -> None:
    records = _sweep(
        sweep_command,
        tmp_path,
        tiny_breast_root,
        "seed=0,1",
        "solution.sleep_s=1",
        "cpus=4",
        "min_free_gb=1e6",
    )
    assert len(records) == 2
    assert _most_at_once(records) == 1
