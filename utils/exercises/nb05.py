"""Checks of the exercises of notebook 05 (experiment tracking).

Every check reads what it needs back from the tracking server (the runs the notebook logged,
or the run the student logged) and computes the expected answer itself.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from utils.checks import CORRECT, INCORRECT, Status, register

NOTEBOOK = "05_experiment_tracking"
TOPIC = "05-experiment-tracking"
#: Exercise 05.2: the config the student trains and logs (its seed is the notebook's SEED).
EXERCISE_2_MODEL = "logistic_regression"
EXERCISE_2_PARAMS = {"C": 0.5}


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

    from utils import datasets, tracking, training

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


@register("05.3", NOTEBOOK, "How much does the seed move ROC AUC?", needs=("parent_run_id",))
def _check_seed_spread(answer: object, *, parent_run_id: str) -> tuple[Status, str]:
    import numpy as np

    children = _children(parent_run_id)
    values = [r.data.metrics["roc_auc"] for r in children if "roc_auc" in r.data.metrics]
    if len(values) < 2:
        raise ValueError(
            f"Exercise 05.3 needs the seed runs' parent as parent_run_id; run {parent_run_id} "
            f"has {len(values)} child runs with a ROC AUC."
        )
    expected = max(values) - min(values)
    if isinstance(answer, str):
        return INCORRECT, "Your answer is a str (text); give a number, without quotes."
    if isinstance(answer, Mapping) or (
        not isinstance(answer, numbers.Real) and hasattr(answer, "__len__")
    ):
        return INCORRECT, (
            "Give one number: the largest ROC AUC of the seed runs minus the smallest, e.g. "
            "runs['metrics.roc_auc'].max() - runs['metrics.roc_auc'].min()."
        )
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return INCORRECT, f"Your answer is a {type(answer).__name__}; give one number."
    value = float(answer)
    if not math.isfinite(value):
        return INCORRECT, "Your answer is not a finite number: were all seed runs found?"
    tol = 1e-9
    if abs(value - expected) <= tol:
        return CORRECT, (
            f"The seed alone moves ROC AUC by {expected:.4f} across {len(values)} runs of the "
            "same config on the same data."
        )
    if abs(value + expected) <= tol:
        return INCORRECT, "Right size, wrong sign: the spread is the maximum minus the minimum."
    if abs(value - 100 * expected) <= 100 * tol:
        return INCORRECT, "Right number, wrong scale: give ROC AUC points (0 to 1), not percent."
    if (
        abs(value - float(np.std(values))) <= 1e-6
        or abs(value - float(np.std(values, ddof=1))) <= 1e-6
    ):
        return INCORRECT, "That is the standard deviation; the spread asked for is max - min."
    if value in values:
        return INCORRECT, "That is one run's ROC AUC; give the largest minus the smallest."
    return INCORRECT, (
        "Not quite. Read the seed runs back with their parent's ID (filter by "
        "tags.mlflow.parentRunId) and take max - min of the column metrics.roc_auc."
    )
