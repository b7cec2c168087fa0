"""A run's predict time projected onto its competition's hidden test set.

A holdout of a few hundred synthetic images says little about whether a solution could have
been submitted: Kaggle's code competitions predicted thousands of full-size images within a
notebook limit. The projection scales the measured predict wall time linearly by rows, so it
includes the fixed costs (loading the models, warm-up) as if they recurred per row: on a small
holdout it overstates, never understates, the time predict needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.api import HiddenTest


@dataclass(frozen=True)
class Projection:
    rows: int
    """The hidden test's size, in rows of the task's table."""
    unit: str
    """What a row is (images, slices, studies)."""
    seconds: float
    """Predict wall time at that size on the hardware the run used."""
    limit_s: float | None
    """The competition's predict limit; None where predictions were uploaded."""

    @property
    def fits(self) -> bool | None:
        """Within the limit; None where there was none."""
        return None if self.limit_s is None else self.seconds <= self.limit_s


def project(
    hidden: HiddenTest | None, predict_wall_s: float, rows_predicted: int
) -> Projection | None:
    """The projection of ``predict_wall_s`` over ``rows_predicted`` rows; None without a
    hidden test or a timed predict."""
    if hidden is None or rows_predicted <= 0 or predict_wall_s <= 0:
        return None
    seconds = predict_wall_s * hidden.rows / rows_predicted
    return Projection(hidden.rows, hidden.unit, seconds, hidden.predict_limit_s)
