"""A run's scores kept in its folder, so that a report needs neither the data nor a re-score.

When the runner scores a run it writes ``scores.npz`` beside the submission: the score on the
whole holdout, the score on each bootstrap resample (drawn with ``CI_SEED``), and digests of the
submission file and of the answers. ``harness report`` reuses them for a section when every
scored run has them, drawn on the same answers with the report's number of resamples, and the
submission in each run folder is still the one that was scored; otherwise it re-scores the
section from the data as before.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SCORES_FILE = "scores.npz"


@dataclass(frozen=True)
class StoredScores:
    """What scoring a run's submission gave, and on what."""

    score: float
    resampled: np.ndarray
    """The score on each bootstrap resample, in the order ``CI_SEED`` draws them."""
    ci_seed: int
    answers_digest: str
    submission_digest: str

    def save(self, run_dir: Path) -> None:
        """Write ``scores.npz`` in ``run_dir`` at once (a reader never sees half a file)."""
        partial = run_dir / f".{SCORES_FILE}.partial"
        with partial.open("wb") as handle:
            np.savez(
                handle,
                score=np.float64(self.score),
                resampled=np.asarray(self.resampled, dtype=np.float64),
                ci_seed=np.int64(self.ci_seed),
                answers_digest=np.str_(self.answers_digest),
                submission_digest=np.str_(self.submission_digest),
            )
        os.replace(partial, run_dir / SCORES_FILE)

    @classmethod
    def load(cls, run_dir: Path) -> StoredScores | None:
        """The run's stored scores; None when there are none or the file cannot be read."""
        try:
            with np.load(run_dir / SCORES_FILE, allow_pickle=False) as stored:
                return cls(
                    score=float(stored["score"]),
                    resampled=stored["resampled"].astype(np.float64),
                    ci_seed=int(stored["ci_seed"]),
                    answers_digest=str(stored["answers_digest"]),
                    submission_digest=str(stored["submission_digest"]),
                )
        except (OSError, KeyError, ValueError):
            return None


def answers_digest(answers: pd.DataFrame) -> str:
    """A digest of the answers' columns and values: runs scored on equal answers share it."""
    digest = hashlib.sha256(",".join(map(str, answers.columns)).encode())
    digest.update(pd.util.hash_pandas_object(answers, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
