"""Benchmark harness for Kaggle medical-imaging solutions.

``harness.api`` is the contract between the engine and the plug-ins; ``harness.kit`` is what
tasks and solutions build from; ``harness.engine`` runs, times, tracks and reports them;
``harness.contract`` is the conformance suite a plug-in's own tests call; ``harness.cli`` is
the command line.
"""

import os

__version__ = "0.1.0"

_ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"


def _use_the_system_allocator() -> None:
    """Arrow allocates with the C library's malloc unless ``ARROW_DEFAULT_MEMORY_POOL`` says
    otherwise.

    pyarrow's default, mimalloc, made the first load of rsna-ich's 752,803-slice table take 7-8 s
    instead of 3.5-4 s (its first large takes and parquet reads in a process ran 5x slower), the
    same load that every run, report and data check starts with. The environment variable
    carries the choice to the run's processes; pyarrow, already imported by pandas, is told
    directly.
    """
    if _ARROW_POOL_ENV in os.environ:
        return
    os.environ[_ARROW_POOL_ENV] = "system"
    import pyarrow

    pyarrow.set_memory_pool(pyarrow.system_memory_pool())


_use_the_system_allocator()
