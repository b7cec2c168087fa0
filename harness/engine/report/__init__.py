"""``harness report``: the leaderboard as Markdown and self-contained HTML, with plots.

collect (MLflow -> one tidy table, a row per run) -> sections (the runs read into one section per
task x budget x dataset, one entry per solution option set) -> rescoring (each entry's submissions
scored again on the section's shared resamples) -> ranking (order, ties by paired comparison via
compare) -> columns (the cells of each named column) -> markdown, html, plots. Every output reads
the same sections.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from harness.api import HarnessError
from harness.engine.report.collect import collect_runs
from harness.engine.report.html import render_html
from harness.engine.report.markdown import render_markdown
from harness.engine.report.plots import Plot, section_plots
from harness.engine.report.ranking import build_sections
from harness.engine.report.sections import Report

MARKDOWN_FILE = "leaderboard.md"
HTML_FILE = "leaderboard.html"
PLOT_FOLDER = "leaderboard_plots"


@dataclass(frozen=True)
class ReportFiles:
    """What ``build_report`` wrote, and what it was built from."""

    markdown: Path
    html: Path
    plots: list[Path]
    report: Report


def build_report(
    tracking_uri: str,
    out_dir: Path,
    *,
    task: str | None = None,
    budget: str | None = None,
    since: str | None = None,
    all_versions: bool = False,
    bootstrap: int = 1000,
    rescore: bool = False,
) -> ReportFiles:
    """Write ``leaderboard.md``, ``leaderboard.html`` and the plots (SVG) under ``out_dir``.

    ``bootstrap`` resamples (seeded with ``harness.engine.scoring.CI_SEED``) are shared by every
    run of a section; with the runner's resample count a single run's CI is exactly the one it
    recorded. Runs that kept their resampled scores in their folders are not re-scored (the
    data is not read) unless ``rescore``.
    """
    if bootstrap <= 0:
        raise HarnessError("bootstrap must be positive: the comparisons need resamples")
    runs = collect_runs(
        tracking_uri, task=task, budget=budget, since=since, all_versions=all_versions
    )
    filters = [f"{k}={v}" for k, v in (("task", task), ("budget", budget), ("since", since)) if v]
    filters.append("all versions" if all_versions else "latest versions only")
    if runs.empty:
        raise HarnessError(
            f"no harness runs in {tracking_uri} match ({', '.join(filters)}); "
            "check the filters, or run `harness run task=... solution=...` first"
        )
    report = Report(
        sections=build_sections(runs, tracking_uri, n_resamples=bootstrap, rescore=rescore),
        runs=runs,
        tracking_uri=tracking_uri,
        filters=", ".join(filters),
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_dir = out_dir / PLOT_FOLDER
    plot_dir.mkdir(exist_ok=True)
    for stale in plot_dir.glob("*.svg"):  # the folder is the report's own: old sections go
        stale.unlink()
    plots: dict[str, list[Plot]] = {}
    written: list[Path] = []
    links: dict[str, list[tuple[str, str]]] = {}
    for section in report.sections:
        plots[section.slug] = section_plots(section)
        for plot in plots[section.slug]:
            path = plot_dir / f"{section.slug}-{plot.name}.svg"
            path.write_text(plot.svg)
            written.append(path)
            links.setdefault(section.slug, []).append((plot.caption, f"{PLOT_FOLDER}/{path.name}"))
    markdown = out_dir / MARKDOWN_FILE
    markdown.write_text(render_markdown(report, links))
    html = out_dir / HTML_FILE
    html.write_text(render_html(report, plots))
    return ReportFiles(markdown, html, written, report)
