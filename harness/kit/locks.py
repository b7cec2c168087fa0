"""Cross-process file locks, for work one process does while the others wait for its result.

Two runs started at once on an empty results folder (two terminals, the threads of a sweep,
Ray tasks on one node) must not build the same thing at the same time. The lock is a file
beside what it guards; it works between processes and between threads of one process (each
holder opens the file itself), and the OS releases it when a holder dies.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)


@contextmanager
def exclusive(lock_file: Path, what: str) -> Iterator[None]:
    """Hold ``lock_file`` for the block, waiting for whoever holds it.

    ``what`` names the guarded work in the line logged when another holder makes this one
    wait (e.g. ``synthetic rsna-breast data in results/data/...``). Re-check after entering
    whether the work is still to do: the previous holder may have done it.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_file)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("waiting for %s: another process holds %s", what, lock_file)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
