"""Bad solution plug-ins get messages that say what is wrong and where to fix it.

Each plug-in is registered the way an installed package is (tests/conftest.py: plugin_site).
A broken plug-in is listed as unavailable with its reason and never stops the others.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.engine.registry import PluginError, describe_plugins, load_solution, solution_names

MODULE = """
from dataclasses import dataclass

import lib_that_is_not_installed  # noqa: F401


@dataclass
class Options:
    value: float = 0.5
"""

BAD_CLASSES = """
from dataclasses import dataclass

from harness.api import Solution


@dataclass
class Options:
    value: float = 0.5


class OnlyFit:
    name = "only-fit"
    tasks = ("rsna-breast",)

    def fit(self, train, ctx):
        pass


class NoPredict(Solution[Options]):
    name = "no-predict"
    version = "0"
    tasks = ("rsna-breast",)

    def fit(self, train, ctx):
        pass


class Lookalike:  # both methods, but not a harness.api.Solution
    name = "lookalike"
    tasks = ("rsna-breast",)

    def fit(self, train, ctx):
        pass

    def predict(self, test, ctx):
        pass


class Fine(Solution[Options]):
    name = "x"
    version = "0"
    tasks = ("no-such-task", "rsna-brest")

    def fit(self, train, ctx):
        pass

    def predict(self, test, ctx):
        pass
"""


@pytest.fixture
def broken(tmp_path: Path, plugin_site) -> None:
    (tmp_path / "needs_missing_lib.py").write_text(MODULE)
    (tmp_path / "bad_classes.py").write_text(BAD_CLASSES)
    plugin_site(
        "harness-broken-plugins",
        {
            "harness.solutions": {
                "rsna-breast/no-module": "no_such_module.sub:Thing",
                "rsna-breast/no-attribute": "bad_classes:Missing",
                "rsna-breast/missing-dependency": "needs_missing_lib:Options",
                "rsna-breast/only-fit": "bad_classes:OnlyFit",
                "rsna-breast/no-predict": "bad_classes:NoPredict",
                "rsna-breast/lookalike": "bad_classes:Lookalike",
                "no-such-task/x": "bad_classes:Fine",
                "rsna-brest/x": "bad_classes:Fine",
                "lonely": "bad_classes:Fine",
            }
        },
        [tmp_path / "needs_missing_lib.py", tmp_path / "bad_classes.py"],
    )


pytestmark = pytest.mark.usefixtures("broken")


def _load_error(task: str, solution: str) -> str:
    """The message of the PluginError that loading ``task/solution`` raises."""
    with pytest.raises(PluginError) as err:
        load_solution(task, solution)
    return str(err.value)


def test_an_entry_point_whose_module_does_not_exist_says_it_does_not_resolve() -> None:
    message = _load_error("rsna-breast", "no-module")
    assert "'rsna-breast/no-module' (no_such_module.sub:Thing" in message
    assert "from package harness-broken-plugins" in message
    assert "does not resolve: there is no module 'no_such_module'" in message
    assert "fix the entry point" in message


def test_an_entry_point_whose_attribute_does_not_exist_says_it_does_not_resolve() -> None:
    with pytest.raises(PluginError, match=r"module 'bad_classes' has no attribute 'Missing'"):
        load_solution("rsna-breast", "no-attribute")


def test_a_missing_dependency_is_told_apart_from_a_wrong_entry_point() -> None:
    message = _load_error("rsna-breast", "missing-dependency")
    assert "failed to import: ModuleNotFoundError" in message
    assert "lib_that_is_not_installed" in message
    assert "Check that its dependencies are installed" in message


def test_a_class_without_predict_is_rejected_naming_what_is_missing() -> None:
    with pytest.raises(PluginError, match=r"'rsna-breast/only-fit' .*lacks predict; subclass"):
        load_solution("rsna-breast", "only-fit")
    with pytest.raises(PluginError, match=r"does not implement: predict .*predict\(test, ctx\)"):
        load_solution("rsna-breast", "no-predict")


def test_a_class_that_is_not_a_solution_is_rejected() -> None:
    with pytest.raises(PluginError, match=r"lacks|not a harness\.api\.Solution"):
        load_solution("rsna-breast", "lookalike")


def test_broken_plugins_are_listed_unavailable_without_breaking_the_others() -> None:
    infos = {info.name: info for info in describe_plugins()}
    assert infos["rsna-breast/baseline"].available
    assert infos["rsna-breast"].available
    no_module = infos["rsna-breast/no-module"]
    assert not no_module.available
    assert "no_such_module" in no_module.reason
    assert no_module.package == "harness-broken-plugins"
    assert "does not implement: predict" in infos["rsna-breast/no-predict"].reason
    assert not infos["rsna-breast/lookalike"].available


def test_a_solution_for_a_task_that_does_not_exist_names_the_task_and_the_package() -> None:
    message = _load_error("no-such-task", "x")
    assert "is registered for task 'no-such-task', which no installed package provides" in message
    assert "from package harness-broken-plugins" in message
    assert "tasks are rsna-breast" in message
    with pytest.raises(PluginError, match=r"task 'rsna-brest'.*\(did you mean 'rsna-breast'\?\)"):
        load_solution("rsna-brest", "x")


def test_an_entry_point_name_without_its_task_is_explained() -> None:
    infos = {info.name: info for info in describe_plugins()}
    assert "must be named '<task>/<solution>'" in infos["lonely"].reason
    assert "lonely" not in solution_names("rsna-breast")


def test_harness_list_shows_every_broken_plugin_with_its_reason_and_the_rest_available() -> None:
    result = CliRunner().invoke(app, ["list", "--check"], terminal_width=250)

    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for key in ("no-module", "no-attribute", "missing-dependency", "only-fit", "no-predict"):
        assert f"solution rsna-breast/{key} unavailable:" in text
    assert "solution no-such-task/x unavailable:" in text
    infos = {info.name: info for info in describe_plugins()}
    assert infos["rsna-breast/baseline"].available
    assert infos["rsna-breast"].available


def test_harness_run_of_a_broken_plugin_is_a_usage_error_without_a_traceback(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        app, ["run", "task=rsna-breast", "solution=no-module", f"results_dir={tmp_path}"]
    )

    assert result.exit_code == 2
    assert "does not resolve" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


def test_a_clash_with_a_builtin_names_both_packages_and_spares_the_others(plugin_site) -> None:
    plugin_site(
        "harness-impostor",
        {"harness.solutions": {"rsna-breast/baseline": "impostor:Baseline"}},
        [],
    )

    message = _load_error("rsna-breast", "baseline")
    assert "two packages register harness.solutions entry point 'rsna-breast/baseline'" in message
    assert "medbench-harness (solutions.rsna_breast.baseline:BaselineSolution)" in message
    assert "harness-impostor (impostor:Baseline)" in message
    assert load_solution("rsna-breast", "ensemble").name == "ensemble"
    infos = {info.name: info for info in describe_plugins()}
    assert not infos["rsna-breast/baseline"].available
    assert "harness-impostor" in infos["rsna-breast/baseline"].reason
