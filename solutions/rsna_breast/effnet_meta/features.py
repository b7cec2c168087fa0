"""The tabular side of the model: train.csv's metadata as a fixed-width float matrix.

A scikit-learn ColumnTransformer, fitted on a fold's training rows only:

- ``age``: median imputation and standard scaling, plus a missing-age indicator column that is
  always present (``MissingIndicator(features="all")``), so that the width does not depend on
  whether the training rows happened to have a missing age.
- ``view``, ``laterality``, ``implant``, ``density``, ``machine_id``, ``site_id``: values as
  strings (machine 21 is a category, not a number), missing values imputed as ``"missing"``
  (density is often absent), one-hot encoded with ``handle_unknown="ignore"``: a machine or
  site unseen in training encodes as all zeros instead of failing at predict time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

NUMERIC_COLUMNS: tuple[str, ...] = ("age",)
CATEGORICAL_COLUMNS: tuple[str, ...] = (
    "view",
    "laterality",
    "implant",
    "density",
    "machine_id",
    "site_id",
)
FEATURE_COLUMNS: tuple[str, ...] = NUMERIC_COLUMNS + CATEGORICAL_COLUMNS
"""The train.csv columns the pipeline reads; all of them are in the label-free holdout view."""


def _as_category_strings(frame: pd.DataFrame) -> np.ndarray:
    """Object array of category names with NaN where missing: ints and strings alike become
    strings, so that a column read as int in one table and as str in another still matches."""
    values = frame.to_numpy(dtype=object)
    strings = values.astype(str).astype(object)
    strings[pd.isna(values)] = np.nan
    return strings


def make_feature_pipeline() -> ColumnTransformer:
    """An unfitted transformer from a train.csv-like frame to a dense float matrix."""
    age = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categories = Pipeline(
        [
            ("strings", FunctionTransformer(_as_category_strings, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer(
        [
            ("age", age, list(NUMERIC_COLUMNS)),
            ("age_missing", MissingIndicator(features="all"), list(NUMERIC_COLUMNS)),
            ("categories", categories, list(CATEGORICAL_COLUMNS)),
        ],
        sparse_threshold=0.0,
    )


def fit_features(frame: pd.DataFrame) -> ColumnTransformer:
    """The pipeline fitted on ``frame`` (a fold's training rows)."""
    return make_feature_pipeline().fit(frame.loc[:, list(FEATURE_COLUMNS)])


def tabular_matrix(pipeline: ColumnTransformer, frame: pd.DataFrame) -> np.ndarray:
    """The fitted pipeline applied to ``frame``, as float32 (the fusion net's dtype)."""
    return np.asarray(pipeline.transform(frame.loc[:, list(FEATURE_COLUMNS)]), dtype=np.float32)
