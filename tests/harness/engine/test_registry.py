from __future__ import annotations

import pytest

from harness.engine.registry import (
    PluginError,
    load_solution,
    load_task,
    solution_names,
    task_names,
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


def test_name_clash_between_packages_is_an_error(plugin_site) -> None:
    plugin_site(
        "harness-clash",
        {"harness.solutions": {"rsna-breast/baseline": "somewhere_else:Baseline"}},
        [],
    )
    with pytest.raises(PluginError, match=r"two packages register .*'rsna-breast/baseline'"):
        load_solution("rsna-breast", "baseline")
