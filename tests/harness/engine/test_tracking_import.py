"""MLflow's client (and a sqlite store's module) imported on a thread while the data loads."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import sys
from harness.engine import tracking
tracking.import_client_in_background({uri!r})
tracking._client_import.join()
print("mlflow.tracking" in sys.modules, "mlflow.store.tracking.sqlalchemy_store" in sys.modules)
"""


@pytest.mark.parametrize(
    ("uri", "expected"),
    [("sqlite:////tmp/x/mlflow.db", "True True"), ("http://127.0.0.1:9", "True False")],
)
def test_a_sqlite_store_is_imported_with_the_client(uri: str, expected: str) -> None:
    found = subprocess.run(
        [sys.executable, "-c", _PROBE.format(uri=uri)], capture_output=True, text=True, check=True
    )
    assert found.stdout.split("\n")[-2] == expected
