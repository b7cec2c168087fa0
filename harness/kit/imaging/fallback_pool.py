"""pydicom decoding in worker processes, for the files DALI does not decode.

pydicom's decoder plug-ins (pylibjpeg-openjpeg, pylibjpeg-libjpeg) are not thread-safe, so
decoding in parallel takes processes. Workers start from a 'forkserver' context, never 'fork':
the parent holds DALI's and torch's threads, which a forked child would inherit mid-lock, and a
forkserver child is cheaper to start than a 'spawn' one once the server is up. Each worker reads
the file itself (the page cache makes the second read cheap) and sends back only the decoded
pixels, so no dataset is pickled.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from harness.kit.imaging.dicom import DicomReadError, pixel_array, read_dataset

log = logging.getLogger(__name__)


def decode_file(path: Path) -> np.ndarray:
    """The stored pixel values of ``path`` as pydicom decodes them (run in a worker)."""
    return pixel_array(path, read_dataset(path, stop_before_pixels=False))


class PydicomPool:
    """``workers`` processes decoding DICOM files with pydicom; started on the first submit."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> PydicomPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def started(self) -> bool:
        """Whether the worker processes are running (or starting)."""
        return self._executor is not None

    def submit(self, path: Path) -> Future[np.ndarray]:
        """A future of ``decode_file(path)``; collect it with ``result``."""
        return self._started().submit(decode_file, path)

    def result(self, future: Future[np.ndarray], path: Path) -> np.ndarray:
        """The pixels, or the file's DicomReadError; a worker that died names the file (and
        the next ``submit`` starts a fresh pool)."""
        try:
            return future.result()
        except BrokenProcessPool as err:
            self.close()
            raise DicomReadError(
                path,
                "a pydicom decoding process died (a decoder crash?) while this file was queued",
                "decode it alone (read_dicom) to see whether this file crashes the decoder",
            ) from err

    def warm_up(self) -> None:
        """Start every worker and wait until each has run a task, so that their start-up is
        not paid inside a timed decode (a worker up first would otherwise take every task
        while the others are still importing)."""
        executor = self._started()
        ready: set[int] = set()
        while len(ready) < self.workers:
            ready.update(f.result() for f in [executor.submit(_ready) for _ in range(self.workers)])

    def _started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            log.debug("starting %d pydicom decoding process(es)", self.workers)
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("forkserver")
            )
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _ready() -> int:
    """The worker's process id, after a pause that leaves the other tasks to other workers."""
    time.sleep(0.05)
    return os.getpid()
