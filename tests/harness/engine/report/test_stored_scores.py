"""The report reuses the scores each run kept in its folder, and re-scores only when it must."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from harness.engine.record import SUBMISSION_FILE
from harness.engine.report.collect import collect_runs
from harness.engine.report.ranking import build_sections
from harness.engine.report.sections import Section
from harness.engine.stored_scores import SCORES_FILE, StoredScores, file_digest
from harness.kit.stats import percentile_interval

if TYPE_CHECKING:  # the fixture's type; conftest is not importable at run time
    from conftest import ReportRuns

NOT_REBUILT = "The holdout answers could not be rebuilt (the data folder"


def _sections(report_runs: ReportRuns, runs: pd.DataFrame, **kwargs: bool) -> dict[str, Section]:
    built = build_sections(
        runs, report_runs.tracking_uri, n_resamples=report_runs.bootstrap, **kwargs
    )
    return {section.budget: section for section in built}


def test_a_scored_run_keeps_its_resampled_scores_and_its_ci_comes_from_them(
    report_runs: ReportRuns,
) -> None:
    record = report_runs.records["high0"]
    run_dir = Path(record.run_dir)
    stored = StoredScores.load(run_dir)

    assert stored is not None
    assert len(stored.resampled) == report_runs.bootstrap
    assert stored.score == record.score
    assert percentile_interval(stored.resampled) == (record.ci_low, record.ci_high)
    assert stored.submission_digest == file_digest(run_dir / SUBMISSION_FILE)
    assert not (Path(report_runs.records["crash"].run_dir) / SCORES_FILE).exists()


def test_reused_scores_rank_exactly_as_rescoring_from_the_data(report_runs: ReportRuns) -> None:
    runs = collect_runs(report_runs.tracking_uri)
    reused = _sections(report_runs, runs)["smoke"]
    rescored = _sections(report_runs, runs, rescore=True)["smoke"]

    assert [e.label for e in reused.entries] == [e.label for e in rescored.entries]
    for mine, theirs in zip(reused.entries, rescored.entries, strict=True):
        assert (mine.rank, mine.score) == (theirs.rank, theirs.score)
        if theirs.resampled is None:
            assert mine.resampled is None
            continue
        np.testing.assert_allclose(mine.resampled, theirs.resampled, rtol=1e-12)
        assert mine.ci == pytest.approx(theirs.ci, rel=1e-12)
    assert reused.notes == rescored.notes


def test_a_section_whose_data_is_gone_is_still_compared_from_its_stored_scores(
    report_runs: ReportRuns,
) -> None:
    """The tiny section's data folder was deleted after its run: nothing is read from it."""
    runs = collect_runs(report_runs.tracking_uri)
    tiny = _sections(report_runs, runs)["tiny"]
    record = report_runs.records["gone"]

    assert not Path(record.data_root).exists()
    assert tiny.n_resamples == report_runs.bootstrap
    assert tiny.entries[0].ci == pytest.approx((record.ci_low, record.ci_high), rel=1e-12)
    assert not any(NOT_REBUILT in note for note in tiny.notes)


def test_rescore_reads_the_data_again_and_says_when_it_cannot(report_runs: ReportRuns) -> None:
    runs = collect_runs(report_runs.tracking_uri)
    tiny = _sections(report_runs, runs, rescore=True)["tiny"]

    assert any(
        NOT_REBUILT in note and "no longer exists): CIs are the runs' recorded ones" in note
        for note in tiny.notes
    )


def test_a_submission_changed_since_it_was_scored_sends_its_section_back_to_the_data(
    report_runs: ReportRuns, tmp_path: Path
) -> None:
    runs = collect_runs(report_runs.tracking_uri)
    gone = runs["run_dir"] == report_runs.records["gone"].run_dir
    copy = tmp_path / "run"
    shutil.copytree(runs.loc[gone, "run_dir"].iloc[0], copy)
    (copy / SUBMISSION_FILE).write_text((copy / SUBMISSION_FILE).read_text().replace("0.", "0.0"))
    runs.loc[gone, "run_dir"] = str(copy)

    tiny = _sections(report_runs, runs)["tiny"]

    assert any(NOT_REBUILT in note for note in tiny.notes)
