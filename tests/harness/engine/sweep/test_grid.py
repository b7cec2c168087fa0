"""Grid expansion of ``key=a,b`` arguments."""

from __future__ import annotations

import pytest

from harness.engine.config import ConfigError
from harness.engine.sweep.grid import expand, parse_axes, split_values


def test_commas_split_only_outside_brackets_and_quotes() -> None:
    assert split_values("seed", "0,1,2") == ["0", "1", "2"]
    assert split_values("solution.paths", "[a.pt,b.pt]") == ["[a.pt,b.pt]"]
    assert split_values("solution.paths", "[a,b],[c]") == ["[a,b]", "[c]"]
    assert split_values("solution.name", "'x,y',z") == ["'x,y'", "z"]
    assert split_values("data.synth", "{h: 1, w: 2}") == ["{h: 1, w: 2}"]
    assert split_values("budget", "smoke") == ["smoke"]


@pytest.mark.parametrize(
    ("value", "message"),
    [("0,,1", "empty value"), ("[a,b", "unbalanced"), ("'a,b", "unbalanced"), ("0,", "empty")],
)
def test_malformed_lists_are_errors_naming_the_key(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"seed={value}.*{message}".replace("[", r"\[")):
        split_values("seed", value)


def test_grid_is_the_product_in_argument_order() -> None:
    axes = parse_axes(["task=t", "solution=a,b", "seed=0,1,2", "solution.lr=0.1"])
    grid = expand(axes)
    assert len(grid) == 6
    assert grid[0] == ["task=t", "solution=a", "seed=0", "solution.lr=0.1"]
    assert grid[1] == ["task=t", "solution=a", "seed=1", "solution.lr=0.1"]
    assert grid[5] == ["task=t", "solution=b", "seed=2", "solution.lr=0.1"]


def test_a_key_given_twice_or_without_value_is_refused() -> None:
    with pytest.raises(ConfigError, match="seed given twice"):
        parse_axes(["seed=0", "seed=1"])
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_axes(["seed"])
