"""What each notebook promises to leave in the tracking server, and the check of it.

`make test` runs every notebook with nbval as a student's first contact does: no server
running, an empty state folder (``MLOPS_COURSE_STATE``), no ``MLFLOW_TRACKING_URI``. Right after
nbval's run, the notebook runs a second time in the same state (names and runs must cope with
what exists), and :func:`check_promises` checks what the two executions left in the server:
one run per execution of each promised run name, finished, with identical metrics. The
machinery is the plugin ``tests/nbval_fresh_state.py``; this module holds the promises.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import mlflow.sklearn
import numpy as np
import psutil
from mlflow.tracking import MlflowClient

from utils import datasets, registry, tracking

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# What each notebook promises to leave in the tracking server: experiment topic, run name,
# and the metrics that must be identical between two independent runs.
GATE_METRICS = {
    "roc_auc",
    "gate_roc_auc",
    "gate_cost_per_customer_eur",
    "gate_passed",
    "gate_checks_failed",
}
CYCLE_METRICS = {
    "total_cost_eur",
    "business_cost_eur",
    "retraining_cost_eur",
    "control_cost_eur",
    "cost_after_drift_eur",
    "accuracy_after_drift",
    "n_retrains",
    "n_promotions",
    "n_alert_months",
}
PROMISES: dict[str, list[tuple[str, str, set[str]]]] = {
    "00_start_here": [("00-start-here", "hello-tracking", {"packages_ok"})],
    "01_linear_coursework": [("01-linear-coursework", "course-project", {"accuracy", "roc_auc"})],
    "02_hidden_technical_debt": [],
    "03_devops_to_mlops": [("03-devops-to-mlops", "improved-project", {"accuracy", "roc_auc"})],
    "04_data_phase": [
        (
            "04-data-phase",
            "data-version",
            {
                "n_rows",
                "churn_rate",
                "mean_monthly_charges_eur",
                "validation_problems",
                "break_even_probability",
            },
        )
    ],
    "05_experiment_tracking": [
        ("05-experiment-tracking", "first-run", {"accuracy", "roc_auc", "f1", "business_cost_eur"}),
        (
            "05-experiment-tracking",
            "best-config",
            {"accuracy", "roc_auc", "cost_per_customer_eur", "train_roc_auc"},
        ),
        ("05-experiment-tracking", "exercise-05.2", {"roc_auc"}),
    ],
    "06_model_registry": [
        ("06-model-registry", "lr-first-8-weeks", {"accuracy", "roc_auc", "cost_per_customer_eur"}),
        ("06-model-registry", "lr-all-12-weeks", {"accuracy", "roc_auc", "cost_per_customer_eur"}),
        ("06-model-registry", "baseline-all-12-weeks", {"accuracy", "roc_auc"}),
    ],
    "07_testing_ml_systems": [
        ("07-testing-ml-systems", f"candidate-{name}-all-12-weeks", GATE_METRICS)
        for name in ("lr", "rf")
    ]
    + [
        (
            "07-testing-ml-systems",
            "ml-test-score-course",
            {
                "final_score",
                "score_data",
                "score_model",
                "score_infrastructure",
                "score_monitoring",
            },
        )
    ],
    "08_continuous_delivery": [
        (
            "08-continuous-delivery",
            "starting-champion",
            {"accuracy", "roc_auc", "cost_per_customer_eur"},
        ),
        ("08-continuous-delivery", "candidate-slim", GATE_METRICS),
        ("08-continuous-delivery", "candidate-lr-12-weeks", GATE_METRICS),
        ("08-continuous-delivery", "candidate-clipped", GATE_METRICS),
    ],
    "09_monitoring_and_drift": [
        (
            "09-monitoring-and-drift",
            "monitor-planted-drift",
            {
                "first_drift_alert_week",
                "first_prediction_alert_week",
                "first_performance_alert_week",
                "n_alert_weeks",
                "reference_roc_auc",
                "psi_monthly_charges",
                "roc_auc",
                "cost_per_customer_eur",
            },
        )
    ],
    "10_full_cycle": [
        ("10-full-cycle", "initial-model", {"accuracy", "roc_auc", "cost_per_customer_eur"}),
        ("10-full-cycle", "policy-never", CYCLE_METRICS),
        ("10-full-cycle", "policy-monthly", CYCLE_METRICS),
        ("10-full-cycle", "policy-every-3-months", CYCLE_METRICS),
        ("10-full-cycle", "policy-drift-triggered", CYCLE_METRICS),
    ],
    "11_choosing_your_stack": [
        ("11-choosing-your-stack", "lr-C1-seed3", {"accuracy", "roc_auc", "cost_per_customer_eur"}),
        (
            "11-choosing-your-stack",
            "lr-C0.01-seed1",
            {"accuracy", "roc_auc", "cost_per_customer_eur"},
        ),
    ],
}


def _alias_moves(client: MlflowClient, name: str) -> list[dict[str, Any]]:
    """The recorded alias moves of ``name``, oldest first (``registry.history`` as dicts)."""
    mlflow.set_tracking_uri(client.tracking_uri)
    return [asdict(move) for move in registry.history(name)]


def _registry_after_two_runs_of_06(client: MlflowClient) -> None:
    """Notebook 06 leaves three versions per execution; aliases on the second execution's."""
    name = tracking.model_name("06-churn-classifier")
    versions = {mv.version for mv in client.search_model_versions(f"name = '{name}'")}
    assert sorted(versions, key=int) == ["1", "2", "3", "4", "5", "6"]
    model = client.get_registered_model(name)
    assert model.aliases == {"champion": "4", "challenger": "5"}
    experiment = client.get_experiment_by_name(tracking.experiment_name("06-model-registry"))
    fingerprints = {}
    for alias, run_name in (("champion", "lr-first-8-weeks"), ("challenger", "lr-all-12-weeks")):
        version = client.get_model_version_by_alias(name, alias)
        run = client.get_run(version.run_id)  # lineage: the version's run exists
        assert run.info.status == "FINISHED" and run.info.run_name == run_name
        assert run.info.experiment_id == experiment.experiment_id
        for tag in ("data_fingerprint", "code_version"):
            assert version.tags[tag] == run.data.tags[tag]
        fingerprints[alias] = version.tags["data_fingerprint"]
    assert fingerprints["champion"] != fingerprints["challenger"]
    last = _alias_moves(client, name)[-1]  # exercise 06.3's recorded rollback
    assert (last["alias"], last["action"], last["version"], last["previous"]) == (
        "champion",
        "rollback",
        "4",
        "6",
    )
    X = datasets.make_churn(n_per_period=50, periods=1, seed=1)[list(datasets.CHURN_FEATURES)]
    mlflow.set_tracking_uri(client.tracking_uri)
    champion = mlflow.sklearn.load_model(f"models:/{name}@champion").predict_proba(X)
    version_4 = mlflow.sklearn.load_model(f"models:/{name}/4").predict_proba(X)
    challenger = mlflow.sklearn.load_model(f"models:/{name}@challenger").predict_proba(X)
    assert np.array_equal(champion, version_4)
    assert not np.allclose(champion, challenger)


def _registry_after_two_runs_of_08(client: MlflowClient) -> None:
    """Per execution: a starting champion, a rejected, a promoted candidate, and one that passed
    the gate but could not be served (registered, never promoted)."""
    name = tracking.model_name("08-churn-classifier")
    versions = {mv.version for mv in client.search_model_versions(f"name = '{name}'")}
    assert sorted(versions, key=int) == ["1", "2", "3", "4", "5", "6"]
    model = client.get_registered_model(name)
    assert model.aliases == {"champion": "5"}, "the unservable version 6 was never promoted"
    champion = client.get_model_version_by_alias(name, "champion")
    assert client.get_run(champion.run_id).info.run_name == "candidate-lr-12-weeks"
    assert champion.tags["smoke_test"] == "passed"
    assert "ClippedModel" in client.get_model_version(name, "6").tags["smoke_test"]
    last = [m for m in _alias_moves(client, name) if m["alias"] == "champion"][-1]
    assert (last["action"], last["version"], last["previous"]) == ("promote", "5", "4")
    X = datasets.make_churn(n_per_period=50, periods=1, seed=1)[list(datasets.CHURN_FEATURES)]
    mlflow.set_tracking_uri(client.tracking_uri)
    served = mlflow.sklearn.load_model(f"models:/{name}@champion").predict_proba(X)
    version_2 = mlflow.sklearn.load_model(f"models:/{name}/2").predict_proba(X)
    assert np.array_equal(served, version_2), "both executions trained the same winner"
    # No model server of this notebook is left: they run in <state>/model-servers.
    servers = Path(os.environ["MLOPS_COURSE_STATE"]).resolve() / "model-servers"
    assert servers.is_dir(), "the notebook started no model server"
    left = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cwd = Path(proc.cwd()).resolve()
        except (psutil.Error, OSError):
            continue
        if cwd == servers or servers in cwd.parents:
            left.append(proc.info)
    assert left == [], f"model servers still running: {left}"


def _registry_after_two_runs_of_10(client: MlflowClient) -> None:
    """Notebook 10 promotes 1, 7, 3 and 4 versions per execution (never, monthly, every three
    months, triggered); each registered model's alias history holds exactly those promotions,
    per execution."""
    experiment = client.get_experiment_by_name(tracking.experiment_name("10-full-cycle"))
    per_execution = {"never": 1, "monthly": 7, "every-3-months": 3, "drift-triggered": 4}
    executions = set()
    for policy, n in per_execution.items():
        parents = client.search_runs(
            [experiment.experiment_id], filter_string=f"attributes.run_name = 'policy-{policy}'"
        )
        assert len(parents) == 2
        for parent in parents:
            executions.add(parent.data.tags["execution_id"])
            children = client.search_runs(
                [experiment.experiment_id],
                filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
            )
            assert len(children) == parent.data.metrics["n_retrains"]
            assert parent.data.metrics["n_promotions"] == n - 1  # plus the first model
        name = tracking.model_name(f"10-full-cycle-{policy}")
        versions = sorted(
            (mv.version for mv in client.search_model_versions(f"name = '{name}'")), key=int
        )
        assert versions == [str(v) for v in range(1, 2 * n + 1)]
        model = client.get_registered_model(name)
        assert model.aliases == {"champion": str(2 * n)}
        moves = _alias_moves(client, name)
        assert [m["version"] for m in moves] == versions
        assert {m["action"] for m in moves} == {"promote"}
        for execution in executions:
            mine = [m for m in moves if m["reason"].endswith(f"[execution {execution}]")]
            assert len(mine) == n, (policy, execution, len(mine))
    assert len(executions) == 2
    # Both executions ended on the same model: the champion predicts like version 4.
    name = tracking.model_name("10-full-cycle-drift-triggered")
    X = datasets.make_churn(n_per_period=50, periods=1, seed=1)[list(datasets.CHURN_FEATURES)]
    mlflow.set_tracking_uri(client.tracking_uri)
    champion = mlflow.sklearn.load_model(f"models:/{name}@champion").predict_proba(X)
    first = mlflow.sklearn.load_model(f"models:/{name}/4").predict_proba(X)
    assert np.array_equal(champion, first)


EXTRA_CHECKS = {
    "06_model_registry": _registry_after_two_runs_of_06,
    "08_continuous_delivery": _registry_after_two_runs_of_08,
    "10_full_cycle": _registry_after_two_runs_of_10,
}


def check_promises(notebook: Path, url: str) -> None:
    """Check what two executions of ``notebook`` left in the server at ``url``."""
    client = MlflowClient(tracking_uri=url)
    for topic, run_name, metrics in PROMISES[notebook.stem]:
        experiment = client.get_experiment_by_name(tracking.experiment_name(topic))
        assert experiment is not None, f"experiment {topic} is missing"
        runs = client.search_runs(
            [experiment.experiment_id], filter_string=f"attributes.run_name = '{run_name}'"
        )
        assert len(runs) == 2, f"{len(runs)} runs named {run_name}, expected one per execution"
        assert all(r.info.status == "FINISHED" for r in runs)
        first, second = (r.data.metrics for r in runs)
        assert metrics <= set(first), f"metrics {metrics - set(first)} were not logged"
        assert {m: first[m] for m in metrics} == {m: second[m] for m in metrics}
    if notebook.stem in EXTRA_CHECKS:
        EXTRA_CHECKS[notebook.stem](client)
