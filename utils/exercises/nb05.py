"""Checks of the exercises of notebook 05 (experiment tracking).

Every check reads what it needs back from the tracking server (the runs the notebook logged,
or the run the student logged) and computes the expected answer itself.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from utils.checks import CORRECT, INCORRECT, NOT_ATTEMPTED, Status, is_placeholder, register

NOTEBOOK = "05_experiment_tracking"
TOPIC = "05-experiment-tracking"
#: Exercise 05.2: the config the student trains and logs (its seed is the notebook's SEED).
EXERCISE_2_MODEL = "logistic_regression"
EXERCISE_2_PARAMS = {"C": 0.5}
EXERCISE_2_RUN_NAME = "exercise-05.2"


def _children(parent_run_id: str) -> list[Any]:
    """The child runs of ``parent_run_id`` (MLflow Run objects)."""
    import mlflow

    client = mlflow.MlflowClient()
    parent = client.get_run(parent_run_id)
    return client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}'",
        max_results=1000,
    )


def _as_run_id(answer: object) -> tuple[str | None, str]:
    """The run ID in ``answer``, or None and a hint saying how to get one."""
    import mlflow
    import pandas as pd

    if isinstance(answer, str):
        return answer.strip(), ""
    if isinstance(answer, mlflow.entities.Run):
        return None, "That is a whole Run object; its ID is in .info.run_id."
    if isinstance(answer, pd.DataFrame):
        return None, (
            "That is a table of runs. Order it so that the run you want comes first, then "
            "take the ID from its first row: runs.iloc[0]['run_id']."
        )
    if isinstance(answer, pd.Series):
        if "run_id" in answer.index:
            return None, "That is a whole row of the table; the run's ID is row['run_id']."
        return None, "That is a column of the table; take one run's ID from the 'run_id' column."
    return None, (
        f"Your answer is a {type(answer).__name__}; give the run's ID, a string such as "
        "'3f9c...' from the 'run_id' column of mlflow.search_runs."
    )


def _run_name(run: Any) -> str:
    return str(run.data.tags.get("mlflow.runName", run.info.run_name))


# --------------------------------------------------------------------------- 05.1


@register("05.1", NOTEBOOK, "The best random forest of the sweep", needs=("parent_run_id",))
def _check_best_forest(answer: object, *, parent_run_id: str) -> tuple[Status, str]:
    run_id, hint = _as_run_id(answer)
    if run_id is None:
        return INCORRECT, hint
    children = _children(parent_run_id)
    forests = [r for r in children if r.data.params.get("model") == "random_forest"]
    if not forests:
        raise ValueError(
            f"Exercise 05.1 needs the sweep's parent run as parent_run_id; run {parent_run_id} "
            "has no random forest among its child runs."
        )
    auc = {r.info.run_id: r.data.metrics["roc_auc"] for r in forests}
    best = max(auc.values())
    if run_id in auc and auc[run_id] == best:
        (winner,) = [r for r in forests if r.info.run_id == run_id]
        return CORRECT, (
            f"'{_run_name(winner)}' has the highest ROC AUC of the random forests "
            f"({best:.4f}): a filter on a parameter, an order on a metric."
        )
    if run_id == parent_run_id:
        return INCORRECT, (
            "That is the parent run of the sweep; the configs are its child runs "
            "(filter by tags.mlflow.parentRunId)."
        )
    by_id = {r.info.run_id: r for r in children}
    if run_id in auc:
        if auc[run_id] == min(auc.values()):
            return INCORRECT, (
                "That is the random forest with the lowest ROC AUC: order by "
                "metrics.roc_auc DESC (highest first), not ASC."
            )
        return INCORRECT, (
            "That is a random forest, but not the one with the highest ROC AUC. Order the runs "
            "with order_by=['metrics.roc_auc DESC'] and take the first."
        )
    if run_id in by_id:
        model = by_id[run_id].data.params.get("model")
        return INCORRECT, (
            f"That run is a {model}, not a random forest. Add a condition on the parameter: "
            "params.model = 'random_forest' in filter_string."
        )
    import mlflow

    try:
        mlflow.MlflowClient().get_run(run_id)
    except mlflow.exceptions.MlflowException:
        return INCORRECT, f"No run has the ID {run_id!r}: copy the ID from the 'run_id' column."
    return INCORRECT, (
        "That run is not part of this execution's sweep (another execution, or another "
        "experiment). Filter by the sweep's parent: tags.mlflow.parentRunId = '<parent run ID>'."
    )


# --------------------------------------------------------------------------- 05.2


@register("05.2", NOTEBOOK, "Log a run the server can check", needs=("data", "seed"))
def _check_logged_run(answer: object, *, data: Any, seed: int) -> tuple[Status, str]:
    import mlflow

    from utils import datasets, experiments, tracking, training

    run_id, hint = _as_run_id(answer)
    if run_id is None:
        return INCORRECT, hint
    client = mlflow.MlflowClient()
    try:
        run = client.get_run(run_id)
    except mlflow.exceptions.MlflowException:
        return INCORRECT, (
            f"No run has the ID {run_id!r}. Use the ID MLflow gave your run: run.info.run_id "
            "after `with mlflow.start_run(...) as run:`."
        )
    expected_experiment = client.get_experiment_by_name(tracking.experiment_name(TOPIC))
    if expected_experiment is None or run.info.experiment_id != expected_experiment.experiment_id:
        return INCORRECT, (
            "That run is in another experiment. Log it into this notebook's experiment "
            f"({tracking.experiment_name(TOPIC)!r}), the active one since the setup cell."
        )
    if run.info.status != "FINISHED":
        return INCORRECT, (
            f"The run's status is {run.info.status}: it was not ended. Log inside a "
            "`with mlflow.start_run(...) as run:` block, which ends the run when it closes."
        )
    if _run_name(run) != EXERCISE_2_RUN_NAME:
        return INCORRECT, (
            f"The run is named {_run_name(run)!r}; name it {EXERCISE_2_RUN_NAME!r}: "
            f"mlflow.start_run(run_name={EXERCISE_2_RUN_NAME!r}, tags=RUN_TAGS)."
        )
    if experiments.EXECUTION_TAG not in run.data.tags:
        return INCORRECT, (
            f"The run has no tag {experiments.EXECUTION_TAG!r}: pass tags=RUN_TAGS to "
            "mlflow.start_run, so that the run belongs to this execution of the notebook."
        )
    helper_marks = sorted(
        {"data.train_fingerprint"} & set(run.data.tags)
        | {"n_train", "n_test"} & set(run.data.params)
    )
    if helper_marks:
        return INCORRECT, (
            f"This run was logged by the helper experiments.log_training_run (it has "
            f"{helper_marks}, which only the helper logs). Log it yourself with the plain "
            "MLflow functions of section 1: mlflow.start_run, mlflow.log_params, "
            "mlflow.log_metrics and mlflow.set_tag."
        )
    config = training.TrainConfig(EXERCISE_2_MODEL, EXERCISE_2_PARAMS, seed=seed)
    params = run.data.params
    expected_params = {k: str(v) for k, v in config.as_params().items()}
    missing = sorted(set(expected_params) - set(params))
    if missing:
        return INCORRECT, (
            f"The run lacks the parameter(s) {missing[:4]}{' ...' if len(missing) > 4 else ''}. "
            "Log them all at once with mlflow.log_params(config.as_params())."
        )
    wrong = sorted(k for k in expected_params if params[k] != expected_params[k])
    if wrong:
        shown = {k: params[k] for k in wrong[:3]}
        return INCORRECT, (
            f"Some parameters differ from TrainConfig('{EXERCISE_2_MODEL}', "
            f"{EXERCISE_2_PARAMS}, seed=SEED): the run has {shown}. Train and log exactly that "
            "config."
        )
    result = training.train(config, data)
    metrics = run.data.metrics
    if "roc_auc" not in metrics:
        return INCORRECT, (
            f"The run has no metric 'roc_auc' (it has {sorted(metrics)[:5]}). Log the test "
            "metrics: mlflow.log_metrics(result.metrics)."
        )
    if metrics["roc_auc"] != result.metrics["roc_auc"]:
        if metrics["roc_auc"] == result.train_metrics["roc_auc"]:
            return INCORRECT, (
                "The logged roc_auc is the one on the training rows (result.train_metrics). "
                "Log the test metrics, result.metrics."
            )
        return INCORRECT, (
            f"The logged roc_auc ({metrics['roc_auc']:.6f}) is not what this config gives on "
            f"the notebook's data ({result.metrics['roc_auc']:.6f}). Train the config on "
            "`churn` and log result.metrics unchanged (not rounded)."
        )
    logged_fingerprint = run.data.tags.get("data.fingerprint")
    expected_fingerprint = datasets.fingerprint(data)
    if logged_fingerprint is None:
        return INCORRECT, (
            "Params and metrics are right. Now add the tag 'data.fingerprint': "
            "mlflow.set_tag('data.fingerprint', result.data_fingerprint)."
        )
    if logged_fingerprint != expected_fingerprint:
        return INCORRECT, (
            f"The tag data.fingerprint is {logged_fingerprint!r}, but the data's fingerprint is "
            f"{expected_fingerprint!r}: use result.data_fingerprint (or "
            "datasets.fingerprint(churn))."
        )
    return CORRECT, (
        f"The server has your run '{_run_name(run)}' with {len(params)} parameters, the exact "
        f"ROC AUC ({metrics['roc_auc']:.4f}) and the data's fingerprint: anyone can check it."
    )


# --------------------------------------------------------------------------- 05.3

#: The keys of exercise 05.3's answer.
EXERCISE_3_KEYS = ("gap", "seed_spread", "beyond_spread")


def _best_by_model(children: list[Any]) -> dict[str, float]:
    best: dict[str, float] = {}
    for run in children:
        model, auc = run.data.params.get("model"), run.data.metrics.get("roc_auc")
        if model is not None and auc is not None:
            best[model] = max(auc, best.get(model, -math.inf))
    return best


def _number_problem(value: object, key: str) -> str | None:
    if isinstance(value, str):
        return f"'{key}' is a str (text); give a number, without quotes."
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"'{key}' is a {type(value).__name__}; give one number."
    if not math.isfinite(float(value)):
        return f"'{key}' is not a finite number: were all runs found?"
    return None


@register(
    "05.3",
    NOTEBOOK,
    "Is the difference more than the seed moves it?",
    needs=("parent_run_id", "sweep_parent_run_id"),
)
def _check_seed_spread(
    answer: object, *, parent_run_id: str, sweep_parent_run_id: str
) -> tuple[Status, str]:
    import numpy as np

    children = _children(parent_run_id)
    values = [r.data.metrics["roc_auc"] for r in children if "roc_auc" in r.data.metrics]
    if len(values) < 2:
        raise ValueError(
            f"Exercise 05.3 needs the seed runs' parent as parent_run_id; run {parent_run_id} "
            f"has {len(values)} child runs with a ROC AUC."
        )
    best = _best_by_model(_children(sweep_parent_run_id))
    if not {"logistic_regression", "random_forest"} <= set(best):
        raise ValueError(
            "Exercise 05.3 needs the sweep's parent as sweep_parent_run_id, with logistic "
            f"regressions and random forests among its child runs; run {sweep_parent_run_id} "
            f"has {sorted(best)}."
        )
    spread = max(values) - min(values)
    gap = abs(best["logistic_regression"] - best["random_forest"])
    beyond = gap > spread
    if not isinstance(answer, Mapping):
        return INCORRECT, (
            f"Your answer is a {type(answer).__name__}; give a dict with the keys "
            f"{list(EXERCISE_3_KEYS)}, as in the exercise cell."
        )
    missing = [k for k in EXERCISE_3_KEYS if k not in answer]
    if missing:
        return INCORRECT, f"Your dict lacks the key(s) {missing}; keep those of the exercise cell."
    if all(is_placeholder(answer[k]) for k in EXERCISE_3_KEYS):
        return NOT_ATTEMPTED, "Replace each ... in the dict with your answer."
    tol = 1e-9
    for key in ("seed_spread", "gap"):
        problem = _number_problem(answer[key], key)
        if problem is not None:
            return INCORRECT, problem
    given_spread, given_gap = float(answer["seed_spread"]), float(answer["gap"])
    if abs(given_spread - spread) > tol:
        if abs(given_spread + spread) <= tol:
            return INCORRECT, "'seed_spread': right size, wrong sign: it is max - min."
        if abs(given_spread - 100 * spread) <= 100 * tol:
            return INCORRECT, "'seed_spread': give ROC AUC points (0 to 1), not percent."
        if any(abs(given_spread - float(np.std(values, ddof=d))) <= 1e-6 for d in (0, 1)):
            return INCORRECT, (
                "'seed_spread' is the standard deviation; the spread asked for is max - min."
            )
        return INCORRECT, (
            "'seed_spread' is not the largest minus the smallest ROC AUC of the seed runs: "
            "read them back with their parent's ID (filter by tags.mlflow.parentRunId), to "
            f"within {tol:g}."
        )
    if abs(given_gap - gap) > tol:
        if any(abs(given_gap - abs(v - w)) <= tol for v in values for w in values):
            return INCORRECT, (
                "'gap' is a difference between two seed runs; it is between the best logistic "
                "regression and the best random forest of the sweep."
            )
        return INCORRECT, (
            "'gap' is not the difference between the highest ROC AUC of the sweep's logistic "
            "regressions and that of its random forests (as a positive number, to within "
            f"{tol:g}). Filter the sweep's child runs on params.model for each."
        )
    verdict = answer["beyond_spread"]
    if not isinstance(verdict, (bool, np.bool_)):
        return INCORRECT, (
            f"'beyond_spread' is {verdict!r:.40}; decide True (the gap is larger than the seed "
            "spread) or False (it is within it)."
        )
    if bool(verdict) != beyond:
        where = "larger than" if beyond else "within"
        return INCORRECT, (
            f"'beyond_spread': the gap ({gap:.4f}) is {where} the seed-to-seed spread "
            f"({spread:.4f}), so the answer is {beyond}. A difference the seed alone can make "
            "is no evidence that one model is better."
        )
    conclusion = (
        "larger than the seed alone moves ROC AUC: the sweep can tell the two models apart"
        if beyond
        else "within what the seed alone moves ROC AUC: the sweep cannot tell the two apart"
    )
    return CORRECT, (
        f"The gap ({gap:.4f}) is {conclusion} (spread {spread:.4f} over {len(values)} seeds)."
    )
