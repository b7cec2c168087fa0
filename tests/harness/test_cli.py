"""The `harness` command in-process through Typer's runner (runs still spawn real children)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

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


def _score_json(submission: Path, answers: Path) -> Result:
    """``harness score task=rsna-breast ... --json``, in process."""
    args = ["score", "task=rsna-breast", f"submission={submission}", f"answers={answers}"]
    return runner.invoke(app, [*args, "--json"])


def test_score_grades_a_submission_against_a_kaggle_train_csv(
    tmp_path: Path, tiny_breast_root: Path
) -> None:
    answers = _answers(tiny_breast_root)
    submission = answers.assign(cancer=[0.9 if c else 0.2 for c in answers["cancer"]])
    submission.to_csv(tmp_path / "sub.csv", index=False)
    result = _score_json(tmp_path / "sub.csv", tiny_breast_root / "train.csv")
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
    result = _score_json(tmp_path / "sub.csv", tiny_breast_root / "train.csv")
    assert result.exit_code == 2
    out = json.loads(result.output)
    assert out["status"] == "invalid_submission"
    assert "NaN" in out["error"]


def _small_breast(out: Path) -> None:
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


def test_data_synth_then_check(tmp_path: Path) -> None:
    out = tmp_path / "breast"
    _small_breast(out)
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


def test_data_check_prints_each_problem_then_the_count(tmp_path: Path) -> None:
    out = tmp_path / "breast"
    _small_breast(out)
    victims = sorted((out / "train_images").rglob("*.dcm"))[:2]
    victims[0].write_bytes(b"")
    victims[1].write_text("not a DICOM file\n")

    result = runner.invoke(
        app, ["data", "check", "task=rsna-breast", f"root={out}", "workers=2"], terminal_width=300
    )

    assert result.exit_code == 1, result.output
    count = result.stdout.index("2 problem(s)")
    for victim in victims:  # each printed once, before the count
        assert result.stdout.count(victim.name) == 1
        assert result.stdout.index(victim.name) < count


def test_data_check_sample_and_limit_together_are_refused(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["data", "check", "task=rsna-breast", f"root={tmp_path}", "limit=2", "sample=2"],
        terminal_width=300,
    )
    assert result.exit_code == 2
    assert "not both" in result.output


class _OldTask:
    """A plug-in whose check predates sample, seed, workers and on_problem."""

    name = "old"

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def check(self, root: Path, *, decode: bool = True, limit: int | None = None) -> list:
        self.calls.append({"decode": decode, "limit": limit})
        return []


def test_data_check_runs_a_plugin_without_the_new_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _OldTask()
    monkeypatch.setattr("harness.engine.registry.load_task", lambda name: old)
    result = runner.invoke(app, ["data", "check", "task=old", f"root={tmp_path}", "limit=3"])
    assert result.exit_code == 0, result.output
    assert old.calls == [{"decode": True, "limit": 3}]

    result = runner.invoke(app, ["data", "check", "task=old", f"root={tmp_path}", "sample=3"])
    assert result.exit_code == 2
    assert "takes no sample=" in result.output
