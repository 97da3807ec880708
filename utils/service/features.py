"""Feature extraction: derived features, and the feature table the model sees.

Component "Feature extraction" of Sculley et al. (2015), Figure 1. Training and serving both call
:func:`build_features`, so a feature is computed by the same code in both places (no
training/serving skew). Introduced in notebook 02 (``02_hidden_technical_debt``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from utils.service.config import ServiceConfig


def _log_usage(frame: pd.DataFrame) -> pd.Series:
    return np.log(frame["usage_hours"].clip(lower=0.5))


def _charges_per_hour(frame: pd.DataFrame) -> pd.Series:
    return frame["monthly_charges"] / frame["usage_hours"].clip(lower=1.0)


def _total_charges(frame: pd.DataFrame) -> pd.Series:
    return frame["tenure_months"] * frame["monthly_charges"]


#: Derived feature -> (what it means, the columns it reads, the function computing it).
DERIVED_FEATURES: dict[str, tuple[str, tuple[str, ...], Callable[[pd.DataFrame], pd.Series]]] = {
    "log_usage": (
        "natural log of usage hours (at least 0.5 h)",
        ("usage_hours",),
        _log_usage,
    ),
    "charges_per_hour": (
        "monthly charges per hour streamed, EUR/h (at least 1 h)",
        ("monthly_charges", "usage_hours"),
        _charges_per_hour,
    ),
    "total_charges": (
        "tenure times monthly charges: roughly what the customer has paid so far, EUR",
        ("tenure_months", "monthly_charges"),
        _total_charges,
    ),
}


def add_features(frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Return a copy of ``frame`` with the derived features ``names`` added as columns.

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Raises:
        ValueError: an unknown feature name, or a column the feature needs is missing.
        TypeError: ``frame`` is not a DataFrame.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"add_features expects a DataFrame, got {type(frame).__name__}.")
    out = frame.copy()
    for name in names:
        if name not in DERIVED_FEATURES:
            raise ValueError(f"Unknown derived feature {name!r}; valid: {list(DERIVED_FEATURES)}.")
        _, needs, compute = DERIVED_FEATURES[name]
        missing = [c for c in needs if c not in frame.columns]
        if missing:
            raise ValueError(f"Feature {name!r} needs the column(s) {missing}.")
        out[name] = compute(frame).astype(float)
    return out


def build_features(frame: pd.DataFrame, config: ServiceConfig) -> pd.DataFrame:
    """The model's input table: the derived features added, then ``config.features`` in order.

    Introduced in notebook 02 (``02_hidden_technical_debt``); used by training and serving.

    Raises:
        ValueError: a feature column is missing from ``frame``.
    """
    with_derived = add_features(frame, config.derived)
    missing = [c for c in config.features if c not in with_derived.columns]
    if missing:
        raise ValueError(f"The data lacks the feature column(s) {missing}.")
    return with_derived[list(config.features)]
