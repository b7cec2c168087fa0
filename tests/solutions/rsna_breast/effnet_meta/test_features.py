from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solutions.rsna_breast.effnet_meta.features import fit_features, tabular_matrix


def _rows(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "site_id": rng.choice([1, 2], n),
            "patient_id": np.arange(n),
            "laterality": rng.choice(["L", "R"], n),
            "view": rng.choice(["CC", "MLO"], n),
            "age": rng.normal(58, 10, n).round(),
            "implant": rng.choice([0, 1], n, p=[0.9, 0.1]),
            "density": rng.choice(["A", "B", "C", "D"], n),
            "machine_id": rng.choice([21, 29, 48], n),
            "cancer": rng.choice([0, 1], n),
        }
    )


def test_missing_age_is_imputed_and_flagged() -> None:
    train = _rows(40)
    train.loc[:4, "age"] = np.nan
    pipeline = fit_features(train)
    names = list(pipeline.get_feature_names_out())
    age, flag = names.index("age__age"), names.index("age_missing__missingindicator_age")

    test = _rows(3, seed=1)
    test.loc[0, "age"] = np.nan
    matrix = tabular_matrix(pipeline, test)
    assert matrix.dtype == np.float32 and np.isfinite(matrix).all()
    assert matrix[:, flag].tolist() == [1.0, 0.0, 0.0]
    # The training median, standardised like the (imputed) training ages.
    median = train["age"].median()
    imputed = train["age"].fillna(median)
    expected = (median - imputed.mean()) / imputed.std(ddof=0)
    assert matrix[0, age] == pytest.approx(expected, abs=1e-5)


def test_width_is_stable_when_training_ages_are_all_present() -> None:
    """The missing-age column exists even if no training row lacked an age."""
    pipeline = fit_features(_rows(40))
    test = _rows(2, seed=1)
    test["age"] = np.nan
    full = tabular_matrix(pipeline, _rows(40))
    assert tabular_matrix(pipeline, test).shape == (2, full.shape[1])


def test_unknown_categories_at_predict_time_encode_as_zeros() -> None:
    train = _rows(40)
    train.loc[:9, "density"] = np.nan
    pipeline = fit_features(train)
    names = list(pipeline.get_feature_names_out())
    test = _rows(2, seed=1).assign(machine_id=999, site_id=7, density=["E", np.nan])
    matrix = tabular_matrix(pipeline, test)

    assert matrix.shape == (2, len(names))
    machines = [i for i, n in enumerate(names) if n.startswith("categories__machine_id_")]
    sites = [i for i, n in enumerate(names) if n.startswith("categories__site_id_")]
    assert not matrix[:, machines + sites].any()
    density = {n: i for i, n in enumerate(names) if n.startswith("categories__density_")}
    assert not matrix[0, list(density.values())].any()  # 'E' was never seen
    assert matrix[1, density["categories__density_missing"]] == 1.0  # NaN imputed


def test_categories_match_whether_read_as_numbers_or_strings() -> None:
    train = _rows(40)
    pipeline = fit_features(train)
    as_strings = train.astype({"machine_id": str, "site_id": str, "implant": str})
    assert np.array_equal(tabular_matrix(pipeline, train), tabular_matrix(pipeline, as_strings))


def test_label_columns_are_not_features() -> None:
    train = _rows(40)
    pipeline = fit_features(train)
    flipped = train.assign(cancer=1 - train["cancer"], patient_id=train["patient_id"] + 1000)
    assert np.array_equal(tabular_matrix(pipeline, train), tabular_matrix(pipeline, flipped))
