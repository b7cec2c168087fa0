"""The `harness` command in-process through Typer's runner (runs still spawn real children)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from harness.cli import app
from tasks.rsna_breast.metric import pfbeta

runner = CliRunner()


def _answers(root: Path) -> pd.DataFrame:
    table = pd.read_csv(root / "train.csv")
    table["prediction_id"] = table["patient_id"].astype(str) + "_" + table["laterality"]
    return table.groupby("prediction_id", as_index=False)["cancer"].max()


def test_list_shows_plugins_and_budgets() -> None:
    result = runner.invoke(app, ["list", "--check"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "rsna-breast" in result.output and "baseline" in result.output
    assert "available" in result.output
    for budget in ("smoke", "cpu-default", "kaggle-p100", "gpu-full"):
        assert budget in result.output


def test_score_grades_a_submission_against_a_kaggle_train_csv(
    tmp_path: Path, tiny_breast_root: Path
) -> None:
    answers = _answers(tiny_breast_root)
    submission = answers.assign(cancer=[0.9 if c else 0.2 for c in answers["cancer"]])
    submission.to_csv(tmp_path / "sub.csv", index=False)
    args = [
        "score",
        "task=rsna-breast",
        f"submission={tmp_path / 'sub.csv'}",
        f"answers={tiny_breast_root / 'train.csv'}",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    expected = pfbeta(answers["cancer"].to_numpy(), submission["cancer"].to_numpy())
    assert out["score"] == pytest.approx(expected)
    assert out["metric"] == "pF1"
    assert out["ci_low"] <= out["score"] <= out["ci_high"]


def test_score_rejects_a_bad_submission_naming_the_problem(
    tmp_path: Path, tiny_breast_root: Path
) -> None:
    answers = _answers(tiny_breast_root)
    answers.assign(cancer=float("nan")).to_csv(tmp_path / "sub.csv", index=False)
    args = [
        "score",
        "task=rsna-breast",
        f"submission={tmp_path / 'sub.csv'}",
        f"answers={tiny_breast_root / 'train.csv'}",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    out = json.loads(result.output)
    assert out["status"] == "invalid_submission"
    assert "NaN" in out["error"]


def test_data_synth_then_check(tmp_path: Path) -> None:
    out = tmp_path / "breast"
    result = runner.invoke(
        app,
        [
            "data",
            "synth",
            "task=rsna-breast",
            f"out={out}",
            "n_patients=3",
            "height=40",
            "width=32",
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out / "train.csv")) == 12
    result = runner.invoke(app, ["data", "check", "task=rsna-breast", f"root={out}"])
    assert result.exit_code == 0, result.output
    assert "ok:" in result.output

    victim = next((out / "train_images").rglob("*.dcm"))
    victim.write_bytes(victim.read_bytes()[:200])
    result = runner.invoke(
        app, ["data", "check", "task=rsna-breast", f"root={out}"], terminal_width=300
    )
    assert result.exit_code == 1
    assert victim.name in result.output
    assert "1 problem(s)" in result.output


def test_data_synth_typo_in_a_generator_key_is_named(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["data", "synth", "task=rsna-breast", f"out={tmp_path}/x", "n_patient=3"],
        terminal_width=300,
    )
    assert result.exit_code == 2
    assert "data.synth.n_patient" in result.output
    assert "did you mean 'data.synth.n_patients'" in result.output


def test_run_with_a_typo_exits_2_with_a_suggestion() -> None:
    result = runner.invoke(app, ["run", "task=rsna-breast", "solution=baselin"], terminal_width=300)
    assert result.exit_code == 2
    assert "did you mean 'baseline'" in result.output
