"""executor=local: runs in parallel on this machine, each pinned to its own GPUs.

A run starts when what its budget asks for is free: ``budget.gpus`` whole devices (handed to
the run through CUDA_VISIBLE_DEVICES, so two runs never share a GPU) and ``budget.cpu_workers``
of the ``cpus`` cores (a CPU run sees no GPU at all). Runs are threads of this process, each
supervising its own child process, so a crash, OOM or timeout stays inside its run.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from harness import gpu
from harness.api import HarnessError
from harness.sweep.board import Board
from harness.sweep.outcome import NOT_STARTED, RunOutcome, run_one
from harness.sweep.plan import PlannedRun


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
    """Free GPUs and CPU cores; a run takes what its budget needs and gives it back."""

    gpus: list[int]
    cpus: int
    max_parallel: int | None
    running: int = 0

    def cpu_need(self, plan: PlannedRun) -> int:
        return min(plan.budget.cpu_workers, self.cpus)

    def take(self, plan: PlannedRun) -> list[int] | None:
        """The GPUs given to ``plan`` (maybe none), or None while it does not fit."""
        full = self.max_parallel is not None and self.running >= self.max_parallel
        if full or len(self.gpus) < plan.budget.gpus or self.cpus < self.cpu_need(plan):
            return None
        taken, self.gpus = self.gpus[: plan.budget.gpus], self.gpus[plan.budget.gpus :]
        self.cpus -= self.cpu_need(plan)
        self.running += 1
        return taken

    def give_back(self, plan: PlannedRun, gpus: list[int]) -> None:
        self.gpus = sorted(self.gpus + gpus)
        self.cpus += self.cpu_need(plan)
        self.running -= 1


class LocalExecutor:
    def __init__(self, cpus: int | None = None, max_parallel: int | None = None) -> None:
        self.cpus = cpus or os.cpu_count() or 1
        self.max_parallel = max_parallel
        self.gpus = visible_gpus()

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def run(self, plans: list[PlannedRun], board: Board, stop: threading.Event) -> None:
        """Run ``plans`` to the end, or until ``stop`` (in-flight runs are then interrupted)."""
        pool = _Pool(list(self.gpus), self.cpus, self.max_parallel)
        pending: list[PlannedRun] = []
        for plan in plans:
            if plan.budget.gpus > len(self.gpus):
                board.finish(plan.index, self._too_big(plan))
            else:
                pending.append(plan)
        running: dict[Future[RunOutcome], tuple[PlannedRun, list[int]]] = {}
        with ThreadPoolExecutor(max_workers=max(1, len(pending))) as threads:
            while running or (pending and not stop.is_set()):
                for plan in list(pending):
                    if stop.is_set():
                        break
                    gpus = pool.take(plan)
                    if gpus is None:
                        continue
                    pending.remove(plan)
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
