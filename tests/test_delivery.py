"""utils.delivery against a real tracking server (the test session's) and real model servers:
``mlflow models serve`` started as subprocesses, queried over REST, routed (canary, shadow,
blue-green) and stopped without leaving a process behind; the pipeline's stages and its three
endings (rejected, promoted, failed before the promotion)."""

from __future__ import annotations

import dataclasses
import json
import socket
import uuid
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from utils import datasets, delivery, processes, registry, tracking, training, validation
from utils.paths import state_dir

FEATURES = list(datasets.CHURN_FEATURES)
SEED = 42  # the data and seed of notebook 08, whose logistic regression passes every test


@pytest.fixture(scope="module", autouse=True)
def _own_state_folder(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN202
    """The model servers' logs go to a temporary state folder, not the repository's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLOPS_COURSE_STATE", str(tmp_path_factory.mktemp("delivery-state")))
        yield


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    weeks = datasets.make_churn(n_per_period=1000, periods=14, seed=SEED)
    return {"train": weeks[weeks["period"] < 12], "eval": weeks[weeks["period"] >= 12]}


@pytest.fixture(scope="module")
def schema():  # noqa: ANN201 - a pandera schema
    return validation.churn_schema(periods=14)


@pytest.fixture(scope="module")
def lr(data: dict[str, pd.DataFrame]) -> training.TrainResult:
    return training.train(training.TrainConfig("logistic_regression", seed=SEED), data["train"])


def _new_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def served_model(lr: training.TrainResult, data: dict[str, pd.DataFrame]) -> dict:
    """A registered model whose champion is ``lr``, logged to serve probabilities."""
    tracking.connect(quiet=True)
    tracking.use_experiment("test-delivery")
    name = _new_name("test-delivery-served")
    version = delivery.register_champion(
        lr,
        name,
        run_name="test-champion",
        input_example=data["eval"].head(3),
        reason="test fixture",
        code="git:0123456789ab",
    )
    return {"name": name, "version": version, "model": lr.model}


@pytest.fixture(scope="module")
def cli_server(served_model: dict):  # noqa: ANN201 - yields a ModelServer
    """One `mlflow models serve` process for the module (about 13 s to start on two cores)."""
    server = delivery.ModelServer(
        registry.model_uri(served_model["name"], "champion"), progress=False
    )
    server.start()
    yield server
    server.stop()


# ----------------------------------------------------------------------------- REST payloads


def test_payload_is_dataframe_split_with_plain_values(data: dict[str, pd.DataFrame]) -> None:
    X = data["eval"][FEATURES].head(2)
    body = delivery.payload(X)
    assert list(body) == ["dataframe_split"]
    assert body["dataframe_split"]["columns"] == FEATURES
    rows = body["dataframe_split"]["data"]
    assert len(rows) == 2 and rows[0][FEATURES.index("contract")] == X["contract"].iloc[0]
    assert json.loads(json.dumps(body)) == body


def test_payload_refuses_bad_input(data: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        delivery.payload([[1, 2]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no rows"):
        delivery.payload(data["eval"][FEATURES].head(0))
    with pytest.raises(ValueError, match="JSON cannot carry"):
        delivery.payload(data["eval"][["timestamp", *FEATURES]].head(2))


# ----------------------------------------------------------------------------- ModelServer


@pytest.mark.server
def test_cli_server_serves_the_registered_version(
    cli_server: delivery.ModelServer, served_model: dict, data: dict[str, pd.DataFrame]
) -> None:
    assert cli_server.running and cli_server.ping()
    assert cli_server.version == served_model["version"]
    assert cli_server.command_line == delivery.serve_command(
        f"models:/{served_model['name']}@champion", cli_server.port
    )
    assert cli_server.command_line.startswith(
        f"mlflow models serve -m models:/{served_model['name']}@champion --env-manager local "
        "-h 127.0.0.1 -p "
    )
    assert cli_server.url == f"http://127.0.0.1:{cli_server.port}"
    assert cli_server.log_file.parent == state_dir() / "model-servers"
    assert "Uvicorn running" in cli_server.log_file.read_text()
    X = data["eval"][FEATURES]
    served = cli_server.predict(X)
    assert served.shape == (len(X), 2)
    assert np.array_equal(served, served_model["model"].predict_proba(X))


@pytest.mark.server
def test_a_malformed_request_gets_a_4xx_with_a_message(
    cli_server: delivery.ModelServer, data: dict[str, pd.DataFrame]
) -> None:
    X = data["eval"][FEATURES].head(3)
    with pytest.raises(delivery.ServingError) as caught:
        cli_server.predict(X.drop(columns="contract"))
    assert caught.value.status == 400 and "contract" in caught.value.message
    status, answer = delivery.invocations(cli_server.url, {"rows": [[1, 2, 3]]})
    assert status == 400 and "dataframe_split" in answer["message"]
    status, answer = delivery.invocations(cli_server.url, "this is not JSON")
    assert 400 <= status < 500


@pytest.mark.server
def test_smoke_test_passes_and_catches_wrong_answers(
    cli_server: delivery.ModelServer, served_model: dict, data: dict[str, pd.DataFrame]
) -> None:
    rows = data["eval"].head(5)
    expected = served_model["model"].predict_proba(rows[FEATURES])
    ok = delivery.smoke_test(cli_server, rows, expected)
    assert ok.passed and ok.stage == "smoke test"
    assert [c.name for c in ok.checks] == [
        "answers /ping",
        "accepts a request",
        "answers probabilities",
        "same answers as the tested model",
        "answers in time",
    ]
    wrong = delivery.smoke_test(cli_server, rows, expected[::-1])
    assert not wrong.passed and "differ" in wrong.detail
    rejected = delivery.smoke_test(cli_server, rows[FEATURES].drop(columns="plan"))
    assert not rejected.passed and rejected.detail.startswith("accepts a request: HTTP 400")
    assert not delivery.smoke_test(None, rows).passed


@pytest.mark.server
def test_a_port_in_use_gives_a_clear_error(served_model: dict) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not delivery.port_is_free(port)
        server = delivery.ModelServer(
            registry.model_uri(served_model["name"], "champion"), port=port, progress=False
        )
        with pytest.raises(ValueError, match=f"Port {port} on 127.0.0.1 is in use"):
            server.start()
        assert not server.running and server.pid is None


def test_a_model_uri_that_does_not_exist_gives_a_clear_error(served_model: dict) -> None:
    tracking.connect(quiet=True)
    missing = _new_name("no-such-model")
    with pytest.raises(ValueError, match="no registered model named"):
        delivery.ModelServer(f"models:/{missing}@champion", progress=False).start()
    with pytest.raises(ValueError, match="has no alias 'shadow'"):
        delivery.ModelServer(f"models:/{served_model['name']}@shadow", progress=False).start()
    with pytest.raises(ValueError, match="has no version 99"):
        delivery.ModelServer(f"models:/{served_model['name']}/99", progress=False).start()
    with pytest.raises(ValueError, match="not a registered model's URI"):
        delivery.ModelServer("runs:/0123/model")
    with pytest.raises(ValueError, match="port must be"):
        delivery.ModelServer(f"models:/{served_model['name']}/1", port=80)


@pytest.mark.server
def test_a_server_that_does_not_answer_in_time_is_stopped(served_model: dict) -> None:
    server = delivery.ModelServer(
        registry.model_uri(served_model["name"], "champion"), timeout=0.3, progress=False
    )
    with pytest.raises(delivery.ModelServerError, match="has not been started"):
        server.wait()
    assert server.start(wait=False) is server and server.running  # returns at once
    assert server.command_line.startswith("mlflow models serve")
    with pytest.raises(delivery.ModelServerError, match=r"did not answer .*/ping within 0.3 s"):
        server.wait()
    assert server.error == "no answer on /ping within 0.3 s"
    assert not server.running and not delivery.process_alive(server.pid)
    assert delivery.port_is_free(server.port)


def test_serve_command_is_the_public_command_ready_to_copy() -> None:
    command = delivery.serve_command("models:/churn/3", 5001)
    assert command == (
        "mlflow models serve -m models:/churn/3 --env-manager local -h 127.0.0.1 -p 5001 -w 1"
    )
    with_uri = delivery.serve_command("models:/my churn@champion", 5001, tracking_uri="http://h:5")
    assert with_uri.startswith("MLFLOW_TRACKING_URI=http://h:5 mlflow models serve -m ")
    assert "'models:/my churn@champion'" in with_uri  # quoted for the shell
    with pytest.raises(ValueError, match="port must be"):
        delivery.serve_command("models:/churn/3", 0)
    assert not hasattr(delivery, "_serving_via")  # no private MLflow names on this path


@pytest.mark.server
def test_router_splits_shadows_and_switches_between_two_real_servers(
    cli_server: delivery.ModelServer, served_model: dict, data: dict[str, pd.DataFrame]
) -> None:
    X = data["eval"][FEATURES]
    expected = served_model["model"].predict_proba(X.head(40))
    canary = delivery.TrafficRouter(cli_server, cli_server.url + "/", share=0.25, seed=1)
    answers = np.vstack([canary.send(X.iloc[[i]]) for i in range(40)])
    assert np.array_equal(answers, expected)
    summary = canary.summary()
    assert summary["requests"].sum() == 40 and summary["errors"].sum() == 0
    assert 0 < summary.loc["candidate", "requests"] < 20  # about a quarter of 40
    assert summary["median_ms"].gt(0).all() and np.isnan(summary.loc["candidate", "same_decision"])
    again = delivery.TrafficRouter(cli_server, cli_server, share=0.25, seed=1)
    for i in range(40):
        again.send(X.iloc[[i]])
    assert list(again.log["arm"]) == list(canary.log["arm"])  # the seed fixes the split

    shadow = delivery.TrafficRouter(cli_server, cli_server, mode="shadow")
    for i in range(5):
        shadow.send(X.iloc[i : i + 2])
    log = shadow.log
    assert len(log) == 10 and log.groupby("arm")["answered"].sum().to_dict() == {
        "candidate": 0,
        "champion": 5,
    }
    assert shadow.summary().loc["candidate", "same_decision"] == 1.0

    blue_green = delivery.TrafficRouter(cli_server, cli_server, mode="blue-green")
    blue_green.send(X.head(1))
    assert blue_green.switch() == "candidate"
    blue_green.send(X.head(1))
    assert list(blue_green.log["arm"]) == ["champion", "candidate"]
    with pytest.raises(ValueError, match="blue-green"):
        shadow.switch()


@pytest.mark.server
def test_router_counts_a_dead_candidate_and_protects_the_client_in_shadow_mode(
    cli_server: delivery.ModelServer, data: dict[str, pd.DataFrame]
) -> None:
    X = data["eval"][FEATURES]
    dead = f"http://127.0.0.1:{processes.free_port()}"  # nothing listens there
    shadow = delivery.TrafficRouter(cli_server, dead, mode="shadow")
    for i in range(3):
        assert shadow.send(X.iloc[[i]]).shape == (1, 2)  # the client still gets answers
    summary = shadow.summary()
    assert summary.loc["candidate", "error_rate"] == 1.0
    assert summary.loc["champion", "error_rate"] == 0.0
    assert np.isnan(summary.loc["candidate", "same_decision"])  # nothing to compare
    canary = delivery.TrafficRouter(cli_server, dead, share=1.0)
    with pytest.raises(delivery.ModelServerError, match="No model server answers"):
        canary.send(X.head(1))
    assert canary.log["status"].tolist() == [0]
    bad = delivery.TrafficRouter(cli_server, cli_server, share=0.0)
    with pytest.raises(delivery.ServingError) as caught:
        bad.send(X.head(1).drop(columns="contract"))
    assert caught.value.status == 400 and bad.log["status"].tolist() == [400]


def test_router_and_summary_check_their_input() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        delivery.TrafficRouter("http://a:1", "http://b:2", mode="a/b")
    with pytest.raises(ValueError, match="share must be"):
        delivery.TrafficRouter("http://a:1", "http://b:2", share=1.5)
    with pytest.raises(TypeError, match="ModelServer or a URL"):
        delivery.TrafficRouter("a:1", "http://b:2")
    with pytest.raises(ValueError, match="lacks the column"):
        delivery.traffic_summary(pd.DataFrame({"arm": ["champion"]}))
    log = pd.DataFrame(
        {
            "request": [0, 0, 1, 1],
            "arm": ["champion", "candidate", "champion", "candidate"],
            "answered": [True, False, True, False],
            "status": [200, 200, 200, 500],
            "ms": [10.0, 30.0, 20.0, 5.0],
            "churn": [(0.1, 0.9), (0.2, 0.2), (0.5,), ()],
        }
    )
    summary = delivery.traffic_summary(log, threshold=0.5)
    assert summary.loc["candidate", "errors"] == 1 and summary.loc["candidate", "error_rate"] == 0.5
    assert summary.loc["champion", "median_ms"] == 15.0
    assert summary.loc["candidate", "median_ms"] == 30.0  # errors do not count for latency
    assert summary.loc["candidate", "same_decision"] == 0.5  # request 0: agree, then disagree
    with pytest.raises(ValueError, match="names the arm"):
        delivery.traffic_summary(log.assign(arm="green"))


@pytest.mark.server
def test_stop_leaves_no_process_and_frees_the_port(cli_server: delivery.ModelServer) -> None:
    pid, port = cli_server.pid, cli_server.port
    assert delivery.process_alive(pid)
    assert cli_server.stop() is True
    assert not cli_server.running
    assert not delivery.process_alive(pid)
    assert processes.process_group_members(pid) == []  # the whole process group is gone
    assert delivery.port_is_free(port)
    assert cli_server.stop() is False  # stopping twice is harmless


def test_process_and_port_helpers_check_their_input() -> None:
    with pytest.raises(TypeError):
        delivery.process_alive("123")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        delivery.port_is_free(70000)


def test_the_root_error_of_a_log_is_found(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(
        "Traceback (most recent call last):\n"
        "AttributeError: module '__main__' has no attribute 'ClippedModel'\n"
        "Exception: Command '['bash', '-c', 'exec uvicorn']' returned non zero return code.\n"
    )
    assert delivery._last_error_line(log).startswith("AttributeError: module '__main__'")


# ----------------------------------------------------------------------------- stages


def test_validate_stage_passes_clean_data_and_stops_on_bad_data(
    data: dict[str, pd.DataFrame], schema
) -> None:
    ok = delivery.validate_data(data["train"], data["eval"], schema)
    assert ok.passed and len(ok.checks) == 4
    in_cents = data["eval"].assign(monthly_charges=data["eval"]["monthly_charges"] * 100)
    bad = delivery.validate_data(data["train"], in_cents, schema)
    assert not bad.passed and "monthly_charges" in bad.detail


def test_train_stage_takes_a_config_or_a_function(data: dict[str, pd.DataFrame]) -> None:
    config = training.TrainConfig("logistic_regression", seed=SEED)
    by_config = delivery.train_candidate(config, data["train"])
    by_function = delivery.train_candidate(lambda df: training.train(config, df), data["train"])
    assert by_config.passed and by_function.passed
    assert by_config.value.metrics == by_function.value.metrics
    with pytest.raises(TypeError, match="TrainConfig or a function"):
        delivery.train_candidate("logistic_regression", data["train"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must return a training.TrainResult"):
        delivery.train_candidate(lambda df: None, data["train"])  # type: ignore[arg-type,return-value]
    broken = delivery.train_candidate(
        training.TrainConfig("logistic_regression", numeric=("no_such_column",)), data["train"]
    )
    assert not broken.passed and "training failed" in broken.detail


@pytest.mark.slow
def test_gate_stage_without_a_champion_and_against_one(
    lr: training.TrainResult, data: dict[str, pd.DataFrame], served_model: dict
) -> None:
    baseline = training.train(training.TrainConfig("dummy"), data["train"]).model
    first = delivery.compare_with_champion(
        lr.model, data["eval"], baseline=baseline, model_name=_new_name("never-registered")
    )
    assert first.passed and "no champion yet" in first.detail
    assert "skipped: no champion yet" in str(first.value)
    same = delivery.compare_with_champion(
        lr.model, data["eval"], baseline=baseline, model_name=served_model["name"]
    )
    assert same.passed and f"champion version {served_model['version']}" in same.detail
    weak = training.train(
        training.TrainConfig("logistic_regression", numeric=("usage_hours",), categorical=()),
        data["train"],
    )
    worse = delivery.compare_with_champion(
        weak.model, data["eval"], baseline=baseline, model_name=served_model["name"]
    )
    assert not worse.passed
    assert "not worse than the champion" in {c.name for c in worse.value.failed}


# ----------------------------------------------------------------------------- the pipeline


class _NotebookOnlyModel(ClassifierMixin, BaseEstimator):
    """A wrapper whose class a model server cannot import (it lives in this test module)."""

    def __init__(self, model=None) -> None:
        self.model = model

    @property
    def classes_(self):  # noqa: ANN201
        return self.model.classes_

    def predict_proba(self, X):  # noqa: ANN001, ANN201
        return np.clip(self.model.predict_proba(X), 0.02, 0.98)

    def predict(self, X):  # noqa: ANN001, ANN201
        return self.model.predict(X)


@pytest.fixture()
def pipeline_model(lr: training.TrainResult, data: dict[str, pd.DataFrame]) -> dict:
    """A new registered model whose champion is ``lr``."""
    tracking.connect(quiet=True)
    tracking.use_experiment("test-delivery")
    name = _new_name("test-delivery-pipeline")
    version = delivery.register_champion(
        lr, name, run_name="test-champion", input_example=data["eval"].head(3), reason="start"
    )
    return {"name": name, "version": version}


def _run(candidate, data, schema, pipeline_model, **kwargs):  # noqa: ANN001, ANN202
    return delivery.run_pipeline(
        candidate,
        data["train"],
        kwargs.pop("eval_data", data["eval"]),
        model_name=pipeline_model["name"],
        schema=schema,
        code="git:0123456789ab",
        verbose=False,
        progress=False,
        **kwargs,
    )


def test_pipeline_rejects_a_weaker_candidate_and_nothing_moves(
    data: dict[str, pd.DataFrame], schema, pipeline_model: dict
) -> None:
    slim = training.TrainConfig(
        "logistic_regression", seed=SEED, numeric=("usage_hours",), categorical=("region",)
    )
    run = _run(slim, data, schema, pipeline_model, run_name="slim")
    assert run.outcome == "rejected" and run.failed_stage == "compare"
    assert [s.stage for s in run.stages] == ["validate", "train", "evaluate", "compare"]
    assert run.champion_before == run.champion_after == pipeline_model["version"]
    assert registry.version_of(pipeline_model["name"]) == pipeline_model["version"]
    assert run.version is None and run.server is None
    logged = mlflow.get_run(run.run_id)
    assert logged.data.metrics["gate_passed"] == 0.0 and logged.data.tags["gate"] == "rejected"
    assert "REJECTED" in mlflow.artifacts.load_text(f"runs:/{run.run_id}/gate_decision.txt")
    table = run.table()
    assert list(table.index) == list(delivery.STAGES)
    assert list(table["status"]) == ["passed"] * 3 + ["failed"] + ["not run"] * 4
    assert "REJECTED" in str(run) and "stopped at 'compare'" in run.reason


def test_pipeline_stops_on_bad_data_before_training(
    data: dict[str, pd.DataFrame], schema, pipeline_model: dict
) -> None:
    bad = data["eval"].assign(monthly_charges=data["eval"]["monthly_charges"] * 100)
    run = _run(
        training.TrainConfig(seed=SEED), data, schema, pipeline_model, run_name="x", eval_data=bad
    )
    assert run.outcome == "stopped" and run.failed_stage == "validate"
    assert len(run.stages) == 1 and run.run_id is None
    assert registry.version_of(pipeline_model["name"]) == pipeline_model["version"]


@pytest.mark.server
def test_pipeline_serves_before_it_promotes_and_never_promotes_a_model_that_cannot_load(
    data: dict[str, pd.DataFrame], schema, pipeline_model: dict
) -> None:
    name, start = pipeline_model["name"], pipeline_model["version"]
    config = training.TrainConfig("logistic_regression", seed=SEED)
    won = _run(config, data, schema, pipeline_model, run_name="retrained")
    try:
        assert won.outcome == "promoted", str(won)
        assert won.champion_before == start and won.champion_after == won.version != start
        assert registry.version_of(name) == won.version
        assert [s.stage for s in won.stages] == list(delivery.STAGES)  # promote comes last
        server = won.server
        assert server.running and server.version == won.version
        assert server.model_uri == registry.model_uri(name, won.version)  # by number, not alias
        assert f"champion stays version {start}" in won.stage("register").detail
        client = mlflow.MlflowClient()
        assert client.get_model_version(name, won.version).tags["smoke_test"] == "passed"
        X = data["eval"][FEATURES]
        in_process = mlflow.sklearn.load_model(registry.model_uri(name, won.version))
        assert np.array_equal(server.predict(X), in_process.predict_proba(X))

        def clipped(df: pd.DataFrame) -> training.TrainResult:
            result = training.train(config, df)
            return dataclasses.replace(result, pipeline=_NotebookOnlyModel(result.pipeline))

        # The course does not log a type nobody vouched for; its error says what to do.
        with pytest.raises(tracking.UntrustedTypesError, match="_NotebookOnlyModel"):
            _run(clipped, data, schema, pipeline_model, run_name="clipped", server=server)
        assert registry.version_of(name) == won.version
        vouched = [f"{_NotebookOnlyModel.__module__}.{_NotebookOnlyModel.__qualname__}"]
        failed = _run(
            clipped,
            data,
            schema,
            pipeline_model,
            run_name="clipped",
            server=server,
            trusted_types=vouched,
        )
        assert failed.outcome == "failed", str(failed)
        assert failed.failed_stage == "serve"
        assert [s.stage for s in failed.stages][-2:] == ["register", "serve"]
        broken = failed.stage("serve").value
        assert not broken.running and not delivery.process_alive(broken.pid)
        assert "_NotebookOnlyModel" in broken.error or "test_delivery" in broken.error
        # the alias never pointed at the broken version: nothing was rolled back
        assert registry.version_of(name) == won.version == failed.champion_after
        assert failed.version not in {m.version for m in registry.history(name)}
        last = registry.history(name, "champion")[-1]
        assert (last.action, last.version, last.previous) == ("promote", won.version, start)
        tags = client.get_model_version(name, failed.version).tags
        assert tags["gate"] == "passed" and "did not come up" in tags["smoke_test"]
        assert failed.server is server and server.ping()  # the server in use kept serving
        assert np.array_equal(server.predict(X), in_process.predict_proba(X))
        fig = delivery.pipeline_figure(failed)
        colours = {p.get_gid(): p.get_facecolor() for p in fig.axes[0].patches if p.get_gid()}
        assert colours["stage:serve"] != colours["stage:promote"]
        assert colours["stage:smoke test"] == colours["stage:promote"]  # both not run
        assert colours["stage:register"] == colours["stage:compare"]  # both passed
    finally:
        if won.server is not None:
            pid, port = won.server.pid, won.server.port
            won.server.stop()
            assert not delivery.process_alive(pid) and delivery.port_is_free(port)


def test_run_pipeline_checks_its_arguments(
    data: dict[str, pd.DataFrame], schema, pipeline_model: dict
) -> None:
    config = training.TrainConfig(seed=SEED)
    with pytest.raises(TypeError, match="model_name"):
        delivery.run_pipeline(
            config, data["train"], data["eval"], model_name="", schema=schema, run_name="x"
        )
    with pytest.raises(TypeError, match="eval_data"):
        delivery.run_pipeline(
            config, data["train"], None, model_name="m", schema=schema, run_name="x"
        )  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="smoke_rows"):
        delivery.run_pipeline(
            config,
            data["train"],
            data["eval"],
            model_name="m",
            schema=schema,
            run_name="x",
            smoke_rows=0,
        )
    with pytest.raises(TypeError, match="pipeline_figure|PipelineRun"):
        delivery.pipeline_figure("run")  # type: ignore[arg-type]
