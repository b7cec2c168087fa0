"""What a sweep prints: the live progress table and the closing summary."""

from __future__ import annotations

from collections import Counter

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from harness.engine.sweep.board import QUEUED, RUNNING, SKIPPED, RunState

_STYLE = {"ok": "green", SKIPPED: "green", RUNNING: "cyan", QUEUED: "dim", "timeout": "yellow"}
_NOT_FAILED = {"ok", SKIPPED, RUNNING, QUEUED}


def _counts(states: list[RunState]) -> str:
    counts = Counter(s.status for s in states)
    order = [QUEUED, RUNNING, "ok", SKIPPED]
    order += sorted(k for k in counts if k not in order)
    return ", ".join(f"{counts[k]} {k}" for k in order if counts[k])


def _shown(states: list[RunState], max_rows: int | None) -> list[RunState]:
    """At most ``max_rows`` rows, in plan order: every running run, then the latest finished
    and the next queued ones, half each (a live table taller than the terminal is cut)."""
    if max_rows is None or len(states) <= max_rows:
        return states
    running = [s for s in states if s.status == RUNNING]
    finished = sorted(
        (s for s in states if s.ended is not None), key=lambda s: s.ended or 0.0, reverse=True
    )
    queued = [s for s in states if s.status == QUEUED]
    room = max(0, max_rows - len(running))
    next_queued = min(len(queued), max(room // 2, room - len(finished)))
    chosen = {s.plan.index for s in [*running, *queued[:next_queued]]}
    chosen.update(s.plan.index for s in finished[: room - next_queued])
    return [s for s in states if s.plan.index in chosen]


def progress_table(
    states: list[RunState], title: str = "sweep", max_rows: int | None = None
) -> Table:
    """One row per run: what it varies, status, latest progress line, time, score, placement.

    The caption says how many runs are running and queued; with ``max_rows`` (the live view)
    only the running, latest finished and next queued rows are shown.
    """
    keys = list(states[0].plan.label) if states else []
    shown = _shown(states, max_rows)
    counts = Counter(s.status for s in states)
    caption = f"{counts[RUNNING]} running, {counts[QUEUED]} queued"
    if len(shown) < len(states):
        caption += f" ({len(states) - len(shown)} more rows not shown)"
    table = Table(
        title=f"{title}: {len(states)} runs ({_counts(states)})",
        title_justify="left",
        caption=caption,
        caption_justify="left",
    )
    table.add_column("#", justify="right")
    for key in keys:
        table.add_column(key)
    table.add_column("status")
    table.add_column("progress", overflow="fold", max_width=60)
    table.add_column("time s", justify="right")
    table.add_column("score", justify="right")
    placed = any(state.where for state in shown)
    if placed:
        table.add_column("where")
    for state in shown:
        elapsed = state.elapsed_s
        score = state.score
        table.add_row(
            str(state.plan.index),
            *(state.plan.label[k] for k in keys),
            f"[{_STYLE.get(state.status, 'red')}]{state.status}[/]",
            Text(state.message),
            "" if elapsed is None else f"{elapsed:.0f}",
            "" if score is None else f"{score:.4f}",
            *([state.where] if placed else []),
        )
    return table


def failures(states: list[RunState]) -> list[RunState]:
    return [s for s in states if s.status not in _NOT_FAILED]


def print_summary(console: Console, states: list[RunState], interrupted: bool) -> None:
    """Counts, then every run that did not finish ok with its error and run folder."""
    ran = [s for s in states if s.outcome is not None]
    head = f"{len(ran)} run(s) executed, {_counts(states)}"
    if interrupted:
        head += "; interrupted: run the same command again to resume"
    lines: list[Text | Table] = [Text(head, style="bold")]
    failed = failures(states)
    if failed:
        table = Table(title="not ok", title_justify="left")
        for column in ("#", "run", "status", "error", "run folder"):
            table.add_column(column, overflow="fold")
        for state in failed:
            outcome = state.outcome
            label = " ".join(f"{k}={v}" for k, v in state.plan.label.items())
            error = outcome.error if outcome else ""
            phase = f" (in {outcome.failed_phase})" if outcome and outcome.failed_phase else ""
            table.add_row(
                str(state.plan.index),
                label or state.plan.config.solution,
                state.status + phase,
                Text(error),
                Text(outcome.run_dir if outcome else ""),
            )
        lines.append(table)
    console.print(Group(*lines))
