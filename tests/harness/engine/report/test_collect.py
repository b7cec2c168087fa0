"""Filters of the tidy run table that need no MLflow store."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from harness.api import HarnessError
from harness.engine.report.collect import latest_versions, parse_since


def _runs(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["task", "task_version", "solution", "solution_version", "started"]
    )
    frame["started"] = pd.to_datetime(frame["started"], utc=True)
    return frame


def test_latest_versions_compares_versions_not_strings_or_dates() -> None:
    runs = _runs(
        [
            ("t", "1.0", "a", "0.9", "2024-01-03"),
            ("t", "1.0", "a", "0.10", "2024-01-01"),  # newer version, older run
            ("t", "1.0", "b", "2.0", "2024-01-02"),
            ("t", "0.9", "b", "2.0", "2024-01-04"),  # older task version
        ]
    )
    kept = latest_versions(runs)
    assert kept[["solution", "solution_version", "task_version"]].values.tolist() == [
        ["a", "0.10", "1.0"],
        ["b", "2.0", "1.0"],
    ]


def test_unparseable_versions_fall_back_to_the_newest_run() -> None:
    runs = _runs(
        [
            ("t", "1.0", "a", "blue", "2024-01-01"),
            ("t", "1.0", "a", "green", "2024-01-02"),
        ]
    )
    assert latest_versions(runs)["solution_version"].tolist() == ["green"]


def test_since_reads_dates_without_an_offset_as_utc() -> None:
    assert parse_since("2024-05-01") == dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    assert parse_since("2024-05-01T02:00+02:00") == dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    assert parse_since(None) is None
    with pytest.raises(HarnessError, match="since='May 1' is not an ISO date"):
        parse_since("May 1")
