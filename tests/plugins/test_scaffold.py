"""`harness new solution` writes a package that installs and passes the contract as written."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.engine.registry import task_names
from harness.engine.scaffold import ScaffoldError, new_solution

RUFF_RULES = "E,F,W,I,B,UP,SIM,RUF"
"""The project's own lint rules, applied to the generated code outside the project."""


@pytest.mark.parametrize("task", task_names())
def test_a_scaffolded_package_installs_and_passes_its_own_contract_test(
    task: str, tmp_path: Path, pip_install
) -> None:
    root = tmp_path / "my-pkg"
    result = CliRunner().invoke(
        app, ["new", "solution", f"task={task}", "name=my-model", f"path={root}"]
    )

    assert result.exit_code == 0, result.output
    # path= is the package's own folder, named in full on one line.
    assert f"wrote {task}/my-model to {root}:" in result.output
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        "harness_solution_my_model/__init__.py",
        "harness_solution_my_model/solution.py",
        "pyproject.toml",
        "tests/test_harness_solution_my_model.py",
    ]
    assert f"harness check solution={task}/my-model" in result.output
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["name"] == "harness-solution-my-model"
    assert project["dependencies"] == ["medbench-harness"]
    assert project["entry-points"]["harness.solutions"] == {
        f"{task}/my-model": "harness_solution_my_model:MyModelSolution"
    }
    for ruff in (["check", "--select", RUFF_RULES], ["format", "--check"]):
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", *ruff, "--isolated", "--line-length", "100", "."],
            cwd=root,
            capture_output=True,
            text=True,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr

    site = pip_install(root)
    # The package's own test, run as its author runs it: the contract suite on the installed
    # plug-in, in a fresh interpreter that sees the package only through pip's metadata.
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert "1 passed" in tests.stdout


def test_without_path_the_package_folder_is_made_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    package = new_solution("rsna-breast", "mine")

    assert package.root == tmp_path / "harness-solution-mine"
    assert (package.root / "pyproject.toml").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["task=rsna-brest", "name=mine"],
            "unknown task 'rsna-brest' (did you mean 'rsna-breast'?)",
        ),
        (["task=rsna-breast", "name=My_Model"], "use lower-case letters, digits and single '-'"),
        (["task=rsna-breast", "name=baseline"], "already has a solution named 'baseline'"),
        (["task=rsna-breast", "name=mine", "module=class"], "not a lower-case Python identifier"),
        (["task=rsna-breast", "name=mine", "module=harness"], "'harness' is already importable"),
    ],
)
def test_bad_names_are_refused_before_anything_is_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["new", "solution", *args, f"path={tmp_path}"])

    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not any(tmp_path.iterdir())


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    first = new_solution("rsna-breast", "mine", tmp_path)
    edited = first.root / "harness_solution_mine" / "solution.py"
    edited.write_text("# my model\n")

    with pytest.raises(ScaffoldError, match=r"refusing to overwrite .*solution\.py"):
        new_solution("rsna-breast", "mine", tmp_path)
    assert edited.read_text() == "# my model\n"
