"""The course tracking server: start, reuse, stop, restart, and every error path."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import psutil
import pytest
from mlflow.models import Model
from mlflow.tracking import MlflowClient
from sklearn.base import BaseEstimator, ClassifierMixin

from utils import processes, tracking
from utils.paths import repo_root


@pytest.fixture()
def local_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No class server, a fresh state folder: what a student's laptop looks like."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv(tracking.PORT_ENV, raising=False)
    state = tmp_path / "state"
    monkeypatch.setenv("MLOPS_COURSE_STATE", str(state))
    return state


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory):
    state = tmp_path_factory.mktemp("own-server")
    tracking.start(state_dir=state)
    yield state
    tracking.stop(state_dir=state)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.server
def test_start_is_reused_and_status_reports_it(own_server: Path) -> None:
    first = tracking.status(own_server)
    assert first.running and first.url and first.pid
    assert processes.healthy(first.url)
    again = tracking.start(state_dir=own_server)
    assert again.running and not again.started
    assert (again.pid, again.url) == (first.pid, first.url)
    assert "Reusing" in again.message
    record = json.loads((own_server / tracking.SERVER_FILE).read_text())
    assert record["pid"] == first.pid and record["url"] == first.url
    assert first.url.startswith("http://127.0.0.1:")


@pytest.mark.server
def test_server_listens_on_loopback_only(own_server: Path) -> None:
    import psutil

    st = tracking.status(own_server)
    addresses = {
        c.laddr.ip
        for c in psutil.net_connections(kind="tcp")
        if c.laddr and c.laddr.port == st.port and c.status == psutil.CONN_LISTEN
    }
    assert addresses == {"127.0.0.1"}


@pytest.mark.server
def test_runs_survive_a_restart_on_the_same_port(own_server: Path) -> None:
    before = tracking.status(own_server)
    client = MlflowClient(tracking_uri=before.url)
    exp = client.create_experiment(f"restart-{time.time_ns()}")
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "accuracy", 0.875)
    client.log_text(run.info.run_id, "hello", "note.txt")
    client.set_terminated(run.info.run_id)

    assert tracking.stop(state_dir=own_server) is True
    assert not tracking.status(own_server).running
    assert tracking.stop(state_dir=own_server) is False  # nothing left to stop

    after = tracking.start(state_dir=own_server)
    assert after.started and after.port == before.port and after.pid != before.pid
    client = MlflowClient(tracking_uri=after.url)
    assert client.get_run(run.info.run_id).data.metrics == {"accuracy": 0.875}
    path = client.download_artifacts(run.info.run_id, "note.txt", str(own_server / "dl"))
    assert Path(path).read_text() == "hello"


@pytest.mark.server
def test_explicit_port_in_use_is_a_clear_error(own_server: Path, tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(tracking.TrackingServerError, match=f"Port {port} .* already in use"):
            tracking.start(port=port, state_dir=tmp_path / "s")
    assert not (tmp_path / "s" / tracking.SERVER_FILE).exists()


@pytest.mark.server
def test_moving_a_running_server_needs_a_stop_first(own_server: Path) -> None:
    port = tracking.status(own_server).port
    assert port is not None
    with pytest.raises(tracking.TrackingServerError, match="Stop it first"):
        tracking.start(port=port + 1, state_dir=own_server)


@pytest.mark.parametrize(
    ("port", "error"),
    [("5050", TypeError), (True, TypeError), (80, ValueError), (70000, ValueError)],
)
def test_bad_port_arguments(port: object, error: type[Exception], tmp_path: Path) -> None:
    with pytest.raises(error, match="port must be"):
        tracking.start(port=port, state_dir=tmp_path)  # type: ignore[arg-type]


def test_bad_port_environment_variable(local_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(tracking.PORT_ENV, "fifty")
    with pytest.raises(ValueError, match="MLOPS_COURSE_PORT='fifty' is not a port number"):
        tracking.start()


def test_bad_timeout(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        tracking.start(state_dir=tmp_path, timeout=0)


@pytest.mark.server
def test_stale_pid_file_is_reported_and_replaced(tmp_path: Path) -> None:
    state = tmp_path / "stale"
    state.mkdir()
    with socket.socket() as blocker:  # the recorded port is taken by someone else now
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        record = {"pid": _dead_pid(), "port": taken, "url": f"http://127.0.0.1:{taken}"}
        (state / tracking.SERVER_FILE).write_text(json.dumps(record))
        st = tracking.status(state)
        assert not st.running and "Stale record" in st.message
        server = tracking.start(state_dir=state)
        try:
            assert server.started and server.port != taken
            assert processes.healthy(server.url or "")
            saved = json.loads((state / tracking.SERVER_FILE).read_text())
            assert saved["pid"] == server.pid
        finally:
            assert tracking.stop(state_dir=state)
    assert not (state / tracking.SERVER_FILE).exists()


def test_corrupt_record_is_reported(tmp_path: Path) -> None:
    (tmp_path / tracking.SERVER_FILE).write_text("{not json")
    st = tracking.status(tmp_path)
    assert not st.running and "unreadable" in st.message
    assert tracking.stop(state_dir=tmp_path) is False
    assert not (tmp_path / tracking.SERVER_FILE).exists()


def test_a_pid_reused_by_another_program_is_not_taken_for_the_server(tmp_path: Path) -> None:
    record = {"pid": os.getpid(), "port": 5999, "url": "http://127.0.0.1:5999"}
    (tmp_path / tracking.SERVER_FILE).write_text(json.dumps(record))
    assert "Stale record" in tracking.status(tmp_path).message
    assert tracking.stop(state_dir=tmp_path) is False  # and this test process survives


@pytest.mark.server
def test_server_that_exits_during_start_shows_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server that cannot start: here MLflow's own command line rejects an option.
    real_command = tracking.server_command
    monkeypatch.setattr(
        tracking, "server_command", lambda *a: [*real_command(*a), "--no-such-option"]
    )
    with pytest.raises(tracking.TrackingServerError) as info:
        tracking.start(state_dir=tmp_path, timeout=60)
    message = str(info.value)
    assert "exited with code 2 while starting" in message and "The end of its log" in message
    assert "No such option" in message and "--no-such-option" in message
    assert not (tmp_path / tracking.SERVER_FILE).exists()


def test_missing_mlflow_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a)
    )
    with pytest.raises(tracking.TrackingServerError, match="mlflow is not installed"):
        tracking.start(state_dir=tmp_path)


def test_connect_uses_a_class_server_from_the_environment(capsys) -> None:
    uri = os.environ["MLFLOW_TRACKING_URI"]  # the test session's server (conftest.py)
    assert tracking.connect() == uri
    assert mlflow.get_tracking_uri() == uri
    assert tracking.ui_url() == uri.rstrip("/")
    assert not tracking.is_course_server()
    assert (
        capsys.readouterr().out.strip()
        == f"MLflow tracking server: {uri} (from MLFLOW_TRACKING_URI)"
    )


def test_connect_to_a_dead_class_server_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    with pytest.raises(tracking.TrackingServerError, match="no MLflow server answers there"):
        tracking.connect()


@pytest.mark.server
def test_connect_starts_the_course_server_and_a_dead_one_fails_fast(
    local_env: Path, capsys
) -> None:
    uri = tracking.connect()
    try:
        out = capsys.readouterr().out
        assert out.strip().splitlines() == [
            "Starting the course's MLflow server (about 10-30 s the first time) ...",
            f"MLflow tracking server: {uri} (started; UI at the same address)",
        ]
        assert (local_env / tracking.SERVER_FILE).exists()
        assert tracking.connect() == uri
        assert "(reused;" in capsys.readouterr().out
        tracking.use_experiment("00-test-connect")
        with mlflow.start_run() as run:
            mlflow.log_metric("m", 1.5)
        assert MlflowClient().get_run(run.info.run_id).data.metrics["m"] == 1.5
        assert tracking.is_course_server()
        url = tracking.run_url(run.info.run_id)
        assert url.startswith(uri + "/#/experiments/") and url.endswith(run.info.run_id)
    finally:
        assert tracking.stop()
    # With MLflow's default retries this hangs for minutes; connect() set MLflow's own client
    # settings to one retry, so the error comes at once (`make bench` times nothing here).
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "1"
    with pytest.raises(mlflow.exceptions.MlflowException, match="Max retries exceeded"):
        mlflow.search_experiments()


def test_experiment_and_model_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    assert tracking.experiment_name("05-experiment-tracking") == "05-experiment-tracking"
    assert tracking.model_name("churn-classifier") == "churn-classifier"
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "Alice Smith")
    assert (
        tracking.experiment_name("05-experiment-tracking") == "Alice-Smith-05-experiment-tracking"
    )
    assert tracking.model_name("churn-classifier") == "Alice-Smith-churn-classifier"


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "-lead"])
def test_invalid_names_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="not a valid name"):
        tracking.experiment_name(bad)


def test_non_string_name_is_rejected() -> None:
    with pytest.raises(TypeError, match="must be a string"):
        tracking.experiment_name(5)  # type: ignore[arg-type]


def test_log_sklearn_model_round_trip_is_exact_with_pinned_requirements() -> None:
    import sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    tracking.connect(quiet=True)
    tracking.use_experiment("00-test-log-model")
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    with mlflow.start_run():
        info = tracking.log_sklearn_model(model, input_example=X.head(2))
    loaded = mlflow.sklearn.load_model(info.model_uri)
    assert (loaded.predict(X) == model.predict(X)).all()
    reqs = Path(mlflow.pyfunc.get_model_dependencies(info.model_uri))
    # Pinned by the course, not inferred by MLflow (pip inference takes minutes offline), and
    # everything loading needs: the model's library, skops (its format), numpy and pandas.
    pins = {f"mlflow=={mlflow.__version__}", *tracking.model_requirements()}
    assert f"scikit-learn=={sklearn.__version__}" in pins
    assert set(reqs.read_text().split()) == pins
    sklearn_flavor = Model.load(info.model_uri).flavors["sklearn"]
    assert sklearn_flavor["serialization_format"] == "skops"
    assert sklearn_flavor["skops_trusted_types"] == []  # a logistic regression needs none


@pytest.mark.parametrize("kind", ["random_forest", "hist_gradient_boosting"])
def test_log_sklearn_model_handles_tree_models(kind: str) -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    tracking.connect(quiet=True)
    tracking.use_experiment("00-test-log-model")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    if kind == "random_forest":
        model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    else:
        model = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    with mlflow.start_run():
        info = tracking.log_sklearn_model(model, input_example=X.head(2))
    loaded = mlflow.sklearn.load_model(info.model_uri)
    assert (loaded.predict_proba(X) == model.predict_proba(X)).all()
    trusted = Model.load(info.model_uri).flavors["sklearn"]["skops_trusted_types"]
    assert len(trusted) == 1 and trusted[0] in tracking.SKOPS_TRUSTED_TYPES


def test_model_requirements_pin_the_installed_packages() -> None:
    from importlib.metadata import version

    pins = tracking.model_requirements()
    assert [p.split("==")[0] for p in pins] == list(tracking.MODEL_PACKAGES)
    assert set(tracking.MODEL_PACKAGES) >= {"scikit-learn", "skops", "numpy", "pandas"}
    assert pins == [f"{name}=={version(name)}" for name in tracking.MODEL_PACKAGES]


def test_skops_trusted_types_is_exactly_what_the_course_models_need() -> None:
    from utils import datasets, training

    churn = datasets.make_churn(n_per_period=60, periods=2, seed=0)
    small = {"random_forest": {"n_estimators": 3}, "gradient_boosting": {"max_iter": 3}}
    needed: dict[str, list[str]] = {}
    for model in training.MODELS:
        result = training.train(training.TrainConfig(model, small.get(model, {}), seed=0), churn)
        needed[model] = tracking.skops_trusted_types(result.model)  # raises if one is missing
    # Each entry of the list is needed by a course model: none is trusted for nothing.
    assert sorted({t for types in needed.values() for t in types}) == sorted(
        tracking.SKOPS_TRUSTED_TYPES
    )
    assert needed["logistic_regression"] == needed["dummy"] == []


class _NotACourseType(ClassifierMixin, BaseEstimator):
    """A model type skops does not know and the course does not trust."""

    def __init__(self, model=None) -> None:
        self.model = model

    def predict(self, X):  # noqa: ANN001, ANN201
        return self.model.predict(X)


def test_an_unknown_type_is_refused_not_trusted() -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    wrapped = _NotACourseType(LogisticRegression(max_iter=500).fit(X, y))
    with pytest.raises(tracking.UntrustedTypesError, match="_NotACourseType") as error:
        tracking.skops_trusted_types(wrapped)
    assert "skops_trusted_types=[...]" in str(error.value) and "__main__" in str(error.value)
    with pytest.raises(tracking.UntrustedTypesError, match="_NotACourseType"):
        tracking.log_sklearn_model(wrapped)  # refused before anything is logged
    assert mlflow.active_run() is None


def test_log_sklearn_model_rejects_non_models() -> None:
    with pytest.raises(TypeError, match="fitted scikit-learn estimator"):
        tracking.log_sklearn_model(object())


def test_ui_url_needs_a_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    session_uri = os.environ["MLFLOW_TRACKING_URI"]
    # mlflow.set_tracking_uri() exports MLFLOW_TRACKING_URI; monkeypatch restores it after,
    # so notebook kernels started later by this worker still reach the session's server.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", session_uri)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/x.db")
    try:
        with pytest.raises(tracking.TrackingServerError, match="call tracking.connect"):
            tracking.ui_url()
    finally:
        mlflow.set_tracking_uri(session_uri)


@pytest.mark.server
def test_command_line_start_status_stop(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["MLOPS_COURSE_STATE"] = str(tmp_path)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "utils", *args],
            env=env,
            cwd=repo_root(),
            capture_output=True,
            text=True,
            timeout=180,
        )

    status = cli("server", "status")
    assert status.returncode == 3 and "No course server is running" in status.stdout
    started = cli("server", "start")
    assert started.returncode == 0 and "Started the course server at" in started.stdout
    try:
        status = cli("server", "status")
        assert status.returncode == 0 and "Course server running at" in status.stdout
        assert tracking.status(tmp_path).running
    finally:
        stopped = cli("server", "stop")
    assert stopped.returncode == 0 and "Stopped the course server." in stopped.stdout
    assert not tracking.status(tmp_path).running
    bad = cli("server", "start", "--port", "80")
    assert bad.returncode == 2 and "port must be between 1024 and 65535" in bad.stderr


@pytest.mark.server
def test_a_server_stopped_by_another_process_leaves_no_zombie(tmp_path: Path) -> None:
    # A notebook kernel starts the server and keeps running; a terminal stops it.
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from utils import tracking\n"
            "print(tracking.start(state_dir=sys.argv[1]).pid, flush=True)\n"
            "time.sleep(600)\n",
            str(tmp_path),
        ],
        cwd=repo_root(),
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"},
    )
    try:
        assert starter.stdout is not None
        pid = int(starter.stdout.readline())
        assert tracking.stop(tmp_path)
        assert starter.poll() is None  # the starting process lives on
        deadline = time.monotonic() + 30
        while psutil.pid_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not psutil.pid_exists(pid), f"pid {pid}: {psutil.Process(pid).status()}"
    finally:
        starter.kill()
        starter.wait()


@pytest.mark.server
def test_clean_stops_the_folders_server_and_moves_runs_aside_without_a_terminal(
    tmp_path: Path,
) -> None:
    state = tmp_path / ".course"
    server = tracking.start(state_dir=state)
    client = mlflow.MlflowClient(tracking_uri=server.url)
    experiment = client.create_experiment("clean-test")
    client.set_terminated(client.create_run(experiment).info.run_id)
    assert tracking.count_runs(state) == 1
    line = tracking.clean_state(state, confirm=None)
    assert not processes.process_alive(server.pid)  # its server was stopped first
    assert not state.exists()
    (aside,) = tmp_path.glob(".course-old-*")
    assert f"moved it to {aside}" in line and "1 run(s)" in line
    assert tracking.count_runs(aside) == 1  # nothing lost


@pytest.mark.slow
def test_clean_asks_before_deleting_runs_and_keeps_them_on_no(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{state / 'mlflow.db'}")
    client.create_run(client.create_experiment("x", artifact_location=str(state / "artifacts")))
    asked = []

    def no(question: str) -> bool:
        asked.append(question)
        return False

    assert tracking.clean_state(state, confirm=no).startswith("Kept")
    assert "1 run(s)" in asked[0] and tracking.count_runs(state) == 1
    assert "Deleted" in tracking.clean_state(state, confirm=lambda q: True)
    assert not state.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert tracking.clean_state(empty, confirm=None) == f"Deleted {empty.resolve()}."


def test_clean_never_touches_a_class_folder(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "class").mkdir(parents=True)
    (state / "class" / "secrets.json").write_text("{}")
    with pytest.raises(ValueError, match="class server's files"):
        tracking.clean_state(state, confirm=lambda q: True)
    assert (state / "class" / "secrets.json").exists()


@pytest.mark.parametrize("action", ["start", "status", "stop"])
def test_an_unwritable_state_folder_is_one_clear_line_not_a_traceback(
    tmp_path: Path, action: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # (root may write anywhere; a file in the way stops it)
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["MLOPS_COURSE_STATE"] = str(blocker / "state")
    result = subprocess.run(
        [sys.executable, "-m", "utils", "server", action],
        env=env,
        cwd=repo_root(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "cannot write its state folder" in result.stderr
    assert "MLOPS_COURSE_STATE" in result.stderr


@pytest.mark.server
def test_a_port_taken_while_starting_moves_to_another(tmp_path: Path) -> None:
    # Another course server (another state folder) already answers /health on the port
    # this one is told to try: the new server must not mistake it for itself.
    # Not on the default port: the start falls back to it after the recorded port, and the
    # patched check below would call the default port free too when `other` holds it.
    port = processes.free_port()
    while port == tracking.DEFAULT_PORT:
        port = processes.free_port()
    other = tracking.start(state_dir=tmp_path / "other", port=port)
    try:
        state = tmp_path / "mine"
        state.mkdir()
        (state / tracking.LAST_PORT_FILE).write_text(str(other.port))
        with socket.socket() as probe:  # the race: the port looked free a moment earlier
            assert probe.connect_ex(("127.0.0.1", other.port or 0)) == 0
        original = processes.port_is_free
        processes.port_is_free = lambda port: True if port == other.port else original(port)
        try:
            mine = tracking.start(state_dir=state)
        finally:
            processes.port_is_free = original
        try:
            assert mine.started and mine.port != other.port
            assert mine.pid != other.pid and processes.healthy(mine.url or "")
        finally:
            tracking.stop(state_dir=state)
    finally:
        tracking.stop(state_dir=tmp_path / "other")
