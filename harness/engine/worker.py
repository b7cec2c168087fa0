"""The child side of a run: executes some of the solution's phases and reports over a pipe.

Everything here runs in a spawned process that the runner can kill at any moment, so each
finished phase is reported immediately, and the submission is the last thing written. One
child runs every phase, or (``fresh_predict``) one child runs prepare and fit and saves the
solution, and a second one loads it and predicts, offline, without the training data.
"""

from __future__ import annotations

import dataclasses
import importlib.abc
import importlib.util
import logging
import multiprocessing
import os
import pickle
import random
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import psutil

from harness.api import Budget, DataView, PhaseBudget, RunContext, Solution
from harness.engine.messages import Done, Fact, Failed, Metrics, PhaseEnded, PhaseStarted, Progress
from harness.engine.monitor import tree_rss_mb
from harness.engine.offline import forbid_network
from harness.engine.record import LOG_FILE, SUBMISSION_FILE

PROGRESS_INTERVAL_S = 0.2
"""At most this often a progress update crosses the pipe (solutions may call it per batch)."""


@dataclass
class ChildSpec:
    """What one child needs; holdout answers are deliberately not part of it."""

    task: str
    solution: str
    solution_config: Any
    budget: Budget
    seed: int
    device: str
    run_dir: Path
    cache_dir: Path
    phases: tuple[str, ...]
    """The phases this child runs, in PHASES order."""
    train: pd.DataFrame | None
    """The training view; None in a child that only predicts."""
    test: pd.DataFrame | None
    """The label-free holdout view; None in a child that does not predict."""
    save_to: Path | None = None
    """Where ``fit`` ends by saving the solution (``Solution.save``, timed in fit)."""
    load_from: Path | None = None
    """Where ``predict`` starts by loading the solution (``Solution.load``, timed in predict)."""
    offline: bool = False
    """Network access fails from the start of predict (harness.engine.offline)."""
    tables_file: Path | None = None
    """Where ``train`` and ``test`` wait for the child, which reads and deletes the file
    (``hand_over_tables``); the spec itself then travels without them."""


def hand_over_tables(spec: ChildSpec, folder: Path) -> ChildSpec:
    """``spec`` without its tables, which go to a file in ``folder`` for the child to read.

    A spawned child receives its arguments through a pipe that the parent writes whole before
    ``Process.start`` returns, and keeps the pipe's read end open until then: a child that died
    before reading 200 MB of tables (killed at start-up, a broken environment) left the harness
    blocked in that write for good, deaf to Ctrl-C. A spec without tables fits in the pipe.
    """
    fd, name = tempfile.mkstemp(dir=folder, prefix=".child-tables-", suffix=".pkl")
    with os.fdopen(fd, "wb") as fh:
        pickle.dump((spec.train, spec.test), fh, protocol=pickle.HIGHEST_PROTOCOL)
    return dataclasses.replace(spec, train=None, test=None, tables_file=Path(name))


def _take_tables(spec: ChildSpec) -> ChildSpec:
    """The spec with the tables the parent handed over (the file is gone afterwards)."""
    if spec.tables_file is None:
        return spec
    with spec.tables_file.open("rb") as fh:
        train, test = pickle.load(fh)
    spec.tables_file.unlink()
    return dataclasses.replace(spec, train=train, test=test, tables_file=None)


def _cpu_seconds() -> float:
    """User+system CPU of this process and its reaped children (data-loader workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _redirect_output(log_path: Path) -> None:
    """Send this process's stdout/stderr (native libraries included) to the run log."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    logging.captureWarnings(True)


def _detach_from_terminal() -> None:
    """Own process group, so a terminal's Ctrl-C reaches only the harness, which stops us.

    The harness then knows which phase was interrupted and records it; a child that saw the
    SIGINT itself would die with a KeyboardInterrupt from anywhere in the solution.
    """
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _die_with_parent() -> None:
    """End this run (and the workers it started) if the harness process dies.

    A SIGKILLed harness cannot kill its child; the child notices it was re-parented and takes
    its whole process group down, so no orphaned training keeps a GPU busy.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="harness-parent-watch", daemon=True).start()


class _ProgressSender:
    """Forwards ``ctx.progress`` to the harness, at most every PROGRESS_INTERVAL_S (and last)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._last = 0.0

    def __call__(self, done: int, total: int | None, unit: str, items: int | None) -> None:
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL_S and (total is None or done < total):
            return
        self._last = now
        self._conn.send(Progress(done, total, unit, items))


def _seed_python_and_numpy(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls ``then`` once, right after the first import of module ``name`` has executed it."""

    def __init__(self, name: str, then: Callable[[], None]) -> None:
        self.name = name
        self.then = then

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            execute = spec.loader.exec_module

            def exec_module(module: ModuleType) -> None:
                execute(module)
                self.then()

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _configure_torch_when_imported(spec: ChildSpec) -> None:
    """Seed torch and apply the budget's CPU threads and GPU memory cap once torch is imported.

    Importing torch costs over a second of CPU, which a run whose solution never imports it
    should not pay. A solution that does import it (at its module's top or inside a phase) finds
    torch configured the moment its ``import torch`` returns, before any of its code runs torch.
    """
    if "torch" in sys.modules:
        _configure_torch(spec)
    else:
        sys.meta_path.insert(0, _AfterImport("torch", lambda: _configure_torch(spec)))


def _configure_torch(spec: ChildSpec) -> None:
    import torch

    torch.manual_seed(spec.seed)
    torch.set_num_threads(max(1, spec.budget.cpu_workers))
    if spec.device == "cuda" and spec.budget.gpu_memory_gb is not None:
        total_gb = torch.cuda.get_device_properties(0).total_memory / 2**30
        fraction = min(1.0, spec.budget.gpu_memory_gb / total_gb)
        torch.cuda.set_per_process_memory_fraction(fraction, 0)
        logging.getLogger(__name__).info(
            "GPU memory capped at %.1f GB of %.1f GB (fraction %.3f) by budget %s",
            spec.budget.gpu_memory_gb,
            total_gb,
            fraction,
            spec.budget.name,
        )


def _gpu_peak_gb(device: str) -> float | None:
    if device != "cuda":
        return None
    import torch

    return torch.cuda.max_memory_allocated() / 2**30


def _is_oom(exc: BaseException) -> bool:
    torch = sys.modules.get("torch")  # not imported: the error cannot be torch's
    return isinstance(exc, MemoryError) or (
        torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError)
    )


def _run_phase(phase: str, solution: Solution, spec: ChildSpec, ctx: RunContext) -> Any:
    """One phase of the solution; what predict returned, else None."""
    if phase == "predict":
        assert spec.test is not None
        if spec.offline:
            forbid_network(phase)
        if spec.load_from is not None:
            solution.load(spec.load_from, ctx)
        return solution.predict(DataView(spec.task, spec.test, has_labels=False), ctx)
    assert spec.train is not None
    train = DataView(spec.task, spec.train, has_labels=True)
    if phase == "prepare":
        solution.prepare(train, ctx)
    else:
        solution.fit(train, ctx)
        if spec.save_to is not None:
            solution.save(spec.save_to, ctx)
    return None


def child_main(spec: ChildSpec, conn: Connection) -> None:
    """Entry point of a spawned run process: ``spec.phases``, then Done (with the submission
    path where this child predicted)."""
    _detach_from_terminal()
    _die_with_parent()
    _redirect_output(spec.run_dir / LOG_FILE)
    log = logging.getLogger("harness.engine.worker")
    try:
        from harness.engine.registry import load_solution

        spec = _take_tables(spec)
        _seed_python_and_numpy(spec.seed)
        _configure_torch_when_imported(spec)
        solution = load_solution(spec.task, spec.solution)(spec.solution_config)
        submission: Any = None
        progress = _ProgressSender(conn)
        for phase in spec.phases:
            conn.send(PhaseStarted(phase))
            log.info("phase %s started", phase)
            ctx = RunContext(
                run_dir=spec.run_dir,
                cache_dir=spec.cache_dir,
                budget=PhaseBudget(spec.budget, phase),
                seed=spec.seed,
                device=spec.device,
                log=logging.getLogger(f"solution.{spec.solution}"),
                report_fn=lambda metrics, step: conn.send(Metrics(metrics, step)),
                fact_fn=lambda name, value: conn.send(Fact(name, value)),
                progress_fn=progress,
            )
            if spec.device == "cuda":
                import torch

                torch.cuda.reset_peak_memory_stats()
            cpu0, wall0 = _cpu_seconds(), time.perf_counter()
            submission = _run_phase(phase, solution, spec, ctx)
            ended = PhaseEnded(
                phase,
                wall_s=time.perf_counter() - wall0,
                cpu_s=_cpu_seconds() - cpu0,
                rss_mb=tree_rss_mb(psutil.Process()),
                gpu_peak_mem_gb=_gpu_peak_gb(spec.device),
            )
            log.info("phase %s finished in %.1f s", phase, ended.wall_s)
            conn.send(ended)
        path: str | None = None
        if "predict" in spec.phases:
            if not isinstance(submission, pd.DataFrame):
                raise TypeError(
                    f"{spec.solution}.predict returned {type(submission).__name__}, "
                    "expected a pandas DataFrame in the task's submission format"
                )
            path = str(spec.run_dir / SUBMISSION_FILE)
            submission.to_csv(path, index=False)
        conn.send(Done(path))
    except BaseException as exc:
        log.error("run failed:\n%s", traceback.format_exc())
        kind = "oom" if _is_oom(exc) else "failed"
        conn.send(Failed(kind, f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()
        _exit_now()


def _exit_now() -> None:
    """End the run process without the interpreter's teardown.

    Everything the parent needs has been sent; tearing down torch, CUDA and the solution's
    objects took seconds per run (sweep overhead). What the teardown did for multiprocessing
    children is done here: daemonic ones (DataLoader workers) are terminated, others joined.
    Any other process the solution started is left alone, so the contract still sees a leak.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    for child in multiprocessing.active_children():
        if child.daemon:
            child.terminate()
        child.join(timeout=5)
    os._exit(0)
