"""End to end: a baseline run that saved its solution predicts a second synthetic seed.

`harness predict run=<run> data.synth_seed=1` loads what the run's fit saved in a fresh,
offline process and predicts every image of a dataset the run never saw. The same fit scored on
two independent samples of the same generator must agree within bootstrap noise: their 95% CIs
overlap, and the new score beats chance as clearly as the run's own does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app
from harness.engine.record import RunRecord

CHANCE_MARGIN = 0.4


def test_a_saved_baseline_scores_a_second_seed_within_bootstrap_noise_of_its_own_holdout(
    run_solution: Callable[..., RunRecord], beats_chance: Callable[..., None]
) -> None:
    source = run_solution("rsna-breast", "baseline", "fresh_predict=true")
    results = Path(source.run_dir).parents[1]

    result = CliRunner().invoke(
        app, ["predict", f"run={source.run_id}", "data.synth_seed=1", f"results_dir={results}"]
    )

    assert result.exit_code == 0, result.output
    (again,) = [
        r
        for r in map(RunRecord.load, (results / "runs").glob("*/record.json"))
        if r.source_run_id == source.run_id
    ]
    assert again.rows == "all" and again.data_kind == "synthetic"
    assert again.data_root != source.data_root
    assert again.offline_predict and list(again.phases) == ["predict"]
    assert again.n_holdout_cases > source.n_holdout_cases  # every breast, not a holdout
    beats_chance(source, CHANCE_MARGIN)
    beats_chance(again, CHANCE_MARGIN)
    assert source.ci_low is not None and source.ci_high is not None
    assert again.ci_low is not None and again.ci_high is not None
    assert again.ci_low <= source.ci_high and source.ci_low <= again.ci_high, (source, again)
