"""The leaderboard as GitHub-flavoured Markdown, pasteable into a README."""

from __future__ import annotations

from collections.abc import Sequence

from harness.engine.report.leaderboard import (
    NUMERIC_COLUMNS,
    PROVENANCE_HEADERS,
    Cell,
    Report,
    common_libraries,
    headers,
    provenance_rows,
    rows,
    section_summary,
)

LEGEND = (
    "One table per task and budget: runs under different budgets are never ranked together. "
    "Scores are means over seeds with 95% cluster-bootstrap CIs; *vs leader* is the paired "
    "bootstrap difference on the same holdout cases, and `=1` marks a solution that cannot be "
    "told from the leader at 95%. Failed and timed-out runs are counted in *Runs* and listed "
    "under each table."
)


def table(
    head: Sequence[str], body: Sequence[Sequence[Cell | str]], numeric: frozenset[int]
) -> str:
    """A Markdown table; ``numeric`` holds the indexes of right-aligned columns."""
    align = ["---:" if i in numeric else ":---" for i in range(len(head))]
    lines = [_row(head), _row(align), *(_row(r) for r in body)]
    return "\n".join(lines)


def _row(cells: Sequence[Cell | str]) -> str:
    texts = (str(c).replace("|", "\\|").replace("\n", " ") for c in cells)
    return "| " + " | ".join(texts) + " |"


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
        out.append(table(headers(section), rows(section), NUMERIC_COLUMNS))
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
    out.append(table(PROVENANCE_HEADERS, provenance_rows(report.runs), frozenset({3})))
    return "\n".join(out) + "\n"
