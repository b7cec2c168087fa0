"""`harness list`: read from entry-point metadata, nothing imported, names never cut.

The command runs as a real subprocess (the installed ``harness`` script), so that the terminal
width comes from ``COLUMNS`` and ``sys.modules`` starts empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.engine.budgets import BUDGETS
from harness.engine.registry import describe_plugins, solution_names, task_names

HARNESS = str(Path(sys.executable).with_name("harness"))
BROKEN = {
    "rsna-breast/not-importable": "module_that_does_not_exist:Thing",
    "rsna-breast/a-solution-name-longer-than-forty-columns-wide": "also_missing:Thing",
}


def _harness(*args: str, columns: int = 80, path: Path | None = None) -> str:
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [HARNESS, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def broken_site(plugin_site) -> Path:
    return plugin_site("harness-broken-list", {"harness.solutions": BROKEN}, [])


def test_every_name_is_printed_whole_in_a_40_column_terminal(broken_site: Path) -> None:
    out = _harness("list", columns=40, path=broken_site)

    for name in [*task_names(), *solution_names(), *BROKEN, *BUDGETS]:
        assert name in out, f"{name} cut or missing in:\n{out}"
    for target in BROKEN.values():
        assert target in out


def test_json_is_the_only_output_and_lists_tasks_solutions_and_budgets() -> None:
    listing = json.loads(_harness("list", "--json"))

    assert [t["name"] for t in listing["tasks"]] == task_names()
    assert [s["name"] for s in listing["solutions"]] == solution_names()
    assert [b["name"] for b in listing["budgets"]] == list(BUDGETS)
    breast = next(t for t in listing["tasks"] if t["name"] == "rsna-breast")
    assert breast["target"] == "tasks.rsna_breast:RsnaBreastTask"
    assert breast["package"] == "medbench-harness" and breast["package_version"]
    assert breast["available"] is None  # metadata only: not imported
    assert {"prepare_s", "fit_s", "predict_s", "gpu_memory_gb"} <= set(listing["budgets"][0])


def test_check_imports_each_plugin_and_reports_the_broken_one(broken_site: Path) -> None:
    listing = json.loads(_harness("list", "--check", "--json", path=broken_site))

    solutions = {s["name"]: s for s in listing["solutions"]}
    assert solutions["rsna-breast/baseline"]["available"] is True
    assert solutions["rsna-breast/baseline"]["version"]
    broken = solutions["rsna-breast/not-importable"]
    assert broken["available"] is False
    assert "module_that_does_not_exist" in broken["reason"]


def test_listing_imports_no_plugin_nor_pandas_or_torch(broken_site: Path) -> None:
    probe = (
        "import sys\n"
        "from harness.cli import app\n"
        "try:\n"
        "    app(['list'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('tasks', 'solutions', 'torch', 'pandas', 'numpy', 'module_that_does_not_exist')\n"
        "print('IMPORTED', sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(broken_site)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300
    )

    assert done.returncode == 0, done.stderr
    assert "rsna-breast/not-importable" in done.stdout
    assert "IMPORTED []" in done.stdout


def test_metadata_alone_flags_a_clash_without_importing(plugin_site) -> None:
    plugin_site(
        "harness-impostor",
        {"harness.solutions": {"rsna-breast/baseline": "impostor_module:Baseline"}},
        [],
    )

    infos = {info.name: info for info in describe_plugins(load=False)}

    clash = infos["rsna-breast/baseline"]
    assert clash.available is False and "harness-impostor" in clash.reason
    assert infos["rsna-breast/ensemble"].available is None
