"""The phase meter behind `harness run`'s progress line: rate, ETA and budget left."""

from __future__ import annotations

import time

import pytest

from harness.engine.messages import Progress
from harness.engine.observe import LineObserver, PhaseMeter
from harness.kit.durations import duration


def test_rate_and_eta_come_from_the_updates_since_the_stream_began() -> None:
    meter = PhaseMeter("fit", limit_s=600)
    meter.update(Progress(1, 10, "epoch", items=100))
    time.sleep(0.2)
    meter.update(Progress(3, 10, "epoch", items=300))

    rate, eta = meter.items_per_s(), meter.eta_s()
    assert rate is not None and eta is not None
    # 200 images and 2 epochs in the time since the first update; 7 epochs to go
    seconds = 200 / rate
    assert eta == pytest.approx(seconds * 7 / 2, rel=0.05)
    line = meter.describe()
    assert line.startswith("fit: epoch 3/10, ")
    assert "images/s" in line and "ETA" in line and "budget left" in line


def test_a_new_unit_restarts_rate_and_eta() -> None:
    """The second member of an ensemble starts its batches at 1 again."""
    meter = PhaseMeter("fit", limit_s=600)
    meter.update(Progress(5, 10, "convnext batch", items=500))
    meter.update(Progress(10, 10, "convnext batch", items=1000))
    meter.update(Progress(1, 10, "seresnext batch", items=100))

    assert meter.items_per_s() is None  # one update of the new stream: no rate yet
    assert meter.eta_s() is None
    assert "seresnext batch 1/10" in meter.describe()


def test_without_progress_only_the_budget_is_shown() -> None:
    meter = PhaseMeter("prepare", limit_s=125)
    meter.metrics["train_loss"] = 0.25
    assert meter.describe() == "prepare: budget left 2m05s, train_loss 0.25"


def test_line_observer_shows_progress_at_most_every_interval() -> None:
    lines: list[str] = []
    observer = LineObserver(lines.append, interval_s=3600)
    meter = PhaseMeter("fit", limit_s=60)
    observer.phase_started(meter)
    for done in range(1, 50):
        meter.update(Progress(done, 50, "step", None))
        observer.progress(meter)
    assert lines == ["fit started (limit 60 s)"]


def test_duration() -> None:
    assert [duration(s) for s in (4.4, 65, 3725)] == ["4s", "1m05s", "1h02m"]
