"""A third-party solution package needs no change to the project.

tests/plugins/example_solution/ is a complete package that nothing in the project refers to.
Installed with pip, it is listed, run by `harness run` and held to the contract like a
built-in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.contract import assert_contract
from harness.engine.record import RunRecord
from harness.engine.registry import describe_plugins

PACKAGE = Path(__file__).parent / "example_solution"


@pytest.fixture
def installed(pip_install) -> Path:
    return pip_install(PACKAGE)


@pytest.mark.usefixtures("installed")
def test_the_installed_package_is_listed_under_its_own_distribution() -> None:
    info = next(i for i in describe_plugins() if i.name == "rsna-breast/intensity")

    assert info.available, info.reason
    assert info.package == "harness-example-solution"
    assert info.version == "0.1.0"
    assert info.target == "harness_example_solution:IntensitySolution"


@pytest.mark.usefixtures("installed")
def test_harness_run_scores_the_installed_package(
    tmp_path: Path, tiny_breast_root: Path, cli_run: Callable[..., tuple[RunRecord, str]]
) -> None:
    record, _ = cli_run(
        tmp_path / "results",
        "task=rsna-breast",
        "solution=intensity",
        "budget=smoke",
        "solution.c=2.0",
        f"data.root={tiny_breast_root}",
        "bootstrap=100",
    )

    assert record.status == "ok", record.error
    assert (record.solution, record.solution_version) == ("intensity", "0.1.0")
    assert record.config["solution"] == {"percentile": 99.5, "c": 2.0}
    assert record.score is not None and 0.0 <= record.score <= 1.0
    assert set(record.phases) == {"prepare", "fit", "predict"}


@pytest.mark.usefixtures("installed")
def test_the_installed_package_meets_the_contract(tmp_path: Path) -> None:
    report = assert_contract("rsna-breast", "intensity", tmp_path / "contract")

    assert report.checks[0].detail.startswith("presets (contract) resolve")
