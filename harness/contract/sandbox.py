"""Where a contract run goes: an empty working directory and TMPDIR, every process marked.

The mark (an environment variable every process of the run inherits) finds the processes
that outlive the run.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from multiprocessing import resource_tracker
from pathlib import Path

import psutil

SURVIVOR_GRACE_S = 5.0
"""How long a process of an ended run may take to exit before it counts as left behind."""
_MARK = "HARNESS_CONTRACT_RUN"


@contextlib.contextmanager
def sandbox(cwd: Path, tmp: Path, token: str) -> Iterator[None]:
    """Run with ``cwd`` as the working directory, ``tmp`` as TMPDIR, processes marked ``token``.

    The spawned run process inherits all three. The harness's own temp folder and
    multiprocessing's resource tracker (a process that outlives runs by design) are settled
    first, so that neither picks up the sandbox. Changes this process's state: one contract at
    a time per process.
    """
    tempfile.gettempdir()
    resource_tracker.ensure_running()
    saved = {key: os.environ.get(key) for key in ("TMPDIR", _MARK)}
    previous_cwd = os.getcwd()
    os.environ["TMPDIR"] = str(tmp)
    os.environ[_MARK] = token
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def survivors(token: str) -> list[str]:
    """Processes marked ``token`` still alive after a grace period, described; they are killed."""
    marked = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(_MARK) == token:
                marked.append(proc)
    _, alive = psutil.wait_procs(marked, timeout=SURVIVOR_GRACE_S)
    described = []
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            described.append(f"pid {proc.pid} ({' '.join(proc.cmdline())[:80]})")
            proc.kill()
    return described
