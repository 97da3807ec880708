"""Experiment tracking for the course's training runs: log a run with everything, sweep, query.

Introduced in notebook 05 (experiment tracking); later notebooks (registry, testing, continuous
delivery, monitoring, full cycle) log their runs with the same helpers.

A run of :func:`utils.training.train` is logged by :func:`log_training_run` with:

* **parameters**: :meth:`~utils.training.TrainConfig.as_params` (model, seed, test share,
  features, every estimator hyperparameter), the sizes of the splits and any extra parameters
  (e.g. how the data were generated);
* **metrics**: the test metrics of :func:`~utils.training.evaluate` under their own names, the
  training metrics with the prefix ``train_``, and ``fit_seconds`` (a measurement of the
  machine, the one metric that differs between identical runs, see
  :data:`NONDETERMINISTIC_METRICS`);
* **tags**: the lineage of :func:`utils.registry.lineage_tags`: the data fingerprints
  (``data_fingerprint``, ``train_fingerprint``), the code version (``code_version``, see
  :func:`code_version`) and ``model_type``, plus tags of your own, such as an execution ID
  (:func:`new_execution_id`) that tells this execution's runs from earlier ones;
* **artifacts**: ``config.json`` (the exact :class:`~utils.training.TrainConfig`, which
  :func:`config_from_run` reads back), the confusion matrix as ``confusion_matrix.png``, and
  optionally the model (through :func:`utils.tracking.log_sklearn_model`, the fast path);
* **datasets** (MLflow's run inputs), when the data are given: the training and the test split
  (:func:`log_datasets`), each with its fingerprint as MLflow's digest.

:func:`run_sweep` trains a list of configs as child runs of one parent run, with a progress
bar; :func:`find_runs` reads runs back from the server as a DataFrame (``mlflow.search_runs``
with the filters the course needs); :func:`metric_differences` compares two sets of metrics
exactly; :func:`sweep_figure` and :func:`seed_spread_figure` draw the comparisons of
notebook 05 and its deck.

Importing this module has no side effects; MLflow is imported by the functions that use it.
"""

from __future__ import annotations

import itertools
import math
import numbers
import re
import time
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from utils import tracking
from utils.datasets import CHURN_TARGET, fingerprint
from utils.progress import running_cell
from utils.registry import code_version, lineage_tags
from utils.training import TrainConfig, TrainResult, split, train

__all__ = [
    "DATASET_CONTEXTS",
    "EXECUTION_TAG",
    "NONDETERMINISTIC_METRICS",
    "LoggedRun",
    "Progress",
    "SweepResult",
    "as_model_input",
    "code_version",
    "config_from_run",
    "config_label",
    "confusion_matrix_figure",
    "find_runs",
    "grid",
    "log_datasets",
    "log_training_run",
    "metric_differences",
    "new_execution_id",
    "run_metrics",
    "run_sweep",
    "runs_frame",
    "seed_spread_figure",
    "paired_seeds_figure",
    "sweep_figure",
]

#: The tag that marks the runs of one execution of a notebook (see :func:`new_execution_id`).
EXECUTION_TAG = "execution_id"
#: Metrics that measure the machine rather than the model: they differ between identical runs.
NONDETERMINISTIC_METRICS: tuple[str, ...] = ("fit_seconds",)

CONFIG_ARTIFACT = "config.json"
CONFUSION_MATRIX_ARTIFACT = "confusion_matrix.png"
_ID_RE = re.compile(r"^[0-9A-Za-z_-]+$")


# --------------------------------------------------------------------------- code and data


def new_execution_id() -> str:
    """A new random ID (12 hex characters) for one execution of a notebook.

    Introduced in notebook 05. Tag every run of an execution with it (tag :data:`EXECUTION_TAG`),
    and query with ``find_runs(execution_id=...)``: the query then finds this execution's runs
    only, however often the notebook ran before in the same experiment.
    """
    return uuid.uuid4().hex[:12]


# --------------------------------------------------------------------------- configs


def grid(model: str, seed: int = 0, **param_lists: Sequence[Any]) -> list[TrainConfig]:
    """Every combination of the given hyperparameter values, as configs (notebook 05).

    Example: ``grid("random_forest", n_estimators=[50], max_depth=[4, 8])`` gives two configs.
    Without ``param_lists`` it gives the one config with the course defaults.

    Raises:
        TypeError: a value list is a string or not a list/tuple.
        ValueError: a value list is empty; unknown model or hyperparameter (from TrainConfig).
    """
    names = sorted(param_lists)
    for name in names:
        values = param_lists[name]
        if isinstance(values, str) or not isinstance(values, Sequence):
            raise TypeError(
                f"{name} must be a list of values to try, e.g. {name}=[0.1, 1.0]; got {values!r}."
            )
        if len(values) == 0:
            raise ValueError(f"{name} is an empty list: give at least one value to try.")
    combos = itertools.product(*(param_lists[name] for name in names))
    return [TrainConfig(model, dict(zip(names, combo, strict=True)), seed=seed) for combo in combos]


def config_label(config: TrainConfig) -> str:
    """A short, readable name for a config: the model and the hyperparameters set explicitly.

    Introduced in notebook 05, where it names the runs of a sweep, e.g.
    ``"random_forest max_depth=8 n_estimators=50"``. The seed is not part of the label.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}.")
    parts = [config.model] + [f"{k}={v}" for k, v in sorted(config.params.items())]
    return " ".join(parts)


# --------------------------------------------------------------------------- figures


def confusion_matrix_figure(metrics: Mapping[str, float], title: str | None = None) -> Any:
    """Draw the confusion matrix from the counts ``tp``, ``fp``, ``fn``, ``tn`` of ``metrics``.

    Introduced in notebook 05, where it is logged as an artifact of every run. It works on the
    metrics of :func:`~utils.training.evaluate` and on metrics read back from the server, so a
    run's matrix can be redrawn without the model. Returns a matplotlib figure (it shows itself
    in a notebook; nothing is drawn on screen by calling this).

    Raises:
        ValueError: a count is missing, negative or not a whole number.
    """
    # deferred: utils.figures loads matplotlib: +578 ms to import experiments
    from utils.figures import CourseFigure

    if not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a dict of metrics, got {type(metrics).__name__}.")
    counts: dict[str, int] = {}
    for key in ("tn", "fp", "fn", "tp"):
        value = metrics.get(key)
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
            or value < 0
            or value != int(value)
        ):
            raise ValueError(
                f"metrics[{key!r}] must be a count (a whole number >= 0), got {value!r}; pass "
                "the metrics of utils.training.evaluate or of a run logged by log_training_run."
            )
        counts[key] = int(value)
    matrix = [[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]]
    total = sum(counts.values())
    fig = CourseFigure(figsize=(4.2, 3.6), facecolor="white")
    ax = fig.add_subplot()
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=max(max(row) for row in matrix) or 1)
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            share = count / total if total else 0.0
            colour = "white" if count > 0.6 * peak else "black"
            ax.text(j, i, f"{count}\n({share:.0%})", ha="center", va="center", color=colour)
    labels = ["stayed (0)", "churned (1)"]
    ax.set_xticks([0, 1], labels)
    ax.set_yticks([0, 1], labels)
    ax.set_xlabel("predicted (customers)")
    ax.set_ylabel("actual (customers)")
    ax.set_title(title or f"Confusion matrix, test set ({total} customers)", fontsize=10)
    fig.tight_layout()
    return fig


_SWEEP_COLUMNS = {
    "tags.mlflow.runName": "a run name",
    "metrics.roc_auc": "the test ROC AUC",
    "metrics.train_roc_auc": "the training ROC AUC",
    "metrics.cost_per_customer_eur": "the cost per customer",
}


def runs_frame(results: Sequence[TrainResult], names: Sequence[str] | None = None) -> pd.DataFrame:
    """Training results that were not logged, as a table shaped like ``mlflow.search_runs``.

    Introduced in notebook 05 (its deck draws the sweep from it without a tracking server). One
    row per result, with the columns ``tags.mlflow.runName`` (``names``, default
    :func:`config_label`), ``params.model``, ``params.seed``, ``metrics.<name>`` for the test
    metrics, ``metrics.train_<name>`` for the training metrics and ``metrics.fit_seconds``.

    Raises:
        TypeError: an item is not a TrainResult.
        ValueError: ``names`` has the wrong length.
    """
    results = list(results)
    bad = [type(r).__name__ for r in results if not isinstance(r, TrainResult)]
    if bad:
        raise TypeError(f"results must be TrainResult objects (from training.train), got {bad}.")
    labels = [config_label(r.config) for r in results] if names is None else list(names)
    if len(labels) != len(results):
        raise ValueError(f"names has {len(labels)} names for {len(results)} results.")
    rows = []
    for result, label in zip(results, labels, strict=True):
        row: dict[str, Any] = {
            "tags.mlflow.runName": label,
            "params.model": result.config.model,
            "params.seed": str(result.config.seed),
        }
        row.update({f"metrics.{k}": v for k, v in _run_metrics(result).items()})
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_figure(runs: pd.DataFrame, title: str | None = None) -> Any:
    """Compare the runs of a sweep: test and training ROC AUC, and the cost per customer.

    Introduced in notebook 05. ``runs`` is what ``mlflow.search_runs`` (or :func:`find_runs`,
    :func:`runs_frame`) returns for runs logged by :func:`log_training_run`: one row per run
    with the columns ``tags.mlflow.runName``, ``metrics.roc_auc``, ``metrics.train_roc_auc`` and
    ``metrics.cost_per_customer_eur``. Rows are sorted by test ROC AUC, the best on top.

    Raises:
        ValueError: ``runs`` is empty or lacks one of those columns.
    """
    # deferred: utils.figures loads matplotlib: +578 ms to import experiments
    from utils.figures import CourseFigure

    if not isinstance(runs, pd.DataFrame):
        raise TypeError(f"runs must be a DataFrame from mlflow.search_runs, got {type(runs)}.")
    missing = [f"{c} ({what})" for c, what in _SWEEP_COLUMNS.items() if c not in runs.columns]
    if missing:
        raise ValueError(
            f"runs lacks the column(s) {missing}; give the runs of a sweep logged with "
            "experiments.run_sweep or log_training_run, as mlflow.search_runs returns them."
        )
    if runs.empty:
        raise ValueError("runs is empty: the query found no runs (check its filter).")
    ordered = runs.sort_values("metrics.roc_auc")
    labels = list(ordered["tags.mlflow.runName"].astype(str))
    height = 1.2 + 0.38 * len(labels)
    fig = CourseFigure(figsize=(12, height), facecolor="white")
    ax_auc, ax_cost = fig.subplots(1, 2, sharey=True)
    blue, grey = "#0072b2", "#666666"
    ax_auc.scatter(ordered["metrics.roc_auc"], labels, s=50, color=blue, label="test rows")
    ax_auc.scatter(
        ordered["metrics.train_roc_auc"],
        labels,
        marker="|",
        s=150,
        color=grey,
        label="training rows",
    )
    low = min(ordered["metrics.roc_auc"].min(), ordered["metrics.train_roc_auc"].min())
    ax_auc.set_xlim(max(0.5, math.floor(low * 20) / 20), 1.0)
    ax_auc.set_title("Ranking quality: higher is better", fontsize=11)
    ax_auc.set_xlabel("ROC AUC (0.5 = guessing, 1 = perfect)")
    ax_auc.set_ylabel("configuration (run)")
    ax_auc.legend(loc="upper right", fontsize=9)
    ax_cost.scatter(ordered["metrics.cost_per_customer_eur"], labels, s=50, color=blue)
    ax_cost.set_title("Cost of the errors: lower is better", fontsize=11)
    ax_cost.set_xlabel("cost per test customer (EUR), threshold 0.5")
    for ax in (ax_auc, ax_cost):
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title or f"{len(labels)} runs compared, best ROC AUC on top", fontsize=12)
    fig.tight_layout()
    return fig


def seed_spread_figure(
    seed_scores: Sequence[float],
    contenders: Mapping[str, float],
    title: str | None = None,
    metric: str = "test ROC AUC",
) -> Any:
    """Show how far the seed alone moves a score, next to the margin between two configs.

    Introduced in notebook 05. The lower row has one dot per seed of the same config; the upper
    row the scores of the ``contenders`` (e.g. the winner and the runner-up of a sweep, each
    with one seed), on the same axis. When the dots below spread wider than the gap above, the
    sweep's ranking is within the noise of the seed.

    Raises:
        ValueError: fewer than two seed scores or no contenders, or a score is not finite.
    """
    # deferred: utils.figures loads matplotlib: +578 ms to import experiments
    from utils.figures import CourseFigure

    scores = [float(v) for v in seed_scores]
    if len(scores) < 2:
        raise ValueError(f"Give at least two seed scores to show a spread, got {len(scores)}.")
    if not isinstance(contenders, Mapping) or not contenders:
        raise ValueError("contenders must be a non-empty dict {run name: score}.")
    values = scores + [float(v) for v in contenders.values()]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"Every score must be a finite number, got {values}.")
    fig = CourseFigure(figsize=(9, 2.9), facecolor="white")
    ax = fig.add_subplot()
    seeds_row = f"same config,\n{len(scores)} seeds"
    top_row = "sweep: one seed\neach"
    ax.scatter(scores, [seeds_row] * len(scores), s=60, color="#0072b2")
    for (name, score), marker in zip(contenders.items(), itertools.cycle("os^D"), strict=False):
        ax.scatter([score], [top_row], s=60, marker=marker, color="#d55e00", label=name)
    ax.set_ylim(-0.6, 1.6)
    ax.set_xlabel(metric)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    spread = max(scores) - min(scores)
    ax.set_title(title or f"The seed moves {metric} by {spread:.4f}", fontsize=11)
    fig.tight_layout()
    return fig


def paired_seeds_figure(
    scores: pd.DataFrame,
    title: str | None = None,
    metric: str = "test ROC AUC",
) -> Any:
    """Show configs scored with the same seeds: their scores, and their differences seed by seed.

    Introduced in notebook 05. ``scores`` has one row per seed (the index) and one column per
    config. Left: each config's score by seed, one line each; configs scored on the same test
    split move together. Right: the first config minus each other one, by seed, against zero.
    A difference that keeps its sign in every seed is a real gap; one that changes sign is not.

    Raises:
        ValueError: fewer than two seeds or two configs, or a score is missing or not finite.
    """
    # deferred: utils.figures loads matplotlib: +578 ms to import experiments
    from utils.figures import CourseFigure

    if not isinstance(scores, pd.DataFrame) or scores.shape[0] < 2 or scores.shape[1] < 2:
        raise ValueError(
            "scores must be a DataFrame with at least two seeds (rows) and two configs."
        )
    values = scores.to_numpy(dtype=float)
    if not all(math.isfinite(v) for v in values.ravel()):
        raise ValueError("Every score must be a finite number (a seed run is missing?).")
    seeds = [str(s) for s in scores.index]
    first = scores.columns[0]
    fig = CourseFigure(figsize=(11, 4.4), facecolor="white")
    left, right = fig.subplots(1, 2)
    colours = itertools.cycle(["#0072b2", "#d55e00", "#009e73", "#cc79a7"])
    markers = itertools.cycle("os^D")
    for name, colour, marker in zip(scores.columns, colours, markers, strict=False):
        left.plot(seeds, scores[name], marker=marker, color=colour, label=str(name))
    left.set_xlabel("seed")
    left.set_ylabel(metric)
    left.set_title("each config's score, by seed", fontsize=10)
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    left.grid(alpha=0.3)
    right.axhline(0.0, color="black", linewidth=1)
    colours = itertools.cycle(["#d55e00", "#009e73", "#cc79a7"])
    markers = itertools.cycle("s^D")
    for name, colour, marker in zip(scores.columns[1:], colours, markers, strict=False):
        diff = scores[first] - scores[name]
        ahead = int((diff > 0).sum())
        label = f"{first} - {name}: ahead in {ahead} of {len(diff)}"
        right.plot(seeds, diff, marker=marker, color=colour, linestyle="none", label=label)
    right.set_xlabel("seed")
    right.set_ylabel(f"difference of {metric}")
    right.set_title("their difference, seed by seed", fontsize=10)
    right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    right.grid(alpha=0.3)
    fig.suptitle(title or f"{scores.shape[1]} configs over {len(seeds)} seeds", fontsize=12)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- logging


def as_model_input(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with categorical columns as plain strings, as MLflow models expect.

    Introduced in notebook 05. MLflow's model signatures know strings but not pandas
    ``category`` columns (``make_churn`` uses them), so an input example or a request to a
    served model gives strings; the course's pipelines predict the same from both.

    Raises:
        TypeError: ``df`` is not a DataFrame.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"as_model_input expects a pandas DataFrame, got {type(df).__name__}.")
    out = df.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(object)
    return out


@dataclass(frozen=True)
class LoggedRun:
    """What :func:`log_training_run` returns (introduced in notebook 05).

    Attributes:
        run_id: the run's ID on the tracking server.
        run_name: its name.
        experiment_id: the experiment it belongs to.
        metrics: the metrics that were logged (test, ``train_*`` and ``fit_seconds``).
        model_uri: the logged model's URI (``models:/m-...``), or None without a model.
    """

    run_id: str
    run_name: str
    experiment_id: str
    metrics: dict[str, float] = field(repr=False)
    model_uri: str | None = None


def _run_metrics(result: TrainResult) -> dict[str, float]:
    metrics = {k: float(v) for k, v in result.metrics.items()}
    metrics.update({f"train_{k}": float(v) for k, v in result.train_metrics.items()})
    metrics["fit_seconds"] = float(result.fit_seconds)
    return metrics


def _check_mapping(value: object, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict, got {type(value).__name__}.")
    bad = [k for k in value if not isinstance(k, str) or not k]
    if bad:
        raise TypeError(f"{name} keys must be non-empty strings, got {bad!r}.")
    return dict(value)


#: The context MLflow records for each split logged by :func:`log_datasets`.
DATASET_CONTEXTS: dict[str, str] = {"train": "training", "test": "testing"}
_DATASETS: dict[tuple[Any, ...], list[Any]] = {}  # the datasets of recent splits, see below


def log_datasets(result: TrainResult, data: pd.DataFrame, name: str = "churn") -> list[Any]:
    """Log the training and the test split of ``result`` as datasets of the active run.

    Introduced in notebook 05, which shows the same ``mlflow.log_input`` call by hand. The
    splits are made again from ``data`` (checked against the result's data fingerprint) with the
    result's config, whose seed gives the same rows as in training, and logged with
    ``mlflow.log_inputs`` as ``<name>-train`` (context ``training``) and ``<name>-test``
    (context ``testing``). Each dataset's digest is its :func:`utils.datasets.fingerprint`, the
    same as the run's tag ``train_fingerprint``; the run page of the MLflow UI lists them
    under *Datasets*. Returns the two ``mlflow.data`` datasets.

    Raises:
        TypeError: ``result`` is not a TrainResult or ``data`` not a DataFrame.
        ValueError: ``data`` is not the frame ``result`` was trained on.
    """
    import mlflow
    import mlflow.data

    if not isinstance(result, TrainResult):
        raise TypeError(f"result must be a TrainResult, got {type(result).__name__}.")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if fingerprint(data) != result.data_fingerprint:
        raise ValueError(
            "data is not the frame this result was trained on (its fingerprint differs from "
            "the result's data_fingerprint): pass the frame you gave to training.train."
        )
    # MLflow infers each dataset's schema value by value (a good part of a second for the
    # notebook's data); the configs of a sweep share their split, so they share the datasets.
    key = (result.data_fingerprint, result.config.seed, result.config.test_size, name)
    datasets = _DATASETS.get(key)
    if datasets is None:
        train_df, test_df = split(data, result.config)
        datasets = [
            mlflow.data.from_pandas(
                frame, name=f"{name}-{part}", targets=CHURN_TARGET, digest=fingerprint(frame)
            )
            for part, frame in (("train", train_df), ("test", test_df))
        ]
        if len(_DATASETS) >= 32:
            _DATASETS.clear()
        _DATASETS[key] = datasets
    with warnings.catch_warnings():
        # MLflow hints that integer columns cannot hold missing values; notebook 04 checks the
        # data's schema, so the hint is noise here.
        warnings.filterwarnings("ignore", message=".*Inferred schema contains integer column")
        mlflow.log_inputs(
            datasets, contexts=list(DATASET_CONTEXTS.values()), tags_list=[None, None]
        )
    return datasets


def log_training_run(
    result: TrainResult,
    *,
    run_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    nested: bool = False,
    confusion_matrix: bool = True,
    log_model: bool = False,
    input_example: pd.DataFrame | None = None,
    code: str | None = None,
    data: pd.DataFrame | None = None,
) -> LoggedRun:
    """Log one result of :func:`utils.training.train` as an MLflow run, with everything.

    Introduced in notebook 05; see the module docstring for what is logged. The run goes to the
    active experiment (``tracking.use_experiment``). It is started and ended here; with
    ``nested=True`` it becomes a child of the run that is active (as in :func:`run_sweep`).

    Args:
        result: what :func:`~utils.training.train` returned.
        run_name: the run's name; default :func:`config_label` of the result's config.
        params: extra parameters, e.g. how the data were made (``{"data.seed": 0}``).
        tags: extra tags, e.g. ``{EXECUTION_TAG: execution_id}``.
        nested: make the run a child of the active run.
        confusion_matrix: log the confusion matrix image (about 0.1 s).
        log_model: log the fitted pipeline too (:func:`utils.tracking.log_sklearn_model`,
            about a second); its URI is in the returned :class:`LoggedRun`.
        input_example: a few rows of features stored with the model (only with ``log_model``);
            categorical columns are stored as strings (:func:`as_model_input`).
        code: the code version (tag ``code_version``); default the one in ``tags``, else
            :func:`code_version` (pass it to save reading the sources and asking git again
            for every run of a sweep).
        data: the frame given to :func:`~utils.training.train`; its training and test split
            are logged as the run's datasets (:func:`log_datasets`). Without it, none are.

    Returns:
        A :class:`LoggedRun` with the run's ID, name, experiment and logged metrics.

    Raises:
        TypeError: ``result`` is not a TrainResult, or ``params``/``tags`` are not dicts.
        ValueError: a parameter or tag name clashes with one logged automatically.
    """
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    if not isinstance(result, TrainResult):
        raise TypeError(
            f"result must be what utils.training.train returns (a TrainResult), got "
            f"{type(result).__name__}."
        )
    if input_example is not None and not log_model:
        raise ValueError("input_example is stored with the model: pass log_model=True too.")
    extra_params = _check_mapping(params, "params")
    extra_tags = _check_mapping(tags, "tags")
    all_params: dict[str, Any] = dict(result.config.as_params())
    all_params.update({"n_train": result.n_train, "n_test": result.n_test})
    clash = sorted(set(extra_params) & set(all_params))
    if clash:
        raise ValueError(f"params {clash} are logged from the config already; rename yours.")
    all_params.update(extra_params)
    if code is None:
        code = extra_tags.get("code_version")
    all_tags: dict[str, Any] = lineage_tags(result, code=code)
    clash = sorted(k for k in set(extra_tags) & set(all_tags) if extra_tags[k] != all_tags[k])
    if clash:
        raise ValueError(
            f"tags {clash} are set automatically from the result, to other values; leave them "
            "out or rename yours."
        )
    all_tags.update(extra_tags)
    metrics = _run_metrics(result)
    name = run_name if run_name is not None else config_label(result.config)

    model_uri: str | None = None
    with mlflow.start_run(run_name=name, nested=nested) as run:
        now = int(time.time() * 1000)
        mlflow.MlflowClient().log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in all_params.items()],
            tags=[RunTag(k, str(v)) for k, v in all_tags.items()],
        )
        mlflow.log_dict(result.config.to_dict(), CONFIG_ARTIFACT)
        if data is not None:
            log_datasets(result, data)
        if confusion_matrix:
            mlflow.log_figure(confusion_matrix_figure(result.metrics), CONFUSION_MATRIX_ARTIFACT)
        if log_model:
            example = as_model_input(input_example) if input_example is not None else None
            info = tracking.log_sklearn_model(result.pipeline, input_example=example)
            model_uri = str(info.model_uri)
    return LoggedRun(run.info.run_id, name, run.info.experiment_id, metrics, model_uri)


# --------------------------------------------------------------------------- progress


class Progress:
    """A progress bar with a status line, for cells that take more than a few seconds.

    Introduced in notebook 05 (the sweep). In a notebook it is an ipywidgets bar; elsewhere
    (scripts, tests) each step prints one line. Use :meth:`step` after each item and
    :meth:`done` at the end::

        bar = Progress(len(configs), "sweep")
        for config in configs:
            ...
            bar.step(f"trained {config_label(config)}")
        bar.done("8 runs logged")
    """

    def __init__(self, total: int, description: str = "", widget: bool | None = None) -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError(f"total must be a whole number >= 0, got {total!r}.")
        self.total = total
        self.count = 0
        self.description = description
        self.text = ""
        self._started = time.perf_counter()
        self._bar: Any = None
        self._label: Any = None
        if widget is None:
            widget = running_cell() is not None
        if widget:
            import ipywidgets as widgets
            from IPython.display import display

            self._bar = widgets.IntProgress(
                value=0, min=0, max=max(total, 1), description=description
            )
            self._label = widgets.Label(value=f"0/{total}")
            display(widgets.HBox([self._bar, self._label]))

    @property
    def elapsed(self) -> float:
        """Seconds since the bar was created."""
        return time.perf_counter() - self._started

    def step(self, text: str = "") -> None:
        """Advance the bar by one and show ``text`` (e.g. what was just done)."""
        self.count = min(self.count + 1, self.total)
        self._show(f"{self.count}/{self.total} · {text}" if text else f"{self.count}/{self.total}")

    def done(self, text: str = "done") -> None:
        """Fill the bar and show ``text`` with the elapsed time."""
        self.count = self.total
        self._show(f"{text} ({self.elapsed:.1f} s)")
        if self._bar is not None:
            self._bar.bar_style = "success"

    def _show(self, text: str) -> None:
        self.text = text
        if self._bar is not None:
            self._bar.value = self.count
            self._label.value = text
        else:
            prefix = f"{self.description}: " if self.description else ""
            print(prefix + text, flush=True)


# --------------------------------------------------------------------------- sweeps


@dataclass
class SweepResult:
    """What :func:`run_sweep` returns (introduced in notebook 05).

    Attributes:
        parent_run_id: the ID of the parent run that holds the sweep's child runs.
        runs: one :class:`LoggedRun` per config, in the order of the configs.
        results: the :class:`~utils.training.TrainResult` of each config (with its model).
        seconds: wall-clock time of the whole sweep.
    """

    parent_run_id: str
    runs: list[LoggedRun]
    results: list[TrainResult] = field(repr=False)
    seconds: float


def run_sweep(
    configs: Iterable[TrainConfig],
    df: pd.DataFrame,
    *,
    run_name: str = "sweep",
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    child_names: Sequence[str] | None = None,
    confusion_matrix: bool = False,
    progress: bool | None = None,
) -> SweepResult:
    """Train every config on ``df`` and log each as a child run of one parent run.

    Introduced in notebook 05. The parent run (named ``run_name``) gets the tags, the data
    fingerprint, the extra ``params`` and the parameter ``n_configs``; each child gets what
    :func:`log_training_run` logs, the same extra params and tags. MLflow links the children
    to the parent with the tag ``mlflow.parentRunId``, and the UI shows them folded under it.
    Each child's training and test split are logged as its datasets (:func:`log_datasets`).

    Args:
        configs: the configs to train (at least one).
        df: the data, as for :func:`utils.training.train`.
        run_name: the parent run's name.
        params: extra parameters for every run (e.g. how the data were made).
        tags: extra tags for every run (e.g. the execution ID).
        child_names: names of the child runs; default :func:`config_label` of each config.
        confusion_matrix: log each child's confusion matrix image (off: keeps a sweep fast).
        progress: show a progress bar (default: in a notebook), else print a line per run.

    Raises:
        TypeError: an item of ``configs`` is not a TrainConfig.
        ValueError: no configs, or ``child_names`` has the wrong length.
    """
    import mlflow

    configs = list(configs)
    if not configs:
        raise ValueError("run_sweep needs at least one TrainConfig.")
    bad = [type(c).__name__ for c in configs if not isinstance(c, TrainConfig)]
    if bad:
        raise TypeError(f"configs must all be TrainConfig objects, got {bad}.")
    names = [config_label(c) for c in configs] if child_names is None else list(child_names)
    if len(names) != len(configs):
        raise ValueError(f"child_names has {len(names)} names for {len(configs)} configs.")
    extra_params = _check_mapping(params, "params")
    extra_tags = _check_mapping(tags, "tags")
    started = time.perf_counter()
    bar = Progress(len(configs), run_name, widget=progress)
    runs: list[LoggedRun] = []
    results: list[TrainResult] = []
    code = code_version()
    with mlflow.start_run(run_name=run_name, tags=extra_tags) as parent:
        mlflow.log_params({**extra_params, "n_configs": len(configs)})
        mlflow.set_tags({"data_fingerprint": fingerprint(df), "code_version": code})
        for config, name in zip(configs, names, strict=True):
            result = train(config, df)
            logged = log_training_run(
                result,
                run_name=name,
                params=extra_params,
                tags=extra_tags,
                nested=True,
                confusion_matrix=confusion_matrix,
                code=code,
                data=df,
            )
            runs.append(logged)
            results.append(result)
            bar.step(f"{name}: ROC AUC {result.metrics['roc_auc']:.4f}")
    bar.done(f"{len(configs)} runs logged under '{run_name}'")
    return SweepResult(parent.info.run_id, runs, results, time.perf_counter() - started)


# --------------------------------------------------------------------------- reading back


def _quoted(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ValueError(
            f"{what} must be an ID of letters, digits, '-' and '_' (e.g. a run ID), got {value!r}."
        )
    return f"'{value}'"


def find_runs(
    *,
    experiment_ids: Sequence[str] | None = None,
    parent_run_id: str | None = None,
    execution_id: str | None = None,
    run_name: str | None = None,
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read runs back from the tracking server as a DataFrame, one row per run.

    Introduced in notebook 05. A thin layer over ``mlflow.search_runs`` that writes the filter
    for the usual questions: the children of a parent run, the runs of one execution (tag
    :data:`EXECUTION_TAG`), the runs with a name. Conditions are combined with ``and``.
    Columns are MLflow's: ``run_id``, ``status``, ``start_time``, ``metrics.<name>``,
    ``params.<name>``, ``tags.<name>`` (``tags.mlflow.runName`` is the run's name).

    Args:
        experiment_ids: where to search; default the active experiment.
        parent_run_id: only the child runs of this run.
        execution_id: only runs tagged with this execution ID.
        run_name: only runs with this name.
        filter_string: any further MLflow filter, e.g. ``"metrics.roc_auc > 0.8"``.
        order_by: e.g. ``["metrics.roc_auc DESC"]``; default newest first.

    Raises:
        ValueError: an ID is malformed or ``run_name`` contains a quote.
    """
    import mlflow

    conditions = []
    if parent_run_id is not None:
        conditions.append(f"tags.mlflow.parentRunId = {_quoted(parent_run_id, 'parent_run_id')}")
    if execution_id is not None:
        conditions.append(f"tags.{EXECUTION_TAG} = {_quoted(execution_id, 'execution_id')}")
    if run_name is not None:
        if not isinstance(run_name, str) or "'" in run_name:
            raise ValueError(f"run_name must be a string without quotes, got {run_name!r}.")
        conditions.append(f"attributes.run_name = '{run_name}'")
    if not isinstance(filter_string, str):
        raise TypeError(f"filter_string must be a string, got {filter_string!r}.")
    if filter_string.strip():
        conditions.append(filter_string.strip())
    return mlflow.search_runs(
        experiment_ids=list(experiment_ids) if experiment_ids is not None else None,
        filter_string=" and ".join(conditions),
        order_by=list(order_by) if order_by is not None else None,
    )


def run_metrics(run_id: str) -> dict[str, float]:
    """The metrics of a run as the server stores them (latest value of each; notebook 05)."""
    import mlflow

    if not isinstance(run_id, str) or not run_id:
        raise TypeError(f"run_id must be a run's ID string, got {run_id!r}.")
    return dict(mlflow.get_run(run_id).data.metrics)


def config_from_run(run_id: str) -> TrainConfig:
    """Rebuild the exact :class:`~utils.training.TrainConfig` of a run from its ``config.json``.

    Introduced in notebook 05: with the config from the server, the data (regenerated and
    checked against the run's ``data_fingerprint`` tag) and the same code, a run can be
    reproduced, metric for metric.

    Raises:
        ValueError: the run has no ``config.json`` (it was not logged by
            :func:`log_training_run`).
    """
    import mlflow

    if not isinstance(run_id, str) or not run_id:
        raise TypeError(f"run_id must be a run's ID string, got {run_id!r}.")
    try:
        data = mlflow.artifacts.load_dict(f"runs:/{run_id}/{CONFIG_ARTIFACT}")
    except Exception as err:  # noqa: BLE001 - MLflow raises several types for a missing file
        raise ValueError(
            f"Run {run_id} has no {CONFIG_ARTIFACT} artifact: only runs logged with "
            "experiments.log_training_run can be rebuilt this way."
        ) from err
    return TrainConfig.from_dict(data)


def metric_differences(
    logged: Mapping[str, float],
    fresh: Mapping[str, float],
    ignore: Iterable[str] = NONDETERMINISTIC_METRICS,
) -> dict[str, tuple[float | None, float | None]]:
    """Compare two sets of metrics exactly; return those that differ (empty: identical).

    Introduced in notebook 05 to show that a rerun reproduces a logged run bit for bit. Only
    names in both sets are compared, except that a name missing from one side counts as a
    difference when it is in ``logged``; ``ignore`` names the metrics that measure the machine
    (:data:`NONDETERMINISTIC_METRICS`). NaN equals NaN here.

    Returns:
        ``{name: (logged value, fresh value)}`` for every metric that differs.
    """
    for name, value in (("logged", logged), ("fresh", fresh)):
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict of metrics, got {type(value).__name__}.")
    skip = set(ignore)
    differences: dict[str, tuple[float | None, float | None]] = {}
    for name in sorted(set(logged) - skip):
        a = logged.get(name)
        b = fresh.get(name)
        both_nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
        if b is None or (a != b and not both_nan):
            differences[name] = (a, b)
    return differences
