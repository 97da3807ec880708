"""ML code: the churn model itself, behind a small interface (fit, predict_proba).

Component "ML code" of Sculley et al. (2015), Figure 1: the small black box in the middle of the
figure. Everything else in :mod:`utils.service` exists to feed this module data and to use its
output. The rest of the service talks to scikit-learn only through :class:`ChurnModel`, so
swapping the estimator is a change of one setting, not of every caller (the paper's advice
against glue code: wrap black-box packages into common APIs).

Introduced in notebook 02 (``02_hidden_technical_debt``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

#: The estimators the service can use.
MODEL_KINDS: tuple[str, ...] = ("logistic_regression", "gradient_boosting")


class ChurnModel:
    """A churn classifier: scale numbers, one-hot encode categories, then the estimator.

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Args:
        kind: one of :data:`MODEL_KINDS`.
        seed: random state of the estimator.
    """

    def __init__(self, kind: str = "logistic_regression", seed: int = 0) -> None:
        if kind not in MODEL_KINDS:
            raise ValueError(f"Unknown model kind {kind!r}; valid: {list(MODEL_KINDS)}.")
        self.kind = kind
        self.seed = seed
        self.pipeline: Pipeline | None = None
        self.columns: list[str] = []

    def fit(self, X: pd.DataFrame, y: pd.Series | np.ndarray) -> ChurnModel:
        """Fit on the feature table ``X`` (from ``build_features``) and labels ``y`` (0/1)."""
        numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
        categorical = [c for c in X.columns if c not in numeric]
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        preprocess = ColumnTransformer(
            [("numeric", StandardScaler(), numeric), ("categorical", encoder, categorical)]
        )
        if self.kind == "logistic_regression":
            estimator = LogisticRegression(max_iter=1000)
        else:
            estimator = HistGradientBoostingClassifier(early_stopping=False, random_state=self.seed)
        self.columns = list(X.columns)
        self.pipeline = Pipeline([("preprocess", preprocess), ("model", estimator)])
        self.pipeline.fit(X, np.asarray(y))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The churn probability of every row of ``X``, as a 1-D array.

        Raises:
            RuntimeError: the model is not fitted yet.
        """
        if self.pipeline is None:
            raise RuntimeError("The model is not fitted: call fit(X, y) first.")
        return self.pipeline.predict_proba(X[self.columns])[:, 1]
