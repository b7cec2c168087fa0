"""``harness sweep``: expand the grid, skip what already finished, run the rest, summarise.

Resuming is re-running the same command: runs whose config hash finished ok in the MLflow
store are skipped; anything else (failed, timed out, interrupted, never started) runs again.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Protocol

from rich.console import Console
from rich.live import Live

from harness.api import Budget
from harness.engine.budgets import BUDGETS
from harness.engine.config import ConfigError, merge_overrides
from harness.engine.sweep.board import Board, RunState
from harness.engine.sweep.completed import find_completed
from harness.engine.sweep.data import prepare_data
from harness.engine.sweep.display import failures, print_summary, progress_table
from harness.engine.sweep.plan import PlannedRun, plan_sweep

EXECUTORS = ("local", "ray")


@dataclass
class SweepArgs:
    """The sweep's own keys; every other key is a run key, and may list values."""

    executor: str = "local"
    """local (this machine, one run per free GPU or per budget's share of the cores) or ray."""
    cpus: int | None = None
    """CPU cores to schedule on (local executor, or the local Ray it starts): default all."""
    max_parallel: int | None = None
    """At most this many runs at once (default: as many as the resources allow)."""
    ray_address: str | None = None
    """An existing Ray cluster (auto, ray://head:10001); default: start a local Ray."""
    min_free_gb: float = 2.0
    """Local executor: start no run while less memory is available, unless none is running."""


class Executor(Protocol):
    """Entered in the main thread (set-up, tear-down); ``run`` is called from a worker thread."""

    def __enter__(self) -> Executor: ...

    def __exit__(self, *_exc: object) -> None: ...

    def run(self, plans: list[PlannedRun], board: Board, stop: threading.Event) -> None: ...


@dataclass
class SweepResult:
    states: list[RunState]
    interrupted: bool

    @property
    def failed(self) -> list[RunState]:
        return failures(self.states)


def split_args(args: list[str]) -> tuple[SweepArgs, list[str]]:
    """The sweep's own keys parsed into SweepArgs, and the run keys left as they are."""
    names = {f.name for f in dataclasses.fields(SweepArgs)}
    own = [a for a in args if a.partition("=")[0] in names]
    sweep_args = merge_overrides(SweepArgs, [], own, where="")
    assert isinstance(sweep_args, SweepArgs)
    if sweep_args.executor not in EXECUTORS:
        raise ConfigError(f"executor={sweep_args.executor}: choose one of {', '.join(EXECUTORS)}")
    for name in ("cpus", "max_parallel"):
        value = getattr(sweep_args, name)
        if value is not None and value < 1:
            raise ConfigError(f"{name}={value}: needs at least 1")
    if sweep_args.min_free_gb < 0:
        raise ConfigError(f"min_free_gb={sweep_args.min_free_gb}: needs 0 or more")
    return sweep_args, [a for a in args if a not in own]


def make_executor(args: SweepArgs) -> Executor:
    if args.executor == "ray":
        from harness.engine.sweep.ray_executor import RayExecutor

        return RayExecutor(args.ray_address, args.cpus, args.max_parallel)
    from harness.engine.sweep.local import LocalExecutor

    return LocalExecutor(args.cpus, args.max_parallel, args.min_free_gb)


@contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """SIGTERM stops the sweep as Ctrl-C does (only the main thread can set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_sweep(
    args: list[str],
    console: Console,
    force: bool = False,
    dry_run: bool = False,
    budgets: Mapping[str, Budget] = BUDGETS,
) -> SweepResult:
    """Plan (budget names looked up in ``budgets``), skip completed runs (unless ``force``),
    execute the rest with a live table."""
    sweep_args, run_args = split_args(args)
    plans = plan_sweep(run_args, budgets)
    board = Board(plans)
    if not force:
        completed = find_completed(plans)
        for plan in plans:
            if plan.config_hash in completed:
                board.skip(plan.index, completed[plan.config_hash])
    if dry_run:
        console.print(progress_table(board.states(), title="plan"))
        return SweepResult(board.states(), interrupted=False)
    to_run = board.queued()
    if not to_run:
        console.print(progress_table(board.states()))
        print_summary(console, board.states(), interrupted=False)
        return SweepResult(board.states(), interrupted=False)
    prepare_data(to_run, console)
    executor = make_executor(sweep_args)
    stop = threading.Event()
    finished = threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            executor.run(to_run, board, stop)
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)
            stop.set()

    worker = threading.Thread(target=work, name="harness-sweep", daemon=True)
    with (
        executor,
        _stop_on_sigterm(stop),
        Live(
            get_renderable=lambda: progress_table(
                board.states(), max_rows=None if finished.is_set() else console.height - 8
            ),
            console=console,
            refresh_per_second=2,
        ),
    ):
        worker.start()
        while worker.is_alive():
            try:
                worker.join(timeout=0.5)
            except KeyboardInterrupt:
                if stop.is_set():  # a second Ctrl-C: stop waiting for the runs to record
                    raise
                stop.set()
        finished.set()  # the last render, which stays on screen, shows every run
    if errors:
        raise errors[0]
    states = board.states()
    console.line()
    print_summary(console, states, interrupted=stop.is_set())
    return SweepResult(states, interrupted=stop.is_set())
