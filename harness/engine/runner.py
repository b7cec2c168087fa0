"""One run: resolve everything, run the solution in child processes under its budget, score it.

The parent never trusts the child to end: each phase has a deadline, and a child that passes it
is killed with its whole process tree. Whatever happens (crash, timeout, invalid submission,
Ctrl-C, SIGTERM) the RunRecord and the MLflow run are finalised with the phases that finished.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pandas as pd
import psutil

from harness.api import (
    PHASES,
    Budget,
    DataView,
    HarnessError,
    InvalidSubmission,
    Solution,
    Task,
)
from harness.engine import environment
from harness.engine.config import PredictIsolation, RunConfig, as_plain_dict, predict_isolation
from harness.engine.datasets import ResolvedData, resolve_data
from harness.engine.messages import (
    Done,
    Fact,
    Failed,
    Message,
    Metrics,
    PhaseEnded,
    PhaseStarted,
    Progress,
)
from harness.engine.monitor import ProcessMonitor
from harness.engine.observe import LineSink, PhaseMeter, RunObserver, as_observer
from harness.engine.owners import current_owner
from harness.engine.projection import project
from harness.engine.record import ARTIFACTS_DIR, CONFIG_FILE, PhaseStats, RunRecord
from harness.engine.registry import load_solution, load_task
from harness.engine.run_config import config_hash, resolve_solution_config
from harness.engine.scoring import CI_SEED, ScoreResult, score_submission
from harness.engine.stored_scores import StoredScores, answers_digest, file_digest
from harness.engine.sync import settle_orphans
from harness.engine.tracking import (
    Tracker,
    check_reachable,
    default_tracking_uri,
    import_client_in_background,
    summary_metrics,
)
from harness.engine.worker import ChildSpec, child_main, hand_over_tables

log = logging.getLogger(__name__)

STARTUP_LIMIT_S = 300.0
"""Time the child may take to import its libraries before the first phase starts."""

_SPAWN_LOCK = threading.Lock()
"""Serialises child starts: a spawned child copies os.environ, set per child under this lock."""


class RunInterrupted(HarnessError):
    """The harness itself was asked to stop (Ctrl-C, SIGTERM, or a stopped sweep)."""

    def __init__(self, message: str, signum: int | None = None) -> None:
        super().__init__(message)
        self.signum = signum
        """The signal that stopped the run; None when a sweep stopped it."""


@dataclass
class _ChildOutcome:
    status: str = "failed"
    error: str = ""
    failed_phase: str = ""
    submission: Path | None = None
    phases: dict[str, PhaseStats] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


class _StopRequest:
    """Why a run must stop: a signal caught in the main thread, or a sweep's cancel event."""

    def __init__(self, cancel: threading.Event | None) -> None:
        self.event = cancel or threading.Event()
        self.signum: int | None = None

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only a flag: the supervising loop sees it within half a second and stops the child
        # itself; raising here could cut the record's own bookkeeping in half.
        if self.signum is None:
            self.signum = signum
        self.event.set()

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def describe(self) -> str:
        if self.signum is None:
            return "the sweep stopping"
        name = signal.Signals(self.signum).name
        return f"{name} (Ctrl-C)" if self.signum == signal.SIGINT else name

    @contextlib.contextmanager
    def handling_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM set the flag (only the main thread can install handlers)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.on_signal) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def select_device(budget_device: str, solution_cls: type[Solution], budget_name: str) -> str:
    """'cuda' or 'cpu'; a GPU budget on a machine without CUDA is an error, not a silent CPU run.

    torch (over a second to import) is asked only about a GPU budget.
    """
    if budget_device == "cuda":
        import torch

        if not torch.cuda.is_available():
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


def _interrupted_error(stop: _StopRequest, phase: str | None, outcome: _ChildOutcome) -> str:
    where = f"during phase {phase}" if phase else "during start-up"
    done = ", ".join(f"{name} ({stats.wall_s:.1f} s)" for name, stats in outcome.phases.items())
    return f"interrupted by {stop.describe()} {where}; finished phases: {done or 'none'}"


@dataclass
class _Supervision:
    """Where the children's reports go, where they run, and what stops them."""

    record: RunRecord
    tracker: Tracker
    observer: RunObserver
    gpu_indices: list[int]
    """The GPUs the monitor samples."""
    child_env: dict[str, str]
    stop: _StopRequest


def _supervise(specs: list[ChildSpec], watch: _Supervision) -> _ChildOutcome:
    """Run the children one after the other, each once the previous one finished its phases.

    With ``fresh_predict`` the first child runs prepare and fit and saves the solution, the
    second loads it and predicts; otherwise one child runs every phase. The first child that
    fails, times out or is interrupted ends the run, with its phase named.
    """
    outcome = _ChildOutcome()
    for spec in specs:
        _supervise_child(spec, outcome, watch)
        if outcome.status != "ok":
            break
    return outcome


def _supervise_child(spec: ChildSpec, outcome: _ChildOutcome, watch: _Supervision) -> None:
    """Run one child, enforce phase deadlines, collect its reports into ``outcome``.

    The record is saved at each phase boundary, so a harness killed mid-run leaves a record
    that says which phase it was in and which phases finished. A stop request kills the
    child's tree within a second and ends the outcome as ``interrupted``.
    """
    record, tracker, observer, stop = watch.record, watch.tracker, watch.observer, watch.stop
    context = mp.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    light = hand_over_tables(spec, spec.run_dir)
    process = context.Process(target=child_main, args=(light, sender), name="harness-run")
    with _child_environment(watch.child_env):
        process.start()
    sender.close()
    assert process.pid is not None
    monitor = ProcessMonitor(process.pid, watch.gpu_indices)
    monitor.start()
    meter: PhaseMeter | None = None
    deadline = time.monotonic() + STARTUP_LIMIT_S
    finished = False

    def phase_name() -> str | None:
        return meter.phase if meter is not None else None

    try:
        while not finished:
            if stop.requested:
                _kill_tree(process.pid)
                outcome.status, outcome.failed_phase = "interrupted", phase_name() or "startup"
                outcome.error = _interrupted_error(stop, phase_name(), outcome)
                finished = True
                break
            wait = max(0.0, min(0.5, deadline - time.monotonic()))
            if receiver.poll(wait):
                try:
                    message: Message | None = receiver.recv()
                except EOFError:
                    message = None
                if message is None:
                    break
                if isinstance(message, PhaseStarted):
                    limit = spec.budget.limit_s(message.phase)
                    meter = PhaseMeter(message.phase, limit)
                    monitor.set_phase(message.phase)
                    deadline = time.monotonic() + limit
                    record.current_phase = message.phase
                    record.save(spec.run_dir)
                    observer.phase_started(meter)
                elif isinstance(message, PhaseEnded):
                    stats = PhaseStats(
                        wall_s=message.wall_s,
                        cpu_s=message.cpu_s,
                        # A phase shorter than the sampling interval may end (and the child
                        # exit) before a sample: the child's own reading at the end counts too.
                        peak_rss_mb=max(monitor.peak_rss_mb(message.phase), message.rss_mb),
                        gpu_peak_mem_gb=message.gpu_peak_mem_gb,
                        gpu_util_mean=monitor.gpu_util_mean(message.phase),
                    )
                    outcome.phases[message.phase] = stats
                    record.phases = dict(outcome.phases)
                    record.current_phase = ""
                    record.save(spec.run_dir)
                    tracker.log_phase(message.phase, stats)
                    observer.phase_ended(message.phase, stats)
                    meter = None
                    monitor.set_phase(None)
                    deadline = time.monotonic() + STARTUP_LIMIT_S
                elif isinstance(message, Progress):
                    if meter is not None:
                        meter.update(message)
                elif isinstance(message, Metrics):
                    tracker.log_metrics(message.values, message.step)
                    if meter is not None:
                        meter.metrics.update(message.values)
                elif isinstance(message, Fact):
                    outcome.facts[message.name] = message.value
                elif isinstance(message, Done):
                    outcome.status = "ok"
                    if message.submission is not None:
                        outcome.submission = Path(message.submission)
                    finished = True
                elif isinstance(message, Failed):
                    outcome.status, outcome.error = message.status, message.error
                    outcome.failed_phase = phase_name() or ""
                    finished = True
            elif not process.is_alive() and not receiver.poll():
                break
            if meter is not None:
                observer.progress(meter)  # the observer decides how often it shows
            if not finished and time.monotonic() > deadline:
                phase = phase_name()
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
        if light.tables_file is not None:
            light.tables_file.unlink(missing_ok=True)  # a child that died before reading it
    if not finished:
        code = process.exitcode
        outcome.status, outcome.failed_phase = "failed", phase_name() or ""
        outcome.error = f"the run process died without reporting (exit code {code})" + (
            "; SIGKILL is what the OS out-of-memory killer sends" if code == -9 else ""
        )


@dataclass(frozen=True)
class RunPlan:
    """A run resolved and ready: what runs, on which rows, under which budget.

    ``harness run`` plans a full run (``plan_run``); ``harness predict`` plans the predict phase
    of a finished run on other data (``harness.engine.predict_again``). Both execute the same way.
    """

    cfg: RunConfig
    budget: Budget
    task: Task
    solution_cls: type[Solution]
    solution_config: Any
    device: str
    isolation: PredictIsolation
    data: ResolvedData
    train: pd.DataFrame | None
    """The training view; None where the plan only predicts."""
    test: pd.DataFrame
    answers: pd.DataFrame | None
    """None for unlabelled data (``rows="test"``): predicted and timed, not scored."""
    config_hash: str
    rows: str = "holdout"
    """What ``test`` holds: the split's ``holdout``, ``all`` rows of the data, or the
    competition's unlabelled ``test`` folder."""
    source: RunRecord | None = None
    """The finished run whose saved solution predicts (``harness predict``)."""


def plan_run(cfg: RunConfig, budget: Budget, solution_overrides: list[str]) -> RunPlan:
    """Resolve a full run: plug-ins, options, device, data, split, views and answers."""
    task = load_task(cfg.task)
    solution_cls = load_solution(cfg.task, cfg.solution)
    solution_config = resolve_solution_config(solution_cls, budget.name, solution_overrides)
    device = select_device(budget.device, solution_cls, budget.name)
    isolation = predict_isolation(cfg, budget)
    data = resolve_data(task, cfg.data, cfg.results_path)
    table = task.load(data.root)
    train, holdout = task.split(table)
    return RunPlan(
        cfg=cfg,
        budget=budget,
        task=task,
        solution_cls=solution_cls,
        solution_config=solution_config,
        device=device,
        isolation=isolation,
        data=data,
        train=train,
        test=task.public_view(holdout),
        answers=task.answers(holdout),
        config_hash=config_hash(task, solution_cls, budget, cfg, solution_config),
    )


def start_run(results: Path, tracking_uri: str | None, offline: bool) -> str:
    """What every run does before its plan: the tracking server asked (fail fast, before any
    data is read), runs of a dead harness settled, MLflow's client imported in the background
    while the data loads. Returns the tracking URI (default: the store under ``results``)."""
    tracking_uri = tracking_uri or default_tracking_uri(results)
    if not offline:
        check_reachable(tracking_uri)
    settle_orphans(results)
    if not offline:
        import_client_in_background(tracking_uri)
    return tracking_uri


def execute(
    cfg: RunConfig,
    budget: Budget,
    solution_overrides: list[str],
    progress: RunObserver | LineSink = log.info,
    gpus: list[int] | None = None,
    cancel: threading.Event | None = None,
) -> RunRecord:
    """Run one task x solution x budget x seed and return its finalised record.

    ``budget`` is the profile ``cfg.budget`` names, resolved by the caller
    (``parse_run_overrides``); the contract suite and tests pass budgets of their own.
    Errors in the request itself (unknown names, bad keys, missing data, a tracking server
    that does not answer) raise before anything is recorded; from the moment the run folder
    exists, every outcome is recorded there first and mirrored to MLflow where it answers.
    ``progress`` watches the run (an observer, or a callable taking lines). ``gpus`` pins the
    run to those devices (NVML / PCI bus order) through the child's CUDA_VISIBLE_DEVICES;
    default: the first ``budget.gpus`` visible ones. SIGINT or SIGTERM (in the main thread),
    or setting ``cancel``, stops the run: it is recorded as interrupted and RunInterrupted is
    raised after the record is final. Where ``fresh_predict`` holds (the budget's default or
    the run key), predict runs in a second process from what fit saved, offline unless
    ``offline_predict=false``; the record says which.
    """
    if budget.name != cfg.budget:
        raise HarnessError(f"budget={cfg.budget} was asked for, but budget {budget.name} given")
    tracking_uri = start_run(cfg.results_path, cfg.tracking_uri, cfg.offline)
    plan = plan_run(cfg, budget, solution_overrides)
    return execute_plan(plan, tracking_uri, progress, gpus, cancel)


def execute_plan(
    plan: RunPlan,
    tracking_uri: str,
    progress: RunObserver | LineSink = log.info,
    gpus: list[int] | None = None,
    cancel: threading.Event | None = None,
) -> RunRecord:
    """Run ``plan`` in child processes, score it, and return its finalised record (see
    ``execute`` for what is recorded when, and how a run is stopped)."""
    cfg, task, solution_cls, budget = plan.cfg, plan.task, plan.solution_cls, plan.budget
    observer = as_observer(progress)
    results = cfg.results_path
    stop = _StopRequest(cancel)
    with stop.handling_signals():
        run_id = _new_run_id(cfg)
        run_dir = results / "runs" / run_id
        run_dir.mkdir(parents=True)
        config: dict[str, Any] = {
            "run": as_plain_dict(cfg),
            "solution": as_plain_dict(plan.solution_config),
        }
        if plan.source is not None:
            config["predict"] = {"source_run": plan.source.run_id, "rows": plan.rows}
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
            data_root=str(plan.data.root),
            data_kind=plan.data.kind,
            created_at=_now_iso(),
            n_train=0 if plan.train is None else len(plan.train),
            n_holdout_cases=0 if plan.answers is None else len(plan.answers),
            n_holdout_groups=0 if plan.answers is None else len(set(task.groups(plan.answers))),
            rows=plan.rows,
            source_run_id="" if plan.source is None else plan.source.run_id,
            device=plan.device,
            fresh_predict=plan.isolation.fresh,
            offline_predict=plan.isolation.offline,
            git_sha=environment.git_sha(),
            libraries=environment.library_versions(),
            hardware=environment.hardware(),
            run_dir=str(run_dir),
            config_hash=plan.config_hash,
            owner=current_owner(),
            tracking_uri=tracking_uri,
        )
        (run_dir / CONFIG_FILE).write_text(_to_yaml(config))
        record.save(run_dir)
        observer.run_started(record)
        tracker = Tracker(tracking_uri, run_dir, offline=cfg.offline)
        try:
            record.mlflow_run_id = tracker.start(record)
            record.save(run_dir)
            spec = ChildSpec(
                task=task.name,
                solution=solution_cls.name,
                solution_config=plan.solution_config,
                budget=budget,
                seed=cfg.seed,
                device=plan.device,
                run_dir=run_dir,
                cache_dir=results / "cache" / task.name / solution_cls.name,
                phases=PHASES,
                train=plan.train,
                test=plan.test,
            )
            spec.cache_dir.mkdir(parents=True, exist_ok=True)
            specs = _children(spec, plan)
            watch = _Supervision(record, tracker, observer, *_placement(budget, gpus), stop)
            outcome = _supervise(specs, watch)
            record.status = outcome.status  # type: ignore[assignment]
            record.error = _explained(outcome, plan.isolation)
            record.failed_phase = outcome.failed_phase
            record.phases, record.extra = outcome.phases, outcome.facts
            answers = plan.answers
            if outcome.status == "ok" and outcome.submission is not None and answers is not None:
                try:
                    scored = score_submission(task, outcome.submission, answers, cfg.bootstrap)
                    record.score, record.ci_low, record.ci_high = (
                        scored.score,
                        scored.ci_low,
                        scored.ci_high,
                    )
                    _store_scores(scored, answers, outcome.submission, run_dir)
                except InvalidSubmission as exc:
                    record.status, record.error = "invalid_submission", str(exc)
        except BaseException as exc:
            # A fault of the harness itself: still a finished record, never a `running` one.
            record.status = "failed"
            record.error = f"harness error: {type(exc).__name__}: {exc}"
            raise
        finally:
            observer.close()
            record.current_phase = ""
            _finalise(record, run_dir, tracker, task, plan.test)
    if record.status == "interrupted":
        raise RunInterrupted(record.error, stop.signum)
    return record


def _children(spec: ChildSpec, plan: RunPlan) -> list[ChildSpec]:
    """The run's processes: one for every phase; or, with ``fresh_predict``, a fit process that
    saves the solution to the run's artefacts folder and a fresh predict process that loads it,
    without the training view; or, for ``harness predict``, only that predict process, loading
    what the source run saved."""
    if plan.source is not None:
        saved = Path(plan.source.run_dir) / ARTIFACTS_DIR
        offline = plan.isolation.offline
        return [dataclasses.replace(spec, phases=PHASES[-1:], load_from=saved, offline=offline)]
    if not plan.isolation.fresh:
        return [spec]
    artefacts = spec.run_dir / ARTIFACTS_DIR
    fit = dataclasses.replace(spec, phases=PHASES[:-1], test=None, save_to=artefacts)
    predict = dataclasses.replace(
        spec, phases=PHASES[-1:], train=None, load_from=artefacts, offline=plan.isolation.offline
    )
    return [fit, predict]


def _explained(outcome: _ChildOutcome, isolation: PredictIsolation) -> str:
    """The child's error, saying where a fresh predict process got its solution from."""
    if not (isolation.fresh and outcome.status == "failed" and outcome.failed_phase == "predict"):
        return outcome.error
    offline = ", offline" if isolation.offline else ""
    return (
        f"{outcome.error} (predict ran in a fresh process{offline}, with only what fit saved "
        f"to {ARTIFACTS_DIR}/: Solution.save must write all that predict needs and "
        "Solution.load restore it)"
    )


def _store_scores(
    scored: ScoreResult, answers: pd.DataFrame, submission: Path, run_dir: Path
) -> None:
    """Keep the run's resampled scores in its folder for ``harness report`` to reuse."""
    if scored.resampled is not None:
        StoredScores(
            score=scored.score,
            resampled=scored.resampled,
            ci_seed=CI_SEED,
            answers_digest=answers_digest(answers),
            submission_digest=file_digest(submission),
        ).save(run_dir)


def _placement(budget: Budget, gpus: list[int] | None) -> tuple[list[int], dict[str, str]]:
    """The GPUs the monitor samples and the environment the child starts with."""
    child_env: dict[str, str] = {}
    if budget.device == "cpu":
        # torch's OpenMP threads spin while they wait for each other: on cores that other
        # runs share, epochs of 1 s took 35-50 s. Passive waiting costs little when idle.
        child_env["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
    if gpus is not None:
        child_env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
        child_env["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in gpus)
    gpu_indices = list(range(budget.gpus)) if gpus is None else list(gpus)
    return gpu_indices, child_env


def _finalise(
    record: RunRecord, run_dir: Path, tracker: Tracker, task: Task, test: pd.DataFrame
) -> None:
    """Throughput and GPU hours, then the record on disk, then MLflow (where it answers)."""
    predict = record.phases.get("predict")
    if predict is not None and predict.wall_s > 0:
        n_images = task.n_inputs(DataView(task.name, test, has_labels=False))
        record.predict_images_per_s = n_images / predict.wall_s
        projection = project(task.hidden_test, predict.wall_s, len(test))
        if projection is not None:
            record.hidden_test_rows = projection.rows
            record.hidden_test_unit = projection.unit
            record.hidden_test_projected_s = projection.seconds
            record.hidden_test_limit_s = projection.limit_s
            record.hidden_test_fits = projection.fits
    total_wall = sum(p.wall_s for p in record.phases.values())
    if record.device == "cuda":
        record.gpu_hours = total_wall * record.budget["gpus"] / 3600
    record.finished_at = _now_iso()
    record.save(run_dir)
    tracker.log_metrics(summary_metrics(record))
    tracker.finish(record)
    if tracker.error and not tracker.offline:
        log.warning("MLflow lacks part of run %s: `harness sync` pushes it", record.run_id)


def _to_yaml(values: dict[str, Any]) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(values))
