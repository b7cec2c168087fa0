"""The holdout answers exported as each competition's solution file (`harness data answers`).

That ``read_answers`` reads the export back is in the conformance suite; here, that the file
is the one the competition's own grader (Kaggle's or mle-bench's ``grade.py``) reads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from harness.engine.registry import load_task

EXPORTS: dict[str, tuple[list[str], dict[str, str], dict[str, set[str]]]] = {
    # task: (columns, a pattern every value of a column matches, values a column must include)
    "rsna-breast": (["prediction_id", "cancer"], {"cancer": r"[01]"}, {"cancer": {"0", "1"}}),
    "rsna-cervical": (
        ["StudyInstanceUID", "prediction_type", "fractured", "row_id"],
        {"prediction_type": r"C[1-7]|patient_overall", "fractured": r"[01]"},
        {"prediction_type": {"C1", "C2", "C3", "C4", "C5", "C6", "C7", "patient_overall"}},
    ),
    "rsna-ich": (
        ["ID", "Label", "StudyInstanceUID"],
        {
            "ID": r"ID_\w+_(epidural|intraparenchymal|intraventricular|subarachnoid|subdural|any)",
            "Label": r"[01]",
        },
        {},
    ),
    "severstal-steel": (
        ["ImageId_ClassId", "EncodedPixels", "height", "width"],
        {"ImageId_ClassId": r".+\.jpg_[1-4]", "EncodedPixels": r"|\d+( \d+)*"},
        {"EncodedPixels": {""}},
    ),
    "siim-pneumothorax": (
        ["ImageId", "EncodedPixels", "height", "width"],
        {"EncodedPixels": r"-1|\d+( \d+)*"},
        {"EncodedPixels": {"-1"}},
    ),
}


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_the_export_is_the_competitions_solution_file(
    name: str, synthesized: Callable[[str, dict[str, Any]], Path], tmp_path: Path
) -> None:
    task = load_task(name)
    answers = task.answers(task.load(synthesized(name, task.contract_synth)))

    task.export_answers(answers, tmp_path / "answers.csv")

    columns, patterns, includes = EXPORTS[name]
    written = pd.read_csv(tmp_path / "answers.csv", dtype=str, keep_default_na=False)
    assert list(written.columns) == columns
    for column, pattern in patterns.items():
        assert written[column].str.fullmatch(pattern).all(), column
    for column, values in includes.items():
        assert values <= set(written[column]), column
