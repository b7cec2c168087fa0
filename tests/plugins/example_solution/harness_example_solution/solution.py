"""A logistic regression on a few intensity statistics of each mammogram.

Cancers in the synthetic data are bright lesions, so the upper percentiles of a breast's
windowed intensities carry signal: a real, if weak, model that needs no GPU. Image
probabilities become one per breast (``prediction_id``) by their maximum.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from harness.api import DataView, HarnessError, RunContext, Solution
from harness.kit.imaging.dicom import read_dicom
from harness.kit.imaging.intensity import to_unit_range

log = logging.getLogger(__name__)


@dataclass
class IntensityConfig:
    percentile: float = 99.5
    """Upper percentile of each image's intensities, next to its mean and spread."""
    c: float = 1.0
    """Inverse regularisation strength of the logistic regression."""


class IntensitySolution(Solution[IntensityConfig]):
    name = "intensity"
    version = "0.1.0"
    tasks = ("rsna-breast",)
    presets: ClassVar[dict[str, dict[str, Any]]] = {"contract": {"c": 0.5}}

    def __init__(self, config: IntensityConfig) -> None:
        super().__init__(config)
        self.model: Pipeline | None = None
        self.train_features: np.ndarray | None = None

    def _features(self, view: DataView) -> np.ndarray:
        """One row per image: mean, standard deviation and upper percentile (NaN: unreadable)."""
        rows = np.full((len(view), 3), np.nan)
        for i, path in enumerate(view.frame["path"]):
            try:
                image = to_unit_range(read_dicom(path))
            except HarnessError as exc:
                log.warning("skipping unreadable image: %s", exc)
                continue
            rows[i] = image.mean(), image.std(), np.percentile(image, self.config.percentile)
        return rows

    def prepare(self, train: DataView, ctx: RunContext) -> None:
        self.train_features = self._features(train)

    def fit(self, train: DataView, ctx: RunContext) -> None:
        features = self.train_features if self.train_features is not None else self._features(train)
        model = make_pipeline(
            SimpleImputer(),
            StandardScaler(),
            LogisticRegression(C=self.config.c, class_weight="balanced"),
        )
        self.model = model.fit(features, train.frame["cancer"].to_numpy())

    def predict(self, test: DataView, ctx: RunContext) -> pd.DataFrame:
        if self.model is None:
            raise RuntimeError("predict called before fit")
        probabilities = self.model.predict_proba(self._features(test))[:, 1]
        per_image = pd.DataFrame(
            {"prediction_id": test.frame["prediction_id"], "cancer": probabilities}
        )
        return per_image.groupby("prediction_id", sort=True)["cancer"].max().reset_index()
