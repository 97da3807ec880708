"""Tests of utils.datasets: built-in data, the churn simulator, business costs, fingerprints."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from utils.datasets import (
    BUILTIN_DATASETS,
    CHURN_CATEGORICAL,
    CHURN_CATEGORIES,
    CHURN_DATA_DICTIONARY,
    CHURN_FEATURES,
    CHURN_FREQUENCIES,
    CHURN_NUMERIC,
    CHURN_TARGET,
    ChurnCosts,
    churn_coefficients,
    churn_logit,
    describe_builtin,
    fingerprint,
    load_builtin,
    make_churn,
    period_bounds,
)

# Golden fingerprints, computed once under the locked versions (requirements.lock) with the
# fingerprint's version 2 (values hashed by pandas). If one of these fails, the data changed: a
# library update or a change to the generator. Do not just paste the new value: find out why.
GOLDEN_BREAST_CANCER_X = "b7310bf98ce4846e"
GOLDEN_BREAST_CANCER_Y = "1d1da010f306a756"
GOLDEN_IRIS_X = "9212816bb7de346a"
GOLDEN_CHURN_DEFAULT = "c19c7875b12b95fb"
GOLDEN_CHURN_DRIFT = "a01f660e02d3a9fc"
DRIFT_ARGS = dict(
    n_per_period=500,
    periods=12,
    freq="MS",
    seed=7,
    covariate_drift=0.5,
    concept_drift=0.25,
    seasonality=0.5,
    drift_start=4,
)

COLUMNS = ["customer_id", "timestamp", "period", *CHURN_FEATURES, CHURN_TARGET]


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return make_churn()


# --- built-in datasets ----------------------------------------------------------------------


def test_builtin_names() -> None:
    assert BUILTIN_DATASETS == ("breast_cancer", "wine", "iris", "diabetes", "digits")


@pytest.mark.parametrize(
    ("name", "shape", "n_classes"),
    [
        ("breast_cancer", (569, 30), 2),
        ("wine", (178, 13), 3),
        ("iris", (150, 4), 3),
        ("diabetes", (442, 10), None),
        ("digits", (1797, 64), 10),
    ],
)
def test_load_builtin_shapes(name: str, shape: tuple[int, int], n_classes: int | None) -> None:
    X, y = load_builtin(name)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X.shape == shape
    assert y.name == "target"
    assert len(y) == shape[0]
    assert X.index.equals(y.index)
    assert all(type(c) is str for c in X.columns)
    assert not X.isna().any().any()
    if n_classes is None:
        assert y.dtype.kind == "f"
    else:
        assert y.nunique() == n_classes
        assert y.dtype.kind == "i"


def test_load_builtin_default_is_breast_cancer() -> None:
    X, y = load_builtin()
    assert X.shape == (569, 30)
    assert "mean radius" in X.columns
    assert y.value_counts().to_dict() == {1: 357, 0: 212}


def test_load_builtin_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="Valid names: breast_cancer, wine"):
        load_builtin("titanic")


def test_load_builtin_rejects_non_string() -> None:
    with pytest.raises(TypeError, match="name must be a string"):
        load_builtin(3)  # type: ignore[arg-type]


def test_describe_builtin() -> None:
    info = describe_builtin("breast_cancer")
    assert info["n_rows"] == 569 and info["n_features"] == 30
    assert info["task"] == "binary classification"
    assert info["classes"] == {0: 212, 1: 357}
    assert "Street" in info["source"] and "1993" in info["source"]
    assert "malignant" in info["target"]
    diabetes = describe_builtin("diabetes")
    assert diabetes["task"] == "regression" and diabetes["classes"] == {}
    with pytest.raises(ValueError, match="Valid names"):
        describe_builtin("mnist")


# --- the churn scenario: shape, types, content ----------------------------------------------


def test_churn_constants_agree() -> None:
    assert CHURN_FEATURES == CHURN_NUMERIC + CHURN_CATEGORICAL
    assert set(CHURN_CATEGORIES) == set(CHURN_CATEGORICAL)
    assert CHURN_TARGET == "churned"
    assert list(CHURN_DATA_DICTIONARY) == COLUMNS
    assert 6 <= len(CHURN_FEATURES) <= 9


def test_churn_columns_and_dtypes(churn: pd.DataFrame) -> None:
    assert list(churn.columns) == COLUMNS
    assert churn.shape == (12_000, len(COLUMNS))
    assert churn.index.equals(pd.RangeIndex(12_000))
    assert churn["timestamp"].dtype == "datetime64[ns]"
    for col in ("period", "tenure_months", "support_calls", "late_payments", "churned"):
        assert churn[col].dtype == np.int64, col
    for col in ("monthly_charges", "usage_hours"):
        assert churn[col].dtype == np.float64, col
    for col in CHURN_CATEGORICAL:
        assert isinstance(churn[col].dtype, pd.CategoricalDtype), col
        assert tuple(churn[col].cat.categories) == CHURN_CATEGORIES[col]
    assert pd.api.types.is_string_dtype(churn["customer_id"])
    assert churn["customer_id"].is_unique
    assert churn["customer_id"].iloc[0] == "C0000001"
    assert not churn.isna().any().any()


def test_churn_values_are_plausible(churn: pd.DataFrame) -> None:
    assert set(churn["churned"].unique()) == {0, 1}
    assert 0.15 <= churn["churned"].mean() <= 0.30
    assert churn["tenure_months"].between(0, 72).all()
    assert churn["monthly_charges"].between(7.99, 80).all()
    assert (churn["usage_hours"] >= 0).all()
    assert (churn["support_calls"] >= 0).all() and (churn["late_payments"] >= 0).all()
    assert sorted(churn["period"].unique()) == list(range(12))
    assert (churn.groupby("period").size() == 1000).all()
    # every level of every category occurs
    for col in CHURN_CATEGORICAL:
        assert churn[col].value_counts().min() > 50, col


def test_churn_weekly_timestamps_lie_in_their_period(churn: pd.DataFrame) -> None:
    start = pd.Timestamp("2025-01-06")
    begin = start + pd.to_timedelta(7 * churn["period"], unit="D")
    assert (churn["timestamp"] >= begin).all()
    assert (churn["timestamp"] < begin + pd.Timedelta(days=7)).all()
    assert churn["timestamp"].is_monotonic_increasing


def test_churn_monthly_timestamps_lie_in_their_month() -> None:
    df = make_churn(n_per_period=50, periods=14, freq="MS", start="2025-01-01")
    expected = pd.Period("2025-01", freq="M") + df["period"].to_numpy()
    assert (df["timestamp"].dt.to_period("M").to_numpy() == expected).all()
    assert set(CHURN_FREQUENCIES) == {"W", "MS"}


def test_period_bounds_are_weeks_or_calendar_months() -> None:
    week = pd.Timestamp("2025-01-06")
    assert period_bounds(week, "W", 2) == (pd.Timestamp("2025-01-20"), pd.Timestamp("2025-01-27"))
    month = pd.Timestamp("2025-01-01")
    assert period_bounds(month, "MS", 1) == (pd.Timestamp("2025-02-01"), pd.Timestamp("2025-03-01"))
    df = make_churn(n_per_period=50, periods=3, freq="MS", start="2025-01-01")
    for k, rows in df.groupby("period"):
        begin, end = period_bounds(month, "MS", int(k))
        assert (rows["timestamp"] >= begin).all() and (rows["timestamp"] < end).all()


def test_churn_label_is_learnable_but_not_trivial(churn: pd.DataFrame) -> None:
    auc = roc_auc_score(churn[CHURN_TARGET], churn_logit(churn))
    assert 0.80 <= auc <= 0.90
    # directions of the documented rule
    by_contract = churn.groupby("contract", observed=True)["churned"].mean()
    assert by_contract["month-to-month"] > by_contract["one-year"] > by_contract["two-year"]
    assert (
        churn.loc[churn["support_calls"] >= 2, "churned"].mean()
        > churn.loc[churn["support_calls"] == 0, "churned"].mean()
    )
    # region has no effect by construction: its churn rates differ only by sampling noise
    by_region = churn.groupby("region", observed=True)["churned"].mean()
    assert by_region.max() - by_region.min() < 0.05


def test_churn_coefficients_old_new_and_mixed() -> None:
    old, new = churn_coefficients(0.0), churn_coefficients(1.0)
    assert old["charges_per_eur"] == pytest.approx(0.12)
    assert new["charges_per_eur"] == pytest.approx(0.30)
    assert new["contract_two_year"] == pytest.approx(old["contract_two_year"] / 2)
    half = churn_coefficients(0.5)
    assert half["usage_per_log"] == pytest.approx((old["usage_per_log"] + new["usage_per_log"]) / 2)
    assert churn_coefficients(7.0) == new and churn_coefficients(-1.0) == old
    assert churn_coefficients()["support_per_call"] == old["support_per_call"]
    with pytest.raises(TypeError, match="concept_weight must be a number"):
        churn_coefficients("new")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN"):
        churn_coefficients(float("nan"))


def test_churn_logit_follows_the_documented_formula(churn: pd.DataFrame) -> None:
    row = churn.iloc[[17]]
    r = row.iloc[0]
    c = churn_coefficients(0.0)
    contract = {"month-to-month": 0.0, "one-year": c["contract_one_year"]}
    contract["two-year"] = c["contract_two_year"]
    expected = (
        c["intercept"]
        + contract[r["contract"]]
        + c["tenure_per_month"] * (r["tenure_months"] - 12)
        + c["charges_per_eur"] * (r["monthly_charges"] - 15)
        + c["support_per_call"] * r["support_calls"]
        + c["usage_per_log"] * np.log(r["usage_hours"] / 30)
        + c["late_per_payment"] * r["late_payments"]
        + c[f"payment_{r['payment_method']}"]
    )
    assert churn_logit(row)[0] == pytest.approx(expected)
    # region does not enter the rule
    other_region = row.assign(
        region=pd.Categorical(["west"], categories=CHURN_CATEGORIES["region"])
    )
    assert churn_logit(other_region)[0] == pytest.approx(expected)


def test_churn_logit_rejects_bad_input(churn: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        churn_logit(churn.to_numpy())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="plan"):
        churn_logit(churn.drop(columns="plan"))


# --- determinism ------------------------------------------------------------------------------


def test_churn_same_arguments_same_frame(churn: pd.DataFrame) -> None:
    again = make_churn()
    pd.testing.assert_frame_equal(churn, again, check_exact=True)
    assert fingerprint(churn) == fingerprint(again)


def test_churn_other_seed_other_frame(churn: pd.DataFrame) -> None:
    other = make_churn(seed=1)
    assert not other["monthly_charges"].equals(churn["monthly_charges"])
    assert fingerprint(other) != fingerprint(churn)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(covariate_drift=0.5, concept_drift=0.3, seasonality=0.4, drift_start=2),
        dict(freq="MS", seed=3, covariate_drift=1.0, drift_start=0),
    ],
)
def test_churn_prefix_property(kwargs: dict) -> None:
    long = make_churn(n_per_period=200, periods=9, **kwargs)
    short = make_churn(n_per_period=200, periods=5, **kwargs)
    pd.testing.assert_frame_equal(long[long["period"] < 5], short, check_exact=True)


# --- drift controls ---------------------------------------------------------------------------


def _per_period(df: pd.DataFrame) -> pd.DataFrame:
    return df.groupby("period").agg(
        charges=("monthly_charges", "mean"),
        usage=("usage_hours", "mean"),
        calls=("support_calls", "mean"),
        m2m=("contract", lambda s: float((s == "month-to-month").mean())),
        rate=("churned", "mean"),
    )


def test_no_drift_means_stable_periods(churn: pd.DataFrame) -> None:
    stats = _per_period(churn)
    overall = _per_period(churn.assign(period=0)).iloc[0]
    assert (abs(stats["charges"] - overall["charges"]) < 0.5).all()
    assert (abs(stats["usage"] / overall["usage"] - 1) < 0.1).all()
    assert (abs(stats["m2m"] - overall["m2m"]) < 0.06).all()
    assert (abs(stats["rate"] - overall["rate"]) < 0.06).all()


def test_covariate_drift_moves_features_by_the_documented_amounts(churn: pd.DataFrame) -> None:
    drifted = make_churn(covariate_drift=0.5, drift_start=4)
    steps = np.maximum(0, churn["period"].to_numpy() - 4 + 1)
    # The random numbers are shared, so each customer's charges rise by exactly 0.50 EUR a step.
    delta = drifted["monthly_charges"].to_numpy() - churn["monthly_charges"].to_numpy()
    np.testing.assert_allclose(delta, 0.5 * steps, atol=0.006)
    before = drifted["period"] < 4
    pd.testing.assert_frame_equal(drifted[before], churn[before], check_exact=True)
    stats, base = _per_period(drifted), _per_period(churn)
    # period 11 has 8 steps: usage falls by 8 * 2.5 % = 20 %, month-to-month rises 12 points
    assert stats.loc[11, "usage"] / base.loc[11, "usage"] == pytest.approx(0.8, abs=0.01)
    assert stats.loc[11, "m2m"] - base.loc[11, "m2m"] == pytest.approx(0.12, abs=0.02)
    assert stats.loc[11, "calls"] - base.loc[11, "calls"] == pytest.approx(0.4, abs=0.05)
    # the unchanged rule meets riskier customers: churn rises
    assert stats.loc[8:, "rate"].mean() > base.loc[8:, "rate"].mean() + 0.1


def test_concept_drift_changes_only_the_label_rule(churn: pd.DataFrame) -> None:
    drifted = make_churn(concept_drift=0.25, drift_start=4)
    features = ["timestamp", "period", *CHURN_FEATURES]
    pd.testing.assert_frame_equal(drifted[features], churn[features], check_exact=True)
    before = churn["period"] < 4
    assert drifted.loc[before, CHURN_TARGET].equals(churn.loc[before, CHURN_TARGET])
    late = drifted[drifted["period"] >= 7]  # 4 or more steps: the new market in full
    # price now matters much more: the churn gap between expensive and cheap customers widens
    expensive = late["monthly_charges"] > late["monthly_charges"].median()
    gap_new = late.loc[expensive, "churned"].mean() - late.loc[~expensive, "churned"].mean()
    old = churn[churn["period"] >= 7]
    gap_old = old.loc[expensive, "churned"].mean() - old.loc[~expensive, "churned"].mean()
    assert gap_new > gap_old + 0.1
    # the old rule explains the new labels worse than the new rule does
    auc_old_rule = roc_auc_score(late["churned"], churn_logit(late, concept_weight=0.0))
    auc_new_rule = roc_auc_score(late["churned"], churn_logit(late, concept_weight=1.0))
    assert auc_new_rule > auc_old_rule + 0.03


def test_seasonality_makes_churn_swing_over_a_year() -> None:
    flat = _per_period(make_churn(n_per_period=2000, periods=12, freq="MS", start="2025-01-01"))
    seasonal = _per_period(
        make_churn(n_per_period=2000, periods=12, freq="MS", start="2025-01-01", seasonality=0.5)
    )
    # churn peaks in July (period 6) and is lowest around January (period 0)
    assert seasonal.loc[6, "rate"] - seasonal.loc[0, "rate"] > 0.12
    assert abs(flat.loc[6, "rate"] - flat.loc[0, "rate"]) < 0.04
    assert seasonal["rate"].idxmax() in (5, 6, 7)
    # usage moves the other way: more watching in winter
    assert seasonal.loc[0, "usage"] > seasonal.loc[6, "usage"] * 1.15


# --- argument checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(n_per_period=0), ValueError, "n_per_period must be >= 1"),
        (dict(n_per_period=-5), ValueError, "n_per_period must be >= 1"),
        (dict(n_per_period=10.0), TypeError, "n_per_period must be an integer"),
        (dict(n_per_period=True), TypeError, "n_per_period must be an integer"),
        (dict(periods=0), ValueError, "periods must be >= 1"),
        (dict(periods="3"), TypeError, "periods must be an integer"),
        (dict(n_per_period=10_000, periods=1000), ValueError, "too many"),
        (dict(freq="D"), ValueError, "Unknown freq 'D'"),
        (dict(freq=7), TypeError, "freq must be a string"),
        (dict(start="not a date"), ValueError, "not a date"),
        (dict(start=20250106), TypeError, "start must be a date"),
        (dict(start="2025-01-06T00:00+01:00"), ValueError, "without time zone"),
        (dict(seed=-1), ValueError, "seed must be >= 0"),
        (dict(seed=1.5), TypeError, "seed must be an integer"),
        (dict(covariate_drift=float("nan")), ValueError, "covariate_drift must be a finite"),
        (dict(covariate_drift=-0.1), ValueError, "covariate_drift must be >= 0"),
        (dict(concept_drift=float("inf")), ValueError, "concept_drift must be a finite"),
        (dict(concept_drift="0.5"), TypeError, "concept_drift must be a number"),
        (dict(seasonality=-1), ValueError, "seasonality must be >= 0"),
        (dict(seasonality=None), TypeError, "seasonality must be a number"),
        (dict(drift_start=-1), ValueError, "drift_start must be >= 0"),
        (dict(periods=5, drift_start=6), ValueError, "drift_start must be between 0 and"),
        (dict(drift_start=2.0), TypeError, "drift_start must be an integer"),
    ],
)
def test_make_churn_rejects_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make_churn(**kwargs)


def test_make_churn_accepts_edge_values() -> None:
    df = make_churn(
        n_per_period=1, periods=3, drift_start=3, start=pd.Timestamp("2024-02-29"), seed=2**40
    )
    assert df.shape[0] == 3 and list(df["period"]) == [0, 1, 2]
    assert df["churned"].equals(make_churn(n_per_period=1, periods=3, seed=2**40)["churned"])
    assert make_churn(n_per_period=np.int64(2), periods=np.int32(1)).shape[0] == 2


# --- business costs ---------------------------------------------------------------------------


def test_churn_costs_formula() -> None:
    costs = ChurnCosts(offer_cost_eur=10, customer_value_eur=100, offer_success_rate=0.5)
    # 10 * (4 + 6) offers + 100 * (3 missed + 0.5 * 4 flagged churners who leave anyway)
    assert costs.cost(tp=4, fp=6, fn=3, tn=100) == pytest.approx(100 + 500)
    assert costs.cost(0, 0, 0, 0) == 0.0
    assert costs.break_even_probability() == pytest.approx(0.2)
    assert ChurnCosts().break_even_probability() == pytest.approx(1 / 3)
    assert ChurnCosts(offer_success_rate=0).break_even_probability() == float("inf")


def test_churn_costs_are_whole_cents_without_float_noise() -> None:
    # With the defaults, 3 flagged churners cost 20 * 3 + 200 * 0.7 * 3: 480 EUR, which binary
    # floats compute as 479.99999999999994; what the tracking UI shows must read 480.0.
    assert repr(ChurnCosts().cost(3, 0, 0)) == "480.0"
    assert repr(ChurnCosts(offer_cost_eur=19.99).cost(3, 0, 0)) == "479.97"
    for tp in range(200):
        total = ChurnCosts().cost(tp, 7, 11)
        assert (
            total == round(total, 2)
            and abs(total - (20 * (tp + 7) + 200 * (11 + 0.7 * tp))) < 0.005
        )
    assert ChurnCosts().to_dict() == {
        "offer_cost_eur": 20.0,
        "customer_value_eur": 200.0,
        "offer_success_rate": 0.3,
    }


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        (dict(offer_cost_eur=-1), ValueError),
        (dict(customer_value_eur=float("nan")), ValueError),
        (dict(offer_success_rate=1.5), ValueError),
        (dict(offer_success_rate="high"), TypeError),
        (dict(offer_cost_eur=True), TypeError),
    ],
)
def test_churn_costs_rejects_bad_values(kwargs: dict, error: type) -> None:
    with pytest.raises(error, match="ChurnCosts"):
        ChurnCosts(**kwargs)


def test_churn_costs_rejects_bad_counts() -> None:
    with pytest.raises(ValueError, match="fp must be >= 0"):
        ChurnCosts().cost(1, -1, 0)
    with pytest.raises(TypeError, match="tp must be an integer"):
        ChurnCosts().cost(1.5, 0, 0)  # type: ignore[arg-type]


# --- fingerprint ------------------------------------------------------------------------------


def test_golden_fingerprints(churn: pd.DataFrame) -> None:
    X, y = load_builtin("breast_cancer")
    assert fingerprint(X) == GOLDEN_BREAST_CANCER_X
    assert fingerprint(y.to_frame()) == GOLDEN_BREAST_CANCER_Y
    assert fingerprint(load_builtin("iris")[0]) == GOLDEN_IRIS_X
    assert fingerprint(churn) == GOLDEN_CHURN_DEFAULT
    assert fingerprint(make_churn(**DRIFT_ARGS)) == GOLDEN_CHURN_DRIFT


def test_fingerprint_is_stable_across_processes() -> None:
    code = (
        "from utils.datasets import fingerprint, make_churn;"
        "print(fingerprint(make_churn(n_per_period=50, periods=2)))"
    )
    expected = fingerprint(make_churn(n_per_period=50, periods=2))
    # a fresh interpreter with another string-hash seed than this one gives the same answer
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert out.stdout.strip() == expected


def test_fingerprint_format(churn: pd.DataFrame) -> None:
    short, full = fingerprint(churn), fingerprint(churn, full=True)
    assert len(short) == 16 and len(full) == 64
    assert full.startswith(short)
    assert all(c in "0123456789abcdef" for c in full)


def _small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "n": [1, 2, 3],
            "x": [0.5, np.nan, 2.5],
            "b": [True, False, True],
            "t": pd.to_datetime(["2025-01-01", "2025-01-02", None]),
            "c": pd.Categorical(["a", "b", "a"]),
            "s": ["u", None, "w"],
        }
    )


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d.assign(n=[1, 2, 4]), id="int value"),
        pytest.param(lambda d: d.assign(x=[0.5, np.nan, 2.5000001]), id="float value"),
        pytest.param(lambda d: d.assign(x=[0.5, 0.0, 2.5]), id="NaN filled"),
        pytest.param(lambda d: d.assign(b=[True, True, True]), id="bool value"),
        pytest.param(lambda d: d.assign(s=["u", "v", "w"]), id="string value"),
        pytest.param(lambda d: d.assign(c=pd.Categorical(["a", "b", "b"])), id="category value"),
        pytest.param(
            lambda d: d.assign(c=pd.Categorical(["a", "b", "a"], categories=["b", "a"])),
            id="category order",
        ),
        pytest.param(
            lambda d: d.assign(t=pd.to_datetime(["2025-01-01", "2025-01-03", None])),
            id="datetime value",
        ),
        pytest.param(lambda d: d.astype({"n": "float64"}), id="dtype int->float"),
        pytest.param(lambda d: d.astype({"n": "int32"}), id="dtype int64->int32"),
        pytest.param(lambda d: d.astype({"c": "str"}), id="dtype category->str"),
        pytest.param(lambda d: d.rename(columns={"n": "m"}), id="rename"),
        pytest.param(lambda d: d[["x", "n", "b", "t", "c", "s"]], id="column order"),
        pytest.param(lambda d: d.iloc[[1, 0, 2]], id="row order"),
        pytest.param(lambda d: d.iloc[:2], id="drop a row"),
        pytest.param(lambda d: d.drop(columns="s"), id="drop a column"),
        pytest.param(lambda d: d.assign(extra=0), id="add a column"),
    ],
)
def test_fingerprint_changes_with_content(change) -> None:
    base = _small()
    assert fingerprint(change(base)) != fingerprint(base)


@pytest.mark.parametrize(
    "same",
    [
        pytest.param(lambda d: d.copy(), id="copy"),
        pytest.param(lambda d: d.copy(deep=True), id="deep copy"),
        pytest.param(lambda d: d.set_axis([10, 20, 30]), id="index labels"),
        pytest.param(lambda d: d.set_axis(["a", "b", "c"]), id="string index"),
        pytest.param(lambda d: d.iloc[[2, 1, 0]].iloc[[2, 1, 0]], id="sort back"),
        pytest.param(lambda d: pd.concat([d.iloc[:1], d.iloc[1:]]), id="concat pieces"),
        pytest.param(lambda d: d.iloc[::-1].reset_index(drop=True).iloc[::-1], id="views"),
    ],
)
def test_fingerprint_ignores_index_copy_and_layout(same) -> None:
    base = _small()
    assert fingerprint(same(base)) == fingerprint(base)


def test_fingerprint_ignores_memory_layout() -> None:
    values = np.arange(12, dtype=np.float64).reshape(4, 3)
    c_order = pd.DataFrame(np.ascontiguousarray(values), columns=list("abc"))
    f_order = pd.DataFrame(np.asfortranarray(values), columns=list("abc"))
    big_endian = pd.DataFrame(values.astype(">f8"), columns=list("abc"))
    assert fingerprint(c_order) == fingerprint(f_order) == fingerprint(big_endian)


def test_fingerprint_missing_values_and_zero_sign() -> None:
    nan_a = np.float64(np.nan)
    nan_b = np.frombuffer(np.uint64(0x7FF8000000000001).tobytes(), dtype=np.float64)[0]
    assert np.isnan(nan_b)
    assert fingerprint(pd.DataFrame({"x": [nan_a]})) == fingerprint(pd.DataFrame({"x": [nan_b]}))
    assert fingerprint(pd.DataFrame({"x": [0.0]})) == fingerprint(pd.DataFrame({"x": [-0.0]}))
    assert fingerprint(pd.DataFrame({"s": ["a", None]}, dtype=object)) != fingerprint(
        pd.DataFrame({"s": ["a", "None"]}, dtype=object)
    )


def test_fingerprint_handles_other_column_types() -> None:
    frame = pd.DataFrame(
        {
            "nullable_int": pd.array([1, None], dtype="Int64"),
            "nullable_bool": pd.array([True, None], dtype="boolean"),
            "utc": pd.to_datetime(["2020-01-01", "2021-01-01"]).tz_localize("UTC"),
            "delta": pd.to_timedelta([1, 2], unit="s"),
            "mixed": [1, "x"],
            "dates": [pd.Timestamp("2020-01-01"), None],
            "empty_str": ["", "a"],
        }
    )
    first = fingerprint(frame)
    assert first == fingerprint(frame.copy())
    changed = frame.assign(utc=frame["utc"].dt.tz_convert("Europe/Copenhagen"))
    assert fingerprint(changed) != first  # the time zone is part of the dtype
    # tuples as column names (MultiIndex) and an empty frame are fine
    multi = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)]))
    assert fingerprint(multi) != fingerprint(pd.DataFrame([[1, 2]], columns=["a", "b"]))
    assert fingerprint(pd.DataFrame()) != fingerprint(pd.DataFrame(index=range(3)))


def test_fingerprint_tells_a_number_from_its_text() -> None:
    numbers_ = pd.DataFrame({"v": [1, "x"]}, dtype=object)
    texts = pd.DataFrame({"v": ["1", "x"]}, dtype=object)
    assert fingerprint(numbers_) != fingerprint(texts)


def test_fingerprint_string_boundaries_matter() -> None:
    one = pd.DataFrame({"s": ["ab", "c"]})
    two = pd.DataFrame({"s": ["a", "bc"]})
    assert fingerprint(one) != fingerprint(two)


def test_fingerprint_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match="expects a pandas DataFrame"):
        fingerprint(pd.Series([1, 2]))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expects a pandas DataFrame"):
        fingerprint([[1, 2]])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot hash column 'bad' \\(unhashable type: 'list'\\)"):
        fingerprint(pd.DataFrame({"bad": [[1], [2]]}))
