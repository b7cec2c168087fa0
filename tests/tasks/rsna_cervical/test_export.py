"""The holdout answers exported as the competition's solution file (`harness data answers`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.engine.registry import load_task
from tasks.rsna_cervical.layout import TARGETS


def test_the_export_has_mle_bench_columns_and_reads_back(
    tiny_cervical_root: Path, tmp_path: Path
) -> None:
    task = load_task("rsna-cervical")
    answers = task.answers(task.load(tiny_cervical_root))

    task.export_answers(answers, tmp_path / "answers.csv")

    # mle-bench's answers.csv for this competition; its grader reads row_id and fractured.
    written = pd.read_csv(tmp_path / "answers.csv", dtype={"StudyInstanceUID": str})
    assert list(written.columns) == ["StudyInstanceUID", "prediction_type", "fractured", "row_id"]
    assert (written["StudyInstanceUID"] + "_" + written["prediction_type"]).equals(
        written["row_id"]
    )
    assert set(written["prediction_type"]) == set(TARGETS)
    pd.testing.assert_frame_equal(task.read_answers(tmp_path / "answers.csv"), answers)
