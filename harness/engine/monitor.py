"""Samples a run's process tree (RSS) and its GPUs (NVML) per phase from the parent process.

Wall and CPU time come from the child itself (exact, around the one timed call); what can only
be seen from outside, memory peaks of the whole tree including data-loader workers and GPU
utilisation, is sampled here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import psutil

from harness.engine import gpu


@dataclass
class _PhaseSamples:
    peak_rss_mb: float = 0.0
    gpu_util: list[float] = field(default_factory=list)
    gpu_mem_peak_gb: float = 0.0


def tree_rss_mb(process: psutil.Process) -> float:
    """Resident memory of ``process`` and all its descendants in MB (0 once it has exited)."""
    try:
        procs = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


class ProcessMonitor:
    """Background sampler; ``phase`` labels the samples taken from now on."""

    def __init__(self, pid: int, gpu_indices: list[int], interval_s: float = 0.2) -> None:
        self._process = psutil.Process(pid)
        self._gpu_indices = gpu_indices
        self._interval_s = interval_s
        self._phase: str | None = None
        self._samples: dict[str, _PhaseSamples] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="harness-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def set_phase(self, phase: str | None) -> None:
        with self._lock:
            self._phase = phase
            if phase is not None:
                self._samples.setdefault(phase, _PhaseSamples())
        if phase is not None:
            self._sample_once()

    def peak_rss_mb(self, phase: str) -> float:
        with self._lock:
            return self._samples.get(phase, _PhaseSamples()).peak_rss_mb

    def gpu_util_mean(self, phase: str) -> float | None:
        with self._lock:
            utils = self._samples.get(phase, _PhaseSamples()).gpu_util
            return sum(utils) / len(utils) if utils else None

    def gpu_mem_peak_gb(self, phase: str) -> float | None:
        with self._lock:
            peak = self._samples.get(phase, _PhaseSamples()).gpu_mem_peak_gb
        return peak if self._gpu_indices and gpu.nvml_available() else None

    def _sample_once(self) -> None:
        rss = tree_rss_mb(self._process)
        gpus = gpu.sample(self._gpu_indices)
        with self._lock:
            if self._phase is None:
                return
            bucket = self._samples[self._phase]
            bucket.peak_rss_mb = max(bucket.peak_rss_mb, rss)
            if gpus:
                bucket.gpu_util.append(sum(s.utilisation_pct for s in gpus) / len(gpus))
                bucket.gpu_mem_peak_gb = max(
                    bucket.gpu_mem_peak_gb, max(s.memory_used_gb for s in gpus)
                )

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._sample_once()
