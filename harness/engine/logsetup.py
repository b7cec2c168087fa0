"""Console logging of the ``harness`` command: the harness's own INFO lines, other libraries'
warnings only, everything with ``-v``.

MLflow installs its own handler and level on its loggers when it is imported (from
``MLFLOW_LOGGING_LEVEL``, INFO by default), which would undo a level set here beforehand; so the
level also goes through that variable, which the run processes inherit too. Without it, a first
run prints "Creating initial MLflow database tables..." and alembic's migration steps.
"""

from __future__ import annotations

import logging
import os

MLFLOW_LEVEL_ENV = "MLFLOW_LOGGING_LEVEL"
_QUIET = ("WARNING", "ERROR", "CRITICAL")
_THIRD_PARTY = ("mlflow", "alembic", "urllib3", "openjpeg", "matplotlib", "PIL")


def configure_logging(verbose: bool) -> None:
    """Quiet by default; ``verbose`` shows DEBUG lines and MLflow's and alembic's INFO lines.

    An ``MLFLOW_LOGGING_LEVEL`` the user set is kept, unless ``verbose`` asks for more.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("harness").setLevel(logging.DEBUG if verbose else logging.INFO)
    if verbose:
        if os.environ.get(MLFLOW_LEVEL_ENV, "").upper() in ("", *_QUIET):
            os.environ[MLFLOW_LEVEL_ENV] = "INFO"
    else:
        os.environ.setdefault(MLFLOW_LEVEL_ENV, "WARNING")
    level = logging.INFO if verbose else logging.WARNING
    for name in _THIRD_PARTY:  # effective at once where MLflow is imported already
        logging.getLogger(name).setLevel(level)
