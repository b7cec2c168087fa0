"""Typed run configuration and ``key=value`` overrides, parsed and validated by OmegaConf.

``solution=<name>`` picks the plug-in while ``solution.<option>=<value>`` sets one of its
options, the way Hydra treats config groups: the overrides are partitioned on that prefix and
each part is merged into its own structured config, so a mistyped key is an error naming it.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from harness.api import Budget, HarnessError
from harness.engine.budgets import BUDGETS, DEFAULT_BUDGET, get_budget
from harness.engine.suggest import did_you_mean

SOLUTION_PREFIX = "solution."


class ConfigError(HarnessError):
    """An override that does not fit the schema."""


def at_least(minimum: float, default: Any) -> Any:
    """A dataclass field whose value, when not None, must be ``minimum`` or more.

    OmegaConf checks types only; ``merge_overrides`` and ``parse_run_overrides`` check this
    bound too, so that ``bootstrap=-1`` stops the command before any work starts.
    """
    return field(default=default, metadata={"min": minimum})


@dataclass
class DataConfig:
    root: str | None = None
    """A Kaggle download in the real layout; None = the embedded synthetic dataset."""
    synth: dict[str, Any] = field(default_factory=dict)
    """Overrides of the task's synthetic-generator parameters (``data.synth.height=512``)."""
    synth_seed: int = at_least(0, 0)


@dataclass
class RunConfig:
    task: str = MISSING
    solution: str = MISSING
    budget: str = DEFAULT_BUDGET
    """The budget's name; the Budget itself travels beside the config (``RunRequest``)."""
    seed: int = at_least(0, 0)
    results_dir: str = "results"
    tracking_uri: str | None = None
    """MLflow tracking URI; default: $MLFLOW_TRACKING_URI, else sqlite under results_dir."""
    offline: bool = False
    """Run without reaching the tracking server; `harness sync` pushes the run later."""
    bootstrap: int = at_least(0, 1000)
    """Bootstrap resamples for the score's 95% CI (0 disables it)."""
    fresh_predict: bool | None = None
    """Predict in a fresh process from what fit saved; None = the budget's default."""
    offline_predict: bool | None = None
    """No network in that predict process; None = on where predict runs fresh."""
    data: DataConfig = field(default_factory=DataConfig)

    @property
    def results_path(self) -> Path:
        return Path(self.results_dir).expanduser().resolve()


def _split_pairs(args: list[str]) -> list[str]:
    for arg in args:
        key, sep, _ = arg.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected key=value, got {arg!r} (e.g. seed=1 budget=smoke)")
    return args


def _valid_keys(schema: type, prefix: str = "") -> list[str]:
    """Dotted keys of a (nested) dataclass schema, with ``prefix`` in front."""
    keys = []
    hints = typing.get_type_hints(schema)
    for f in dataclasses.fields(schema):
        name = f"{prefix}{f.name}"
        keys.append(name)
        nested = hints[f.name]
        if dataclasses.is_dataclass(nested) and isinstance(nested, type):
            keys.extend(_valid_keys(nested, f"{name}."))
    return keys


def _config_error(exc: OmegaConfBaseException, schema: type, prefix: str, hint: str) -> ConfigError:
    """An unknown key (with the nearest valid one) or a bad value, named with its full key."""
    key = f"{prefix}{getattr(exc, 'full_key', '') or ''}"
    valid = _valid_keys(schema, prefix)
    free = [k for k in valid if k.endswith(".synth")]  # free-form dicts take any sub-key
    if key != prefix and key not in valid and not any(key.startswith(f + ".") for f in free):
        return ConfigError(
            f"unknown key {key!r}{did_you_mean(key, valid)}; valid keys: {', '.join(valid)}{hint}"
        )
    return ConfigError(f"bad value for {key}: {str(exc).splitlines()[0]}")


def merge_overrides(schema: type, base: list[dict[str, Any]], args: list[str], where: str) -> Any:
    """An instance of dataclass ``schema``: defaults, then each dict of ``base``, then ``args``.

    ``where`` names the group in error messages (``solution``, ``data.synth``).
    """
    conf: DictConfig = OmegaConf.structured(schema)
    prefix = f"{where}." if where else ""
    try:
        for layer in base:
            conf = OmegaConf.merge(conf, OmegaConf.create(layer))  # type: ignore[assignment]
        conf = OmegaConf.merge(conf, OmegaConf.from_dotlist(args))  # type: ignore[assignment]
        missing = sorted(OmegaConf.missing_keys(conf))
        if missing:
            raise ConfigError(f"missing {', '.join(f'{prefix}{k}=' for k in missing)}")
        result = OmegaConf.to_object(conf)
    except OmegaConfBaseException as exc:
        raise _config_error(exc, schema, prefix, "") from None
    check_bounds(result, prefix)
    return result


def check_bounds(obj: Any, prefix: str = "") -> None:
    """Raise a ConfigError naming the first field of dataclass ``obj`` (nested ones too) whose
    value is below its ``at_least`` bound."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        minimum = f.metadata.get("min")
        if minimum is not None and value is not None and value < minimum:
            raise ConfigError(
                f"bad value for {prefix}{f.name}: {value!r} is below {minimum}; "
                f"give {prefix}{f.name}={minimum} or more"
            )
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_bounds(value, f"{prefix}{f.name}.")


@functools.cache
def _run_schema() -> DictConfig:
    """RunConfig as OmegaConf's structured config, built once (copies are cheap)."""
    return OmegaConf.structured(RunConfig)


class RunRequest(NamedTuple):
    """A run as asked for: its config, the budget it names, its ``solution.*`` overrides."""

    config: RunConfig
    budget: Budget
    solution_args: list[str]
    """The ``solution.*`` overrides with the prefix removed, still unparsed."""


def parse_run_overrides(args: list[str], budgets: Mapping[str, Budget] = BUDGETS) -> RunRequest:
    """The run config, its budget looked up in ``budgets``, and the ``solution.*`` overrides."""
    _split_pairs(args)
    solution_args = [a[len(SOLUTION_PREFIX) :] for a in args if a.startswith(SOLUTION_PREFIX)]
    run_args = [a for a in args if not a.startswith(SOLUTION_PREFIX)]
    conf: Any = _run_schema().copy()
    try:
        conf = OmegaConf.merge(conf, OmegaConf.from_dotlist(run_args))
    except OmegaConfBaseException as exc:
        raise _config_error(exc, RunConfig, "", ", solution.<option>") from None
    missing = sorted(OmegaConf.missing_keys(conf))
    if missing:
        raise ConfigError(
            f"missing {', '.join(missing)}: e.g. `harness run task=rsna-breast solution=baseline`"
        )
    run_config = OmegaConf.to_object(conf)
    assert isinstance(run_config, RunConfig)
    check_bounds(run_config)
    try:
        budget = get_budget(run_config.budget, budgets)
    except HarnessError as exc:
        raise ConfigError(str(exc)) from None
    _check_synth_keys(run_config)
    predict_isolation(run_config, budget)
    return RunRequest(run_config, budget, solution_args)


class PredictIsolation(NamedTuple):
    """How a run's predict phase is cut off from its fit."""

    fresh: bool
    """Predict runs in a new process that has only what fit saved and the test view."""
    offline: bool
    """That process has no network."""


def predict_isolation(cfg: RunConfig, budget: Budget) -> PredictIsolation:
    """The run keys ``fresh_predict`` and ``offline_predict`` over the budget's default.

    Offline needs a fresh process: the audit hook that cuts the network cannot be removed.
    """
    fresh = budget.fresh_predict if cfg.fresh_predict is None else cfg.fresh_predict
    offline = fresh if cfg.offline_predict is None else cfg.offline_predict
    if offline and not fresh:
        raise ConfigError(
            "offline_predict=true needs predict in a fresh process: add fresh_predict=true "
            f"(budget {budget.name} predicts in the fit process by default)"
        )
    return PredictIsolation(fresh, offline)


def _check_synth_keys(cfg: RunConfig) -> None:
    """``data.synth.*`` against the task's generator parameters, now rather than in the run.

    The run config takes any ``data.synth`` key, since only the task knows its generator's; a
    registered task is loaded here so that a misspelt key is named, with the nearest valid
    one, before any run starts (a sweep would otherwise fail every one of its runs). An
    unknown task is left to the run, which names it with its own suggestion.
    """
    from harness.engine.registry import load_task, task_names

    if cfg.data.synth and cfg.task in task_names():
        merge_overrides(load_task(cfg.task).synth_config, [cfg.data.synth], [], "data.synth")


def as_plain_dict(obj: Any) -> dict[str, Any]:
    """A dataclass (possibly nested) as a plain dict of plain values.

    Dataclass instances go through ``dataclasses.asdict`` (sweeps hash hundreds of configs:
    OmegaConf took 8 ms each); anything else through OmegaConf.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    conf = OmegaConf.structured(obj)
    plain = OmegaConf.to_container(conf, resolve=True)
    assert isinstance(plain, dict)
    return {str(k): v for k, v in plain.items()}


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts flattened to dotted keys (MLflow params)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
