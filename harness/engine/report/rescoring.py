"""Each entry's mean score and CI, from its runs' submissions re-scored on shared resamples.

The runs' submissions are scored again through ``harness.engine.scoring`` on one set of
resamples per dataset, the same for every solution, so that entries can be compared pairwise.
Where the answers cannot be rebuilt, the runs' own recorded CIs are averaged instead. Where
every scored run of a section kept its resampled scores (``harness.engine.stored_scores``) on
the same answers and resamples, those are used and nothing is read from the data.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from harness.api import HarnessError
from harness.engine.holdout import holdout_answers
from harness.engine.record import SUBMISSION_FILE
from harness.engine.registry import load_task
from harness.engine.report.collect import fetch_artifact
from harness.engine.report.sections import Section
from harness.engine.scoring import CI_SEED, Holdout, read_submission
from harness.engine.stored_scores import StoredScores, file_digest
from harness.kit.stats import percentile_interval


def load_holdout(task_name: str, data_root: str, rows: str, n_resamples: int) -> Holdout:
    """Rebuild the answers a run was scored against (the holdout's, or ``rows="all"``: every
    row's); HarnessError says why it cannot."""
    if not data_root:
        raise HarnessError("the run's record.json (which names its data folder) is missing")
    if not Path(data_root).is_dir():
        raise HarnessError(f"the data folder {data_root} no longer exists")
    task = load_task(task_name)
    try:
        answers = holdout_answers(task, Path(data_root), rows)
    except (OSError, ValueError, KeyError) as exc:
        raise HarnessError(f"{data_root} cannot be read: {type(exc).__name__}: {exc}") from exc
    return Holdout.resampled(task, answers, n_resamples)


def reuse_stored_scores(section: Section, n_resamples: int) -> bool:
    """Fill each entry's score and CI from its runs' stored resampled scores, if they all can.

    They can when every scored run of the section kept ``n_resamples`` scores drawn with
    ``CI_SEED`` on the same answers, and the submission in its folder is still the one scored.
    Returns False (and changes nothing) otherwise: the section is then re-scored from the data.
    """
    stored: list[list[StoredScores]] = []
    for entry in section.entries:
        runs = []
        for run_dir in entry.ok["run_dir"]:
            scores = StoredScores.load(Path(run_dir)) if run_dir else None
            submission = Path(run_dir) / SUBMISSION_FILE
            if (
                scores is None
                or scores.ci_seed != CI_SEED
                or len(scores.resampled) != n_resamples
                or not submission.is_file()
                or file_digest(submission) != scores.submission_digest
            ):
                return False
            runs.append(scores)
        stored.append(runs)
    if len({s.answers_digest for runs in stored for s in runs}) > 1:
        return False
    section.n_resamples = n_resamples
    for entry, runs in zip(section.entries, stored, strict=True):
        if runs:
            entry.score = float(entry.ok["score"].mean())
            entry.resampled = np.mean([s.resampled for s in runs], axis=0)
            entry.ci = percentile_interval(entry.resampled)
    return True


def score_entries(section: Section, holdout: Holdout | HarnessError, tracking_uri: str) -> None:
    """Mean score and CI of each entry, re-scoring submissions on shared resamples if possible."""
    if isinstance(holdout, HarnessError):
        section.notes.append(
            f"The holdout answers could not be rebuilt ({holdout}): CIs are the runs' recorded "
            "ones (averaged over seeds) and solutions are ordered by observed score only, "
            "without significance tests."
        )
    else:
        section.n_resamples = len(holdout.resamples)
    for entry in section.entries:
        ok = entry.ok
        if ok.empty:
            continue
        entry.score = float(ok["score"].mean())
        if not isinstance(holdout, HarnessError):
            try:
                entry.resampled = _rescore(ok, holdout, tracking_uri)
                entry.ci = percentile_interval(entry.resampled)
                continue
            except HarnessError as exc:
                section.notes.append(f"{entry.label} is not compared: {exc}")
        if ok["ci_low"].notna().all() and ok["ci_high"].notna().all():
            entry.ci = (float(ok["ci_low"].mean()), float(ok["ci_high"].mean()))


def _rescore(ok: pd.DataFrame, holdout: Holdout, tracking_uri: str) -> np.ndarray:
    """The seed-mean score of the runs' submissions on each resample.

    Refuses when a submission no longer gives the score its run recorded: the data changed.
    """
    submissions = []
    with tempfile.TemporaryDirectory(prefix="harness-report-") as tmp:
        for i, run_id in enumerate(ok["mlflow_run_id"]):
            try:
                folder = Path(tmp) / str(i)
                path = fetch_artifact(tracking_uri, str(run_id), SUBMISSION_FILE, folder)
                submissions.append(read_submission(path))
            except Exception as exc:  # any store or parse error means the same thing here
                raise HarnessError(
                    f"the {SUBMISSION_FILE} of run {ok['run_id'].iloc[i]} cannot be read ({exc})"
                ) from exc
    full, resampled = holdout.score([holdout.align(s) for s in submissions])
    for (_, run), score in zip(ok.iterrows(), full, strict=True):
        if not math.isclose(score, float(run["score"]), rel_tol=1e-9, abs_tol=1e-12):
            raise HarnessError(
                f"re-scoring run {run['run_id']} gives {score:.4f}, not its recorded "
                f"{run['score']:.4f}: the data in {run['data_root']} changed since the run"
            )
    return resampled
