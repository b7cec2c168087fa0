"""executor=ray: each run is a Ray task that asks for its budget's GPUs and CPUs.

``ray_address`` joins a running cluster (``auto``, ``ray://head:10001``); without it a local
Ray is started with ``cpus`` logical CPUs and this machine's GPUs. Ray pins each task to its
GPUs (CUDA_VISIBLE_DEVICES); the run inside it supervises its child process as on one machine.
Workers need the project and the plug-ins installed, and the sweep's ``results_dir`` and
tracking URI must mean the same on every node (a shared folder, a tracking server).

A small actor carries progress lines from the workers to the live table and the stop signal
back: on Ctrl-C every running run kills its child and records itself as interrupted.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import ray

from harness.api import HarnessError
from harness.engine.sweep.board import Board
from harness.engine.sweep.outcome import INTERRUPTED, NOT_STARTED, RunOutcome, run_one
from harness.engine.sweep.plan import PlannedRun

_POLL_S = 0.5
_DRAIN_TIMEOUT_S = 120.0
"""How long an interrupted sweep waits for its running tasks to record themselves."""


@ray.remote(num_cpus=0)
class _Messages:
    """Progress lines and start events from the tasks; the stop flag from the driver."""

    def __init__(self) -> None:
        self._events: list[tuple[str, int, str]] = []
        self._stopped = False

    def post(self, kind: str, index: int, text: str) -> None:
        self._events.append((kind, index, text))

    def drain(self) -> list[tuple[str, int, str]]:
        events, self._events = self._events, []
        return events

    def stop(self) -> None:
        self._stopped = True

    def stopped(self) -> bool:
        return self._stopped


def _run_task(plan: PlannedRun, messages: Any) -> RunOutcome:
    """Body of one Ray task: the run, with a watcher that turns the stop flag into a cancel."""
    if ray.get(messages.stopped.remote()):
        return RunOutcome(NOT_STARTED, error="not started: the sweep was stopped")
    gpus = [int(g) for g in ray.get_gpu_ids()]
    where = socket.gethostname() + (f" GPU {','.join(map(str, gpus))}" if gpus else "")
    messages.post.remote("start", plan.index, where)
    cancel = threading.Event()
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(_POLL_S):
            if ray.get(messages.stopped.remote()):
                cancel.set()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return run_one(
            plan,
            lambda msg: messages.post.remote("progress", plan.index, msg),
            gpus,
            cancel,
        )
    finally:
        finished.set()


_remote_run = ray.remote(max_retries=0)(_run_task)


class RayExecutor:
    def __init__(
        self, address: str | None = None, cpus: int | None = None, max_parallel: int | None = None
    ) -> None:
        self.address = address
        self.cpus = cpus
        self.max_parallel = max_parallel
        self._started_here = False

    def __enter__(self) -> RayExecutor:
        """Join or start Ray (from the main thread: Ray sets signal handlers there)."""
        self._started_here = not ray.is_initialized()
        if self._started_here:
            local = self.address is None
            try:
                ray.init(
                    address=self.address,
                    num_cpus=self.cpus if local else None,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise HarnessError(f"could not start or join Ray ({self.address}): {exc}") from exc
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._started_here:
            ray.shutdown()

    def run(self, plans: list[PlannedRun], board: Board, stop: threading.Event) -> None:
        messages = _Messages.remote()  # type: ignore[attr-defined]
        pending = list(plans)
        in_flight: dict[Any, PlannedRun] = {}
        stopping_since: float | None = None
        while pending or in_flight:
            if stop.is_set() and stopping_since is None:
                ray.get(messages.stop.remote())
                stopping_since = time.monotonic()
                for plan in pending:
                    board.finish(plan.index, RunOutcome(NOT_STARTED, error="not started"))
                pending = []
            limit = self.max_parallel or len(plans)
            while pending and len(in_flight) < limit:
                plan = pending.pop(0)
                ref = _remote_run.options(
                    num_cpus=plan.budget.cpu_workers, num_gpus=plan.budget.gpus
                ).remote(plan, messages)
                in_flight[ref] = plan
            done, _ = ray.wait(list(in_flight), num_returns=1, timeout=_POLL_S)
            self._relay(ray.get(messages.drain.remote()), board)
            for ref in done:
                plan = in_flight.pop(ref)
                board.finish(plan.index, self._outcome(ref))
            if stopping_since is not None and time.monotonic() - stopping_since > _DRAIN_TIMEOUT_S:
                for ref, plan in in_flight.items():
                    ray.cancel(ref, force=True)
                    board.finish(plan.index, RunOutcome(INTERRUPTED, error="killed by Ray"))
                return

    @staticmethod
    def _relay(events: list[tuple[str, int, str]], board: Board) -> None:
        for kind, index, text in events:
            if kind == "start":
                board.start(index, text)
            else:
                board.progress(index, text)

    @staticmethod
    def _outcome(ref: Any) -> RunOutcome:
        """The task's outcome, or the Ray error (a worker killed by the OS, a lost node)."""
        try:
            outcome = ray.get(ref)
        except ray.exceptions.RayError as exc:
            return RunOutcome("failed", error=f"Ray task failed: {exc}".splitlines()[0])
        assert isinstance(outcome, RunOutcome)
        return outcome
