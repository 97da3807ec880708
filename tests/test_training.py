"""Tests of utils.training: config checks, pipeline, splits, evaluation, reproducible training."""

from __future__ import annotations

import dataclasses
import json
import math
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import Pipeline

from utils.datasets import (
    CHURN_CATEGORICAL,
    CHURN_FEATURES,
    CHURN_NUMERIC,
    ChurnCosts,
    fingerprint,
    load_builtin,
    make_churn,
)
from utils.training import (
    MODELS,
    TrainConfig,
    TrainResult,
    build_pipeline,
    evaluate,
    split,
    split_by_time,
    train,
)


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return make_churn()


@pytest.fixture(scope="module")
def small_churn() -> pd.DataFrame:
    return make_churn(n_per_period=250, periods=4, seed=3)


@pytest.fixture(scope="module")
def fitted(small_churn: pd.DataFrame) -> Pipeline:
    pipe = build_pipeline(TrainConfig())
    return pipe.fit(small_churn[list(CHURN_FEATURES)], small_churn["churned"])


# --- TrainConfig ------------------------------------------------------------------------------


def test_config_defaults() -> None:
    config = TrainConfig()
    assert config.model == "logistic_regression"
    assert config.params == {} and config.seed == 0 and config.test_size == 0.25
    assert config.numeric == CHURN_NUMERIC and config.categorical == CHURN_CATEGORICAL
    assert config.features == CHURN_FEATURES
    assert set(MODELS) == {"dummy", "logistic_regression", "random_forest", "gradient_boosting"}


def test_config_is_frozen_and_copies_params() -> None:
    params = {"C": 0.5}
    config = TrainConfig(params=params)
    params["C"] = 99.0
    assert config.params == {"C": 0.5}
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 3  # type: ignore[misc]


def test_config_equality_and_hash() -> None:
    a = TrainConfig(model="random_forest", params={"max_depth": 4, "n_estimators": 50})
    b = TrainConfig(model="random_forest", params={"n_estimators": 50, "max_depth": 4})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != dataclasses.replace(a, seed=1)


def test_config_unknown_model_lists_valid_models() -> None:
    with pytest.raises(ValueError, match="Valid models: dummy, logistic_regression, random_forest"):
        TrainConfig(model="svm")


def test_config_unknown_hyperparameter_names_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"\['n_trees'\] for RandomForestClassifier.*n_estimators"):
        TrainConfig(model="random_forest", params={"n_trees": 10})


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(model=3), TypeError, "model must be a string"),
        (dict(params=[("C", 1.0)]), TypeError, "params must be a dict"),
        (dict(params={"random_state": 1}), ValueError, "TrainConfig.seed sets it"),
        (dict(params={"C": [1.0]}), TypeError, "must be a str, bool, int, float or None"),
        (dict(seed=-1), ValueError, "seed must be between 0"),
        (dict(seed=2**32), ValueError, "seed must be between 0"),
        (dict(seed=1.0), TypeError, "seed must be an integer"),
        (dict(seed=True), TypeError, "seed must be an integer"),
        (dict(test_size=0), ValueError, "strictly between 0 and 1"),
        (dict(test_size=1.0), ValueError, "strictly between 0 and 1"),
        (dict(test_size=-0.2), ValueError, "strictly between 0 and 1"),
        (dict(test_size=float("nan")), ValueError, "strictly between 0 and 1"),
        (dict(test_size="0.2"), TypeError, "test_size must be a number"),
        (dict(numeric="tenure_months"), TypeError, "numeric must be a list or tuple"),
        (dict(numeric=(1, 2)), TypeError, "numeric must hold column names"),
        (dict(numeric=("a", "a")), ValueError, "numeric lists a column twice"),
        (dict(numeric=("a",), categorical=("a",)), ValueError, "both numeric and categorical"),
        (dict(numeric=(), categorical=()), ValueError, "at least one feature"),
    ],
)
def test_config_rejects_bad_values(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        TrainConfig(**kwargs)


def test_config_accepts_lists_and_numpy_ints() -> None:
    config = TrainConfig(numeric=["a", "b"], categorical=[], seed=np.int64(4), test_size=0.3)
    assert config.numeric == ("a", "b") and config.categorical == ()
    assert config.seed == 4 and type(config.seed) is int


def test_config_dict_round_trip() -> None:
    config = TrainConfig(model="random_forest", params={"max_depth": 6}, seed=2, test_size=0.2)
    data = json.loads(json.dumps(config.to_dict()))
    assert TrainConfig.from_dict(data) == config
    with pytest.raises(ValueError, match=r"Unknown TrainConfig field\(s\) \['learning_rate'\]"):
        TrainConfig.from_dict({**data, "learning_rate": 0.1})
    with pytest.raises(TypeError, match="expects a dict"):
        TrainConfig.from_dict([("model", "dummy")])  # type: ignore[arg-type]


def test_as_params_is_flat_and_complete() -> None:
    config = TrainConfig(model="random_forest", params={"max_depth": None, "bootstrap": True})
    flat = config.as_params()
    assert flat["model"] == "random_forest" and flat["seed"] == 0
    assert flat["test_size"] == 0.25
    assert flat["numeric"] == ",".join(CHURN_NUMERIC)
    assert flat["param.n_estimators"] == 100  # course default, logged too
    assert flat["param.max_depth"] == "None" and flat["param.bootstrap"] == "True"
    assert flat["param.random_state"] == 0
    assert all(type(v) in (str, int, float) for v in flat.values())


def test_estimator_params_merge_defaults_user_values_and_seed() -> None:
    config = TrainConfig(model="random_forest", params={"n_estimators": 7}, seed=9)
    assert config.estimator_params() == {
        "n_estimators": 7,
        "min_samples_leaf": 5,
        "n_jobs": 1,
        "random_state": 9,
    }


# --- build_pipeline ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "cls"),
    [
        ("dummy", DummyClassifier),
        ("logistic_regression", LogisticRegression),
        ("random_forest", RandomForestClassifier),
        ("gradient_boosting", HistGradientBoostingClassifier),
    ],
)
def test_build_pipeline_uses_the_chosen_estimator(model: str, cls: type) -> None:
    pipe = build_pipeline(TrainConfig(model=model, seed=11))
    assert isinstance(pipe, Pipeline)
    assert [name for name, _ in pipe.steps] == ["preprocess", "model"]
    estimator = pipe.named_steps["model"]
    assert type(estimator) is cls
    if "random_state" in estimator.get_params():
        assert estimator.get_params()["random_state"] == 11


def test_build_pipeline_passes_hyperparameters() -> None:
    pipe = build_pipeline(TrainConfig(model="logistic_regression", params={"C": 0.1}))
    assert pipe.named_steps["model"].C == 0.1
    assert pipe.named_steps["model"].max_iter == 1000


def test_pipeline_ignores_unknown_categories(fitted: Pipeline, small_churn: pd.DataFrame) -> None:
    rows = small_churn[list(CHURN_FEATURES)].head(3).copy()
    rows["plan"] = pd.Series(["family", "family", "family"], index=rows.index)
    proba = fitted.predict_proba(rows)
    assert proba.shape == (3, 2) and np.isfinite(proba).all()


def test_build_pipeline_with_explicit_columns() -> None:
    X, y = load_builtin("breast_cancer")
    pipe = build_pipeline(TrainConfig(), numeric=list(X.columns), categorical=[])
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.95
    with pytest.raises(ValueError, match="at least one"):
        build_pipeline(TrainConfig(), numeric=[], categorical=[])
    with pytest.raises(TypeError, match="TrainConfig"):
        build_pipeline({"model": "dummy"})  # type: ignore[arg-type]


# --- splits -----------------------------------------------------------------------------------


def test_split_is_stratified_seeded_and_disjoint(churn: pd.DataFrame) -> None:
    config = TrainConfig(seed=5, test_size=0.2)
    train_df, test_df = split(churn, config)
    assert len(train_df) == 9600 and len(test_df) == 2400
    assert set(train_df.index).isdisjoint(test_df.index)
    assert abs(train_df["churned"].mean() - test_df["churned"].mean()) < 0.001
    again_train, _ = split(churn, config)
    assert again_train.index.equals(train_df.index)
    other_train, _ = split(churn, TrainConfig(seed=6, test_size=0.2))
    assert not other_train.index.equals(train_df.index)


@pytest.mark.parametrize(
    ("frame", "error", "message"),
    [
        (pd.DataFrame({"x": [1, 2, 3, 4]}), ValueError, r"lacks column\(s\) \['churned'\]"),
        (pd.DataFrame({"churned": [1, 1, 1, 1]}), ValueError, "at least 2 rows of each"),
        (pd.DataFrame({"churned": [1, 0, 0, 0]}), ValueError, "at least 2 rows of each"),
        (pd.DataFrame({"churned": [1, 0, None, 1, 0]}), ValueError, "missing values"),
        (np.zeros((4, 2)), TypeError, "expects a pandas DataFrame"),
    ],
)
def test_split_rejects_bad_data(frame: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        split(frame, TrainConfig())  # type: ignore[arg-type]


def test_split_rejects_bad_config(churn: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        split(churn, 0.25)  # type: ignore[arg-type]


def test_split_by_time(small_churn: pd.DataFrame) -> None:
    past, future = split_by_time(small_churn, 2)
    assert set(past["period"]) == {0, 1} and set(future["period"]) == {2, 3}
    past, future = split_by_time(small_churn, 1, test_periods=2)
    assert set(past["period"]) == {0} and set(future["period"]) == {1, 2}
    assert len(future) == 500


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((4,), ValueError, "empty split"),
        ((0,), ValueError, "train_periods must be >= 1"),
        ((2, 0), ValueError, "test_periods must be >= 1"),
        ((1.5,), TypeError, "train_periods must be an integer"),
    ],
)
def test_split_by_time_rejects_bad_arguments(
    small_churn: pd.DataFrame, args: tuple, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        split_by_time(small_churn, *args)


def test_split_by_time_needs_an_integer_period_column(small_churn: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="lacks column"):
        split_by_time(small_churn.drop(columns="period"), 2)
    with pytest.raises(TypeError, match="must hold integers"):
        split_by_time(small_churn.assign(period=small_churn["period"] * 1.0), 2)


# --- evaluate ---------------------------------------------------------------------------------


def test_evaluate_matches_sklearn(fitted: Pipeline, small_churn: pd.DataFrame) -> None:
    X, y = small_churn[list(CHURN_FEATURES)], small_churn["churned"]
    costs = ChurnCosts()
    metrics = evaluate(fitted, X, y, costs=costs, threshold=0.4)
    predicted = (fitted.predict_proba(X)[:, 1] >= 0.4).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, predicted).ravel()
    assert (metrics["tp"], metrics["fp"], metrics["fn"], metrics["tn"]) == (tp, fp, fn, tn)
    assert metrics["n"] == len(y) == tp + fp + fn + tn
    assert metrics["accuracy"] == pytest.approx((tp + tn) / len(y))
    assert metrics["precision"] == pytest.approx(tp / (tp + fp))
    assert metrics["recall"] == pytest.approx(tp / (tp + fn))
    assert metrics["positive_rate"] == pytest.approx(y.mean())
    expected_cost = 20.0 * (tp + fp) + 200.0 * (fn + 0.7 * tp)
    assert metrics["business_cost_eur"] == pytest.approx(expected_cost)
    assert metrics["cost_per_customer_eur"] == pytest.approx(expected_cost / len(y))
    assert 0.75 < metrics["roc_auc"] < 0.95
    assert all(type(v) is float for v in metrics.values())


@pytest.mark.parametrize("threshold", [0.0, 0.2, 0.4, 0.5, 0.7, 0.95, 1.0])
@pytest.mark.parametrize("rows", ["all", "stayers", "churners"])
def test_evaluate_rates_are_scikit_learns_floats(
    fitted: Pipeline, small_churn: pd.DataFrame, threshold: float, rows: str
) -> None:
    """evaluate computes the rates from its confusion counts: the very floats scikit-learn's
    metric functions give, also where nothing is predicted positive or one class is missing."""
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    data = {
        "all": small_churn,
        "stayers": small_churn[small_churn["churned"] == 0],
        "churners": small_churn[small_churn["churned"] == 1],
    }[rows]
    X, y = data[list(CHURN_FEATURES)], data["churned"]
    metrics = evaluate(fitted, X, y, threshold=threshold)
    predicted = fitted.predict_proba(X)[:, 1] >= threshold
    actual = y.to_numpy() == 1
    expected = {
        "accuracy": accuracy_score(actual, predicted),
        "precision": precision_score(actual, predicted, zero_division=0),
        "recall": recall_score(actual, predicted, zero_division=0),
        "f1": f1_score(actual, predicted, zero_division=0),
    }
    assert {k: metrics[k] for k in expected} == {k: float(v) for k, v in expected.items()}


def test_evaluate_threshold_extremes(fitted: Pipeline, small_churn: pd.DataFrame) -> None:
    X, y = small_churn[list(CHURN_FEATURES)], small_churn["churned"]
    everyone = evaluate(fitted, X, y, threshold=0.0)
    assert everyone["recall"] == 1.0 and everyone["tn"] == 0 and everyone["fn"] == 0
    nobody = evaluate(fitted, X, y, threshold=1.0)
    assert nobody["tp"] == 0 and nobody["precision"] == 0.0 and nobody["recall"] == 0.0
    assert "business_cost_eur" not in nobody


def test_evaluate_single_class_gives_nan_auc(fitted: Pipeline, small_churn: pd.DataFrame) -> None:
    stayers = small_churn[small_churn["churned"] == 0]
    metrics = evaluate(fitted, stayers[list(CHURN_FEATURES)], stayers["churned"])
    assert math.isnan(metrics["roc_auc"])
    assert metrics["tp"] == 0 and metrics["fn"] == 0


def test_evaluate_rejects_bad_input(fitted: Pipeline, small_churn: pd.DataFrame) -> None:
    X, y = small_churn[list(CHURN_FEATURES)], small_churn["churned"]
    with pytest.raises(TypeError, match="predict_proba"):
        evaluate(LinearRegression(), X, y)
    with pytest.raises(ValueError, match="X has 1000 rows but y has 999"):
        evaluate(fitted, X, y.iloc[:-1])
    with pytest.raises(ValueError, match="zero rows"):
        evaluate(fitted, X.iloc[:0], y.iloc[:0])
    with pytest.raises(ValueError, match="threshold must be in"):
        evaluate(fitted, X, y, threshold=1.5)
    with pytest.raises(TypeError, match="threshold must be a number"):
        evaluate(fitted, X, y, threshold="0.5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="costs must be a ChurnCosts"):
        evaluate(fitted, X, y, costs={"offer_cost_eur": 1})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"label\(s\) \[2\]"):
        evaluate(fitted, X, y.replace({1: 2}))
    with pytest.raises(ValueError, match="one-dimensional"):
        evaluate(fitted, X, np.zeros((len(X), 2)))


def test_evaluate_rejects_an_unfitted_model(small_churn: pd.DataFrame) -> None:
    X, y = small_churn[list(CHURN_FEATURES)], small_churn["churned"]
    with pytest.raises(ValueError, match="not fitted"):
        evaluate(build_pipeline(TrainConfig()), X, y)


def test_evaluate_rejects_multiclass_models() -> None:
    X, y = load_builtin("iris")
    model = LogisticRegression(max_iter=500).fit(X, y)
    with pytest.raises(ValueError, match=r"binary classifiers.*\[0, 1, 2\]"):
        evaluate(model, X, y)


# --- train ------------------------------------------------------------------------------------


def test_train_default_config_is_good(churn: pd.DataFrame) -> None:
    started = time.perf_counter()
    result = train(TrainConfig(), churn)
    elapsed = time.perf_counter() - started  # a bound for fit_seconds below; speed is benched
    assert isinstance(result, TrainResult)
    assert result.model is result.pipeline
    assert result.n_train == 9000 and result.n_test == 3000
    assert 0.80 <= result.metrics["roc_auc"] <= 0.90
    assert result.data_fingerprint == fingerprint(churn)
    train_df, _ = split(churn, TrainConfig())
    assert result.train_fingerprint == fingerprint(train_df)
    assert result.metrics["business_cost_eur"] > 0  # churn target: ChurnCosts by default
    assert 0 < result.fit_seconds < elapsed


def test_models_beat_the_dummy_baseline(churn: pd.DataFrame) -> None:
    costs = ChurnCosts()
    threshold = costs.break_even_probability()
    dummy = train(TrainConfig(model="dummy"), churn, threshold=threshold).metrics
    boosted = train(TrainConfig(model="gradient_boosting"), churn, threshold=threshold).metrics
    assert dummy["roc_auc"] == 0.5
    assert boosted["roc_auc"] > 0.8
    assert boosted["business_cost_eur"] < dummy["business_cost_eur"]


def test_training_is_deterministic(small_churn: pd.DataFrame) -> None:
    config = TrainConfig(model="random_forest", params={"n_estimators": 30})
    first, second = train(config, small_churn), train(config, small_churn)
    assert first.metrics == second.metrics
    assert first.train_metrics == second.train_metrics
    assert first.train_fingerprint == second.train_fingerprint
    X = small_churn[list(CHURN_FEATURES)]
    np.testing.assert_array_equal(first.pipeline.predict_proba(X), second.pipeline.predict_proba(X))
    other = train(dataclasses.replace(config, seed=1), small_churn)
    assert other.metrics != first.metrics
    assert other.train_fingerprint != first.train_fingerprint


def test_thread_count_does_not_change_results(small_churn: pd.DataFrame) -> None:
    config = TrainConfig(model="gradient_boosting", params={"max_iter": 30})
    one = train(config, small_churn, threads=1)
    default = train(config, small_churn, threads=None)
    assert one.metrics == default.metrics
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        train(config, small_churn, threads=0)


def test_train_on_a_builtin_dataset_skips_business_metrics() -> None:
    X, y = load_builtin("breast_cancer")
    config = TrainConfig(numeric=tuple(X.columns), categorical=())
    result = train(config, X.assign(target=y), target="target")
    assert result.metrics["roc_auc"] > 0.97
    assert "business_cost_eur" not in result.metrics
    assert result.n_test == 143


def test_train_rejects_bad_input(small_churn: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['plan'\]"):
        train(TrainConfig(), small_churn.drop(columns="plan"))
    with pytest.raises(ValueError, match="also listed as a feature"):
        train(TrainConfig(), small_churn, target="plan")
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train("random_forest", small_churn)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expects a pandas DataFrame"):
        train(TrainConfig(), small_churn.to_numpy())  # type: ignore[arg-type]
