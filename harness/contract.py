"""The contract every solution plug-in meets, checked by running it for real.

``harness check solution=<task>/<name>`` and ``tests/contract`` apply it to every registered
solution, built-in or installed from a third-party package. The solution runs through the
runner exactly as ``harness run`` runs it, on its task's tiny synthetic dataset
(``Task.contract_synth``), under the ``smoke`` budget's limits and with its ``contract``
preset (its ``smoke`` preset when it has none). The checks:

- declaration: its presets name known budgets and resolve against its config class;
- completes: two runs with the same seed finish with a submission (the second with the cache
  the first one filled);
- valid submission: the task's validator accepts it;
- deterministic: both submissions are identical (CPU, same seed);
- within budget: every phase ended inside its limit;
- stops when told: with a 1 s fit limit the run either finishes or is stopped (status
  ``timeout``), and after every run no process it started is still alive;
- no holdout labels: every file of the data root that its two views do not reference (the
  label tables, e.g. rsna-breast's ``train.csv``) is moved out of the root once the runner has
  loaded it and before the run process starts, so a solution that reads labels from disk
  fails. The answers never enter its process anyway;
- writes only its run folder: nothing changes in the data root, the results folder (except its
  run folder, its cache folder and the MLflow store), its working directory or its ``TMPDIR``
  (both pointed at empty folders for the run). Writes elsewhere (``~/.cache``) are not seen.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing import resource_tracker
from pathlib import Path, PurePath
from typing import Literal

import pandas as pd
import psutil
from rich.table import Table

from harness.api import Budget, HarnessError, Solution, Task
from harness.engine.budgets import BUDGETS, get_budget
from harness.engine.config import DataConfig, RunConfig, merge_overrides
from harness.engine.datasets import synth_config, synthesize
from harness.engine.record import LOG_FILE, SUBMISSION_FILE, RunRecord
from harness.engine.registry import PluginError, load_solution, load_task, solution_names
from harness.engine.runner import execute, resolve_solution_config
from harness.engine.suggest import did_you_mean

log = logging.getLogger(__name__)

CONTRACT_PRESET = "contract"
"""Optional preset that sizes a solution for the contract's tiny data (seconds per run)."""
BASE_BUDGET = "smoke"
SEED = 0
TIGHT_FIT_S = 1.0
"""Fit limit of the run that checks that a solution finishes or stops when told."""
SURVIVOR_GRACE_S = 5.0
"""How long a process of an ended run may take to exit before it counts as left behind."""
_MARK = "HARNESS_CONTRACT_RUN"
"""Environment variable that every process of a run inherits: finds those outliving it."""

Outcome = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: Outcome
    detail: str


@dataclass
class ContractReport:
    task: str
    solution: str
    checks: list[CheckResult]
    seconds: float
    workdir: Path
    """Data, results (run folders with their run.log) and the runs' working directories."""

    @property
    def passed(self) -> bool:
        return all(check.outcome != "fail" for check in self.checks)

    def as_text(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        lines = [f"contract of {self.task}/{self.solution} {verdict} in {self.seconds:.0f} s"]
        lines += [f"  {c.outcome.upper():4}  {c.name}: {c.detail}" for c in self.checks]
        if not self.passed:
            lines.append(f"  runs and logs: {self.workdir}")
        return "\n".join(lines)


def report_table(report: ContractReport) -> Table:
    """The report as a rich table: one row per check."""
    table = Table(title=f"contract: {report.task}/{report.solution} ({report.seconds:.0f} s)")
    for column in ("check", "result", "detail"):
        table.add_column(column, overflow="fold")
    style = {"pass": "[green]pass[/]", "fail": "[bold red]FAIL[/]", "skip": "[yellow]skip[/]"}
    for check in report.checks:
        table.add_row(check.name, style[check.outcome], check.detail)
    return table


def resolve_solution(solution: str, task: str | None = None) -> tuple[str, str]:
    """(task, solution) from ``task/solution``, or from a solution name and an optional task.

    Without a task, a name that only one task has is enough.
    """
    if "/" in solution:
        prefix, _, name = solution.partition("/")
        if task is not None and task != prefix:
            raise HarnessError(f"solution={solution} belongs to task {prefix}, not task={task}")
        return prefix, name
    if task is not None:
        return task, solution
    keys = solution_names()
    matches = [key for key in keys if key.partition("/")[2] == solution]
    if len(matches) == 1:
        prefix, _, name = matches[0].partition("/")
        return prefix, name
    if matches:
        raise HarnessError(
            f"solution {solution!r} exists for several tasks ({', '.join(matches)}): "
            "write solution=<task>/<solution>"
        )
    names = [key.partition("/")[2] for key in keys]
    raise PluginError(
        f"unknown solution {solution!r}{did_you_mean(solution, names)}"
        f"; solutions are {', '.join(keys) or 'none'} (see `harness list`)"
    )


def contract_budget(solution_cls: type[Solution]) -> Budget:
    """The smoke limits, named ``contract`` when the solution has a contract preset.

    The runner picks the preset by the budget's name, so the name selects the preset.
    """
    base = get_budget(BASE_BUDGET)
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
        checks += _Contract(task_obj, solution_cls, workdir, progress).run()
    elapsed = time.monotonic() - started
    report = ContractReport(task_obj.name, solution_cls.name, checks, elapsed, workdir)
    if owned and report.passed:
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def check_declaration(solution_cls: type[Solution]) -> CheckResult:
    """The class's static promises: its options are a dataclass and every preset fits it."""
    name = "declaration"
    config_class = solution_cls.config_class
    if not (dataclasses.is_dataclass(config_class) and isinstance(config_class, type)):
        return CheckResult(name, "fail", f"config_class {config_class!r} is not a dataclass")
    problems = []
    try:
        merge_overrides(config_class, [], [], where="solution")
    except HarnessError as exc:
        problems.append(f"the defaults of {config_class.__name__}: {exc}")
    known = [*BUDGETS, CONTRACT_PRESET]
    for preset in solution_cls.presets:
        if preset not in known:
            problems.append(f"preset {preset!r} is for no budget{did_you_mean(preset, known)}")
            continue
        try:
            resolve_solution_config(solution_cls, preset, [])
        except HarnessError as exc:
            problems.append(f"preset {preset!r}: {exc}")
    if problems:
        return CheckResult(name, "fail", "; ".join(problems))
    presets = ", ".join(solution_cls.presets) or "none"
    detail = f"presets ({presets}) resolve against {config_class.__name__}"
    if CONTRACT_PRESET not in solution_cls.presets:
        fallback = "smoke preset" if BASE_BUDGET in solution_cls.presets else "option defaults"
        detail += f"; no '{CONTRACT_PRESET}' preset, so the runs use its {fallback}"
    return CheckResult(name, "pass", detail)


@dataclass
class _Run:
    record: RunRecord
    seconds: float
    survivors: list[str]
    labels_hidden: bool
    """The label files were out of the data root before the first phase started."""

    @property
    def submission(self) -> Path:
        return Path(self.record.run_dir) / SUBMISSION_FILE

    def where(self) -> str:
        phase = f" in phase {self.record.failed_phase}" if self.record.failed_phase else ""
        return f"status {self.record.status}{phase}: {self.record.error}"


class _Contract:
    """The runs of one contract check and the checks on their outcome."""

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
        self.hidden_store = workdir / "hidden"
        self.budget = contract_budget(solution_cls)

    def run(self) -> list[CheckResult]:
        for folder in (self.cwd, self.tmp, self.hidden_store):
            folder.mkdir(exist_ok=True)
        config = synth_config(self.task, self.task.contract_synth)
        self.root = synthesize(self.task, self.workdir / "data" / self.task.name, config, SEED)
        self.label_files = _unreferenced_files(self.task, self.root)
        before = _snapshot(self.workdir)
        runs: list[_Run] = []
        for attempt in (1, 2):
            runs.append(self._run(self.budget, f"run {attempt}/3"))
            if runs[-1].record.status != "ok":
                break
        stray = _diff(before, _snapshot(self.workdir), self._allowed(runs))
        tight: _Run | None = None
        if all(run.record.status == "ok" for run in runs):
            limited = dataclasses.replace(
                self.budget, fit_s=TIGHT_FIT_S, description="contract: a 1 s fit limit"
            )
            tight = self._run(limited, f"run 3/3 (fit limit {TIGHT_FIT_S:g} s)")
        return [
            _check_completes(runs),
            _check_valid(runs),
            _check_deterministic(runs),
            _check_within_budget(runs),
            _check_stops(tight, [*runs, *([tight] if tight else [])]),
            self._check_labels(runs),
            _check_writes(stray),
        ]

    def _run(self, budget: Budget, label: str) -> _Run:
        cfg = RunConfig(
            task=self.task.name,
            solution=self.solution_cls.name,
            budget=budget.name,
            seed=SEED,
            results_dir=str(self.results),
            tracking_uri=f"sqlite:///{self.results / 'mlflow.db'}",
            bootstrap=0,
            data=DataConfig(root=str(self.root)),
        )
        token = uuid.uuid4().hex
        hider = _LabelHider(self.root, self.label_files, self.hidden_store, self.results / "runs")

        def on_progress(message: str) -> None:
            hider.phase_started()
            self.progress(f"{label}: {message}")

        self.progress(f"{label}: {self.task.name}/{self.solution_cls.name}, budget {budget.name}")
        started = time.monotonic()
        with _sandbox(self.cwd, self.tmp, token), hider:
            record = execute(cfg, budget, [], progress=on_progress)
        elapsed = time.monotonic() - started
        return _Run(record, elapsed, _survivors(token), hider.in_time is not False)

    def _allowed(self, runs: list[_Run]) -> list[PurePath]:
        results = self.results.relative_to(self.workdir)
        allowed: list[PurePath] = [
            results / "mlflow.db",
            results / "mlflow.db.lock",
            results / "mlartifacts",
            results / "cache" / self.task.name / self.solution_cls.name,
            self.hidden_store.relative_to(self.workdir),
        ]
        allowed += [Path(run.record.run_dir).relative_to(self.workdir) for run in runs]
        return allowed

    def _check_labels(self, runs: list[_Run]) -> CheckResult:
        name = "no holdout labels"
        names = ", ".join(str(path) for path in self.label_files) or "no file"
        for run in runs:
            hit = next((p for p in self.label_files if p.name in run.record.error), None)
            if hit is not None:
                return CheckResult(
                    name,
                    "fail",
                    f"the run failed opening {hit}, which holds labels ({run.where()}); "
                    "learn from the training view's label columns only",
                )
        if any(run.record.status != "ok" for run in runs):
            return CheckResult(name, "skip", "the runs did not complete")
        if not all(run.labels_hidden for run in runs):
            return CheckResult(name, "skip", f"{names} could not be moved before a run started")
        return CheckResult(
            name,
            "pass",
            f"ran with {names} moved out of the data root during its phases; "
            "the holdout answers never enter its process",
        )


def _check_completes(runs: list[_Run]) -> CheckResult:
    name = "completes"
    finished = ("ok", "invalid_submission")
    for i, run in enumerate(runs, 1):
        if run.record.status not in finished:
            log_file = Path(run.record.run_dir) / LOG_FILE
            return CheckResult(name, "fail", f"run {i}: {run.where()} (log: {log_file})")
    times = " and ".join(f"{run.seconds:.1f} s" for run in runs)
    return CheckResult(name, "pass", f"{len(runs)} runs with seed {SEED} finished ({times})")


def _check_valid(runs: list[_Run]) -> CheckResult:
    name = "valid submission"
    for run in runs:
        if run.record.status == "invalid_submission":
            return CheckResult(name, "fail", run.record.error)
    if any(run.record.status != "ok" for run in runs):
        return CheckResult(name, "skip", "no submission (the run did not complete)")
    cases = runs[0].record.n_holdout_cases
    return CheckResult(name, "pass", f"the task's validator accepted all {cases} rows")


def _check_deterministic(runs: list[_Run]) -> CheckResult:
    name = "deterministic"
    if len(runs) < 2 or not all(run.submission.is_file() for run in runs):
        return CheckResult(name, "skip", "needs two completed runs")
    first, second = (pd.read_csv(run.submission) for run in runs)
    try:
        pd.testing.assert_frame_equal(first, second, check_exact=True)
    except AssertionError as exc:
        difference = " ".join(str(exc).split())
        return CheckResult(
            name,
            "fail",
            f"two runs with seed {SEED} submitted different predictions: {difference[:400]}; "
            "seed every random choice with ctx.seed and keep work independent of timing",
        )
    return CheckResult(
        name, "pass", f"run 2 (warm cache) reproduced run 1's {len(first)} rows exactly"
    )


def _check_within_budget(runs: list[_Run]) -> CheckResult:
    name = "within budget"
    for run in runs:
        if run.record.status == "timeout":
            return CheckResult(name, "fail", run.record.error)
    phases = runs[0].record.phases
    if not phases:
        return CheckResult(name, "skip", "no phase finished")
    limits = runs[0].record.budget
    used = ", ".join(f"{p} {s.wall_s:.1f}/{limits[f'{p}_s']:g} s" for p, s in phases.items())
    return CheckResult(name, "pass", used)


def _check_stops(tight: _Run | None, runs: list[_Run]) -> CheckResult:
    name = "stops when told"
    survivors = [survivor for run in runs for survivor in run.survivors]
    if survivors:
        return CheckResult(
            name,
            "fail",
            f"processes outlived their run (killed by the contract): {', '.join(survivors)}; "
            "stop every worker or server the solution starts before its phase returns",
        )
    if tight is None:
        return CheckResult(name, "skip", "the contract runs did not complete")
    status = tight.record.status
    if status == "ok":
        detail = f"finished inside a {TIGHT_FIT_S:g} s fit limit; no process outlived a run"
        return CheckResult(name, "pass", detail)
    if status == "timeout":
        detail = f"stopped at a {TIGHT_FIT_S:g} s fit limit (status timeout); no process left"
        return CheckResult(name, "pass", detail)
    return CheckResult(
        name,
        "fail",
        f"with a {TIGHT_FIT_S:g} s fit limit the run ended with {tight.where()}; "
        "a solution that cuts its work short must still predict",
    )


def _check_writes(stray: list[str]) -> CheckResult:
    name = "writes only its run folder"
    if stray:
        shown = ", ".join(stray[:8]) + (f" and {len(stray) - 8} more" if len(stray) > 8 else "")
        return CheckResult(
            name,
            "fail",
            f"changed outside ctx.run_dir and ctx.cache_dir: {shown} (paths relative to the "
            "contract's folder: cwd/ was the working directory, tmp/ the TMPDIR)",
        )
    detail = "nothing changed in the data, the results, the working directory or TMPDIR"
    return CheckResult(name, "pass", detail)


def _unreferenced_files(task: Task, root: Path) -> list[Path]:
    """Files under ``root`` that neither the training nor the test view names (relative).

    Those are what a solution has no business opening: the label tables above all.
    """
    table = task.load(root)
    train, holdout = task.split(table)
    prefix = f"{root}{os.sep}"
    referenced: set[Path] = set()
    for frame in (train, task.public_view(holdout)):
        for column in frame.columns:
            values = (value for value in frame[column] if isinstance(value, str))
            referenced.update(Path(value) for value in values if value.startswith(prefix))
    files = (path for path in sorted(root.rglob("*")) if path.is_file())
    return [
        path.relative_to(root)
        for path in files
        if path not in referenced and referenced.isdisjoint(path.parents)
    ]


class _LabelHider:
    """Moves files out of the data root while a run's process lives; puts them back on exit.

    The runner reads the labels, then creates the run folder, then starts the run process,
    whose start-up (imports) takes a second or more. A thread that looks for the new run folder
    every 5 ms moves the files in between. ``in_time`` records whether they were gone when the
    first phase started; when not, the check is skipped, never passed.
    """

    def __init__(self, root: Path, files: list[Path], store: Path, runs: Path) -> None:
        self.root, self.files, self.store, self.runs = root, files, store, runs
        self.hidden = False
        self.in_time: bool | None = None
        self._existing = self._run_folders()
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="contract-labels", daemon=True)

    def _run_folders(self) -> set[Path]:
        return set(self.runs.iterdir()) if self.runs.is_dir() else set()

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            if self._run_folders() - self._existing:
                for relative in self.files:
                    (self.store / relative).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(self.root / relative, self.store / relative)
                self.hidden = True
                return

    def phase_started(self) -> None:
        if self.in_time is None:
            self.in_time = self.hidden

    def __enter__(self) -> _LabelHider:
        self._watcher.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._watcher.join()
        if self.hidden:
            for relative in self.files:
                os.replace(self.store / relative, self.root / relative)
            self.hidden = False


@contextlib.contextmanager
def _sandbox(cwd: Path, tmp: Path, token: str) -> Iterator[None]:
    """Run with an empty working directory and TMPDIR, every process marked with ``token``.

    The spawned run process inherits all three. The harness's own temp folder and
    multiprocessing's resource tracker (a process that outlives runs by design) are settled
    first, so that neither picks up the sandbox.
    """
    tempfile.gettempdir()
    resource_tracker.ensure_running()
    saved = {key: os.environ.get(key) for key in ("TMPDIR", _MARK)}
    previous_cwd = os.getcwd()
    os.environ["TMPDIR"] = str(tmp)
    os.environ[_MARK] = token
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _survivors(token: str) -> list[str]:
    """Processes of an ended run that are still alive after a grace period; they are killed."""
    marked = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(_MARK) == token:
                marked.append(proc)
    _, alive = psutil.wait_procs(marked, timeout=SURVIVOR_GRACE_S)
    described = []
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            described.append(f"pid {proc.pid} ({' '.join(proc.cmdline())[:80]})")
            proc.kill()
    return described


def _snapshot(folder: Path) -> dict[PurePath, tuple[int, int] | None]:
    """Every file (size, mtime) and folder (None) under ``folder``, by relative path."""
    entries: dict[PurePath, tuple[int, int] | None] = {}
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        with contextlib.suppress(FileNotFoundError):  # removed while walking
            if path.is_dir():
                entries[relative] = None
            else:
                stat = path.stat()
                entries[relative] = (stat.st_size, stat.st_mtime_ns)
    return entries


def _diff(
    before: dict[PurePath, tuple[int, int] | None],
    after: dict[PurePath, tuple[int, int] | None],
    allowed: list[PurePath],
) -> list[str]:
    """What was added, changed or removed outside ``allowed`` (and the folders leading there)."""

    def permitted(path: PurePath) -> bool:
        return any(path == a or a in path.parents or path in a.parents for a in allowed)

    changes = []
    for path in sorted(before.keys() | after.keys()):
        if permitted(path) or before.get(path) == after.get(path):
            continue
        if path not in before:
            changes.append(f"added {path}")
        elif path not in after:
            changes.append(f"removed {path}")
        else:
            changes.append(f"changed {path}")
    return changes
