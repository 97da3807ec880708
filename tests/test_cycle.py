"""utils.cycle with real components: the monitor, the data tests, the gate, and (for the recorded
runs) the test session's tracking server and registry."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from utils import cycle, datasets, registry, tracking, training
from utils.monitoring import Thresholds

FEATURES = list(datasets.CHURN_FEATURES)
SMALL = cycle.Scenario(n_per_month=300, months=10, drift_start=6, covariate_drift=0.4)


@pytest.fixture(scope="module")
def default_runs() -> dict[str, cycle.CycleRun]:
    """Three of the notebook's policies on the notebook's stream, not recorded."""
    policies = [cycle.never(), cycle.scheduled(3), cycle.drift_triggered()]
    return cycle.run_policies(policies, cycle.Scenario(), progress=False)


@pytest.fixture(scope="module")
def never_on_small() -> Callable[[cycle.Offers | None], cycle.CycleRun]:
    """``never`` on the small stream with the given offers, run once per offers for the module
    (several tests compare the same runs)."""
    runs: dict[cycle.Offers | None, cycle.CycleRun] = {}

    def run(offers: cycle.Offers | None) -> cycle.CycleRun:
        if offers not in runs:
            runs[offers] = cycle.run_cycle(cycle.never(), SMALL, offers=offers)
        return runs[offers]

    return run


# --------------------------------------------------------------------------- the scenario


def test_scenario_months_and_labels() -> None:
    scenario = cycle.Scenario()
    assert list(scenario.production) == list(range(3, 18))
    assert scenario.month_label(0) == "2025-01" and scenario.month_label(8) == "2025-09"
    data = scenario.data()
    assert len(data) == 800 * 18 and sorted(data["period"].unique()) == list(range(18))
    assert data.equals(scenario.data())  # deterministic
    scenario.schema().validate(data)  # the notebook-04 schema accepts the whole stream
    assert scenario.as_params()["scenario.drift_start"] == 8


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"history_months": 18}, ValueError, "history_months"),
        ({"history_months": 1}, ValueError, "history_months"),
        ({"drift_start": 19}, ValueError, "drift_start"),
        ({"n_per_month": 10}, ValueError, "n_per_month"),
        ({"months": 12.0}, TypeError, "months"),
        ({"concept_drift": -0.1}, ValueError, "concept_drift"),
        ({"start": 2025}, TypeError, "start"),
    ],
)
def test_scenario_rejects_bad_fields(kwargs: dict, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        cycle.Scenario(**kwargs)


# --------------------------------------------------------------------------- policies


def test_policies_decide_as_described() -> None:
    from utils.exercises.nb10 import make_report

    calm, alarm = make_report(), make_report(drifted=("monthly_charges",))
    assert cycle.never().decide(5, alarm, 2) is None
    schedule = cycle.scheduled(3)
    assert [m for m in range(3, 12) if schedule.decide(m, calm, 2)] == [5, 8, 11]
    trigger = cycle.drift_triggered()
    assert trigger.decide(5, calm, 2) is None
    assert "monthly_charges" in trigger.decide(5, alarm, 2)
    custom = cycle.drift_triggered(rule=lambda report: report.performance_alert)
    assert custom.name == "custom-trigger" and custom.decide(5, alarm, 2) is None
    assert custom.decide(5, make_report(performance_alert=True), 2).startswith("custom rule")
    broken = cycle.drift_triggered(rule=lambda report: "yes")
    with pytest.raises(TypeError, match="True"):
        broken.decide(5, alarm, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"name": "Drift Triggered", "kind": "trigger"}, ValueError, "lowercase"),
        ({"name": "x", "kind": "sometimes"}, ValueError, "kind"),
        ({"name": "x", "kind": "schedule"}, TypeError, "every"),
        ({"name": "x", "kind": "schedule", "every": 0}, ValueError, "every"),
        ({"name": "x", "kind": "never", "every": 3}, ValueError, "schedules only"),
        ({"name": "x", "kind": "never", "rule": bool}, ValueError, "trigger"),
        ({"name": "x", "kind": "trigger", "thresholds": {"psi": 0.1}}, TypeError, "Thresholds"),
    ],
)
def test_policy_rejects_bad_fields(kwargs: dict, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        cycle.Policy(**kwargs)


def test_schedule_months_count_from_the_first_model() -> None:
    scenario = cycle.Scenario()
    assert cycle.schedule_months(scenario, 3) == [5, 8, 11, 14, 17]
    assert cycle.schedule_months(scenario, 4) == [6, 10, 14]
    assert cycle.schedule_months(scenario, 20) == []
    with pytest.raises(TypeError, match="Scenario"):
        cycle.schedule_months("default", 3)
    with pytest.raises(ValueError, match="every"):
        cycle.schedule_months(scenario, 0)


# --------------------------------------------------------------------------- the loop


def test_never_retrain_serves_the_first_model_all_year(default_runs: dict) -> None:
    never = default_runs["never"]
    assert never.n_retrains == 0 and set(never.months["model"]) == {"0-1"}
    assert list(never.months["month"]) == list(range(3, 18))
    # The loop's monthly cost is the cost of the first model's decisions at the break-even
    # threshold, computed independently; the control group's customers got no offer.
    threshold = datasets.ChurnCosts().break_even_probability()
    assert never.threshold == threshold == cycle.break_even_threshold()
    data = cycle.Scenario().data()
    first = training.train(cycle.cycle_config(42), data[data["period"] <= 1]).model
    month = data[data["period"] == 12]
    metrics = training.evaluate(
        first, month[FEATURES], month["churned"], datasets.ChurnCosts(), threshold=threshold
    )
    row = never.months.set_index("month").loc[12]
    assert row["cost_eur"] - row["control_cost_eur"] == pytest.approx(metrics["business_cost_eur"])
    assert row["control_cost_eur"] > 0 and row["control_flagged"] > 0
    assert row["offers"] + row["control_flagged"] == metrics["tp"] + metrics["fp"]
    assert row["accuracy"] == metrics["accuracy"]
    assert np.array_equal(never.model.predict_proba(month[FEATURES]), first.predict_proba(
        month[FEATURES]))  # fmt: skip


def test_alerts_fire_where_drift_was_planted_and_not_before(default_runs: dict) -> None:
    never = default_runs["never"]
    months = never.months.set_index("month")
    # Drift in the inputs shows only where it was planted, and from month 11 on every month;
    # before it, only the performance alert fires by chance (a false alarm on one month's labels).
    assert not months.loc[:7, "reasons"].str.contains("drift").any()
    assert months.loc[11:, "alert"].all()
    assert set(never.alert_months) - set(range(8, 18)) == {5}
    assert "performance" in months.loc[5, "reasons"]


def test_compare_policies_adds_up(default_runs: dict) -> None:
    table = cycle.compare_policies(default_runs)
    never, triggered = table.loc["never"], table.loc["drift-triggered"]
    assert triggered["accuracy_before_drift"] == never["accuracy_before_drift"]
    assert table.loc["never", "saving_vs_first_eur"] == 0.0
    assert triggered["saving_vs_first_eur"] == never["total_cost_eur"] - triggered["total_cost_eur"]
    cost = cycle.RETRAIN_COST_EUR
    assert (table["total_cost_eur"] == table["business_cost_eur"] + table["retrains"] * cost).all()
    assert table.loc["never", "retraining_cost_eur"] == 0.0
    runs = default_runs["drift-triggered"].retrains
    assert [r.month for r in runs] == default_runs["drift-triggered"].alert_months
    first = str(default_runs["never"].initial)
    assert "months 0-1" in first and "no champion yet" in first and "PROMOTED" in first
    assert triggered["retrains"] == len(runs) and triggered["rejected"] == sum(
        not r.gate_passed for r in runs
    )


def test_a_promoted_model_serves_from_the_next_month(default_runs: dict) -> None:
    run = default_runs["every-3-months"]
    months = run.months.set_index("month")
    for record in run.retrains:
        if record.gate_passed and record.month + 1 in months.index:
            trained = f"{record.train_months[0]}-{record.train_months[1]}"
            assert months.loc[record.month + 1, "model"] == trained
            assert months.loc[record.month, "model"] != trained
        assert record.eval_month == record.month - 1
        assert record.train_months == (record.month - 3, record.month - 2)
    rejected = [r for r in run.retrains if not r.gate_passed]
    assert rejected and all(r.failed_checks for r in rejected)
    assert run.n_promotions == len(run.retrains) - len(rejected)


def test_no_drift_no_drift_alert() -> None:
    quiet = cycle.Scenario(n_per_month=500, months=12, drift_start=12)
    run = cycle.run_cycle(cycle.drift_triggered(), quiet)
    # Nothing drifts, so no drift alert; the performance alert on one month's customers without
    # an offer (a few hundred) fires by chance now and then, and the trigger follows it.
    assert not run.months["reasons"].str.contains("drift").any()
    assert all(r.reason.startswith("performance") for r in run.retrains)
    assert [r.month for r in run.retrains] == run.alert_months
    deaf = cycle.drift_triggered(Thresholds(roc_auc_drop=1.0), name="deaf")
    assert cycle.run_cycle(deaf, quiet, reuse=run).n_retrains == 0


def test_reuse_gives_the_same_result(default_runs: dict) -> None:
    again = cycle.run_cycle(cycle.scheduled(3), cycle.Scenario(), reuse=default_runs["never"])
    assert again.months.equals(default_runs["every-3-months"].months)
    assert [r.month for r in again.retrains] == [5, 8, 11, 14, 17]
    with pytest.raises(ValueError, match="same scenario"):
        cycle.run_cycle(cycle.never(), SMALL, reuse=default_runs["never"])


@pytest.mark.slow
def test_bad_data_stop_a_retraining_and_the_champion_stays() -> None:
    data = SMALL.data()
    bad = data["period"] == 4
    data.loc[bad, "monthly_charges"] = data.loc[bad, "monthly_charges"] * 100  # cents
    run = cycle.run_cycle(cycle.scheduled(1), SMALL, data=data)
    stopped = [r for r in run.retrains if not r.validated]
    # Month 4 is the evaluation month of the retraining at the end of month 5, and training
    # data of those at the end of months 6 and 7 (two-month window).
    assert [r.month for r in stopped] == [5, 6, 7]
    assert all(not r.gate_passed and r.failed_checks == ("data tests",) for r in stopped)
    assert all(r.validated for r in run.retrains if r.month not in (5, 6, 7))
    served = run.months.set_index("month")["model"]
    assert served[6] == served[5] and served[7] == served[5] and served[8] == served[5]
    assert "validated" not in str(stopped[0]) and "data tests failed" in str(stopped[0])


@pytest.mark.slow
def test_custom_thresholds_are_used_even_when_work_is_shared() -> None:
    deaf = cycle.drift_triggered(Thresholds(psi=10.0, roc_auc_drop=1.0), name="deaf")
    runs = cycle.run_policies([cycle.drift_triggered(), deaf], SMALL, progress=False)
    assert runs["drift-triggered"].n_retrains > 0  # the default monitor alerts...
    assert runs["deaf"].alert_months == [] and runs["deaf"].n_retrains == 0  # ...this one cannot


def test_run_cycle_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="Policy"):
        cycle.run_cycle("never", SMALL)
    with pytest.raises(TypeError, match="Scenario"):
        cycle.run_cycle(cycle.never(), {"months": 10})
    with pytest.raises(ValueError, match="window"):
        cycle.run_cycle(cycle.never(), SMALL, window=3)
    with pytest.raises(ValueError, match="lacks the month"):
        cycle.run_cycle(cycle.never(), SMALL, data=SMALL.data().query("period < 5"))
    with pytest.raises(ValueError, match="lacks the column"):
        cycle.run_cycle(cycle.never(), SMALL, data=SMALL.data().drop(columns="churned"))
    with pytest.raises(TypeError, match="config"):
        cycle.run_cycle(cycle.never(), SMALL, config={"model": "logistic_regression"})
    with pytest.raises(ValueError, match="own name"):
        cycle.run_policies([cycle.never(), cycle.never()], SMALL)
    with pytest.raises(TypeError, match="list"):
        cycle.run_policies(cycle.never(), SMALL)
    with pytest.raises(ValueError, match="model_names"):
        cycle.run_policies([cycle.never()], SMALL, model_names={"other": "m"})


# --------------------------------------------------------------------------- recorded runs


@pytest.mark.slow
def test_recorded_runs_match_the_registry_across_two_executions() -> None:
    tracking.connect(quiet=True)
    experiment_id = tracking.use_experiment("test-cycle")
    suffix = uuid.uuid4().hex[:8]
    policies = [cycle.never(), cycle.scheduled(1)]
    names = {p.name: tracking.model_name(f"test-cycle-{p.name}-{suffix}") for p in policies}
    first = cycle.run_policies(policies, SMALL, model_names=names, progress=False)
    second = cycle.run_policies(policies, SMALL, model_names=names, progress=False)
    client = MlflowClient()
    for runs in (first, second):
        execution = runs["never"].execution_id
        assert execution == runs["monthly"].execution_id
        for name, run in runs.items():
            moves = cycle.registry_promotions(names[name], execution)
            assert [m.version for m in moves] == run.promoted_versions
            assert all(m.action == "promote" and m.alias == "champion" for m in moves)
            parent = client.get_run(run.run_id)
            assert parent.info.run_name == f"policy-{name}" and parent.info.status == "FINISHED"
            assert parent.data.metrics["total_cost_eur"] == run.total_cost_eur
            assert parent.data.params["decision_threshold"] == str(round(1 / 3, 6))
            assert parent.data.metrics["n_retrains"] == run.n_retrains
            steps = client.get_metric_history(run.run_id, "cost_eur")
            assert [m.step for m in steps] == list(SMALL.production)
            for record in run.retrains:
                child = client.get_run(record.run_id)
                assert child.data.tags["mlflow.parentRunId"] == run.run_id
                assert child.data.tags["gate"] == ("passed" if record.gate_passed else "rejected")
                assert (record.version is not None) == record.gate_passed
    # The second execution's versions follow the first's; the alias ends on its last promotion.
    scheduled = names["monthly"]
    assert registry.version_of(scheduled) == second["monthly"].promoted_versions[-1]
    n_first = len(first["monthly"].promoted_versions)
    assert int(second["monthly"].promoted_versions[0]) == n_first + 1
    same = [c for c in first["monthly"].months.columns if c != "version"]
    assert second["monthly"].months[same].equals(first["monthly"].months[same])
    # The first model was logged once per execution and registered in both models.
    initial = mlflow.search_runs(
        [experiment_id], filter_string="attributes.run_name = 'initial-model'"
    )
    assert len(initial[initial["tags.execution_id"].isin([first["never"].execution_id])]) == 1
    never_v1 = client.get_model_version(names["never"], "1")
    scheduled_v1 = client.get_model_version(scheduled, "1")
    assert never_v1.source == scheduled_v1.source
    # The registry's champion predicts exactly like the loop's final model.
    X = SMALL.data().query("period == 9")[FEATURES]
    loaded = registry.load_model(scheduled)
    assert np.array_equal(loaded.predict_proba(X), second["monthly"].model.predict_proba(X))


def test_registry_promotions_checks_its_input() -> None:
    with pytest.raises(ValueError, match="execution_id"):
        cycle.registry_promotions("some-model", " ")


# --------------------------------------------------------------------------- tables, figures


def test_compare_policies_checks_its_input(default_runs: dict, never_on_small: Callable) -> None:
    with pytest.raises(TypeError, match="CycleRun"):
        cycle.compare_policies([])
    other = never_on_small(cycle.DEFAULT_OFFERS)  # run_cycle(cycle.never(), SMALL)
    with pytest.raises(ValueError, match="same stream"):
        cycle.compare_policies([default_runs["never"], other])


def test_policies_figure_has_titles_labels_and_markers(default_runs: dict) -> None:
    fig = cycle.policies_figure(default_runs)
    axes = fig.get_axes()
    assert len(axes) == 3
    assert all(ax.get_title() and ax.get_ylabel() for ax in axes)
    assert "EUR" in axes[1].get_ylabel() and axes[2].get_xlabel()
    n_markers = sum(len(c.get_offsets()) for c in axes[0].collections)
    assert n_markers == sum(r.n_retrains for r in default_runs.values())
    with pytest.raises(TypeError, match="CycleRun"):
        cycle.policies_figure([1, 2])


def test_cycle_figure_counts_what_each_step_did(default_runs: dict) -> None:
    run = default_runs["drift-triggered"]
    texts = [t.get_text() for t in cycle.cycle_figure(run).get_axes()[0].texts]
    assert f"{run.n_promotions} promotions" in texts
    assert f"{len(run.alert_months)} months alerted" in texts
    plain = cycle.cycle_figure()
    assert len({p.get_gid() for p in plain.get_axes()[0].patches if p.get_gid()}) == 7
    with pytest.raises(TypeError, match="CycleRun"):
        cycle.cycle_figure("run")


def test_maturity_table() -> None:
    table = cycle.maturity_table({1: "the loop"})
    assert list(table.index) == [0, 1, 2]
    assert table.loc[1, "name"] == "ML pipeline automation"
    assert "pipeline triggers" in table.loc[1, "characteristics"]
    assert table.loc[1, "in this course"] == "the loop" and table.loc[0, "in this course"] == ""
    with pytest.raises(ValueError, match="0, 1 and 2"):
        cycle.maturity_table({3: "x"})
    with pytest.raises(TypeError, match="dict"):
        cycle.maturity_table(["x"])


def test_cycle_config_leaves_region_out() -> None:
    config = cycle.cycle_config(7)
    assert "region" not in config.features and config.seed == 7
    assert config.model == "logistic_regression"
    with pytest.raises(ValueError, match="seed"):
        cycle.cycle_config(-1)


# --------------------------------------------------------------------------- offers, seeds


@pytest.mark.slow
def test_offers_change_only_the_labels_of_treated_churners(never_on_small: Callable) -> None:
    scenario = SMALL
    data = scenario.data()
    runs = {
        offers: never_on_small(offers)  # run_cycle(cycle.never(), scenario, offers=offers)
        for offers in (None, cycle.Offers(), cycle.Offers(0.0, "all"))
    }
    plain, default, naive = runs.values()
    month = 7
    rows = [r.months.set_index("month").loc[month] for r in runs.values()]
    # The same model, the same customers: the true churn rate does not depend on the offers.
    assert len({row["churn_rate"] for row in rows}) == 1
    assert rows[0]["observed_churn_rate"] == rows[0]["churn_rate"]  # no offers modelled
    assert rows[2]["observed_churn_rate"] < rows[2]["churn_rate"]  # offers kept churners
    assert rows[2]["control_flagged"] == 0 and rows[2]["control_cost_eur"] == 0
    assert rows[1]["control_flagged"] > 0
    # The cost is the expected cost of the decisions, whatever the labels show afterwards.
    assert plain.business_cost_eur == naive.business_cost_eur
    # What the loop learns from changes the models it trains: the same months, other labels.
    learn = {
        kind: cycle.run_cycle(
            cycle.scheduled(1), scenario, data=data, offers=cycle.Offers(0.0, kind)
        )
        for kind in ("all", "untreated")
    }
    first = [run.months.set_index("month") for run in learn.values()]
    # Until the first retraining both loops serve the same first model; then they differ.
    assert first[0].loc[3, "roc_auc"] == first[1].loc[3, "roc_auc"]
    assert not first[0]["roc_auc"].equals(first[1]["roc_auc"])


@pytest.mark.slow
def test_threshold_and_retraining_cost_are_parameters(never_on_small: Callable) -> None:
    half = cycle.run_cycle(cycle.never(), SMALL, threshold=0.5, offers=None)
    best = never_on_small(None)  # run_cycle(cycle.never(), SMALL, offers=None)
    assert half.threshold == 0.5 and best.threshold == pytest.approx(1 / 3)
    assert (half.months["offers"] <= best.months["offers"]).all()
    priced = cycle.run_cycle(cycle.scheduled(1), SMALL, retrain_cost_eur=1000, reuse=best)
    assert priced.retraining_cost_eur == 1000 * priced.n_retrains > 0
    assert priced.total_cost_eur == priced.business_cost_eur + priced.retraining_cost_eur
    for kwargs, error in [
        ({"threshold": 1.5}, ValueError),
        ({"threshold": "0.5"}, TypeError),
        ({"offers": {"control_share": 0.1}}, TypeError),
        ({"retrain_cost_eur": -1}, ValueError),
    ]:
        with pytest.raises(error):
            cycle.run_cycle(cycle.never(), SMALL, **kwargs)
    with pytest.raises(ValueError, match="below 1"):
        cycle.Offers(control_share=1.0)
    with pytest.raises(ValueError, match="learn_from"):
        cycle.Offers(learn_from="treated")


def test_scheduled_names() -> None:
    assert cycle.scheduled(1).name == "monthly" and cycle.scheduled(1).label == "every month"
    assert cycle.scheduled(3).name == "every-3-months"
    assert cycle.scheduled(2, name="twice").name == "twice"


@pytest.mark.slow
def test_sweep_over_seeds_tables_and_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_COURSE_STATE", str(tmp_path))  # its kept seeds, not the course's
    policies = [cycle.never(), cycle.scheduled(1), cycle.drift_triggered()]
    sweep = cycle.sweep_seeds(policies, [1, 2], SMALL, progress=False)
    assert list(sweep["seed"].unique()) == [1, 2] and len(sweep) == 6
    # The sweep's rows are those of the same runs made one by one.
    one = cycle.run_policies(policies, replace(SMALL, seed=2), progress=False)
    pd.testing.assert_frame_equal(
        sweep[sweep["seed"] == 2].reset_index(drop=True), cycle.seed_rows(one)
    )
    table = cycle.seed_table(sweep, 0)
    assert list(table.columns) == ["monthly", "drift-triggered"]
    never = sweep.set_index(["seed", "policy"])["business_cost_eur"]
    assert table.loc[2, "monthly"] == never[(2, "never")] - never[(2, "monthly")]
    priced = cycle.seed_table(sweep, 1000)
    retrains = sweep.set_index(["seed", "policy"])["retrains"]
    assert priced.loc[2, "monthly"] == table.loc[2, "monthly"] - 1000 * retrains[(2, "monthly")]
    won = cycle.wins(sweep, 10**7)  # retraining so dear that never retraining always wins
    assert won["never"] == 2 and won.sum() >= 2
    fig = cycle.seeds_figure(sweep, 500)
    assert all(ax.get_title() and ax.get_ylabel() and ax.get_xlabel() for ax in fig.get_axes())
    # Computed again in two worker processes (not read from the seeds kept above).
    parallel = cycle.sweep_seeds(policies, [1, 2], SMALL, workers=2, progress=False, cache=False)
    pd.testing.assert_frame_equal(parallel, sweep)
    with pytest.raises(ValueError, match="No policy"):
        cycle.seed_table(sweep, 0, against="weekly")
    with pytest.raises(TypeError, match="seeds"):
        cycle.sweep_seeds(policies, 3)


def test_level_2_adds() -> None:
    items = {item: (here, adds) for item, here, adds in cycle.LEVEL_2_ADDS}
    assert items["build"][0].startswith("no") and items["deployment"][0].startswith("no")
    assert items["test"][0].startswith("yes") and "converges" in items["test"][1]


@pytest.mark.slow
def test_a_seed_sweep_run_again_reads_its_kept_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_COURSE_STATE", str(tmp_path))
    policies = [cycle.never(), cycle.scheduled(every=3)]
    scenario = cycle.Scenario(months=10, n_per_month=300)
    first = cycle.sweep_seeds(policies, [1, 2], scenario, progress=False)
    kept = sorted((tmp_path / cycle.SWEEP_CACHE).glob("seed-*.json"))
    assert [p.name.split("-")[1] for p in kept] == ["1", "2"]

    def must_not_run(job):  # noqa: ANN001, ANN202
        raise AssertionError("a kept seed was computed again")

    monkeypatch.setattr(cycle, "_sweep_one", must_not_run)
    again = cycle.sweep_seeds(policies, [1, 2], scenario, progress=False)
    pd.testing.assert_frame_equal(first, again, check_exact=False, rtol=1e-13)
    # Another setting (here the threshold) is another key: computed, not read.
    with pytest.raises(AssertionError, match="computed again"):
        cycle.sweep_seeds(policies, [1], scenario, threshold=0.5, progress=False)
    # A damaged entry is computed again, not trusted.
    monkeypatch.undo()
    monkeypatch.setenv("MLOPS_COURSE_STATE", str(tmp_path))
    kept[0].write_text("{not json")
    repaired = cycle.sweep_seeds(policies, [1, 2], scenario, progress=False)
    pd.testing.assert_frame_equal(first, repaired, check_exact=False, rtol=1e-13)
