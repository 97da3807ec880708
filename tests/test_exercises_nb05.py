"""Checks of notebook 05's exercises: not attempted, useful hints for wrong answers, solutions pass.

The checks read runs back from the tracking server, so these tests log real runs to the test
session's server (see conftest.py).
"""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from utils import checks, datasets, experiments, tracking, training

SEED = 11
TOPIC = "05-experiment-tracking"  # the notebook's experiment, where 05.2 expects the run
# utils.exercises.nb05 is not imported here: checks.check() imports it when first needed, so
# collecting this file does not add exercises to the registry that other test files list.


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return datasets.make_churn(n_per_period=100, periods=4, seed=SEED)


@pytest.fixture(autouse=True)
def _notebook_experiment() -> None:
    tracking.connect(quiet=True)
    tracking.use_experiment(TOPIC)


@pytest.fixture(scope="module")
def sweep(churn: pd.DataFrame) -> experiments.SweepResult:
    tracking.connect(quiet=True)
    tracking.use_experiment(TOPIC)
    configs = experiments.grid("logistic_regression", seed=SEED, C=[0.1, 1.0]) + experiments.grid(
        "random_forest", seed=SEED, n_estimators=[10], max_depth=[2, 3, 6]
    )
    return experiments.run_sweep(configs, churn, run_name="nb05-check-sweep", progress=False)


@pytest.fixture(scope="module")
def other_sweep(churn: pd.DataFrame) -> experiments.SweepResult:
    tracking.connect(quiet=True)
    tracking.use_experiment(TOPIC)
    configs = experiments.grid("random_forest", seed=SEED, n_estimators=[10], max_depth=[3])
    return experiments.run_sweep(configs, churn, run_name="nb05-other-sweep", progress=False)


@pytest.mark.parametrize("exercise", ["05.1", "05.2", "05.3"])
def test_placeholder_is_not_attempted(exercise: str) -> None:
    (info,) = [e for e in checks.exercises("05") if e.id == exercise]
    assert info.notebook == "05_experiment_tracking"
    context = {name: object() for name in info.needs}
    assert checks.check(exercise, ..., **context).status == "not attempted"


# --------------------------------------------------------------------------- 05.1


def _by_name(sweep: experiments.SweepResult) -> dict[str, experiments.LoggedRun]:
    return {r.run_name: r for r in sweep.runs}


def _forests(sweep: experiments.SweepResult) -> list[experiments.LoggedRun]:
    return sorted(
        (r for r in sweep.runs if r.run_name.startswith("random_forest")),
        key=lambda r: r.metrics["roc_auc"],
    )


def test_05_1_the_solution_passes(sweep: experiments.SweepResult) -> None:
    forests = mlflow.search_runs(
        filter_string=(
            f"tags.mlflow.parentRunId = '{sweep.parent_run_id}' and params.model = 'random_forest'"
        ),
        order_by=["metrics.roc_auc DESC"],
    )
    answer = forests.iloc[0]["run_id"]
    assert answer == _forests(sweep)[-1].run_id
    result = checks.check("05.1", answer, parent_run_id=sweep.parent_run_id)
    assert result.passed, result.message
    assert "highest ROC AUC of the random forests" in result.message


def test_05_1_wrong_answers_get_specific_hints(
    sweep: experiments.SweepResult, other_sweep: experiments.SweepResult
) -> None:
    forests = _forests(sweep)
    table = experiments.find_runs(parent_run_id=sweep.parent_run_id)
    logistic = _by_name(sweep)["logistic_regression C=1.0"]
    cases = [
        (table, "That is a table of runs"),
        (table.iloc[0], "whole row"),
        (table["run_id"], "column of the table"),
        (mlflow.get_run(forests[-1].run_id), "whole Run object"),
        (42, "Your answer is a int"),
        (sweep.parent_run_id, "parent run of the sweep"),
        (forests[0].run_id, "lowest ROC AUC"),
        (forests[1].run_id, "not the one with the highest ROC AUC"),
        (logistic.run_id, "not a random forest"),
        (other_sweep.runs[0].run_id, "not part of this execution's sweep"),
        ("0" * 32, "No run has the ID"),
    ]
    for answer, hint in cases:
        result = checks.check("05.1", answer, parent_run_id=sweep.parent_run_id)
        assert result.status == "incorrect", (answer, result)
        assert hint in result.message, (hint, result.message)


def test_05_1_needs_a_sweep_with_forests(other_sweep: experiments.SweepResult) -> None:
    with pytest.raises(ValueError, match="no random forest"):
        checks.check("05.1", "abc", parent_run_id=other_sweep.runs[0].run_id)


# --------------------------------------------------------------------------- 05.2


def _config() -> training.TrainConfig:
    # The config exercise 05.2 asks for, as the notebook states it.
    return training.TrainConfig("logistic_regression", {"C": 0.5}, seed=SEED)


def _log(
    result: training.TrainResult,
    *,
    params: dict | None = None,
    metrics: dict | None = None,
    fingerprint: str | None = "",
) -> str:
    """Log a run as a student might; ``fingerprint=""`` means the right one, None none."""
    with mlflow.start_run(run_name="exercise-05.2") as run:
        mlflow.log_params(result.config.as_params() if params is None else params)
        mlflow.log_metrics(result.metrics if metrics is None else metrics)
        if fingerprint is not None:
            mlflow.set_tag("data.fingerprint", fingerprint or result.data_fingerprint)
    return run.info.run_id


def test_05_2_the_solution_passes(churn: pd.DataFrame) -> None:
    result = training.train(_config(), churn)
    run_id = _log(result)
    check = checks.check("05.2", run_id, data=churn, seed=SEED)
    assert check.passed, check.message
    assert "exact" in check.message


@pytest.mark.slow
def test_05_2_wrong_runs_get_specific_hints(churn: pd.DataFrame) -> None:
    result = training.train(_config(), churn)
    other = training.train(
        training.TrainConfig("logistic_regression", {"C": 2.0}, seed=SEED), churn
    )
    rounded = {k: round(v, 3) for k, v in result.metrics.items()}
    cases = [
        (_log(result, fingerprint=None), "add the tag 'data.fingerprint'"),
        (_log(result, fingerprint="abc"), "The tag data.fingerprint is 'abc'"),
        (_log(result, metrics=result.train_metrics), "on the training rows"),
        (_log(result, metrics=rounded), "not rounded"),
        (_log(result, metrics={"accuracy": 0.5}), "no metric 'roc_auc'"),
        (_log(other), "Some parameters differ"),
        (_log(result, params={"model": "logistic_regression"}), "lacks the parameter(s)"),
        ("f" * 32, "No run has the ID"),
        (mlflow.get_run(_log(result)), "whole Run object"),
    ]
    for answer, hint in cases:
        check = checks.check("05.2", answer, data=churn, seed=SEED)
        assert check.status == "incorrect", (hint, check)
        assert hint in check.message, (hint, check.message)


def test_05_2_an_open_run_and_another_experiment_get_hints(churn: pd.DataFrame) -> None:
    run = mlflow.start_run(run_name="still-open")
    try:
        check = checks.check("05.2", run.info.run_id, data=churn, seed=SEED)
    finally:
        mlflow.end_run()
    assert check.status == "incorrect" and "was not ended" in check.message
    tracking.use_experiment("05-somewhere-else")
    result = training.train(_config(), churn)
    elsewhere = _log(result)
    check = checks.check("05.2", elsewhere, data=churn, seed=SEED)
    assert check.status == "incorrect" and "another experiment" in check.message


# --------------------------------------------------------------------------- 05.3


@pytest.fixture(scope="module")
def seed_sweep(churn: pd.DataFrame) -> tuple[str, list[float]]:
    tracking.connect(quiet=True)
    tracking.use_experiment(TOPIC)
    configs = [training.TrainConfig("logistic_regression", seed=s) for s in range(4)]
    sweep = experiments.run_sweep(configs, churn, run_name="nb05-seeds", progress=False)
    return sweep.parent_run_id, [r.metrics["roc_auc"] for r in sweep.runs]


def test_05_3_the_solution_passes(seed_sweep: tuple[str, list[float]]) -> None:
    parent, values = seed_sweep
    table = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent}'")
    answer = table["metrics.roc_auc"].max() - table["metrics.roc_auc"].min()
    assert answer == max(values) - min(values) > 0
    check = checks.check("05.3", answer, parent_run_id=parent)
    assert check.passed, check.message
    assert check.status == "correct"


def test_05_3_wrong_answers_get_specific_hints(seed_sweep: tuple[str, list[float]]) -> None:
    parent, values = seed_sweep
    spread = max(values) - min(values)
    cases = [
        (-spread, "wrong sign"),
        (100 * spread, "wrong scale"),
        (float(np.std(values)), "standard deviation"),
        (float(np.std(values, ddof=1)), "standard deviation"),
        (values[0], "one run's ROC AUC"),
        (values, "Give one number"),
        (pd.Series(values), "Give one number"),
        ("0.01", "Your answer is a str"),
        (float("nan"), "not a finite number"),
        (spread + 0.01, "Not quite"),
    ]
    for answer, hint in cases:
        check = checks.check("05.3", answer, parent_run_id=parent)
        assert check.status == "incorrect", (hint, check)
        assert hint in check.message, (hint, check.message)


def test_05_3_needs_a_parent_with_children(seed_sweep: tuple[str, list[float]]) -> None:
    with mlflow.start_run() as lonely:
        pass
    with pytest.raises(ValueError, match="has 0 child runs"):
        checks.check("05.3", 0.1, parent_run_id=lonely.info.run_id)
