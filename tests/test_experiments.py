"""utils.experiments: code versions, logging a training run with everything, sweeps, queries.

The logging tests use the test session's tracking server (see conftest.py) through
``tracking.connect()``, as the notebooks do.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import mlflow.models
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest

from conftest import require_tool
from utils import datasets, experiments, registry, tracking, training
from utils.paths import git_output, repo_root

TOPIC = "05-test-experiments"


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return datasets.make_churn(n_per_period=100, periods=4, seed=3)


@pytest.fixture(scope="module")
def result(churn: pd.DataFrame) -> training.TrainResult:
    return training.train(training.TrainConfig("logistic_regression", {"C": 0.5}, seed=7), churn)


@pytest.fixture(scope="module")
def experiment_id() -> str:
    tracking.connect(quiet=True)
    return tracking.use_experiment(TOPIC)


@pytest.fixture(autouse=True)
def _active_experiment(request: pytest.FixtureRequest) -> None:
    # Tests that log need the experiment active even when another module changed it.
    if "experiment_id" in request.fixturenames:
        mlflow.set_experiment(tracking.experiment_name(TOPIC))


# --------------------------------------------------------------------------- code version


def test_execution_ids_are_short_hex_and_new_each_time() -> None:
    ids = {experiments.new_execution_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)


def test_there_is_one_code_version() -> None:
    # Notebook 05 tags runs with it and notebook 06 records it in a model's lineage: one function.
    assert experiments.code_version is registry.code_version


def _git_head() -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    done = subprocess.run(
        [git, "rev-parse", "HEAD"], cwd=repo_root(), capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def test_git_output_is_none_when_git_cannot_answer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    head = _git_head()
    answer = git_output(repo_root(), "rev-parse", "HEAD")
    assert (answer or "").strip() == (head or "")
    assert git_output(tmp_path, "rev-parse", "HEAD") is None  # not a repository
    assert git_output(repo_root(), "no-such-git-command") is None  # git fails
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on PATH
    assert git_output(repo_root(), "rev-parse", "HEAD") is None


def test_code_version_works_without_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with_git = experiments.code_version()
    head = _git_head()
    assert head is None or with_git.startswith(f"git:{head[:12]}")
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on PATH
    without = experiments.code_version()
    assert re.fullmatch(r"utils:[0-9a-f]{12}", without)
    assert head is None or with_git in (f"git:{head[:12]}", f"git:{head[:12]}+{without}")


# --------------------------------------------------------------------------- configs


def test_grid_builds_every_combination() -> None:
    configs = experiments.grid("random_forest", seed=3, n_estimators=[10, 20], max_depth=[2, 4])
    assert len(configs) == 4
    assert {(c.params["n_estimators"], c.params["max_depth"]) for c in configs} == {
        (10, 2),
        (10, 4),
        (20, 2),
        (20, 4),
    }
    assert all(c.seed == 3 and c.model == "random_forest" for c in configs)
    assert experiments.grid("dummy") == [training.TrainConfig("dummy")]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"C": 0.1}, TypeError, "must be a list of values"),
        ({"C": "0.1"}, TypeError, "must be a list of values"),
        ({"C": []}, ValueError, "empty list"),
        ({"bogus": [1]}, ValueError, "Unknown hyperparameter"),
    ],
)
def test_grid_rejects_bad_value_lists(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        experiments.grid("logistic_regression", **kwargs)


def test_config_label_names_model_and_chosen_params_only() -> None:
    config = training.TrainConfig("random_forest", {"n_estimators": 50, "max_depth": 8}, seed=9)
    assert experiments.config_label(config) == "random_forest max_depth=8 n_estimators=50"
    assert experiments.config_label(training.TrainConfig()) == "logistic_regression"
    with pytest.raises(TypeError, match="TrainConfig"):
        experiments.config_label({"model": "dummy"})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- figure, inputs


def test_confusion_matrix_figure_shows_the_counts(result: training.TrainResult) -> None:
    fig = experiments.confusion_matrix_figure(result.metrics)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    m = result.metrics
    expected = [m["tn"], m["fp"], m["fn"], m["tp"]]
    assert [int(t.split("\n")[0]) for t in texts] == [int(v) for v in expected]
    assert f"{int(m['n'])} customers" in ax.get_title()
    assert ax.get_xlabel().startswith("predicted") and ax.get_ylabel().startswith("actual")
    custom = experiments.confusion_matrix_figure(result.metrics, title="My title")
    assert custom.axes[0].get_title() == "My title"


@pytest.mark.parametrize(
    "bad",
    [
        {"tp": 1, "fp": 2, "fn": 3},
        {"tp": 1, "fp": 2, "fn": 3, "tn": -1},
        {"tp": 1.5, "fp": 2, "fn": 3, "tn": 4},
    ],
)
def test_confusion_matrix_figure_rejects_bad_counts(bad: dict) -> None:
    with pytest.raises(ValueError, match="must be a count"):
        experiments.confusion_matrix_figure(bad)


def test_as_model_input_turns_categories_into_strings(
    churn: pd.DataFrame, result: training.TrainResult
) -> None:
    features = churn[list(result.config.features)]
    plain = experiments.as_model_input(features)
    assert all(not isinstance(t, pd.CategoricalDtype) for t in plain.dtypes)
    assert plain["contract"].tolist() == features["contract"].astype(str).tolist()
    assert isinstance(features["contract"].dtype, pd.CategoricalDtype)  # the input is unchanged
    proba = result.pipeline.predict_proba(features)
    assert (result.pipeline.predict_proba(plain) == proba).all()
    with pytest.raises(TypeError, match="DataFrame"):
        experiments.as_model_input([1, 2])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- logging


def test_log_training_run_logs_everything_and_reads_back_exactly(
    experiment_id: str, result: training.TrainResult
) -> None:
    execution = experiments.new_execution_id()
    logged = experiments.log_training_run(
        result,
        run_name="everything",
        params={"data.seed": 3},
        tags={experiments.EXECUTION_TAG: execution},
    )
    assert logged.experiment_id == experiment_id and logged.model_uri is None
    run = mlflow.get_run(logged.run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "everything"
    params = run.data.params
    expected = {k: str(v) for k, v in result.config.as_params().items()}
    assert {k: params[k] for k in expected} == expected
    assert params["data.seed"] == "3" and params["n_test"] == str(result.n_test)
    metrics = run.data.metrics
    assert {k: metrics[k] for k in result.metrics} == result.metrics
    assert {k: metrics[f"train_{k}"] for k in result.train_metrics} == result.train_metrics
    assert metrics["fit_seconds"] == result.fit_seconds
    assert logged.metrics == metrics
    tags = run.data.tags
    assert tags["data_fingerprint"] == result.data_fingerprint
    assert tags["train_fingerprint"] == result.train_fingerprint
    assert tags["code_version"] == experiments.code_version()
    assert {k: tags[k] for k in registry.LINEAGE_TAGS} == {  # one set of tag names
        k: v for k, v in registry.lineage_tags(result).items() if k in registry.LINEAGE_TAGS
    }
    assert tags[experiments.EXECUTION_TAG] == execution
    files = sorted(f.path for f in mlflow.MlflowClient().list_artifacts(logged.run_id))
    assert files == ["config.json", "confusion_matrix.png"]
    assert experiments.config_from_run(logged.run_id) == result.config
    assert experiments.run_metrics(logged.run_id) == metrics
    assert run.inputs.dataset_inputs == []  # no data given, no datasets


def _datasets(run_id: str) -> dict[str, tuple[str, str]]:
    """The datasets of a run: name -> (digest, context)."""
    inputs = mlflow.get_run(run_id).inputs.dataset_inputs
    return {
        d.dataset.name: (d.dataset.digest, {t.key: t.value for t in d.tags}["mlflow.data.context"])
        for d in inputs
    }


def test_log_training_run_logs_both_splits_as_datasets(
    experiment_id: str, churn: pd.DataFrame, result: training.TrainResult
) -> None:
    logged = experiments.log_training_run(result, confusion_matrix=False, data=churn)
    _, test_rows = training.split(churn, result.config)
    assert _datasets(logged.run_id) == {
        "churn-train": (result.train_fingerprint, "training"),
        "churn-test": (datasets.fingerprint(test_rows), "testing"),
    }
    stored = mlflow.get_run(logged.run_id).inputs.dataset_inputs[0].dataset
    assert "tenure_months" in stored.schema and json.loads(stored.profile)["num_rows"] in {
        result.n_train,
        result.n_test,
    }


def test_log_datasets_refuses_data_the_result_was_not_trained_on(
    experiment_id: str, churn: pd.DataFrame, result: training.TrainResult
) -> None:
    other = datasets.make_churn(n_per_period=100, periods=4, seed=4)
    with mlflow.start_run() as run:
        with pytest.raises(ValueError, match="not the frame this result was trained on"):
            experiments.log_datasets(result, other)
        with pytest.raises(TypeError, match="DataFrame"):
            experiments.log_datasets(result, churn.to_dict())  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="TrainResult"):
            experiments.log_datasets(result.metrics, churn)  # type: ignore[arg-type]
    assert _datasets(run.info.run_id) == {}


@pytest.mark.slow
def test_log_training_run_with_model_round_trips(
    experiment_id: str, churn: pd.DataFrame, result: training.TrainResult
) -> None:
    features = churn[list(result.config.features)]
    logged = experiments.log_training_run(
        result, confusion_matrix=False, log_model=True, input_example=features.head(3)
    )
    assert logged.run_name == experiments.config_label(result.config)
    assert logged.model_uri is not None and logged.model_uri.startswith("models:/")
    files = {f.path for f in mlflow.MlflowClient().list_artifacts(logged.run_id)}
    assert "confusion_matrix.png" not in files
    reloaded = mlflow.sklearn.load_model(logged.model_uri)
    assert (reloaded.predict_proba(features) == result.pipeline.predict_proba(features)).all()
    # The signature holds strings, so the generic (pyfunc) flavour takes plain input.
    pyfunc = mlflow.pyfunc.load_model(logged.model_uri)
    plain = experiments.as_model_input(features)
    assert (pyfunc.predict(plain) == result.pipeline.predict(features)).all()
    requirements = Path(mlflow.pyfunc.get_model_dependencies(logged.model_uri)).read_text()
    assert set(requirements.split()) == {
        f"mlflow=={mlflow.__version__}",
        *tracking.model_requirements(),
    }


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Operation with range is deprecated")  # inside MLflow
def test_a_logged_model_predicts_in_an_isolated_environment(
    experiment_id: str, churn: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``mlflow models serve --env-manager uv`` does before it serves: build a new virtual
    environment (in a new temporary folder) from the model's ``requirements.txt`` and
    ``python_env.yaml``, load the model there (skops and its trusted types included) and
    predict. Nothing of the course is installed in it: what loading needs must come from the
    model's requirements, at the pinned versions, and the predictions must be identical."""
    require_tool(
        bool(os.environ.get("CI")),
        "CI is not set: building the model's own environment downloads its packages (mlflow, "
        "scikit-learn, skops, numpy, pandas) from PyPI, so this test runs in CI; "
        "run it here with CI=1",
    )
    # MLflow calls `uv` by name: the course's environment has it (requirements.lock).
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    forest = training.train(
        training.TrainConfig("random_forest", {"n_estimators": 10}, seed=7), churn
    )
    X = experiments.as_model_input(churn[list(forest.config.features)].head(20))
    with mlflow.start_run():
        info = tracking.log_sklearn_model(
            forest.model, input_example=X.head(3), pyfunc_predict_fn="predict_proba"
        )
    out = tmp_path / "predictions.json"
    mlflow.models.predict(info.model_uri, input_data=X, env_manager="uv", output_path=str(out))
    predicted = np.asarray(json.loads(out.read_text())["predictions"], dtype=float)
    assert np.array_equal(predicted, forest.model.predict_proba(X))


def test_the_same_config_logged_twice_has_identical_metrics(
    experiment_id: str, churn: pd.DataFrame, result: training.TrainResult
) -> None:
    again = training.train(result.config, churn)
    first = experiments.log_training_run(result, confusion_matrix=False)
    second = experiments.log_training_run(again, confusion_matrix=False)
    a, b = experiments.run_metrics(first.run_id), experiments.run_metrics(second.run_id)
    assert experiments.metric_differences(a, b) == {}
    other_seed = training.train(
        training.TrainConfig("logistic_regression", {"C": 0.5}, seed=8), churn
    )
    assert "roc_auc" in experiments.metric_differences(a, other_seed.metrics)


def test_log_training_run_rejects_bad_input(
    experiment_id: str, result: training.TrainResult
) -> None:
    with pytest.raises(TypeError, match="TrainResult"):
        experiments.log_training_run(result.metrics)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="logged from the config"):
        experiments.log_training_run(result, params={"seed": 1})
    with pytest.raises(ValueError, match="set automatically"):
        experiments.log_training_run(result, tags={"data_fingerprint": "x"})
    with pytest.raises(ValueError, match="log_model=True"):
        experiments.log_training_run(result, input_example=pd.DataFrame({"a": [1]}))
    with pytest.raises(TypeError, match="params must be a dict"):
        experiments.log_training_run(result, params=[("a", 1)])  # type: ignore[arg-type]
    assert mlflow.active_run() is None  # nothing was left open


def test_config_from_run_needs_a_config_artifact(experiment_id: str) -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("model", "logistic_regression")
    with pytest.raises(ValueError, match="no config.json"):
        experiments.config_from_run(run.info.run_id)
    with pytest.raises(TypeError, match="run_id"):
        experiments.config_from_run("")


# --------------------------------------------------------------------------- sweeps, queries


@pytest.fixture(scope="module")
def sweep(churn: pd.DataFrame) -> tuple[experiments.SweepResult, str, list]:
    tracking.connect(quiet=True)
    tracking.use_experiment(TOPIC)
    execution = experiments.new_execution_id()
    configs = experiments.grid("logistic_regression", C=[0.1, 1.0]) + experiments.grid(
        "random_forest", n_estimators=[10], max_depth=[2, 4]
    )
    result = experiments.run_sweep(
        configs,
        churn,
        run_name="test-sweep",
        params={"data.seed": 3},
        tags={experiments.EXECUTION_TAG: execution},
        progress=False,
    )
    return result, execution, configs


def test_run_sweep_logs_a_parent_with_one_child_per_config(
    sweep: tuple, churn: pd.DataFrame
) -> None:
    result, execution, configs = sweep
    assert len(result.runs) == len(result.results) == len(configs) and result.seconds > 0
    parent = mlflow.get_run(result.parent_run_id)
    assert parent.info.run_name == "test-sweep" and parent.info.status == "FINISHED"
    assert parent.data.params["n_configs"] == str(len(configs))
    assert parent.data.tags["data_fingerprint"] == datasets.fingerprint(churn)
    children = experiments.find_runs(parent_run_id=result.parent_run_id)
    assert sorted(children["run_id"]) == sorted(r.run_id for r in result.runs)
    assert sorted(children["tags.mlflow.runName"]) == sorted(
        experiments.config_label(c) for c in configs
    )
    assert (children["params.data.seed"] == "3").all()
    assert (children[f"tags.{experiments.EXECUTION_TAG}"] == execution).all()
    for logged, trained in zip(result.runs, result.results, strict=True):
        assert {k: logged.metrics[k] for k in trained.metrics} == trained.metrics
        assert _datasets(logged.run_id)["churn-train"] == (trained.train_fingerprint, "training")


def test_run_sweep_prints_progress_outside_notebooks(
    churn: pd.DataFrame, experiment_id: str, capsys: pytest.CaptureFixture
) -> None:
    configs = experiments.grid("dummy", seed=1) + experiments.grid("dummy", seed=2)
    experiments.run_sweep(configs, churn, run_name="tiny", child_names=["a", "b"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("tiny: 1/2 · a: ROC AUC ")
    assert lines[1].startswith("tiny: 2/2 · b: ROC AUC ")
    assert re.match(r"tiny: 2 runs logged under 'tiny' \(\d+\.\d s\)", lines[2])


def test_run_sweep_rejects_bad_input(churn: pd.DataFrame, experiment_id: str) -> None:
    with pytest.raises(ValueError, match="at least one"):
        experiments.run_sweep([], churn)
    with pytest.raises(TypeError, match="TrainConfig"):
        experiments.run_sweep([{"model": "dummy"}], churn)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="child_names has 1 names for 2 configs"):
        experiments.run_sweep(experiments.grid("dummy") * 2, churn, child_names=["x"])
    assert mlflow.active_run() is None


def test_find_runs_filters_and_orders(sweep: tuple) -> None:
    result, execution, configs = sweep
    mine = experiments.find_runs(execution_id=execution)
    assert len(mine) == len(configs) + 1  # the parent and its children
    ordered = experiments.find_runs(
        parent_run_id=result.parent_run_id, order_by=["metrics.roc_auc DESC"]
    )
    assert list(ordered["metrics.roc_auc"]) == sorted(ordered["metrics.roc_auc"], reverse=True)
    forests = experiments.find_runs(
        execution_id=execution, filter_string="params.model = 'random_forest'"
    )
    assert len(forests) == 2 and set(forests["params.model"]) == {"random_forest"}
    named = experiments.find_runs(execution_id=execution, run_name="test-sweep")
    assert list(named["run_id"]) == [result.parent_run_id]
    other = experiments.find_runs(experiment_ids=["0"], execution_id=execution)
    assert other.empty


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"parent_run_id": "x' or '1'='1"}, "parent_run_id must be an ID"),
        ({"execution_id": ""}, "execution_id must be an ID"),
        ({"run_name": "it's"}, "without quotes"),
    ],
)
def test_find_runs_rejects_unsafe_values(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        experiments.find_runs(**kwargs)


def test_metric_differences_is_exact_and_nan_aware() -> None:
    logged = {"a": 0.1, "b": math.nan, "fit_seconds": 1.0, "c": 2.0}
    assert experiments.metric_differences(logged, dict(logged, fit_seconds=9.0)) == {}
    assert experiments.metric_differences(logged, dict(logged, a=0.10000000000000002)) == {
        "a": (0.1, 0.10000000000000002)
    }
    assert experiments.metric_differences(logged, {"a": 0.1, "b": math.nan}) == {"c": (2.0, None)}
    nan_vs_number = experiments.metric_differences(logged, dict(logged, b=0.5))
    assert list(nan_vs_number) == ["b"] and math.isnan(nan_vs_number["b"][0])
    assert experiments.metric_differences(logged, dict(logged, a=0.2), ignore=("a",)) == {}
    assert experiments.metric_differences(logged, dict(logged, fit_seconds=2.0), ignore=()) == {
        "fit_seconds": (1.0, 2.0)
    }
    assert experiments.metric_differences({"x": 1.0}, {"x": 1.0, "extra": 5.0}) == {}
    with pytest.raises(TypeError, match="dict of metrics"):
        experiments.metric_differences([1.0], {})  # type: ignore[arg-type]


def test_progress_counts_and_reports(capsys: pytest.CaptureFixture) -> None:
    bar = experiments.Progress(2, "demo", widget=False)
    bar.step("first")
    bar.step()
    bar.step("one too many")  # stays at the total
    bar.done("finished")
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["demo: 1/2 · first", "demo: 2/2", "demo: 2/2 · one too many"]
    assert re.fullmatch(r"demo: finished \(\d+\.\d s\)", out[3])
    assert bar.count == 2 and bar.text.startswith("finished")
    with pytest.raises(ValueError, match="total"):
        experiments.Progress(-1)


def test_progress_can_be_a_widget_bar() -> None:
    bar = experiments.Progress(3, "w", widget=True)
    bar.step("x")
    assert type(bar._bar).__name__ == "IntProgress"
    assert (bar._bar.value, bar._bar.max, bar._label.value) == (1, 3, "1/3 · x")
    bar.done("ok")
    assert bar._bar.value == 3 and bar._bar.bar_style == "success"
    assert experiments.Progress(2)._bar is None  # outside a notebook kernel: plain lines


# --------------------------------------------------------------------------- comparison figures


@pytest.fixture(scope="module")
def local_results(churn: pd.DataFrame) -> list[training.TrainResult]:
    configs = experiments.grid("logistic_regression", C=[0.1, 1.0]) + experiments.grid(
        "random_forest", n_estimators=[10], max_depth=[3]
    )
    return [training.train(c, churn) for c in configs]


def test_runs_frame_has_the_shape_of_search_runs(
    local_results: list[training.TrainResult],
) -> None:
    frame = experiments.runs_frame(local_results)
    assert list(frame["tags.mlflow.runName"]) == [
        experiments.config_label(r.config) for r in local_results
    ]
    assert list(frame["params.model"]) == [r.config.model for r in local_results]
    assert list(frame["metrics.roc_auc"]) == [r.metrics["roc_auc"] for r in local_results]
    assert list(frame["metrics.train_roc_auc"]) == [
        r.train_metrics["roc_auc"] for r in local_results
    ]
    named = experiments.runs_frame(local_results[:1], names=["only"])
    assert list(named["tags.mlflow.runName"]) == ["only"]
    with pytest.raises(ValueError, match="1 names for 3 results"):
        experiments.runs_frame(local_results, names=["x"])
    with pytest.raises(TypeError, match="TrainResult"):
        experiments.runs_frame([local_results[0].metrics])  # type: ignore[list-item]


def test_sweep_figure_sorts_runs_best_on_top(local_results: list[training.TrainResult]) -> None:
    frame = experiments.runs_frame(local_results)
    fig = experiments.sweep_figure(frame, title="Three runs")
    ax_auc, ax_cost = fig.axes
    best_first = frame.sort_values("metrics.roc_auc", ascending=False)["tags.mlflow.runName"]
    # matplotlib puts the first category at the bottom: the last label is the best run
    assert [t.get_text() for t in ax_auc.get_yticklabels()][::-1] == list(best_first)
    assert fig.get_suptitle() == "Three runs"
    assert "ROC AUC" in ax_auc.get_xlabel() and "EUR" in ax_cost.get_xlabel()
    assert ax_auc.get_title() and ax_cost.get_title()


def test_sweep_figure_says_what_is_missing(local_results: list[training.TrainResult]) -> None:
    frame = experiments.runs_frame(local_results)
    with pytest.raises(ValueError, match="metrics.train_roc_auc"):
        experiments.sweep_figure(frame.drop(columns=["metrics.train_roc_auc"]))
    with pytest.raises(ValueError, match="runs is empty"):
        experiments.sweep_figure(frame.iloc[0:0])
    with pytest.raises(TypeError, match="DataFrame"):
        experiments.sweep_figure(frame.to_dict())  # type: ignore[arg-type]


def test_paired_seeds_figure_shows_scores_and_differences() -> None:
    scores = pd.DataFrame(
        {"a": [0.80, 0.83, 0.81], "b": [0.79, 0.84, 0.80], "c": [0.70, 0.72, 0.71]},
        index=["1", "2", "3"],
    )
    fig = experiments.paired_seeds_figure(scores)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["a", "b", "c"]
    assert list(left.lines[0].get_ydata()) == [0.80, 0.83, 0.81]
    labels = [t.get_text() for t in right.get_legend().get_texts()]
    assert labels == ["a - b: ahead in 2 of 3", "a - c: ahead in 3 of 3"]
    assert right.lines[1].get_ydata() == pytest.approx([0.01, -0.01, 0.01])
    with pytest.raises(ValueError, match="at least two seeds"):
        experiments.paired_seeds_figure(scores.iloc[:1])
    with pytest.raises(ValueError, match="finite"):
        experiments.paired_seeds_figure(scores.assign(b=[0.8, math.nan, 0.8]))


def test_seed_spread_figure_shows_seeds_and_contenders() -> None:
    fig = experiments.seed_spread_figure([0.80, 0.83, 0.81], {"a": 0.82, "b": 0.821})
    (ax,) = fig.axes
    assert ax.get_title() == "The seed moves test ROC AUC by 0.0300"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert len(ax.collections) == 3  # the seeds, then one marker per contender
    assert list(ax.collections[0].get_offsets()[:, 0]) == [0.80, 0.83, 0.81]
    with pytest.raises(ValueError, match="at least two seed scores"):
        experiments.seed_spread_figure([0.8], {"a": 0.8})
    with pytest.raises(ValueError, match="non-empty dict"):
        experiments.seed_spread_figure([0.8, 0.9], {})
    with pytest.raises(ValueError, match="finite"):
        experiments.seed_spread_figure([0.8, math.nan], {"a": 0.8})
