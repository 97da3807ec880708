"""Train and evaluate churn models reproducibly: one config in, one pipeline and its metrics out.

Notebook 03 (from DevOps to MLOps) shows why training code belongs in tested functions like
these; notebook 05 (experiment tracking) logs :meth:`TrainConfig.as_params` and
:attr:`TrainResult.metrics` to MLflow; later notebooks (registry, testing, continuous
delivery, monitoring, full cycle) reuse :func:`train` and :func:`evaluate`.

Everything random takes its seed from :class:`TrainConfig`, so the same config and data give
identical metrics, bit for bit.
"""

from __future__ import annotations

import inspect
import json
import math
import numbers
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from utils.datasets import CHURN_CATEGORICAL, CHURN_NUMERIC, CHURN_TARGET, ChurnCosts, fingerprint

__all__ = [
    "MODELS",
    "TrainConfig",
    "TrainResult",
    "build_pipeline",
    "evaluate",
    "split",
    "split_by_time",
    "train",
]

MODELS: dict[str, type] = {
    "dummy": DummyClassifier,
    "logistic_regression": LogisticRegression,
    "random_forest": RandomForestClassifier,
    "gradient_boosting": HistGradientBoostingClassifier,
}
"""Model names accepted by :class:`TrainConfig` and the scikit-learn estimator each builds."""

# Settings the course changes from scikit-learn's defaults (a config's params override them).
_DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "dummy": {"strategy": "prior"},
    "logistic_regression": {"max_iter": 1000},
    "random_forest": {"n_estimators": 100, "min_samples_leaf": 5, "n_jobs": 1},
    "gradient_boosting": {"max_iter": 100, "early_stopping": False},
}

_PARAM_TYPES = (str, bool, int, float, type(None))


def _valid_params(model: str) -> list[str]:
    return sorted(p for p in MODELS[model]().get_params() if p != "random_state")


def _check_names(value: object, name: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list or tuple of column names, got {value!r}.")
    names = tuple(value)
    bad = [c for c in names if not isinstance(c, str)]
    if bad:
        raise TypeError(f"{name} must hold column names (str), got {bad!r}.")
    if len(set(names)) != len(names):
        raise ValueError(f"{name} lists a column twice: {list(names)}.")
    return names


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run, in one immutable, loggable object.

    Introduced in notebook 05 (experiment tracking), which logs it to MLflow.

    Attributes:
        model: one of :data:`MODELS`: ``"dummy"`` (predicts the base rate, a baseline),
            ``"logistic_regression"``, ``"random_forest"`` or ``"gradient_boosting"``
            (scikit-learn's ``HistGradientBoostingClassifier``).
        params: hyperparameters passed to the estimator; they override the course defaults
            (e.g. ``{"n_estimators": 200}``). ``random_state`` is not allowed here: use ``seed``.
        seed: the one seed for the train/test split and the estimator (int >= 0).
        test_size: share of rows held out for testing, strictly between 0 and 1.
        numeric: numeric feature columns (scaled); default the churn scenario's.
        categorical: categorical feature columns (one-hot encoded); default the churn
            scenario's.

    Raises:
        ValueError: unknown model (the message lists the valid ones), unknown hyperparameter
            (the message lists the estimator's valid ones), ``test_size`` outside (0, 1),
            negative seed, a column in both feature lists, no features at all.
        TypeError: a field has the wrong type.
    """

    model: str = "logistic_regression"
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    test_size: float = 0.25
    numeric: tuple[str, ...] = CHURN_NUMERIC
    categorical: tuple[str, ...] = CHURN_CATEGORICAL

    def __post_init__(self) -> None:
        if not isinstance(self.model, str):
            raise TypeError(f"model must be a string, one of {list(MODELS)}.")
        if self.model not in MODELS:
            raise ValueError(f"Unknown model {self.model!r}. Valid models: {', '.join(MODELS)}.")
        if not isinstance(self.params, Mapping):
            raise TypeError(f"params must be a dict of hyperparameters, got {self.params!r}.")
        params = dict(self.params)
        if "random_state" in params:
            raise ValueError(
                "Do not put random_state in params: TrainConfig.seed sets it for the estimator "
                "and the split."
            )
        valid = _valid_params(self.model)
        unknown = sorted(str(k) for k in params if k not in valid)
        if unknown:
            raise ValueError(
                f"Unknown hyperparameter(s) {unknown} for {MODELS[self.model].__name__} "
                f"(model {self.model!r}). Valid: {', '.join(valid)}."
            )
        for key, value in params.items():
            if not isinstance(value, _PARAM_TYPES):
                raise TypeError(
                    f"Hyperparameter {key}={value!r} must be a str, bool, int, float or None "
                    "so that it can be logged and compared."
                )
        object.__setattr__(self, "params", params)  # a private copy: later edits don't leak in
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral):
            raise TypeError(f"seed must be an integer, got {self.seed!r}.")
        if self.seed < 0 or self.seed >= 2**32:
            raise ValueError(f"seed must be between 0 and 2**32 - 1, got {self.seed}.")
        object.__setattr__(self, "seed", int(self.seed))
        if isinstance(self.test_size, bool) or not isinstance(self.test_size, numbers.Real):
            raise TypeError(f"test_size must be a number between 0 and 1, got {self.test_size!r}.")
        if not (0.0 < float(self.test_size) < 1.0):
            raise ValueError(
                f"test_size is the share of rows held out, strictly between 0 and 1 "
                f"(e.g. 0.25); got {self.test_size}."
            )
        object.__setattr__(self, "test_size", float(self.test_size))
        numeric = _check_names(self.numeric, "numeric")
        categorical = _check_names(self.categorical, "categorical")
        both = sorted(set(numeric) & set(categorical))
        if both:
            raise ValueError(f"Columns {both} are listed as both numeric and categorical.")
        if not numeric and not categorical:
            raise ValueError(
                "A model needs at least one feature: numeric and categorical are empty."
            )
        object.__setattr__(self, "numeric", numeric)
        object.__setattr__(self, "categorical", categorical)

    def __hash__(self) -> int:  # params is a dict, so hash the JSON form instead
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @property
    def features(self) -> tuple[str, ...]:
        """All feature columns: numeric, then categorical."""
        return self.numeric + self.categorical

    def estimator_params(self) -> dict[str, Any]:
        """The hyperparameters the estimator gets: course defaults, then ``params``, then
        ``random_state=seed`` where the estimator has one."""
        merged = {**_DEFAULT_PARAMS[self.model], **self.params}
        if "random_state" in MODELS[self.model]().get_params():
            merged["random_state"] = self.seed
        return merged

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict that :meth:`from_dict` turns back into an equal config."""
        return {
            "model": self.model,
            "params": dict(self.params),
            "seed": self.seed,
            "test_size": self.test_size,
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build a config from :meth:`to_dict` output (e.g. read from a JSON file).

        Raises:
            ValueError: for keys that are not fields of TrainConfig.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"from_dict expects a dict, got {type(data).__name__}.")
        fields = set(inspect.signature(cls).parameters)
        unknown = sorted(set(data) - fields)
        if unknown:
            raise ValueError(f"Unknown TrainConfig field(s) {unknown}; valid: {sorted(fields)}.")
        data = dict(data)
        for key in ("numeric", "categorical"):
            if key in data and isinstance(data[key], list):
                data[key] = tuple(data[key])
        return cls(**data)

    def as_params(self) -> dict[str, str | int | float]:
        """Flat parameters for ``mlflow.log_params``: model, seed, test_size, the feature lists
        (comma-separated) and every estimator hyperparameter (see :meth:`estimator_params`)
        as ``param.<name>``. Values are str, int or float (None and bools become strings)."""
        flat: dict[str, str | int | float] = {
            "model": self.model,
            "seed": self.seed,
            "test_size": self.test_size,
            "numeric": ",".join(self.numeric),
            "categorical": ",".join(self.categorical),
        }
        for key, value in sorted(self.estimator_params().items()):
            if isinstance(value, bool) or value is None:
                value = str(value)
            flat[f"param.{key}"] = value
        return flat


@dataclass
class TrainResult:
    """What :func:`train` returns. Introduced and logged in notebook 05 (experiment tracking).

    Attributes:
        pipeline: the fitted scikit-learn Pipeline (preprocessing + estimator).
        metrics: test-set metrics from :func:`evaluate`.
        train_metrics: the same metrics on the training rows (compare to spot overfitting).
        config: the config used.
        n_train, n_test: rows in the training and test split.
        data_fingerprint: :func:`utils.datasets.fingerprint` of the whole frame given to train.
        train_fingerprint: fingerprint of the training split alone.
        fit_seconds: wall-clock time of ``pipeline.fit``.
    """

    pipeline: Pipeline
    metrics: dict[str, float]
    train_metrics: dict[str, float]
    config: TrainConfig
    n_train: int
    n_test: int
    data_fingerprint: str
    train_fingerprint: str
    fit_seconds: float

    @property
    def model(self) -> Pipeline:
        """The fitted pipeline (an alias of ``pipeline``)."""
        return self.pipeline


def _check_config(config: object) -> TrainConfig:
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}.")
    return config


def build_pipeline(
    config: TrainConfig,
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
) -> Pipeline:
    """Build the (unfitted) model pipeline: scale numeric columns, one-hot encode categorical
    ones (unknown categories at prediction time are ignored), then the estimator.

    Introduced in notebook 05 (experiment tracking).

    Args:
        config: chooses the estimator, its hyperparameters and ``random_state=config.seed``.
        numeric, categorical: feature columns; default ``config.numeric`` and
            ``config.categorical``.

    Returns:
        ``Pipeline([("preprocess", ColumnTransformer(...)), ("model", estimator)])``.
    """
    config = _check_config(config)
    numeric = config.numeric if numeric is None else _check_names(numeric, "numeric")
    categorical = (
        config.categorical if categorical is None else _check_names(categorical, "categorical")
    )
    if not numeric and not categorical:
        raise ValueError("build_pipeline needs at least one numeric or categorical column.")
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("numeric", StandardScaler(), list(numeric)))
    if categorical:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        transformers.append(("categorical", encoder, list(categorical)))
    preprocess = ColumnTransformer(transformers, remainder="drop")
    estimator = MODELS[config.model](**config.estimator_params())
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


def _check_frame(df: object, columns: Sequence[str], what: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} expects a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what}: the frame lacks column(s) {missing}; it has {list(map(str, df.columns))}."
        )
    return df


def split(
    df: pd.DataFrame, config: TrainConfig, target: str = CHURN_TARGET
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows at random into a training and a test frame, stratified by the target.

    Notebook 01 (linear coursework) splits by hand; this is the seeded, tested version that
    notebook 05 uses. ``config.seed`` fixes which rows land where; ``config.test_size`` is the
    test share. Both frames keep all columns and the original index labels.

    Raises:
        TypeError: ``df`` is not a DataFrame or ``config`` not a TrainConfig.
        ValueError: the target column is missing, has missing values, or a class has fewer
            than 2 rows (stratification needs at least 2).
    """
    config = _check_config(config)
    df = _check_frame(df, [target], "split")
    y = df[target]
    if y.isna().any():
        raise ValueError(f"The target column {target!r} has missing values; drop those rows.")
    counts = y.value_counts()
    if len(counts) < 2 or counts.min() < 2:
        raise ValueError(
            f"split stratifies by {target!r} and needs at least 2 rows of each of at least "
            f"2 classes; class counts are {counts.to_dict()}."
        )
    train_df, test_df = train_test_split(
        df, test_size=config.test_size, random_state=config.seed, stratify=y
    )
    return train_df, test_df


def split_by_time(
    df: pd.DataFrame,
    train_periods: int,
    test_periods: int | None = None,
    period_column: str = "period",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by time: train on the first periods, test on the ones after.

    Introduced in notebook 09 (monitoring and drift): production models are trained on the past
    and used on the future, so a random split flatters them when the data drift.

    Args:
        df: a frame with an integer period column (as from ``make_churn``).
        train_periods: rows with ``period < train_periods`` go to the training frame.
        test_periods: how many periods after those form the test frame (default: all the rest).
        period_column: name of the period column.

    Raises:
        ValueError: a split would be empty, or the arguments are out of range.
    """
    df = _check_frame(df, [period_column], "split_by_time")
    for name, value in (("train_periods", train_periods), ("test_periods", test_periods)):
        if value is None and name == "test_periods":
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {value!r}.")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}.")
    period = df[period_column]
    if not pd.api.types.is_integer_dtype(period):
        raise TypeError(f"Column {period_column!r} must hold integers, has dtype {period.dtype}.")
    train_mask = period < train_periods
    test_mask = period >= train_periods
    if test_periods is not None:
        test_mask &= period < train_periods + test_periods
    if not train_mask.any() or not test_mask.any():
        raise ValueError(
            f"split_by_time(train_periods={train_periods}, test_periods={test_periods}) leaves "
            f"an empty split; the frame has periods {int(period.min())}..{int(period.max())}."
        )
    return df[train_mask], df[test_mask]


def evaluate(
    model: Any,
    X: pd.DataFrame,
    y: pd.Series | np.ndarray | Sequence[int],
    costs: ChurnCosts | None = None,
    threshold: float = 0.5,
) -> dict[str, float]:
    """Score a fitted binary classifier: quality metrics, confusion counts and business cost.

    Introduced in notebook 05; the business metrics are explained in notebook 04 (data phase).

    A row is predicted positive (churner) when the model's probability for the positive class
    (the larger label, e.g. 1) is at least ``threshold``.

    Returns:
        ``accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc`` (NaN when ``y`` holds one
        class only), ``threshold``, ``n``, ``positive_rate`` (share of actual positives),
        ``tp``, ``fp``, ``fn``, ``tn``; with ``costs`` also ``business_cost_eur`` (total,
        see :class:`~utils.datasets.ChurnCosts`) and ``cost_per_customer_eur``. All values are
        Python floats (ready for ``mlflow.log_metrics``). Precision is 0 when nothing is
        predicted positive.

    Raises:
        TypeError: the model has no ``predict_proba``, or ``costs`` is not a ChurnCosts.
        ValueError: X and y differ in length, are empty, y has more than two classes or
            labels the model was not trained on, or threshold is outside [0, 1].
    """
    if not hasattr(model, "predict_proba"):
        raise TypeError(
            f"evaluate needs a fitted classifier with predict_proba, got {type(model).__name__}."
        )
    if costs is not None and not isinstance(costs, ChurnCosts):
        raise TypeError(f"costs must be a ChurnCosts or None, got {type(costs).__name__}.")
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a number in [0, 1], got {threshold!r}.")
    if not (0.0 <= float(threshold) <= 1.0):
        raise ValueError(f"threshold must be in [0, 1], got {threshold}.")
    y_true = np.asarray(y)
    if y_true.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {y_true.shape}.")
    if len(X) != len(y_true):
        raise ValueError(f"X has {len(X)} rows but y has {len(y_true)}.")
    if len(y_true) == 0:
        raise ValueError("Cannot evaluate on zero rows.")
    try:
        classes = np.asarray(model.classes_)
    except AttributeError as exc:  # scikit-learn's NotFittedError is an AttributeError too
        raise ValueError(
            f"The {type(model).__name__} is not fitted (it has no classes_); fit it first."
        ) from exc
    if len(classes) != 2:
        raise ValueError(
            f"evaluate handles binary classifiers; the model knows classes {classes.tolist()}."
        )
    unknown = sorted(set(np.unique(y_true).tolist()) - set(classes.tolist()))
    if unknown:
        raise ValueError(
            f"y holds label(s) {unknown} the model was not trained on {classes.tolist()}."
        )
    positive = classes[1]
    proba = np.asarray(model.predict_proba(X))[:, 1]
    actual = y_true == positive
    predicted = proba >= float(threshold)
    tp = int(np.sum(actual & predicted))
    fp = int(np.sum(~actual & predicted))
    fn = int(np.sum(actual & ~predicted))
    tn = int(np.sum(~actual & ~predicted))
    both_classes = 0 < actual.sum() < len(actual)
    # From the confusion counts, by scikit-learn's formulas (accuracy_score, precision_score,
    # recall_score and f1_score with zero_division=0 give the same floats; a test compares
    # them): its functions validate their input again on every call, a third of the time of
    # notebook 10's seed sweep, which evaluates hundreds of times.
    metrics: dict[str, float] = {
        "accuracy": (tp + tn) / len(actual),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "roc_auc": float(roc_auc_score(actual, proba)) if both_classes else math.nan,
        "threshold": float(threshold),
        "n": float(len(actual)),
        "positive_rate": float(actual.mean()),
        "tp": float(tp),
        "fp": float(fp),
        "fn": float(fn),
        "tn": float(tn),
    }
    if costs is not None:
        total = costs.cost(tp, fp, fn, tn)
        metrics["business_cost_eur"] = total
        metrics["cost_per_customer_eur"] = total / len(actual)
    return metrics


def train(
    config: TrainConfig,
    df: pd.DataFrame,
    target: str = CHURN_TARGET,
    costs: ChurnCosts | None = None,
    threshold: float = 0.5,
    threads: int | None = 1,
) -> TrainResult:
    """Split, fit and evaluate in one call: the reproducible unit of a training run.

    Introduced in notebook 05 (experiment tracking), which logs its result.

    Args:
        config: model, hyperparameters, seed, test share and feature columns.
        df: the data, with the feature columns of ``config`` and the ``target`` column.
        target: label column (binary).
        costs: business costs for :func:`evaluate`; by default ``ChurnCosts()`` when the
            target is ``"churned"`` (the course scenario), else no business metrics.
        threshold: decision threshold for the confusion counts.
        threads: how many threads native code (OpenMP, BLAS) may use while fitting and
            scoring; ``None`` leaves the library defaults. The default 1 is the fastest on a
            busy 2-core laptop, where threads fight over cores; results are the same either way.

    Returns:
        A :class:`TrainResult`. The same config and data give identical metrics every time.

    Raises:
        TypeError, ValueError: from the checks of :func:`split` and :func:`evaluate`, or when
            feature columns are missing.
    """
    config = _check_config(config)
    df = _check_frame(df, list(config.features) + [target], "train")
    if target in config.features:
        raise ValueError(f"The target {target!r} is also listed as a feature.")
    if costs is None and target == CHURN_TARGET:
        costs = ChurnCosts()
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1
    ):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}.")
    train_df, test_df = split(df, config, target=target)
    features = list(config.features)
    pipeline = build_pipeline(config)
    with threadpool_limits(limits=None if threads is None else int(threads)):
        started = time.perf_counter()
        pipeline.fit(train_df[features], train_df[target])
        fit_seconds = time.perf_counter() - started
        metrics = evaluate(pipeline, test_df[features], test_df[target], costs, threshold)
        train_metrics = evaluate(pipeline, train_df[features], train_df[target], costs, threshold)
    return TrainResult(
        pipeline=pipeline,
        metrics=metrics,
        train_metrics=train_metrics,
        config=config,
        n_train=len(train_df),
        n_test=len(test_df),
        data_fingerprint=fingerprint(df),
        train_fingerprint=fingerprint(train_df),
        fit_seconds=fit_seconds,
    )
