"""Reading: the runs table (one row per run, see collect) as typed sections and entries.

One section per task x budget (and task version, split, dataset and rows: runs that differ in
any of these were not scored on the same problem, so they are never ranked in one table; runs of
``harness predict`` get sections of their own, so a saved solution predicting its source's
holdout again is not pooled with the source). One entry per
solution version and option set within a section; its seeds are pooled into a mean.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harness.engine.report.compare import Difference

SECTION_KEYS: list[str] = [
    "task",
    "task_version",
    "split_version",
    "budget",
    "data_kind",
    "data_root",
    "rows",
    "kind",
]
ENTRY_KEYS: list[str] = ["solution", "solution_version", "options"]


@dataclass
class Entry:
    """One solution version with one option set, over all its runs (seeds) in a section."""

    name: str
    """Solution and version: ``baseline 1.2``."""
    variant: str
    """The options that tell it from the same solution's other entries (often empty)."""
    budget: str
    runs: pd.DataFrame
    score: float | None = None
    """Mean score over the ok runs."""
    ci: tuple[float, float] | None = None
    """From the shared resamples; else the runs' own recorded intervals, averaged."""
    resampled: np.ndarray | None = None
    """Seed-mean score on each bootstrap resample, when the answers could be rebuilt."""
    vs_leader: Difference | None = None
    rank: str = "-"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.variant})" if self.variant else self.name

    @property
    def ok(self) -> pd.DataFrame:
        return self.runs.loc[(self.runs["status"] == "ok") & self.runs["score"].notna()]

    @property
    def tie(self) -> bool:
        return self.vs_leader is not None and not self.vs_leader.distinguishable


@dataclass
class Section:
    """One ranked table: a task under one budget on one dataset."""

    task: str
    task_version: str
    split_version: str
    budget: str
    data_kind: str
    data_root: str
    rows: str
    """``holdout`` (the split's), or ``all`` rows of the data (``harness predict``)."""
    kind: str
    """``run``, or ``predict``: runs of ``harness predict``, never ranked with full runs."""
    metric: str
    greater_is_better: bool
    runs: pd.DataFrame
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_resamples: int = 0
    """Resamples behind the CIs and comparisons (0 when the answers could not be rebuilt)."""

    @property
    def title(self) -> str:
        predicted = " · predicted again from saved runs" if self.kind == "predict" else ""
        return f"{self.task} · budget {self.budget}{predicted}"

    @property
    def slug(self) -> str:
        problem = f"{self.task_version}/{self.split_version}/{self.data_kind}/{self.data_root}"
        if self.kind != "run" or self.rows != "holdout":
            problem += f"/{self.kind}/{self.rows}"
        digest = hashlib.sha1(problem.encode()).hexdigest()[:6]
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{self.task}-{self.budget}-{digest}")


@dataclass
class Report:
    """Everything the pages show."""

    sections: list[Section]
    runs: pd.DataFrame
    tracking_uri: str
    filters: str
    """The filters applied, as the user would type them."""
    generated: str
    """UTC time of generation, ISO format to the minute."""


def read_sections(runs: pd.DataFrame) -> list[Section]:
    """The sections of ``runs`` in key order, each with its entries, not yet scored or ranked."""
    sections = []
    for key, frame in runs.groupby(SECTION_KEYS, sort=True, dropna=False):
        task, task_version, split_version, budget, data_kind, data_root, rows, kind = map(str, key)
        sections.append(
            Section(
                task=task,
                task_version=task_version,
                split_version=split_version,
                budget=budget,
                data_kind=data_kind,
                data_root=data_root,
                rows=rows,
                kind=kind,
                metric=str(frame["metric"].iloc[0]),
                greater_is_better=bool(frame["greater_is_better"].iloc[0]),
                runs=frame,
                entries=_entries(frame, budget),
            )
        )
    return sections


def _entries(frame: pd.DataFrame, budget: str) -> list[Entry]:
    entries = []
    for (solution, version, options), runs in frame.groupby(ENTRY_KEYS, sort=True):
        siblings = frame.loc[
            (frame["solution"] == solution) & (frame["solution_version"] == version), "options"
        ].unique()
        mine = json.loads(str(options))
        others = [json.loads(str(o)) for o in siblings]
        differing = [k for k in sorted(mine) if any(o.get(k) != mine[k] for o in others)]
        variant = ", ".join(f"{k}={mine[k]}" for k in differing)
        entries.append(
            Entry(name=f"{solution} {version}", variant=variant, budget=budget, runs=runs)
        )
    return entries


def failure_notes(section: Section) -> list[str]:
    """One line per run that did not finish ok: its solution, seed, status, phase and error."""
    failed = section.runs.loc[section.runs["status"] != "ok"]
    notes = []
    for _, run in failed.sort_values(["solution", "seed"]).iterrows():
        where = f" in {run['failed_phase']}" if run["failed_phase"] else ""
        error = f": {_one_line(str(run['error']))}" if run["error"] else ""
        notes.append(f"{run['solution']} seed {run['seed']}: {run['status']}{where}{error}")
    return notes


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
