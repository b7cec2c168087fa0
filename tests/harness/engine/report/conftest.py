"""Real runs for the report tests, made once per session through the real runner and MLflow store.

The test solutions of tests/harness/fake_solutions.py are registered the way tests/conftest.py
does it (a dist-info folder on sys.path), but by a session fixture, since each run costs a
process start-up of a few seconds.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.api import Budget
from harness.engine.budgets import BUDGETS
from harness.engine.datasets import synth_config, synthesize
from harness.engine.record import RunRecord
from harness.engine.registry import load_task
from harness.engine.report import ReportFiles, build_report

FAKE_SOLUTIONS = Path(__file__).parents[2] / "fake_solutions.py"
BOOTSTRAP = 200
"""Resamples of the runs' CIs; the report uses the same number, so single-run CIs match."""


@dataclass(frozen=True)
class ReportRuns:
    results: Path
    records: dict[str, RunRecord]
    """By a short name: low, high0, high1, twin, crash, timeout, gone."""
    bootstrap: int = BOOTSTRAP
    """Resamples behind the runs' own CIs."""

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.results / 'mlflow.db'}"


def _register(site: Path) -> None:
    dist = site / "harness_report_test_solutions-0.0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: harness-report-test-solutions\nVersion: 0.0.1\n"
    )
    classes = {
        "constant": "ConstantSolution",
        "reporting": "ReportingSolution",
        "crashing": "CrashingSolution",
        "sleepy": "SleepySolution",
    }
    lines = ["[harness.solutions]"]
    lines += [f"rsna-breast/{name} = fake_solutions:{cls}" for name, cls in classes.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    shutil.copy(FAKE_SOLUTIONS, site / FAKE_SOLUTIONS.name)


@pytest.fixture(scope="session")
def report_runs(
    tmp_path_factory: pytest.TempPathFactory,
    make_budget: Callable[..., Budget],
    run_breast: Callable[..., RunRecord],
) -> ReportRuns:
    """Seven runs on rsna-breast.

    Budget smoke, one dataset: constant value=0.3 (seed 0), constant value=0.7 (seeds 0 and 1),
    reporting value=0.7 (the same predictions as constant 0.7: a tie), a crash and a timeout.
    Budget tiny, on a dataset deleted after its run: one constant run.
    The test plug-ins are registered only while the runs are made: the report itself needs
    none, and other tests must not see them.
    """
    base = tmp_path_factory.mktemp("report")
    task = load_task("rsna-breast")
    # 40 patients: 8 in the holdout, 4 of them positive, so a clear difference is significant.
    config = synth_config(task, {"n_patients": 40, "height": 48, "width": 40, "prevalence": 0.5})
    root = synthesize(task, base / "data", config, seed=0)
    gone = base / "gone"
    shutil.copytree(root, gone)
    results = base / "results"
    with pytest.MonkeyPatch.context() as patch:
        site = base / "site"
        _register(site)
        patch.syspath_prepend(str(site))

        def run(data: Path, budget: Budget, *args: str) -> RunRecord:
            return run_breast(results, data, f"bootstrap={BOOTSTRAP}", *args, budget=budget)

        smoke = BUDGETS["smoke"]
        records = {
            "low": run(root, smoke, "solution=constant", "solution.value=0.3"),
            "high0": run(root, smoke, "solution=constant", "solution.value=0.7"),
            "high1": run(root, smoke, "solution=constant", "solution.value=0.7", "seed=1"),
            "twin": run(root, smoke, "solution=reporting", "solution.value=0.7"),
            "crash": run(root, smoke, "solution=crashing"),
            "gone": run(gone, make_budget("tiny"), "solution=constant"),
        }
        # The same budget name with a 2 s fit limit, so the sleepy run times out quickly.
        short_smoke = dataclasses.replace(smoke, fit_s=2)
        records["timeout"] = run(root, short_smoke, "solution=sleepy", "solution.sleep_s=120")
    shutil.rmtree(gone)
    return ReportRuns(results, records)


@pytest.fixture(scope="session")
def report_files(report_runs: ReportRuns, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    """The report over ``report_runs``, built once."""
    out = tmp_path_factory.mktemp("leaderboard")
    return build_report(report_runs.tracking_uri, out, bootstrap=report_runs.bootstrap)
