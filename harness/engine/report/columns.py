"""The leaderboard's and the provenance table's columns, by name, and the text of every cell.

Cells are formatted here once, so the Markdown and HTML pages show the same text; a column is
one ``Column`` line (its header, how its cell reads a row, its alignment), and both pages lay
out whatever columns the lists hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import pandas as pd

from harness.engine.report.ranking import TIE_TEXT
from harness.engine.report.sections import Entry, Section

STATUS_ORDER: tuple[str, ...] = ("ok", "timeout", "oom", "failed", "invalid_submission", "running")

Row = TypeVar("Row")


@dataclass(frozen=True)
class Cell:
    """A table cell: the main text and an optional detail (a second line in HTML)."""

    text: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.text} {self.detail}" if self.detail else self.text


@dataclass(frozen=True)
class Column(Generic[Row]):
    """One named column of a table whose rows are ``Row``s."""

    key: str
    header: str
    """The heading; ``{metric}`` stands for the section's metric name."""
    cell: Callable[[Row], Cell]
    numeric: bool = False
    """Right-aligned."""
    nowrap: bool = True
    """Kept on one line in HTML."""

    def heading(self, metric: str = "") -> str:
        return self.header.format(metric=metric)


def _text(read: Callable[[Row], str]) -> Callable[[Row], Cell]:
    return lambda row: Cell(read(row))


def _mean(values: pd.Series) -> float | None:
    values = values.dropna()
    return None if values.empty else float(values.mean())


def _max(values: pd.Series) -> float | None:
    values = values.dropna()
    return None if values.empty else float(values.max())


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


def _number(pattern: str) -> Callable[[float | None], str]:
    return lambda value: "-" if value is None else pattern.format(value)


def _over_ok_runs(
    column: str,
    summarise: Callable[[pd.Series], float | None],
    show: Callable[[float | None], str],
) -> Callable[[Entry], Cell]:
    """A cell showing ``summarise`` of ``column`` over the entry's ok runs."""
    return lambda entry: Cell(show(summarise(entry.ok[column])))


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


def _hidden_test_cell(entry: Entry) -> Cell:
    """Predict time projected to the competition's hidden test, and whether it fits its limit."""
    ok = entry.ok
    projected = _mean(ok["hidden_test_projected_s"])
    if projected is None:
        return Cell("-")
    limit = _max(ok["hidden_test_limit_s"])
    if limit is None:
        return Cell(_duration(projected), "no limit")
    timed = ok.loc[ok["hidden_test_projected_s"].notna()]
    over = int((timed["hidden_test_projected_s"] > timed["hidden_test_limit_s"]).sum())
    if over == 0:
        return Cell(_duration(projected), f"fits {_duration(limit)}")
    runs = "" if over == len(timed) else f" ({over} of {len(timed)} runs)"
    return Cell(f"{_duration(projected)} ✗", f"over the {_duration(limit)} limit{runs}")


def status_counts(statuses: pd.Series) -> str:
    """``2 ok, 1 timeout``: the runs by status, in ``STATUS_ORDER`` then by name."""
    counts = statuses.value_counts()
    order = [s for s in STATUS_ORDER if s in counts] + sorted(set(counts.index) - set(STATUS_ORDER))
    return ", ".join(f"{counts[s]} {s}" for s in order)


RANK, SOLUTION, VERSUS, RUNS = "rank", "solution", "versus", "runs"
"""Keys of the columns the HTML page styles on its own (ties, wrapping, status badges)."""

LEADERBOARD: list[Column[Entry]] = [
    Column(RANK, "Rank", lambda e: Cell(e.rank), numeric=True),
    Column(
        SOLUTION,
        "Solution",
        lambda e: Cell(e.name, f"({e.variant})" if e.variant else ""),
        nowrap=False,
    ),
    Column("budget", "Budget", lambda e: Cell(e.budget)),
    Column("score", "{metric} [95% CI]", _score_cell, numeric=True),
    Column("seeds", "Over seeds", _seeds_cell, numeric=True),
    Column(VERSUS, "vs leader: Δ [95% CI]", _versus_cell),
    Column("fit", "Fit", _over_ok_runs("fit_wall_s", _mean, _duration), numeric=True),
    Column("predict", "Predict", _over_ok_runs("predict_wall_s", _mean, _duration), numeric=True),
    Column("gpu_hours", "GPU-h", _over_ok_runs("gpu_hours", _mean, _hours), numeric=True),
    Column(
        "gpu_memory",
        "GPU mem peak",
        _over_ok_runs("gpu_peak_mem_gb", _max, _number("{:.1f} GB")),
        numeric=True,
    ),
    Column(
        "throughput",
        "Predict img/s",
        _over_ok_runs("predict_images_per_s", _mean, _rate),
        numeric=True,
    ),
    Column("hidden_test", "Hidden test (projected)", _hidden_test_cell, numeric=True),
    Column(
        "gpu_util",
        "GPU util",
        _over_ok_runs("gpu_util_mean", _mean, _number("{:.0f}%")),
        numeric=True,
    ),
    Column(RUNS, "Runs", _text(lambda e: status_counts(e.runs["status"]))),
]
"""One row per entry of a section, in rank order."""


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


def _sha(run: pd.Series) -> str:
    sha = str(run["git_sha"])
    return sha[:12] + ("-dirty" if sha.endswith("-dirty") else "")


PROVENANCE: list[Column[pd.Series]] = [
    Column("run", "Run", _text(lambda r: str(r["run_id"])), nowrap=False),
    Column(
        "solution",
        "Solution",
        _text(lambda r: f"{r['solution']} {r['solution_version']}"),
        nowrap=False,
    ),
    Column("budget", "Budget", _text(lambda r: str(r["budget"]))),
    Column("seed", "Seed", _text(lambda r: str(r["seed"])), numeric=True),
    Column("status", "Status", _text(lambda r: str(r["status"]))),
    Column("started", "Started (UTC)", _text(lambda r: r["started"].strftime("%Y-%m-%d %H:%M"))),
    Column("git_sha", "Git sha", _text(_sha)),
    Column("device", "Device", _text(lambda r: str(r["device"]))),
    Column("hardware", "Hardware", _text(lambda r: hardware_text(r["hardware"])), nowrap=False),
    Column(
        "libraries",
        "Other library versions",
        _text(lambda r: str(r["other_libraries"])),
        nowrap=False,
    ),
]
"""One row per run (see ``provenance_runs``): what is needed to reproduce it."""


def provenance_runs(runs: pd.DataFrame) -> list[pd.Series]:
    """The runs in table order, each with ``other_libraries``: the versions not all share."""
    common = common_libraries(runs)
    ordered = runs.sort_values(["task", "budget", "solution", "seed"])
    other = [
        ", ".join(f"{k} {v}" for k, v in sorted(libraries.items()) if common.get(k) != v) or "-"
        for libraries in ordered["libraries"]
    ]
    return [run for _, run in ordered.assign(other_libraries=other).iterrows()]


def section_summary(section: Section) -> str:
    """One sentence saying what the section's scores are measured on, and how."""
    direction = "higher is better" if section.greater_is_better else "lower is better"
    cases = section.runs["n_holdout_cases"].max()
    which = "holdout cases" if section.rows == "holdout" else "cases (every row of the data)"
    on = f"{cases:.0f} {which}" if pd.notna(cases) else "the holdout"
    if section.rows == "test":
        on = "nothing (unlabelled test data: predicted and timed, not scored)"
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
