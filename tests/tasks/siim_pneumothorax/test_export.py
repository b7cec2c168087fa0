"""The holdout answers exported as the competition's solution file (`harness data answers`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.engine.registry import load_task


def test_the_export_is_imageid_encodedpixels_and_reads_back(
    synthetic_root: Path, tmp_path: Path
) -> None:
    task = load_task("siim-pneumothorax")
    answers = task.answers(task.load(synthetic_root))

    task.export_answers(answers, tmp_path / "answers.csv")

    # The competition's ImageId,EncodedPixels with -1 for no pneumothorax; the image sizes
    # follow, since a synthetic image is not the competition's 1024 x 1024.
    written = pd.read_csv(tmp_path / "answers.csv", dtype=str, keep_default_na=False)
    assert list(written.columns) == ["ImageId", "EncodedPixels", "height", "width"]
    assert "-1" in set(written["EncodedPixels"]) and (written["EncodedPixels"] != "").all()
    pd.testing.assert_frame_equal(task.read_answers(tmp_path / "answers.csv"), answers)
