"""The holdout answers exported as the competition's solution file (`harness data answers`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.engine.registry import load_task


def test_the_export_is_mle_bench_answers_csv_and_reads_back(
    tiny_breast_root: Path, tmp_path: Path
) -> None:
    task = load_task("rsna-breast")
    answers = task.answers(task.load(tiny_breast_root))

    task.export_answers(answers, tmp_path / "answers.csv")

    # mle-bench's answers.csv and Kaggle's solution file: one row per breast.
    written = pd.read_csv(tmp_path / "answers.csv")
    assert list(written.columns) == ["prediction_id", "cancer"]
    assert set(written["cancer"]) == {0, 1}
    pd.testing.assert_frame_equal(task.read_answers(tmp_path / "answers.csv"), answers)
