"""Every argument is checked before a command does any work; names get a did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "task=rsna-braest"], "unknown task=rsna-braest (did you mean 'rsna-breast'?)"),
        (["report", "budget=kagle-p100"], "budget=kagle-p100 (did you mean 'kaggle-p100'?)"),
        (["report", "bootstrap=0"], "bad value for bootstrap: 0 is below 1"),
        (["report", "since=yesterday"], "since='yesterday' is not an ISO date"),
        (
            ["run", "task=rsna-breast", "solution=baseline", "bootstrap=-1"],
            "bad value for bootstrap: -1 is below 0",
        ),
        (
            ["run", "task=rsna-breast", "solution=baseline", "data.synth.n_patiens=3"],
            "unknown key 'data.synth.n_patiens' (did you mean 'data.synth.n_patients'?)",
        ),
        (
            ["data", "synth", "task=rsna-breast", "out={tmp}/out", "seed=-1"],
            "bad value for seed: -1 is below 0",
        ),
        (
            ["data", "check", "task=rsna-breast", "root={tmp}", "limit=-5"],
            "bad value for limit: -5 is below 0",
        ),
    ],
)
def test_a_bad_argument_stops_the_command_before_it_writes_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)  # where results/ would appear

    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args], terminal_width=400)

    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == []
