"""One run: resolve everything, run the solution in a child process under its budget, score it.

The parent never trusts the child to end: each phase has a deadline, and a child that passes it
is killed with its whole process tree. Whatever happens (crash, timeout, invalid submission,
Ctrl-C, SIGTERM) the RunRecord and the MLflow run are finalised with the phases that finished.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pandas as pd
import psutil

from harness import environment
from harness.api import Budget, DataView, HarnessError, InvalidSubmission, Solution, Task
from harness.budgets import get_budget
from harness.config import RunConfig, as_plain_dict, merge_overrides
from harness.datasets import resolve_data
from harness.monitor import ProcessMonitor
from harness.record import RECORD_FILE, PhaseStats, RunRecord
from harness.registry import load_solution, load_task
from harness.stats import bootstrap_ci
from harness.tracking import Tracker, default_tracking_uri
from harness.worker import LOG_FILE, ChildSpec, child_main

log = logging.getLogger(__name__)

STARTUP_LIMIT_S = 300.0
"""Time the child may take to import its libraries before the first phase starts."""
CI_SEED = 0
"""Fixed so that every run on the same holdout sees the same resamples (paired comparisons)."""

Progress = Callable[[str], None]

_SPAWN_LOCK = threading.Lock()
"""Serialises child starts: a spawned child copies os.environ, set per child under this lock."""


class RunInterrupted(HarnessError):
    """The harness itself was asked to stop (Ctrl-C or SIGTERM)."""


@dataclass
class _ChildOutcome:
    status: str = "failed"
    error: str = ""
    failed_phase: str = ""
    submission: Path | None = None
    phases: dict[str, PhaseStats] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


def resolve_solution_config(
    solution_cls: type[Solution], budget_name: str, overrides: list[str]
) -> Any:
    """Option defaults, then the budget's preset, then the user's ``solution.*`` overrides."""
    preset = solution_cls.presets.get(budget_name, {})
    return merge_overrides(solution_cls.config_class, [preset], overrides, where="solution")


def select_device(budget_device: str, solution_cls: type[Solution], budget_name: str) -> str:
    """'cuda' or 'cpu'; a GPU budget on a machine without CUDA is an error, not a silent CPU run."""
    import torch

    has_cuda = torch.cuda.is_available()
    if budget_device == "cuda" and not has_cuda:
        raise HarnessError(
            f"budget {budget_name} needs a CUDA GPU and torch sees none "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}); "
            "use budget=cpu-default or budget=smoke on this machine"
        )
    if solution_cls.requirements.cuda and budget_device != "cuda":
        raise HarnessError(
            f"solution {solution_cls.name} needs a GPU; pick a GPU budget (see `harness list`)"
        )
    return budget_device


def config_hash(
    task: Task, solution_cls: type[Solution], budget: Budget, cfg: RunConfig, solution_config: Any
) -> str:
    """A short digest of everything that decides a run's result, and nothing else.

    Versions, budget profile, seed, bootstrap, data and the resolved solution options count;
    where results and tracking go does not. Sweeps skip a run whose hash already finished ok.
    """
    run = as_plain_dict(cfg)
    for where_it_goes in ("results_dir", "tracking_uri"):
        run.pop(where_it_goes)
    run.update(task=task.name, solution=solution_cls.name)
    if cfg.data.root is not None:
        run["data"]["root"] = str(Path(cfg.data.root).expanduser().resolve())
    identity = {
        "task_version": task.version,
        "split_version": task.split_version,
        "solution_version": solution_cls.version,
        "budget": dataclasses.asdict(budget),
        "run": run,
        "solution_config": as_plain_dict(solution_config),
    }
    text = json.dumps(identity, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@contextlib.contextmanager
def _child_environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in os.environ while a child starts (threads of a sweep start children too)."""
    with _SPAWN_LOCK:
        saved = {key: os.environ.get(key) for key in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _new_run_id(cfg: RunConfig) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{cfg.task}-{cfg.solution}-{cfg.budget}-s{cfg.seed}-{uuid.uuid4().hex[:6]}"


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _kill_tree(pid: int) -> None:
    """Kill a process and all its descendants (data-loader workers, decode pools)."""
    try:
        proc = psutil.Process(pid)
        victims = [*proc.children(recursive=True), proc]
    except psutil.Error:
        return
    for victim in victims:
        try:
            victim.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(victims, timeout=10)


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise RunInterrupted(f"the harness received signal {signal.Signals(signum).name}")


def _supervise(
    spec: ChildSpec,
    tracker: Tracker,
    progress: Progress,
    gpu_indices: list[int],
    child_env: dict[str, str],
    cancel: threading.Event | None,
) -> _ChildOutcome:
    """Run the child, enforce phase deadlines, collect its reports.

    Raises RunInterrupted, the child's tree already killed, once ``cancel`` is set.
    """
    context = mp.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=child_main, args=(spec, sender), name="harness-run")
    with _child_environment(child_env):
        process.start()
    sender.close()
    assert process.pid is not None
    monitor = ProcessMonitor(process.pid, gpu_indices)
    monitor.start()
    outcome = _ChildOutcome()
    phase: str | None = None
    deadline = time.monotonic() + STARTUP_LIMIT_S
    finished = False
    try:
        while not finished:
            wait = max(0.0, min(0.5, deadline - time.monotonic()))
            if receiver.poll(wait):
                try:
                    message = receiver.recv()
                except EOFError:
                    message = None
                if message is None:
                    break
                kind = message[0]
                if kind == "phase_start":
                    phase = message[1]
                    monitor.set_phase(phase)
                    deadline = time.monotonic() + spec.budget.limit_s(phase)
                    progress(f"{phase} started (limit {spec.budget.limit_s(phase):.0f} s)")
                elif kind == "phase_end":
                    name, values = message[1], message[2]
                    stats = PhaseStats(
                        wall_s=values["wall_s"],
                        cpu_s=values["cpu_s"],
                        # A phase shorter than the sampling interval may end (and the child
                        # exit) before a sample: the child's own reading at the end counts too.
                        peak_rss_mb=max(monitor.peak_rss_mb(name), values["rss_mb"]),
                        gpu_peak_mem_gb=values["gpu_peak_mem_gb"],
                        gpu_util_mean=monitor.gpu_util_mean(name),
                    )
                    outcome.phases[name] = stats
                    tracker.log_phase(name, stats)
                    progress(f"{name} finished in {stats.wall_s:.1f} s")
                    phase = None
                    monitor.set_phase(None)
                    deadline = time.monotonic() + STARTUP_LIMIT_S
                elif kind == "report":
                    tracker.log_metrics(message[1], message[2])
                elif kind == "fact":
                    outcome.facts[message[1]] = message[2]
                elif kind == "done":
                    outcome.status, outcome.submission = "ok", Path(message[1])
                    finished = True
                elif kind == "error":
                    outcome.status, outcome.error = message[1], message[2]
                    outcome.failed_phase = phase or ""
                    finished = True
            elif not process.is_alive() and not receiver.poll():
                break
            if not finished and cancel is not None and cancel.is_set():
                _kill_tree(process.pid)
                raise RunInterrupted("the sweep was stopped")
            if not finished and time.monotonic() > deadline:
                where = f"phase {phase}" if phase else "start-up"
                limit = spec.budget.limit_s(phase) if phase else STARTUP_LIMIT_S
                outcome.status, outcome.failed_phase = "timeout", phase or "startup"
                outcome.error = (
                    f"{where} exceeded its {limit:.0f} s limit (budget {spec.budget.name}); "
                    "the process was killed"
                )
                _kill_tree(process.pid)
                finished = True
    finally:
        if process.is_alive():
            process.join(timeout=30)
        if process.is_alive():
            _kill_tree(process.pid)
        monitor.stop()
        receiver.close()
    if not finished:
        code = process.exitcode
        outcome.status, outcome.failed_phase = "failed", phase or ""
        outcome.error = f"the run process died without reporting (exit code {code})" + (
            "; SIGKILL is what the OS out-of-memory killer sends" if code == -9 else ""
        )
    return outcome


def _score(
    task: Task, record: RunRecord, submission_path: Path, answers: pd.DataFrame, bootstrap: int
) -> None:
    try:
        submission = pd.read_csv(submission_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InvalidSubmission(f"{submission_path} is not a readable CSV: {exc}") from exc
    aligned = task.validate(submission, answers)
    record.score = task.score(aligned, answers)
    if bootstrap > 0:
        interval = bootstrap_ci(
            task.score, aligned, answers, task.groups(answers), n=bootstrap, seed=CI_SEED
        )
        record.ci_low, record.ci_high = interval.low, interval.high


def execute(
    cfg: RunConfig,
    solution_overrides: list[str],
    progress: Progress = log.info,
    gpus: list[int] | None = None,
    cancel: threading.Event | None = None,
) -> RunRecord:
    """Run one task x solution x budget x seed and return its finalised record.

    Errors in the request itself (unknown names, bad keys, missing data) raise before anything
    is recorded; from the moment the child starts, every outcome is recorded.
    ``gpus`` pins the run to those devices (NVML / PCI bus order) through the child's
    CUDA_VISIBLE_DEVICES; default: the first ``budget.gpus`` visible ones. Setting ``cancel``
    stops the run: it is recorded as failed (interrupted) and RunInterrupted is raised.
    """
    task = load_task(cfg.task)
    solution_cls = load_solution(cfg.task, cfg.solution)
    budget = get_budget(cfg.budget)
    solution_config = resolve_solution_config(solution_cls, budget.name, solution_overrides)
    device = select_device(budget.device, solution_cls, budget.name)
    results = cfg.results_path
    data = resolve_data(task, cfg.data, results)
    table = task.load(data.root)
    train, holdout = task.split(table)
    test = task.public_view(holdout)
    answers = task.answers(holdout)

    run_id = _new_run_id(cfg)
    run_dir = results / "runs" / run_id
    run_dir.mkdir(parents=True)
    config = {"run": as_plain_dict(cfg), "solution": as_plain_dict(solution_config)}
    record = RunRecord(
        run_id=run_id,
        task=task.name,
        task_version=task.version,
        split_version=task.split_version,
        solution=solution_cls.name,
        solution_version=solution_cls.version,
        budget=dataclasses.asdict(budget),
        seed=cfg.seed,
        config=config,
        metric_name=task.metric_name,
        greater_is_better=task.greater_is_better,
        data_root=str(data.root),
        data_kind=data.kind,
        created_at=_now_iso(),
        n_train=len(train),
        n_holdout_cases=len(answers),
        device=device,
        git_sha=environment.git_sha(),
        libraries=environment.library_versions(),
        hardware=environment.hardware(),
        run_dir=str(run_dir),
        config_hash=config_hash(task, solution_cls, budget, cfg, solution_config),
    )
    (run_dir / "config.yaml").write_text(_to_yaml(config))
    tracker = Tracker(cfg.tracking_uri or default_tracking_uri(results), results / "mlartifacts")
    record.mlflow_run_id = tracker.start(record)
    record.save(run_dir)

    spec = ChildSpec(
        task=task.name,
        solution=solution_cls.name,
        solution_config=solution_config,
        budget=budget,
        seed=cfg.seed,
        device=device,
        run_dir=run_dir,
        cache_dir=results / "cache" / task.name / solution_cls.name,
        train=train,
        test=test,
    )
    spec.cache_dir.mkdir(parents=True, exist_ok=True)
    # Signal handlers can only be set from the main thread (sweeps may call from others).
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if in_main else None
    try:
        child_env: dict[str, str] = {}
        if budget.device == "cpu":
            # torch's OpenMP threads spin while they wait for each other: on cores that other
            # runs share, epochs of 1 s took 35-50 s. Passive waiting costs little when idle.
            child_env["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
        if gpus is not None:
            child_env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
            child_env["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in gpus)
        gpu_indices = list(range(budget.gpus)) if gpus is None else list(gpus)
        outcome = _supervise(spec, tracker, progress, gpu_indices, child_env, cancel)
        record.status = outcome.status  # type: ignore[assignment]
        record.error, record.failed_phase = outcome.error, outcome.failed_phase
        record.phases, record.extra = outcome.phases, outcome.facts
        if outcome.status == "ok" and outcome.submission is not None:
            try:
                _score(task, record, outcome.submission, answers, cfg.bootstrap)
            except InvalidSubmission as exc:
                record.status, record.error = "invalid_submission", str(exc)
    except (KeyboardInterrupt, RunInterrupted) as exc:
        record.status, record.error = "failed", f"interrupted: {exc or 'Ctrl-C'}"
        raise
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        _finalise(record, run_dir, tracker, task, test)
    return record


def _finalise(
    record: RunRecord, run_dir: Path, tracker: Tracker, task: Task, test: pd.DataFrame
) -> None:
    predict = record.phases.get("predict")
    if predict is not None and predict.wall_s > 0:
        n_images = task.n_inputs(DataView(task.name, test, has_labels=False))
        record.predict_images_per_s = n_images / predict.wall_s
    total_wall = sum(p.wall_s for p in record.phases.values())
    if record.device == "cuda":
        record.gpu_hours = total_wall * record.budget["gpus"] / 3600
    record.finished_at = _now_iso()
    record.save(run_dir)
    artifacts = [
        run_dir / name for name in ("submission.csv", "config.yaml", RECORD_FILE, LOG_FILE)
    ]
    try:
        tracker.finish(record, artifacts)
    except Exception:  # the JSON record is already safe on disk; say so rather than lose it
        log.exception("could not finish the MLflow run; the record is in %s", run_dir)


def _to_yaml(values: dict[str, Any]) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(values))
