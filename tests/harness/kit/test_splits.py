"""The shared grouped, stratified, hash-ranked holdout split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.kit.splits import grouped_holdout, holdout_size, is_sorted


def _split(table: pd.DataFrame, strata: pd.Series, **kwargs: object):
    options: dict = {
        "group": "study",
        "strata": strata,
        "namespace": "t",
        "version": "v1",
        "fraction": 0.25,
        "sort_by": ["row"],
    }
    options.update(kwargs)
    return grouped_holdout(table, **options)


def _table(n_studies: int, rows_per_study: int = 3) -> pd.DataFrame:
    rows = [
        (f"s{k:03d}", k * rows_per_study + i)
        for k in range(n_studies)
        for i in range(rows_per_study)
    ]
    return pd.DataFrame(rows, columns=["study", "row"])


@pytest.mark.parametrize(
    ("n", "fraction", "expected"),
    [(0, 0.2, 0), (1, 0.2, 0), (1, 0.9, 0), (2, 0.2, 1), (2, 0.9, 1), (10, 0.25, 3), (10, 0.2, 2)],
)
def test_holdout_size_rounds_half_up_and_keeps_both_sides(n, fraction, expected):
    assert holdout_size(n, fraction) == expected


def test_a_singleton_goes_to_the_holdout_only_when_asked():
    assert holdout_size(1, 0.2, singleton_held_out=True) == 1


def test_groups_stay_whole_and_each_stratum_is_split_by_fraction():
    table = _table(40)
    # Multi-valued strata (e.g. the set of defect classes present) work like binary ones.
    strata = pd.Series(
        ["none"] * 20 + ["1"] * 12 + ["1,3"] * 8, index=[f"s{k:03d}" for k in range(40)]
    )
    train, holdout = _split(table, strata)
    assert set(train["study"]).isdisjoint(holdout["study"])
    assert len(train) + len(holdout) == len(table)
    held = strata[sorted(set(holdout["study"]))]
    assert held.value_counts().to_dict() == {"none": 5, "1": 3, "1,3": 2}
    assert list(holdout["row"]) == sorted(holdout["row"])
    assert list(holdout.index) == list(range(len(holdout)))


def test_independent_of_row_order_and_changed_by_version():
    table = _table(30)
    strata = pd.Series([k % 2 == 0 for k in range(30)], index=[f"s{k:03d}" for k in range(30)])
    _, holdout = _split(table, strata)
    _, shuffled = _split(table.sample(frac=1.0, random_state=1), strata)
    pd.testing.assert_frame_equal(holdout, shuffled)
    _, other_version = _split(table, strata, version="v2")
    assert set(other_version["study"]) != set(holdout["study"])


def test_errors_name_the_problem():
    table = _table(4)
    strata = pd.Series([True, False, True], index=["s000", "s001", "s002"])
    with pytest.raises(ValueError, match="1 study value"):
        _split(table, strata)
    full = pd.Series([True] * 4, index=[f"s{k:03d}" for k in range(4)])
    with pytest.raises(ValueError, match="fraction"):
        _split(table, full, fraction=1.0)
    with pytest.raises(ValueError, match="column"):
        _split(table, full, sort_by=["missing"])


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (pd.DataFrame({"a": [1, 1, 2], "b": ["b", "a", "c"]}), False),
        (pd.DataFrame({"a": [1, 1, 2], "b": ["a", "a", "a"]}), True),
        (pd.DataFrame({"a": [1, 2, 2], "b": ["z", "a", "b"]}), True),
        (pd.DataFrame({"a": [-0.0, 0.0, 1.5]}), True),
        (pd.DataFrame({"a": [1.0, np.nan]}), False),
        (pd.DataFrame({"a": ["x", None]}, dtype=object), False),
        (pd.DataFrame({"a": ["a", "b", "B"]}, dtype=object), False),
        (pd.DataFrame({"a": pd.Categorical(["b", "a"], categories=["b", "a"])}), False),
        (pd.DataFrame({"a": [3]}), True),
        (pd.DataFrame({"a": []}), True),
    ],
)
def test_is_sorted_says_whether_a_stable_sort_would_change_nothing(
    frame: pd.DataFrame, expected: bool
) -> None:
    assert is_sorted(frame, list(frame.columns)) is expected
    if expected:
        sorted_frame = frame.sort_values(list(frame.columns), kind="stable")
        assert sorted_frame.index.tolist() == frame.index.tolist()


def test_a_sorted_table_splits_as_a_shuffled_one() -> None:
    table = _table(40)
    strata = pd.Series(False, index=table["study"].unique())
    shuffled = table.sample(frac=1, random_state=1)
    for ours, theirs in zip(_split(table, strata), _split(shuffled, strata), strict=True):
        pd.testing.assert_frame_equal(ours, theirs)
