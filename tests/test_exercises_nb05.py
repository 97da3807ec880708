"""Checks of notebook 05's exercises: not attempted, useful hints for wrong answers, solutions pass.

The checks read runs back from the tracking server, so these tests log real runs to the test
session's server (see conftest.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import adversarial
import mlflow
import numpy as np
import pandas as pd
import pytest
from adversarial import Case, Table

from utils import checks, datasets, experiments, tracking, training

SEED = 11
EXECUTION = "test-exercises-nb05"
RUN_TAGS = {experiments.EXECUTION_TAG: EXECUTION}  # as the notebook's RUN_TAGS
TOPIC = "05-experiment-tracking"  # the notebook's experiment, where 05.2 expects the run
# utils.exercises.nb05 is not imported here: checks.check() imports it when first needed, so
# collecting this file does not add exercises to the registry that other test files list.


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return datasets.make_churn(n_per_period=100, periods=4, seed=SEED)


@pytest.fixture(scope="module", autouse=True)
def _notebook_experiment() -> None:
    """The notebook's experiment, active for every test of this module. Set once: connecting
    asks the server twice and setting the experiment once more, and only the test that logs
    elsewhere changes it (and sets it back)."""
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
    tags: dict | None = None,
) -> str:
    """Log a run as a student might; ``fingerprint=""`` means the right one, None none."""
    with mlflow.start_run(run_name="exercise-05.2", tags=tags or RUN_TAGS) as run:
        mlflow.log_params(result.config.as_params() if params is None else params)
        mlflow.log_metrics(result.metrics if metrics is None else metrics)
        if fingerprint is not None:
            mlflow.set_tag("data_fingerprint", fingerprint or result.data_fingerprint)
    return run.info.run_id


def test_05_2_the_solution_passes(churn: pd.DataFrame) -> None:
    result = training.train(_config(), churn)
    run_id = _log(result)
    check = checks.check("05.2", run_id, data=churn, seed=SEED, execution_id=EXECUTION)
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
        (_log(result, fingerprint=None), "add the tag 'data_fingerprint'"),
        (_log(result, fingerprint="abc"), "The tag data_fingerprint is 'abc'"),
        (_log(result, metrics=result.train_metrics), "on the training rows"),
        (_log(result, metrics=rounded), "not rounded"),
        (_log(result, metrics={"accuracy": 0.5}), "no metric 'roc_auc'"),
        (_log(result, metrics={"roc_auc": result.metrics["roc_auc"]}), "lacks the metric"),
        (
            _log(result, metrics={**result.metrics, "cost_per_customer_eur": 0.0}),
            "The logged cost_per_customer_eur",
        ),
        (_log(result, tags={experiments.EXECUTION_TAG: "another"}), "another execution"),
        (_log(other), "Some parameters differ"),
        (_log(result, params={"model": "logistic_regression"}), "lacks the parameter(s)"),
        ("f" * 32, "No run has the ID"),
        (mlflow.get_run(_log(result)), "whole Run object"),
    ]
    for answer, hint in cases:
        check = checks.check("05.2", answer, data=churn, seed=SEED, execution_id=EXECUTION)
        assert check.status == "incorrect", (hint, check)
        assert hint in check.message, (hint, check.message)


def test_05_2_an_open_run_and_another_experiment_get_hints(churn: pd.DataFrame) -> None:
    run = mlflow.start_run(run_name="still-open")
    try:
        check = checks.check("05.2", run.info.run_id, data=churn, seed=SEED, execution_id=EXECUTION)
    finally:
        mlflow.end_run()
    assert check.status == "incorrect" and "was not ended" in check.message
    tracking.use_experiment("05-somewhere-else")
    try:
        result = training.train(_config(), churn)
        elsewhere = _log(result)
        check = checks.check("05.2", elsewhere, data=churn, seed=SEED, execution_id=EXECUTION)
    finally:
        tracking.use_experiment(TOPIC)
    assert check.status == "incorrect" and "another experiment" in check.message


# --------------------------------------------------------------------------- 05.3


@pytest.fixture(scope="module")
def seed_sweep(sweep: experiments.SweepResult, churn: pd.DataFrame) -> str:
    """The seed runs of the sweep's best logistic regression and best forest, as in section 6."""
    tracking.connect(quiet=True)
    tracking.use_experiment(TOPIC)
    best = {}
    for run in sorted(sweep.runs, key=lambda r: r.metrics["roc_auc"]):
        best[run.run_name.split()[0]] = run
    configs = [
        dataclasses.replace(experiments.config_from_run(best[model].run_id), seed=s)
        for model in ("logistic_regression", "random_forest")
        for s in range(4)
    ]
    names = [f"{experiments.config_label(c)}, seed {c.seed}" for c in configs]
    seeds = experiments.run_sweep(
        configs, churn, run_name="nb05-seeds", child_names=names, progress=False
    )
    return seeds.parent_run_id


def _seed_table(parent: str) -> pd.DataFrame:
    table = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent}'")
    table["config"] = table["tags.mlflow.runName"].str.rsplit(", seed ", n=1).str[0]
    return table.pivot(index="params.seed", columns="config", values="metrics.roc_auc")


def _best_name(sweep_parent: str, model: str) -> str:
    table = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{sweep_parent}' and params.model = '{model}'",
        order_by=["metrics.roc_auc DESC"],
    )
    return str(table.iloc[0]["tags.mlflow.runName"])


def _differences(ctx: dict[str, str]) -> pd.Series:
    by_seed = _seed_table(ctx["parent_run_id"])
    lr = _best_name(ctx["sweep_parent_run_id"], "logistic_regression")
    forest = _best_name(ctx["sweep_parent_run_id"], "random_forest")
    return by_seed[lr] - by_seed[forest]


def _verdict_from(diff: pd.Series) -> dict[str, object]:
    """The notebook's solution of 05.3, from the paired differences (read once per answer:
    each reading asks the server three times)."""
    return {
        "ahead_in": int((diff > 0).sum()),
        "smallest_difference": float(diff.min()),
        "consistent": bool((diff > 0).all() or (diff < 0).all()),
    }


def _verdict(ctx: dict[str, str]) -> dict[str, object]:
    """The notebook's solution of 05.3."""
    return _verdict_from(_differences(ctx))


@pytest.fixture()
def context_05_3(seed_sweep: str, sweep: experiments.SweepResult) -> dict[str, str]:
    return {"parent_run_id": seed_sweep, "sweep_parent_run_id": sweep.parent_run_id}


def test_05_3_the_solution_passes(context_05_3: dict[str, str]) -> None:
    answer = _verdict(context_05_3)
    check = checks.check("05.3", answer, **context_05_3)
    assert check.passed, check.message
    assert ("is ahead in all" in check.message) == answer["consistent"]
    placeholder = dict.fromkeys(answer, ...)
    assert checks.check("05.3", placeholder, **context_05_3).status == "not attempted"


def test_05_3_the_truth_is_the_paired_difference(context_05_3: dict[str, str]) -> None:
    # Independent of the check: the forest's and the logistic regression's seed runs, by seed.
    diff = _differences(context_05_3)
    assert len(diff) == 4 and diff.notna().all()
    right = _verdict_from(diff)
    flipped = {**right, "consistent": not right["consistent"]}
    check = checks.check("05.3", flipped, **context_05_3)
    assert check.status == "incorrect"
    assert f"ahead in {int((diff > 0).sum())} of 4 seeds" in check.message


def test_05_3_wrong_answers_get_specific_hints(context_05_3: dict[str, str]) -> None:
    diff = _differences(context_05_3)
    right = _verdict_from(diff)
    lr = _seed_table(context_05_3["parent_run_id"])[
        _best_name(context_05_3["sweep_parent_run_id"], "logistic_regression")
    ]
    cases = [
        ({**right, "smallest_difference": float(lr.max() - lr.min())}, "own score"),
        ({**right, "smallest_difference": float(-diff.max())}, "with its sign"),
        ({**right, "smallest_difference": right["smallest_difference"] + 0.01}, "is not the"),
        ({**right, "smallest_difference": "0.01"}, "is a str"),
        ({**right, "smallest_difference": float("nan")}, "not a finite number"),
        ({**right, "ahead_in": right["ahead_in"] + 5}, "'ahead_in' is not"),
        ({**right, "ahead_in": 2.5}, "whole number"),
        ({**right, "ahead_in": True}, "whole number"),
        ({**right, "consistent": not right["consistent"]}, "keeps its sign"),
        ({**right, "consistent": "yes"}, "decide True"),
        ({"gap": 0.1, "seed_spread": 0.02, "beyond_spread": False}, "lacks the key"),
        ([0.8, 0.81], "give a dict"),
    ]
    if right["ahead_in"] * 2 != len(diff):
        cases.append(({**right, "ahead_in": len(diff) - right["ahead_in"]}, "random forest is"))
    for answer, hint in cases:
        check = checks.check("05.3", answer, **context_05_3)
        assert check.status == "incorrect", (hint, check)
        assert hint in check.message, (hint, check.message)


def test_05_3_needs_seed_runs_of_both_configs(context_05_3: dict[str, str]) -> None:
    with mlflow.start_run() as lonely:
        pass
    with pytest.raises(ValueError, match="0 seeds with both"):
        checks.check(
            "05.3",
            {"ahead_in": 1},
            parent_run_id=lonely.info.run_id,
            sweep_parent_run_id=context_05_3["sweep_parent_run_id"],
        )


# --------------------------------------------------------------------------- adversarial tables


@pytest.fixture()
def context_05_1(sweep: experiments.SweepResult) -> dict[str, str]:
    return {"parent_run_id": sweep.parent_run_id}


@pytest.fixture()
def context_05_2(churn: pd.DataFrame) -> dict[str, object]:
    return {"data": churn, "seed": SEED, "execution_id": EXECUTION}


def _best_forest_search_runs(ctx: dict[str, str]) -> str:
    forests = mlflow.search_runs(
        filter_string=(
            f"tags.mlflow.parentRunId = '{ctx['parent_run_id']}' and params.model = 'random_forest'"
        ),
        order_by=["metrics.roc_auc DESC"],
    )
    return forests.iloc[0]["run_id"]


def _best_forest_client(ctx: dict[str, str]) -> str:
    client = mlflow.MlflowClient()
    parent = client.get_run(ctx["parent_run_id"])
    runs = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{ctx['parent_run_id']}'",
    )
    forests = [r for r in runs if r.data.params["model"] == "random_forest"]
    return max(forests, key=lambda r: r.data.metrics["roc_auc"]).info.run_id


def _second_forest(ctx: dict[str, str]) -> str:
    table = experiments.find_runs(parent_run_id=ctx["parent_run_id"])
    forests = table[table["params.model"] == "random_forest"]
    return forests.sort_values("metrics.roc_auc", ascending=False).iloc[1]["run_id"]


def _a_logistic_regression(ctx: dict[str, str]) -> str:
    table = experiments.find_runs(parent_run_id=ctx["parent_run_id"])
    return table[table["params.model"] == "logistic_regression"].iloc[0]["run_id"]


def _logged_05_2(
    ctx: dict[str, object],
    metrics_of: Callable[[training.TrainResult], dict] | None = None,
    **kwargs: object,
) -> str:
    """Train 05.2's config and log it; ``metrics_of`` picks the metrics to log from the result
    (the one training, instead of a second one of the same config on the same data)."""
    result = training.train(_config(), ctx["data"])
    if metrics_of is not None:
        kwargs["metrics"] = metrics_of(result)
    return _log(result, **kwargs)


def _logged_05_2_by_client(ctx: dict[str, object]) -> str:
    result = training.train(_config(), ctx["data"])
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(tracking.experiment_name(TOPIC))
    run = client.create_run(experiment.experiment_id, run_name="exercise-05.2", tags=RUN_TAGS)
    run_id = run.info.run_id
    for key, value in result.config.as_params().items():
        client.log_param(run_id, key, value)
    for key, value in result.metrics.items():
        client.log_metric(run_id, key, value)
    client.set_tag(run_id, "data_fingerprint", result.data_fingerprint)
    client.set_terminated(run_id)
    return run_id


def _logged_05_2_by_helper(ctx: dict[str, object]) -> str:
    result = training.train(_config(), ctx["data"])
    return experiments.log_training_run(result, run_name="exercise-05.2", tags=RUN_TAGS).run_id


TABLES = [
    Table(
        "05.1",
        [
            Case(
                "reference",
                "search_runs, filtered and ordered",
                _best_forest_search_runs,
                lazy=True,
            ),
            Case("alternative", "MlflowClient and max()", _best_forest_client, lazy=True),
            Case(
                "alternative",
                "with surrounding spaces",
                lambda ctx: f"  {_best_forest_search_runs(ctx)} ",
                lazy=True,
            ),
            Case(
                "wrong",
                "the second-best forest",
                _second_forest,
                hint="not the one with the highest ROC AUC",
                lazy=True,
            ),
            Case(
                "wrong",
                "a logistic regression",
                _a_logistic_regression,
                hint="not a random forest",
                lazy=True,
            ),
            Case(
                "wrong",
                "the whole table",
                lambda ctx: experiments.find_runs(parent_run_id=ctx["parent_run_id"]),
                hint="table of runs",
                lazy=True,
            ),
            Case(
                "cheat",
                "the sweep's parent run",
                lambda ctx: ctx["parent_run_id"],
                hint="parent run of the sweep",
                lazy=True,
            ),
            Case("cheat", "a made-up ID", "0" * 32, hint="No run has the ID"),
        ],
        context="context_05_1",
    ),
    Table(
        "05.2",
        [
            Case("reference", "plain mlflow functions", _logged_05_2, lazy=True),
            Case("alternative", "MlflowClient calls", _logged_05_2_by_client, lazy=True),
            Case(
                "wrong",
                "training metrics",
                lambda ctx: _logged_05_2(ctx, metrics_of=lambda result: result.train_metrics),
                hint="training rows",
                lazy=True,
            ),
            Case(
                "wrong",
                "no fingerprint tag",
                lambda ctx: _logged_05_2(ctx, fingerprint=None),
                hint="data_fingerprint",
                lazy=True,
            ),
            Case(
                "wrong",
                "only roc_auc logged",
                lambda ctx: _logged_05_2(
                    ctx, metrics_of=lambda result: {"roc_auc": result.metrics["roc_auc"]}
                ),
                hint="lacks the metric",
                lazy=True,
            ),
            Case(
                "cheat",
                "cost_per_customer_eur set to 0.0",
                lambda ctx: _logged_05_2(
                    ctx, metrics_of=lambda result: {**result.metrics, "cost_per_customer_eur": 0.0}
                ),
                hint="The logged cost_per_customer_eur",
                lazy=True,
            ),
            Case(
                "cheat",
                "a run of another execution",
                lambda ctx: _logged_05_2(ctx, tags={experiments.EXECUTION_TAG: "earlier"}),
                hint="another execution",
                lazy=True,
            ),
            Case(
                "cheat",
                "logged by the helper experiments.log_training_run",
                _logged_05_2_by_helper,
                hint="helper",
                lazy=True,
            ),
            Case("cheat", "a made-up ID", "f" * 32, hint="No run has the ID"),
        ],
        context="context_05_2",
    ),
    Table(
        "05.3",
        [
            Case("reference", "the notebook's solution", _verdict, lazy=True),
            Case(
                "alternative",
                "numpy integer, float and bool",
                lambda ctx: {
                    "ahead_in": np.int64((v := _verdict(ctx))["ahead_in"]),
                    "smallest_difference": np.float64(v["smallest_difference"]),
                    "consistent": np.bool_(v["consistent"]),
                },
                lazy=True,
            ),
            Case(
                "alternative",
                "numpy on the two columns, decision by sign",
                lambda ctx: {
                    "ahead_in": int(np.sum((d := _differences(ctx).to_numpy()) > 0)),
                    "smallest_difference": float(np.min(d)),
                    "consistent": len(set(np.sign(d))) == 1,
                },
                lazy=True,
            ),
            Case(
                "wrong",
                "the opposite decision",
                lambda ctx: {**(v := _verdict(ctx)), "consistent": not v["consistent"]},
                hint="keeps its sign",
                lazy=True,
            ),
            Case(
                "wrong",
                "one model's seed spread instead of the paired difference",
                lambda ctx: {
                    **_verdict(ctx),
                    "smallest_difference": float(
                        (
                            lr := _seed_table(ctx["parent_run_id"])[
                                _best_name(ctx["sweep_parent_run_id"], "logistic_regression")
                            ]
                        ).max()
                        - lr.min()
                    ),
                },
                hint="own score",
                lazy=True,
            ),
            Case(
                "wrong",
                "forest minus logistic regression",
                lambda ctx: {
                    **_verdict_from(d := _differences(ctx)),
                    "smallest_difference": float(-d.max()),
                },
                hint="with its sign",
                lazy=True,
            ),
            Case(
                "cheat",
                "round numbers and a decision",
                {"ahead_in": 6, "smallest_difference": 0.005, "consistent": True},
                hint="'ahead_in' is not",
            ),
            Case(
                "cheat",
                "the old answer: gap, seed spread, within the spread",
                {"gap": 0.01, "seed_spread": 0.015, "beyond_spread": False},
                hint="lacks the key",
            ),
        ],
        context="context_05_3",
    ),
]

test_adversarial = adversarial.parametrize(TABLES)
