"""What each fold's CNN trains on, and what it embeds.

Folds group whole patients (so every study and series of a patient, and every slice of a
series, share one fold) and spread the bleeding patients evenly. A training slice's
embedding comes from the one CNN that did not train on it: the CNN of its own fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FoldRows:
    """Row positions of one fold: its CNN trains on ``fit`` and embeds ``held_out``."""

    fold: int
    fit: np.ndarray
    held_out: np.ndarray


def fold_rows(folds: np.ndarray, usable: np.ndarray) -> list[FoldRows]:
    """Per fold, the usable rows of the other folds (fit) and of its own (held out)."""
    return [
        FoldRows(
            fold,
            np.flatnonzero((folds != fold) & usable),
            np.flatnonzero((folds == fold) & usable),
        )
        for fold in range(int(folds.max()) + 1)
    ]
