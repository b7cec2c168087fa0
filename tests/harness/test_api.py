"""The plug-in base classes of harness.api: what a subclass declares and what it gets."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harness.api import DataView, RunContext, Solution


@dataclass
class _Options:
    value: float = 0.5


@dataclass
class _OtherOptions:
    value: float = 0.7


class _Typed(Solution[_Options]):
    name = "typed"
    version = "0.1"
    tasks = ("rsna-breast",)

    def fit(self, train: DataView, ctx: RunContext) -> None:
        pass

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        return pd.DataFrame()


class _Refined(_Typed):
    """A subclass of a typed solution keeps its options."""


class _Declared(_Typed):
    config_class = _OtherOptions


def test_the_type_argument_is_the_config_class_and_the_instance_holds_the_config() -> None:
    assert _Typed.config_class is _Options
    options = _Options(value=0.25)
    assert _Typed(options).config is options


def test_subclasses_inherit_the_config_class_or_declare_their_own() -> None:
    assert _Refined.config_class is _Options
    assert _Declared.config_class is _OtherOptions
    assert _Typed.config_class is _Options
