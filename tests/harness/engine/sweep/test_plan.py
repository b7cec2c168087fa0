"""Sweep plans: validation before anything runs, and config hashes that identify a run."""

from __future__ import annotations

from importlib.metadata import EntryPoints
from pathlib import Path

import pytest

from harness.api import HarnessError, Solution
from harness.engine import registry
from harness.engine.config import ConfigError
from harness.engine.sweep import plan as plan_module
from harness.engine.sweep.plan import plan_sweep

pytestmark = pytest.mark.usefixtures("sweep_solutions")


def _plan(tmp_path: Path, *args: str):
    return plan_sweep(["task=rsna-breast", f"results_dir={tmp_path / 'results'}", *args])


def test_each_grid_point_is_resolved_with_its_label_and_shared_store(tmp_path: Path) -> None:
    plans = _plan(tmp_path, "solution=constant,sleepy", "seed=0,1", "budget=smoke")

    assert [p.label for p in plans] == [
        {"solution": "constant", "seed": "0"},
        {"solution": "constant", "seed": "1"},
        {"solution": "sleepy", "seed": "0"},
        {"solution": "sleepy", "seed": "1"},
    ]
    assert {p.tracking_uri for p in plans} == {f"sqlite:///{tmp_path / 'results' / 'mlflow.db'}"}
    assert all(Path(p.config.results_dir).is_absolute() for p in plans)
    assert len({p.config_hash for p in plans}) == 4


def test_hash_follows_what_decides_the_result_and_nothing_else(tmp_path: Path) -> None:
    base = _plan(tmp_path, "solution=constant", "budget=smoke")[0].config_hash
    elsewhere = plan_sweep(
        [
            "task=rsna-breast",
            "solution=constant",
            "budget=smoke",
            f"results_dir={tmp_path / 'other'}",
            "tracking_uri=http://127.0.0.1:1",
        ]
    )[0].config_hash
    assert elsewhere == base
    # an option set to its default is the same run; any real change is another one
    assert (
        _plan(tmp_path, "solution=constant", "budget=smoke", "solution.value=0.5")[0].config_hash
        == base
    )
    for change in ("solution.value=0.6", "seed=1", "bootstrap=10", "data.synth_seed=1"):
        assert _plan(tmp_path, "solution=constant", "budget=smoke", change)[0].config_hash != base
    assert _plan(tmp_path, "solution=constant", "budget=cpu-default")[0].config_hash != base


def test_duplicate_points_run_once(tmp_path: Path) -> None:
    plans = _plan(tmp_path, "solution=constant", "solution.value=0.5,0.50,0.6", "budget=smoke")
    assert [p.label["solution.value"] for p in plans] == ["0.5", "0.6"]
    assert [p.index for p in plans] == [0, 1]


def test_a_bad_value_anywhere_in_the_grid_fails_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"solution\.vallue"):
        _plan(tmp_path, "solution=constant", "solution.vallue=1")
    with pytest.raises(HarnessError, match="constnt"):
        _plan(tmp_path, "solution=sleepy,constnt")
    with pytest.raises(HarnessError, match="unknown budget 'smok'"):
        _plan(tmp_path, "solution=constant", "budget=smoke,smok")
    assert not (tmp_path / "results").exists()


def test_plug_ins_are_resolved_once_per_distinct_task_and_solution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[str] = []
    loads: list[tuple[str, str]] = []
    real_scan, real_load = registry.entry_points, plan_module.load_solution

    def scan(group: str) -> EntryPoints:
        scans.append(group)
        return real_scan(group=group)

    def load(task: str, name: str) -> type[Solution]:
        loads.append((task, name))
        return real_load(task, name)

    monkeypatch.setattr(registry, "entry_points", scan)
    monkeypatch.setattr(plan_module, "load_solution", load)
    registry.clear_plugin_cache()

    plans = _plan(
        tmp_path, "solution=constant,sleepy", "seed=0,1,2,3,4", "budget=smoke,cpu-default"
    )

    assert len(plans) == 20
    assert sorted(loads) == [("rsna-breast", "constant"), ("rsna-breast", "sleepy")]
    assert sorted(scans) == ["harness.solutions", "harness.tasks"]  # once per group
