"""Tests of utils.service: the churn prediction service of notebook 02."""

from __future__ import annotations

import ast
import json
import pickle
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from utils import service
from utils.datasets import CHURN_CATEGORIES, make_churn
from utils.service import (
    config,
    data,
    evaluation,
    features,
    model,
    monitoring,
    pipeline,
    resources,
    serving,
    validation,
)

SMALL = config.ServiceConfig(n_per_period=300)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("warehouse")
    data.land_batches(data.collect(SMALL, range(12)), folder)
    return folder


@pytest.fixture(scope="module")
def run(warehouse: Path) -> pipeline.TrainingRun:
    return pipeline.run_training(SMALL, warehouse)


@pytest.fixture()
def churn_service(run: pipeline.TrainingRun) -> serving.ChurnService:
    return serving.ChurnService(serving.bundle_from_run(run))


def _week(week: int = 12, n: int = 300, **drift: float) -> pd.DataFrame:
    cfg = SMALL.replace(n_per_period=n)
    return data.collect(cfg, [week], **drift).drop(columns="churned")


# --- the package ------------------------------------------------------------------------------


def test_every_service_module_is_assigned_a_component() -> None:
    folder = Path(service.__file__).parent
    modules = sorted(p.name for p in folder.glob("*.py") if p.name != "__init__.py")
    assert modules == sorted(service.COMPONENTS)
    files = service.component_files()
    assert "ML code" in files and [p.name for p in files["ML code"]] == ["model.py"]
    assert all(p.is_file() for paths in files.values() for p in paths)


def _public_definitions(tree: ast.Module) -> list[ast.FunctionDef | ast.ClassDef]:
    """Module-level functions and classes, and the methods of those classes."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
            found.append(node)
            if isinstance(node, ast.ClassDef):
                found += [
                    m
                    for m in node.body
                    if isinstance(m, ast.FunctionDef) and not m.name.startswith("_")
                ]
    return found


def test_public_service_functions_have_docstrings_and_type_hints() -> None:
    problems = []
    for path in sorted(Path(service.__file__).parent.glob("*.py")):
        for node in _public_definitions(ast.parse(path.read_text())):
            if not ast.get_docstring(node):
                problems.append(f"{path.name}:{node.name} has no docstring")
            if isinstance(node, ast.FunctionDef):
                args = [*node.args.args, *node.args.kwonlyargs]
                args = [a for a in args if a.arg not in ("self", "cls")]
                if node.returns is None or any(a.annotation is None for a in args):
                    problems.append(f"{path.name}:{node.name} lacks type hints")
    assert problems == []


# --- config -----------------------------------------------------------------------------------


def test_config_defaults_and_features() -> None:
    cfg = config.ServiceConfig()
    assert cfg.model == "logistic_regression" and cfg.threshold == pytest.approx(0.33)
    assert "region" not in cfg.features and cfg.features[-3:] == cfg.categorical
    assert cfg.features.index("log_usage") == len(cfg.numeric)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"threshold": 1.5}, ValueError),
        ({"threshold": "0.3"}, TypeError),
        ({"threshold": True}, TypeError),
        ({"seed": -1}, ValueError),
        ({"seed": 1.5}, TypeError),
        ({"model": "random_forest"}, ValueError),
        ({"numeric": ("no_such_column",)}, ValueError),
        ({"numeric": "tenure_months"}, TypeError),
        ({"derived": ("log_usage", "log_usage")}, ValueError),
        ({"numeric": (), "categorical": (), "derived": ()}, ValueError),
    ],
)
def test_config_rejects_invalid_settings(changes: dict, error: type) -> None:
    with pytest.raises(error):
        config.ServiceConfig(**changes)


def test_config_from_dict_rejects_a_typo_and_suggests_the_fix() -> None:
    with pytest.raises(ValueError, match="Did you mean 'threshold'"):
        config.ServiceConfig.from_dict({"treshold": 0.2})
    with pytest.raises(TypeError):
        config.ServiceConfig.from_dict([("threshold", 0.2)])
    assert config.ServiceConfig.from_dict({"threshold": 0.2}).threshold == 0.2


def test_config_replace_diff_save_load(tmp_path: Path) -> None:
    cfg = config.ServiceConfig()
    other = cfg.replace(model="gradient_boosting", threshold=0.25)
    assert cfg.diff(other) == {
        "model": ("logistic_regression", "gradient_boosting"),
        "threshold": (0.33, 0.25),
    }
    assert cfg.diff(cfg) == {}
    with pytest.raises(ValueError, match="Unknown setting"):
        cfg.replace(thresold=0.2)
    path = other.save(tmp_path / "sub" / "service.json")
    assert config.ServiceConfig.load(path) == other
    assert json.loads(path.read_text())["model"] == "gradient_boosting"
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        config.ServiceConfig.load(tmp_path / "bad.json")
    with pytest.raises(TypeError):
        cfg.diff({"model": "x"})


# --- features ---------------------------------------------------------------------------------


def test_add_features_computes_the_derived_columns() -> None:
    frame = pd.DataFrame(
        {"usage_hours": [0.0, 20.0], "monthly_charges": [10.0, 20.0], "tenure_months": [3, 4]}
    )
    out = features.add_features(frame, ["log_usage", "charges_per_hour", "total_charges"])
    assert out["log_usage"].tolist() == pytest.approx([np.log(0.5), np.log(20.0)])
    assert out["charges_per_hour"].tolist() == pytest.approx([10.0, 1.0])
    assert out["total_charges"].tolist() == [30.0, 80.0]
    assert "log_usage" not in frame.columns  # a copy
    with pytest.raises(ValueError, match="Unknown derived feature"):
        features.add_features(frame, ["nope"])
    with pytest.raises(ValueError, match="needs the column"):
        features.add_features(frame.drop(columns="usage_hours"), ["log_usage"])
    with pytest.raises(TypeError):
        features.add_features(frame.to_numpy(), ["log_usage"])


def test_build_features_gives_the_configured_columns_in_order() -> None:
    frame = make_churn(50, 1, seed=1)
    table = features.build_features(frame, SMALL)
    assert list(table.columns) == list(SMALL.features)
    with pytest.raises(ValueError, match="lacks the feature"):
        features.build_features(frame.drop(columns="plan"), SMALL)


# --- validation -------------------------------------------------------------------------------


def test_a_clean_batch_passes_validation() -> None:
    batch = make_churn(200, 2, seed=3)
    report = validation.validate(batch, require_label=True)
    assert report.ok and report.n_rows == 400 and report.problems == ()
    assert validation.require_valid(batch) is batch


def test_validation_lists_every_problem() -> None:
    batch = make_churn(20, 1, seed=3).astype({"contract": str})
    batch.loc[0, "contract"] = "monthly"
    batch.loc[1, "usage_hours"] = -1.0
    batch.loc[2, "support_calls"] = np.nan
    batch.loc[3, "customer_id"] = batch.loc[4, "customer_id"]
    batch.loc[5, "churned"] = 2
    batch = batch.drop(columns="region")
    report = validation.validate(batch, require_label=True)
    text = " | ".join(report.problems)
    assert not report.ok and len(report.problems) == 6, text
    for expected in (
        "contract: unknown level(s) ['monthly']",
        "usage_hours: 1 value(s) outside [0, 720], e.g. -1.0",
        "support_calls: 1 missing value(s)",
        "customer_id: 1 duplicate id(s)",
        "churned: 1 value(s) outside [0, 1]",
        "region: column missing",
    ):
        assert expected in text
    with pytest.raises(validation.DataValidationError) as error:
        validation.require_valid(batch, require_label=True)
    assert isinstance(error.value, ValueError) and len(error.value.problems) == 6


def test_validation_of_types_empty_batches_and_arguments() -> None:
    batch = make_churn(5, 1, seed=3)
    wrong = batch.assign(tenure_months=batch["tenure_months"] + 0.5, late_payments="none")
    problems = validation.validate(wrong).problems
    assert "tenure_months: expected whole numbers" in problems
    assert any(p.startswith("late_payments: expected numbers") for p in problems)
    assert validation.validate(batch.iloc[:0]).problems[0] == "the batch is empty"
    with pytest.raises(ValueError, match="schema has no column"):
        validation.validate(batch, columns=["shoe_size"])
    with pytest.raises(TypeError):
        validation.validate(batch.to_dict())


# --- data collection --------------------------------------------------------------------------


def test_collect_is_deterministic_and_returns_the_weeks_asked_for() -> None:
    first = data.collect(SMALL, [3, 1])
    assert sorted(set(first["period"])) == [1, 3] and len(first) == 600
    pd.testing.assert_frame_equal(first, data.collect(SMALL, [1, 3]))
    drifted = data.collect(SMALL, [3], covariate_drift=1.0, drift_start=0)
    assert drifted["monthly_charges"].mean() > first["monthly_charges"].mean() + 2
    with pytest.raises(ValueError):
        data.collect(SMALL, [])
    with pytest.raises(ValueError):
        data.collect(SMALL, [-1])


def test_land_and_read_batches_round_trip_with_types(tmp_path: Path) -> None:
    original = data.collect(SMALL, [0, 1])
    paths = data.land_batches(original, tmp_path)
    assert [p.name for p in paths] == ["week_000.csv", "week_001.csv"]
    assert data.available_weeks(tmp_path) == [0, 1]
    assert data.available_weeks(tmp_path / "missing") == []
    back = data.read_batches(tmp_path, [0, 1])
    pd.testing.assert_frame_equal(back, original, check_dtype=False, check_exact=False)
    for column, levels in CHURN_CATEGORIES.items():
        assert list(back[column].cat.categories) == list(levels)
    assert back["tenure_months"].dtype == "int64"
    with pytest.raises(FileNotFoundError, match=r"available: \[0, 1\]"):
        data.read_batches(tmp_path, [5])
    with pytest.raises(ValueError):
        data.land_batches(original.drop(columns="period"), tmp_path)


def test_read_batches_rejects_a_broken_file(tmp_path: Path) -> None:
    batch = data.collect(SMALL, [0])
    batch["plan"] = batch["plan"].astype(str).replace("basic", "bronze")
    batch.to_csv(tmp_path / "week_000.csv", index=False)
    with pytest.raises(validation.DataValidationError, match="plan: unknown level"):
        data.read_batches(tmp_path, [0])
    with pytest.raises(ValueError, match="unknown level"):
        data.coerce(batch)


# --- resources --------------------------------------------------------------------------------


def test_resources() -> None:
    assert [(s.start, s.stop) for s in resources.chunks(7, 3)] == [(0, 3), (3, 6), (6, 7)]
    assert list(resources.chunks(0, 3)) == []
    with pytest.raises(ValueError):
        list(resources.chunks(5, 0))
    frame = pd.DataFrame({"x": np.zeros(250_000)})  # 2 MB of float64
    assert resources.frame_megabytes(frame) == pytest.approx(2.0, abs=0.01)
    assert resources.check_memory(frame, 3) == pytest.approx(2.0, abs=0.01)
    with pytest.raises(ValueError, match="in chunks"):
        resources.check_memory(frame, 1)
    with pytest.raises(ValueError):
        with resources.limit_threads(0):
            pass
    with resources.limit_threads(1):
        from threadpoolctl import threadpool_info

        assert all(pool["num_threads"] == 1 for pool in threadpool_info())


# --- model and evaluation ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", model.MODEL_KINDS)
def test_churn_model_fits_and_predicts_probabilities(kind: str) -> None:
    frame = make_churn(300, 3, seed=2)
    X = features.build_features(frame, SMALL)
    with resources.limit_threads(1):  # OpenMP on a busy machine is slow without a limit
        fitted = model.ChurnModel(kind, seed=0).fit(X, frame["churned"])
        proba = fitted.predict_proba(X[X.columns[::-1]])  # column order is taken care of
        assert proba.shape == (900,) and ((proba >= 0) & (proba <= 1)).all()
        assert evaluation.score(frame["churned"], fitted.predict_proba(X), 0.5)["roc_auc"] > 0.75
        again = model.ChurnModel(kind, seed=0).fit(X, frame["churned"]).predict_proba(X)
        assert np.array_equal(again, fitted.predict_proba(X))
        assert np.array_equal(proba, fitted.predict_proba(X))


def test_churn_model_errors() -> None:
    with pytest.raises(ValueError, match="Unknown model kind"):
        model.ChurnModel("svm")
    with pytest.raises(RuntimeError, match="not fitted"):
        model.ChurnModel().predict_proba(pd.DataFrame({"x": [1.0]}))


def test_score_on_a_known_example() -> None:
    y = [1, 1, 0, 0, 0]
    p = [0.9, 0.2, 0.6, 0.1, 0.3]
    metrics = evaluation.score(y, p, threshold=0.5)
    # tp=1, fp=1, fn=1, tn=2 -> 20*2 + 200*(1 + 0.7*1) = 380 EUR
    assert metrics["cost_eur"] == pytest.approx(380.0)
    assert metrics["precision"] == 0.5 and metrics["recall"] == 0.5
    assert metrics["offer_rate"] == pytest.approx(0.4)
    assert metrics["prediction_bias"] == pytest.approx(0.42 - 0.4)
    assert metrics["roc_auc"] == pytest.approx(4 / 6)  # 4 of the 6 (churner, stayer) pairs
    assert np.isnan(evaluation.score([0, 0], [0.1, 0.2], 0.5)["roc_auc"])
    with pytest.raises(ValueError):
        evaluation.score([1, 0], [0.5], 0.5)
    with pytest.raises(ValueError):
        evaluation.score([2, 0], [0.5, 0.1], 0.5)


def test_by_slice() -> None:
    frame = pd.DataFrame({"contract": ["a", "a", "b"]})
    table = evaluation.by_slice(frame, [1, 0, 1], [0.6, 0.2, 0.9], "contract")
    assert table.loc["a"].tolist() == pytest.approx([2, 0.5, 0.4])
    assert table.loc["b", "mean_predicted"] == pytest.approx(0.9)
    with pytest.raises(ValueError):
        evaluation.by_slice(frame, [1], [0.5], "contract")
    with pytest.raises(ValueError):
        evaluation.by_slice(frame, [1, 0, 1], [0.6, 0.2, 0.9], "plan")


def test_reasons_name_features_that_raise_the_risk(run: pipeline.TrainingRun) -> None:
    X = run.reference.head(3).copy()
    X["support_calls"] = 9  # far above typical: it must raise the risk of every row
    found = evaluation.reasons(run.model, X, run.reference, top=1)
    assert found == [["support_calls"]] * 3
    with pytest.raises(ValueError):
        evaluation.reasons(run.model, X, run.reference, top=0)
    with pytest.raises(ValueError):
        evaluation.reasons(run.model, X[X.columns[::-1]], run.reference)


# --- the training job -------------------------------------------------------------------------


def test_run_training_records_every_step_and_passes_the_gate(
    run: pipeline.TrainingRun, warehouse: Path
) -> None:
    assert [s.name for s in run.steps] == [
        "read and verify",
        "features",
        "train",
        "evaluate and gate",
    ]
    assert run.passed_gate and run.metrics["roc_auc"] > 0.78
    assert len(run.reference) == 8 * 300 and list(run.reference.columns) == list(SMALL.features)
    assert list(run.step_table().columns) == ["step", "seconds", "detail"]
    seen = []
    again = pipeline.run_training(SMALL, warehouse, on_step=seen.append)
    assert [s.name for s in seen] == [s.name for s in run.steps]
    assert again.metrics == run.metrics and again.data_fingerprint == run.data_fingerprint


def test_a_model_below_the_gate_may_not_be_served(warehouse: Path) -> None:
    strict = pipeline.run_training(SMALL.replace(min_roc_auc=0.99), warehouse)
    assert not strict.passed_gate and "FAILED" in strict.steps[-1].detail
    with pytest.raises(ValueError, match="failed its quality gate"):
        serving.bundle_from_run(strict)


def test_run_training_fails_on_missing_weeks_and_memory(warehouse: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        pipeline.run_training(SMALL.replace(test_periods=10), warehouse)
    with pytest.raises(ValueError, match="budget"):
        pipeline.run_training(SMALL.replace(memory_budget_mb=0.05), warehouse)


# --- serving ----------------------------------------------------------------------------------


def test_bundle_round_trip(run: pipeline.TrainingRun, tmp_path: Path) -> None:
    bundle = serving.bundle_from_run(run)
    assert bundle.version == f"logistic_regression-{run.data_fingerprint[:8]}"
    loaded = serving.load_bundle(serving.save_bundle(bundle, tmp_path / "b" / "bundle.pkl"))
    X = run.reference.head(20)
    assert np.array_equal(loaded.model.predict_proba(X), bundle.model.predict_proba(X))
    (tmp_path / "other.pkl").write_bytes(pickle.dumps({"not": "a bundle"}))
    with pytest.raises(ValueError, match="not a ModelBundle"):
        serving.load_bundle(tmp_path / "other.pkl")
    with pytest.raises(TypeError):
        serving.save_bundle(run, tmp_path / "x.pkl")


def test_predict_scores_a_batch_like_the_model(
    churn_service: serving.ChurnService, run: pipeline.TrainingRun
) -> None:
    week = _week()
    answer = churn_service.predict(serving.to_records(week))
    expected = run.model.predict_proba(features.build_features(week, SMALL))
    got = np.array([p["churn_probability"] for p in answer["predictions"]])
    assert np.allclose(got, expected, atol=1e-4)
    assert [p["offer"] for p in answer["predictions"]] == (expected >= SMALL.threshold).tolist()
    assert [p["customer_id"] for p in answer["predictions"]] == week["customer_id"].tolist()
    assert not answer["action_limit_hit"] and answer["alerts"] == []
    assert churn_service.monitor.summary()["offers"] == float((expected >= SMALL.threshold).sum())


def test_the_action_limit_stops_all_offers_and_alerts(run: pipeline.TrainingRun) -> None:
    bundle = serving.bundle_from_run(run)
    bundle.config = bundle.config.replace(max_offer_rate=0.05)
    limited = serving.ChurnService(bundle)
    answer = limited.predict(serving.to_records(_week()))
    assert answer["action_limit_hit"]
    assert not any(p["offer"] for p in answer["predictions"])
    assert limited.monitor.alerts[-1].kind == "action limit"
    small = limited.predict(serving.to_records(_week().head(10)))  # too small to judge
    assert not small["action_limit_hit"] and any(p["offer"] for p in small["predictions"])


def test_a_drifted_batch_raises_drift_alerts(churn_service: serving.ChurnService) -> None:
    answer = churn_service.predict(serving.to_records(_week(covariate_drift=1.0, drift_start=8)))
    assert any(a.startswith("monthly_charges: PSI") for a in answer["alerts"])


def test_predict_rejects_bad_requests(churn_service: serving.ChurnService) -> None:
    records = serving.to_records(_week().head(3))
    records[0]["plan"] = "gold"
    with pytest.raises(validation.DataValidationError, match="plan"):
        churn_service.predict(records)
    with pytest.raises(ValueError, match="non-empty list"):
        churn_service.predict([])
    with pytest.raises(ValueError, match="non-empty list"):
        churn_service.predict({"customers": records})
    too_many = serving.to_records(_week(n=20))
    churn_service.config = churn_service.config.replace(max_batch_rows=10)
    with pytest.raises(ValueError, match="the limit is 10"):
        churn_service.predict(too_many)


def test_handle_routes_and_errors(churn_service: serving.ChurnService) -> None:
    assert churn_service.handle("GET", "/health")[0] == 200
    assert churn_service.handle("GET", "/nope")[0] == 404
    assert churn_service.handle("GET", "/predict")[0] == 405
    assert churn_service.handle("POST", "/predict", b"{bad")[0] == 400
    assert churn_service.handle("POST", "/predict", b"[1, 2]")[0] == 400
    bad = serving.to_records(_week().head(2))
    bad[1]["usage_hours"] = -5
    status, body = churn_service.handle("POST", "/predict", json.dumps({"customers": bad}).encode())
    assert status == 422 and any("usage_hours" in p for p in body["problems"])
    churn_service.config = churn_service.config.replace(max_batch_rows=1)
    status, _ = churn_service.handle(
        "POST", "/predict", json.dumps({"customers": serving.to_records(_week().head(2))}).encode()
    )
    assert status == 413
    status, body = churn_service.handle("GET", "/metrics")
    assert status == 200 and set(body) == {"summary", "alerts"}


def test_http_server_round_trip(churn_service: serving.ChurnService) -> None:
    week = _week().head(4)
    body = json.dumps({"customers": serving.to_records(week)}).encode()
    with serving.serve(churn_service) as server:
        assert server.url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(server.url + "/predict", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(server.url + "/missing", timeout=10)
        assert error.value.code == 404
    assert len(answer["predictions"]) == 4
    with pytest.raises(TypeError):
        serving.serve("not a service")
    with pytest.raises(TypeError):
        serving.ChurnService("not a bundle")


# --- monitoring -------------------------------------------------------------------------------


def test_the_service_uses_the_course_psi_and_its_major_threshold() -> None:
    import utils.monitoring

    assert monitoring.psi is utils.monitoring.psi
    assert config.ServiceConfig().drift_psi_alert == utils.monitoring.PSI_MAJOR
    reference = pd.DataFrame({"x": np.random.default_rng(0).normal(size=1000)})
    assert monitoring.Monitor(reference).psi_alert == utils.monitoring.PSI_MAJOR
    with pytest.raises(ValueError, match="missing values"):  # never dropped silently
        monitoring.Monitor(reference).drift(pd.DataFrame({"x": [0.0, np.nan]}))


def test_monitor_records_batches_and_alerts() -> None:
    reference = pd.DataFrame({"x": np.random.default_rng(0).normal(size=1000)})
    monitor = monitoring.Monitor(reference, psi_alert=0.2)
    assert monitor.summary() == {"batches": 0.0, "rows": 0.0, "offers": 0.0, "alerts": 0.0}
    assert monitor.observe(reference.head(500), np.full(500, 0.2), 10, 0.01) == []
    shifted = reference.head(500) + 2.0
    alerts = monitor.observe(shifted, np.full(500, 0.4), 20, 0.03)
    assert [a.kind for a in alerts] == ["drift"] and alerts[0].batch == 1
    assert monitor.observe(shifted, np.full(500, 0.4), 0, 0.01, check_drift=False) == []
    monitor.alert("action limit", "too many offers")
    summary = monitor.summary()
    assert summary["batches"] == 3 and summary["offers"] == 30 and summary["alerts"] == 2
    assert summary["mean_predicted"] == pytest.approx((0.2 + 0.4 + 0.4) / 3)
    with pytest.raises(ValueError):
        monitoring.Monitor(pd.DataFrame())
