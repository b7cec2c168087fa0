"""The live table says what runs, what waits and why, and fits a long sweep in the terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from harness.engine.sweep.board import Board
from harness.engine.sweep.display import progress_table
from harness.engine.sweep.outcome import RunOutcome
from harness.engine.sweep.plan import plan_sweep

pytestmark = pytest.mark.usefixtures("sweep_solutions")


def _board(tmp_path: Path, runs: int) -> Board:
    seeds = ",".join(map(str, range(runs)))
    return Board(
        plan_sweep(
            [
                "task=rsna-breast",
                "solution=constant",
                "budget=smoke",
                f"seed={seeds}",
                f"results_dir={tmp_path / 'results'}",
            ]
        )
    )


def _text(board: Board, max_rows: int | None = None) -> str:
    out = io.StringIO()
    Console(file=out, width=160).print(progress_table(board.states(), max_rows=max_rows))
    return out.getvalue()


def test_running_and_queued_counts_and_why_a_run_waits(tmp_path: Path) -> None:
    board = _board(tmp_path, 3)
    board.start(0, "")
    board.wait(1, "waiting for cores (2 of 2)")
    board.wait(0, "waiting for cores (2 of 2)")  # a running run is not waiting any more

    text = _text(board)
    assert "1 running, 2 queued" in text
    assert text.count("waiting for cores (2 of 2)") == 1
    assert "starting" in text


def test_a_long_sweep_shows_the_running_the_latest_finished_and_the_next_queued(
    tmp_path: Path,
) -> None:
    board = _board(tmp_path, 40)
    for index in range(30):
        board.start(index, "")
        board.finish(index, RunOutcome("ok", score=0.5))
    board.start(30, "")

    text = _text(board, max_rows=5)
    shown = [int(line.split("│")[1]) for line in text.splitlines() if line.startswith("│")]
    assert shown == [28, 29, 30, 31, 32]
    assert "1 running, 9 queued (35 more rows not shown)" in text
    assert len(_text(board).splitlines()) > 40  # the last render shows every run
