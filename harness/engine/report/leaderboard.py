"""The leaderboard's content, shared by the Markdown and HTML pages.

One section per task x budget (and task version, split and dataset: runs that differ in any of
these were not scored on the same problem, so they are never ranked in one table). One entry per
solution version and option set within a section; its seeds are pooled into a mean. Cells are
formatted here once, so both pages show the same text.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import HarnessError
from harness.engine.report.collect import fetch_artifact
from harness.engine.report.compare import Difference, Holdout, load_holdout, paired_difference
from harness.kit.stats import percentile_interval

STATUS_ORDER: tuple[str, ...] = ("ok", "timeout", "oom", "failed", "invalid_submission", "running")
SECTION_KEYS: list[str] = [
    "task",
    "task_version",
    "split_version",
    "budget",
    "data_kind",
    "data_root",
]
ENTRY_KEYS: list[str] = ["solution", "solution_version", "options"]
TIE_TEXT = "not distinguishable at 95%"


@dataclass
class Entry:
    """One solution version with one option set, over all its runs (seeds) in a section."""

    name: str
    """Solution and version: ``baseline 1.2``."""
    variant: str
    """The options that tell it from the same solution's other entries (often empty)."""
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
    metric: str
    greater_is_better: bool
    runs: pd.DataFrame
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_resamples: int = 0
    """Resamples behind the CIs and comparisons (0 when the answers could not be rebuilt)."""

    @property
    def title(self) -> str:
        return f"{self.task} · budget {self.budget}"

    @property
    def slug(self) -> str:
        problem = f"{self.task_version}/{self.split_version}/{self.data_kind}/{self.data_root}"
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


def build_sections(
    runs: pd.DataFrame, tracking_uri: str, *, n_resamples: int, seed: int
) -> list[Section]:
    """Sections with ranked entries, CIs and paired comparisons against each leader."""
    holdouts: dict[tuple[str, str], Holdout | HarnessError] = {}
    sections = []
    for key, frame in runs.groupby(SECTION_KEYS, sort=True, dropna=False):
        task, task_version, split_version, budget, data_kind, data_root = map(str, key)
        section = Section(
            task=task,
            task_version=task_version,
            split_version=split_version,
            budget=budget,
            data_kind=data_kind,
            data_root=data_root,
            metric=str(frame["metric"].iloc[0]),
            greater_is_better=bool(frame["greater_is_better"].iloc[0]),
            runs=frame,
        )
        section.entries = _entries(frame)
        if any(not e.ok.empty for e in section.entries):
            cache_key = (task, data_root)
            if cache_key not in holdouts:
                try:
                    holdouts[cache_key] = load_holdout(task, data_root, n_resamples, seed)
                except HarnessError as exc:
                    holdouts[cache_key] = exc
            _score_entries(section, holdouts[cache_key], tracking_uri)
        _rank(section)
        section.notes.extend(_failure_notes(section))
        sections.append(section)
    return sections


def _entries(frame: pd.DataFrame) -> list[Entry]:
    entries = []
    for (solution, version, options), runs in frame.groupby(ENTRY_KEYS, sort=True):
        siblings = frame.loc[
            (frame["solution"] == solution) & (frame["solution_version"] == version), "options"
        ].unique()
        mine = json.loads(str(options))
        others = [json.loads(str(o)) for o in siblings]
        differing = [k for k in sorted(mine) if any(o.get(k) != mine[k] for o in others)]
        variant = ", ".join(f"{k}={mine[k]}" for k in differing)
        entries.append(Entry(name=f"{solution} {version}", variant=variant, runs=runs))
    return entries


def _score_entries(section: Section, holdout: Holdout | HarnessError, tracking_uri: str) -> None:
    """Mean score and CI of each entry, re-scoring submissions on shared resamples if possible."""
    if isinstance(holdout, HarnessError):
        section.notes.append(
            f"The holdout answers could not be rebuilt ({holdout}): CIs are the runs' recorded "
            "ones (averaged over seeds) and solutions are ordered by observed score only, "
            "without significance tests."
        )
    else:
        section.n_resamples = len(holdout.resamples)
    for entry in section.entries:
        ok = entry.ok
        if ok.empty:
            continue
        entry.score = float(ok["score"].mean())
        if not isinstance(holdout, HarnessError):
            try:
                entry.resampled = _rescore(ok, holdout, tracking_uri)
                entry.ci = percentile_interval(entry.resampled)
                continue
            except HarnessError as exc:
                section.notes.append(f"{entry.label} is not compared: {exc}")
        if ok["ci_low"].notna().all() and ok["ci_high"].notna().all():
            entry.ci = (float(ok["ci_low"].mean()), float(ok["ci_high"].mean()))


def _rescore(ok: pd.DataFrame, holdout: Holdout, tracking_uri: str) -> np.ndarray:
    """The seed-mean score of the runs' submissions on each resample.

    Refuses when a submission no longer gives the score its run recorded: the data changed.
    """
    submissions = []
    with tempfile.TemporaryDirectory(prefix="harness-report-") as tmp:
        for i, run_id in enumerate(ok["mlflow_run_id"]):
            try:
                folder = Path(tmp) / str(i)
                path = fetch_artifact(tracking_uri, str(run_id), "submission.csv", folder)
                submissions.append(pd.read_csv(path))
            except Exception as exc:  # any store or parse error means the same thing here
                raise HarnessError(
                    f"the submission.csv of run {ok['run_id'].iloc[i]} cannot be read ({exc})"
                ) from exc
    full, resampled = holdout.score(submissions)
    for (_, run), score in zip(ok.iterrows(), full, strict=True):
        if not math.isclose(score, float(run["score"]), rel_tol=1e-9, abs_tol=1e-12):
            raise HarnessError(
                f"re-scoring run {run['run_id']} gives {score:.4f}, not its recorded "
                f"{run['score']:.4f}: the data in {run['data_root']} changed since the run"
            )
    return resampled


def _rank(section: Section) -> None:
    """Order by observed mean score; a solution the leader cannot be told from shares rank 1."""
    scored = [e for e in section.entries if e.score is not None]
    sign = -1.0 if section.greater_is_better else 1.0
    scored.sort(key=lambda e: sign * (e.score or 0.0))
    unscored = [e for e in section.entries if e.score is None]
    section.entries = scored + unscored
    if not scored:
        return
    leader = scored[0]
    leader.rank = "1"
    for position, entry in enumerate(scored[1:], start=2):
        if entry.resampled is not None and leader.resampled is not None:
            entry.vs_leader = paired_difference(
                entry.resampled, leader.resampled, (entry.score or 0.0) - (leader.score or 0.0)
            )
        entry.rank = "=1" if entry.tie else str(position)
    if any(e.tie for e in scored):
        section.notes.insert(
            0,
            f"=1: {TIE_TEXT} from the leader (the paired bootstrap interval of the score "
            "difference contains 0); more holdout cases would be needed to separate them.",
        )


def _failure_notes(section: Section) -> list[str]:
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


# ----------------------------------------------------------------------------- cell formatting


def headers(section: Section) -> list[str]:
    return [
        "Rank",
        "Solution",
        "Budget",
        f"{section.metric} [95% CI]",
        "Over seeds",
        "vs leader: Δ [95% CI]",
        "Fit",
        "Predict",
        "GPU-h",
        "GPU mem peak",
        "Predict img/s",
        "GPU util",
        "Runs",
    ]


NUMERIC_COLUMNS = frozenset({0, 3, 4, 6, 7, 8, 9, 10, 11})
"""Indexes of right-aligned columns in ``headers``."""
SOLUTION_COLUMN = 1
VERSUS_COLUMN = 5


@dataclass(frozen=True)
class Cell:
    """A table cell: the main text and an optional detail (a second line in HTML)."""

    text: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.text} {self.detail}" if self.detail else self.text


def rows(section: Section) -> list[list[Cell]]:
    """The table body, one row per entry in rank order, columns as in ``headers``."""
    return [_cells(section, entry) for entry in section.entries]


def _cells(section: Section, entry: Entry) -> list[Cell]:
    ok = entry.ok
    return [
        Cell(entry.rank),
        Cell(entry.name, f"({entry.variant})" if entry.variant else ""),
        Cell(section.budget),
        _score_cell(entry),
        _seeds_cell(entry),
        _versus_cell(entry),
        Cell(_duration(_mean(ok["fit_wall_s"]))),
        Cell(_duration(_mean(ok["predict_wall_s"]))),
        Cell(_hours(_mean(ok["gpu_hours"]))),
        Cell(_number(_max(ok["gpu_peak_mem_gb"]), "{:.1f} GB")),
        Cell(_rate(_mean(ok["predict_images_per_s"]))),
        Cell(_number(_mean(ok["gpu_util_mean"]), "{:.0f}%")),
        Cell(_status_counts(entry.runs["status"])),
    ]


def _score_cell(entry: Entry) -> Cell:
    if entry.score is None:
        return Cell("-")
    if entry.ci is None:
        return Cell(f"{entry.score:.4f}")
    return Cell(f"{entry.score:.4f}", f"[{entry.ci[0]:.4f}, {entry.ci[1]:.4f}]")


def _seeds_cell(entry: Entry) -> Cell:
    ok = entry.ok
    seeds = ", ".join(str(s) for s in sorted(ok["seed"]))
    if len(ok) == 0:
        return Cell("-")
    if len(ok) == 1:
        return Cell(f"seed {seeds}")
    return Cell(f"±{ok['score'].std(ddof=1):.4f} sd", f"(seeds {seeds})")


def _versus_cell(entry: Entry) -> Cell:
    if entry.rank == "1":
        return Cell("leader")
    d = entry.vs_leader
    if d is None:
        return Cell("-" if entry.score is None else "not compared")
    verdict = TIE_TEXT if entry.tie else "worse at 95%"
    return Cell(f"{d.observed:+.4f} [{d.low:+.4f}, {d.high:+.4f}]", verdict)


def _status_counts(statuses: pd.Series) -> str:
    counts = statuses.value_counts()
    order = [s for s in STATUS_ORDER if s in counts] + sorted(set(counts.index) - set(STATUS_ORDER))
    return ", ".join(f"{counts[s]} {s}" for s in order)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _hours(hours: float | None) -> str:
    if hours is None:
        return "-"
    return "0" if hours == 0 else f"{hours:.3g}"


def _rate(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _number(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def _mean(values: pd.Series) -> float | None:
    values = values.dropna()
    return None if values.empty else float(values.mean())


def _max(values: pd.Series) -> float | None:
    values = values.dropna()
    return None if values.empty else float(values.max())


# ----------------------------------------------------------------------------- provenance


PROVENANCE_HEADERS = [
    "Run",
    "Solution",
    "Budget",
    "Seed",
    "Status",
    "Started (UTC)",
    "Git sha",
    "Device",
    "Hardware",
    "Other library versions",
]


def common_libraries(runs: pd.DataFrame) -> dict[str, str]:
    """Library versions every run shares."""
    if runs.empty:
        return {}
    first: dict[str, str] = runs["libraries"].iloc[0]
    return {
        name: version
        for name, version in sorted(first.items())
        if all(libs.get(name) == version for libs in runs["libraries"])
    }


def provenance_rows(runs: pd.DataFrame) -> list[list[str]]:
    """One row per run: what is needed to reproduce it (libraries: only those that differ)."""
    common = common_libraries(runs)
    table = []
    for _, run in runs.sort_values(["task", "budget", "solution", "seed"]).iterrows():
        libraries: dict[str, str] = run["libraries"]
        sha = str(run["git_sha"])
        differing = [f"{k} {v}" for k, v in sorted(libraries.items()) if common.get(k) != v]
        table.append(
            [
                str(run["run_id"]),
                f"{run['solution']} {run['solution_version']}",
                str(run["budget"]),
                str(run["seed"]),
                str(run["status"]),
                run["started"].strftime("%Y-%m-%d %H:%M"),
                sha[:12] + ("-dirty" if sha.endswith("-dirty") else ""),
                str(run["device"]),
                hardware_text(run["hardware"]),
                ", ".join(differing) or "-",
            ]
        )
    return table


def hardware_text(hardware: dict[str, str]) -> str:
    parts = [hardware.get("cpu", "?")]
    if hardware.get("cpu_cores"):
        parts.append(f"{hardware['cpu_cores']} cores")
    if hardware.get("ram_gb"):
        parts.append(f"{hardware['ram_gb']} GB RAM")
    gpus = hardware.get("gpus", "[]").strip("[]").replace("'", "")
    if gpus:
        parts.append(gpus)
    return ", ".join(parts)


def section_summary(section: Section) -> str:
    """One sentence saying what the section's scores are measured on, and how."""
    direction = "higher is better" if section.greater_is_better else "lower is better"
    cases = section.runs["n_holdout_cases"].max()
    on = f"{cases:.0f} holdout cases" if pd.notna(cases) else "the holdout"
    text = (
        f"{section.metric} ({direction}) on {on} of {section.data_kind} data "
        f"`{section.data_root or 'unknown'}` (task v{section.task_version}, "
        f"split {section.split_version})."
    )
    if section.n_resamples:
        text += (
            f" CIs and comparisons with the leader: {section.n_resamples} paired bootstrap "
            "resamples of the task's groups (patients, studies or images), the same for every "
            "solution."
        )
    return text
