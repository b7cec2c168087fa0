"""The leaderboard as one self-contained HTML page: inline CSS, plots as data-URI SVG images.

Nothing is fetched from the network, so the page opens the same from a CI artifact, an e-mail
attachment or an air-gapped cluster. Plots are ``<img>`` data URIs rather than inline ``<svg>``
elements, so the element ids matplotlib writes can never clash between plots.
"""

from __future__ import annotations

import base64
from html import escape

from harness.engine.report.columns import (
    LEADERBOARD,
    PROVENANCE,
    RANK,
    RUNS,
    STATUS_ORDER,
    VERSUS,
    common_libraries,
    provenance_runs,
    section_summary,
)
from harness.engine.report.markdown import LEGEND
from harness.engine.report.plots import Plot
from harness.engine.report.sections import Entry, Report, Section

CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --band: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 -apple-system, "Segoe UI", "DejaVu Sans", Roboto, Helvetica,
       Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1360px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 4px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
.meta, .summary { color: var(--muted); margin: 2px 0 10px; }
.legend { background: var(--band); border-left: 4px solid var(--accent); padding: 8px 12px;
          margin: 14px 0; }
code { font: 12px ui-monospace, "DejaVu Sans Mono", Menlo, monospace; background: var(--band);
       padding: 1px 4px; border-radius: 4px; word-break: break-all; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; }
th { background: var(--band); font-weight: 600; }
tbody tr:hover { background: #fbfcfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.nowrap { white-space: nowrap; }
.detail { color: var(--muted); font-size: 12px; white-space: nowrap; }
tr.leader td { background: #eef6ee; }
tr.leader td.rank { font-weight: 700; }
td.rank { font-size: 15px; font-weight: 600; }
.tie { color: #7d4e00; font-weight: 600; }
.worse { color: var(--muted); }
.status { display: inline-block; border-radius: 10px; padding: 0 7px; margin: 1px 2px 1px 0;
          font-size: 12px; white-space: nowrap; background: #eaeef2; }
.status.ok { background: #dafbe1; color: #116329; }
.status.timeout, .status.running { background: #fff8c5; color: #7d4e00; }
.status.failed, .status.oom, .status.invalid_submission { background: #ffebe9; color: #a40e26; }
ul.notes { margin: 8px 0; padding-left: 20px; color: var(--muted); font-size: 13px; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px;
         margin-top: 14px; }
figure.wide { grid-column: 1 / -1; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
figure img { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
footer table { font-size: 12px; }
"""


def render_html(report: Report, plots: dict[str, list[Plot]]) -> str:
    """The page; ``plots`` maps a section slug to its plots."""
    body = [
        "<h1>Leaderboard</h1>",
        f'<p class="meta">Generated {escape(report.generated)} UTC from '
        f"<code>{escape(report.tracking_uri)}</code>: {len(report.runs)} runs "
        f"({escape(report.filters)}).</p>",
        f'<p class="legend">{_inline_markdown(LEGEND)}</p>',
    ]
    for section in report.sections:
        body.append(_section(section, plots.get(section.slug, [])))
    body.append(_footer(report))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Leaderboard</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body><main>\n{chr(10).join(body)}\n</main></body>\n</html>\n"
    )


def _section(section: Section, plots: list[Plot]) -> str:
    lines = [
        f'<section id="{escape(section.slug)}">',
        f"<h2>{escape(section.title)}</h2>",
        f'<p class="summary">{_inline_markdown(section_summary(section))}</p>',
        '<div class="scroll"><table>',
        "<thead><tr>" + "".join(_th(c.heading(section.metric), c.numeric) for c in LEADERBOARD),
        "</tr></thead><tbody>",
    ]
    lines += [_entry_row(entry) for entry in section.entries]
    lines.append("</tbody></table></div>")
    if section.notes:
        lines.append('<ul class="notes">')
        lines += [f"<li>{escape(note)}</li>" for note in section.notes]
        lines.append("</ul>")
    if plots:
        lines.append('<div class="plots">')
        for plot in plots:
            data = base64.b64encode(plot.svg.encode()).decode()
            wide = ' class="wide"' if plot.wide else ""
            lines.append(
                f'<figure{wide}><img alt="{escape(plot.caption)}" '
                f'src="data:image/svg+xml;base64,{data}">'
                f"<figcaption>{escape(plot.caption)}</figcaption></figure>"
            )
        lines.append("</div>")
    lines.append("</section>")
    return "\n".join(lines)


def _th(text: str, numeric: bool) -> str:
    label = escape(text).replace("-", "&#8209;")  # non-breaking: "GPU-h" stays on one line
    return f'<th class="num">{label}</th>' if numeric else f"<th>{label}</th>"


def _entry_row(entry: Entry) -> str:
    tds = []
    for column in LEADERBOARD:
        cell = column.cell(entry)
        if column.key == RUNS:
            content = _statuses(cell.text)
        else:
            content = escape(cell.text)
            if column.nowrap:
                content = f'<span class="nowrap">{content}</span>'
            if cell.detail:
                content += f'<br><span class="detail">{escape(cell.detail)}</span>'
        compared = column.key == VERSUS and entry.vs_leader is not None
        if (column.key == RANK and entry.tie) or compared:
            content = f'<span class="{"tie" if entry.tie else "worse"}">{content}</span>'
        flags = (("num", column.numeric), ("rank", column.key == RANK))
        classes = " ".join(name for name, on in flags if on)
        tds.append(f'<td class="{classes}">{content}</td>' if classes else f"<td>{content}</td>")
    row_class = ' class="leader"' if entry.rank == "1" else ""
    return f"<tr{row_class}>{''.join(tds)}</tr>"


def _statuses(text: str) -> str:
    """``2 ok, 1 timeout`` as coloured badges."""
    badges = []
    for part in text.split(", "):
        status = part.split(" ", 1)[-1]
        kind = status if status in STATUS_ORDER else "other"
        badges.append(f'<span class="status {kind}">{escape(part)}</span>')
    return "".join(badges)


def _footer(report: Report) -> str:
    common = common_libraries(report.runs)
    lines = ["<footer>", "<h2>Reproducibility</h2>"]
    if common:
        versions = ", ".join(f"{k} {v}" for k, v in common.items())
        lines.append(
            f'<p class="summary">Library versions shared by every run: {escape(versions)}.</p>'
        )
    lines.append('<div class="scroll"><table><thead><tr>')
    lines.append("".join(_th(c.heading(), False) for c in PROVENANCE) + "</tr></thead><tbody>")
    for run in provenance_runs(report.runs):
        tds = (
            f'<td class="nowrap">{escape(c.cell(run).text)}</td>'
            if c.nowrap
            else f"<td>{escape(c.cell(run).text)}</td>"
            for c in PROVENANCE
        )
        lines.append("<tr>" + "".join(tds) + "</tr>")
    lines += ["</tbody></table></div>", "</footer>"]
    return "\n".join(lines)


def _inline_markdown(text: str) -> str:
    """Escape, then render the only inline Markdown the shared texts use: `code` and *em*."""
    parts = escape(text).split("`")
    for i, part in enumerate(parts):
        if i % 2:
            parts[i] = f"<code>{part}</code>"
        else:
            pieces = part.split("*")
            pieces[1::2] = [f"<em>{p}</em>" for p in pieces[1::2]]
            parts[i] = "".join(pieces)
    return "".join(parts)
