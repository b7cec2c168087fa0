from dataclasses import dataclass

import pytest

from harness.engine.config import (
    ConfigError,
    at_least,
    flatten,
    merge_overrides,
    parse_run_overrides,
)


def test_solution_options_are_split_from_run_keys() -> None:
    cfg, _, solution_args = parse_run_overrides(
        ["task=rsna-breast", "solution=baseline", "seed=3", "solution.epochs=2", "data.root=/x"]
    )
    assert (cfg.task, cfg.solution, cfg.seed, cfg.data.root) == ("rsna-breast", "baseline", 3, "/x")
    assert solution_args == ["epochs=2"]


def test_typo_in_a_run_key_names_it_and_suggests() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'sed'.*did you mean 'seed'"):
        parse_run_overrides(["task=t", "solution=s", "sed=1"])


def test_typo_in_a_nested_key_names_it() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'data.rot'.*did you mean 'data.root'"):
        parse_run_overrides(["task=t", "solution=s", "data.rot=/x"])


def test_wrong_type_names_the_key() -> None:
    with pytest.raises(ConfigError, match="bad value for seed"):
        parse_run_overrides(["task=t", "solution=s", "seed=abc"])


def test_missing_task_is_reported_with_an_example() -> None:
    with pytest.raises(ConfigError, match="missing solution, task"):
        parse_run_overrides([])


def test_argument_without_equals_sign() -> None:
    with pytest.raises(ConfigError, match="expected key=value, got 'smoke'"):
        parse_run_overrides(["task=t", "solution=s", "smoke"])


@pytest.mark.parametrize(
    ("task", "arg", "synth"),
    [
        ("t", "data.synth.height=64", {"height": 64}),  # a task no package provides: any key
        ("rsna-breast", "data.synth.n_patients=3", {"n_patients": 3}),  # a valid key of the task
    ],
)
def test_data_synth_keys_are_accepted(task: str, arg: str, synth: dict[str, int]) -> None:
    cfg, _, _ = parse_run_overrides([f"task={task}", "solution=s", arg])
    assert cfg.data.synth == synth


@dataclass
class _Options:
    epochs: int = 5
    lr: float = 0.1
    model: str = "resnet18"


def test_merge_layers_defaults_preset_then_user() -> None:
    options = merge_overrides(_Options, [{"epochs": 2, "model": "tiny"}], ["epochs=7"], "solution")
    assert (options.epochs, options.lr, options.model) == (7, 0.1, "tiny")


def test_unknown_solution_option_is_prefixed_and_suggested() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown key 'solution.epoch'.*did you mean 'solution.epochs'"
    ):
        merge_overrides(_Options, [], ["epoch=3"], "solution")


def test_bad_solution_option_value() -> None:
    with pytest.raises(ConfigError, match=r"bad value for solution\.epochs"):
        merge_overrides(_Options, [], ["epochs=many"], "solution")


def test_flatten_dotted_keys() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": {}}) == {"a.b": 1, "a.c.d": 2, "e": {}}


@pytest.mark.parametrize(
    ("arg", "key"),
    [("bootstrap=-1", "bootstrap"), ("seed=-3", "seed"), ("data.synth_seed=-1", "data.synth_seed")],
)
def test_a_negative_count_is_rejected_naming_the_key_and_the_bound(arg: str, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"bad value for {key}: -\d is below 0; give {key}=0"):
        parse_run_overrides(["task=t", "solution=s", arg])


def test_zero_resamples_is_still_allowed() -> None:
    cfg, _, _ = parse_run_overrides(["task=t", "solution=s", "bootstrap=0"])
    assert cfg.bootstrap == 0


def test_a_misspelt_budget_is_named_before_the_run_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"unknown budget 'smok'.*did you mean 'smoke'"):
        parse_run_overrides(["task=t", "solution=s", "budget=smok"])


def test_a_misspelt_synth_key_of_a_registered_task_is_named_at_parse_time() -> None:
    with pytest.raises(
        ConfigError,
        match=r"unknown key 'data\.synth\.n_patiens' \(did you mean 'data\.synth\.n_patients'\?\)",
    ):
        parse_run_overrides(["task=rsna-breast", "solution=s", "data.synth.n_patiens=3"])


@dataclass
class _Bounded:
    workers: int = at_least(1, 2)
    limit: int | None = at_least(0, None)


def test_merge_checks_the_bounds_of_any_schema() -> None:
    assert merge_overrides(_Bounded, [], ["limit=0"], "").limit == 0
    with pytest.raises(ConfigError, match=r"bad value for solution\.workers: 0 is below 1"):
        merge_overrides(_Bounded, [], ["workers=0"], "solution")
