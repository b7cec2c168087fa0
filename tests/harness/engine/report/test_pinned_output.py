"""The leaderboard pages of the conftest runs, pinned byte for byte.

What changes from one session to the next (run ids, start times, phase timings, code and
library versions, the temporary data folder) is set to fixed values first; the scores, CIs,
ranks, ties and notes are the real ones of the runs. The page's style sheet, a constant, stands
in the pinned HTML as a comment.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from harness.engine.report.collect import collect_runs
from harness.engine.report.html import CSS, render_html
from harness.engine.report.markdown import render_markdown
from harness.engine.report.ranking import build_sections
from harness.engine.report.sections import Report

if TYPE_CHECKING:  # the fixture's type; conftest is not importable at run time
    from conftest import ReportRuns

GOLDEN = Path(__file__).parent / "golden"
PINNED_CSS = "/* the page's CSS: harness.engine.report.html.CSS */"


def _fixed(values: pd.Series, pinned: list[float]) -> list[float]:
    """``pinned`` in turn where the run has a value, NaN where it has none."""
    return [p if pd.notna(v) else np.nan for v, p in zip(values, pinned, strict=False)]


def _pinned_runs(report_runs: ReportRuns) -> pd.DataFrame:
    runs = collect_runs(report_runs.tracking_uri)
    n = len(runs)
    start = pd.Timestamp("2026-01-02 03:04", tz="UTC")
    return runs.assign(
        run_id=[f"20260102-0304{i:02d}-run{i}" for i in range(n)],
        started=[start + pd.Timedelta(minutes=i) for i in range(n)],
        prepare_wall_s=_fixed(runs["prepare_wall_s"], [0.5 + i for i in range(n)]),
        fit_wall_s=_fixed(runs["fit_wall_s"], [12.3, 75.0, 4000.0, 59.99, 3600.0, 1.0, 2.0]),
        predict_wall_s=_fixed(runs["predict_wall_s"], [1.25, 2.5, 90.0, 0.4, 7.0, 8.0, 9.0]),
        predict_images_per_s=_fixed(
            runs["predict_images_per_s"], [12.5, 99.96, 1234.5, 100.0, 5.0, 6.0, 7.0]
        ),
        # Two of the rsna-breast runs past its 9 h limit, the others within it:
        hidden_test_projected_s=_fixed(
            runs["hidden_test_projected_s"], [3000.0, 40000.0, 50000.0, 20.0, 7200.0, 9.0, 9.5]
        ),
        device="cpu",
        git_sha="0123456789abcdef0123-dirty",
        libraries=[
            {"numpy": "2.0.1", "pandas": "2.2.3" if i % 3 else "2.1.0", "torch": "2.4.0"}
            for i in range(n)
        ],
        hardware=[
            {"cpu": "Test CPU", "cpu_cores": "4", "ram_gb": "16", "gpus": "[]" if i else "['T4']"}
            for i in range(n)
        ],
    )


def _pages(report_runs: ReportRuns) -> tuple[str, str]:
    runs = _pinned_runs(report_runs)
    report = Report(
        sections=build_sections(runs, report_runs.tracking_uri, n_resamples=report_runs.bootstrap),
        runs=runs,
        tracking_uri="sqlite:///results/mlflow.db",
        filters="latest versions only",
        generated="2026-01-02 03:04",
    )
    pages = render_markdown(report, {}), render_html(report, {}).replace(CSS, PINNED_CSS)
    base = str(report_runs.results.parent)
    slugs = {section.slug: f"{section.task}-{section.budget}" for section in report.sections}
    pinned = []
    for page in pages:
        for slug, name in slugs.items():
            page = page.replace(slug, name)
        pinned.append(page.replace(base, "/data"))
    return pinned[0], pinned[1]


def test_markdown_and_html_pages_are_unchanged(report_runs: ReportRuns) -> None:
    markdown, html = _pages(report_runs)
    assert markdown == (GOLDEN / "leaderboard.md").read_text()
    assert html == (GOLDEN / "leaderboard.html").read_text()
