"""The table `harness run` prints at the end: readable by a newcomer at a glance."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from harness.api import PHASES
from harness.engine.record import RunRecord

_STATUS_STYLE = {"ok": "green", "timeout": "yellow", "running": "yellow"}


def format_score(record: RunRecord) -> str:
    if record.score is None:
        return "-"
    text = f"{record.score:.4f}"
    if record.ci_low is not None and record.ci_high is not None:
        text += f"  (95% CI {record.ci_low:.4f}-{record.ci_high:.4f})"
    return text


def hidden_test_text(record: RunRecord) -> str:
    """How long predict would take on the competition's hidden test, and if that fits."""
    assert record.hidden_test_projected_s is not None
    hours = record.hidden_test_projected_s / 3600
    size = f"{record.hidden_test_rows:,} {record.hidden_test_unit}"
    text = f"{hours:.2f} h for {size}, at this run's predict speed"
    limit = record.hidden_test_limit_s
    if limit is None:
        return f"{text}; the competition had no predict limit"
    verdict = "fits" if record.hidden_test_fits else "[red]over[/]"
    return f"{text}: {verdict} the competition's {limit / 3600:g} h limit"


def print_summary(console: Console, record: RunRecord) -> None:
    style = _STATUS_STYLE.get(record.status, "red")
    head = Table(
        show_header=False, title=f"{record.task} / {record.solution}", title_justify="left"
    )
    head.add_column(style="bold")
    head.add_column(overflow="fold")
    head.add_row("status", f"[{style}]{record.status}[/]")
    if record.error:
        head.add_row("error", record.error)
    head.add_row(record.metric_name, format_score(record))
    head.add_row(
        "budget / seed / device", f"{record.budget_name} / {record.seed} / {record.device}"
    )
    head.add_row("data", f"{record.data_kind}: {record.data_root}")
    groups = f" from {record.n_holdout_groups} resampled groups" if record.n_holdout_groups else ""
    if record.source_run_id:
        head.add_row("predicted by", f"the solution run {record.source_run_id} saved")
        if record.rows == "test":
            head.add_row("cases", "the competition's unlabelled test data: not scored")
        else:
            which = "the holdout" if record.rows == "holdout" else "every row"
            head.add_row("cases", f"{which}: {record.n_holdout_cases} answer rows scored{groups}")
    else:
        head.add_row(
            "cases",
            f"{record.n_train} training rows; {record.n_holdout_cases} holdout answer rows "
            f"scored{groups}",
        )
    if record.predict_images_per_s is not None:
        head.add_row("predict throughput", f"{record.predict_images_per_s:.1f} images/s")
    if record.hidden_test_projected_s is not None:
        head.add_row("hidden test (projected)", hidden_test_text(record))
    for key, value in sorted(record.extra.items()):
        head.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    head.add_row("run folder", record.run_dir)
    head.add_row("MLflow run", record.mlflow_run_id)
    console.print(head)

    phases = Table(title="phases", title_justify="left")
    for column in ("phase", "wall s", "CPU s", "peak RSS MB", "peak GPU GB", "GPU util %"):
        phases.add_column(column, justify="right")
    for name in PHASES:
        stats = record.phases.get(name)
        if stats is None:
            note = "killed here" if name == record.failed_phase else "not run"
            phases.add_row(name, note, "", "", "", "")
            continue
        phases.add_row(
            name,
            f"{stats.wall_s:.1f}",
            f"{stats.cpu_s:.1f}",
            f"{stats.peak_rss_mb:.0f}",
            "-" if stats.gpu_peak_mem_gb is None else f"{stats.gpu_peak_mem_gb:.2f}",
            "-" if stats.gpu_util_mean is None else f"{stats.gpu_util_mean:.0f}",
        )
    console.print(phases)
