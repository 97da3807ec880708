"""Analysis tools: how good the model is, what its errors cost, and why it flags a customer.

Component "Analysis tools" of Sculley et al. (2015), Figure 1. Introduced in notebook 02
(``02_hidden_technical_debt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.metrics import precision_score, recall_score, roc_auc_score

from utils.datasets import ChurnCosts


class Scorer(Protocol):
    """Anything with ``predict_proba(X) -> 1-D array`` of churn probabilities."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Churn probability per row."""
        ...


def score(
    y_true: Sequence[int] | np.ndarray | pd.Series,
    proba: Sequence[float] | np.ndarray,
    threshold: float,
    costs: ChurnCosts | None = None,
) -> dict[str, float]:
    """Quality and business metrics of churn probabilities at a decision threshold.

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Returns:
        ``roc_auc``, ``precision``, ``recall``, ``offer_rate`` (share of customers offered),
        ``churn_rate`` (observed), ``mean_predicted``, ``prediction_bias`` (mean predicted minus
        observed churn rate: near 0 for a well calibrated model), ``cost_eur`` and
        ``cost_per_customer_eur`` (with :class:`utils.datasets.ChurnCosts`, default values).

    Raises:
        ValueError: lengths differ, no rows, or labels other than 0 and 1.
    """
    y = np.asarray(y_true).astype(int)
    p = np.asarray(proba, dtype=float)
    if y.shape != p.shape or y.ndim != 1 or len(y) == 0:
        raise ValueError(
            f"y_true and proba must be 1-D and of equal, non-zero length: {y.shape}, {p.shape}."
        )
    if not set(np.unique(y)) <= {0, 1}:
        raise ValueError(f"y_true must hold 0 and 1 only, got {sorted(set(np.unique(y)))}.")
    costs = costs or ChurnCosts()
    offer = p >= threshold
    tp, fp = int(np.sum(offer & (y == 1))), int(np.sum(offer & (y == 0)))
    fn, tn = int(np.sum(~offer & (y == 1))), int(np.sum(~offer & (y == 0)))
    cost = costs.cost(tp, fp, fn, tn)
    return {
        "roc_auc": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan"),
        "precision": float(precision_score(y, offer, zero_division=0)),
        "recall": float(recall_score(y, offer, zero_division=0)),
        "offer_rate": float(offer.mean()),
        "churn_rate": float(y.mean()),
        "mean_predicted": float(p.mean()),
        "prediction_bias": float(p.mean() - y.mean()),
        "cost_eur": cost,
        "cost_per_customer_eur": cost / len(y),
    }


def by_slice(
    frame: pd.DataFrame,
    y_true: Sequence[int] | np.ndarray | pd.Series,
    proba: Sequence[float] | np.ndarray,
    column: str,
) -> pd.DataFrame:
    """Observed churn rate and mean predicted probability per level of ``column``.

    A model can be right on average and wrong on a slice (e.g. one contract type). Introduced
    in notebook 02. Returns one row per level: ``customers``, ``churn_rate``, ``mean_predicted``.

    Raises:
        ValueError: ``column`` is not in ``frame``, or lengths differ.
    """
    if column not in frame.columns:
        raise ValueError(f"by_slice: no column {column!r}; the frame has {list(frame.columns)}.")
    if not len(frame) == len(y_true) == len(proba):
        raise ValueError("frame, y_true and proba must have the same length.")
    table = pd.DataFrame(
        {column: frame[column].to_numpy(), "y": np.asarray(y_true), "p": np.asarray(proba)}
    )
    grouped = table.groupby(column, observed=True)
    return pd.DataFrame(
        {
            "customers": grouped.size(),
            "churn_rate": grouped["y"].mean(),
            "mean_predicted": grouped["p"].mean(),
        }
    )


def reasons(
    model: Scorer, X: pd.DataFrame, reference: pd.DataFrame, top: int = 2
) -> list[list[str]]:
    """For each row, the features that raise its churn probability the most.

    Works with any model that has ``predict_proba``: each feature in turn is set to its typical
    value in ``reference`` (median, or most frequent level), and the drop in probability is that
    feature's contribution. Introduced in notebook 02 (``02_hidden_technical_debt``) as the
    package-independent alternative to reading a linear model's coefficients.

    Args:
        model: the fitted model.
        X: the feature table of the rows to explain.
        reference: a feature table of typical customers (e.g. the training data).
        top: how many features to name per row (those that raise the probability).

    Raises:
        ValueError: ``top`` < 1, or ``X`` and ``reference`` have different columns.
    """
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}.")
    if list(X.columns) != list(reference.columns):
        raise ValueError("X and reference must have the same feature columns, in the same order.")
    base = model.predict_proba(X)
    effect = {}
    for column in X.columns:
        typical = reference[column]
        value = typical.median() if pd.api.types.is_numeric_dtype(typical) else typical.mode()[0]
        changed = X.copy()
        changed[column] = pd.Series([value] * len(X), index=X.index).astype(typical.dtype)
        effect[column] = base - model.predict_proba(changed)
    table = pd.DataFrame(effect, index=X.index)
    return [
        [name for name, value in row.sort_values(ascending=False).head(top).items() if value > 0]
        for _, row in table.iterrows()
    ]
