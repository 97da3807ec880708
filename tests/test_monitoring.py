"""Tests of utils.monitoring: each drift statistic on known cases (textbook values, identical
samples, no drift at the stated false-alarm rate, a planted shift), the Monitor on streams of the
course scenario with planted drift, and clear errors for bad input.

False-alarm tests draw N seeded null samples and count the share of alerts. When the test is
calibrated, that share is a binomial proportion with standard error sqrt(alpha (1 - alpha) / N);
the tests allow three standard errors (a one-sided z of 3, a chance of about 0.1 % to fail if the
rate is exactly alpha). The seeds are fixed, so the outcome is the same on every run.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from utils import datasets, monitoring, training

FEATURES = list(datasets.CHURN_FEATURES)
UNTOUCHED = ["plan", "payment_method", "region", "late_payments"]  # covariate drift leaves them
DIRECT = ["monthly_charges", "usage_hours", "contract", "support_calls"]  # covariate drift moves


def _tolerance(alpha: float, n: int) -> float:
    return 3 * math.sqrt(alpha * (1 - alpha) / n)


# --------------------------------------------------------------------------- PSI


def test_psi_textbook_values() -> None:
    # 0.25 ln 2 + 0.25 ln 1.5, worked by hand
    assert monitoring.psi_from_shares([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.274653, abs=1e-6)
    # 0.1 ln 1.5 + 0 + (-0.1) ln 0.8
    value = monitoring.psi_from_shares([0.2, 0.3, 0.5], [0.3, 0.3, 0.4])
    assert value == pytest.approx(0.062861, abs=1e-6)
    # symmetric in its two arguments
    assert monitoring.psi_from_shares([0.3, 0.3, 0.4], [0.2, 0.3, 0.5]) == pytest.approx(value)


def test_psi_of_identical_samples_is_zero() -> None:
    x = np.random.default_rng(0).gamma(2.0, 3.0, size=5000)
    assert monitoring.psi(x, x) == 0.0
    assert monitoring.psi(pd.Series(x), pd.Series(x.copy())) == 0.0
    levels = pd.Series(["a", "b", "b", "c"] * 50, dtype="category")
    assert monitoring.psi(levels, levels) == 0.0
    assert monitoring.psi_from_shares([0.1, 0.9], [0.1, 0.9]) == 0.0


def test_empty_bins_get_the_stated_epsilon() -> None:
    eps = monitoring.PSI_EPSILON
    assert eps == 1e-4
    # the reference has no row in the second bin: its share is raised to 0.0001
    expected = (0.5 - 1.0) * math.log(0.5 / 1.0) + (0.5 - eps) * math.log(0.5 / eps)
    value = monitoring.psi_from_shares([1.0, 0.0], [0.5, 0.5])
    assert math.isfinite(value)
    assert value == pytest.approx(expected, rel=1e-12)
    assert value == pytest.approx(4.605, abs=1e-3)
    # a larger epsilon gives a smaller PSI for the same empty bin
    assert monitoring.psi_from_shares([1.0, 0.0], [0.5, 0.5], epsilon=0.01) < value
    # a level never seen in the reference is such an empty bin
    ref = pd.Series(["a"] * 50 + ["b"] * 50)
    cur = pd.Series(["a"] * 50 + ["c"] * 50)
    assert monitoring.psi(ref, cur) == pytest.approx(
        2 * (0.5 - eps) * math.log(0.5 / eps), rel=1e-12
    )


def test_binned_psi_of_a_normal_mean_shift_approaches_its_divergence() -> None:
    """For N(0,1) against N(d,1) the symmetric KL divergence is d**2; binning can only lose
    information, so the PSI on deciles is a little below it."""
    d = 0.5
    edges = norm.ppf(np.linspace(0, 1, 11)[1:-1])  # the exact deciles of N(0, 1)
    actual = np.diff(np.concatenate([[0.0], norm.cdf(edges - d), [1.0]]))
    value = monitoring.psi_from_shares(np.full(10, 0.1), actual)
    assert 0.9 * d**2 < value < d**2
    # and from samples, with the bins fixed on the reference
    rng = np.random.default_rng(1)
    sampled = monitoring.psi(rng.normal(size=20_000), rng.normal(d, 1, size=20_000))
    assert sampled == pytest.approx(value, abs=0.02)
    assert monitoring.psi_level(sampled) == "moderate"


def test_psi_bins_are_fixed_on_the_reference() -> None:
    edges = monitoring.psi_edges(np.arange(100))
    assert len(edges) == 9 and np.all(np.diff(edges) > 0)
    # every future value has a bin, also outside the reference's range
    shares = monitoring.psi_shares(np.array([-1000.0, 1000.0]), edges)
    assert shares[0] == 0.5 and shares[-1] == 0.5 and len(shares) == 10
    # a count column gets one bin per value (repeated quantiles merge)
    counts = np.random.default_rng(2).poisson(0.8, size=5000)
    edges = monitoring.psi_edges(counts)
    assert set(edges) <= set(range(10)) and len(edges) == len(set(edges))
    shares = monitoring.psi_shares(counts, edges)
    assert shares[0] == pytest.approx(np.mean(counts == 0))


def test_psi_of_null_batches_is_small_and_never_reaches_the_rule_of_thumb() -> None:
    """PSI of two samples of one population is about (bins - 1) (1/n + 1/m) by chance."""
    rng = np.random.default_rng(3)
    values = [monitoring.psi(rng.normal(size=8000), rng.normal(size=1000)) for _ in range(200)]
    expected = 9 * (1 / 1000 + 1 / 8000)
    assert 0.8 * expected < np.mean(values) < 1.2 * expected
    assert max(values) < monitoring.PSI_MODERATE


def test_psi_flags_a_planted_shift() -> None:
    rng = np.random.default_rng(4)
    assert monitoring.psi(rng.normal(size=8000), rng.normal(0.8, 1, size=1000)) >= 0.25
    ref = rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2], size=8000)
    cur = rng.choice(["a", "b", "c"], p=[0.2, 0.3, 0.5], size=1000)
    assert monitoring.psi_level(monitoring.psi(ref, cur)) == "major"


def test_psi_levels_follow_the_rules_of_thumb() -> None:
    assert [monitoring.psi_level(v) for v in (0.0, 0.099, 0.1, 0.2499, 0.25, 3.0)] == [
        "stable",
        "stable",
        "moderate",
        "moderate",
        "major",
        "major",
    ]
    with pytest.raises(TypeError):
        monitoring.psi_level(float("nan"))


def test_psi_rejects_bad_input_with_clear_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        monitoring.psi(np.array([]), np.array([1.0]))
    with pytest.raises(ValueError, match="empty"):
        monitoring.psi(np.array([1.0, 2.0]), [])
    with pytest.raises(ValueError, match="missing values"):
        monitoring.psi(np.array([1.0, np.nan]), np.array([1.0]))
    with pytest.raises(TypeError, match="numeric"):
        monitoring.psi(["a", "b"], ["a"], categorical=False)
    with pytest.raises(TypeError, match="DataFrame"):
        monitoring.psi(pd.DataFrame({"x": [1.0]}), [1.0])
    with pytest.raises(ValueError, match="sum to 1"):
        monitoring.psi_from_shares([10, 20], [15, 15])
    with pytest.raises(ValueError, match="same length"):
        monitoring.psi_from_shares([0.5, 0.5], [1.0])
    with pytest.raises(ValueError, match=">= 0"):
        monitoring.psi_from_shares([1.5, -0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="bins"):
        monitoring.psi_edges([1.0, 2.0], bins=1)


# --------------------------------------------------------------------------- KS and chi-squared


def test_ks_textbook_cases() -> None:
    separated = monitoring.ks_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert separated.test == "ks" and separated.statistic == 1.0
    x = np.random.default_rng(5).normal(size=500)
    same = monitoring.ks_test(x, x)
    assert same.statistic == 0.0 and same.pvalue == 1.0
    # half the batch beyond the reference's range: the CDFs differ by 0.5 at most
    assert monitoring.ks_test(np.arange(100.0), np.arange(50.0, 150.0)).statistic == 0.5


def test_ks_false_alarm_rate_is_alpha_without_drift() -> None:
    alpha, n = 0.05, 400
    rng = np.random.default_rng(6)
    pvalues = np.array(
        [monitoring.ks_test(rng.normal(size=8000), rng.normal(size=1000)).pvalue for _ in range(n)]
    )
    share = float(np.mean(pvalues < alpha))
    assert abs(share - alpha) <= _tolerance(alpha, n)


def test_ks_detects_a_planted_shift() -> None:
    rng = np.random.default_rng(7)
    result = monitoring.ks_test(rng.normal(size=8000), rng.normal(0.3, 1, size=1000))
    assert result.pvalue < 1e-6 and 0.08 < result.statistic < 0.18


def test_chi2_textbook_value() -> None:
    # expected 15 in every cell: chi2 = 4 * 5**2 / 15 = 6.667 with 1 degree of freedom
    ref = ["yes"] * 10 + ["no"] * 20
    cur = ["yes"] * 20 + ["no"] * 10
    result = monitoring.chi2_test(ref, cur)
    assert result.test == "chi2"
    assert result.statistic == pytest.approx(20 / 3)
    assert result.pvalue == pytest.approx(0.009823, abs=1e-6)
    assert monitoring.chi2_test(["a"] * 5, ["a"] * 7) == monitoring.DriftTest("chi2", 0.0, 1.0)


def test_chi2_false_alarm_rate_is_alpha_without_drift() -> None:
    alpha, n = 0.05, 300
    rng = np.random.default_rng(8)
    p = [0.4, 0.3, 0.2, 0.1]
    pvalues = np.array(
        [
            monitoring.chi2_test(rng.choice(4, 8000, p=p), rng.choice(4, 1000, p=p)).pvalue
            for _ in range(n)
        ]
    )
    share = float(np.mean(pvalues < alpha))
    assert abs(share - alpha) <= _tolerance(alpha, n)


def test_chi2_detects_a_planted_shift_and_a_new_level() -> None:
    rng = np.random.default_rng(9)
    ref = rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2], size=8000)
    cur = rng.choice(["a", "b", "c"], p=[0.4, 0.3, 0.3], size=1000)
    assert monitoring.chi2_test(ref, cur).pvalue < 1e-6
    assert monitoring.chi2_test(ref, np.append(cur[:980], ["d"] * 20)).pvalue < 1e-6


def test_tests_reject_bad_input() -> None:
    with pytest.raises(TypeError, match="chi2_test"):
        monitoring.ks_test(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="ks_test"):
        monitoring.chi2_test([0.5, 1.5], [0.5])
    with pytest.raises(ValueError, match="empty"):
        monitoring.ks_test([], [1.0])
    with pytest.raises(ValueError, match="empty"):
        monitoring.chi2_test(["a"], [])
    with pytest.raises(TypeError, match="Series"):
        monitoring.ks_test({1, 2}, [1.0])


# --------------------------------------------------------------------------- thresholds


def test_thresholds_bonferroni_and_validation() -> None:
    rules = monitoring.Thresholds()
    assert (rules.psi, rules.alpha, rules.correction) == (0.1, 0.05, "bonferroni")
    assert rules.pvalue_threshold(10) == pytest.approx(0.005)
    assert monitoring.Thresholds(correction="none").pvalue_threshold(10) == 0.05
    assert monitoring.Thresholds(retrain_on=["performance"]).retrain_on == ("performance",)
    with pytest.raises(ValueError, match="alpha"):
        monitoring.Thresholds(alpha=1.5)
    with pytest.raises(ValueError, match="correction"):
        monitoring.Thresholds(correction="holm")
    with pytest.raises(ValueError, match="retrain_on"):
        monitoring.Thresholds(retrain_on=("drift",))
    with pytest.raises(ValueError, match="n_tests"):
        rules.pvalue_threshold(0)


# --------------------------------------------------------------------------- the Monitor


@pytest.fixture(scope="module")
def model_and_reference() -> tuple[object, pd.DataFrame]:
    """Weeks 0-7 of 500 customers and a logistic regression trained on them."""
    data = datasets.make_churn(n_per_period=500, periods=8, seed=11)
    result = training.train(training.TrainConfig("logistic_regression", seed=11), data)
    return result.model, data


@pytest.fixture(scope="module")
def monitor(model_and_reference) -> monitoring.Monitor:
    model, reference = model_and_reference
    return monitoring.Monitor(reference, model)


def _stream(**drift: float) -> pd.DataFrame:
    """Weeks 8-19 of the same scenario (seed 11), with the drift asked for from week 14."""
    data = datasets.make_churn(n_per_period=500, periods=20, seed=11, drift_start=14, **drift)
    return data[data["period"] >= 8]


def test_monitor_knows_its_features_and_reference(monitor) -> None:
    assert monitor.kinds["monthly_charges"] == "numeric"
    assert monitor.kinds["contract"] == "categorical"
    assert monitor.n_tests == len(FEATURES) + 1
    assert monitor.pvalue_threshold == pytest.approx(0.05 / 10)
    assert 0.78 < monitor.reference_performance["roc_auc"] < 0.9


def test_a_batch_from_the_reference_itself_raises_no_alert(monitor, model_and_reference) -> None:
    _, reference = model_and_reference
    report = monitor.check(reference[reference["period"] == 3], week=3)
    table = report.table
    assert not report.retrain and report.reasons == ()
    assert table.loc[table["statistic"] == "psi", "value"].max() < 0.05
    assert set(table["statistic"]) == {"psi", "ks_pvalue", "chi2_pvalue", "drift"}
    assert list(table.columns) == [
        "week",
        "reported_week",
        "feature",
        "kind",
        "statistic",
        "value",
        "threshold",
        "alert",
    ]
    assert "no retraining" in str(report) and "no alert" in str(report)


@pytest.mark.slow
def test_family_wise_false_alarm_rate_over_null_weeks(monitor) -> None:
    """No drift: the share of weeks in which any of the 10 tests alerts (Bonferroni) stays at or
    below alpha (plus three standard errors), and the combined drift rule never fires."""
    n_weeks = 120
    data = datasets.make_churn(n_per_period=500, periods=8 + n_weeks, seed=11)
    result = monitoring.monitor_stream(monitor, data[data["period"] >= 8], label_delay=None)
    tests = result.table[result.table["statistic"].str.endswith("_pvalue")]
    weeks_with_test_alert = tests.loc[tests["alert"], "week"].nunique()
    alpha = monitor.thresholds.alpha
    assert weeks_with_test_alert / n_weeks <= alpha + _tolerance(alpha, n_weeks)
    # without the correction, far more single tests would alert
    assert (tests["value"] < alpha).sum() > tests["alert"].sum()
    assert result.alert_weeks("any") == []


def test_covariate_drift_alerts_after_the_start_on_the_drifted_features(monitor) -> None:
    result = monitoring.monitor_stream(monitor, _stream(covariate_drift=1.5), label_delay=2)
    assert result.first_alert_week("feature_drift") >= 14
    assert all(week >= 14 for week in result.alert_weeks("any"))
    drifted = result.drifted_features()
    assert {"monthly_charges", "support_calls", "usage_hours"} <= set(drifted)
    assert not set(drifted) & set(UNTOUCHED)
    assert result.drift_weeks("monthly_charges")[0] == 14
    assert (
        result.alert_weeks("prediction_drift") and min(result.alert_weeks("prediction_drift")) >= 14
    )
    last = result.reports[-1]
    assert last.retrain and any(r.startswith("feature drift") for r in last.reasons)


def test_concept_drift_is_invisible_to_drift_statistics_but_not_to_performance(monitor) -> None:
    result = monitoring.monitor_stream(monitor, _stream(concept_drift=1.0), label_delay=2)
    assert result.alert_weeks("feature_drift") == []
    assert result.alert_weeks("prediction_drift") == []
    perf = result.performance()
    before = perf.loc[perf["week"] < 14, "roc_auc"].mean()
    after = perf.loc[perf["week"] >= 15, "roc_auc"].mean()
    assert after < before - 0.04
    alerts = result.alert_weeks("performance")
    assert alerts and min(alerts) >= 14 + 2  # labels arrive two weeks late
    assert (perf["reported_week"] == perf["week"] + 2).all()


def test_stream_summary_and_late_labels(monitor) -> None:
    stream = _stream()
    result = monitoring.monitor_stream(monitor, stream, label_delay=3)
    summary = result.summary
    assert list(summary["week"]) == list(range(8, 20))
    assert summary["labelled_week"].isna().sum() == 3
    assert list(summary["labelled_week"].dropna()) == list(range(8, 17))
    assert summary["roc_auc"].notna().sum() == 9
    week_10 = stream[stream["period"] == 10]
    expected = monitor.performance(week_10, week_10["churned"])
    row = summary.set_index("week").loc[13]
    assert row["roc_auc"] == pytest.approx(expected["roc_auc"])
    assert row["cost_per_customer_eur"] == pytest.approx(expected["cost_per_customer_eur"])
    assert result.values("psi").shape == (len(FEATURES) + 1, 12)
    none = monitoring.monitor_stream(monitor, stream, label_delay=None)
    assert (none.table["kind"] != "performance").all()
    assert none.performance().empty


def test_check_with_labels_and_retrain_rules(model_and_reference) -> None:
    model, reference = model_and_reference
    stream = _stream(covariate_drift=1.5)
    late = stream[stream["period"] == 19]
    only_performance = monitoring.Monitor(
        reference, model, thresholds=monitoring.Thresholds(retrain_on=("performance",))
    )
    report = only_performance.check(late, late["churned"], week=19)
    assert report.drifted_features and not report.performance_alert
    assert not report.retrain  # drift alone does not ask for retraining under this rule
    assert report.performance is not None and set(report.performance) == {
        "roc_auc",
        "accuracy",
        "cost_per_customer_eur",
        "churn_rate",
        "mean_score",
        "prediction_bias",
        "roc_auc_se",
    }
    performance = report.performance
    assert performance["prediction_bias"] == pytest.approx(
        performance["mean_score"] - performance["churn_rate"]
    )
    with pytest.raises(ValueError, match="not both"):
        only_performance.check(late, late["churned"], labelled=late)
    with pytest.raises(ValueError, match="one label per row"):
        only_performance.check(late, late["churned"].iloc[:5])


def test_monitor_rejects_bad_batches_with_clear_errors(monitor, model_and_reference) -> None:
    _, reference = model_and_reference
    batch = reference[reference["period"] == 0]
    with pytest.raises(ValueError, match="empty"):
        monitor.check(batch.iloc[:0])
    with pytest.raises(ValueError, match=r"lacks the feature column\(s\) \['region'\]"):
        monitor.check(batch.drop(columns="region"))
    with pytest.raises(TypeError, match="monthly_charges.*numeric"):
        monitor.check(batch.assign(monthly_charges=batch["monthly_charges"].astype(str)))
    with pytest.raises(TypeError, match="categorical"):
        monitor.check(batch.assign(contract=np.linspace(0, 1, len(batch))))
    with pytest.raises(ValueError, match="missing values"):
        monitor.check(batch.assign(usage_hours=np.nan))
    with pytest.raises(TypeError, match="DataFrame"):
        monitor.check(batch.to_numpy())
    with pytest.raises(TypeError, match="predict_proba"):
        monitoring.Monitor(reference, object())
    with pytest.raises(ValueError, match="label column"):
        monitoring.monitor_stream(monitor, batch.drop(columns="churned"))
    with pytest.raises(ValueError, match="label_delay"):
        monitoring.monitor_stream(monitor, batch, label_delay=-1)
    with pytest.raises(ValueError, match="period column"):
        monitoring.monitor_stream(monitor, batch, period_column="week")


# --------------------------------------------------------------------------- plots


def test_dashboard_and_plots_are_labelled(monitor, model_and_reference) -> None:
    _, reference = model_and_reference
    result = monitoring.monitor_stream(monitor, _stream(covariate_drift=1.5), label_delay=2)
    fig = monitoring.dashboard(result, drift_start=14, title="test dashboard")
    assert fig.get_suptitle() == "test dashboard"
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(axes) == 3
    for ax in axes:
        assert ax.get_title() or ax.get_ylabel()
        assert ax.get_ylabel()
    heat = axes[0]
    assert len(heat.get_yticklabels()) == len(FEATURES) + 1
    assert "PSI" in heat.get_title() and axes[2].get_xlabel()
    assert "EUR" in axes[2].get_ylabel()
    single = monitoring.drift_heatmap(result, drift_start=14)
    assert single.axes[0].get_xlabel() == "production week"
    perf = monitoring.performance_figure(result)
    assert "ROC AUC" in perf.axes[0].get_ylabel()
    week = _stream(covariate_drift=1.5)
    last = week[week["period"] == 19]
    dist = monitoring.distribution_figure(
        reference["monthly_charges"], last["monthly_charges"], unit="EUR per month"
    )
    assert "PSI" in dist.axes[0].get_title() and "EUR" in dist.axes[0].get_xlabel()
    with pytest.raises(TypeError, match="monitor_stream"):
        monitoring.dashboard(result.summary)


# --------------------------------------------------------------------------- bias, intervals,
# batch sizes, CUSUM and missing values


def test_prediction_bias_is_mean_score_minus_label_rate() -> None:
    assert monitoring.prediction_bias([0.2, 0.4, 0.6, 0.8], [0, 0, 1, 1]) == pytest.approx(0.0)
    assert monitoring.prediction_bias([0.1, 0.1, 0.1, 0.1], [0, 1, 1, 0]) == pytest.approx(-0.4)
    with pytest.raises(ValueError, match="0 \\(stayed\\)"):
        monitoring.prediction_bias([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="probabilities"):
        monitoring.prediction_bias([1.5, 0.2], [0, 1])


def test_auc_standard_error_matches_the_mann_whitney_variance_at_chance() -> None:
    # At AUC 0.5 Hanley and McNeil's formula is the null variance of the Mann-Whitney
    # statistic: (n1 + n0 + 1) / (12 n1 n0).
    for n1, n0 in ((100, 100), (220, 780)):
        expected = math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
        assert monitoring.auc_standard_error(0.5, n1, n0) == pytest.approx(expected)
    # and it shrinks as the AUC nears 1 and as the classes grow
    assert monitoring.auc_standard_error(0.9, 100, 100) < monitoring.auc_standard_error(
        0.7, 100, 100
    )
    assert monitoring.auc_standard_error(0.8, 400, 400) == pytest.approx(
        monitoring.auc_standard_error(0.8, 100, 100) / 2, rel=0.01
    )
    # against a simulation: the spread of the ROC AUC of weeks of 1,000 scored customers
    rng = np.random.default_rng(3)
    aucs = []
    for _ in range(300):
        y = rng.random(1000) < 0.25
        scores = rng.normal(size=1000) + 1.2 * y
        aucs.append(roc_auc_score(y, scores))
    se = monitoring.auc_standard_error(float(np.mean(aucs)), 250, 750)
    assert np.std(aucs) == pytest.approx(se, rel=0.15)
    with pytest.raises(ValueError):
        monitoring.auc_standard_error(0.8, 0, 10)


def test_chance_psi_formula_and_the_sweep_agree() -> None:
    assert monitoring.chance_psi(90) == pytest.approx(0.1)
    assert monitoring.chance_psi(1000, bins=5) == pytest.approx(0.004)
    assert monitoring.chance_psi(1000, reference_n=8000) == pytest.approx(0.009 + 9 / 8000)
    sweep = monitoring.drift_rule_sweep([100, 1000, 10000], [0.0], repeats=200, seed=1)
    for row in sweep.itertuples():
        assert row.mean_psi == pytest.approx(
            monitoring.chance_psi(row.n, reference_n=8000), rel=0.15
        )
        assert row.test_fires <= 0.005 + 3 * math.sqrt(0.005 / 200) + 1e-9  # the test keeps alpha


def test_the_test_decides_small_batches_and_the_psi_large_ones() -> None:
    shifts = np.round(np.arange(0, 0.62, 0.02), 2)
    sweep = monitoring.drift_rule_sweep([100, 1000, 100_000], shifts, repeats=100, seed=0)
    deciders = monitoring.drift_rule_deciders(sweep).set_index("n")
    assert deciders.loc[100, "decides"] == "test"
    assert deciders.loc[1000, "decides"] == "PSI"
    assert deciders.loc[100_000, "decides"] == "PSI"
    # the rule needs the larger of the two shifts
    for row in deciders.itertuples():
        assert row.rule_detects >= max(row.test_detects, row.psi_detects) - 0.02
    # a population PSI of 0.1 is a shift of about a third of a standard deviation
    assert 0.28 <= deciders.loc[100_000, "psi_detects"] <= 0.38
    fig = monitoring.batch_size_figure(deciders.reset_index())
    assert all(ax.get_xlabel() for ax in fig.axes) and all(ax.get_title() for ax in fig.axes)
    with pytest.raises(ValueError, match="multiple"):
        monitoring.drift_rule_sweep([100], [0.0], grid=55)


def test_cusum_textbook_sequence_and_reset() -> None:
    statistic, alarms = monitoring.cusum([0.0, 1.0, 2.0, 3.0, -5.0, 0.0], k=0.5, h=3.0)
    assert statistic.tolist() == [0.0, 0.5, 2.0, 4.5, 0.0, 0.0]  # 4.5 > 3: alarm, then reset
    assert alarms.tolist() == [False, False, False, True, False, False]
    _, kept = monitoring.cusum([2.0, 2.0, 2.0, 2.0], k=0.5, h=2.0, reset=False)
    assert kept.tolist() == [False, True, True, True]
    # a small persistent shift: CUSUM alarms, a weekly test at the same z never does
    z = np.full(30, 1.0)
    assert monitoring.cusum(z)[1].any() and not (z > 3.09).any()
    with pytest.raises(ValueError):
        monitoring.cusum([1.0], h=0)


def test_missing_values_are_monitored_instead_of_raising(model_and_reference) -> None:
    model, reference = model_and_reference
    watcher = monitoring.Monitor(reference, model, missing="monitor")
    batch = reference[reference["period"] == 0].copy()
    assert watcher.check(batch).missing_features == ()
    broken = batch.copy()
    broken.loc[broken.index[:300], "support_calls"] = np.nan
    report = watcher.check(broken, broken["churned"])
    assert report.missing_features == ("support_calls",)
    assert any("missing values rose" in reason for reason in report.reasons)
    share = report.table[
        (report.table["statistic"] == "missing_share")
        & (report.table["feature"] == "support_calls")
    ]["value"]
    assert share.iloc[0] == pytest.approx(300 / len(batch))
    assert report.performance is not None  # measured on the complete rows
    empty = batch.assign(usage_hours=np.nan)
    assert "usage_hours" in watcher.check(empty).missing_features
    with pytest.raises(ValueError, match="missing must be"):
        monitoring.Monitor(reference, model, missing="ignore")


def test_bias_kpi_and_interval_alerts(model_and_reference) -> None:
    model, reference = model_and_reference
    late = _stream(concept_drift=1.0)
    late = late[late["period"] == 19]
    default = monitoring.Monitor(reference, model)
    plain = default.check(late, late["churned"])
    assert not plain.bias_alert and not plain.kpi_alert  # not checked unless asked for
    strict = monitoring.Monitor(
        reference,
        model,
        thresholds=monitoring.Thresholds(prediction_bias=0.02, cost_increase_eur=5.0, roc_auc_z=3),
    )
    report = strict.check(late, late["churned"])
    assert report.performance["prediction_bias"] < -0.02  # concept drift: more churn than scored
    assert report.bias_alert and report.kpi_alert
    assert any("prediction bias" in r for r in report.reasons)
    assert any("business KPI" in r for r in report.reasons)
    se = math.hypot(report.performance["roc_auc_se"], strict.reference_performance["roc_auc_se"])
    assert strict.auc_limit(report.performance) == pytest.approx(
        strict.reference_performance["roc_auc"] - 3 * se
    )
    with pytest.raises(ValueError, match="roc_auc_z"):
        monitoring.Thresholds(roc_auc_z=0)
