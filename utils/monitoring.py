"""Monitor a churn model in production: drift statistics, delayed labels, alerts, a dashboard.

Introduced in notebook 09 (monitoring and drift); notebook 10 (the full cycle) builds a
:class:`Monitor` each time it deploys a model and asks it, batch after batch, whether to retrain.

The statistics are small on purpose, so that they can be read, tested and kept:

* :func:`psi`, the **population stability index**, on bins fixed on the reference data
  (deciles for numeric columns, the levels for categorical ones). Empty bins are given the share
  :data:`PSI_EPSILON` (0.0001) so that the logarithm stays finite. The usual rules of thumb,
  which are conventions of the credit-scoring trade and not results of a theory: below 0.1 the
  population is stable, 0.1 to 0.25 it has moved moderately, above 0.25 it has moved a lot.
* :func:`ks_test`, the two-sample **Kolmogorov-Smirnov** test for numeric columns, and
  :func:`chi2_test`, the **chi-squared** test of homogeneity for categorical ones. Both call
  SciPy (``scipy.stats.ks_2samp`` and ``scipy.stats.chi2_contingency``), whose interfaces have
  been stable for many years; the tests in ``tests/test_monitoring.py`` pin their results on
  textbook cases, so a change in SciPy would show up as a failing test, not as a broken lesson.
* **Prediction drift**: the same statistics on the model's churn probabilities.
* **Performance** once the labels arrive: accuracy, ROC AUC and the business cost per customer
  (:class:`~utils.datasets.ChurnCosts`), compared with the model's performance on the
  reference data.

:class:`Thresholds` holds the alert rules. A column *drifts* in a batch when its test rejects
"no change" at the family-wise level ``alpha`` (Bonferroni-corrected over all the columns tested
in the batch) **and** its PSI is at least ``psi`` (0.1). Which of the two decides depends on
the batch size (:func:`drift_rule_sweep`): in batches of a few hundred rows or fewer the PSI
passes 0.1 by chance and the test decides; in larger batches the test rejects shifts far too
small to matter and the PSI decides alone. :func:`monitor_stream` runs a :class:`Monitor` over a
whole stream of weekly batches, with labels that arrive ``label_delay`` weeks late, and returns a
tidy table and a weekly summary; :func:`dashboard` draws them.

Beside drift and performance, a monitor can watch the **prediction bias** (mean churn
probability against the churn rate), the **business KPI** (cost per customer) and the share of
**missing values** (:class:`Thresholds` and ``Monitor(missing="monitor")``; all off by default,
so existing callers see the same alerts), and :func:`cusum` accumulates small shifts week after
week.

Importing this module has no side effects.
"""

from __future__ import annotations

import math
import numbers
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from utils.datasets import CHURN_FEATURES, CHURN_TARGET, ChurnCosts

__all__ = [
    "CHECKS",
    "PSI_BINS",
    "PSI_EPSILON",
    "PSI_MAJOR",
    "PSI_MODERATE",
    "PREDICTION",
    "DriftTest",
    "Monitor",
    "MonitorReport",
    "StreamResult",
    "Thresholds",
    "auc_standard_error",
    "batch_size_figure",
    "chance_psi",
    "chi2_test",
    "cusum",
    "dashboard",
    "distribution_figure",
    "drift_rule_deciders",
    "drift_rule_sweep",
    "drift_heatmap",
    "ks_test",
    "monitor_stream",
    "performance_figure",
    "prediction_bias",
    "psi",
    "psi_edges",
    "psi_from_shares",
    "psi_level",
    "psi_shares",
]

PSI_EPSILON = 1e-4
"""Share given to an empty bin before the PSI takes logarithms (0.01 % of the rows)."""

PSI_BINS = 10
"""Number of bins for a numeric column: the deciles of the reference data."""

PSI_MODERATE = 0.1
"""Rule of thumb: a PSI below 0.1 means no significant change."""

PSI_MAJOR = 0.25
"""Rule of thumb: a PSI of 0.25 or more means a major change; 0.1 to 0.25 is moderate."""

PREDICTION = "prediction"
"""Name of the model's churn probability in the monitoring tables."""

CHECKS: tuple[str, ...] = ("feature_drift", "prediction_drift", "performance")
"""The kinds of alert a :class:`Monitor` raises, which :class:`Thresholds` can make trigger a
retraining."""

_TABLE_COLUMNS = [
    "week",
    "reported_week",
    "feature",
    "kind",
    "statistic",
    "value",
    "threshold",
    "alert",
]
_PERFORMANCE = "model"


# --------------------------------------------------------------------------- input checks


def _as_series(values: object, what: str) -> pd.Series:
    if isinstance(values, pd.DataFrame):
        raise TypeError(f"{what} must be one column (a Series or an array), not a DataFrame.")
    if isinstance(values, pd.Series):
        series = values
    elif isinstance(values, np.ndarray | list | tuple | pd.Categorical | pd.Index):
        series = pd.Series(values)
    else:
        raise TypeError(
            f"{what} must be a pandas Series, a numpy array or a list, got {type(values).__name__}."
        )
    if series.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional.")
    if len(series) == 0:
        raise ValueError(f"{what} is empty: a drift statistic needs at least one row.")
    if series.isna().any():
        raise ValueError(
            f"{what} has {int(series.isna().sum())} missing values; drop or fill them first "
            "(and count them: a rise in missing values is a drift of its own)."
        )
    return series


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _numeric(values: object, what: str) -> np.ndarray:
    series = _as_series(values, what)
    if not _is_numeric(series):
        raise TypeError(
            f"{what} must be numeric, got dtype {series.dtype}; for a categorical column use "
            "chi2_test, or convert the column with pd.to_numeric."
        )
    array = series.to_numpy(dtype=float)
    if not np.isfinite(array).all():
        raise ValueError(f"{what} holds infinite values.")
    return array


def _categories(values: object, what: str) -> pd.Series:
    series = _as_series(values, what)
    if pd.api.types.is_float_dtype(series):
        raise TypeError(
            f"{what} has the float dtype {series.dtype}, which is not a categorical column; use "
            "ks_test for numeric columns."
        )
    return series


def _level_counts(values: object, what: str) -> pd.Series:
    """Rows per level (levels as strings), without levels that have no rows."""
    series = _categories(values, what)
    if isinstance(series.dtype, pd.CategoricalDtype):  # fast path: count the codes
        categories = [str(c) for c in series.cat.categories]
        codes = series.cat.codes.to_numpy()
        counts = pd.Series(np.bincount(codes, minlength=len(categories)), index=categories)
    else:
        counts = series.value_counts(sort=False)
        counts.index = [str(level) for level in counts.index]
    counts = counts[counts > 0]
    if counts.index.has_duplicates:  # e.g. 1 and "1" are one level as strings
        counts = counts.groupby(level=0).sum()
    return counts


def _aligned_counts(reference: pd.Series, current: pd.Series) -> tuple[list[str], np.ndarray]:
    """A 2 x k table of counts over the levels seen in either sample (sorted by name)."""
    levels = sorted(set(reference.index) | set(current.index))
    table = np.vstack(
        [
            reference.reindex(levels, fill_value=0).to_numpy(dtype=float),
            current.reindex(levels, fill_value=0).to_numpy(dtype=float),
        ]
    )
    return levels, table


def _check_probability(value: object, name: str, *, open_interval: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    value = float(value)
    low_ok = value > 0 if open_interval else value >= 0
    if not (low_ok and value < 1):
        raise ValueError(f"{name} must be between 0 and 1, got {value}.")
    return value


# --------------------------------------------------------------------------- PSI


def psi_edges(reference: object, bins: int = PSI_BINS) -> np.ndarray:
    """Inner bin edges for the PSI of a numeric column, fixed on the reference data.

    Introduced in notebook 09. The edges are the reference's quantiles at 1/bins, 2/bins, ...;
    repeated edges (a discrete column such as a count) are merged, so a column with few values
    gets one bin per value. Bin ``i`` holds the values ``x`` with ``edges[i-1] < x <= edges[i]``;
    the first bin is open to the left and the last to the right, so every future value has a bin.

    Raises:
        TypeError: the values are not numeric.
        ValueError: no values, missing values, or ``bins`` below 2.
    """
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got {bins!r}.")
    values = _numeric(reference, "reference")
    quantiles = np.quantile(values, np.linspace(0.0, 1.0, int(bins) + 1)[1:-1])
    return np.unique(quantiles)


def psi_shares(values: object, edges: np.ndarray) -> np.ndarray:
    """Share of ``values`` in each bin defined by :func:`psi_edges` (sums to 1; notebook 09)."""
    array = _numeric(values, "values")
    edges = np.asarray(edges, dtype=float)
    index = np.searchsorted(edges, array, side="left")
    counts = np.bincount(index, minlength=len(edges) + 1)
    return counts / counts.sum()


def psi_from_shares(
    expected: Sequence[float] | np.ndarray,
    actual: Sequence[float] | np.ndarray,
    epsilon: float = PSI_EPSILON,
) -> float:
    """The population stability index of two sets of bin shares.

    Introduced in notebook 09. ``PSI = sum over bins of (actual - expected) * ln(actual /
    expected)``, where ``expected`` are the reference's shares and ``actual`` the new batch's.
    Shares below ``epsilon`` are raised to ``epsilon`` first (an empty bin would otherwise give
    an infinite logarithm). Each term is >= 0, so PSI >= 0, and it is 0 exactly when the shares
    are equal. It is the symmetric Kullback-Leibler divergence of the two binned distributions.

    Example: ``psi_from_shares([0.5, 0.5], [0.25, 0.75])`` = 0.25 ln 2 + 0.25 ln 1.5 = 0.2747.

    Raises:
        ValueError: the two differ in length, a share is negative or not finite, or either does
            not sum to 1 (within 1e-6).
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.ndim != 1 or a.ndim != 1 or len(e) != len(a) or len(e) == 0:
        raise ValueError(
            f"expected and actual must be two lists of shares of the same length, got "
            f"lengths {e.size} and {a.size}."
        )
    for name, shares in (("expected", e), ("actual", a)):
        if not np.isfinite(shares).all() or (shares < 0).any():
            raise ValueError(f"{name} shares must be finite and >= 0, got {shares.tolist()}.")
        if abs(shares.sum() - 1.0) > 1e-6:
            raise ValueError(
                f"{name} shares must sum to 1 (they are shares of rows), they sum to "
                f"{shares.sum():.6g}. Divide counts by their total first."
            )
    eps = float(epsilon)
    if not (0 < eps < 1):
        raise ValueError(f"epsilon must be between 0 and 1, got {epsilon}.")
    e = np.maximum(e, eps)
    a = np.maximum(a, eps)
    return float(np.sum((a - e) * np.log(a / e)))


def _category_shares(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Shares per level of two samples of level counts (see :func:`_level_counts`)."""
    _, table = _aligned_counts(reference, current)
    return table[0] / table[0].sum(), table[1] / table[1].sum()


def psi(
    reference: object,
    current: object,
    *,
    bins: int = PSI_BINS,
    epsilon: float = PSI_EPSILON,
    categorical: bool | None = None,
) -> float:
    """Population stability index of one column: the reference data against a new batch.

    Introduced in notebook 09. A numeric column is cut into the bins of :func:`psi_edges`
    (deciles of the reference); a categorical column has one bin per level seen in either
    sample (a level the reference never had gets the share ``epsilon`` there). Then
    :func:`psi_from_shares`. ``categorical`` defaults to True for non-numeric columns.

    Rules of thumb (conventions, not theory): < 0.1 stable, 0.1-0.25 moderate, >= 0.25 major.
    The PSI of a sample with itself is 0. Note that the PSI of two samples of the *same*
    population is not 0: with 10 bins and batches of n rows it is about 9/n by chance alone.

    Raises:
        TypeError: a numeric PSI of non-numeric values.
        ValueError: an empty sample or missing values.
    """
    ref_series = _as_series(reference, "reference")
    if categorical is None:
        categorical = not _is_numeric(ref_series)
    if categorical:
        e, a = _category_shares(
            _level_counts(reference, "reference"), _level_counts(current, "current")
        )
        return psi_from_shares(e, a, epsilon)
    edges = psi_edges(reference, bins)
    return psi_from_shares(psi_shares(reference, edges), psi_shares(current, edges), epsilon)


def psi_level(value: float) -> str:
    """``"stable"`` (PSI < 0.1), ``"moderate"`` (0.1 to 0.25) or ``"major"`` (>= 0.25).

    Introduced in notebook 09; the bands are the usual rules of thumb.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"psi_level needs a PSI value (a number), got {value!r}.")
    if value < PSI_MODERATE:
        return "stable"
    return "moderate" if value < PSI_MAJOR else "major"


# --------------------------------------------------------------------------- tests


@dataclass(frozen=True)
class DriftTest:
    """The outcome of a two-sample test (notebook 09).

    Attributes:
        test: ``"ks"`` (Kolmogorov-Smirnov) or ``"chi2"`` (chi-squared).
        statistic: the test statistic (KS: the largest gap between the two empirical CDFs,
            0 to 1; chi-squared: the sum of (observed - expected)^2 / expected).
        pvalue: the probability of a statistic at least this large if nothing had changed.
    """

    test: str
    statistic: float
    pvalue: float


def ks_test(reference: object, current: object) -> DriftTest:
    """Two-sample Kolmogorov-Smirnov test of a numeric column (notebook 09).

    Calls ``scipy.stats.ks_2samp(reference, current, method="asymp")``. The asymptotic p-value
    is used because the exact one is slow for samples of thousands of rows; for a sample of
    1,000 rows against 8,000 it is smaller than the exact one by at most about 0.002. For a
    discrete column (counts such as support calls) the test is conservative: it raises fewer
    false alarms than ``alpha``.

    Raises:
        TypeError: a sample is not numeric.
        ValueError: a sample is empty or has missing values.
    """
    ref = _numeric(reference, "reference")
    cur = _numeric(current, "current")
    result = stats.ks_2samp(ref, cur, method="asymp")
    return DriftTest("ks", float(result.statistic), float(result.pvalue))


def chi2_test(reference: object, current: object) -> DriftTest:
    """Chi-squared test that a categorical column has the same shares in both samples.

    Introduced in notebook 09. Builds the 2 x k table of counts (reference, current) over the
    levels seen in either sample and calls ``scipy.stats.chi2_contingency(table,
    correction=False)`` (without Yates' continuity correction, so two levels are treated like
    more). With a single level in both samples there is nothing to compare: statistic 0,
    p-value 1. The test assumes expected counts of about 5 or more per cell.

    Raises:
        TypeError: a float column (use :func:`ks_test`).
        ValueError: a sample is empty or has missing values.
    """
    return _chi2_from_counts(
        _level_counts(reference, "reference"), _level_counts(current, "current")
    )


def _chi2_from_counts(reference: pd.Series, current: pd.Series) -> DriftTest:
    levels, table = _aligned_counts(reference, current)
    if len(levels) < 2:
        return DriftTest("chi2", 0.0, 1.0)
    result = stats.chi2_contingency(table, correction=False)
    return DriftTest("chi2", float(result.statistic), float(result.pvalue))


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Thresholds:
    """The alert rules of a :class:`Monitor` (notebook 09; notebook 10 changes ``retrain_on``).

    Attributes:
        psi: the smallest PSI that counts as drift (rule of thumb: 0.1 moderate).
        alpha: the false-alarm rate of the tests per batch, for all columns together.
        correction: ``"bonferroni"`` divides ``alpha`` by the number of columns tested in a
            batch (the features and the prediction); ``"none"`` tests each at ``alpha``.
        roc_auc_drop: a performance alert when a week's ROC AUC is more than this below the
            model's ROC AUC on the reference data.
        retrain_on: which alerts ask for a retraining: any of :data:`CHECKS`.
        roc_auc_z: if set, the performance alert uses an interval instead of the fixed drop:
            it fires when a week's ROC AUC is more than ``roc_auc_z`` standard errors (of the
            difference, Hanley and McNeil's formula, :func:`auc_standard_error`) below the
            reference's. None (the default) keeps the fixed ``roc_auc_drop``.
        prediction_bias: if set, a *prediction bias* alert (Sculley et al., 2015) when the mean
            churn probability of a labelled week differs from its churn rate by more than this
            (see :func:`prediction_bias`). None: not checked.
        cost_increase_eur: if set, a *business KPI* alert when a labelled week's cost per
            customer exceeds the reference's by more than this many EUR. None: not checked.

    The prediction-bias and KPI alerts are for people to read; they are not in :data:`CHECKS`
    and never ask for a retraining by themselves (a wrong base rate can be fixed by
    recalibrating or moving the decision threshold, which a retraining may or may not do).

    Raises:
        ValueError, TypeError: a rule out of range or of the wrong type.
    """

    psi: float = PSI_MODERATE
    alpha: float = 0.05
    correction: str = "bonferroni"
    roc_auc_drop: float = 0.05
    retrain_on: tuple[str, ...] = CHECKS
    roc_auc_z: float | None = None
    prediction_bias: float | None = None
    cost_increase_eur: float | None = None

    def __post_init__(self) -> None:
        for name in ("roc_auc_z", "prediction_bias", "cost_increase_eur"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
                raise ValueError(f"{name} must be a number > 0 or None, got {value!r}.")
        if isinstance(self.psi, bool) or not isinstance(self.psi, numbers.Real) or self.psi < 0:
            raise ValueError(f"psi must be a number >= 0, got {self.psi!r}.")
        _check_probability(self.alpha, "alpha")
        if self.correction not in ("bonferroni", "none"):
            raise ValueError(f"correction must be 'bonferroni' or 'none', got {self.correction!r}.")
        drop = self.roc_auc_drop
        if isinstance(drop, bool) or not isinstance(drop, numbers.Real) or not 0 <= drop <= 1:
            raise ValueError(f"roc_auc_drop must be between 0 and 1, got {drop!r}.")
        if isinstance(self.retrain_on, str) or not isinstance(self.retrain_on, Iterable):
            raise TypeError(f"retrain_on must be a tuple drawn from {CHECKS}.")
        retrain_on = tuple(self.retrain_on)
        unknown = [c for c in retrain_on if c not in CHECKS]
        if unknown:
            raise ValueError(f"Unknown alert kinds {unknown} in retrain_on; valid: {CHECKS}.")
        object.__setattr__(self, "retrain_on", retrain_on)

    def pvalue_threshold(self, n_tests: int) -> float:
        """The p-value below which one of ``n_tests`` tests of a batch raises an alert."""
        if isinstance(n_tests, bool) or not isinstance(n_tests, numbers.Integral) or n_tests < 1:
            raise ValueError(f"n_tests must be an integer >= 1, got {n_tests!r}.")
        return self.alpha / n_tests if self.correction == "bonferroni" else self.alpha


# --------------------------------------------------------------------------- the monitor


def _drift_reasons(
    table: pd.DataFrame, drifted: tuple[str, ...], prediction_drift: bool
) -> tuple[list[str], tuple[str, ...]]:
    """The reasons a check gives for drift and for missing values, from its drift table; and
    the features whose missing values rose."""
    reasons: list[str] = []
    if drifted:
        psis = table[(table["statistic"] == "psi")].set_index("feature")["value"]
        listed = ", ".join(f"{f}={psis[f]:.2f}" for f in drifted)
        reasons.append(f"feature drift (PSI): {listed}")
    if prediction_drift:
        value = float(
            table.loc[
                (table["feature"] == PREDICTION) & (table["statistic"] == "psi"), "value"
            ].iloc[0]
        )
        reasons.append(f"prediction drift: the churn probabilities moved (PSI {value:.2f})")
    missing_features = tuple(
        table.loc[(table["statistic"] == "missing_share") & table["alert"], "feature"]
    )
    if missing_features:
        shares = table[table["statistic"] == "missing_share"].set_index("feature")["value"]
        listed = ", ".join(f"{f}={shares[f]:.0%}" for f in missing_features)
        reasons.append(f"missing values rose: {listed}")
    return reasons, missing_features


@dataclass(frozen=True)
class MonitorReport:
    """What :meth:`Monitor.check` found in one batch, and whether to retrain (notebook 09).

    Attributes:
        week: the batch's week (None if not given).
        n: rows in the batch.
        table: the tidy rows of this check: ``week``, ``reported_week``, ``feature``, ``kind``
            (numeric, categorical, prediction, performance), ``statistic`` (psi, ks_pvalue,
            chi2_pvalue, drift, roc_auc, accuracy, cost_per_customer_eur, churn_rate),
            ``value``, ``threshold`` and ``alert``.
        drifted_features: features that drifted (test and PSI both over their thresholds).
        prediction_drift: whether the model's churn probabilities drifted.
        performance: metrics on the labelled rows, or None when no labels came with the check.
        performance_alert: whether the ROC AUC fell by more than the allowed drop.
        retrain: whether an alert named in ``Thresholds.retrain_on`` fired.
        reasons: one sentence per alert.
        bias_alert: whether the prediction bias of the labelled rows exceeded
            ``Thresholds.prediction_bias`` (False when that rule is not set).
        kpi_alert: whether the cost per customer rose by more than
            ``Thresholds.cost_increase_eur`` (False when that rule is not set).
        missing_features: features whose share of missing values rose significantly (only
            with ``Monitor(missing="monitor")``).
    """

    week: int | None
    n: int
    table: pd.DataFrame = field(repr=False)
    drifted_features: tuple[str, ...]
    prediction_drift: bool
    performance: dict[str, float] | None
    performance_alert: bool
    retrain: bool
    reasons: tuple[str, ...]
    bias_alert: bool = False
    kpi_alert: bool = False
    missing_features: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"week {self.week}" if self.week is not None else "this batch"
        head = f"{where} ({self.n:,} rows): " + ("RETRAIN" if self.retrain else "no retraining")
        reasons = self.reasons or ("no alert",)
        lines = [head] + [
            textwrap.fill(reason, 92, initial_indent="  - ", subsequent_indent="    ")
            for reason in reasons
        ]
        return "\n".join(lines)


class Monitor:
    """Watch a model in production against its reference data.

    Introduced in notebook 09; notebook 10 builds one for every model it deploys and asks it,
    batch by batch, whether to retrain.

    On creation it fixes everything a batch is compared with: for each feature the PSI bins
    (deciles or levels) and the reference sample for the test (Kolmogorov-Smirnov for numeric
    features, chi-squared for categorical ones), the same for the model's churn probability on
    the reference data, and the model's performance on labelled reference data.

    Args:
        reference: the data the model was built from (the training data), with the features.
        model: a fitted classifier with ``predict_proba`` (a scikit-learn Pipeline).
        features: the feature columns (default: the churn scenario's); numeric dtypes are
            numeric features, category, string and bool dtypes are categorical.
        target: the label column; the reference performance is measured on ``baseline``.
        thresholds: the alert rules (default :class:`Thresholds()`).
        costs: prices of a churn model's errors (default ``ChurnCosts()``).
        decision_threshold: churn probability from which a customer is flagged.
        baseline: labelled data for the reference performance; default ``reference`` when it
            has the target column (slightly optimistic if the model was fit on those rows).
        missing: ``"raise"`` (the default) refuses a batch with missing values; ``"monitor"``
            counts them instead: each feature gets a ``missing_share`` row, with an alert when
            the share is significantly above the reference's (a one-sided binomial test at
            :attr:`pvalue_threshold`); the drift statistics use the values that are there, and
            the model scores only the complete rows.

    Raises:
        TypeError: reference is not a DataFrame or the model has no ``predict_proba``.
        ValueError: reference is empty or lacks a feature column.
    """

    def __init__(
        self,
        reference: pd.DataFrame,
        model: Any,
        *,
        features: Sequence[str] = CHURN_FEATURES,
        target: str = CHURN_TARGET,
        thresholds: Thresholds | None = None,
        costs: ChurnCosts | None = None,
        decision_threshold: float = 0.5,
        baseline: pd.DataFrame | None = None,
        missing: str = "raise",
    ) -> None:
        if missing not in ("raise", "monitor"):
            raise ValueError(f"missing must be 'raise' or 'monitor', got {missing!r}.")
        self.missing = missing
        if not hasattr(model, "predict_proba"):
            raise TypeError(
                f"model must be a fitted classifier with predict_proba, got {type(model).__name__}."
            )
        if isinstance(features, str) or not isinstance(features, Sequence) or not features:
            raise TypeError("features must be a non-empty list of column names.")
        if thresholds is not None and not isinstance(thresholds, Thresholds):
            raise TypeError(f"thresholds must be a Thresholds, got {type(thresholds).__name__}.")
        if costs is not None and not isinstance(costs, ChurnCosts):
            raise TypeError(f"costs must be a ChurnCosts, got {type(costs).__name__}.")
        self.model = model
        self.features = tuple(features)
        self.target = target
        self.thresholds = thresholds or Thresholds()
        self.costs = costs or ChurnCosts()
        self.decision_threshold = _check_probability(
            decision_threshold, "decision_threshold", open_interval=False
        )
        reference = self._frame(reference, "reference")
        self.missing_shares: dict[str, float] = {
            c: float(reference[c].isna().mean()) for c in self.features
        }
        if missing == "monitor":  # the statistics are fixed on the values that are there
            reference = reference.dropna(subset=list(self.features))
        self.kinds: dict[str, str] = {
            c: "numeric" if _is_numeric(reference[c]) else "categorical" for c in self.features
        }
        # Fixed on the reference data once: samples (KS), level counts (chi-squared), PSI bins
        # and the reference's shares in them.
        self._reference: dict[str, Any] = {}
        self._edges: dict[str, np.ndarray] = {}
        self._shares: dict[str, np.ndarray] = {}
        for column in self.features:
            what = f"reference column {column!r}"
            if self.kinds[column] == "numeric":
                self._set_numeric_reference(column, _numeric(reference[column], what))
            else:
                self._reference[column] = _level_counts(reference[column], what)
        self.n_reference_rows = len(reference)
        self._set_numeric_reference(PREDICTION, self.scores(reference))
        self.n_reference = len(reference)
        if baseline is None and target in reference.columns:
            baseline = reference
        self.reference_performance: dict[str, float] | None = None
        if baseline is not None:
            baseline = self._frame(baseline, "baseline")
            self.reference_performance = self.performance(baseline, baseline[target])

    # ---------------------------------------------------------------- helpers

    def _set_numeric_reference(self, column: str, values: np.ndarray) -> None:
        self._reference[column] = values
        self._edges[column] = psi_edges(values)
        self._shares[column] = psi_shares(values, self._edges[column])

    def _frame(self, df: object, what: str) -> pd.DataFrame:
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}.")
        if len(df) == 0:
            raise ValueError(f"{what} is empty: there is nothing to monitor.")
        missing = [c for c in self.features if c not in df.columns]
        if missing:
            raise ValueError(
                f"{what} lacks the feature column(s) {missing}; "
                f"it has {list(map(str, df.columns))}."
            )
        return df

    @property
    def n_tests(self) -> int:
        """Columns tested per batch: every feature and the prediction."""
        return len(self.features) + 1

    @property
    def pvalue_threshold(self) -> float:
        """The p-value below which a test raises an alert (after the correction)."""
        return self.thresholds.pvalue_threshold(self.n_tests)

    def scores(self, batch: pd.DataFrame) -> np.ndarray:
        """The model's churn probabilities for the rows of ``batch``."""
        batch = self._frame(batch, "batch")
        features = batch[list(self.features)]
        if self.missing == "monitor":
            complete = features.notna().all(axis=1).to_numpy()
            out = np.full(len(batch), np.nan)
            if complete.any():
                out[complete] = np.asarray(self.model.predict_proba(features[complete]))[:, 1]
            return out
        return np.asarray(self.model.predict_proba(features))[:, 1]

    def _scores(self, batch: pd.DataFrame, scores: np.ndarray | None) -> np.ndarray:
        if scores is None:
            return self.scores(batch)
        scores = np.asarray(scores, dtype=float)
        if scores.shape != (len(batch),):
            raise ValueError(
                f"scores must hold one churn probability per row: {len(batch)} rows, got "
                f"shape {scores.shape}."
            )
        return scores

    def _column(self, batch: pd.DataFrame, column: str) -> object:
        kind = self.kinds[column]
        values = batch[column]
        if kind == "numeric" and not _is_numeric(values):
            raise TypeError(
                f"Column {column!r} was numeric in the reference data but has dtype "
                f"{values.dtype} in the batch; fix the batch's types (e.g. pd.to_numeric)."
            )
        if kind == "categorical" and pd.api.types.is_float_dtype(values):
            raise TypeError(
                f"Column {column!r} was categorical in the reference data but is float in the "
                "batch; fix the batch's types."
            )
        return values

    # ---------------------------------------------------------------- the checks

    def drift(self, batch: pd.DataFrame, *, scores: np.ndarray | None = None) -> pd.DataFrame:
        """Drift statistics of one batch: three rows per feature and for the prediction.

        Rows: ``psi`` (alert when >= ``thresholds.psi``), ``ks_pvalue`` or ``chi2_pvalue``
        (alert when below :attr:`pvalue_threshold`) and ``drift`` (1 when both alert). Columns:
        ``feature``, ``kind``, ``statistic``, ``value``, ``threshold``, ``alert``. ``scores``:
        the model's churn probabilities for the batch, if already computed.

        Raises:
            TypeError: the batch is not a DataFrame, or a column changed its type.
            ValueError: the batch is empty, lacks a feature, or has missing values.
        """
        batch = self._frame(batch, "batch")
        if self.missing == "raise":
            counts = batch[list(self.features)].isna().sum()
            if counts.any():
                listed = ", ".join(f"{c} ({n})" for c, n in counts[counts > 0].items())
                raise ValueError(
                    f"batch has missing values in {listed}; fill them, or build the Monitor "
                    "with missing='monitor' to count them (a rise in missing values is a "
                    "drift of its own)."
                )
        p_threshold = self.pvalue_threshold
        rows: list[dict[str, Any]] = []
        columns: list[tuple[str, str, object]] = [
            (c, self.kinds[c], self._column(batch, c)) for c in self.features
        ]
        columns.append((PREDICTION, PREDICTION, self._scores(batch, scores)))
        for column, kind, values in columns:
            rows += self._drift_rows(column, kind, values, p_threshold)
        return pd.DataFrame(rows)

    def _drift_rows(
        self, column: str, kind: str, values: Any, p_threshold: float
    ) -> list[dict[str, Any]]:
        """The rows :meth:`drift` reports for one column: missing share (when monitored), PSI,
        the test's p-value and the drift verdict."""
        rows: list[dict[str, Any]] = []
        reference = self._reference[column]
        what = f"batch column {column!r}"
        if self.missing == "monitor":
            values = pd.Series(np.asarray(values)) if kind == PREDICTION else values
            if kind != PREDICTION:
                rows.append(self._missing_row(column, kind, values, p_threshold))
            values = values.dropna()
            if len(values) == 0:  # nothing left to compare: no drift statistics
                rows += [
                    {
                        "feature": column,
                        "kind": kind,
                        "statistic": name,
                        "value": math.nan,
                        "threshold": math.nan,
                        "alert": False,
                    }
                    for name in ("psi", "drift")
                ]
                return rows
        if kind == "categorical":
            current = _level_counts(values, what)
            value_psi = psi_from_shares(*_category_shares(reference, current))
            test = _chi2_from_counts(reference, current)
        else:
            current = _numeric(values, what)
            value_psi = psi_from_shares(
                self._shares[column], psi_shares(current, self._edges[column])
            )
            test = ks_test(reference, current)
        psi_alert = value_psi >= self.thresholds.psi
        test_alert = test.pvalue < p_threshold
        rows += [
            {
                "feature": column,
                "kind": kind,
                "statistic": "psi",
                "value": value_psi,
                "threshold": float(self.thresholds.psi),
                "alert": bool(psi_alert),
            },
            {
                "feature": column,
                "kind": kind,
                "statistic": f"{test.test}_pvalue",
                "value": test.pvalue,
                "threshold": p_threshold,
                "alert": bool(test_alert),
            },
            {
                "feature": column,
                "kind": kind,
                "statistic": "drift",
                "value": float(psi_alert and test_alert),
                "threshold": math.nan,
                "alert": bool(psi_alert and test_alert),
            },
        ]
        return rows

    def _missing_row(
        self, column: str, kind: str, values: pd.Series, p_threshold: float
    ) -> dict[str, Any]:
        """The ``missing_share`` row of one column: its share and a one-sided binomial test."""
        n_missing = int(values.isna().sum())
        # A reference without missing values still allows one in n_reference rows.
        expected = max(self.missing_shares[column], 1.0 / self.n_reference_rows)
        pvalue = float(stats.binom.sf(n_missing - 1, len(values), expected)) if n_missing else 1.0
        return {
            "feature": column,
            "kind": kind,
            "statistic": "missing_share",
            "value": n_missing / len(values),
            "threshold": p_threshold,
            "alert": bool(pvalue < p_threshold),
        }

    def performance(
        self, batch: pd.DataFrame, labels: object, *, scores: np.ndarray | None = None
    ) -> dict[str, float]:
        """Accuracy, ROC AUC, business cost per customer (EUR) and churn rate of labelled rows.

        Also ``mean_score`` (the mean churn probability), ``prediction_bias`` (mean score minus
        churn rate, :func:`prediction_bias`) and ``roc_auc_se`` (the standard error of the ROC
        AUC, :func:`auc_standard_error`). ROC AUC and its standard error are NaN when the labels
        hold one class only. ``scores``: the model's churn probabilities for the rows, if
        already computed; rows without a score (missing values, ``missing="monitor"``) are left
        out.

        Raises:
            ValueError: labels and batch differ in length, or labels are not 0/1.
        """
        from sklearn.metrics import roc_auc_score

        batch = self._frame(batch, "batch")
        y = np.asarray(labels)
        if y.ndim != 1 or len(y) != len(batch):
            raise ValueError(
                f"labels must hold one label per row of the batch: {len(batch)} rows, "
                f"got shape {y.shape}."
            )
        if not np.isin(y, [0, 1]).all():
            raise ValueError("labels must be 0 (stayed) or 1 (churned).")
        y = y.astype(int)
        scores = self._scores(batch, scores)
        scored = ~np.isnan(scores)
        if not scored.all():
            y, scores = y[scored], scores[scored]
        if len(y) == 0:
            raise ValueError("No labelled row has a score: every row misses a feature value.")
        flagged = scores >= self.decision_threshold
        tp = int(np.sum(flagged & (y == 1)))
        fp = int(np.sum(flagged & (y == 0)))
        fn = int(np.sum(~flagged & (y == 1)))
        tn = int(np.sum(~flagged & (y == 0)))
        both = 0 < y.sum() < len(y)
        auc = float(roc_auc_score(y, scores)) if both else math.nan
        n_pos = int(y.sum())
        return {
            "roc_auc": auc,
            "accuracy": (tp + tn) / len(y),
            "cost_per_customer_eur": self.costs.cost(tp, fp, fn, tn) / len(y),
            "churn_rate": float(y.mean()),
            "mean_score": float(scores.mean()),
            "prediction_bias": float(scores.mean() - y.mean()),
            "roc_auc_se": auc_standard_error(auc, n_pos, len(y) - n_pos) if both else math.nan,
        }

    def auc_limit(self, performance: dict[str, float]) -> float:
        """The ROC AUC below which a labelled week raises a performance alert (notebook 09).

        The reference's ROC AUC minus ``Thresholds.roc_auc_drop``; or, when
        ``Thresholds.roc_auc_z`` is set, minus ``roc_auc_z`` standard errors of the difference
        of the two ROC AUCs (the week's and the reference's, taken as independent). NaN without
        a reference performance.
        """
        reference = self.reference_performance
        if reference is None or math.isnan(reference["roc_auc"]):
            return math.nan
        z = self.thresholds.roc_auc_z
        if z is None:
            return reference["roc_auc"] - self.thresholds.roc_auc_drop
        se = math.sqrt(performance["roc_auc_se"] ** 2 + reference["roc_auc_se"] ** 2)
        return reference["roc_auc"] - z * se

    def _performance_rows(
        self,
        performance: dict[str, float],
        perf_week: int | None,
        week: int | None,
        limit: float,
        alerts: tuple[bool, bool, bool],
    ) -> pd.DataFrame:
        """The check table's rows of the performance metrics, with thresholds and alerts."""
        perf_alert, bias_alert, kpi_alert = alerts
        perf_rows = pd.DataFrame(
            [
                {
                    "week": perf_week,
                    "reported_week": week,
                    "feature": _PERFORMANCE,
                    "kind": "performance",
                    "statistic": name,
                    "value": float(value),
                    "threshold": {
                        "roc_auc": limit,
                        "prediction_bias": self.thresholds.prediction_bias or math.nan,
                        "cost_per_customer_eur": math.nan
                        if self.thresholds.cost_increase_eur is None
                        or self.reference_performance is None
                        else self.reference_performance["cost_per_customer_eur"]
                        + self.thresholds.cost_increase_eur,
                    }.get(name, math.nan),
                    "alert": {
                        "roc_auc": perf_alert,
                        "prediction_bias": bias_alert,
                        "cost_per_customer_eur": kpi_alert,
                    }.get(name, False),
                }
                for name, value in performance.items()
            ]
        )
        return perf_rows

    def _judge_performance(
        self, performance: dict[str, float], perf_week: int | None, week: int | None
    ) -> tuple[tuple[bool, bool, bool], list[str], pd.DataFrame]:
        """The performance, bias and business-KPI alerts of one check, their reasons and the
        table's performance rows."""
        reasons: list[str] = []
        bias_alert = kpi_alert = False
        reference_auc = (
            self.reference_performance["roc_auc"]
            if self.reference_performance is not None
            else math.nan
        )
        limit = self.auc_limit(performance)
        auc = performance["roc_auc"]
        perf_alert = bool(not math.isnan(auc) and not math.isnan(limit) and auc < limit)
        if perf_alert:
            rule = (
                f"{self.thresholds.roc_auc_drop}"
                if self.thresholds.roc_auc_z is None
                else f"{self.thresholds.roc_auc_z:g} standard errors"
            )
            reasons.append(
                f"performance: ROC AUC {auc:.3f} in week {perf_week} is below "
                f"{limit:.3f} (reference {reference_auc:.3f} - {rule})"
            )
        bias_limit = self.thresholds.prediction_bias
        bias = performance["prediction_bias"]
        if bias_limit is not None and abs(bias) > bias_limit:
            bias_alert = True
            reasons.append(
                f"prediction bias: mean churn probability {performance['mean_score']:.1%} "
                f"against a churn rate of {performance['churn_rate']:.1%} in week "
                f"{perf_week} (allowed: {bias_limit:.1%})"
            )
        cost_limit = self.thresholds.cost_increase_eur
        if cost_limit is not None and self.reference_performance is not None:
            cost = performance["cost_per_customer_eur"]
            reference_cost = self.reference_performance["cost_per_customer_eur"]
            if cost > reference_cost + cost_limit:
                kpi_alert = True
                reasons.append(
                    f"business KPI: cost per customer {cost:.2f} EUR in week {perf_week}, "
                    f"above {reference_cost:.2f} + {cost_limit:g} EUR"
                )
        alerts = (perf_alert, bias_alert, kpi_alert)
        return alerts, reasons, self._performance_rows(performance, perf_week, week, limit, alerts)

    def check(
        self,
        batch: pd.DataFrame,
        labels: object = None,
        *,
        week: int | None = None,
        labelled: pd.DataFrame | None = None,
        labelled_week: int | None = None,
        scores: np.ndarray | None = None,
        labelled_scores: np.ndarray | None = None,
    ) -> MonitorReport:
        """Check one batch: drift of every feature and of the prediction, and performance when
        labels are there. Returns a :class:`MonitorReport` that says whether to retrain and why.

        Args:
            batch: the batch's rows (features; other columns are ignored).
            labels: the labels of ``batch``'s rows, if already known (one per row).
            week: the batch's week, recorded in the report.
            labelled: earlier rows whose labels arrived now (features and the target column),
                to measure performance on; the alternative to ``labels`` when labels are late.
            labelled_week: the week of ``labelled`` (default: ``week``).
            scores, labelled_scores: the model's churn probabilities for ``batch`` and
                ``labelled``, if already computed (saves predicting twice).

        Raises:
            ValueError: both ``labels`` and ``labelled`` given, or bad input (see
                :meth:`drift`, :meth:`performance`).
        """
        if labels is not None and labelled is not None:
            raise ValueError(
                "Give either labels (of this batch) or labelled (earlier rows with their "
                "labels), not both."
            )
        if week is not None and (isinstance(week, bool) or not isinstance(week, numbers.Integral)):
            raise TypeError(f"week must be an integer, got {week!r}.")
        table = self.drift(batch, scores=scores)
        table.insert(0, "reported_week", week)
        table.insert(0, "week", week)
        drifted = tuple(
            table.loc[
                (table["statistic"] == "drift") & table["alert"] & (table["kind"] != PREDICTION),
                "feature",
            ]
        )
        pred_row = table[(table["feature"] == PREDICTION) & (table["statistic"] == "drift")]
        prediction_drift = bool(pred_row["alert"].iloc[0])
        performance = None
        perf_alert = False
        perf_week = week
        if labels is not None:
            performance = self.performance(batch, labels, scores=scores)
        elif labelled is not None:
            labelled = self._frame(labelled, "labelled")
            if self.target not in labelled.columns:
                raise ValueError(f"labelled lacks the label column {self.target!r}.")
            performance = self.performance(labelled, labelled[self.target], scores=labelled_scores)
            perf_week = week if labelled_week is None else int(labelled_week)
        reasons, missing_features = _drift_reasons(table, drifted, prediction_drift)
        bias_alert = kpi_alert = False
        if performance is not None:
            alerts, more, perf_rows = self._judge_performance(performance, perf_week, week)
            perf_alert, bias_alert, kpi_alert = alerts
            reasons += more
            table = pd.concat([table, perf_rows], ignore_index=True)
        fired = {
            "feature_drift": bool(drifted),
            "prediction_drift": prediction_drift,
            "performance": perf_alert,
        }
        retrain = any(fired[kind] for kind in self.thresholds.retrain_on)
        table = table[_TABLE_COLUMNS].astype({"week": "Int64", "reported_week": "Int64"})
        return MonitorReport(
            week=None if week is None else int(week),
            n=len(batch),
            table=table,
            drifted_features=drifted,
            prediction_drift=prediction_drift,
            performance=performance,
            performance_alert=perf_alert,
            retrain=retrain,
            reasons=tuple(reasons),
            bias_alert=bias_alert,
            kpi_alert=kpi_alert,
            missing_features=missing_features,
        )


# --------------------------------------------------------------------------- streams


@dataclass
class StreamResult:
    """What :func:`monitor_stream` returns (notebook 09).

    Attributes:
        table: every statistic of every week, tidy: ``week`` (the week of the rows measured),
            ``reported_week`` (the week the monitor knew it: later for performance, whose labels
            arrive ``label_delay`` weeks late), ``feature``, ``kind``, ``statistic``, ``value``,
            ``threshold``, ``alert``.
        summary: one row per week, as the monitor saw it at the end of that week: ``n``,
            ``drifted_features``, ``n_drifted``, ``max_feature_psi``, ``prediction_psi``,
            ``prediction_drift``, ``labelled_week`` (whose labels arrived that week),
            ``roc_auc``, ``accuracy``, ``cost_per_customer_eur``, ``churn_rate`` (of those
            labelled rows), ``performance_alert``, ``retrain``, ``reasons``.
        reports: the :class:`MonitorReport` of every week.
        label_delay: weeks between a batch and its labels (None: labels never arrive).
        reference_performance: the model's metrics on the reference data.
        thresholds: the alert rules used.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    reports: list[MonitorReport] = field(repr=False)
    label_delay: int | None
    reference_performance: dict[str, float] | None
    thresholds: Thresholds

    def alert_weeks(self, kind: str = "any") -> list[int]:
        """Weeks in which an alert of ``kind`` was raised: one of :data:`CHECKS`,
        ``"prediction_bias"``, ``"kpi"`` or ``"any"`` (missing values included).

        A performance alert is raised in the week its labels arrive (``labelled_week +
        label_delay``).
        """
        column = {
            "feature_drift": "n_drifted",
            "prediction_drift": "prediction_drift",
            "performance": "performance_alert",
            "prediction_bias": "bias_alert",
            "kpi": "kpi_alert",
            "any": None,
        }
        if kind not in column:
            raise ValueError(f"kind must be one of {list(column)}, got {kind!r}.")
        s = self.summary
        if kind == "any":
            mask = (
                (s["n_drifted"] > 0)
                | s["prediction_drift"]
                | s["performance_alert"]
                | s["bias_alert"]
                | s["kpi_alert"]
                | (s["missing_features"] != "")
            )
        elif kind == "feature_drift":
            mask = s["n_drifted"] > 0
        else:
            mask = s[column[kind]].astype(bool)
        return [int(w) for w in s.loc[mask, "week"]]

    def first_alert_week(self, kind: str = "any") -> int | None:
        """The first week with an alert of ``kind`` (see :meth:`alert_weeks`), or None."""
        weeks = self.alert_weeks(kind)
        return weeks[0] if weeks else None

    def drift_weeks(self, feature: str) -> list[int]:
        """Weeks in which ``feature`` (or ``"prediction"``) drifted."""
        known = set(self.table["feature"])
        if feature not in known:
            raise ValueError(f"Unknown feature {feature!r}; the table has {sorted(known)}.")
        rows = self.table[(self.table["feature"] == feature) & (self.table["statistic"] == "drift")]
        return [int(w) for w in rows.loc[rows["alert"], "week"]]

    def drifted_features(self) -> list[str]:
        """Features that drifted in at least one week, in the order of the monitor's features."""
        rows = self.table[
            (self.table["statistic"] == "drift")
            & self.table["alert"]
            & (self.table["kind"] != PREDICTION)
        ]
        return list(dict.fromkeys(rows["feature"]))

    def values(self, statistic: str = "psi") -> pd.DataFrame:
        """A wide table of one drift statistic: one row per feature (and the prediction), one
        column per week."""
        rows = self.table[self.table["statistic"] == statistic]
        if rows.empty:
            raise ValueError(f"No statistic {statistic!r} in the table.")
        order = list(dict.fromkeys(rows["feature"]))
        wide = rows.pivot(index="feature", columns="week", values="value")
        return wide.loc[order]

    def performance(self) -> pd.DataFrame:
        """One row per labelled week: the metrics, the threshold and whether it alerted."""
        rows = self.table[self.table["kind"] == "performance"]
        if rows.empty:
            return pd.DataFrame(
                columns=["week", "reported_week", "roc_auc", "threshold", "alert"]
            ).astype({"week": "Int64"})
        wide = rows.pivot(index="week", columns="statistic", values="value")
        auc = rows[rows["statistic"] == "roc_auc"].set_index("week")
        wide["reported_week"] = auc["reported_week"]
        wide["threshold"] = auc["threshold"]
        wide["alert"] = auc["alert"].astype(bool)
        return wide.reset_index()


def monitor_stream(
    monitor: Monitor,
    stream: pd.DataFrame,
    *,
    label_delay: int | None = 2,
    period_column: str = "period",
    progress: bool = False,
) -> StreamResult:
    """Run a :class:`Monitor` over a stream of weekly batches, with labels that come late.

    Introduced in notebook 09. For each week ``t`` of ``stream`` (in order), the monitor checks
    the rows of week ``t`` for drift, and the labels of week ``t - label_delay`` arrive and are
    scored (the first ``label_delay`` weeks of the stream have no labelled week yet, and the
    labels of the last ``label_delay`` weeks are still outstanding at the end).

    Args:
        monitor: the monitor, built on the reference data.
        stream: production rows with the features, a period column and (for performance) the
            target column.
        label_delay: weeks until the labels arrive (0: at once; None: never).
        period_column: the column holding the week number.
        progress: show a progress bar (:class:`utils.experiments.Progress`).

    Returns:
        A :class:`StreamResult` with the tidy table, the weekly summary and the reports.

    Raises:
        TypeError, ValueError: a bad stream (not a DataFrame, empty, no period column, no
            target column when labels are expected) or a negative delay.
    """
    if not isinstance(monitor, Monitor):
        raise TypeError(f"monitor must be a Monitor, got {type(monitor).__name__}.")
    if not isinstance(stream, pd.DataFrame):
        raise TypeError(f"stream must be a pandas DataFrame, got {type(stream).__name__}.")
    if len(stream) == 0:
        raise ValueError("stream is empty: there is nothing to monitor.")
    if period_column not in stream.columns:
        raise ValueError(f"stream has no period column {period_column!r}.")
    if not pd.api.types.is_integer_dtype(stream[period_column]):
        raise TypeError(f"Column {period_column!r} must hold integer week numbers.")
    if label_delay is not None:
        if (
            isinstance(label_delay, bool)
            or not isinstance(label_delay, numbers.Integral)
            or label_delay < 0
        ):
            raise ValueError(f"label_delay must be an integer >= 0 or None, got {label_delay!r}.")
        if monitor.target not in stream.columns:
            raise ValueError(
                f"stream has no label column {monitor.target!r}; pass label_delay=None to "
                "monitor without labels."
            )
    monitor._frame(stream, "stream")
    all_scores = pd.Series(monitor.scores(stream), index=stream.index)  # one call for all weeks
    groups = {int(week): rows for week, rows in stream.groupby(period_column, sort=True)}
    bar = None
    if progress:
        from utils.experiments import Progress  # deferred: scikit-learn, +395 ms on monitoring

        bar = Progress(len(groups), "monitoring")
    reports: list[MonitorReport] = []
    summary_rows: list[dict[str, Any]] = []
    for week, batch in groups.items():
        labelled_week = None if label_delay is None else week - int(label_delay)
        labelled = groups.get(labelled_week) if labelled_week is not None else None
        report = monitor.check(
            batch,
            week=week,
            labelled=labelled,
            labelled_week=labelled_week if labelled is not None else None,
            scores=all_scores.loc[batch.index].to_numpy(),
            labelled_scores=None if labelled is None else all_scores.loc[labelled.index].to_numpy(),
        )
        reports.append(report)
        psis = report.table[
            (report.table["statistic"] == "psi") & (report.table["kind"] != "performance")
        ].set_index("feature")["value"]
        perf = report.performance or {}
        summary_rows.append(
            {
                "week": week,
                "n": report.n,
                "drifted_features": ", ".join(report.drifted_features),
                "n_drifted": len(report.drifted_features),
                "max_feature_psi": float(psis.drop(PREDICTION).max()),
                "prediction_psi": float(psis[PREDICTION]),
                "prediction_drift": report.prediction_drift,
                "labelled_week": labelled_week if labelled is not None else None,
                "roc_auc": perf.get("roc_auc", math.nan),
                "accuracy": perf.get("accuracy", math.nan),
                "cost_per_customer_eur": perf.get("cost_per_customer_eur", math.nan),
                "churn_rate": perf.get("churn_rate", math.nan),
                "mean_score": perf.get("mean_score", math.nan),
                "prediction_bias": perf.get("prediction_bias", math.nan),
                "performance_alert": report.performance_alert,
                "bias_alert": report.bias_alert,
                "kpi_alert": report.kpi_alert,
                "missing_features": ", ".join(report.missing_features),
                "retrain": report.retrain,
                "reasons": "; ".join(report.reasons),
            }
        )
        if bar is not None:
            alerts = "alert" if report.reasons else "ok"
            bar.step(f"week {week}: {alerts}")
    if bar is not None:
        bar.done(f"{len(groups)} weeks monitored")
    table = pd.concat([r.table for r in reports], ignore_index=True)
    summary = pd.DataFrame(summary_rows).astype({"labelled_week": "Int64"})
    return StreamResult(
        table=table,
        summary=summary,
        reports=reports,
        label_delay=label_delay,
        reference_performance=monitor.reference_performance,
        thresholds=monitor.thresholds,
    )


# --------------------------------------------------------------------------- bias, intervals,
# batch sizes and sequential alarms


def prediction_bias(scores: object, labels: object) -> float:
    """Mean predicted churn probability minus the observed churn rate (notebook 09).

    Sculley et al. (*Hidden Technical Debt in Machine Learning Systems*, NeurIPS 2015) name
    *prediction bias* as a monitor: in a system that works as intended, the distribution of
    predicted labels matches that of observed labels. A ranking metric such as ROC AUC cannot
    see it: it is unchanged when every score is shifted or the base rate moves.
    Positive: the model expects more churn than happened; negative: fewer.

    Raises:
        ValueError: different lengths, labels not 0/1, or scores outside [0, 1].
    """
    p = _numeric(scores, "scores")
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != len(p):
        raise ValueError(f"labels must hold one label per score: {len(p)} scores, got {y.shape}.")
    if not np.isin(y, [0, 1]).all():
        raise ValueError("labels must be 0 (stayed) or 1 (churned).")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("scores must be probabilities between 0 and 1.")
    return float(p.mean() - y.mean())


def auc_standard_error(auc: float, n_positive: int, n_negative: int) -> float:
    """Standard error of a ROC AUC from ``n_positive`` churners and ``n_negative`` stayers.

    Introduced in notebook 09. The formula of J. A. Hanley and B. J. McNeil (*The meaning and use
    of the area under a receiver operating characteristic (ROC) curve*, Radiology 143, 1982):
    ``SE^2 = (A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)) / (n1 n0)`` with ``Q1 = A/(2-A)`` and
    ``Q2 = 2A^2/(1+A)``. It assumes the scores of the two classes are roughly exponential in
    shape, and is close to the bootstrap's standard error for the sample sizes of a week.

    Raises:
        ValueError: ``auc`` outside [0, 1] or a class with no rows.
    """
    a = float(auc)
    if not 0 <= a <= 1:
        raise ValueError(f"auc must be between 0 and 1, got {auc!r}.")
    n1, n0 = int(n_positive), int(n_negative)
    if n1 < 1 or n0 < 1:
        raise ValueError("Both classes need at least one row for a ROC AUC.")
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    variance = (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0)
    return math.sqrt(max(variance, 0.0))


def chance_psi(n: float, bins: int = PSI_BINS, reference_n: float | None = None) -> float:
    """The PSI two samples of the *same* population have on average, by chance alone.

    Introduced in notebook 09. With ``bins`` equally filled bins and a batch of ``n`` rows the
    binned PSI is about a chi-squared variable with ``bins - 1`` degrees of freedom divided by
    ``n``, so its mean is about ``(bins - 1) / n``; a reference of ``reference_n`` rows adds
    ``(bins - 1) / reference_n``. With ten bins it reaches 0.1 near 90 rows.
    """
    if not n > 0 or (reference_n is not None and not reference_n > 0):
        raise ValueError("n and reference_n must be > 0.")
    total = (bins - 1) / n
    return total + ((bins - 1) / reference_n if reference_n is not None else 0.0)


def _kolmogorov_sf(x: np.ndarray) -> np.ndarray:
    """P(sqrt(n) D > x) for large samples (the Kolmogorov distribution), vectorised."""
    return stats.kstwobign.sf(x)


def drift_rule_sweep(
    sizes: Sequence[int],
    shifts: Sequence[float],
    *,
    reference_n: int = 8000,
    bins: int = PSI_BINS,
    psi_threshold: float = PSI_MODERATE,
    pvalue_threshold: float = 0.005,
    repeats: int = 100,
    grid: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """How often each half of the drift rule fires, over batch sizes and shift sizes.

    Introduced in notebook 09. A numeric feature whose reference is ``reference_n`` rows of a
    standard normal distribution; each batch of ``n`` rows is drawn from the same distribution
    shifted by ``shift`` standard deviations. For each batch it computes the PSI on ``bins``
    equally filled bins and the two-sample Kolmogorov-Smirnov p-value (asymptotic, as
    :func:`ks_test`), as the :class:`Monitor` does. Both statistics only depend on the ranks of
    the values, so the normal distribution stands for any continuous feature.

    It is vectorised: the values are counted in ``grid`` equally likely cells of the reference
    distribution (multinomial draws), which places the KS distance within ``1 / grid`` and
    the PSI exactly (``grid`` must be a multiple of ``bins``). The PSI bins are the
    population's quantiles, not the reference sample's, which is what a large reference
    approaches. The ``repeats`` reference samples are drawn once and shared by every batch size
    and shift (common random numbers: the comparison between cells is less noisy, and the
    sweep costs half as much).

    Returns:
        One row per (``n``, ``shift``): ``n``, ``shift``, ``mean_psi``, ``psi_fires`` (share of
        batches with PSI >= ``psi_threshold``), ``test_fires`` (p < ``pvalue_threshold``),
        ``rule_fires`` (both).
    """
    if grid % bins:
        raise ValueError(f"grid ({grid}) must be a multiple of bins ({bins}).")
    rng = np.random.default_rng(seed)
    cells = stats.norm.ppf(np.linspace(0, 1, grid + 1))  # -inf ... inf
    uniform = np.full(grid, 1.0 / grid)
    reference = rng.multinomial(reference_n, uniform, size=repeats) / reference_n
    reference_cdf = np.cumsum(reference, axis=1)
    e = np.maximum(reference.reshape(repeats, bins, -1).sum(axis=2), PSI_EPSILON)
    rows = []
    for n in sizes:
        n = int(n)
        effective = math.sqrt(n * reference_n / (n + reference_n))
        for shift in shifts:
            p = np.diff(stats.norm.cdf(cells - float(shift)))
            p = p / p.sum()
            batch = rng.multinomial(n, p, size=repeats) / n
            distance = np.abs(np.cumsum(batch, axis=1) - reference_cdf).max(axis=1)
            pvalue = _kolmogorov_sf(effective * distance)
            a = np.maximum(batch.reshape(repeats, bins, -1).sum(axis=2), PSI_EPSILON)
            value = ((a - e) * np.log(a / e)).sum(axis=1)
            psi_fires = value >= psi_threshold
            test_fires = pvalue < pvalue_threshold
            rows.append(
                {
                    "n": n,
                    "shift": float(shift),
                    "mean_psi": float(value.mean()),
                    "psi_fires": float(psi_fires.mean()),
                    "test_fires": float(test_fires.mean()),
                    "rule_fires": float((psi_fires & test_fires).mean()),
                }
            )
    return pd.DataFrame(rows)


def drift_rule_deciders(sweep: pd.DataFrame, power: float = 0.5) -> pd.DataFrame:
    """Which half of the drift rule decides, per batch size (notebook 09).

    From :func:`drift_rule_sweep`: for each ``n`` the smallest shift that the test alone, the
    PSI alone and the rule (both) detect in at least ``power`` of the batches, the false-alarm
    rates at shift 0, and ``decides``: ``"test"`` when the test needs the larger shift (then
    the PSI condition changes no alert), ``"PSI"`` when the PSI does (then the test changes
    none), ``"both"`` when they need the same shift.
    """

    def smallest(rows: pd.DataFrame, column: str) -> float:
        hit = rows.loc[rows[column] >= power, "shift"]
        return float(hit.min()) if len(hit) else math.nan

    out = []
    for n, rows in sweep.groupby("n", sort=True):
        rows = rows.sort_values("shift")
        null = rows[rows["shift"] == 0]
        test, psi_shift = smallest(rows, "test_fires"), smallest(rows, "psi_fires")
        out.append(
            {
                "n": int(n),
                "chance_psi": float(null["mean_psi"].iloc[0]) if len(null) else math.nan,
                "psi_false_alarms": float(null["psi_fires"].iloc[0]) if len(null) else math.nan,
                "test_false_alarms": float(null["test_fires"].iloc[0]) if len(null) else math.nan,
                "test_detects": test,
                "psi_detects": psi_shift,
                "rule_detects": smallest(rows, "rule_fires"),
                "decides": "test" if test > psi_shift else "PSI" if psi_shift > test else "both",
            }
        )
    return pd.DataFrame(out)


def cusum(
    values: object, *, k: float = 0.5, h: float = 5.0, reset: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The one-sided (upper) CUSUM of standardised values, and where it raises an alarm.

    Introduced in notebook 09. E. S. Page (*Continuous inspection schemes*, Biometrika 41,
    1954): ``S_t = max(0, S_{t-1} + z_t - k)``, an alarm when ``S_t > h``. ``z`` are values
    standardised against the calm state (mean 0, standard deviation 1); ``k`` is half the
    shift (in standard deviations) to detect fastest, ``h`` sets the false-alarm rate (the
    textbook pair k = 0.5, h = 5). Small persistent shifts add up week after week, which an
    independent weekly test forgets. With ``reset`` the sum restarts at 0 after an alarm.

    Returns:
        The statistic ``S`` after each value, and a boolean array of alarms.
    """
    z = _numeric(values, "values")
    if not k >= 0 or not h > 0:
        raise ValueError(f"k must be >= 0 and h > 0, got k={k!r}, h={h!r}.")
    statistic = np.zeros(len(z))
    alarms = np.zeros(len(z), dtype=bool)
    current = 0.0
    for i, value in enumerate(z):
        current = max(0.0, current + value - k)
        statistic[i] = current
        if current > h:
            alarms[i] = True
            if reset:
                current = 0.0
    return statistic, alarms


# --------------------------------------------------------------------------- plots

_BAND_COLOURS = ("#eef3f8", "#f5b041", "#c0392b")  # stable, moderate, major
_ALERT = "#c0392b"
_LINE = "#0072b2"


def _course_figure(width: float, height: float) -> Any:
    # deferred: utils.figures loads matplotlib: +464 ms to import monitoring
    from utils.figures import CourseFigure

    return CourseFigure(figsize=(width, height), facecolor="white")


def _check_result(result: object) -> StreamResult:
    if not isinstance(result, StreamResult):
        raise TypeError(f"result must be what monitor_stream returns, got {type(result).__name__}.")
    return result


def drift_heatmap(
    result: StreamResult,
    ax: Any = None,
    *,
    drift_start: int | None = None,
    title: str | None = None,
    cax: Any = None,
) -> Any:
    """Draw the PSI of every feature (and the prediction) per week, in the rule-of-thumb bands.

    Introduced in notebook 09. Colours: stable (< 0.1), moderate (0.1-0.25), major (>= 0.25);
    a black dot marks a drift alert (test and PSI). A dashed line marks ``drift_start``.
    Returns the figure (a new one unless ``ax`` is given; ``cax`` is the colour bar's axes).
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.lines import Line2D

    result = _check_result(result)
    wide = result.values("psi")
    drift = result.values("drift").reindex(index=wide.index, columns=wide.columns)
    weeks = [int(w) for w in wide.columns]
    fig = None
    if ax is None:
        fig = _course_figure(11.0, 0.32 * len(wide) + 2.0)
        ax = fig.subplots()
    cmap = ListedColormap(list(_BAND_COLOURS))
    norm = BoundaryNorm([0.0, PSI_MODERATE, PSI_MAJOR, 1e9], cmap.N)
    image = ax.imshow(
        wide.to_numpy(dtype=float),
        aspect="auto",
        cmap=cmap,
        norm=norm,
        extent=(weeks[0] - 0.5, weeks[-1] + 0.5, len(wide) - 0.5, -0.5),
        interpolation="nearest",
    )
    rows, cols = np.nonzero(drift.to_numpy(dtype=float) > 0)
    ax.scatter([weeks[c] for c in cols], rows, s=18, color="black")
    labels = ["prediction (churn prob.)" if f == PREDICTION else f for f in wide.index]
    ax.set_yticks(range(len(wide)), labels, fontsize=9)
    ax.axhline(len(wide) - 1.5, color="white", linewidth=3)
    ax.set_xticks(weeks[:: max(1, math.ceil(len(weeks) / 26))])
    handles = [
        Line2D([], [], marker="o", color="black", linestyle="", markersize=4),
    ]
    names = ["drift alert (test and PSI both alert)"]
    if drift_start is not None:
        ax.axvline(drift_start - 0.5, color="black", linestyle="--", linewidth=1.2)
        handles.append(Line2D([], [], color="black", linestyle="--"))
        names.append(f"drift starts (week {drift_start})")
    ax.set_xlabel("production week")
    ax.set_ylabel("monitored column")
    ax.set_title(
        title or "Drift per week: PSI against the reference data (unitless)", fontsize=10, pad=16
    )
    ax.legend(
        handles,
        names,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=2,
        fontsize=8,
        frameon=False,
        borderaxespad=0.0,
    )
    if cax is None:
        colorbar = ax.figure.colorbar(image, ax=ax, pad=0.01, fraction=0.04)
    else:
        colorbar = ax.figure.colorbar(image, cax=cax)
    colorbar.set_ticks([0.05, 0.175, 0.4])
    colorbar.ax.set_yticklabels(["stable\n< 0.1", "moderate\n0.1-0.25", "major\n>= 0.25"])
    colorbar.ax.tick_params(labelsize=8)
    if fig is not None:
        fig.tight_layout()
        return fig
    return ax.figure


def performance_figure(
    result: StreamResult,
    axes: Sequence[Any] | None = None,
    *,
    drift_start: int | None = None,
    title: str | None = None,
) -> Any:
    """Draw ROC AUC and business cost per labelled week, with the alert threshold.

    Introduced in notebook 09. Top: ROC AUC per week of customers, the reference ROC AUC and
    the alert threshold; a red cross marks a performance alert, annotated with the week in which
    the labels arrived. Bottom: cost per customer in EUR. Weeks whose labels have not arrived
    yet are shaded. Returns the figure (a new one unless two ``axes`` are given).
    """
    result = _check_result(result)
    perf = result.performance()
    weeks = [int(w) for w in result.summary["week"]]
    fig = None
    if axes is None:
        fig = _course_figure(11.0, 5.2)
        axes = fig.subplots(2, 1, sharex=True)
    ax_auc, ax_cost = axes
    reference = result.reference_performance or {}
    for ax in (ax_auc, ax_cost):
        if result.label_delay is not None and weeks:
            pending = weeks[-1] - result.label_delay + 0.5
            ax.axvspan(
                pending,
                weeks[-1] + 0.5,
                color="#dddddd",
                alpha=0.6,
                linewidth=0,
                label="labels not arrived yet",
            )
        if drift_start is not None:
            ax.axvline(
                drift_start - 0.5,
                color="black",
                linestyle="--",
                linewidth=1.2,
                label="drift starts",
            )
        ax.set_xlim(weeks[0] - 0.5, weeks[-1] + 0.5)
        ax.set_xticks(weeks[:: max(1, math.ceil(len(weeks) / 26))])
    if not perf.empty:
        ax_auc.plot(perf["week"], perf["roc_auc"], "o-", color=_LINE, label="ROC AUC of the week")
        ax_cost.plot(
            perf["week"], perf["cost_per_customer_eur"], "o-", color=_LINE, label="cost of the week"
        )
        alerts = perf[perf["alert"]]
        ax_auc.scatter(
            alerts["week"],
            alerts["roc_auc"],
            marker="x",
            s=90,
            color=_ALERT,
            zorder=5,
            label="performance alert",
        )
        if len(alerts):
            first = alerts.iloc[0]
            ax_auc.annotate(
                f"first alert raised in week {int(first['reported_week'])},\n"
                f"when the labels of week {int(first['week'])} arrived",
                xy=(first["week"], first["roc_auc"]),
                xytext=(0.55, 0.62),
                textcoords="axes fraction",
                fontsize=8,
                color=_ALERT,
                arrowprops={"arrowstyle": "->", "color": _ALERT},
            )
    if "roc_auc" in reference:
        ax_auc.axhline(reference["roc_auc"], color="#555555", linewidth=1, label="reference")
        limit = reference["roc_auc"] - result.thresholds.roc_auc_drop
        ax_auc.axhline(
            limit,
            color=_ALERT,
            linestyle=":",
            label=f"alert threshold ({limit:.3f})",
        )
    if "cost_per_customer_eur" in reference:
        ax_cost.axhline(
            reference["cost_per_customer_eur"], color="#555555", linewidth=1, label="reference"
        )
    ax_auc.set_ylabel("ROC AUC\n(0.5 = guessing)")
    ax_auc.set_title(
        title or "Performance per week of customers, known once their labels arrive", fontsize=10
    )
    ax_cost.set_ylabel("cost per customer\n(EUR)")
    ax_cost.set_xlabel("production week of the customers")
    ax_auc.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    ax_cost.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    if fig is not None:
        fig.tight_layout()
        return fig
    return ax_auc.figure


def dashboard(
    result: StreamResult, *, drift_start: int | None = None, title: str | None = None
) -> Any:
    """The monitoring dashboard: the drift heatmap above, performance and cost below.

    Introduced in notebook 09 (and its slides). The three panels share the week axis. Returns
    a new figure.
    """
    result = _check_result(result)
    n_rows = len(result.values("psi"))
    heat = 0.3 * n_rows + 0.8
    fig = _course_figure(12.0, heat + 5.4)
    grid = fig.add_gridspec(
        3, 2, height_ratios=[heat, 2.3, 1.7], width_ratios=[1.0, 0.22], wspace=0.02
    )
    ax_heat = fig.add_subplot(grid[0, 0])
    cax = fig.add_subplot(grid[0, 1], label="<colorbar>")
    ax_auc = fig.add_subplot(grid[1, 0], sharex=ax_heat)
    ax_cost = fig.add_subplot(grid[2, 0], sharex=ax_heat)
    drift_heatmap(result, ax_heat, drift_start=drift_start, cax=cax)
    performance_figure(result, (ax_auc, ax_cost), drift_start=drift_start)
    ax_heat.set_xlabel("")
    ax_auc.tick_params(labelbottom=False)
    # the colour bar takes a thin slice of its column; the rest is room for the legends
    box = cax.get_position()
    cax.set_position((box.x0 + 0.01, box.y0, 0.018, box.height))
    fig.suptitle(title or "Monitoring dashboard", fontsize=12, fontweight="bold")
    fig.subplots_adjust(left=0.2, right=0.98, top=0.9, bottom=0.07, hspace=0.4)
    box = cax.get_position()
    cax.set_position((ax_heat.get_position().x1 + 0.01, box.y0, 0.015, box.height))
    return fig


def distribution_figure(
    reference: pd.Series,
    batch: pd.Series,
    *,
    title: str | None = None,
    unit: str = "",
    bins: int = PSI_BINS,
) -> Any:
    """Compare one column's reference and batch shares, bin by bin, as the PSI sees them.

    Introduced in notebook 09. Bars: the share of rows in each PSI bin (the reference's deciles,
    or the levels of a categorical column), reference and batch side by side; the title gives
    the PSI and the test's p-value. Returns a new figure.
    """
    ref = _as_series(reference, "reference")
    cur = _as_series(batch, "batch")
    name = str(ref.name or "value")
    if _is_numeric(ref):
        edges = psi_edges(ref, bins)
        e, a = psi_shares(ref, edges), psi_shares(cur, edges)
        bounds = [-math.inf, *edges.tolist(), math.inf]
        labels = []
        for low, high in zip(bounds[:-1], bounds[1:], strict=True):
            if math.isinf(low):
                labels.append(f"<= {high:.4g}")
            elif math.isinf(high):
                labels.append(f"> {low:.4g}")
            else:
                labels.append(f"{low:.4g}-{high:.4g}")
        test = ks_test(ref, cur)
        xlabel = f"{name}: bin of the reference's deciles" + (f" ({unit})" if unit else "")
    else:
        r, c = _level_counts(ref, "reference"), _level_counts(cur, "batch")
        e, a = _category_shares(r, c)
        labels = sorted(set(r.index) | set(c.index))
        test = chi2_test(ref, cur)
        xlabel = f"{name}: level"
    value = psi_from_shares(e, a)
    fig = _course_figure(11.0, 3.6)
    ax = fig.subplots()
    x = np.arange(len(labels))
    ax.bar(x - 0.2, 100 * e, width=0.4, color="#9ab7d3", label="reference")
    ax.bar(x + 0.2, 100 * a, width=0.4, color="#d55e00", label="batch")
    ax.set_xticks(x, labels, fontsize=8, rotation=30 if len(labels) > 5 else 0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of rows (%)")
    test_name = "KS" if test.test == "ks" else "chi-squared"
    ax.set_title(
        title
        or f"{name}: PSI {value:.3f} ({psi_level(value)}), {test_name} p-value {test.pvalue:.2g}",
        fontsize=10,
    )
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def batch_size_figure(
    deciders: pd.DataFrame, *, reference_n: int = 8000, title: str | None = None
) -> Any:
    """Draw which half of the drift rule decides, over batch sizes (notebook 09).

    Left: the smallest shift (in standard deviations) that the test alone and the PSI alone
    detect in half the batches, from :func:`drift_rule_deciders`; the rule needs the larger of
    the two. Right: the PSI of unchanged batches against :func:`chance_psi` (ten bins, a
    reference of ``reference_n`` rows) and the 0.1 threshold. Returns a new figure.
    """
    fig = _course_figure(11.0, 3.8)
    ax_shift, ax_psi = fig.subplots(1, 2)
    n = deciders["n"].to_numpy(dtype=float)
    ax_shift.plot(n, deciders["test_detects"], "o-", color=_LINE, label="KS test alone")
    ax_shift.plot(n, deciders["psi_detects"], "s-", color="#d55e00", label="PSI >= 0.1 alone")
    ax_shift.plot(
        n, deciders["rule_detects"], ":", color="black", linewidth=2, label="the rule (both)"
    )
    ax_shift.set_xscale("log")
    ax_shift.set_xlabel("rows per batch (log scale)")
    ax_shift.set_ylabel("shift detected in half\nthe batches (SD units)")
    ax_shift.set_title("Which condition decides the drift alert", fontsize=10)
    ax_shift.legend(fontsize=8)
    ax_psi.plot(n, deciders["chance_psi"], "o-", color=_LINE, label="measured, no change")
    formula = [chance_psi(v, PSI_BINS, reference_n) for v in n]
    ax_psi.plot(n, formula, "--", color="#555555", label="(bins - 1)(1/n + 1/N), ten bins")
    ax_psi.axhline(PSI_MODERATE, color=_ALERT, linestyle=":", label="PSI threshold 0.1")
    ax_psi.set_xscale("log")
    ax_psi.set_yscale("log")
    ax_psi.set_xlabel("rows per batch (log scale)")
    ax_psi.set_ylabel("mean PSI of unchanged\nbatches (log scale)")
    ax_psi.set_title("PSI by chance alone falls as 1/n", fontsize=10)
    ax_psi.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
