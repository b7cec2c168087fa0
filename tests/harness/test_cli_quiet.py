"""A first run is quiet: no MLflow or alembic INFO lines unless -v, nothing written outside
results/. Real `harness` subprocesses, a fresh MLflow sqlite store each time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HARNESS = str(Path(sys.executable).with_name("harness"))
HERE = Path(__file__).parent
FIRST_RUN_LINE = "Creating initial MLflow database tables"

CREATE_STORE = """
import sys
from harness.engine.logsetup import configure_logging
configure_logging(verbose=sys.argv[1] == "-v")
from harness.engine.tracking import open_client
open_client(sys.argv[2])
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_a_new_mlflow_store_is_created_silently_unless_verbose(
    tmp_path: Path, verbose: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_LOGGING_LEVEL"}
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = subprocess.run(
        [sys.executable, "-c", CREATE_STORE, "-v" if verbose else "-q", uri],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mlflow.db").is_file()
    assert (FIRST_RUN_LINE in done.stdout + done.stderr) is verbose


def test_a_first_run_and_report_print_no_mlflow_lines_and_write_only_results(
    tmp_path: Path, plugin_site
) -> None:
    site = plugin_site(
        "harness-quiet-solution",
        {"harness.solutions": {"rsna-breast/constant": "fake_solutions:ConstantSolution"}},
        [HERE / "fake_solutions.py"],
    )
    cwd = tmp_path / "work"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    commands = [
        [
            "run",
            "task=rsna-breast",
            "solution=constant",
            "budget=smoke",
            "bootstrap=0",
            "data.synth.n_patients=8",
            "data.synth.height=32",
            "data.synth.width=32",
        ],
        ["report", "bootstrap=20"],
    ]
    for args in commands:
        done = subprocess.run(
            [HARNESS, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        assert FIRST_RUN_LINE not in output
        assert "alembic" not in output and "INFO mlflow" not in output

    assert sorted(p.name for p in cwd.iterdir()) == ["results"]
    assert (cwd / "results" / "mlflow.db").is_file()
