"""The holdout answers exported as the competition's solution file (`harness data answers`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.engine.registry import load_task


def test_the_export_is_kaggle_id_label_and_reads_back(small_dataset: Path, tmp_path: Path) -> None:
    task = load_task("rsna-ich")
    answers = task.answers(task.load(small_dataset))

    task.export_answers(answers, tmp_path / "answers.csv")

    # Kaggle's ID,Label, plus the study that the bootstrap resamples when read back.
    written = pd.read_csv(tmp_path / "answers.csv")
    assert list(written.columns) == ["ID", "Label", "StudyInstanceUID"]
    assert (
        written["ID"]
        .str.fullmatch(
            r"ID_\w+_(epidural|intraparenchymal|intraventricular|"
            r"subarachnoid|subdural|any)"
        )
        .all()
    )
    pd.testing.assert_frame_equal(task.read_answers(tmp_path / "answers.csv"), answers)
