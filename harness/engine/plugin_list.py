"""What `harness list` prints: the registered plug-ins and the budgets, as tables or JSON.

Names are never cut: a table that does not fit the terminal at full name width becomes one
plain line per entry, which the terminal wraps without losing a character.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from harness.api import Budget
from harness.engine.registry import PluginInfo

_MIN_FOLD = 12
"""Narrowest width a folding column may get before the table gives way to plain lines."""
_STATUS = {True: "[green]available[/]", False: "[red]unavailable[/]", None: "not imported"}


def as_json(infos: Sequence[PluginInfo], budgets: Iterable[Budget]) -> dict[str, Any]:
    """``{"tasks": [...], "solutions": [...], "budgets": [...]}`` with every field of each."""

    def plain(info: PluginInfo) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(info).items() if k != "kind"}

    return {
        "tasks": [plain(i) for i in infos if i.kind == "task"],
        "solutions": [plain(i) for i in infos if i.kind == "solution"],
        "budgets": [dataclasses.asdict(b) for b in budgets],
    }


def print_listing(
    console: Console, infos: Sequence[PluginInfo], budgets: Iterable[Budget], *, loaded: bool
) -> None:
    """The plug-ins (with version and availability when ``loaded``), then the budgets."""
    columns = ["kind", "name", "target", "package"] + (["version", "status"] if loaded else [])
    rows = [
        [escape(i.kind), escape(i.name), escape(i.target), escape(_package(i))]
        + ([escape(i.version), _STATUS[i.available]] if loaded else [])
        for i in infos
    ]
    _print_table(console, "Plug-ins", columns, rows, fold=set())
    for info in infos:
        if info.available is False:
            what = escape(f"{info.kind} {info.name}")
            console.print(
                f"[red]{what} unavailable:[/] {escape(info.reason)}",
                highlight=False,
                soft_wrap=True,
            )
    if not loaded:
        console.print(
            "Read from the installed packages' metadata; `harness list --check` imports each "
            "plug-in to show its version and whether it loads.",
            style="dim",
        )
    budget_rows = [
        [
            b.name,
            b.device,
            str(b.gpus),
            f"{b.gpu_memory_gb:g}GB" if b.gpu_memory_gb else "-",
            "/".join(_duration(s) for s in (b.prepare_s, b.fit_s, b.predict_s)),
            escape(b.description),
        ]
        for b in budgets
    ]
    budget_columns = ["name", "device", "GPUs", "GPU mem cap", "prepare/fit/predict", "about"]
    _print_table(console, "Budgets", budget_columns, budget_rows, fold={"about"})


def _print_table(
    console: Console, title: str, columns: list[str], rows: list[list[str]], fold: set[str]
) -> None:
    """A table whose ``fold`` columns may break over lines and whose others are never cut, or
    plain lines when even that cannot fit the terminal."""
    whole = Table(title=title, title_justify="left")
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=column not in fold, overflow="fold")
        if column not in fold:
            whole.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*row)
        kept = zip(columns, row, strict=True)
        whole.add_row(*(cell for column, cell in kept if column not in fold))
    wide = console.options.update_width(10_000)
    needed = Measurement.get(console, wide, whole).maximum + len(fold) * (_MIN_FOLD + 3)
    if needed <= console.width:
        console.print(table)
        return
    console.print(f"{title}:", style="bold italic")
    widths = [max((_width(row[i]) for row in rows), default=0) for i in range(len(columns))]
    for row in rows:
        padded = zip(row, widths, strict=True)
        cells = [cell + " " * (width - _width(cell)) for cell, width in padded]
        console.print("  ".join(cells).rstrip(), highlight=False, soft_wrap=True)


def _width(markup: str) -> int:
    return Text.from_markup(markup).cell_len


def _package(info: PluginInfo) -> str:
    """``package==version``, as ``pip freeze`` writes it."""
    return f"{info.package}=={info.package_version}" if info.package_version else info.package


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:g}h" if seconds >= 3600 else f"{seconds / 60:g}m"
