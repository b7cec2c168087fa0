"""The contract suite catches each way a solution can break it, and `harness check` reports it.

The misbehaving solutions live in contract_fakes.py and are registered as an installed
package would register them; every run is a real child process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.api import HarnessError
from harness.cli import app
from harness.contract.declaration import check_declaration
from harness.contract.names import resolve_solution
from harness.contract.report import ContractReport
from harness.contract.solution import run_contract
from harness.engine.registry import PluginError, load_solution

HERE = Path(__file__).parent
FAKES = ("sloppy", "peeker", "quitter", "misdeclared", "forgetful", "downloader")
"""The solutions of contract_fakes.py, each class named after its solution: ``SloppySolution``."""


@pytest.fixture
def contract_fakes(plugin_site) -> None:
    entry_points = {f"rsna-breast/{n}": f"contract_fakes:{n.capitalize()}Solution" for n in FAKES}
    plugin_site(
        "harness-contract-fakes",
        {"harness.solutions": entry_points},
        [HERE / "contract_fakes.py", HERE.parent / "fake_solutions.py"],
    )


@pytest.fixture
def contract_of(contract_fakes: None, tmp_path: Path) -> Callable[[str], ContractReport]:
    """``contract_of(name)``: the contract of the fake solution ``name``, in tmp_path/contract."""
    return lambda name: run_contract("rsna-breast", name, tmp_path / "contract")


def _outcomes(report: ContractReport) -> dict[str, str]:
    return {check.name: check.outcome for check in report.checks}


def _detail(report: ContractReport, name: str) -> str:
    return next(check.detail for check in report.checks if check.name == name)


@pytest.mark.usefixtures("test_solutions")
def test_a_well_behaved_solution_passes_every_check_in_harness_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["check", "solution=rsna-breast/constant", f"workdir={tmp_path / 'contract'}"],
        terminal_width=250,
    )

    assert result.exit_code == 0, result.output
    assert "contract: rsna-breast/constant" in result.output
    for check in (
        "declaration",
        "completes",
        "valid submission",
        "deterministic",
        "predicts from saved artefacts",
        "within budget",
        "stops when told",
        "no holdout labels",
        "writes only its run folder",
    ):
        assert check in result.output
    assert "FAIL" not in result.output and "skip" not in result.output
    assert "train.csv" in result.output  # hidden from the run while its phases ran
    assert "run 3/3 (fit limit 1 s)" in result.output
    # The labels went back into the data root afterwards.
    assert (tmp_path / "contract" / "data" / "rsna-breast" / "train.csv").is_file()


def test_nondeterminism_stray_files_and_leftover_processes_fail_their_checks(
    contract_of: Callable[[str], ContractReport],
) -> None:
    report = contract_of("sloppy")

    assert not report.passed
    outcomes = _outcomes(report)
    assert outcomes["completes"] == outcomes["valid submission"] == "pass"
    assert outcomes["deterministic"] == "fail"
    assert "different predictions" in _detail(report, "deterministic")
    assert outcomes["writes only its run folder"] == "fail"
    stray = _detail(report, "writes only its run folder")
    assert "added cwd/model.pt" in stray
    assert "added results/runs/notes.txt" in stray
    assert "added tmp/" in stray and ".npy" in stray
    assert outcomes["stops when told"] == "fail"
    assert "outlived their run" in _detail(report, "stops when told")
    assert "time.sleep(600)" in _detail(report, "stops when told")  # named, then killed
    assert "runs and logs:" in report.as_text()


@pytest.mark.usefixtures("contract_fakes")
def test_reading_the_label_table_from_disk_fails_in_harness_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["check", "solution=peeker", f"workdir={tmp_path / 'contract'}"]
    )

    assert result.exit_code == 1, result.output
    assert "contract failed" in result.output
    assert "FAIL" in result.output and "no holdout labels" in result.output
    # One failed run is enough to tell: the second and the budget run are not started.
    assert "run 2/3" not in result.output
    report = run_contract("rsna-breast", "peeker", tmp_path / "again")
    assert _outcomes(report)["no holdout labels"] == "fail"
    assert "opening train.csv, which holds labels" in _detail(report, "no holdout labels")
    # The labels went back into the data root afterwards.
    assert (tmp_path / "contract" / "data" / "rsna-breast" / "train.csv").is_file()


def test_a_solution_that_cannot_predict_after_a_short_fit_fails_stops_when_told(
    contract_of: Callable[[str], ContractReport],
) -> None:
    report = contract_of("quitter")

    outcomes = _outcomes(report)
    assert outcomes["completes"] == outcomes["deterministic"] == "pass"
    assert outcomes["stops when told"] == "fail"
    detail = _detail(report, "stops when told")
    assert "1 s fit limit" in detail and "no model: fit was cut short" in detail
    assert not report.passed


def test_state_that_save_does_not_carry_fails_predicts_from_saved_artefacts(
    contract_of: Callable[[str], ContractReport],
) -> None:
    report = contract_of("forgetful")

    assert not report.passed
    assert _outcomes(report)["predicts from saved artefacts"] == "fail"
    detail = _detail(report, "predicts from saved artefacts")
    assert "forgetful could not predict in a fresh process, offline, from what its fit" in detail
    assert "predict before fit" in detail and "Solution.save must write" in detail


def test_a_download_at_predict_time_fails_predicts_from_saved_artefacts(
    contract_of: Callable[[str], ContractReport],
) -> None:
    report = contract_of("downloader")

    assert _outcomes(report)["predicts from saved artefacts"] == "fail"
    detail = _detail(report, "predicts from saved artefacts")
    assert "downloader could not predict" in detail
    assert "network access during predict is not allowed" in detail
    assert "tried to reach example.com:80" in detail


@pytest.mark.usefixtures("contract_fakes")
def test_presets_for_unknown_budgets_or_options_fail_the_declaration() -> None:
    result = check_declaration(load_solution("rsna-breast", "misdeclared"))

    assert result.outcome == "fail"
    assert "preset 'smok' is for no budget (did you mean 'smoke'?)" in result.detail
    assert "preset 'cpu-default'" in result.detail and "'solution.valu'" in result.detail


def test_builtin_declarations_pass() -> None:
    result = check_declaration(load_solution("rsna-breast", "baseline"))
    assert result.outcome == "pass", result.detail


def test_solution_names_resolve_with_or_without_their_task() -> None:
    assert resolve_solution("rsna-breast/baseline") == ("rsna-breast", "baseline")
    assert resolve_solution("baseline") == ("rsna-breast", "baseline")
    assert resolve_solution("baseline", "rsna-breast") == ("rsna-breast", "baseline")
    with pytest.raises(PluginError, match=r"unknown solution 'baselin' \(did you mean 'baseline'"):
        resolve_solution("baselin")
    with pytest.raises(HarnessError, match="belongs to task rsna-breast, not task=rsna-ich"):
        resolve_solution("rsna-breast/baseline", "rsna-ich")


def test_harness_check_of_an_unknown_solution_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["check", "solution=rsna-breast/nope"])
    assert result.exit_code == 2
    assert "unknown solution 'nope'" in result.output


def test_a_workdir_with_content_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(HarnessError, match="is not empty; give a new or empty folder"):
        run_contract("rsna-breast", "baseline", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
