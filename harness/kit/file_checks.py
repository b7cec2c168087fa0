"""The per-file part of ``harness data check``: which files are opened, in how many processes.

A task's layout lists the files (or studies) it wants opened and a per-file check; ``Opening``
picks which ones (``limit``: the first N, ``sample``: N at random, seeded) and runs the check
over a pool of processes with a progress bar on stderr, handing each problem to ``on_problem``
as soon as a worker returns it. Processes, not threads: pydicom and the JPEG 2000 codecs are not
thread-safe, and a decode is CPU-bound. The "spawn" start method does not copy the parent's
threads and locks into the workers, so the check must be a module-level function (or a
``functools.partial`` of one) whose module the workers can import.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Task as ProgressTask
from rich.text import Text

from harness.api import DataProblem, HarnessError
from harness.kit.durations import duration

log = logging.getLogger(__name__)

T = TypeVar("T")
V = TypeVar("V")

ProblemCallback = Callable[[DataProblem], None]

MAX_DEFAULT_WORKERS = 16
"""``default_workers`` caps the CPU count here: past it, the disk is the bottleneck."""
HEADER_CHUNK = 512
"""Files per round trip to a worker when only headers are read (a quarter of a millisecond
each: a pool pays for its start-up from about 8,000 headers with 2 workers)."""
DECODE_CHUNK = 2
"""Files per round trip when pixels are decoded (up to about 1 s each)."""
_CHUNKS_PER_WORKER = 4
"""At least this many chunks per worker, so that a slow chunk does not leave the others idle."""
POOL_MIN_CHUNKS = 8
"""A pool is started only for at least this many full chunks per worker: the pool costs about
a second to start, as much as one process needs for about 4,000 headers or 20 small decodes."""
PROGRESS_LINE_S = float(os.environ.get("HARNESS_PROGRESS_S", "10"))
"""Off a terminal, a progress line is logged at most this often (as `harness run` does)."""


def files_per_chunk(decode: bool) -> int:
    """Files per round trip to a worker: a few pixel decodes, or many header reads."""
    return DECODE_CHUNK if decode else HEADER_CHUNK


@dataclass(frozen=True)
class Checked(Generic[V]):
    """What a per-file check found: its problems, and what it read (a header's size, say)."""

    problems: tuple[DataProblem, ...] = ()
    value: V | None = None


def read_checked(
    path: Path,
    read: Callable[[Path], V],
    *,
    decode: Callable[[Path], object] | None,
    error: type[Exception],
    problem: Callable[[Any], DataProblem],
) -> Checked[V]:
    """What ``read`` gives of ``path`` once ``decode`` (if any) also succeeds; on ``error``, the
    ``problem`` made of it, with what was read before it failed."""
    value = None
    try:
        value = read(path)
        if decode is not None:
            decode(path)
    except error as err:
        return Checked((problem(err),), value)
    return Checked(value=value)


def default_workers() -> int:
    """The CPUs this process may run on, at most ``MAX_DEFAULT_WORKERS``."""
    return max(1, min(len(os.sched_getaffinity(0)), MAX_DEFAULT_WORKERS))


@dataclass(frozen=True)
class Opening:
    """Which of the files found are opened (``limit`` or ``sample``), and by how many workers.

    ``limit``: the first N, in the layout's order. ``sample``: N chosen at random with ``seed``
    (all of them when there are fewer), checked in the layout's order. The two together are
    refused. ``workers=1`` checks in this process; more start a pool of that many processes.
    """

    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    workers: int = 1
    on_problem: ProblemCallback | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and self.sample is not None:
            raise ValueError("give limit (the first N files) or sample (N at random), not both")
        if self.workers < 1:
            raise ValueError(f"workers must be 1 or more, not {self.workers}")

    def choose(self, items: Sequence[T]) -> list[T]:
        """The items to open, in their order in ``items``."""
        if self.limit is not None:
            return list(items[: self.limit])
        if self.sample is None or self.sample >= len(items):
            return list(items)
        picked = sorted(random.Random(self.seed).sample(range(len(items)), self.sample))
        return [items[i] for i in picked]

    def run(
        self,
        check: Callable[[T], Checked[V]],
        items: Sequence[T],
        *,
        chunk_size: int = HEADER_CHUNK,
        what: str = "files",
    ) -> list[tuple[T, Checked[V]]]:
        """``check`` of each chosen item, paired with it, in the order of ``items``."""
        chosen = self.choose(items)
        results = check_files(
            check,
            chosen,
            workers=self.workers,
            on_problem=self.on_problem,
            chunk_size=chunk_size,
            what=what,
        )
        return list(zip(chosen, results, strict=True))

    def open_files(
        self,
        check: Callable[[tuple[str, Path]], Checked[V]],
        files: Sequence[tuple[str, Path]],
        *,
        decode: bool,
    ) -> tuple[list[DataProblem], dict[str, V]]:
        """``check`` of the chosen ``(id, path)`` files: their problems in file order, and what
        it read of each file that gave a value, by id (``decode`` sizes the chunks)."""
        problems: list[DataProblem] = []
        values: dict[str, V] = {}
        for (file_id, _), checked in self.run(check, files, chunk_size=files_per_chunk(decode)):
            problems += checked.problems
            if checked.value is not None:
                values[file_id] = checked.value
        return problems, values


EVERY_FILE = Opening()
"""Every file, in this process, problems returned only: the default of the layouts' checks."""


def check_files(
    check: Callable[[T], Checked[V]],
    items: Sequence[T],
    *,
    workers: int = 1,
    on_problem: ProblemCallback | None = None,
    chunk_size: int = HEADER_CHUNK,
    what: str = "files",
) -> list[Checked[V]]:
    """``check(item)`` for every item, in the order of ``items``, with a progress bar.

    Each problem goes to ``on_problem`` as soon as its chunk is done (in completion order, so
    not in the order of ``items`` with several workers). ``chunk_size`` items travel to a worker
    at a time; fewer when there are too few items to keep every worker busy.
    """
    if len(items) < POOL_MIN_CHUNKS * chunk_size * workers:
        workers = 1
    chunks = _chunks(items, chunk_size, workers)
    results: list[list[Checked[V]]] = [[] for _ in chunks]
    with _progress(f"opening {what}", len(items)) as advance:
        for index, checked in _results(check, chunks, workers):
            results[index] = checked
            for found in checked:
                for problem in found.problems:
                    if on_problem is not None:
                        on_problem(problem)
            advance(len(checked))
    return [found for chunk in results for found in chunk]


def _chunks(items: Sequence[T], chunk_size: int, workers: int) -> list[Sequence[T]]:
    size = max(1, min(chunk_size, len(items) // (workers * _CHUNKS_PER_WORKER)))
    return [items[i : i + size] for i in range(0, len(items), size)]


_CLEAN: Checked[Any] = Checked()
"""The result of a file with nothing to say, shared: a worker's chunk carries it once, not once
per file (752,803 copies for rsna-ich's ``data check``, 75 MB of the harness' peak)."""


def _check_chunk(check: Callable[[T], Checked[V]], chunk: Sequence[T]) -> list[Checked[V]]:
    return [_shared(check(item)) for item in chunk]


def _shared(found: Checked[V]) -> Checked[V]:
    return _CLEAN if not found.problems and found.value is None else found


def _results(
    check: Callable[[T], Checked[V]], chunks: list[Sequence[T]], workers: int
) -> Iterator[tuple[int, list[Checked[V]]]]:
    """(chunk index, its results) as each chunk is done: here, or in a pool of ``workers``."""
    if workers <= 1:
        for index, chunk in enumerate(chunks):
            yield index, _check_chunk(check, chunk)
        return
    log.debug("checking %d chunk(s) in %d processes", len(chunks), workers)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: dict[Future[list[Checked[V]]], int] = {
            pool.submit(_check_chunk, check, chunk): index for index, chunk in enumerate(chunks)
        }
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    try:
                        yield index, future.result()
                    except BrokenProcessPool:
                        raise _worker_died(chunks[index]) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _worker_died(chunk: Sequence[object]) -> HarnessError:
    shown = ", ".join(map(str, chunk[:4])) + (", ..." if len(chunk) > 4 else "")
    return HarnessError(
        f"a check process died (a decoder crash?) while opening one of: {shown}; "
        "run again with workers=1 to see which file and why, or move these files aside"
    )


@contextlib.contextmanager
def _progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``: a live bar on a terminal's stderr; else a logged line at most every
    PROGRESS_LINE_S (CI logs, nohup), with the rate and ETA."""
    if Console(stderr=True).is_terminal:
        with _progress_bar() as bar:
            task = bar.add_task(description, total=total)
            yield lambda n: bar.advance(task, n)
        return
    started = last = time.monotonic()
    done = 0

    def advance(n: int) -> None:
        nonlocal done, last
        done += n
        now = time.monotonic()
        if now - last >= PROGRESS_LINE_S or done == total:
            last = now
            rate = done / max(now - started, 1e-9)
            eta = duration((total - done) / rate) if rate > 0 else "?"
            log.info("%s: %d/%d, %.1f/s, ETA %s", description, done, total, rate, eta)

    yield advance


def _progress_bar() -> Progress:
    """Files done, rate and ETA, redrawn on the terminal's stderr."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


class _RateColumn(ProgressColumn):
    """Files opened per second, over rich's recent window."""

    def render(self, task: ProgressTask) -> Text:
        return Text("?/s" if task.speed is None else f"{task.speed:.1f}/s")
