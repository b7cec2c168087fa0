"""The section's plots as SVG text: score vs cost with the Pareto front, time per phase, seeds.

Figures are built on ``matplotlib.figure.Figure`` directly (Agg-based, no pyplot state), so the
report never needs a display and never leaks figures. The SVG hash salt and date are fixed, so
the same runs give byte-identical plots.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from harness.api import PHASES
from harness.engine.report.sections import Entry, Section

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

_STYLE: dict[RcKeyType, Any] = {
    "svg.hashsalt": "harness-report",
    "svg.fonttype": "path",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
_COLORS: list[str] = [mpl.colors.to_hex(c) for c in mpl.colormaps["tab10"](range(10))]
_PHASE_COLORS = {"prepare": "#9ecae1", "fit": "#3182bd", "predict": "#fd8d3c"}
_WIDTH_IN = 6.4


@dataclass(frozen=True)
class Plot:
    name: str
    """File-name part: ``<section slug>-<name>.svg``."""
    caption: str
    svg: str
    wide: bool = False
    """Spans the page's width (HTML) instead of sharing a row."""


def section_plots(section: Section) -> list[Plot]:
    """The three plots of a section; none if no run of it finished."""
    scored = [e for e in section.entries if e.score is not None]
    if not scored:
        return []
    colors = {id(e): _COLORS[i % len(_COLORS)] for i, e in enumerate(scored)}
    with mpl.rc_context(_STYLE):
        return [
            _cost_plot(section, scored, colors),
            _seed_plot(section, scored, colors),
            _phase_plot(scored),
        ]


def cost_axis(section: Section) -> tuple[str, float, str]:
    """(column, divisor, label) of the cost axis.

    GPU-hours; on a budget without GPU (every run 0 GPU-hours) the wall-clock time, in hours,
    minutes or seconds, whichever reads best.
    """
    ok = section.runs.loc[section.runs["status"] == "ok"]
    if (ok["gpu_hours"].fillna(0) > 0).any():
        return "gpu_hours", 1.0, "GPU-hours per run"
    unit, divisor = _time_unit(float(ok["wall_s"].max()))
    return "wall_s", divisor, f"wall-clock {unit} per run (no GPU used: not GPU-hours)"


def _time_unit(longest_s: float) -> tuple[str, float]:
    if longest_s >= 1800:
        return "hours", 3600.0
    if longest_s >= 90:
        return "minutes", 60.0
    return "seconds", 1.0


def pareto_front(costs: np.ndarray, scores: np.ndarray, greater_is_better: bool) -> np.ndarray:
    """Indexes of the points no other point beats on both cost and score, cheapest first."""
    signed = scores if greater_is_better else -scores
    order = np.lexsort((-signed, costs))
    front: list[int] = []
    for i in order:
        if not front or signed[i] > signed[front[-1]]:
            front.append(int(i))
    return np.array(front, dtype=int)


def error_bar(score: float, ci: tuple[float, float] | None) -> list[list[float]]:
    """Matplotlib's ``yerr`` of one point: how far the CI reaches below and above the score.

    A percentile CI need not contain the score; when every resample scores the same (a constant
    submission) its ends differ from the score in the last bits either way. The bar then stops
    at the score instead of going negative, which matplotlib refuses.
    """
    low, high = ci if ci is not None else (score, score)
    return [[max(score - low, 0.0)], [max(high - score, 0.0)]]


def _cost_plot(section: Section, scored: list[Entry], colors: dict[int, str]) -> Plot:
    column, divisor, label = cost_axis(section)
    costs = np.array([e.ok[column].mean() / divisor for e in scored])
    scores = np.array([e.score for e in scored], dtype=float)
    legend_rows = -(-(len(scored) + 1) // 3)
    fig = Figure(figsize=(_WIDTH_IN, 4.0 + 0.2 * legend_rows), layout="constrained")
    ax = fig.subplots()
    for entry, cost, score in zip(scored, costs, scores, strict=True):
        ax.errorbar(
            cost,
            score,
            yerr=error_bar(score, entry.ci),
            fmt="o",
            color=colors[id(entry)],
            capsize=4,
            markersize=7,
            label=entry.label,
        )
    front = pareto_front(costs, scores, section.greater_is_better)
    ax.plot(
        costs[front],
        scores[front],
        drawstyle="steps-post",
        color="0.35",
        linestyle="--",
        linewidth=1,
        marker="o",
        markersize=14,
        markerfacecolor="none",
        label="Pareto front",
        zorder=0,
    )
    if costs.max() > 0 and costs[costs > 0].min() * 100 < costs.max():
        ax.set_xscale("log")
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
    ax.margins(x=0.15)
    ax.set_xlabel(label)
    ax.set_ylabel(f"{section.metric} (95% CI)")
    ax.set_title(f"{section.metric} vs cost", loc="left", fontweight="bold")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    caption = f"{section.metric} vs {label}, with 95% CIs; the dashed line is the Pareto front."
    return Plot("cost", caption, _svg(fig))


def _phase_plot(scored: list[Entry]) -> Plot:
    means = {p: np.array([_nan0(e.ok[f"{p}_wall_s"].mean()) for e in scored]) for p in PHASES}
    unit, divisor = _time_unit(float(np.sum(list(means.values()), axis=0).max()))
    height = 1.5 + 0.4 * len(scored)
    fig = Figure(figsize=(2 * _WIDTH_IN, height), layout="constrained")
    ax = fig.subplots()
    positions = np.arange(len(scored))
    left = np.zeros(len(scored))
    for phase in PHASES:
        widths = means[phase] / divisor
        ax.barh(positions, widths, left=left, color=_PHASE_COLORS[phase], label=phase, height=0.6)
        left += widths
    ax.set_yticks(positions, [e.label for e in scored])
    ax.invert_yaxis()
    ax.set_xlabel(f"mean wall-clock {unit} per run")
    ax.set_title("Time per phase", loc="left", fontweight="bold")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right", fontsize=8, ncols=3, frameon=False, bbox_to_anchor=(1, 1))
    caption = "Mean wall-clock time of each phase over the ok runs."
    return Plot("phases", caption, _svg(fig), wide=True)


def _seed_plot(section: Section, scored: list[Entry], colors: dict[int, str]) -> Plot:
    fig = Figure(figsize=(_WIDTH_IN, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.margins(y=0.12)
    for x, entry in enumerate(scored):
        ok = entry.ok.sort_values("seed")
        values = ok["score"].to_numpy(dtype=float)
        offsets = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else np.zeros(1)
        ax.scatter(x + offsets, values, color=colors[id(entry)], s=40, zorder=3)
        for offset, value, seed in zip(offsets, values, ok["seed"], strict=True):
            ax.annotate(
                f"s{seed}",
                (x + offset, value),
                xytext=(0, 6),
                textcoords="offset points",
                fontsize=8,
                ha="center",
                color="0.3",
            )
        ax.hlines(float(values.mean()), x - 0.3, x + 0.3, color=colors[id(entry)], linewidth=2)
    ax.set_xticks(range(len(scored)), [_wrap(e.label) for e in scored], fontsize=8)
    ax.set_xlim(-0.6, len(scored) - 0.4)
    ax.set_ylabel(section.metric)
    ax.set_title(f"{section.metric} by seed", loc="left", fontweight="bold")
    ax.grid(axis="x", visible=False)
    caption = "Each run's score (sN = seed N); the bar is the mean over seeds."
    return Plot("seeds", caption, _svg(fig))


def _wrap(label: str, width: int = 18) -> str:
    words, lines, line = label.split(" "), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def _nan0(value: float) -> float:
    return 0.0 if np.isnan(value) else float(value)


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
