"""executor=local: runs in parallel on this machine, each pinned to its own GPUs.

A run starts when what its budget asks for is free: ``budget.gpus`` whole devices (handed to
the run through CUDA_VISIBLE_DEVICES, so two runs never share a GPU) and
``max(1, budget.cpu_workers)`` of the ``cpus`` cores (a CPU run sees no GPU at all; a budget
asking for more cores than there are runs alone). Until then it waits in the queue, and so do
all runs while available memory is under ``min_free_gb`` and a run is going. Runs are threads
of this process, each supervising its own child process, so a crash, OOM or timeout stays
inside its run.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import psutil

from harness.api import HarnessError
from harness.engine import gpu
from harness.engine.sweep.board import Board
from harness.engine.sweep.outcome import NOT_STARTED, RunOutcome, run_one
from harness.engine.sweep.plan import PlannedRun

_GB = 2**30


def visible_gpus() -> list[int]:
    """GPU indices this process may use: CUDA_VISIBLE_DEVICES if set, else every NVML device."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is None:
        return list(range(len(gpu.device_names())))
    ids = [item.strip() for item in listed.split(",") if item.strip()]
    if not all(item.isdigit() for item in ids):
        raise HarnessError(
            f"CUDA_VISIBLE_DEVICES={listed!r}: the local executor needs device indices "
            "(e.g. 0,1), not UUIDs"
        )
    return [int(item) for item in ids]


@dataclass
class _Pool:
    """The GPUs and CPU cores not in use; a run takes what its budget needs and gives it back."""

    gpus: list[int]
    cpus: int
    """All the cores runs are scheduled on."""
    max_parallel: int | None = None
    min_free_gb: float = 0.0
    free_cpus: int = field(init=False)
    running: int = 0

    def __post_init__(self) -> None:
        self.free_cpus = self.cpus

    def cpu_need(self, plan: PlannedRun) -> int:
        """Cores ``plan`` holds while it runs: its budget's workers, at least one, at most all."""
        return min(max(1, plan.budget.cpu_workers), self.cpus)

    def waiting_for(self, plan: PlannedRun, available_gb: float) -> str:
        """What ``plan`` waits for ("" when it can start now), given the available memory."""
        if self.max_parallel is not None and self.running >= self.max_parallel:
            return f"waiting: max_parallel={self.max_parallel} runs are running"
        if len(self.gpus) < plan.budget.gpus:
            return f"waiting for {plan.budget.gpus} free GPU(s)"
        if self.free_cpus < self.cpu_need(plan):
            return f"waiting for cores ({self.cpu_need(plan)} of {self.cpus})"
        if self.running and available_gb < self.min_free_gb:
            return (
                f"waiting for memory ({available_gb:.1f} GB available, "
                f"min_free_gb={self.min_free_gb:g})"
            )
        return ""

    def take(self, plan: PlannedRun) -> list[int]:
        """Hold ``plan``'s cores and GPUs (those returned); call once waiting_for says ""."""
        taken, self.gpus = self.gpus[: plan.budget.gpus], self.gpus[plan.budget.gpus :]
        self.free_cpus -= self.cpu_need(plan)
        self.running += 1
        return taken

    def give_back(self, plan: PlannedRun, gpus: list[int]) -> None:
        self.gpus = sorted(self.gpus + gpus)
        self.free_cpus += self.cpu_need(plan)
        self.running -= 1


def _available_gb() -> float:
    return psutil.virtual_memory().available / _GB


class LocalExecutor:
    def __init__(
        self, cpus: int | None = None, max_parallel: int | None = None, min_free_gb: float = 0.0
    ) -> None:
        self.cpus = cpus or os.cpu_count() or 1
        self.max_parallel = max_parallel
        self.min_free_gb = min_free_gb
        self.gpus = visible_gpus()

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def run(self, plans: list[PlannedRun], board: Board, stop: threading.Event) -> None:
        """Run ``plans`` to the end, or until ``stop`` (in-flight runs are then interrupted)."""
        pool = _Pool(list(self.gpus), self.cpus, self.max_parallel, self.min_free_gb)
        pending: list[PlannedRun] = []
        for plan in plans:
            if plan.budget.gpus > len(self.gpus):
                board.finish(plan.index, self._too_big(plan))
            else:
                pending.append(plan)
        running: dict[Future[RunOutcome], tuple[PlannedRun, list[int]]] = {}
        with ThreadPoolExecutor(max_workers=max(1, len(pending))) as threads:
            while running or (pending and not stop.is_set()):
                available_gb = _available_gb()
                for plan in list(pending):
                    if stop.is_set():
                        break
                    waiting = pool.waiting_for(plan, available_gb)
                    if waiting:
                        board.wait(plan.index, waiting)
                        continue
                    pending.remove(plan)
                    gpus = pool.take(plan)
                    board.start(plan.index, f"GPU {','.join(map(str, gpus))}" if gpus else "")
                    future = threads.submit(
                        run_one,
                        plan,
                        functools.partial(board.progress, plan.index),
                        gpus,
                        stop,
                    )
                    running[future] = (plan, gpus)
                done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    plan, gpus = running.pop(future)
                    pool.give_back(plan, gpus)
                    board.finish(plan.index, future.result())

    def _too_big(self, plan: PlannedRun) -> RunOutcome:
        return RunOutcome(
            NOT_STARTED,
            error=(
                f"budget {plan.budget.name} needs {plan.budget.gpus} GPU(s) and this machine "
                f"has {len(self.gpus)} visible; use executor=ray on a GPU cluster"
            ),
        )
