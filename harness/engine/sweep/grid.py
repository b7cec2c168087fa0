"""Grid expansion: ``key=a,b,c`` in any key (``solution.*`` included) gives one run per value.

Commas split values only at the top level, so a list value such as
``solution.pretrained_paths=[a.pt,b.pt]`` or a quoted ``'x,y'`` stays one value.
"""

from __future__ import annotations

import itertools

from harness.engine.config import ConfigError

_OPENERS = {"[": "]", "{": "}", "(": ")"}


def split_values(key: str, value: str) -> list[str]:
    """The comma-separated alternatives of one value, brackets and quotes respected."""
    values: list[str] = []
    closers: list[str] = []
    quote = ""
    current = ""
    for char in value:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in _OPENERS:
            closers.append(_OPENERS[char])
        elif closers and char == closers[-1]:
            closers.pop()
        elif char == "," and not closers:
            values.append(current)
            current = ""
            continue
        current += char
    values.append(current)
    if quote or closers:
        raise ConfigError(f"{key}={value}: unbalanced {quote or closers[-1]!r}")
    if len(values) > 1 and any(not v.strip() for v in values):
        raise ConfigError(f"{key}={value}: an empty value in the list (e.g. seed=0,1,2)")
    return values


def parse_axes(args: list[str]) -> dict[str, list[str]]:
    """Each key with its values, in the order the keys were given."""
    axes: dict[str, list[str]] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected key=value, got {arg!r} (e.g. seed=0,1,2 budget=smoke)")
        if key in axes:
            raise ConfigError(f"{key} given twice; list its values once, e.g. {key}=a,b")
        axes[key] = split_values(key, value)
    return axes


def expand(axes: dict[str, list[str]]) -> list[list[str]]:
    """Every combination as a list of ``key=value`` overrides; the last key varies fastest."""
    keys = list(axes)
    return [
        [f"{key}={value}" for key, value in zip(keys, combination, strict=True)]
        for combination in itertools.product(*(axes[key] for key in keys))
    ]
