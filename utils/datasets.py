"""Data for the course: real built-in datasets and the simulated churn scenario.

Two kinds of data, both available offline:

* **Built-in datasets** that scikit-learn ships inside its package (nothing is downloaded):
  :func:`load_builtin` and :func:`describe_builtin`. Notebook 01 (linear coursework) uses the
  Wisconsin Diagnostic Breast Cancer data.
* **The course scenario**, customer churn at a video streaming subscription service:
  :func:`make_churn` generates customers period by period, with switches for covariate drift,
  concept drift and seasonality. Notebook 04 (data phase) introduces it; every later notebook
  uses it. :class:`ChurnCosts` prices the errors of a churn model in EUR.

:func:`fingerprint` gives a content hash of a data frame, used to version data (notebook 04)
and to record which data a model was trained on (notebooks 05 and 06).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import numbers
import struct
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BUILTIN_DATASETS",
    "CHURN_CATEGORICAL",
    "CHURN_CATEGORIES",
    "CHURN_DATA_DICTIONARY",
    "CHURN_FEATURES",
    "CHURN_FREQUENCIES",
    "CHURN_NUMERIC",
    "CHURN_TARGET",
    "ChurnCosts",
    "churn_coefficients",
    "churn_logit",
    "describe_builtin",
    "fingerprint",
    "load_builtin",
    "make_churn",
    "period_bounds",
]

# ---------------------------------------------------------------------------------------------
# Built-in datasets (shipped inside the scikit-learn package)
# ---------------------------------------------------------------------------------------------

_BUILTIN_INFO: dict[str, dict[str, str]] = {
    "breast_cancer": {
        "loader": "load_breast_cancer",
        "task": "binary classification",
        "title": "Wisconsin Diagnostic Breast Cancer",
        "target": "diagnosis: 0 = malignant, 1 = benign",
        "source": (
            "W.N. Street, W.H. Wolberg and O.L. Mangasarian, 'Nuclear feature extraction for "
            "breast tumor diagnosis', IS&T/SPIE Symposium on Electronic Imaging: Science and "
            "Technology, vol. 1905, pp. 861-870, 1993."
        ),
    },
    "wine": {
        "loader": "load_wine",
        "task": "multiclass classification",
        "title": "Wine recognition",
        "target": "cultivar: 0, 1 or 2",
        "source": (
            "M. Forina et al., PARVUS: an extendable package of programs for data exploration, "
            "classification and correlation, Genoa (1988); UCI Machine Learning Repository."
        ),
    },
    "iris": {
        "loader": "load_iris",
        "task": "multiclass classification",
        "title": "Iris plants",
        "target": "species: 0 = setosa, 1 = versicolor, 2 = virginica",
        "source": (
            "R.A. Fisher, 'The use of multiple measurements in taxonomic problems', "
            "Annals of Eugenics 7(2), pp. 179-188, 1936."
        ),
    },
    "diabetes": {
        "loader": "load_diabetes",
        "task": "regression",
        "title": "Diabetes progression",
        "target": "disease progression one year after baseline (a number)",
        "source": (
            "B. Efron, T. Hastie, I. Johnstone and R. Tibshirani, 'Least Angle Regression', "
            "Annals of Statistics 32(2), pp. 407-499, 2004."
        ),
    },
    "digits": {
        "loader": "load_digits",
        "task": "multiclass classification",
        "title": "Optical recognition of handwritten digits (8x8 pixels)",
        "target": "digit: 0 to 9",
        "source": (
            "E. Alpaydin and C. Kaynak, 'Cascading Classifiers', Kybernetika 34(4), "
            "pp. 369-374, 1998."
        ),
    },
}

BUILTIN_DATASETS: tuple[str, ...] = tuple(_BUILTIN_INFO)
"""Names accepted by :func:`load_builtin`: datasets shipped inside the scikit-learn package."""


def _check_builtin_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a string, one of {', '.join(BUILTIN_DATASETS)}; "
            f"got {type(name).__name__}."
        )
    if name not in _BUILTIN_INFO:
        raise ValueError(
            f"Unknown built-in dataset {name!r}. Valid names: {', '.join(BUILTIN_DATASETS)}."
        )
    return name


def load_builtin(name: str = "breast_cancer") -> tuple[pd.DataFrame, pd.Series]:
    """Load a dataset that scikit-learn ships with its package, without any download.

    Introduced in notebook 01 (linear coursework).

    Args:
        name: one of :data:`BUILTIN_DATASETS`.

    Returns:
        ``(X, y)``: the features as a DataFrame whose columns carry scikit-learn's readable
        names (plain ``str``, e.g. ``"mean radius"``), and the target as a Series named
        ``"target"`` sharing X's index (0..n-1). Integer class labels for classification,
        floats for ``"diabetes"`` (regression). For ``"breast_cancer"``, 0 = malignant,
        1 = benign (scikit-learn's coding).

    Raises:
        TypeError: if ``name`` is not a string.
        ValueError: if ``name`` is not a known dataset; the message lists the valid names.
    """
    name = _check_builtin_name(name)
    from sklearn import datasets as _skd  # imported lazily: no cost when unused

    bunch = getattr(_skd, _BUILTIN_INFO[name]["loader"])()
    columns = [str(c) for c in bunch.feature_names]
    X = pd.DataFrame(np.asarray(bunch.data), columns=columns)
    target = np.asarray(bunch.target)
    y = pd.Series(target, name="target")
    return X, y


def describe_builtin(name: str = "breast_cancer") -> dict[str, Any]:
    """Describe a built-in dataset: size, task, classes and the source to cite.

    Introduced in notebook 01 (linear coursework).

    Returns:
        A dict with keys ``name``, ``title``, ``task``, ``n_rows``, ``n_features``,
        ``target`` (what the target means), ``classes`` (sorted class labels and their counts
        as ``{label: count}``, empty for regression) and ``source`` (a citation).

    Raises:
        TypeError, ValueError: as :func:`load_builtin`.
    """
    name = _check_builtin_name(name)
    X, y = load_builtin(name)
    info = _BUILTIN_INFO[name]
    classes: dict[int, int] = {}
    if info["task"] != "regression":
        labels, counts = np.unique(y.to_numpy(), return_counts=True)
        classes = {int(k): int(v) for k, v in zip(labels, counts, strict=True)}
    return {
        "name": name,
        "title": info["title"],
        "task": info["task"],
        "n_rows": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "target": info["target"],
        "classes": classes,
        "source": info["source"],
    }


# ---------------------------------------------------------------------------------------------
# The course scenario: churn at a video streaming subscription service
# ---------------------------------------------------------------------------------------------

CHURN_TARGET = "churned"
"""Name of the label column of :func:`make_churn`: 1 if the customer cancelled, else 0."""

CHURN_NUMERIC: tuple[str, ...] = (
    "tenure_months",
    "monthly_charges",
    "usage_hours",
    "support_calls",
    "late_payments",
)
"""Numeric feature columns of :func:`make_churn`."""

CHURN_CATEGORICAL: tuple[str, ...] = ("contract", "plan", "payment_method", "region")
"""Categorical feature columns of :func:`make_churn` (pandas ``category`` dtype)."""

CHURN_FEATURES: tuple[str, ...] = CHURN_NUMERIC + CHURN_CATEGORICAL
"""All model features of :func:`make_churn` (numeric first, then categorical)."""

CHURN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "contract": ("month-to-month", "one-year", "two-year"),
    "plan": ("basic", "standard", "premium"),
    "payment_method": ("direct_debit", "credit_card", "paypal", "invoice"),
    "region": ("north", "east", "south", "west"),
}
"""The fixed set of levels of each categorical column (the same in every period)."""

CHURN_FREQUENCIES: dict[str, str] = {
    "W": "weekly periods: period k covers the 7 days starting start + 7k days",
    "MS": "monthly periods: period k covers the month starting start + k calendar months",
}
"""Accepted values of ``freq`` in :func:`make_churn` and what a period means for each."""

CHURN_DATA_DICTIONARY: dict[str, str] = {
    "customer_id": "Customer identifier, e.g. 'C0000042' (str); unique within a data set, "
    "not a feature.",
    "timestamp": "When the customer's record was taken (datetime64[ns], to the second); it lies "
    "inside the row's period.",
    "period": "Index of the week or month the row belongs to: 0, 1, ..., periods-1 (int64).",
    "tenure_months": "Months the customer has been subscribed, 0 to 72 (int64).",
    "monthly_charges": "Amount billed per month in EUR, plan price plus add-ons such as a sports "
    "package (float64, 2 decimals).",
    "usage_hours": "Hours streamed in the last 30 days (float64, 1 decimal).",
    "support_calls": "Contacts with customer support in the last 90 days (int64).",
    "late_payments": "Late or failed payments in the last 12 months (int64).",
    "contract": "Contract type: month-to-month, one-year or two-year (category).",
    "plan": "Subscription plan: basic (7.99 EUR), standard (12.99 EUR) or premium (17.99 EUR) "
    "(category).",
    "payment_method": "direct_debit, credit_card, paypal or invoice (category).",
    "region": "Sales region: north, east, south or west (category). It has no effect on churn "
    "by construction.",
    "churned": "Label: 1 if the customer cancelled within 30 days after the timestamp, else 0 "
    "(int64).",
}
"""Column -> meaning and unit for the frame returned by :func:`make_churn`."""

# Sampling distribution of the features in the stationary case (no drift).
_P_CONTRACT = np.array([0.50, 0.30, 0.20])  # month-to-month, one-year, two-year
_P_PLAN = np.array([0.35, 0.45, 0.20])  # basic, standard, premium
_P_PAYMENT = np.array([0.35, 0.30, 0.20, 0.15])  # direct_debit, credit_card, paypal, invoice
_P_REGION = np.array([0.30, 0.20, 0.30, 0.20])  # north, east, south, west
_PLAN_PRICE = np.array([7.99, 12.99, 17.99])  # EUR per month
_PLAN_USAGE = np.array([0.8, 1.0, 1.3])  # usage multiplier per plan
_TENURE_SCALE = np.array([12.0, 24.0, 36.0])  # mean tenure in months per contract (approx.)
_LATE_RATE = np.array([0.15, 0.25, 0.30, 0.60])  # late payments per year per payment method
_MAX_TENURE = 72
_MAX_COUNT = 40  # largest count the Poisson sampler produces

# Per step of covariate drift (covariate_drift = 1.0, one period after drift start).
_DRIFT_CHARGES_EUR = 1.0  # monthly charges rise by 1 EUR
_DRIFT_USAGE_FRACTION = 0.05  # usage falls by 5 % of its stationary level
_DRIFT_M2M_SHARE = 0.03  # month-to-month share of new contracts rises by 3 percentage points
_DRIFT_SUPPORT_RATE = 0.10  # 0.1 more support calls per customer per 90 days
_MAX_M2M_SHARE = 0.95
_MIN_USAGE_FACTOR = 0.10

# The logistic model of churn: log-odds = intercept + sum of the terms below.
# "old" is the market before concept drift; "new" is the market after a cheaper competitor
# arrived: customers are far more price sensitive, contracts bind less and watching a lot
# protects less. Concept drift moves the coefficients from old to new.
_COEF_OLD: dict[str, float] = {
    "intercept": -1.30,
    "contract_one_year": -1.50,
    "contract_two_year": -3.00,
    "tenure_per_month": -0.04,  # per month of tenure above 12 months
    "charges_per_eur": 0.12,  # per EUR of monthly charges above 15 EUR
    "support_per_call": 0.55,
    "usage_per_log": -1.00,  # per unit of log(usage_hours / 30)
    "late_per_payment": 0.60,
    "payment_direct_debit": -0.25,
    "payment_credit_card": 0.0,
    "payment_paypal": 0.10,
    "payment_invoice": 0.30,
}
_COEF_NEW: dict[str, float] = {
    **_COEF_OLD,
    "contract_one_year": -0.75,
    "contract_two_year": -1.50,
    "charges_per_eur": 0.30,
    "usage_per_log": -0.30,
}
_SEASON_PEAK_DAY = 196.0  # churn peaks around mid-July (day of year), usage around mid-January


def _validate_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} ({value!r}).")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def _validate_nonneg_float(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} ({value!r}).")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}.")
    if value < 0:
        raise ValueError(f"{name} must be >= 0 (0 switches it off), got {value}.")
    return value


def _validate_start(start: object) -> pd.Timestamp:
    if isinstance(start, bool) or not isinstance(start, str | _dt.date | pd.Timestamp):
        raise TypeError(
            f"start must be a date string like '2025-01-06' or a date/Timestamp, "
            f"got {type(start).__name__}."
        )
    try:
        ts = pd.Timestamp(start)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"start={start!r} is not a date; use a string like '2025-01-06'.") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ValueError(f"start={start!r} is not a date; use a string like '2025-01-06'.")
    if ts.tzinfo is not None:
        raise ValueError(f"start must be a date without time zone, got {start!r}.")
    return ts.as_unit("ns")


def period_bounds(start: pd.Timestamp, freq: str, k: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First instant of period ``k`` and of the next one, as :func:`make_churn` lays them out.

    Periods start at ``start``: weeks of 7 days (``freq="W"``) or calendar months (``"MS"``).
    Every timestamp of period ``k`` lies in ``[begin, end)``; :mod:`utils.validation` checks
    batches against the same bounds.
    """
    if freq == "W":
        begin = start + pd.Timedelta(days=7 * k)
        return begin, begin + pd.Timedelta(days=7)
    begin = start + pd.DateOffset(months=k)
    return begin, start + pd.DateOffset(months=k + 1)


def _poisson_from_uniform(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson counts by inverting the CDF: a larger rate never gives a smaller count.

    Using the same uniforms for every rate keeps drifted and undrifted data comparable
    customer by customer (common random numbers).
    """
    lam = np.broadcast_to(np.asarray(lam, dtype=float), u.shape)
    pmf = np.exp(-lam)
    cdf = pmf.copy()
    count = np.zeros(u.shape, dtype=np.int64)
    for k in range(1, _MAX_COUNT + 1):
        count += u > cdf
        pmf = pmf * lam / k
        cdf = cdf + pmf
    return count


def _pick(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Category codes from uniforms: code j where u falls in the j-th probability slot."""
    edges = np.cumsum(probs, axis=-1)
    if edges.ndim == 1:
        return np.minimum(np.searchsorted(edges, u, side="right"), len(probs) - 1)
    codes = (u[:, None] >= edges).sum(axis=1)
    return np.minimum(codes, probs.shape[-1] - 1)


def _drift_steps(k: int, drift_start: int) -> int:
    """Number of drift steps of period k: 0 before drift_start, 1 at drift_start, ..."""
    return max(0, k - drift_start + 1)


def _seasonal_wave(timestamps: pd.DatetimeIndex) -> np.ndarray:
    """+1 at the churn peak (mid-July), -1 half a year away (mid-January)."""
    day = np.asarray(timestamps.day_of_year, dtype=float) + (
        np.asarray(timestamps.hour, dtype=float) / 24.0
    )
    return np.cos(2.0 * np.pi * (day - _SEASON_PEAK_DAY) / 365.25)


def churn_coefficients(concept_weight: float = 0.0) -> dict[str, float]:
    """Return the coefficients of the true churn rule (log-odds per unit, see :func:`churn_logit`).

    Introduced in notebook 04 (data phase), to compare what a model learned with the truth.

    Args:
        concept_weight: 0 = the market before concept drift, 1 = after (a cheaper competitor
            arrived); values in between mix the two, values outside [0, 1] are clipped.
    """
    if isinstance(concept_weight, bool) or not isinstance(concept_weight, numbers.Real):
        raise TypeError(f"concept_weight must be a number in [0, 1], got {concept_weight!r}.")
    if math.isnan(concept_weight):
        raise ValueError("concept_weight must be a number in [0, 1], got NaN.")
    w = min(1.0, max(0.0, float(concept_weight)))
    return {key: (1.0 - w) * _COEF_OLD[key] + w * _COEF_NEW[key] for key in _COEF_OLD}


def churn_logit(
    df: pd.DataFrame, concept_weight: float | np.ndarray = 0.0, seasonality: float = 0.0
) -> np.ndarray:
    """Return the true log-odds of churn that :func:`make_churn` uses to draw the label.

    Introduced in notebook 04 (data phase); handy to show what a perfect model could know.

    ``log-odds = intercept + contract + tenure_per_month * (tenure_months - 12)
    + charges_per_eur * (monthly_charges - 15) + support_per_call * support_calls
    + usage_per_log * log(usage_hours / 30) + late_per_payment * late_payments + payment
    + seasonality * wave(timestamp)``, with the coefficients of :func:`churn_coefficients`
    (``concept_weight`` 0 = the old market, 1 = the new market) and ``wave`` = +1 in mid-July,
    -1 in mid-January. The churn probability is ``1 / (1 + exp(-log_odds))``.

    Args:
        df: a frame with the columns of :data:`CHURN_FEATURES` (and ``timestamp`` when
            ``seasonality`` is not 0).
        concept_weight: a number or one number per row, clipped to [0, 1].
        seasonality: amplitude of the yearly swing in log-odds (see :func:`make_churn`).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in CHURN_FEATURES if c not in df.columns]
    if missing:
        raise ValueError(f"df lacks the churn feature columns {missing}.")
    weight = np.clip(np.broadcast_to(np.asarray(concept_weight, dtype=float), (len(df),)), 0, 1)

    def mix(key: str) -> np.ndarray:
        return (1.0 - weight) * _COEF_OLD[key] + weight * _COEF_NEW[key]

    contract = df["contract"].astype(str).to_numpy()
    payment = df["payment_method"].astype(str).to_numpy()
    tenure = df["tenure_months"].to_numpy(dtype=float)
    charges = df["monthly_charges"].to_numpy(dtype=float)
    usage = np.maximum(df["usage_hours"].to_numpy(dtype=float), 0.5)
    z = (
        mix("intercept")
        + np.where(contract == "one-year", mix("contract_one_year"), 0.0)
        + np.where(contract == "two-year", mix("contract_two_year"), 0.0)
        + mix("tenure_per_month") * (tenure - 12.0)
        + mix("charges_per_eur") * (charges - 15.0)
        + mix("support_per_call") * df["support_calls"].to_numpy(dtype=float)
        + mix("usage_per_log") * np.log(usage / 30.0)
        + mix("late_per_payment") * df["late_payments"].to_numpy(dtype=float)
    )
    for method in CHURN_CATEGORIES["payment_method"]:
        z = z + np.where(payment == method, mix(f"payment_{method}"), 0.0)
    if seasonality:
        z = z + seasonality * _seasonal_wave(pd.DatetimeIndex(df["timestamp"]))
    return z


def _make_period(
    k: int,
    n: int,
    *,
    seed: int,
    start: pd.Timestamp,
    freq: str,
    covariate_drift: float,
    concept_drift: float,
    seasonality: float,
    drift_start: int,
) -> pd.DataFrame:
    """Generate period k. Its random numbers depend only on (seed, k), never on other periods."""
    # One independent stream per quantity, derived from (seed, period, quantity), so that
    # changing a drift setting changes a customer's values only where the drift acts.
    streams = [
        np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(k, j)))
        for j in range(12)
    ]
    steps = _drift_steps(k, drift_start)
    cov = covariate_drift * steps

    begin, end = period_bounds(start, freq, k)
    span_s = int((end - begin) / pd.Timedelta(seconds=1))
    offsets = np.sort(streams[0].integers(0, span_s, size=n))
    timestamps = pd.DatetimeIndex(begin + pd.to_timedelta(offsets, unit="s")).as_unit("ns")
    wave = _seasonal_wave(timestamps)

    p_m2m = min(_MAX_M2M_SHARE, _P_CONTRACT[0] + _DRIFT_M2M_SHARE * cov)
    rest = _P_CONTRACT[1:] / _P_CONTRACT[1:].sum() * (1.0 - p_m2m)
    contract = _pick(streams[1].random(n), np.concatenate([[p_m2m], rest]))
    plan = _pick(streams[2].random(n), _P_PLAN)
    payment = _pick(streams[3].random(n), _P_PAYMENT)
    region = _pick(streams[4].random(n), _P_REGION)

    tenure_raw = streams[5].gamma(1.3, 1.0 / 1.3, size=n) * _TENURE_SCALE[contract]
    tenure = np.minimum(np.floor(tenure_raw), _MAX_TENURE).astype(np.int64)

    addons = streams[6].gamma(2.0, 1.5, size=n)
    charges = np.round(_PLAN_PRICE[plan] + addons + _DRIFT_CHARGES_EUR * cov, 2)

    usage_factor = max(_MIN_USAGE_FACTOR, 1.0 - _DRIFT_USAGE_FRACTION * cov)
    season_usage = 1.0 - 0.2 * seasonality * wave  # more watching in winter
    usage = (
        30.0
        * _PLAN_USAGE[plan]
        * np.exp(0.6 * streams[7].standard_normal(n))
        * np.clip(season_usage, 0.1, None)
        * usage_factor
    )
    usage = np.round(usage, 1)

    support = _poisson_from_uniform(
        streams[8].random(n), 0.7 + 0.3 * (plan == 0) + _DRIFT_SUPPORT_RATE * cov
    )
    late = _poisson_from_uniform(streams[9].random(n), _LATE_RATE[payment])

    ids = k * n + np.arange(1, n + 1)
    frame = pd.DataFrame(
        {
            "customer_id": pd.array([f"C{i:07d}" for i in ids], dtype="str"),
            "timestamp": timestamps,
            "period": np.full(n, k, dtype=np.int64),
            "tenure_months": tenure,
            "monthly_charges": charges,
            "usage_hours": usage,
            "support_calls": support,
            "late_payments": late,
            "contract": pd.Categorical.from_codes(contract, CHURN_CATEGORIES["contract"]),
            "plan": pd.Categorical.from_codes(plan, CHURN_CATEGORIES["plan"]),
            "payment_method": pd.Categorical.from_codes(
                payment, CHURN_CATEGORIES["payment_method"]
            ),
            "region": pd.Categorical.from_codes(region, CHURN_CATEGORIES["region"]),
        }
    )
    z = churn_logit(frame, concept_weight=concept_drift * steps, seasonality=seasonality)
    prob = 1.0 / (1.0 + np.exp(-z))
    frame[CHURN_TARGET] = (streams[10].random(n) < prob).astype(np.int64)
    return frame


def make_churn(
    n_per_period: int = 1000,
    periods: int = 12,
    freq: str = "W",
    start: str = "2025-01-06",
    seed: int = 0,
    covariate_drift: float = 0.0,
    concept_drift: float = 0.0,
    seasonality: float = 0.0,
    drift_start: int = 0,
) -> pd.DataFrame:
    """Simulate customers of a video streaming subscription service and whether they churn.

    Introduced in notebook 04 (data phase); used by every later notebook.

    Each row is one customer observed at ``timestamp``; ``churned`` says whether they
    cancelled within the following 30 days. Rows come in ``periods`` consecutive periods
    (weeks or months) of ``n_per_period`` customers each, sorted by time. Columns and units
    are in :data:`CHURN_DATA_DICTIONARY`; categorical columns have pandas ``category`` dtype
    with the fixed levels of :data:`CHURN_CATEGORIES`, ``customer_id`` has pandas ``str`` dtype.

    **How the label is made.** The probability of churn is a logistic function of the features
    (see :func:`churn_logit`): month-to-month contracts, high charges, support calls, late
    payments, low usage, short tenure and paying by invoice raise it; region has no effect. The
    base churn rate is about 22 %; even the true rule reaches a ROC AUC of only about 0.84
    (a good model gets close to it), because the label is a random draw from that probability.

    **Drift controls.** Drift acts from period ``drift_start`` on and grows linearly: period
    ``drift_start + j`` has ``j + 1`` *steps* of drift; earlier periods are stationary.

    * ``covariate_drift`` (feature distributions change, the churn rule stays): per step and per
      unit of ``covariate_drift``, monthly charges rise by 1.00 EUR, usage falls by 5 % of its
      stationary level, the share of month-to-month contracts rises by 3 percentage points
      (at most 95 %), and the support-call rate rises by 0.1 calls per 90 days. So
      ``covariate_drift=0.5`` means +0.50 EUR, -2.5 % usage, +1.5 points month-to-month and
      +0.05 calls per period. Churn rises too, because the same rule meets riskier customers.
    * ``concept_drift`` (the churn rule changes, feature distributions stay): a cheaper
      competitor arrives. The rule's coefficients move from the old market to the new one by
      ``concept_drift`` of the way per step (capped at all the way): price sensitivity grows
      from 0.12 to 0.30 log-odds per EUR, the protection of one- and two-year contracts halves,
      and heavy usage protects less (-1.00 -> -0.30 per unit of log usage); see
      :func:`churn_coefficients`. ``concept_drift=0.25`` means the new market has fully taken
      over in period ``drift_start + 3`` (4 steps). A model trained on the old market keeps
      working on the features but ranks customers worse: the old rule's ROC AUC on new-market
      labels is about 0.77 against 0.84 for the new rule.
    * ``seasonality`` (a yearly swing, independent of ``drift_start``): the log-odds of churn
      rise by ``seasonality`` at the peak in mid-July and fall by as much in mid-January, and
      usage swings by ``20 % * seasonality`` the other way (more watching in winter, which
      adds to the swing in churn). With ``seasonality=0.5`` the odds of churn are e^0.5 = 1.65
      times higher in mid-July and 1.65 times lower in mid-January; in monthly data this moves
      the churn rate from about 16 % in January to about 34 % in July.

    **Determinism.** The same arguments give an identical frame, bit for bit. Period ``k`` draws
    its random numbers from ``SeedSequence(entropy=seed, spawn_key=(k, ...))`` only, so it does
    not depend on how many periods are asked for: ``make_churn(periods=12)`` restricted to its
    first 5 periods equals ``make_churn(periods=5)`` with the same other arguments. Later
    notebooks use this to stream the data one period at a time. Drift settings change a
    customer's values only where the drift acts (the underlying random numbers are shared).

    Args:
        n_per_period: customers per period, >= 1.
        periods: number of periods, >= 1.
        freq: ``"W"`` (weeks) or ``"MS"`` (calendar months), see :data:`CHURN_FREQUENCIES`.
        start: first day of period 0 (a date string, ``datetime.date`` or ``pd.Timestamp``,
            no time zone). The default 2025-01-06 is a Monday.
        seed: non-negative integer seed.
        covariate_drift: drift intensity per period, >= 0 (0 = stationary features).
        concept_drift: fraction of the way to the new market per period, >= 0 (0 = none).
        seasonality: amplitude of the yearly swing in churn log-odds, >= 0 (0 = none).
        drift_start: first period affected by drift, 0..periods (``periods`` = never).

    Returns:
        A DataFrame with ``n_per_period * periods`` rows and the columns ``customer_id``,
        ``timestamp``, ``period``, the features of :data:`CHURN_FEATURES` and ``churned``,
        with a default RangeIndex.

    Raises:
        TypeError: an argument has the wrong type (e.g. a float where an int is needed).
        ValueError: an argument is out of range (negative size, unknown ``freq``, NaN drift,
            ``drift_start`` outside 0..periods, a start that is not a date).
    """
    n_per_period = _validate_int(n_per_period, "n_per_period", 1)
    periods = _validate_int(periods, "periods", 1)
    if n_per_period * periods > 5_000_000:
        raise ValueError(
            f"n_per_period * periods = {n_per_period * periods} rows is too many for a course "
            "data set; keep it at most 5,000,000."
        )
    if not isinstance(freq, str):
        raise TypeError(f"freq must be a string, one of {list(CHURN_FREQUENCIES)}.")
    if freq not in CHURN_FREQUENCIES:
        raise ValueError(
            f"Unknown freq {freq!r}. Use one of {list(CHURN_FREQUENCIES)}: "
            + "; ".join(f"{k!r} = {v}" for k, v in CHURN_FREQUENCIES.items())
            + "."
        )
    start_ts = _validate_start(start)
    seed = _validate_int(seed, "seed", 0)
    covariate_drift = _validate_nonneg_float(covariate_drift, "covariate_drift")
    concept_drift = _validate_nonneg_float(concept_drift, "concept_drift")
    seasonality = _validate_nonneg_float(seasonality, "seasonality")
    drift_start = _validate_int(drift_start, "drift_start", 0)
    if drift_start > periods:
        raise ValueError(
            f"drift_start must be between 0 and periods={periods} (periods means 'never'), "
            f"got {drift_start}."
        )
    frames = [
        _make_period(
            k,
            n_per_period,
            seed=seed,
            start=start_ts,
            freq=freq,
            covariate_drift=covariate_drift,
            concept_drift=concept_drift,
            seasonality=seasonality,
            drift_start=drift_start,
        )
        for k in range(periods)
    ]
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Business cost of a churn model's errors
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChurnCosts:
    """What the errors of a churn model cost the streaming service, in EUR (illustrative values).

    Introduced in notebook 04 (data phase); used by :func:`utils.training.evaluate`.

    The model flags customers as likely churners and the service sends each flagged customer a
    retention offer (e.g. a month at half price):

    * every flagged customer costs ``offer_cost_eur``, whether they would have churned (true
      positive) or not (false positive);
    * a flagged churner stays with probability ``offer_success_rate``; otherwise the service
      still loses ``customer_value_eur``;
    * a missed churner (false negative) is lost: ``customer_value_eur``;
    * a customer correctly left alone (true negative) costs nothing.

    So ``cost = offer_cost * (TP + FP) + customer_value * (FN + (1 - success_rate) * TP)``.
    The defaults (a 20 EUR offer, 200 EUR of margin lost per churner, 30 % of offers work) are
    made up but plausible; change them to see how the best threshold moves.
    """

    offer_cost_eur: float = 20.0
    customer_value_eur: float = 200.0
    offer_success_rate: float = 0.3

    def __post_init__(self) -> None:
        for name in ("offer_cost_eur", "customer_value_eur", "offer_success_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"ChurnCosts.{name} must be a number, got {value!r}.")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"ChurnCosts.{name} must be a finite number >= 0, got {value}.")
        if self.offer_success_rate > 1:
            raise ValueError(
                f"ChurnCosts.offer_success_rate is a probability in [0, 1], "
                f"got {self.offer_success_rate}."
            )

    def cost(self, tp: int, fp: int, fn: int, tn: int = 0) -> float:
        """Total cost in EUR of a confusion matrix (``tn`` costs nothing, it is accepted for
        symmetry), rounded to the cent. Counts must be non-negative integers.

        Money is counted in cents: the rounding keeps binary float noise (``0.7 * 3 * 200`` is
        ``419.99999999999994``) out of reports and the tracking UI."""
        for name, value in (("tp", tp), ("fp", fp), ("fn", fn), ("tn", tn)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must be an integer count, got {value!r}.")
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}.")
        lost = fn + (1.0 - self.offer_success_rate) * tp
        return round(float(self.offer_cost_eur * (tp + fp) + self.customer_value_eur * lost), 2)

    def break_even_probability(self) -> float:
        """Churn probability above which sending the offer pays off on average.

        Contacting a customer with churn probability p saves ``p * success_rate * value`` and
        costs ``offer_cost``, so it pays when ``p > offer_cost / (success_rate * value)``.
        With a well calibrated model this is the cost-optimal threshold (1/3 with the
        defaults); ``inf`` when an offer can never pay off.
        """
        gain = self.offer_success_rate * self.customer_value_eur
        return float(self.offer_cost_eur / gain) if gain > 0 else math.inf

    def to_dict(self) -> dict[str, float]:
        """The three settings as a plain dict (for logging)."""
        return {k: float(v) for k, v in asdict(self).items()}


# ---------------------------------------------------------------------------------------------
# Content fingerprint of a data frame (data versioning)
# ---------------------------------------------------------------------------------------------

_FINGERPRINT_VERSION = b"utils.datasets.fingerprint/v2"


def _column_bytes(series: pd.Series, name: object) -> bytes:
    """A column's name and dtype (categories, time zone included), then pandas' hash of each
    value (``pd.util.hash_pandas_object``, in row order, the index left out)."""
    dtype = series.dtype
    # numpy's dtype.name ignores byte order (">f8" and "<f8" are both "float64")
    kind = dtype.name if isinstance(dtype, np.dtype) else str(dtype)
    if isinstance(dtype, pd.CategoricalDtype):
        kind += repr((list(dtype.categories), dtype.ordered))
    elif isinstance(dtype, np.dtype) and not dtype.isnative:
        series = series.astype(dtype.newbyteorder("="))  # layout, not content
    head = repr((name, kind)).encode("utf-8")
    try:
        values = pd.util.hash_pandas_object(series, index=False).to_numpy()
        if isinstance(dtype, np.dtype) and dtype.kind == "O":  # else 1 and "1" would agree
            types = series.map(lambda v: type(v).__name__)
            values = values ^ pd.util.hash_pandas_object(types, index=False).to_numpy()
    except TypeError as error:
        raise TypeError(
            f"fingerprint cannot hash column {name!r} ({error}); use numbers, booleans, strings, "
            "dates, categories or missing values."
        ) from None
    return struct.pack("<Q", len(head)) + head + values.astype("<u8").tobytes()


def fingerprint(df: pd.DataFrame, full: bool = False) -> str:
    """Return a content hash of a DataFrame: the same data gives the same string, anywhere.

    Introduced in notebook 04 (data phase) to version data; notebooks 05 and 06 log it with
    every run and model so that one can tell which data a model was trained on.

    The hash is SHA-256 over the frame's shape, column names, column order, dtypes (including
    the levels of categorical columns and time zones) and the values in row order, each value
    hashed by pandas' own ``pd.util.hash_pandas_object`` (64 bits a value). By default the first
    16 hex characters (64 bits) are returned, plenty to tell data versions apart in a project
    (use ``full=True`` for all 64). It is not a security feature. Byte order and C/Fortran
    memory order count as layout, not content.

    It **changes** when any value, a dtype (e.g. int64 -> float64, str -> category), a column
    name, the order of columns or the order of rows changes. It does **not** change when only
    the index labels change (the index is ignored: ``df.reset_index(drop=True)`` has the same
    fingerprint as ``df``), when the frame is copied, or with memory layout. All missing
    floats (NaN) hash alike, and so do ``-0.0`` and ``0.0``. It is computed from the bytes of
    the data with a fixed key, never with Python's ``hash()``, so it is the same in every process
    and on every run under the same pandas and numpy versions.

    Args:
        df: the frame to hash. Supported columns: numeric, bool, datetime (with or without time
            zone), timedelta, category, string/object holding str, numbers, booleans, dates,
            bytes or missing values, and pandas nullable dtypes.
        full: return all 64 hex characters instead of 16.

    Raises:
        TypeError: if ``df`` is not a DataFrame, or a column holds objects that cannot be
            hashed reliably (e.g. lists or dicts).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"fingerprint expects a pandas DataFrame, got {type(df).__name__}; "
            "wrap a Series with .to_frame()."
        )
    digest = hashlib.sha256()
    digest.update(_FINGERPRINT_VERSION)
    digest.update(struct.pack("<QQ", df.shape[0], df.shape[1]))
    for position in range(df.shape[1]):
        digest.update(_column_bytes(df.iloc[:, position], df.columns[position]))
    hexdigest = digest.hexdigest()
    return hexdigest if full else hexdigest[:16]
