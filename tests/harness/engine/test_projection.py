"""Predict time projected to the competition's hidden test, computed by hand."""

from __future__ import annotations

import pytest

from harness.api import HiddenTest
from harness.engine.projection import project
from harness.engine.registry import load_task, task_names

NINE_HOURS = 9 * 3600.0
MAMMOGRAMS = HiddenTest(rows=36_700, unit="images", predict_limit_s=NINE_HOURS, source="test")


def test_the_predict_wall_time_scales_by_rows_and_is_held_to_the_limit() -> None:
    # 40 holdout images in 4 s: 0.1 s an image, 3,670 s for 36,700 images, under 9 h.
    projection = project(MAMMOGRAMS, predict_wall_s=4.0, rows_predicted=40)
    assert projection is not None
    assert projection.seconds == pytest.approx(3670.0)
    assert (projection.rows, projection.unit, projection.limit_s) == (36_700, "images", NINE_HOURS)
    assert projection.fits is True


def test_a_projection_past_the_limit_does_not_fit_and_one_at_it_does() -> None:
    over = project(MAMMOGRAMS, predict_wall_s=40.0, rows_predicted=40)  # 1 s an image: 10.2 h
    assert over is not None and over.fits is False
    exact = project(MAMMOGRAMS, predict_wall_s=NINE_HOURS, rows_predicted=36_700)
    assert exact is not None and exact.fits is True


def test_without_a_limit_there_is_a_projection_but_no_verdict() -> None:
    uploads = HiddenTest(rows=121_232, unit="slices", predict_limit_s=None, source="test")
    projection = project(uploads, predict_wall_s=2.0, rows_predicted=1000)
    assert projection is not None
    assert projection.seconds == pytest.approx(242.464)
    assert projection.fits is None


@pytest.mark.parametrize(("wall_s", "rows"), [(0.0, 40), (3.0, 0)])
def test_nothing_is_projected_from_an_untimed_or_empty_predict(wall_s: float, rows: int) -> None:
    assert project(MAMMOGRAMS, wall_s, rows) is None
    assert project(None, 3.0, 40) is None


def test_every_built_in_task_states_its_hidden_test_and_where_the_figure_comes_from() -> None:
    hidden = {name: load_task(name).hidden_test for name in task_names()}
    builtin = {"rsna-breast", "rsna-cervical", "rsna-ich", "siim-pneumothorax", "severstal-steel"}
    assert builtin <= set(hidden)
    for name in builtin:
        test = hidden[name]
        assert test is not None and test.rows > 0 and test.source, name
    # The code competitions had a notebook limit; the two whose predictions were uploaded did not.
    limits = {name: hidden[name].predict_limit_s for name in builtin}  # type: ignore[union-attr]
    assert limits == {
        "rsna-breast": NINE_HOURS,
        "rsna-cervical": NINE_HOURS,
        "severstal-steel": 3600.0,
        "rsna-ich": None,
        "siim-pneumothorax": None,
    }
