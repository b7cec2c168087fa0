"""The holdout answers exported as the competition's solution file (`harness data answers`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.engine.registry import load_task


def test_the_export_is_imageid_classid_encodedpixels_and_reads_back(
    synthetic_root: Path, tmp_path: Path
) -> None:
    task = load_task("severstal-steel")
    answers = task.answers(task.load(synthetic_root))

    task.export_answers(answers, tmp_path / "answers.csv")

    # The competition's ImageId_ClassId,EncodedPixels, four rows per image, an empty cell for
    # no defect; the image sizes follow, since a synthetic image is not 256 x 1600.
    written = pd.read_csv(tmp_path / "answers.csv", dtype=str, keep_default_na=False)
    assert list(written.columns) == ["ImageId_ClassId", "EncodedPixels", "height", "width"]
    assert written["ImageId_ClassId"].str.fullmatch(r".+\.jpg_[1-4]").all()
    assert "" in set(written["EncodedPixels"])
    pd.testing.assert_frame_equal(task.read_answers(tmp_path / "answers.csv"), answers)
