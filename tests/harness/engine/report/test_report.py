"""The report over real runs in a real sqlite MLflow store (the runs are made once, in conftest)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from harness.api import HarnessError
from harness.cli import app
from harness.engine.record import RunRecord
from harness.engine.report import ReportFiles, build_report

if TYPE_CHECKING:  # the fixture's type; conftest is not importable at run time
    from conftest import ReportRuns

HEADERS = [
    "Rank",
    "Solution",
    "Budget",
    "pF1 [95% CI]",
    "Over seeds",
    "vs leader: Δ [95% CI]",
    "Fit",
    "Predict",
    "GPU-h",
    "GPU mem peak",
    "Predict img/s",
    "Hidden test (projected)",
    "GPU util",
    "Runs",
]


def _table(markdown: str, heading: str) -> list[list[str]]:
    """The cells of the first table under ``## heading``, header row first."""
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    rows = [line[2:-2].split(" | ") for line in lines]
    return [rows[0], *rows[2:]]  # without the alignment row


def _score(record: RunRecord) -> str:
    return f"{record.score:.4f} [{record.ci_low:.4f}, {record.ci_high:.4f}]"


def test_markdown_table_ranks_ties_and_counts_every_run(
    report_runs: ReportRuns, report_files: ReportFiles
) -> None:
    r = report_runs.records
    head, *body = _table(report_files.markdown.read_text(), "rsna-breast · budget smoke")

    assert head == HEADERS
    leader, twin, low, crash, timeout = body
    # Two seeds with identical submissions: their mean's CI is each run's own recorded CI.
    # The same predictions from another solution: a tie (=1), not a rank 2.
    tie = "+0.0000 [+0.0000, +0.0000] not distinguishable at 95%"
    two_seeds = "±0.0000 sd (seeds 0, 1)"
    assert [[*row[:6], row[-1]] for row in (leader, twin)] == [
        ["1", "constant 0.1 (value=0.7)", "smoke", _score(r["high0"]), two_seeds, "leader", "2 ok"],
        ["=1", "reporting 0.1", "smoke", _score(r["twin"]), "seed 0", tie, "1 ok"],
    ]
    assert low[:5] == ["3", "constant 0.1 (value=0.3)", "smoke", _score(r["low"]), "seed 0"]
    delta = r["low"].score - r["high0"].score  # type: ignore[operator]
    assert re.fullmatch(rf"{delta:+.4f} \[-0\.\d{{4}}, -0\.\d{{4}}\] worse at 95%", low[5])
    assert low[-1] == "1 ok"
    for row in (leader, twin, low):
        assert re.fullmatch(r"\d+\.\d s", row[6]) and re.fullmatch(r"\d+\.\d s", row[7])
        assert row[8:10] == ["0", "-"]  # CPU runs: no GPU-hours, no GPU memory
        assert re.fullmatch(r"[\d,]+(\.\d)?", row[10])
        assert row[12] == "-"
    # The hidden test's 36,700 images at each run's own predict speed, held to the 9 h limit:
    for row, record in ((twin, r["twin"]), (low, r["low"])):
        projected = record.hidden_test_projected_s
        assert projected is not None
        verdict = "fits 9.00 h" if projected <= 9 * 3600 else "✗ over the 9.00 h limit"
        assert row[11].endswith(verdict) and re.match(r"[\d.]+ (s|min|h) ", row[11])
    assert crash == ["-", "crashing 0.1", "smoke", *["-"] * 10, "1 failed"]
    assert timeout == ["-", "sleepy 0.1", "smoke", *["-"] * 10, "1 timeout"]


def test_failures_are_listed_under_their_table(report_files: ReportFiles) -> None:
    text = report_files.markdown.read_text()
    smoke = text.split("## rsna-breast · budget smoke", 1)[1].split("\n## ", 1)[0]
    assert "- crashing seed 0: failed in fit: ValueError: boom in fit" in smoke
    assert "- sleepy seed 0: timeout in fit: phase fit exceeded its 2 s limit" in smoke
    assert "- =1: not distinguishable at 95% from the leader" in smoke


def test_budgets_are_never_ranked_in_one_table(
    report_runs: ReportRuns, report_files: ReportFiles
) -> None:
    sections = report_files.report.sections
    assert [s.budget for s in sections] == ["smoke", "tiny"]
    _, *body = _table(report_files.markdown.read_text(), "rsna-breast · budget tiny")
    assert body == [
        [
            "1",
            "constant 0.1",
            "tiny",
            _score(report_runs.records["gone"]),
            "seed 0",
            "leader",
            *body[0][6:13],
            "1 ok",
        ]
    ]


def test_plots_are_written_and_linked(report_files: ReportFiles) -> None:
    names = sorted(p.name.rsplit("-", 1)[1] for p in report_files.plots)
    assert names == ["cost.svg", "cost.svg", "phases.svg", "phases.svg", "seeds.svg", "seeds.svg"]
    markdown = report_files.markdown.read_text()
    for path in report_files.plots:
        assert path.read_text().lstrip().startswith("<?xml")
        assert f"](leaderboard_plots/{path.name})" in markdown
    assert "wall-clock seconds per run (no GPU used" in markdown


def test_html_is_self_contained_and_shows_the_same_content(report_files: ReportFiles) -> None:
    page = report_files.html.read_text()
    assert page.count('src="data:image/svg+xml;base64,') == 6
    assert not re.search(r"(src|href)=\"(?!data:)", page)  # nothing to fetch
    assert "<script" not in page and "<link" not in page
    for text in ("not distinguishable at 95%", "1 timeout", "1 failed", "Reproducibility"):
        assert text in page


def test_reproducibility_footer_names_code_libraries_and_hardware(
    report_runs: ReportRuns, report_files: ReportFiles
) -> None:
    footer = report_files.markdown.read_text().split("## Reproducibility", 1)[1]
    record = report_runs.records["high0"]
    assert f"pandas {record.libraries['pandas']}" in footer
    assert record.git_sha[:12] in footer
    assert f"{record.hardware['cpu_cores']} cores" in footer
    assert footer.count(f"| {record.run_id} |") == 1
    assert len(re.findall(r"^\| 2\d{7}-", footer, flags=re.M)) == len(report_runs.records)


def test_filters_select_runs_and_plots_are_reproducible(
    report_runs: ReportRuns, tmp_path: Path
) -> None:
    first = build_report(report_runs.tracking_uri, tmp_path / "a", budget="tiny", bootstrap=20)
    again = build_report(report_runs.tracking_uri, tmp_path / "b", budget="tiny", bootstrap=20)
    assert [s.budget for s in first.report.sections] == ["tiny"]
    assert [p.read_bytes() for p in first.plots] == [p.read_bytes() for p in again.plots]
    with pytest.raises(HarnessError, match="no harness runs"):
        build_report(report_runs.tracking_uri, tmp_path / "c", since="2999-01-01")
    with pytest.raises(HarnessError, match="no harness runs"):
        build_report(report_runs.tracking_uri, tmp_path / "c", task="rsna-ich")


def test_cli_writes_the_report_and_names_bad_keys(report_runs: ReportRuns, tmp_path: Path) -> None:
    runner = CliRunner()
    args = [f"results_dir={report_runs.results}", f"out={tmp_path}", "budget=tiny"]
    result = runner.invoke(app, ["report", *args, "bootstrap=20"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "1 table(s) from 1 run(s)" in result.output
    assert (tmp_path / "leaderboard.md").is_file() and (tmp_path / "leaderboard.html").is_file()

    result = runner.invoke(app, ["report", "budgte=tiny"], terminal_width=200)
    assert result.exit_code == 2
    assert "did you mean 'budget'" in result.output
    result = runner.invoke(app, ["report", f"results_dir={tmp_path / 'none'}"])
    assert result.exit_code == 2
    assert "no MLflow store" in result.output
