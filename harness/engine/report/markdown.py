"""The leaderboard as GitHub-flavoured Markdown, pasteable into a README."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.engine.report.columns import (
    LEADERBOARD,
    PROVENANCE,
    Column,
    Row,
    common_libraries,
    provenance_runs,
    section_summary,
)
from harness.engine.report.sections import Report

LEGEND = (
    "One table per task and budget: runs under different budgets are never ranked together. "
    "Scores are means over seeds with 95% cluster-bootstrap CIs; *vs leader* is the paired "
    "bootstrap difference on the same holdout cases, and `=1` marks a solution that cannot be "
    "told from the leader at 95%. Failed and timed-out runs are counted in *Runs* and listed "
    "under each table."
)


def table(columns: Sequence[Column[Row]], rows: Iterable[Row], metric: str = "") -> str:
    """A Markdown table of ``rows``, one cell per column; ``metric`` goes into the headers."""
    head = [column.heading(metric) for column in columns]
    align = ["---:" if column.numeric else ":---" for column in columns]
    body = ([str(column.cell(row)) for column in columns] for row in rows)
    return "\n".join([_row(head), _row(align), *(_row(cells) for cells in body)])


def _row(texts: Iterable[str]) -> str:
    escaped = (text.replace("|", "\\|").replace("\n", " ") for text in texts)
    return "| " + " | ".join(escaped) + " |"


def render_markdown(report: Report, plot_files: dict[str, list[tuple[str, str]]]) -> str:
    """The page; ``plot_files`` maps a section slug to (caption, relative path) of its plots."""
    out = [
        "# Leaderboard",
        "",
        f"Generated {report.generated} UTC from `{report.tracking_uri}`: "
        f"{len(report.runs)} runs ({report.filters}).",
        "",
        LEGEND,
    ]
    for section in report.sections:
        out += ["", f"## {section.title}", "", section_summary(section), ""]
        out.append(table(LEADERBOARD, section.entries, section.metric))
        if section.notes:
            out.append("")
            out += [f"- {note}" for note in section.notes]
        for caption, path in plot_files.get(section.slug, []):
            out += ["", f"![{caption}]({path})"]
    out += ["", "## Reproducibility", ""]
    common = common_libraries(report.runs)
    if common:
        versions = ", ".join(f"{k} {v}" for k, v in common.items())
        out += [f"Library versions shared by every run: {versions}.", ""]
    out.append(table(PROVENANCE, provenance_runs(report.runs)))
    return "\n".join(out) + "\n"
