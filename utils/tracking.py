"""The course's local MLflow tracking server, and how notebooks connect to it.

Every notebook that logs calls :func:`connect` once (introduced in notebook 00):

* if the environment variable ``MLFLOW_TRACKING_URI`` is set (a class server run by the
  instructor, or the server a test session started), MLflow uses it as it is;
* otherwise the course's own server is started, or reused when it already runs.

The course server listens on 127.0.0.1 only. It keeps its runs in a SQLite database and its
artifacts in a proxied artifact store, both in the course state folder (``.course/`` at the
repository root, or the folder named by ``MLOPS_COURSE_STATE``). The folder also holds
``server.json`` (PID, port, URL) and ``server.log``, so that every notebook, ``make lab`` and
``python -m utils server ...`` share one server. Runs survive a restart: they live in the
database, not in the process. A restart reuses the recorded port when it is free, so running
kernels keep a valid URI.
"""

from __future__ import annotations

import base64
import importlib.util
import logging
import os
import re
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from utils import processes
from utils.paths import state_dir as _default_state_dir

__all__ = [
    "DEFAULT_PORT",
    "MODEL_PACKAGES",
    "SKOPS_TRUSTED_TYPES",
    "CLIENT_RETRY_ENV",
    "QUIET_ENV",
    "ServerStatus",
    "TrackingServerError",
    "UntrustedTypesError",
    "connect",
    "experiment_name",
    "is_course_server",
    "log_sklearn_model",
    "model_name",
    "model_requirements",
    "run_url",
    "server_command",
    "server_env",
    "skops_trusted_types",
    "start",
    "status",
    "stop",
    "ui_url",
    "use_experiment",
]

#: The port the course server asks for first (5000, MLflow's default, is often taken on macOS).
DEFAULT_PORT = 5050
#: Environment variable that pins the course server to a port (an error if that port is taken).
PORT_ENV = "MLOPS_COURSE_PORT"
#: Seconds to wait for a cold server to answer ``/health`` before giving up.
START_TIMEOUT = 240.0

SERVER_FILE = "server.json"
LOG_FILE = "server.log"
LOCK_FILE = "server.lock"
LAST_PORT_FILE = "server.last-port"

#: Client settings for the course server: a dead server gives an error within seconds,
#: instead of MLflow's default of several retries with exponential back-off (minutes).
CLIENT_RETRY_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}
#: Nothing phones home; no "View run at ..." lines in notebook output.
QUIET_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}
_MANAGED_URI_ENV = "MLOPS_COURSE_SERVER_URI"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


#: The packages a logged course model needs to be loaded and to predict in another environment,
#: besides MLflow itself (which MLflow adds to the requirements): the model's library, the
#: format it is saved in (skops), and the arrays and tables it computes with. The ``mlflow``
#: package depends on them too, but unpinned: :func:`model_requirements` pins them.
MODEL_PACKAGES: tuple[str, ...] = ("scikit-learn", "skops", "numpy", "pandas")

#: The types skops must be told by name to trust before it loads a course model. skops loads
#: the usual scikit-learn, NumPy and Python types by itself; these are the others that the
#: models of :data:`utils.training.MODELS` contain (``tests/test_tracking.py`` checks both
#: ways: every course model needs no more, and each entry is needed by one).
SKOPS_TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.tree._tree.Tree",  # the trees of a random forest
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",  # boosted trees
)


class UntrustedTypesError(ValueError):
    """A model holds types that skops would not load and the course does not trust.

    The message names the types and what to do about them (see :func:`skops_trusted_types`).
    """


class TrackingServerError(RuntimeError):
    """The course tracking server could not be started, reached or stopped.

    The message says what went wrong and what to do about it.
    """


@dataclass
class ServerStatus:
    """What :func:`status` and :func:`start` know about the course server."""

    running: bool
    url: str | None
    pid: int | None
    port: int | None
    state_dir: Path
    log_file: Path
    message: str
    started: bool = field(default=False)

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- helpers


def _state(state_dir: str | os.PathLike[str] | None) -> Path:
    if state_dir is None:
        return _default_state_dir()
    path = Path(state_dir).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _is_course_server(pid: int, state: Path) -> bool:
    """True when ``pid`` is an MLflow server serving this state folder (not a reused PID)."""
    return processes.runs_with_arguments(pid, "mlflow", "server", str(state / "artifacts"))


def _read_record(state: Path) -> dict[str, Any] | None:
    try:
        return processes.read_record(state / SERVER_FILE, "pid", "port", "url")
    except ValueError:
        return {"corrupt": True}


def _write_record(state: Path, record: dict[str, Any]) -> None:
    processes.write_record(state / SERVER_FILE, record)
    # Remembered after a stop too, so that a restart can come back on the same port.
    (state / LAST_PORT_FILE).write_text(str(record["port"]))


def _last_port(state: Path) -> int | None:
    try:
        return int((state / LAST_PORT_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def _remove_record(state: Path) -> None:
    (state / SERVER_FILE).unlink(missing_ok=True)


def server_env() -> dict[str, str]:
    """The environment the course's MLflow server runs in: this one, made quiet
    (:data:`QUIET_ENV`), lean (no job runner), never pointed at another tracking server,
    with this interpreter's ``bin`` folder first on ``PATH``. The class server starts from it."""
    env = dict(os.environ)
    env.update(QUIET_ENV)
    # Lean server: one worker and no job runner (about 11 s and 0.5 GiB instead of
    # about 25 s and 1.9 GiB on two cores).
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    # The server itself must not be pointed at another tracking server.
    env.pop("MLFLOW_TRACKING_URI", None)
    # Make sure the interpreter's own bin folder is on PATH (uvicorn, gunicorn live there).
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def server_command(state: Path, port: int) -> list[str]:
    """The command line of the course's MLflow server for state folder ``state`` on ``port``:
    runs in ``state/mlflow.db``, artifacts in ``state/artifacts``, one worker, 127.0.0.1."""
    db = (state / "mlflow.db").as_posix()
    artifacts = state / "artifacts"
    artifacts.mkdir(exist_ok=True)
    return [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{db}",
        "--artifacts-destination",
        str(artifacts),
        "--workers",
        "1",
    ]


def _lock(state: Path):  # noqa: ANN202 - a filelock.FileLock
    return processes.lock(state / LOCK_FILE, timeout=START_TIMEOUT + 60)


def _status_unlocked(state: Path) -> ServerStatus:
    log_file = state / LOG_FILE
    record = _read_record(state)
    if record is None:
        return ServerStatus(
            False, None, None, None, state, log_file, f"No course server is running ({state})."
        )
    if record.get("corrupt"):
        return ServerStatus(
            False,
            None,
            None,
            None,
            state,
            log_file,
            f"The server record {state / SERVER_FILE} is unreadable; it will be replaced.",
        )
    pid, port, url = int(record["pid"]), int(record["port"]), str(record["url"])
    if not processes.process_alive(pid) or not _is_course_server(pid, state):
        return ServerStatus(
            False,
            None,
            None,
            port,
            state,
            log_file,
            f"Stale record: the course server (pid {pid}, port {port}) is no longer running. "
            "It will be restarted by connect() or `python -m utils server start`.",
        )
    if not processes.healthy(url):
        return ServerStatus(
            False,
            url,
            pid,
            port,
            state,
            log_file,
            f"The course server process (pid {pid}) exists but {url}/health does not answer "
            f"(still starting, or stuck). Its log: {log_file}",
        )
    return ServerStatus(
        True, url, pid, port, state, log_file, f"Course server running at {url} (pid {pid})."
    )


# --------------------------------------------------------------------------- server


def status(state_dir: str | os.PathLike[str] | None = None) -> ServerStatus:
    """Report whether the course server of ``state_dir`` runs and answers.

    Introduced in notebook 00. ``state_dir`` defaults to the course state folder.
    """
    return _status_unlocked(_state(state_dir))


def start(
    port: int | None = None,
    state_dir: str | os.PathLike[str] | None = None,
    timeout: float = START_TIMEOUT,
) -> ServerStatus:
    """Start the course server, or reuse the one already running; return its status.

    Introduced in notebook 00 (through :func:`connect`). The port is, in order: ``port``;
    the environment variable ``MLOPS_COURSE_PORT``; the port recorded by the previous server
    if it is free; :data:`DEFAULT_PORT` if free; else any free port. An explicitly requested
    port that another program holds is an error, not a silent change.

    Raises:
        TrackingServerError: mlflow is missing, the requested port is taken, or the server
            exited or did not answer during start (the message shows the end of its log).
    """
    if port is None and os.environ.get(PORT_ENV):
        raw = os.environ[PORT_ENV]
        try:
            port = int(raw)
        except ValueError:
            raise ValueError(
                f"{PORT_ENV}={raw!r} is not a port number; set it to e.g. 5050 or unset it."
            ) from None
    if port is not None:
        processes.check_port(port)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if importlib.util.find_spec("mlflow") is None:
        raise TrackingServerError(
            f"mlflow is not installed in this Python ({sys.executable}). Run `make lab` from "
            "the repository root (it installs everything into .venv), and pick the kernel "
            "'Python 3 (ipykernel)' of that environment."
        )
    state = _state(state_dir)
    with _lock(state):
        current = _status_unlocked(state)
        if current.running:
            if port is not None and port != current.port:
                raise TrackingServerError(
                    f"The course server already runs at {current.url}, not on port {port}. "
                    "Stop it first (`python -m utils server stop`) to move it."
                )
            current.message = f"Reusing the course server at {current.url} (pid {current.pid})."
            return current
        if current.pid is not None:
            # The process exists but does not answer: wait for it a little, then replace it.
            deadline = time.monotonic() + min(timeout, 30.0)
            while time.monotonic() < deadline and processes.process_alive(current.pid):
                if processes.healthy(current.url or ""):
                    return _status_unlocked(state)
                time.sleep(0.5)
            processes.terminate(current.pid)
        _remove_record(state)
        recorded = current.port if current.port is not None else _last_port(state)
        for attempt in range(3):
            chosen = _choose_port(port, recorded if attempt == 0 else None)
            try:
                return _spawn(state, chosen, timeout)
            except _PortTakenDuringStart:
                if port is not None:
                    raise TrackingServerError(
                        f"Port {port} on 127.0.0.1 was taken by another program while the "
                        "server started. Choose another port, or unset the explicit port."
                    ) from None
        raise TrackingServerError(
            "Three ports in a row were taken by other programs while the server started. "
            "Try again, or pin a free port with `python -m utils server start --port N`."
        )


def _choose_port(requested: int | None, recorded: int | None) -> int:
    if requested is not None:
        if not processes.port_is_free(requested):
            raise TrackingServerError(
                f"Port {requested} on 127.0.0.1 is already in use by another program"
                f"{processes.port_owner(requested)}. Stop that program, or choose another "
                f"port (e.g. `python -m utils server start --port {requested + 1}`, or unset "
                f"{PORT_ENV} to let the course pick a free one)."
            )
        return requested
    for candidate in (recorded, DEFAULT_PORT):
        if candidate is not None and processes.port_is_free(candidate):
            return candidate
    return processes.free_port()


class _PortTakenDuringStart(Exception):
    """Another program bound the port between our check and the server's bind."""


def _spawn(state: Path, port: int, timeout: float) -> ServerStatus:
    log_file = state / LOG_FILE
    url = f"http://127.0.0.1:{port}"
    command = server_command(state, port)
    proc, log_start = processes.spawn(
        command,
        log_file,
        cwd=state,
        env=server_env(),
        header=f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {url}",
    )
    _write_record(
        state,
        {
            "pid": proc.pid,
            "port": port,
            "url": url,
            "started_at": time.time(),
            "python": sys.executable,
            "command": command,
        },
    )
    ended = processes.wait_ready(
        proc,
        lambda: processes.healthy(url, timeout=1.0) and processes.serves_port(proc.pid, port),
        timeout,
    )
    if ended == "ready":
        processes.reap_in_background(proc)
        return ServerStatus(
            True,
            url,
            proc.pid,
            port,
            state,
            log_file,
            f"Started the course server at {url} (pid {proc.pid}).",
            started=True,
        )
    _remove_record(state)
    log = processes.log_tail(log_file, log_start)
    if ended == "exited":
        if "address already in use" in log.lower():
            raise _PortTakenDuringStart(port)
        raise TrackingServerError(
            f"The MLflow server exited with code {proc.returncode} while starting on {url}. "
            f"The end of its log ({log_file}):\n{log}\n"
            "If the port was taken meanwhile, just run it again; otherwise see the FAQ in "
            "README.md."
        )
    processes.terminate(proc)
    raise TrackingServerError(
        f"The MLflow server did not answer {url}/health within {timeout:.0f} s and was "
        f"stopped. The end of its log ({log_file}):\n{processes.log_tail(log_file, log_start)}"
    )


def stop(state_dir: str | os.PathLike[str] | None = None) -> bool:
    """Stop the course server of ``state_dir``; return True if one was running.

    Introduced in notebook 00. Runs and artifacts stay in the state folder: the next start
    finds them again. A stale record (a server that died) is cleaned up.
    """
    state = _state(state_dir)
    with _lock(state):
        record = _read_record(state)
        if record is None:
            return False
        stopped = False
        if not record.get("corrupt"):
            pid = int(record["pid"])
            if processes.process_alive(pid) and _is_course_server(pid, state):
                processes.terminate(pid)
                stopped = True
        _remove_record(state)
        return stopped


def count_runs(state_dir: str | os.PathLike[str]) -> int:
    """How many runs the course server's database in ``state_dir`` holds (0 without one).

    Read straight from the SQLite file, read-only, so it works with the server stopped.
    """
    import sqlite3

    database = Path(state_dir) / "mlflow.db"
    if not database.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
    except sqlite3.Error:
        return -1  # unreadable: count it as "has runs", never as empty


def clean_state(
    state_dir: str | os.PathLike[str],
    confirm: Callable[[str], bool] | None = None,
) -> str:
    """What ``make clean`` does with the state folder; returns what happened, in one line.

    The server of ``state_dir`` is stopped first (never another folder's). A folder without
    runs is deleted. One with runs is deleted only if ``confirm`` (a question to the user,
    e.g. in a terminal) says yes; without a way to ask (``confirm`` is None) it is moved aside
    to ``<name>-old-<date>-<time>`` next to it, and the line says where. A folder that holds a
    class server's files (PostgreSQL, passwords) is never touched. The student's exercise
    progress (``progress.json``, :mod:`utils.progress`) is put back in a fresh folder.

    Raises:
        ValueError: ``state_dir`` holds a class folder.
    """
    import shutil

    path = Path(state_dir).expanduser().resolve()
    if not path.exists():
        return f"{path} does not exist: nothing to clean."
    for marker in ("class.json", "secrets.json", "postgres"):
        found = [p for p in (path.glob(marker), path.glob(f"*/{marker}")) for p in p]
        if found:
            raise ValueError(
                f"{path} holds a class server's files ({found[0]}): make clean leaves it alone. "
                "Move the class folder out of the course repository (see docs/classroom.md)."
            )
    if stop(path):
        print(f"Stopped the course server of {path}.", flush=True)
    runs = count_runs(path)
    artifacts = path / "artifacts"
    has_work = runs != 0 or (artifacts.is_dir() and any(artifacts.iterdir()))
    what = f"{runs} run(s)" if runs >= 0 else "an unreadable database"
    # The student's exercise progress (utils.progress) is not a run: it stays.
    progress_file = path / "progress.json"
    progress = progress_file.read_bytes() if progress_file.is_file() else None
    kept = " Kept your exercise progress (progress.json)." if progress is not None else ""
    if has_work:
        if confirm is None:
            aside = path.with_name(f"{path.name}-old-{time.strftime('%Y%m%d-%H%M%S')}")
            path.rename(aside)
            _restore(progress_file, progress)
            return f"{path} held {what}; moved it to {aside} (delete that folder yourself).{kept}"
        if not confirm(f"{path} holds {what} with their artifacts. Delete them for good?"):
            return f"Kept {path} and its {what}."
    shutil.rmtree(path)
    _restore(progress_file, progress)
    return f"Deleted {path}" + (f" and its {what}." if has_work else ".") + kept


def _restore(path: Path, content: bytes | None) -> None:
    if content is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


# --------------------------------------------------------------------------- client


def _configure_client_logging() -> None:
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    no_proxy = os.environ.get("NO_PROXY", os.environ.get("no_proxy", ""))
    hosts = [h for h in no_proxy.split(",") if h]
    for host in ("127.0.0.1", "localhost"):
        if host not in hosts:
            hosts.append(host)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = ",".join(hosts)
    # MLflow's INFO lines (e.g. about creating experiments) are noise in a notebook.
    logging.getLogger("mlflow").setLevel(logging.WARNING)


def connect(quiet: bool = False) -> str:
    """Point MLflow at the right tracking server and return its URI.

    Introduced in notebook 00; every notebook that logs calls it once. If
    ``MLFLOW_TRACKING_URI`` is set, that server is used (a class server, or the server of
    a test session). Otherwise the course server is started or reused (:func:`start`).
    Prints one line saying which server is used, unless ``quiet``.
    """
    try:
        import mlflow
    except ImportError:
        raise TrackingServerError(
            f"mlflow is not installed in this Python ({sys.executable}). Run `make lab` from "
            "the repository root, and use the kernel 'Python 3 (ipykernel)' it starts."
        ) from None
    _configure_client_logging()
    # A server that is gone (stopped, restarting) gives an error within seconds instead of
    # MLflow's default retries with back-off (minutes): for the course server and a class one.
    for name, value in CLIENT_RETRY_ENV.items():
        os.environ.setdefault(name, value)
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    # mlflow.set_tracking_uri() exports MLFLOW_TRACKING_URI; a URI that we set ourselves for
    # the course server is not a class server, so a dead course server gets restarted.
    if uri and uri != os.environ.get(_MANAGED_URI_ENV):
        if uri.startswith(("http://", "https://")):
            if not processes.healthy(uri.rstrip("/"), 5.0):
                raise TrackingServerError(
                    f"MLFLOW_TRACKING_URI is set to {uri}, but no MLflow server answers there. "
                    "Check the address (ask your instructor for a class server), or unset "
                    "MLFLOW_TRACKING_URI to use the course's own local server."
                )
            _check_account(uri.rstrip("/"))
        mlflow.set_tracking_uri(uri)
        if not quiet:
            print(f"MLflow tracking server: {uri} (from MLFLOW_TRACKING_URI)")
        return uri
    if not quiet and not status().running:
        print("Starting the course's MLflow server (about 10-30 s the first time) ...", flush=True)
    server = start()
    assert server.url is not None
    mlflow.set_tracking_uri(server.url)
    os.environ[_MANAGED_URI_ENV] = server.url
    if not quiet:
        how = "started" if server.started else "reused"
        print(f"MLflow tracking server: {server.url} ({how}; UI at the same address)")
    return server.url


def _check_account(url: str) -> None:
    """Raise a clear error when a class server refuses the student's account (401 or 403)."""
    user = os.environ.get("MLFLOW_TRACKING_USERNAME", "").strip()
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD", "")
    request = urllib.request.Request(f"{url}/api/2.0/mlflow/experiments/search?max_results=1")
    if user or password:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10):
            return
    except urllib.error.HTTPError as err:
        code = err.code
        reason = err.read().decode("utf-8", "replace").strip()[:300]
    except OSError:
        return  # /health answered; MLflow itself will report any other trouble
    how = (
        "Set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to the user name and "
        "password your instructor gave you, in the terminal where you start `make lab`, "
        "then start it again."
    )
    if code == 401 and not user:
        raise TrackingServerError(f"The tracking server at {url} needs an account. {how}")
    if code == 401:
        raise TrackingServerError(
            f"The tracking server at {url} refused user '{user}' (HTTP 401): the user name or "
            f"the password is wrong (mind typos and spaces). {how}"
        )
    if code == 403 and "host" in reason.lower():
        raise TrackingServerError(
            f"The tracking server at {url} refuses the address you use to reach it (HTTP 403: "
            f"{reason}). Ask your instructor to add that host name when starting the class "
            "server (`python -m utils.classroom start --allowed-hosts NAME`)."
        )
    if code == 403:
        raise TrackingServerError(
            f"The tracking server at {url} knows user '{user}' but does not let it read "
            f"experiments (HTTP 403: {reason or 'permission denied'}). Ask your instructor "
            "for access."
        )


def ui_url() -> str:
    """The address of the MLflow UI for the server :func:`connect` chose (notebook 00)."""
    import mlflow

    uri = mlflow.get_tracking_uri()
    if not uri.startswith(("http://", "https://")):
        raise TrackingServerError(
            f"MLflow is not using a tracking server but {uri!r}; call tracking.connect() first."
        )
    return uri.rstrip("/")


def _user_prefix() -> str:
    user = os.environ.get("MLFLOW_TRACKING_USERNAME", "").strip()
    if not user:
        return ""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", user).strip("-.")
    return f"{slug}-" if slug else ""


def _check_topic(topic: Any, what: str) -> str:
    if not isinstance(topic, str):
        raise TypeError(f"{what} must be a string such as '05-experiment-tracking', got {topic!r}")
    if not _NAME_RE.match(topic):
        raise ValueError(
            f"{what} {topic!r} is not a valid name: use letters, digits, '-', '_' and '.', "
            "starting with a letter or digit, e.g. '05-experiment-tracking'."
        )
    return topic


def experiment_name(topic: str) -> str:
    """Name of the experiment for ``topic`` (e.g. ``"05-experiment-tracking"``).

    Introduced in notebook 00. On a class server (``MLFLOW_TRACKING_USERNAME`` set), the name
    is prefixed by the student's user name, so students never write into each other's
    experiments: ``"alice-05-experiment-tracking"``.
    """
    return _user_prefix() + _check_topic(topic, "topic")


def model_name(topic: str) -> str:
    """Name of a registered model, prefixed like :func:`experiment_name` (notebook 06)."""
    return _user_prefix() + _check_topic(topic, "model name")


def use_experiment(topic: str) -> str:
    """Make ``experiment_name(topic)`` the active MLflow experiment; return its ID.

    Introduced in notebook 00. Creates the experiment if it does not exist yet.
    """
    import mlflow

    experiment = mlflow.set_experiment(experiment_name(topic))
    return str(experiment.experiment_id)


def model_requirements() -> list[str]:
    """The pip requirements of a logged course model: :data:`MODEL_PACKAGES`, pinned.

    Introduced in notebook 05. Each package is pinned to the version installed here
    (``"skops==0.16.0"``), so that an isolated environment built from the model's
    ``requirements.txt`` (``mlflow models serve --env-manager uv``) loads and predicts as this
    one does. MLflow adds ``mlflow==<its version>`` itself. Giving the list also skips MLflow's
    own inference of the requirements, which takes 10-15 s a call.
    """
    from importlib.metadata import version

    return [f"{package}=={version(package)}" for package in MODEL_PACKAGES]


def skops_trusted_types(model: Any, also: Iterable[str] = ()) -> list[str]:
    """The types of ``model`` that skops asks about, each one checked against the course's list.

    Introduced in notebook 05. Loading a pickle file runs whatever code the file names, so
    skops, the format MLflow saves scikit-learn models in, refuses every type it does not know
    to be safe unless the loader trusts it by name. The course trusts the types of
    :data:`SKOPS_TRUSTED_TYPES` and no other: pass the returned list to
    ``mlflow.sklearn.log_model(..., skops_trusted_types=...)``. It is empty for a model that
    needs no trust (a logistic regression). ``also`` names types the caller vouches for, by
    their full names (notebook 08 vouches for a class it defines, to show what happens next).

    Raises:
        UntrustedTypesError: skops asks about a type the course does not trust, e.g. a class
            defined in a notebook (module ``__main__``).
    """
    import skops.io

    asked = sorted(skops.io.get_untrusted_types(data=skops.io.dumps(model)))
    vouched = {also} if isinstance(also, str) else set(also)
    unknown = [name for name in asked if name not in SKOPS_TRUSTED_TYPES and name not in vouched]
    if unknown:
        raise UntrustedTypesError(
            f"skops, the format MLflow saves scikit-learn models in, loads the type(s) "
            f"{unknown} only if it is told to trust them, and the course trusts only "
            f"{list(SKOPS_TRUSTED_TYPES)} (tracking.SKOPS_TRUSTED_TYPES). Loading runs the code "
            "of each type the file names, so trust a type only if you know its code: put a "
            "class of your own in a module of an installed package (a class defined in a "
            "notebook lives in '__main__', which a server or another Python cannot import), "
            "then name it yourself with skops_trusted_types=[...]."
        )
    return asked


def log_sklearn_model(
    model: Any,
    name: str = "model",
    input_example: Any = None,
    **kwargs: Any,
) -> Any:
    """Log a fitted scikit-learn model to the active run; return MLflow's ``ModelInfo``.

    Introduced in notebook 01; notebook 05 writes the same ``mlflow.sklearn.log_model`` call by
    hand and reads what it stores. The model is saved with skops and logged with:

    * the pip requirements it needs to load elsewhere (:func:`model_requirements`: scikit-learn,
      skops, NumPy and pandas at the installed versions; MLflow adds itself), which also skips
      MLflow's slow inference of the requirements;
    * the types skops must trust, checked against the course's list
      (:func:`skops_trusted_types`), instead of trusting whatever the model holds;
    * the signature MLflow infers from ``input_example``, when one is given.

    Extra keyword arguments go to ``mlflow.sklearn.log_model``: ``pip_requirements`` or
    ``skops_trusted_types`` given there replace the course's (the caller then vouches for them).

    Raises:
        TypeError: ``model`` is not a fitted scikit-learn model.
        UntrustedTypesError: the model holds a type the course does not trust.
    """
    import mlflow.sklearn

    if not hasattr(model, "predict"):
        raise TypeError(
            f"log_sklearn_model needs a fitted scikit-learn estimator or Pipeline, got "
            f"{type(model).__name__}."
        )
    _check_topic(name, "model artifact name")
    if "extra_pip_requirements" not in kwargs:
        kwargs.setdefault("pip_requirements", model_requirements())
    if (
        kwargs.get("serialization_format", "skops") == "skops"
        and "skops_trusted_types" not in kwargs
    ):
        kwargs["skops_trusted_types"] = skops_trusted_types(model)
    with warnings.catch_warnings():
        # MLflow hints that integer columns cannot hold missing values; the course's
        # schemas are checked elsewhere (notebook 04), so the hint is noise here.
        warnings.filterwarnings("ignore", message=".*Inferred schema contains integer column")
        # MLflow 3.17 compares columns with a range, which pandas 3 deprecates: not ours.
        warnings.filterwarnings("ignore", message="Operation with range is deprecated")
        return mlflow.sklearn.log_model(model, name=name, input_example=input_example, **kwargs)


def is_course_server() -> bool:
    """True when MLflow points at the course's own local server, not a class server.

    Introduced in notebook 00.
    """
    import mlflow

    managed = os.environ.get(_MANAGED_URI_ENV)
    return bool(managed) and mlflow.get_tracking_uri().rstrip("/") == managed.rstrip("/")


def run_url(run_id: str) -> str:
    """The address of a run's page in the MLflow UI (introduced in notebook 00)."""
    import mlflow

    if not isinstance(run_id, str) or not run_id:
        raise TypeError(f"run_id must be a run's ID string, got {run_id!r}")
    run = mlflow.get_run(run_id)
    return f"{ui_url()}/#/experiments/{run.info.experiment_id}/runs/{run_id}"
