"""The contract every solution plug-in meets, checked by running it for real.

``harness check solution=<task>/<name>`` and ``tests/harness/contract`` apply it to every
registered solution, built-in or installed from a third-party package. The solution runs
through the runner exactly as ``harness run`` runs it, on its task's tiny synthetic dataset
(``Task.contract_synth``), under the ``smoke`` budget's limits and with its ``contract``
preset (its ``smoke`` preset when it has none). The checks:

- declaration: its presets name known budgets and resolve against its config class;
- completes: two runs with the same seed finish with a submission (the second with the cache
  the first one filled);
- valid submission: the task's validator accepts it;
- deterministic: both submissions are identical (CPU, same seed);
- predicts from saved artefacts: every run predicts as a Kaggle code competition does, in a
  fresh process that has only what fit saved (``Solution.save``/``load``) and the test view,
  with no network (``fresh_predict``, ``offline_predict``);
- within budget: every phase ended inside its limit;
- stops when told: with a 1 s fit limit the run either finishes or is stopped (status
  ``timeout``), and after every run no process it started is still alive;
- no holdout labels: every file of the data root that its two views do not reference (the
  label tables, e.g. rsna-breast's ``train.csv``) is moved out of the root once the runner has
  loaded it and before the run process starts (``harness.contract.labels``), so a solution
  that reads labels from disk fails. The answers never enter its process anyway;
- writes only its run folder: nothing changes in the data root, the results folder (except its
  run folder, its cache folder and the MLflow store), its working directory or its ``TMPDIR``
  (both pointed at empty folders for the run). Writes elsewhere (``~/.cache``) are not seen.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path, PurePath

from harness.api import Budget, HarnessError, Solution, Task
from harness.contract.changes import changes, snapshot
from harness.contract.checks import (
    ContractRun,
    check_completes,
    check_deterministic,
    check_fresh_predict,
    check_labels,
    check_stops,
    check_valid,
    check_within_budget,
    check_writes,
)
from harness.contract.data import ContractData, contract_data
from harness.contract.declaration import BASE_BUDGET, CONTRACT_PRESET, check_declaration
from harness.contract.labels import LabelGuard
from harness.contract.report import CheckResult, ContractReport
from harness.contract.sandbox import sandbox, survivors
from harness.engine.budgets import BUDGETS
from harness.engine.config import DataConfig, RunConfig
from harness.engine.registry import load_solution, load_task
from harness.engine.runner import execute

log = logging.getLogger(__name__)

SEED = 0
TIGHT_FIT_S = 1.0
"""Fit limit of the run that checks that a solution finishes or stops when told."""


def contract_budget(solution_cls: type[Solution]) -> Budget:
    """The smoke limits, named ``contract`` when the solution has a contract preset.

    The runner picks the preset by the budget's name, so the name selects the preset.
    """
    base = BUDGETS[BASE_BUDGET]
    if CONTRACT_PRESET not in solution_cls.presets:
        return base
    return dataclasses.replace(
        base,
        name=CONTRACT_PRESET,
        description="contract checks: the smoke limits with the solution's contract preset",
    )


def assert_contract(task: str, solution: str, workdir: Path | None = None) -> ContractReport:
    """Run the contract; raise AssertionError with the report when a check fails (pytest)."""
    report = run_contract(task, solution, workdir)
    if not report.passed:
        raise AssertionError(report.as_text())
    return report


def run_contract(
    task: str,
    solution: str,
    workdir: Path | None = None,
    progress: Callable[[str], None] = log.info,
) -> ContractReport:
    """Check one registered solution; ``workdir`` (new or empty) receives its data, runs, logs.

    Without a ``workdir`` they go to a temporary folder, removed when every check passes and
    kept (``report.workdir``) for the run logs when one fails. Raises PluginError when the
    plug-in cannot be loaded at all; every other problem is a failed check in the report.
    While the runs go, the process's working directory and ``TMPDIR`` point into ``workdir``:
    run one contract at a time per process.
    """
    started = time.monotonic()
    task_obj = load_task(task)
    solution_cls = load_solution(task, solution)
    owned = workdir is None
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix=f"harness-check-{solution_cls.name}-"))
    workdir = workdir.expanduser().resolve()
    if workdir.exists() and any(workdir.iterdir()):
        raise HarnessError(f"workdir={workdir} is not empty; give a new or empty folder")
    workdir.mkdir(parents=True, exist_ok=True)
    checks = [check_declaration(solution_cls)]
    if solution_cls.requirements.cuda:
        reason = "the solution needs a GPU and the contract runs on CPU"
        checks.append(CheckResult("completes", "skip", reason))
    else:
        runs = _SolutionRuns(task_obj, solution_cls, workdir, progress)
        checks += runs.check(contract_budget(solution_cls))
    elapsed = time.monotonic() - started
    report = ContractReport(task_obj.name, solution_cls.name, checks, elapsed, workdir)
    if owned and report.passed:
        shutil.rmtree(workdir, ignore_errors=True)
    return report


class _SolutionRuns:
    """The runs of one solution's contract, in ``workdir``, and the checks on their outcome."""

    def __init__(
        self,
        task: Task,
        solution_cls: type[Solution],
        workdir: Path,
        progress: Callable[[str], None],
    ) -> None:
        self.task = task
        self.solution_cls = solution_cls
        self.workdir = workdir
        self.progress = progress
        self.results = workdir / "results"
        self.cwd = workdir / "cwd"
        self.tmp = workdir / "tmp"
        self.label_store = workdir / "hidden"

    def check(self, budget: Budget) -> list[CheckResult]:
        """Two runs under ``budget``, then one with a 1 s fit limit if both completed."""
        for folder in (self.cwd, self.tmp, self.label_store):
            folder.mkdir(exist_ok=True)
        data = contract_data(self.task, self.workdir / "data", SEED)
        before = snapshot(self.workdir)
        runs: list[ContractRun] = []
        for attempt in (1, 2):
            runs.append(self._run(data, budget, f"run {attempt}/3"))
            if runs[-1].record.status != "ok":
                break
        stray = changes(before, snapshot(self.workdir), self._allowed(runs))
        tight: ContractRun | None = None
        if all(run.record.status == "ok" for run in runs):
            limited = dataclasses.replace(
                budget, fit_s=TIGHT_FIT_S, description="contract: a 1 s fit limit"
            )
            tight = self._run(data, limited, f"run 3/3 (fit limit {TIGHT_FIT_S:g} s)")
        return [
            check_completes(runs),
            check_valid(runs),
            check_deterministic(runs),
            check_fresh_predict(runs, self.solution_cls.name),
            check_within_budget(runs),
            check_stops(tight, [*runs, *([tight] if tight else [])]),
            check_labels(runs, data.label_files),
            check_writes(stray),
        ]

    def _run(self, data: ContractData, budget: Budget, label: str) -> ContractRun:
        cfg = RunConfig(
            task=self.task.name,
            solution=self.solution_cls.name,
            budget=budget.name,
            seed=SEED,
            results_dir=str(self.results),
            tracking_uri=f"sqlite:///{self.results / 'mlflow.db'}",
            bootstrap=0,
            fresh_predict=True,
            offline_predict=True,
            data=DataConfig(root=str(data.root)),
        )
        token = uuid.uuid4().hex
        self.progress(f"{label}: {self.task.name}/{self.solution_cls.name}, budget {budget.name}")
        guard = LabelGuard(data, self.label_store, lambda line: self.progress(f"{label}: {line}"))
        started = time.monotonic()
        with sandbox(self.cwd, self.tmp, token), guard:
            record = execute(cfg, budget, [], progress=guard)
        elapsed = time.monotonic() - started
        hidden = guard.hidden_before_first_phase is not False
        return ContractRun(record, elapsed, survivors(token), hidden)

    def _allowed(self, runs: list[ContractRun]) -> list[PurePath]:
        results = self.results.relative_to(self.workdir)
        allowed: list[PurePath] = [
            results / "mlflow.db",
            results / "mlflow.db.lock",
            results / "mlartifacts",
            results / "cache" / self.task.name / self.solution_cls.name,
            self.label_store.relative_to(self.workdir),
        ]
        allowed += [Path(run.record.run_dir).relative_to(self.workdir) for run in runs]
        return allowed
