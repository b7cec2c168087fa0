"""`harness score`: bad files are one clear line, a finished run scores again from its folder,
and the exported holdout answers grade a run's submission exactly as the run was graded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.engine.record import RunRecord

runner = CliRunner()

HEADER = b"prediction_id,cancer\n"


@pytest.mark.parametrize(
    ("content", "where", "fix"),
    [
        (b"", "is empty", "write a header row (prediction_id,cancer)"),
        (b"\n \n", "is empty", "write a header row (prediction_id,cancer)"),
        (HEADER + b"1_L,0.5\n1_R,0.5,0.1\n", "line 3 (row 2), column 3", "remove the extra"),
        (HEADER + b"1_L,0.5,\n", "line 2 (row 1), column 3", "remove the extra"),
        (HEADER + b'1_L,0.5\n1_R,"0.5\n', "line 3 (row 2), column 2 (cancer)", "close the quote"),
        (HEADER + "1_L,0,5\u00e9\n".encode("latin-1"), "line 2 (row 1), column 3", "as UTF-8"),
        ("prediction_id,cancer\n1_L,0.5\n".encode("utf-16"), "line 1 (the header)", "as UTF-8"),
        (HEADER + b"1_L,\x000.5\n", "line 2 (row 1), column 2", "plain text"),
        (b"prediction_id;cancer\n1_L;0.5\n", "line 1 (the header)", "comma-separated"),
    ],
    ids=[
        "empty",
        "blank",
        "ragged",
        "trailing-comma",
        "open-quote",
        "latin-1",
        "utf-16",
        "nul",
        "semicolon",
    ],
)
def test_a_malformed_file_is_one_line_naming_file_row_and_column(
    tmp_path: Path, tiny_breast_root: Path, content: bytes, where: str, fix: str
) -> None:
    submission = tmp_path / "sub.csv"
    submission.write_bytes(content)
    args = ["score", "task=rsna-breast", f"submission={submission}"]
    args.append(f"answers={tiny_breast_root / 'train.csv'}")

    text = runner.invoke(app, args)
    as_json = runner.invoke(app, [*args, "--json"])

    assert text.exit_code == 2, text.output
    (line,) = text.output.splitlines()
    assert line.startswith(f"error: {submission}")
    assert where in line and fix in line
    assert as_json.exit_code == 2, as_json.output
    out = json.loads(as_json.stdout)  # the JSON object and nothing else
    assert out["status"] == "invalid_submission"
    assert out["error"] == line.removeprefix("error: ")


def test_what_the_validator_rejects_is_named_with_the_file(
    tmp_path: Path, tiny_breast_root: Path
) -> None:
    submission = tmp_path / "sub.csv"
    submission.write_bytes(HEADER + b"nobody_L,0.5\n")
    args = ["score", "task=rsna-breast", f"submission={submission}"]
    args += [f"answers={tiny_breast_root / 'train.csv'}", "--json"]

    result = runner.invoke(app, args)

    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error.startswith(f"{submission}: invalid submission")
    assert "row 1 (prediction_id nobody_L)" in error


@pytest.mark.usefixtures("test_solutions")
def test_a_run_scores_the_same_again_and_against_the_exported_answers(
    tmp_path: Path, tiny_breast_root: Path, cli_run: Callable[..., tuple[RunRecord, str]]
) -> None:
    results = tmp_path / "results"
    record, _ = cli_run(
        results,
        "task=rsna-breast",
        "solution=constant",
        "budget=smoke",
        f"data.root={tiny_breast_root}",
        "bootstrap=50",
    )
    run_dir = Path(record.run_dir)

    by_id = runner.invoke(app, ["score", f"run={run_dir.name}", f"results_dir={results}", "--json"])
    assert by_id.exit_code == 0, by_id.output
    out = json.loads(by_id.stdout)
    assert out["matches_record"] is True
    assert (out["score"], out["ci_low"], out["ci_high"]) == (
        record.score,
        record.ci_low,
        record.ci_high,
    )
    by_folder = runner.invoke(app, ["score", f"run={run_dir}"])
    assert by_folder.exit_code == 0, by_folder.output
    assert f"run {record.run_id}: equals the recorded score" in by_folder.output

    # The exported answers are the run's holdout: the official grader sees the same rows.
    answers = tmp_path / "answers.csv"
    export = runner.invoke(
        app,
        ["data", "answers", "task=rsna-breast", f"out={answers}", f"data.root={tiny_breast_root}"],
    )
    assert export.exit_code == 0, export.output
    assert list(pd.read_csv(answers).columns) == ["prediction_id", "cancer"]
    graded = runner.invoke(
        app,
        [
            "score",
            "task=rsna-breast",
            f"submission={run_dir / 'submission.csv'}",
            f"answers={answers}",
            "bootstrap=0",
            "--json",
        ],
    )
    assert graded.exit_code == 0, graded.output
    assert json.loads(graded.stdout)["score"] == record.score

    # A submission changed after the run no longer matches its record: exit 1.
    submission = pd.read_csv(run_dir / "submission.csv")
    submission.assign(cancer=pd.read_csv(answers)["cancer"]).to_csv(
        run_dir / "submission.csv", index=False
    )
    changed = runner.invoke(app, ["score", f"run={run_dir}", "bootstrap=0"])
    assert changed.exit_code == 1, changed.output
    assert f"differs from the recorded {record.score!r}" in changed.output


def test_an_export_into_the_dataset_is_refused(tiny_breast_root: Path) -> None:
    out = tiny_breast_root / "answers.csv"

    result = runner.invoke(
        app, ["data", "answers", "task=rsna-breast", f"out={out}", f"data.root={tiny_breast_root}"]
    )

    assert result.exit_code == 2
    assert "is inside the dataset" in result.output
    assert not out.exists()
