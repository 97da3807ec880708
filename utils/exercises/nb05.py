"""Checks of the exercises of notebook 05 (experiment tracking).

Every check reads what it needs back from the tracking server (the runs the notebook logged,
or the run the student logged) and computes the expected answer itself.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from utils import tracking
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


@register(
    "05.2",
    NOTEBOOK,
    "Log a run the server can check",
    needs=("data", "seed", "execution_id"),
)
def _check_logged_run(
    answer: object, *, data: Any, seed: int, execution_id: str
) -> tuple[Status, str]:
    import mlflow

    # deferred: utils.training loads scikit-learn: +1.3 s to import exercises.nb05
    from utils import training

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
    config = training.TrainConfig(EXERCISE_2_MODEL, EXERCISE_2_PARAMS, seed=seed)
    problem = _run_identity_problem(run, client, execution_id) or _params_problem(run, config)
    if problem is not None:
        return problem
    result = training.train(config, data)
    problem = _metrics_problem(run, result) or _fingerprint_problem(run, data)
    if problem is not None:
        return problem
    params, metrics = run.data.params, run.data.metrics
    return CORRECT, (
        f"The server has your run '{_run_name(run)}' with {len(params)} parameters, the exact "
        f"metrics ({len(result.metrics)} of them, ROC AUC {metrics['roc_auc']:.4f}), this "
        "execution's tag and the data's fingerprint: anyone can check it."
    )


def _run_identity_problem(run: Any, client: Any, execution_id: str) -> tuple[Status, str] | None:
    """05.2: the run's experiment, status, name and execution tag, and that the student (not
    the course's helper) logged it."""
    # deferred: utils.experiments loads scikit-learn: +1.2 s to import exercises.nb05
    from utils import experiments

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
    if run.data.tags[experiments.EXECUTION_TAG] != str(execution_id):
        return INCORRECT, (
            f"The run's tag {experiments.EXECUTION_TAG!r} is "
            f"{run.data.tags[experiments.EXECUTION_TAG]!r}, not this execution's ID "
            f"{execution_id!r}: that run belongs to another execution. Log a new run with "
            "tags=RUN_TAGS in this one."
        )
    helper_marks = sorted(
        {"train_fingerprint"} & set(run.data.tags) | {"n_train", "n_test"} & set(run.data.params)
    )
    if helper_marks:
        return INCORRECT, (
            f"This run was logged by the helper experiments.log_training_run (it has "
            f"{helper_marks}, which only the helper logs). Log it yourself with the plain "
            "MLflow functions of section 1: mlflow.start_run, mlflow.log_params, "
            "mlflow.log_metrics and mlflow.set_tag."
        )
    return None


def _params_problem(run: Any, config: Any) -> tuple[Status, str] | None:
    """05.2: every parameter of the config, with its value."""
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
    return None


def _metrics_problem(run: Any, result: Any) -> tuple[Status, str] | None:
    """05.2: every test metric, exactly as computed (not the training rows' metrics)."""
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
    missing_metrics = [k for k in result.metrics if k not in metrics]
    if missing_metrics:
        return INCORRECT, (
            f"The run lacks the metric {missing_metrics[0]!r}"
            f"{f' (and {len(missing_metrics) - 1} more)' if len(missing_metrics) > 1 else ''}. "
            "Log all test metrics at once: mlflow.log_metrics(result.metrics)."
        )
    different = [k for k in result.metrics if metrics[k] != result.metrics[k]]
    if different:
        key = different[0]
        return INCORRECT, (
            f"The logged {key} ({metrics[key]!r}) is not what this config gives on the "
            f"notebook's data ({result.metrics[key]!r}). Log result.metrics unchanged: every "
            "metric, exactly as computed."
        )
    return None


def _fingerprint_problem(run: Any, data: Any) -> tuple[Status, str] | None:
    """05.2: the data_fingerprint tag is the data's fingerprint."""
    # deferred: utils.datasets loads pandas: +259 ms to import exercises.nb05
    from utils import datasets

    logged_fingerprint = run.data.tags.get("data_fingerprint")
    expected_fingerprint = datasets.fingerprint(data)
    if logged_fingerprint is None:
        return INCORRECT, (
            "Params and metrics are right. Now add the tag 'data_fingerprint': "
            "mlflow.set_tag('data_fingerprint', result.data_fingerprint)."
        )
    if logged_fingerprint != expected_fingerprint:
        return INCORRECT, (
            f"The tag data_fingerprint is {logged_fingerprint!r}, but the data's fingerprint is "
            f"{expected_fingerprint!r}: use result.data_fingerprint (or "
            "datasets.fingerprint(churn))."
        )
    return None


# --------------------------------------------------------------------------- 05.3

#: The keys of exercise 05.3's answer.
EXERCISE_3_KEYS = ("ahead_in", "smallest_difference", "consistent")


def _config_key(run: Any) -> tuple[tuple[str, str], ...]:
    """What makes a run's config, apart from its seed: every parameter but the seed's.

    A forest's ``param.random_state`` is its seed too (``TrainConfig.as_params``).
    """
    params = run.data.params.items()
    return tuple(sorted((k, v) for k, v in params if k != "seed" and k != "param.random_state"))


def _best_of(children: list[Any], model: str) -> Any | None:
    """The run of ``model`` with the highest test ROC AUC among ``children``, or None."""
    runs = [
        r for r in children if r.data.params.get("model") == model and "roc_auc" in r.data.metrics
    ]
    return max(runs, key=lambda r: r.data.metrics["roc_auc"]) if runs else None


def _auc_by_seed(children: list[Any], config_run: Any) -> dict[int, float]:
    """Test ROC AUC by seed of the runs in ``children`` with the config of ``config_run``."""
    key = _config_key(config_run)
    return {
        int(r.data.params["seed"]): r.data.metrics["roc_auc"]
        for r in children
        if _config_key(r) == key and "seed" in r.data.params and "roc_auc" in r.data.metrics
    }


def _number_problem(value: object, key: str) -> str | None:
    if isinstance(value, str):
        return f"'{key}' is a str (text); give a number, without quotes."
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"'{key}' is a {type(value).__name__}; give one number."
    if not math.isfinite(float(value)):
        return f"'{key}' is not a finite number: were all runs found?"
    return None


def _paired_differences(parent_run_id: str, sweep_parent_run_id: str) -> tuple[list[float], Any]:
    """Per seed, best logistic regression minus best random forest (ROC AUC), and the LR runs."""
    sweep_children = _children(sweep_parent_run_id)
    best_lr = _best_of(sweep_children, "logistic_regression")
    best_rf = _best_of(sweep_children, "random_forest")
    if best_lr is None or best_rf is None:
        raise ValueError(
            "Exercise 05.3 needs the sweep's parent as sweep_parent_run_id, with logistic "
            f"regressions and random forests among its child runs; run {sweep_parent_run_id} "
            "lacks one of them."
        )
    seed_children = _children(parent_run_id)
    lr, rf = _auc_by_seed(seed_children, best_lr), _auc_by_seed(seed_children, best_rf)
    seeds = sorted(set(lr) & set(rf))
    if len(seeds) < 2:
        raise ValueError(
            f"Exercise 05.3 needs the seed runs' parent as parent_run_id, with the sweep's best "
            f"logistic regression and best random forest trained with the same seeds; run "
            f"{parent_run_id} has {len(seed_children)} child runs and {len(seeds)} seeds with both."
        )
    return [lr[s] - rf[s] for s in seeds], [lr[s] for s in seeds]


@register(
    "05.3",
    NOTEBOOK,
    "Is the forest really worse, seed by seed?",
    needs=("parent_run_id", "sweep_parent_run_id"),
)
def _check_seed_spread(
    answer: object, *, parent_run_id: str, sweep_parent_run_id: str
) -> tuple[Status, str]:
    import numpy as np

    differences, lr_scores = _paired_differences(parent_run_id, sweep_parent_run_id)
    n = len(differences)
    ahead = sum(d > 0 for d in differences)
    smallest = min(differences)
    consistent = all(d > 0 for d in differences) or all(d < 0 for d in differences)
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

    given_ahead = answer["ahead_in"]
    if isinstance(given_ahead, (bool, np.bool_)) or not isinstance(given_ahead, numbers.Integral):
        return INCORRECT, (
            f"'ahead_in' is {given_ahead!r:.40}; give a whole number of seeds (0 to {n})."
        )
    if int(given_ahead) != ahead:
        if int(given_ahead) == n - ahead and ahead != n - ahead:
            return INCORRECT, (
                "'ahead_in' counts the seeds the random forest is ahead in; count those where "
                "the logistic regression's ROC AUC is the higher one (its difference is > 0)."
            )
        return INCORRECT, (
            f"'ahead_in' is not the number of the {n} seeds in which the best logistic "
            "regression's test ROC AUC is above the best random forest's. Match the two "
            "models' seed runs by params.seed."
        )

    problem = _number_problem(answer["smallest_difference"], "smallest_difference")
    if problem is not None:
        return INCORRECT, problem
    given = float(answer["smallest_difference"])
    tol = 1e-9
    if abs(given - smallest) > tol:
        if abs(given - (max(lr_scores) - min(lr_scores))) <= tol:
            return INCORRECT, (
                "'smallest_difference' is how far the seed moves the logistic regression's own "
                "score (max - min). Both models are scored on the same test customers and move "
                "together; take the difference seed by seed, then its smallest value."
            )
        if abs(given + max(differences)) <= tol or abs(given - min(map(abs, differences))) <= tol:
            return INCORRECT, (
                "'smallest_difference' is the smallest of (logistic regression - random "
                "forest) over the seeds, with its sign: not the forest minus the logistic "
                "regression, not an absolute value."
            )
        return INCORRECT, (
            "'smallest_difference' is not the smallest per-seed difference (best logistic "
            "regression - best random forest, ROC AUC, same seed) of the seed runs, to within "
            f"{tol:g}."
        )

    verdict = answer["consistent"]
    if not isinstance(verdict, (bool, np.bool_)):
        return INCORRECT, (
            f"'consistent' is {verdict!r:.40}; decide True (one model is ahead in every seed) "
            "or False (they take turns)."
        )
    if bool(verdict) != consistent:
        return INCORRECT, (
            f"'consistent': the logistic regression is ahead in {ahead} of {n} seeds, so the "
            f"answer is {consistent}. One model's score moving more than the gap does not "
            "decide it: on the same test customers both move together, and what counts is "
            "whether their difference keeps its sign from seed to seed."
        )
    low, high = min(differences), max(differences)
    if consistent:
        winner = "logistic regression" if ahead == n else "random forest"
        return CORRECT, (
            f"The {winner} is ahead in all {n} seeds (differences {low:+.4f} to {high:+.4f}): "
            "the seed moves both models, but not their order. That gap is real."
        )
    return CORRECT, (
        f"The two take turns: the logistic regression is ahead in {ahead} of {n} seeds "
        f"(differences {low:+.4f} to {high:+.4f}). The sweep cannot tell them apart."
    )
