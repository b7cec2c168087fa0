from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine.registry import (
    PluginError,
    describe_plugins,
    load_solution,
    load_task,
    solution_names,
    task_names,
)

BAD_MODULE = """
from harness.api import Solution


class NoPredict(Solution):
    name = "no-predict"
    version = "0"
    tasks = ("rsna-breast",)
    config_class = dict

    def fit(self, train, ctx):
        pass


class WrongTask:
    name = "wrong-task"
    tasks = ("rsna-brest",)

    def fit(self, train, ctx):
        pass

    def predict(self, test, ctx):
        pass
"""


@pytest.fixture
def bad_plugins(tmp_path: Path, plugin_site) -> None:
    module = tmp_path / "bad_plugins.py"
    module.write_text(BAD_MODULE)
    plugin_site(
        "harness-bad-plugins",
        {
            "harness.solutions": {
                "rsna-breast/broken-import": "module_that_does_not_exist:Thing",
                "rsna-breast/no-predict": "bad_plugins:NoPredict",
                "rsna-breast/wrong-task": "bad_plugins:WrongTask",
            }
        },
        [module],
    )


def test_builtins_are_registered_through_entry_points() -> None:
    assert "rsna-breast" in task_names()
    assert "baseline" in solution_names("rsna-breast")
    assert "rsna-breast/baseline" in solution_names()
    assert load_task("rsna-breast").name == "rsna-breast"
    assert load_solution("rsna-breast", "baseline").name == "baseline"


def test_unknown_task_suggests_the_nearest() -> None:
    with pytest.raises(PluginError, match=r"unknown task 'rsna-brest'.*did you mean 'rsna-breast'"):
        load_task("rsna-brest")


def test_unknown_solution_is_resolved_within_its_task() -> None:
    with pytest.raises(PluginError, match=r"unknown solution 'baselin'.*did you mean 'baseline'"):
        load_solution("rsna-breast", "baselin")
    with pytest.raises(PluginError, match="unknown task"):
        load_solution("no-such-task", "baseline")


@pytest.mark.usefixtures("bad_plugins")
def test_broken_plugins_are_listed_unavailable_without_breaking_the_others() -> None:
    infos = {info.name: info for info in describe_plugins()}
    assert infos["rsna-breast/baseline"].available
    assert infos["rsna-breast"].available
    broken = infos["rsna-breast/broken-import"]
    assert not broken.available
    assert "module_that_does_not_exist" in broken.reason
    assert broken.package == "harness-bad-plugins"
    assert "does not implement: predict" in infos["rsna-breast/no-predict"].reason
    assert not infos["rsna-breast/wrong-task"].available


@pytest.mark.usefixtures("bad_plugins")
def test_solution_claiming_another_task_is_rejected() -> None:
    with pytest.raises(PluginError, match=r"lacks|not a harness\.api\.Solution"):
        load_solution("rsna-breast", "wrong-task")


def test_name_clash_between_packages_is_an_error(plugin_site) -> None:
    plugin_site(
        "harness-clash",
        {"harness.solutions": {"rsna-breast/baseline": "somewhere_else:Baseline"}},
        [],
    )
    with pytest.raises(PluginError, match=r"two packages register .*'rsna-breast/baseline'"):
        load_solution("rsna-breast", "baseline")
