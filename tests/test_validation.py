"""Tests of utils.validation: the churn schema, its readable report, and the design document."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from utils import datasets, validation

START = "2025-01-01"


@pytest.fixture(scope="module")
def monthly() -> pd.DataFrame:
    return datasets.make_churn(
        n_per_period=200, periods=6, freq="MS", start=START, seasonality=0.5, seed=3
    )


@pytest.fixture(scope="module")
def schema() -> pa.DataFrameSchema:
    return validation.churn_schema(start=START, periods=6, freq="MS")


def _report(df: pd.DataFrame, schema: pa.DataFrameSchema) -> dict[tuple[str, str], int]:
    report = validation.validation_report(df, schema)
    return dict(
        zip(zip(report["column"], report["check"], strict=True), report["count"], strict=True)
    )


# --- the schema accepts what make_churn produces ---------------------------------------------


def test_columns_are_those_of_make_churn(monthly: pd.DataFrame) -> None:
    assert tuple(monthly.columns) == validation.CHURN_COLUMNS


@pytest.mark.parametrize(
    "kwargs",
    [
        {"freq": "W", "start": "2025-01-06", "periods": 12},
        {"freq": "MS", "start": START, "periods": 24, "seasonality": 1.0},
        {"freq": "W", "start": "2025-01-06", "periods": 30, "covariate_drift": 1.0},
        {"freq": "MS", "start": "2025-01-15", "periods": 14, "concept_drift": 0.5},
    ],
)
def test_schema_accepts_every_kind_of_make_churn_output(kwargs: dict) -> None:
    data = datasets.make_churn(n_per_period=300, seed=1, **kwargs)
    schema = validation.churn_schema(
        start=kwargs["start"], periods=kwargs["periods"], freq=kwargs["freq"]
    )
    report = validation.validation_report(data, schema)
    assert report.empty
    assert list(report.columns) == list(validation.REPORT_COLUMNS)
    assert validation.validate(data, schema) is data


def test_a_later_period_of_the_same_simulation_passes_a_longer_schema() -> None:
    stream = datasets.make_churn(n_per_period=100, periods=13, freq="MS", start=START, seed=2)
    batch = stream[stream["period"] == 12].reset_index(drop=True)
    assert validation.validation_report(batch, validation.churn_schema(START, 24, "MS")).empty
    short = _report(batch, validation.churn_schema(START, 12, "MS"))
    assert short == {("period", "between 0 and 11"): 100}


# --- each kind of bad data is named in the report ---------------------------------------------


def test_negative_charges_and_charges_in_cents_fail_the_range(monthly, schema) -> None:
    bad = monthly.copy()
    bad.loc[[1, 2], "monthly_charges"] = -12.99
    bad.loc[[10, 11, 12], "monthly_charges"] *= 100
    report = validation.validation_report(bad, schema)
    assert len(report) == 1
    row = report.iloc[0]
    assert (row["column"], row["check"], row["count"]) == (
        "monthly_charges",
        "between 0 and 100 (EUR per month)",
        5,
    )
    assert row["failing_values"].startswith("-12.99, ")
    assert row["failing_values"].endswith(", ...")  # 4 distinct values, 3 shown


def test_unknown_category_missing_values_labels_and_ids(monthly, schema) -> None:
    bad = monthly.copy()
    bad["contract"] = bad["contract"].cat.add_categories("weekly")
    bad.loc[[0, 5], "contract"] = "weekly"
    bad.loc[20:29, "usage_hours"] = np.nan
    bad.loc[[40, 41, 42], "churned"] = -1
    bad.loc[50, "customer_id"] = "customer-50"
    assert _report(bad, schema) == {
        ("customer_id", "looks like C0000042"): 1,
        ("usage_hours", "no missing values"): 10,
        ("contract", "one of: month-to-month, one-year, two-year"): 2,
        ("churned", "0 or 1"): 3,
    }
    report = validation.validation_report(bad, schema)
    assert report.set_index("column").loc["contract", "failing_values"] == "weekly"
    assert report.set_index("column").loc["usage_hours", "failing_values"] == "missing"


def test_duplicated_rows_are_reported_with_both_copies(monthly, schema) -> None:
    bad = pd.concat([monthly, monthly.iloc[[7, 8]]], ignore_index=True)
    report = validation.validation_report(bad, schema)
    assert report["column"].tolist() == ["customer_id"]
    assert report.loc[0, "check"] == "no duplicate values"
    assert report.loc[0, "count"] == 4
    assert report.loc[0, "failing_values"] == ", ".join(monthly["customer_id"].iloc[[7, 8]])


@pytest.mark.parametrize("freq, start", [("MS", START), ("W", "2025-01-06")])
def test_a_timestamp_outside_its_period_is_found(freq: str, start: str) -> None:
    data = datasets.make_churn(n_per_period=50, periods=4, freq=freq, start=start, seed=5)
    schema = validation.churn_schema(start=start, periods=4, freq=freq)
    bad = data.copy()
    bad.loc[[3, 60], "timestamp"] += pd.Timedelta(days=40)  # inside the window, wrong period
    bad.loc[70, "timestamp"] -= pd.Timedelta(days=400)  # before the first period
    report = validation.validation_report(bad, schema)
    assert report["column"].tolist() == ["timestamp"]
    assert report.loc[0, "check"] == "timestamp inside its period"
    assert report.loc[0, "count"] == 3


def test_rows_are_checked_by_position_even_with_duplicate_index_labels(schema) -> None:
    data = datasets.make_churn(n_per_period=30, periods=2, freq="MS", start=START, seed=6)
    frame = pd.concat([data, data.iloc[[1, 2]].assign(customer_id=["C9000001", "C9000002"])])
    assert not frame.index.is_unique and validation.validation_report(frame, schema).empty
    moved = frame.copy()
    moved.iloc[1, moved.columns.get_loc("timestamp")] += pd.Timedelta(days=40)  # label 1
    assert _report(moved, schema) == {("timestamp", "timestamp inside its period"): 1}


def test_wrong_dtypes_are_reported_once_per_column_with_the_dtype_found(monthly, schema) -> None:
    bad = monthly.astype({"period": "float64", "region": "str", "timestamp": "str"})
    bad.loc[3, "period"] = np.nan
    n = len(bad)
    assert _report(bad, schema) == {
        ("timestamp", "dtype datetime64[ns]"): n,
        ("period", "dtype int64"): n,
        ("period", "no missing values"): 1,
        ("region", "dtype category"): n,
    }
    report = validation.validation_report(bad, schema).set_index("check")
    assert report.loc["dtype int64", "failing_values"] == "float64"
    assert report.loc["dtype category", "failing_values"] == "str"


def test_a_csv_round_trip_loses_the_dtypes_quickly(monthly, schema) -> None:
    import io
    import time

    from_csv = pd.read_csv(io.StringIO(monthly.to_csv(index=False)))
    start = time.perf_counter()
    report = validation.validation_report(from_csv, schema)
    seconds = time.perf_counter() - start
    assert report["column"].tolist() == ["timestamp", *datasets.CHURN_CATEGORICAL]
    assert set(report["failing_values"]) == {"str"}
    assert seconds < 5  # pandera alone would parse every timestamp one by one


def test_missing_and_unexpected_columns(monthly, schema) -> None:
    bad = monthly.drop(columns="region").assign(household="x")
    n = len(bad)
    assert _report(bad, schema) == {
        ("region", "column is present"): n,
        ("household", "no unexpected columns"): n,
    }


def test_report_rows_follow_the_schema_column_order(monthly, schema) -> None:
    bad = monthly.copy()
    bad.loc[0, "churned"] = 3
    bad.loc[0, "tenure_months"] = 99
    bad.loc[0, "customer_id"] = "bad"
    report = validation.validation_report(bad, schema)
    assert report["column"].tolist() == ["customer_id", "tenure_months", "churned"]
    assert report["count"].dtype == np.int64


def test_validate_raises_a_value_error_with_the_report(monthly, schema) -> None:
    bad = monthly.copy()
    bad.loc[0, "late_payments"] = 13
    with pytest.raises(validation.DataValidationError) as caught:
        validation.validate(bad, schema, what="Week 3's batch")
    error = caught.value
    assert isinstance(error, ValueError)
    assert str(error).startswith("Week 3's batch failed 1 check(s) of its schema")
    assert "late_payments" in str(error) and "between 0 and 12" in str(error)
    assert error.report["count"].tolist() == [1]


def test_bad_arguments_get_clear_errors(monthly, schema) -> None:
    with pytest.raises(TypeError, match="pandas DataFrame"):
        validation.validation_report(monthly.to_numpy(), schema)
    with pytest.raises(TypeError, match="DataFrameSchema"):
        validation.validation_report(monthly, {"customer_id": str})
    with pytest.raises(TypeError, match="periods must be an integer"):
        validation.churn_schema(periods=2.0)
    with pytest.raises(ValueError, match="periods must be >= 1"):
        validation.churn_schema(periods=0)
    with pytest.raises(ValueError, match="freq must be one of"):
        validation.churn_schema(freq="D")
    with pytest.raises(ValueError, match="is not a date"):
        validation.churn_schema(start="2025-13-01")
    with pytest.raises(ValueError, match="is not a date"):
        validation.churn_schema(start="")
    with pytest.raises(TypeError, match="date string"):
        validation.churn_schema(start=2025)
    with pytest.raises(TypeError, match="DataFrameSchema"):
        validation.describe_schema("schema")


def test_describe_schema_lists_every_column_and_the_row_check(schema) -> None:
    table = validation.describe_schema(schema)
    assert list(table.index) == [*validation.CHURN_COLUMNS, "(every row)"]
    assert table.loc["customer_id", "dtype"] == "str"
    assert bool(table.loc["customer_id", "unique"]) is True
    assert not table["missing allowed"].any()
    assert table.loc["usage_hours", "checks"] == "between 0 and 720 (hours in the last 30 days)"
    assert table.loc["(every row)", "checks"] == "timestamp inside its period"


def test_limits_are_inside_what_the_data_dictionary_promises() -> None:
    assert validation.CHURN_LIMITS["tenure_months"][:2] == (0, 72)
    assert set(validation.CHURN_LIMITS) == set(datasets.CHURN_NUMERIC)


def test_a_year_of_drifting_data_stays_inside_the_limits() -> None:
    # The ranges hold for the generator's data a year into the course's strongest covariate drift
    # (1.0: charges rise by 1 EUR a week); a stronger drift may leave them, as it should.
    data = datasets.make_churn(2000, 52, seed=5, covariate_drift=1.0, seasonality=1.0)
    for column, (low, high, _) in validation.CHURN_LIMITS.items():
        assert data[column].between(low, high).all(), (column, data[column].agg(["min", "max"]))


def test_the_service_checks_the_same_ranges() -> None:
    from utils.service.validation import SCHEMA

    for column, (low, high, _) in validation.CHURN_LIMITS.items():
        assert (SCHEMA[column].low, SCHEMA[column].high) == (low, high)
    assert SCHEMA["tenure_months"].kind == "int" and SCHEMA["usage_hours"].kind == "float"


# --- the design document ---------------------------------------------------------------------


def _good_design(costs: datasets.ChurnCosts) -> validation.DesignDoc:
    return validation.DesignDoc(
        decision="Whom to send a retention offer each Monday.",
        consumers=["retention team"],
        output="Churn probability in the next 30 days per active customer, weekly.",
        target="churned",
        inputs=list(datasets.CHURN_FEATURES),
        threshold=costs.break_even_probability(),
        metrics=["business_cost_eur", "roc_auc"],
        baseline="Contact nobody.",
        failure_modes={"bad batch": "schema rejects it", "drift": "monitor", "loop": "hold-out"},
    )


def test_a_complete_design_has_no_problems() -> None:
    costs = datasets.ChurnCosts()
    assert validation.check_design(_good_design(costs), costs=costs) == []


def test_a_blank_design_asks_for_every_field() -> None:
    problems = validation.check_design(validation.DesignDoc())
    assert len(problems) == len(validation.DESIGN_FIELDS)
    for name, problem in zip(validation.DESIGN_FIELDS, problems, strict=True):
        assert problem.startswith(f"Fill in '{name}'")


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"inputs": ["tenure_months", "churned"]}, "target leakage"),
        ({"inputs": ["customer_id", "tenure_months"]}, "identify a row"),
        ({"inputs": ["tenure_months", "period"]}, "identify a row"),
        ({"inputs": ["tenure_months", "favourite_genre"]}, "not columns of the data"),
        ({"inputs": "tenure_months"}, "must be a list of strings"),
        ({"target": "cancelled"}, "is not a column of the data"),
        ({"threshold": 0.5}, "break-even probability 0.33"),
        ({"threshold": 1.0}, "strictly between 0 and 1"),
        ({"threshold": "low"}, "must be a number"),
        ({"metrics": ["business_cost_eur", "lift"]}, "not computed by utils.training.evaluate"),
        ({"metrics": ["roc_auc"]}, "No metric is in money"),
        ({"failure_modes": {"a": "x", "b": "y"}}, "Only 2 failure mode(s)"),
        ({"failure_modes": {"a": "x", "b": "y", "c": "..."}}, "have no answer"),
        ({"failure_modes": ["a", "b", "c"]}, "must be a dict"),
        ({"decision": "TODO"}, "Fill in 'decision'"),
        ({"consumers": []}, "Fill in 'consumers'"),
    ],
)
def test_each_inconsistency_is_named(change: dict, expected: str) -> None:
    costs = datasets.ChurnCosts()
    design = dataclasses.replace(_good_design(costs), **change)
    problems = validation.check_design(design, costs=costs)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_threshold_is_compared_with_costs_only_when_they_are_given() -> None:
    costs = datasets.ChurnCosts()
    design = dataclasses.replace(_good_design(costs), threshold=0.5)
    assert validation.check_design(design) == []
    cheap_offer = datasets.ChurnCosts(offer_cost_eur=30.0)  # break-even 0.5
    assert validation.check_design(design, costs=cheap_offer) == []


def test_columns_argument_limits_the_inputs() -> None:
    costs = datasets.ChurnCosts()
    design = _good_design(costs)
    problems = validation.check_design(design, columns=["churned", "tenure_months"], costs=costs)
    assert len(problems) == 1 and "are not columns of the data" in problems[0]


def test_check_design_rejects_what_is_not_a_design() -> None:
    with pytest.raises(TypeError, match="expects a DesignDoc"):
        validation.check_design({"decision": "x"})
    with pytest.raises(TypeError, match="ChurnCosts"):
        validation.check_design(validation.DesignDoc(), costs=0.33)


def test_design_as_dict_and_markdown() -> None:
    costs = datasets.ChurnCosts()
    design = _good_design(costs)
    data = design.to_dict()
    assert list(data) == list(validation.DESIGN_FIELDS)
    assert data["inputs"] == list(datasets.CHURN_FEATURES)
    assert validation.DesignDoc().to_dict()["decision"] is None  # ... becomes None
    text = design._repr_markdown_()
    assert text.splitlines()[0] == "| field | design |"
    assert "| **threshold** | 0.333 |" in text
    assert "**bad batch** → schema rejects it" in text
    assert "*(to fill in)*" in validation.DesignDoc().to_markdown()


def test_metric_names_are_those_evaluate_returns() -> None:
    from sklearn.linear_model import LogisticRegression

    from utils.training import evaluate

    data = datasets.make_churn(n_per_period=200, periods=1, seed=0)
    X, y = data[list(datasets.CHURN_NUMERIC)], data["churned"]
    model = LogisticRegression(max_iter=500).fit(X, y)
    metrics = evaluate(model, X, y, costs=datasets.ChurnCosts())
    assert set(validation.EVALUATE_METRICS) <= set(metrics)
    assert set(validation.MONEY_METRICS) <= set(validation.EVALUATE_METRICS)
    assert all(m.endswith("_eur") for m in validation.MONEY_METRICS)
