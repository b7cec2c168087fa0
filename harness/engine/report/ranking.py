"""Ranking: entries ordered by observed mean score; one the leader cannot be told from ties.

``build_sections`` is the leaderboard's content: the runs read into sections, each entry scored
on the section's shared resamples, ranked, and the failed runs noted under the table.
"""

from __future__ import annotations

import pandas as pd

from harness.api import HarnessError
from harness.engine.report.compare import paired_difference
from harness.engine.report.rescoring import load_holdout, reuse_stored_scores, score_entries
from harness.engine.report.sections import Section, failure_notes, read_sections
from harness.engine.scoring import Holdout

TIE_TEXT = "not distinguishable at 95%"


def build_sections(
    runs: pd.DataFrame, tracking_uri: str, *, n_resamples: int, rescore: bool = False
) -> list[Section]:
    """Sections with ranked entries, CIs and paired comparisons against each leader.

    A section whose runs all kept their resampled scores reuses them (no data read, nothing
    re-scored) unless ``rescore``; the others are re-scored from the data.
    """
    holdouts: dict[tuple[str, str, str], Holdout | HarnessError] = {}
    sections = read_sections(runs)
    for section in sections:
        scored = any(not e.ok.empty for e in section.entries)
        if scored and (rescore or not reuse_stored_scores(section, n_resamples)):
            key = (section.task, section.data_root, section.rows)
            if key not in holdouts:
                try:
                    holdouts[key] = load_holdout(*key, n_resamples)
                except HarnessError as exc:
                    holdouts[key] = exc
            score_entries(section, holdouts[key], tracking_uri)
        rank(section)
        section.notes.extend(failure_notes(section))
    return sections


def rank(section: Section) -> None:
    """Order by observed mean score; a solution the leader cannot be told from shares rank 1."""
    scored = [e for e in section.entries if e.score is not None]
    sign = -1.0 if section.greater_is_better else 1.0
    scored.sort(key=lambda e: sign * (e.score or 0.0))
    unscored = [e for e in section.entries if e.score is None]
    section.entries = scored + unscored
    if not scored:
        return
    leader = scored[0]
    leader.rank = "1"
    for position, entry in enumerate(scored[1:], start=2):
        if entry.resampled is not None and leader.resampled is not None:
            entry.vs_leader = paired_difference(
                entry.resampled, leader.resampled, (entry.score or 0.0) - (leader.score or 0.0)
            )
        entry.rank = "=1" if entry.tie else str(position)
    if any(e.tie for e in scored):
        section.notes.insert(
            0,
            f"=1: {TIE_TEXT} from the leader (the paired bootstrap interval of the score "
            "difference contains 0); more holdout cases would be needed to separate them.",
        )
