"""Tests of utils.ml_testing: data tests, behavioural model tests, the quality gate and the
pytest runner (which starts a real pytest process)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from utils import datasets, devops, ml_testing, training, validation
from utils.exercises.nb07 import _ToyChurnModel

FEATURES = list(datasets.CHURN_FEATURES)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six weeks of 300 customers: weeks 0-3 to train on, weeks 4-5 to test on."""
    weeks = datasets.make_churn(n_per_period=300, periods=6, seed=3)
    return weeks[weeks["period"] < 4], weeks[weeks["period"] >= 4]


@pytest.fixture(scope="module")
def models(data: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, object]:
    train, _ = data
    return {
        "lr": training.train(training.TrainConfig("logistic_regression", seed=3), train).model,
        "dummy": training.train(training.TrainConfig("dummy", seed=3), train).model,
        "blind": _ToyChurnModel(0.0),  # ignores region
        "noise": _ToyChurnModel(0.05),  # moves probabilities by about 0.01 in the west
        "biased": _ToyChurnModel(1.5),  # moves them by up to about 0.35 in the west
    }


class _Cheaper:
    """A churn model whose probability falls as the monthly charges rise (wrong direction)."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = 1 / (1 + np.exp(0.2 * (X["monthly_charges"].to_numpy() - 15)))
        return np.column_stack([1 - p, p])


# --------------------------------------------------------------------------- data tests


def test_the_schema_test_passes_clean_data_and_names_what_fails(data) -> None:
    train, test = data
    schema = validation.churn_schema(periods=6)
    assert ml_testing.schema_test(train, schema, "training data").passed
    outcome = ml_testing.schema_test(
        test.assign(monthly_charges=test["monthly_charges"] * 100), schema, "in cents"
    )
    assert not outcome.passed
    assert outcome.kind == "data" and outcome.name == "schema: in cents"
    assert "monthly_charges" in outcome.detail and f"{len(test):,} rows" in outcome.detail
    assert str(outcome).startswith("\N{BALLOT X} schema: in cents:")
    with pytest.raises(TypeError):
        ml_testing.schema_test(test.to_numpy(), schema)  # type: ignore[arg-type]


def test_no_shared_ids_finds_customers_in_both_splits(data) -> None:
    train, test = data
    clean = ml_testing.no_shared_ids(train, test)
    assert clean.passed and "none in both" in clean.detail
    leaky = pd.concat([test, train.head(7)])
    outcome = ml_testing.no_shared_ids(train, leaky)
    assert not outcome.passed
    assert outcome.detail.startswith("7 ids are in both")
    assert train["customer_id"].iloc[0] in outcome.detail


def test_no_future_rows_finds_training_rows_from_the_test_period(data) -> None:
    train, test = data
    assert ml_testing.no_future_rows(train, test).passed
    late = pd.concat([train, test.head(4)])
    outcome = ml_testing.no_future_rows(late, test)
    assert not outcome.passed
    assert outcome.detail.startswith("4 training rows are not older")
    # A random split of time-stamped data trains on the future.
    weeks = pd.concat(data)
    shuffled = weeks.sample(frac=1.0, random_state=0)
    assert not ml_testing.no_future_rows(shuffled.iloc[:1000], shuffled.iloc[1000:]).passed


@pytest.mark.parametrize(
    ("train", "error", "words"),
    [
        (pd.DataFrame({"x": [1]}), ValueError, "lacks the column"),
        (pd.DataFrame({"customer_id": []}), ValueError, "has no rows"),
        ([1, 2], TypeError, "must be a pandas DataFrame"),
    ],
)
def test_leakage_tests_refuse_bad_frames(
    data, train: object, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        ml_testing.no_shared_ids(train, data[1])  # type: ignore[arg-type]


def test_data_tests_run_all_four(data) -> None:
    train, test = data
    outcomes = ml_testing.data_tests(train, test, validation.churn_schema(periods=6))
    assert [o.name for o in outcomes] == [
        "schema: training data",
        "schema: test data",
        "no customer_id in both splits",
        "training data older than test data",
    ]
    assert all(o.passed and o.kind == "data" for o in outcomes)


# --------------------------------------------------------------------------- model tests


def test_churn_profiles_are_obvious_under_the_true_rule() -> None:
    profiles = ml_testing.churn_profiles()
    assert list(profiles.columns) == [*FEATURES, "expected"]
    assert profiles["expected"].tolist() == [1, 1, 0, 0]
    for column, levels in datasets.CHURN_CATEGORIES.items():
        assert list(profiles[column].cat.categories) == list(levels)
    p = 1 / (1 + np.exp(-datasets.churn_logit(profiles[FEATURES])))
    assert (p[:2] > 0.99).all() and (p[2:] < 0.01).all()
    # Valid churn data: inside the ranges of the schema of notebook 04.
    for column, (low, high, _) in validation.CHURN_LIMITS.items():
        assert profiles[column].between(low, high).all(), column


def test_churn_probability_reads_the_positive_class(models, data) -> None:
    X = data[1][FEATURES]
    p = ml_testing.churn_probability(models["lr"], X)
    assert p.shape == (len(X),) and ((p >= 0) & (p <= 1)).all()
    assert np.allclose(p, models["lr"].predict_proba(X)[:, 1])
    with pytest.raises(TypeError, match="predict_proba"):
        ml_testing.churn_probability(object(), X)


def test_minimum_functionality_passes_a_real_model_and_fails_a_constant_one(models) -> None:
    profiles = ml_testing.churn_profiles()
    cases, expected = profiles[FEATURES], profiles["expected"]
    assert ml_testing.minimum_functionality(models["lr"], cases, expected).passed
    outcome = ml_testing.minimum_functionality(models["dummy"], cases, expected)
    assert not outcome.passed
    assert outcome.detail.startswith("2 of 4 obvious cases get the wrong answer")
    assert "new, expensive, unhappy" in outcome.detail
    with pytest.raises(ValueError, match="one label"):
        ml_testing.minimum_functionality(models["lr"], cases, [1, 0])
    with pytest.raises(ValueError, match="threshold"):
        ml_testing.minimum_functionality(models["lr"], cases, expected, threshold=2)


def test_invariance_tells_noise_from_a_model_that_uses_the_column(models, data) -> None:
    X = data[1][FEATURES]
    blind = ml_testing.invariance(models["blind"], X, "region")
    assert blind.passed and "largest change of a churn probability is 0.000" in blind.detail
    assert ml_testing.invariance(models["noise"], X, "region").passed
    assert not ml_testing.invariance(models["noise"], X, "region", tolerance=0.0).passed
    biased = ml_testing.invariance(models["biased"], X, "region")
    assert not biased.passed
    n_not_west = int((X["region"] != "west").sum())
    assert biased.detail.startswith(f"the churn probability of {len(X):,} of {len(X):,} rows")
    assert "'west'" in biased.detail and n_not_west < len(X)
    # Only some values: moving everybody to 'north' moves the western customers only.
    north = ml_testing.invariance(models["biased"], X, "region", values=["north"])
    assert north.detail.startswith(f"the churn probability of {len(X) - n_not_west:,} of")


def test_invariance_works_on_plain_columns_and_refuses_bad_input(models, data) -> None:
    X = data[1][FEATURES].assign(region=lambda df: df["region"].astype(str))
    assert not ml_testing.invariance(models["biased"], X, "region").passed
    with pytest.raises(ValueError, match="at least one value"):
        ml_testing.invariance(models["blind"], X, "region", values=[])
    with pytest.raises(ValueError, match="lacks the column"):
        ml_testing.invariance(models["blind"], X, "colour")
    with pytest.raises(ValueError, match="tolerance"):
        ml_testing.invariance(models["blind"], X, "region", tolerance=-0.1)


def test_directional_catches_the_wrong_direction(models, data) -> None:
    X = data[1][FEATURES]
    up = ml_testing.directional(models["lr"], X, "monthly_charges", 5.0)
    assert up.passed and up.name == "directional: monthly_charges"
    wrong = ml_testing.directional(_Cheaper(), X, "monthly_charges", 5.0)
    assert not wrong.passed
    assert wrong.detail.startswith(
        f"+5 on monthly_charges moves the churn probability the wrong way for {len(X):,}"
    )
    assert ml_testing.directional(_Cheaper(), X, "monthly_charges", 5.0, "decrease").passed
    assert not ml_testing.directional(models["lr"], X, "monthly_charges", 5.0, "decrease").passed


def test_directional_refuses_bad_input(models, data) -> None:
    X = data[1][FEATURES]
    with pytest.raises(ValueError, match="non-zero"):
        ml_testing.directional(models["lr"], X, "monthly_charges", 0)
    with pytest.raises(TypeError, match="numeric column"):
        ml_testing.directional(models["lr"], X, "region", 1.0)
    with pytest.raises(ValueError, match="direction"):
        ml_testing.directional(models["lr"], X, "monthly_charges", 1.0, "up")  # type: ignore[arg-type]


def test_model_tests_are_the_three_kinds(models, data) -> None:
    outcomes = ml_testing.model_tests(models["biased"], data[1][FEATURES])
    assert [o.name for o in outcomes] == [
        "minimum functionality",
        "invariance: region",
        "directional: monthly_charges",
    ]
    assert [o.passed for o in outcomes] == [True, False, True]


# --------------------------------------------------------------------------- quality gate


def test_the_gate_passes_a_good_candidate_with_reasons(models, data) -> None:
    test = data[1]
    X, y = test[FEATURES], test[datasets.CHURN_TARGET]
    decision = ml_testing.quality_gate(
        models["lr"], X, y, baseline=models["dummy"], champion=models["lr"], name="lr"
    )
    assert decision.passed and decision.failed == []
    assert [c.name for c in decision.checks][:4] == [
        "beats the baseline",
        "cheaper than the baseline",
        "not worse than the champion",
        "not costlier than the champion",
    ]
    assert len(decision.checks) == 7  # 4 comparisons and the 3 behavioural tests
    assert str(decision).startswith("PASSED: lr passes all 7 checks")
    assert list(decision.metrics.index) == ["candidate", "baseline", "champion"]
    assert decision.metrics.loc["baseline", "roc_auc"] == 0.5
    assert (
        decision.metrics.loc["candidate", "roc_auc"] == decision.metrics.loc["champion", "roc_auc"]
    )


def test_the_gate_rejects_and_says_why(models, data) -> None:
    test = data[1]
    X, y = test[FEATURES], test[datasets.CHURN_TARGET]
    decision = ml_testing.quality_gate(
        models["dummy"], X, y, baseline=models["dummy"], champion=models["lr"], name="dummy"
    )
    assert not decision.passed
    failed = {c.name for c in decision.failed}
    assert {"beats the baseline", "not worse than the champion", "minimum functionality"} <= failed
    text = str(decision)
    assert text.startswith(f"REJECTED: dummy fails {len(decision.failed)} of 7 checks")
    assert "\N{BALLOT X} beats the baseline: ROC AUC 0.500 vs baseline 0.500" in text


def test_the_gate_rejects_a_candidate_that_fails_a_behavioural_test(models, data) -> None:
    test = data[1]
    X, y = test[FEATURES], test[datasets.CHURN_TARGET]
    decision = ml_testing.quality_gate(models["biased"], X, y, baseline=models["dummy"])
    assert not decision.passed
    assert "invariance: region" in [c.name for c in decision.failed]
    assert "beats the baseline" not in [c.name for c in decision.failed]


def test_the_gate_without_a_champion_and_with_own_tests(models, data) -> None:
    test = data[1]
    X, y = test[FEATURES], test[datasets.CHURN_TARGET]
    decision = ml_testing.quality_gate(models["lr"], X, y, baseline=models["dummy"], tests=())
    assert decision.passed
    assert [str(c) for c in decision.checks][2] == (
        "\N{CHECK MARK} not worse than the champion: skipped: no champion yet"
    )
    assert list(decision.metrics.index) == ["candidate", "baseline"]
    failing = ml_testing.Outcome("my test", "model", False, "it failed")
    decision = ml_testing.quality_gate(
        models["lr"], X, y, baseline=models["dummy"], tests=[failing]
    )
    assert not decision.passed and decision.failed == [failing]


def test_the_gate_refuses_bad_settings(models, data) -> None:
    test = data[1]
    X, y = test[FEATURES], test[datasets.CHURN_TARGET]
    with pytest.raises(ValueError, match="max_auc_loss"):
        ml_testing.quality_gate(models["lr"], X, y, baseline=models["dummy"], max_auc_loss=-1)
    with pytest.raises(TypeError, match="Outcome"):
        ml_testing.quality_gate(models["lr"], X, y, baseline=models["dummy"], tests=["ok"])


# --------------------------------------------------------------------------- real pytest


@pytest.mark.slow
def test_a_written_suite_runs_in_real_pytest_apart_from_the_repository(
    models, data, tmp_path
) -> None:
    train, test = data
    folder = ml_testing.write_test_suite(
        tmp_path / "suite",
        {"lr": models["lr"], "biased": models["biased"]},
        train,
        test,
        schema={"periods": 6},
    )
    assert (folder / "test_churn_model.py").read_text() == ml_testing.TEST_MODULE
    # A conftest.py in the folder must not be loaded (--noconftest), as the repository's is not.
    (folder / "conftest.py").write_text("raise RuntimeError('conftest.py was loaded')\n")

    report = devops.run_pytest(folder)
    assert report.returncode == 1 and not report.ok
    assert len(report.outcomes) == 4 + 3 * 2
    assert report.failed == ["test_region_does_not_matter[biased]"]
    failed = {o.name: o for o in report.outcomes}["test_region_does_not_matter[biased]"]
    assert "when region" in failed.message
    assert "test_region_does_not_matter[lr]" in report.passed
    assert report.summary().startswith("\u2718 pytest suite: 1 failed, 9 passed")
    assert "--noconftest" in report.command and "no:cacheprovider" in report.command
    assert not (folder / ".pytest_cache").exists()

    table = report.table()
    assert list(table.columns) == ["(no parameter)", "biased", "lr"]
    assert table.loc["test_region_does_not_matter", "biased"] == "failed"
    assert table.loc["test_no_customer_in_both_splits", "(no parameter)"] == "passed"


@pytest.mark.slow
def test_a_suite_that_passes_exits_with_zero(models, data, tmp_path) -> None:
    train, test = data
    folder = ml_testing.write_test_suite(
        tmp_path, {"lr": models["lr"]}, train, test, schema={"periods": 6}
    )
    report = devops.run_pytest(folder)
    assert report.returncode == 0 and report.ok and report.failed == []
    assert {o.outcome for o in report.outcomes} == {"passed"}


def test_write_test_suite_refuses_bad_input(models, data, tmp_path) -> None:
    train, test = data
    with pytest.raises(ValueError, match="non-empty dict"):
        ml_testing.write_test_suite(tmp_path, {}, train, test)
    with pytest.raises(ValueError, match="test ids"):
        ml_testing.write_test_suite(tmp_path, {"a model": models["lr"]}, train, test)
    with pytest.raises(TypeError, match="predict_proba"):
        ml_testing.write_test_suite(tmp_path, {"x": object()}, train, test)
    with pytest.raises(ValueError, match="lacks the column"):
        ml_testing.write_test_suite(tmp_path, {"lr": models["lr"]}, train[FEATURES], test)


# --------------------------------------------------------------------------- figure


def test_largest_change_is_what_invariance_compares(models, data) -> None:
    X = data[1][FEATURES]
    assert (ml_testing.largest_change(models["blind"], X, "region") == 0).all()
    moves = ml_testing.largest_change(models["biased"], X, "region")
    outcome = ml_testing.invariance(models["biased"], X, "region")
    moved = int((moves > ml_testing.INVARIANCE_TOLERANCE).sum())
    assert outcome.detail.startswith(f"the churn probability of {moved:,} of {len(X):,} rows")
    assert f"up to {moves.max():.3f}" in outcome.detail


def test_behaviour_figure_shows_both_tests_for_each_model(models, data) -> None:
    X = data[1][FEATURES]
    fig = ml_testing.behaviour_figure({"lr": models["lr"], "biased": models["biased"]}, X)
    ax_dir, ax_inv = fig.axes
    assert [line.get_label() for line in ax_dir.get_lines()] == ["lr", "biased"]
    assert ax_dir.get_xlabel() == "monthly charges (EUR per month)"
    assert "probability" in ax_dir.get_ylabel() and "customers" in ax_inv.get_ylabel()
    assert ax_dir.get_title() and ax_inv.get_title() and fig.get_suptitle()
    counts = sum(patch.get_height() for patch in ax_inv.patches)
    assert counts == 2 * len(X)  # one histogram of all rows per model
    with pytest.raises(ValueError, match="one to four"):
        ml_testing.behaviour_figure({}, X)
    with pytest.raises(ValueError, match="month-to-month"):
        ml_testing.behaviour_figure({"lr": models["lr"]}, X[X["contract"] == "two-year"])


# --------------------------------------------------------------------------- paired bootstrap


def _two_models(n: int = 1000, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels with 20 % positives, a weak model A, and model B = A plus more signal."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    a = rng.random(n) + 0.5 * y
    b = a + 0.6 * y * rng.random(n)
    return y, a, b


def test_bootstrap_of_identical_scores_is_exactly_zero():
    y, a, _ = _two_models()
    assert ml_testing.paired_bootstrap_difference(y, a, a.copy(), n_resamples=200) == (0, 0, 0)


def test_bootstrap_of_a_clearly_better_model_excludes_zero():
    y, a, b = _two_models()
    difference, low, high = ml_testing.paired_bootstrap_difference(y, a, b, seed=3)
    assert difference == pytest.approx(roc_auc_score(y, b) - roc_auc_score(y, a), abs=1e-12)
    assert 0 < low < difference < high
    flipped = ml_testing.paired_bootstrap_difference(y, b, a, seed=3)  # B - A, the other way
    assert flipped.difference == pytest.approx(-difference, abs=1e-12)
    assert flipped.high < 0


def test_bootstrap_of_two_noisy_copies_contains_zero():
    """Two models with the same signal and independent noise: the data cannot tell them apart."""
    rng = np.random.default_rng(5)
    y = (rng.random(1000) < 0.3).astype(int)
    a = y + rng.normal(0, 1.5, 1000)
    b = y + rng.normal(0, 1.5, 1000)
    _, low, high = ml_testing.paired_bootstrap_difference(y, a, b, seed=0)
    assert low < 0 < high


def test_bootstrap_matches_a_loop_over_scikit_learn_including_ties():
    """The vectorised ROC AUC gives the same interval as sklearn on the same resamples."""
    y, a, b = _two_models(n=300, seed=2)
    a, b = np.round(a, 1), np.round(b, 1)  # many ties
    fast = ml_testing.paired_bootstrap_difference(y, a, b, n_resamples=50, seed=4)
    slow = ml_testing.paired_bootstrap_difference(y, a, b, roc_auc_score, n_resamples=50, seed=4)
    assert fast == pytest.approx(slow, abs=1e-12)
    assert fast != ml_testing.paired_bootstrap_difference(y, a, b, n_resamples=50, seed=5)


def test_bootstrap_interval_narrows_with_confidence_and_labels_can_be_text():
    y, a, b = _two_models()
    wide = ml_testing.paired_bootstrap_difference(y, a, b, confidence=0.99)
    narrow = ml_testing.paired_bootstrap_difference(y, a, b, confidence=0.5)
    assert wide.low < narrow.low < narrow.high < wide.high
    text = np.where(y == 1, "yes", "no")  # "yes" > "no": the larger label is the positive one
    assert ml_testing.paired_bootstrap_difference(text, a, b) == pytest.approx(
        ml_testing.paired_bootstrap_difference(y, a, b), abs=1e-12
    )


def test_bootstrap_is_fast():
    y, a, b = _two_models()
    seconds = []
    for _ in range(3):  # the best of three: a busy machine slows single runs
        start = time.perf_counter()
        ml_testing.paired_bootstrap_difference(y, a, b, n_resamples=1000)
        seconds.append(time.perf_counter() - start)
    assert min(seconds) < 0.5  # 1,000 resamples of 1,000 rows, all at once


@pytest.mark.parametrize(
    ("y", "a", "b", "kwargs", "error"),
    [
        ([0, 1, 1], [0.1, 0.2], [0.1, 0.2, 0.3], {}, ValueError),
        ([1, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], {}, ValueError),
        ([0, 1, 2], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], {}, ValueError),
        ([0, 1, 1], [0.1, np.nan, 0.3], [0.1, 0.2, 0.3], {}, ValueError),
        ([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], {"n_resamples": 0}, ValueError),
        ([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], {"n_resamples": 10.5}, TypeError),
        ([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], {"confidence": 95}, ValueError),
        ([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], {"metric": "roc_auc"}, TypeError),
    ],
)
def test_bootstrap_refuses_bad_input(y, a, b, kwargs, error):
    with pytest.raises(error):
        ml_testing.paired_bootstrap_difference(y, a, b, **kwargs)
