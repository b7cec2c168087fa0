"""Shared fixtures: tiny synthetic datasets and test-only plug-ins registered for real.

Test plug-ins are registered the way a third-party package is: a ``*.dist-info`` folder with an
``entry_points.txt`` on ``sys.path``. Spawned run processes inherit ``sys.path``, so they find
the same plug-ins.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.engine.datasets import synth_config, synthesize
from harness.engine.record import RunRecord
from harness.engine.registry import load_task

HERE = Path(__file__).parent


@pytest.fixture(scope="session", autouse=True)
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Data-folder indexes (harness.kit.file_index) in a temporary folder, not ~/.cache; the
    processes that tests start inherit it."""
    folder = tmp_path_factory.mktemp("index")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARNESS_INDEX_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def tiny_breast_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16-patient rsna-breast dataset at 48x40, generated once per test session."""
    task = load_task("rsna-breast")
    config = synth_config(task, {"n_patients": 16, "height": 48, "width": 40, "prevalence": 0.5})
    return synthesize(task, tmp_path_factory.mktemp("data") / "rsna-breast", config, seed=0)


CliRun = Callable[..., tuple[RunRecord, str]]


@pytest.fixture(scope="session")
def cli_run() -> CliRun:
    """``cli_run(results, *args)``: `harness run ARGS results_dir=RESULTS` through the CLI, which
    must succeed; the record of the run (the only one in ``results``) and the printed output."""

    def run(results: Path, *args: str) -> tuple[RunRecord, str]:
        result = CliRunner().invoke(app, ["run", *args, f"results_dir={results}"])
        assert result.exit_code == 0, result.output
        (run_dir,) = (results / "runs").iterdir()
        return RunRecord.load(run_dir / "record.json"), result.output

    return run


PluginSite = Callable[[str, dict[str, dict[str, str]], list[Path]], Path]


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginSite:
    """``install(package, entry_points, modules)``: an installed distribution on sys.path."""

    def install(package: str, entry_points: dict[str, dict[str, str]], modules: list[Path]) -> Path:
        site = tmp_path / f"site-{package}"
        _write_distribution(site, package, entry_points, modules)
        monkeypatch.syspath_prepend(str(site))
        return site

    return install


def _write_distribution(
    site: Path, package: str, entry_points: dict[str, dict[str, str]], modules: list[Path]
) -> None:
    dist = site / f"{package}-0.0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.0.1\n")
    lines = []
    for group, entries in entry_points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {target}" for name, target in entries.items())
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module in modules:
        shutil.copy(module, site / module.name)


@pytest.fixture
def test_solutions(plugin_site: PluginSite) -> Path:
    """Registers the solutions of tests/harness/fake_solutions.py for rsna-breast."""
    names = {
        "constant": "ConstantSolution",
        "sleepy": "SleepySolution",
        "paced": "PacedSolution",
        "crashing": "CrashingSolution",
        "wrong-ids": "WrongIdsSolution",
        "reporting": "ReportingSolution",
        "stateful": "StatefulSolution",
        "unsaved": "UnsavedSolution",
        "network": "NetworkSolution",
    }
    return plugin_site(
        "harness-test-solutions",
        {
            "harness.solutions": {
                f"rsna-breast/{n}": f"fake_solutions:{c}" for n, c in names.items()
            }
        },
        [HERE / "harness" / "fake_solutions.py"],
    )


class MlflowServer:
    """A real ``mlflow server`` process (sqlite database, artifacts proxied to a folder).

    ``stop`` kills it the hard way, as a crash would; ``start`` brings it back on the same
    port and database, as an operator restarting it would.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.artifacts = folder / "shared-artifacts"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.uri = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                sys.executable, "-m", "mlflow", "server",
                "--backend-store-uri", f"sqlite:///{self.folder / 'server' / 'mlflow.db'}",
                "--artifacts-destination", str(self.artifacts),
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", "2",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start (exit code {self._process.poll()})")
            time.sleep(0.5)

    def stop(self) -> None:
        """SIGKILL the server and its workers (its own session: the whole group)."""
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=30)
        self._process = None


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[MlflowServer]:
    """A started ``mlflow server``, stopped at the end of the test."""
    server = MlflowServer(tmp_path / "mlflow-server")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pool_at_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """`data check` starts its process pool even for the few files of a test dataset."""
    monkeypatch.setattr("harness.kit.file_checks.POOL_MIN_CHUNKS", 0)
