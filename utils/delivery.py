"""Continuous delivery of the churn model: a pipeline of small stages and a real model server.

Introduced in notebook 08 (continuous delivery).

The pipeline takes a candidate from data to a served model, one stage at a time, and stops at
the first stage that fails, with the reason:

1. **validate** the data (the data tests of notebook 07: schema, no leakage);
2. **train** the candidate and a baseline (:func:`utils.training.train`);
3. **evaluate** the candidate on the evaluation data (metrics and behavioural tests);
4. **compare** it with the champion: the quality gate of notebook 07, a non-inferiority test
   (:func:`utils.ml_testing.quality_gate`); the run is logged whatever the decision;
5. **register** it as a new version if the gate passed; no alias moves;
6. **serve** that version, ``models:/<name>/<version>``, with a real model server in a fresh
   process (:class:`ModelServer`): a model that only loads in the process that made it fails
   here, before anything points at it;
7. **smoke-test** the served candidate over REST (:func:`smoke_test`);
8. **promote** it: move ``champion`` to the version that has just answered
   (:func:`utils.registry.promote`).

When serving or the smoke test fails, the candidate's server is stopped and the version is
tagged, but ``champion`` never moved: there is nothing to roll back, and the server in use
keeps serving. Each stage is a function that returns a :class:`StageResult`;
:func:`run_pipeline` runs them in order and returns a :class:`PipelineRun`, a readable record
of every stage's outcome. Which server receives the traffic is the job of a router in front of
the servers (:class:`TrafficRouter`: canary, shadow, blue-green), not of the pipeline.

:class:`ModelServer` runs the public command
``mlflow models serve -m models:/<name>/<version> --env-manager local`` as a subprocess on a
free port of 127.0.0.1 (:func:`serve_command` gives the command to type in a terminal), waits
until ``/ping`` answers, and stops the whole process group again. Its log is kept in the
course state folder (``model-servers/``).
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from utils import processes, registry, tracking
from utils.datasets import CHURN_FEATURES, CHURN_TARGET, ChurnCosts
from utils.ml_testing import GateDecision, Outcome, data_tests, model_tests, quality_gate
from utils.paths import state_dir as _state_dir
from utils.processes import port_is_free, process_alive  # taught in notebook 08
from utils.progress import running_cell

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    import pandera.pandas as pa

    from utils.figures import CourseFigure
    from utils.training import TrainConfig, TrainResult

__all__ = [
    "ARMS",
    "HOST",
    "MODES",
    "REQUEST_COLUMNS",
    "STAGES",
    "START_TIMEOUT",
    "ModelServer",
    "ModelServerError",
    "PipelineRun",
    "ServingError",
    "StageResult",
    "TrafficRouter",
    "compare_with_champion",
    "deploy",
    "evaluate_candidate",
    "invocations",
    "payload",
    "pipeline_figure",
    "port_is_free",
    "process_alive",
    "promote_candidate",
    "register_candidate",
    "register_champion",
    "run_pipeline",
    "serve_command",
    "smoke_test",
    "traffic_summary",
    "train_candidate",
    "validate_data",
]

#: The only address the model server listens on: this computer, never the network.
HOST = processes.HOST
#: The columns a request to the churn service carries, in this order (the service's contract).
REQUEST_COLUMNS: tuple[str, ...] = tuple(CHURN_FEATURES)
#: The pipeline's stages, in order, as :class:`StageResult` names them.
STAGES: tuple[str, ...] = (
    "validate",
    "train",
    "evaluate",
    "compare",
    "register",
    "serve",
    "smoke test",
    "promote",
)
#: Seconds a model server may take to answer ``/ping`` before it is stopped.
START_TIMEOUT = 120.0
#: Seconds a stopping server gets after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0
#: The folder of the state folder that holds the model servers' logs.
LOG_FOLDER = "model-servers"

_REGISTRY_URI_RE = re.compile(
    r"^models:/(?P<name>[^/@:]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))$"
)


class ModelServerError(RuntimeError):
    """A model server did not start, or died (the message ends with its log)."""


class ServingError(RuntimeError):
    """The model server answered a request with an error status (notebook 08).

    Attributes:
        status: the HTTP status code, e.g. 400.
        message: the server's explanation.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


# --------------------------------------------------------------------------- REST


def payload(X: pd.DataFrame) -> dict[str, Any]:
    """The JSON body of a request to a served MLflow model: ``{"dataframe_split": ...}``.

    Introduced in notebook 08. ``dataframe_split`` holds the column names and the rows as
    lists, in order; categorical values are sent as text. (The scoring server also accepts
    ``dataframe_records``, ``instances`` and ``inputs``.)

    Raises:
        TypeError: ``X`` is not a DataFrame.
        ValueError: ``X`` has no rows, or a value that JSON cannot carry (e.g. a timestamp).
    """
    # deferred: utils.experiments loads scikit-learn: +892 ms to import delivery
    from utils.experiments import as_model_input

    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"payload expects a pandas DataFrame of features, got {type(X).__name__}.")
    if len(X) == 0:
        raise ValueError("X has no rows: a request needs at least one customer.")
    split = as_model_input(X).to_dict(orient="split")
    body = {"dataframe_split": {"columns": list(split["columns"]), "data": split["data"]}}
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"The rows hold a value JSON cannot carry ({err}). Send only the feature columns "
            f"{list(REQUEST_COLUMNS)}, without timestamps or missing values."
        ) from None
    return body


def invocations(url: str, body: Any, timeout: float = 10.0) -> tuple[int, Any]:
    """POST ``body`` as JSON to ``<url>/invocations``; return (HTTP status, decoded answer).

    Introduced in notebook 08. The answer is the decoded JSON (or the raw text if it is not
    JSON). An error status is returned, not raised: read it. Requests go straight to the
    server, never through a proxy (it listens on 127.0.0.1).

    Raises:
        ModelServerError: nothing answers at ``url``.
    """
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url.rstrip('/')}/invocations",
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    except OSError as err:
        raise ModelServerError(f"No model server answers at {url} ({err}).") from None
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def _error_message(answer: Any) -> str:
    if isinstance(answer, Mapping) and "message" in answer:
        return str(answer["message"]).strip()
    return str(answer).strip()[:500]


def _ping(url: str, timeout: float = 1.0) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/ping", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------- processes


def _last_error_line(path: Path) -> str:
    """The line of a log that names the root error, e.g. ``AttributeError: ...``.

    The last line that starts with an error's name wins, except the wrapper that
    ``mlflow models serve`` adds ("Exception: Command ... returned non zero return code"),
    which names no cause.
    """
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    errors = [line for line in lines if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", line)]
    causes = [line for line in errors if "returned non zero return code" not in line]
    if causes or errors:
        return (causes or errors)[-1]
    return next((line for line in reversed(lines) if line), "")


class _StatusLine:
    """One line of text that updates in place in a notebook; silent elsewhere."""

    def __init__(self, enabled: bool) -> None:
        self._handle = None
        if enabled:
            from IPython.display import Pretty, display

            self._pretty = Pretty
            self._handle = display(Pretty(""), display_id=True)

    def update(self, text: str) -> None:
        if self._handle is not None:
            self._handle.update(self._pretty(text))


_RUNNING: weakref.WeakSet[ModelServer] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:  # pragma: no cover - runs when Python exits
    for server in list(_RUNNING):
        server.stop()


def serve_command(
    model_uri: str, port: int, *, host: str = HOST, tracking_uri: str | None = None
) -> str:
    """The command that serves ``model_uri`` in a terminal, ready to copy (notebook 08).

    ``mlflow models serve`` is MLflow's public command for a model server. ``--env-manager
    local`` uses the active Python environment (the course's, offline) instead of building one
    from the model's logged requirements. With ``tracking_uri``, the command starts with
    ``MLFLOW_TRACKING_URI=...``, so that ``models:/`` URIs resolve against that server.

    Raises:
        ValueError: a port outside 1-65535.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port must be a whole number from 1 to 65535, got {port!r}.")
    words = ["mlflow", *_serve_arguments(model_uri, port, host)]
    prefix = f"MLFLOW_TRACKING_URI={shlex.quote(tracking_uri)} " if tracking_uri else ""
    return prefix + shlex.join(words)


def _serve_arguments(model_uri: str, port: int, host: str = HOST) -> list[str]:
    return [
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "-h",
        host,
        "-p",
        str(port),
        "-w",
        "1",
    ]


def _parse_model_uri(model_uri: object) -> tuple[str, str | None, str | None]:
    if not isinstance(model_uri, str):
        raise TypeError(
            f"model_uri must be a string such as 'models:/<name>@champion', got {model_uri!r}."
        )
    match = _REGISTRY_URI_RE.match(model_uri.strip())
    if match is None:
        raise ValueError(
            f"{model_uri!r} is not a registered model's URI. ModelServer serves registered "
            "models: give 'models:/<name>@<alias>' (e.g. @champion) or 'models:/<name>/<version>'."
        )
    return match["name"], match["alias"], match["version"]


class ModelServer:
    """A real MLflow model server for a registered model, on 127.0.0.1 (notebook 08).

    It runs the public command a person would type in a terminal (:func:`serve_command`)::

        mlflow models serve -m models:/<name>/<version> --env-manager local -h 127.0.0.1 -p PORT

    An alias (``models:/<name>@champion``) is resolved once, when the server starts: moving
    the alias later does not change what a running server serves.

    The server runs in its own process group, with its output in a log file in the state
    folder. :meth:`start` waits until ``/ping`` answers and raises :class:`ModelServerError`
    with the end of the log if the server dies or does not answer within ``timeout`` seconds.
    :meth:`stop` sends SIGTERM to the whole group, then SIGKILL to whatever is left. Use it as
    a context manager to be sure it stops::

        with ModelServer("models:/churn@champion") as server:
            server.predict(X)

    After a failed start, ``error`` holds the line of the log that names the error.

    Args:
        model_uri: ``models:/<name>@<alias>`` or ``models:/<name>/<version>``.
        port: the port; default a free one chosen at start.
        timeout: seconds to wait for ``/ping``.
        progress: show a status line that updates while the server starts (default: in a
            notebook).

    Raises:
        TypeError, ValueError: a model URI that is not a registered model's; a bad port.
    """

    def __init__(
        self,
        model_uri: str,
        *,
        port: int | None = None,
        timeout: float = START_TIMEOUT,
        progress: bool | None = None,
    ) -> None:
        self.name, self.alias, self._version = _parse_model_uri(model_uri)
        self.model_uri = model_uri.strip()
        if port is not None:
            if isinstance(port, bool) or not isinstance(port, int) or not 1024 <= port <= 65535:
                raise ValueError(f"port must be a whole number from 1024 to 65535, got {port!r}.")
        self._requested_port = port
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
        self.timeout = float(timeout)
        self.progress = running_cell() is not None if progress is None else bool(progress)
        self.port: int | None = None
        self.version: str | None = self._version
        self.log_file: Path | None = None
        self.command: list[str] = []
        # seconds from the start until /ping was seen to answer (later if wait() came late)
        self.startup_seconds: float | None = None
        self.error: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._status = _StatusLine(False)
        self._started = 0.0

    # ------------------------------------------------------------------ properties

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (only after :meth:`start`)."""
        if self.port is None:
            raise ModelServerError("The server has not been started: call start() first.")
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The PID of the server process (also its process group), or None before start."""
        return None if self._proc is None else self._proc.pid

    @property
    def running(self) -> bool:
        """True while the server process lives."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def command_line(self) -> str:
        """The command as a person would type it: ``mlflow models serve ...``."""
        words = list(self.command)
        if words[:3] == [sys.executable, "-m", "mlflow"]:
            words = ["mlflow", *words[3:]]
        return shlex.join(words)

    def __repr__(self) -> str:
        where = f" at {self.url}" if self.port is not None else ""
        state = f"running, pid {self.pid}" if self.running else "stopped"
        version = f" (version {self.version})" if self.version else ""
        return f"ModelServer({self.model_uri}{version}{where}, {state})"

    # ------------------------------------------------------------------ start / stop

    def _resolve_version(self) -> str:
        if self.alias is not None:
            version = registry.version_of(self.name, self.alias)  # ValueError: no such model
            if version is None:
                raise ValueError(
                    f"The registered model {self.name!r} has no alias {self.alias!r}; its "
                    f"aliases are {registry.aliases(self.name) or 'none'}. Promote a version "
                    "first (registry.promote)."
                )
            return version
        assert self._version is not None
        registry.lineage(self.name, self._version)  # ValueError: no such model or version
        return self._version

    def _environment(self) -> dict[str, str]:
        import mlflow

        env = dict(os.environ)
        env.update(tracking.QUIET_ENV)
        env["MLFLOW_TRACKING_URI"] = mlflow.get_tracking_uri()
        # `mlflow models serve` runs `uvicorn` by name: the interpreter's bin must be on PATH.
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self, *, wait: bool = True) -> ModelServer:
        """Start the server and wait until ``/ping`` answers; return ``self``.

        With ``wait=False``, return as soon as the process is started: the server comes up
        while the caller goes on, and :meth:`wait` waits for it (a model server takes seconds
        to import MLflow and load the model).

        Raises:
            ValueError: no such registered model, alias or version; the port is in use.
            ModelServerError: the server died while starting, or did not answer in time
                (the message ends with its log); it is stopped.
        """
        if self.running:
            raise ModelServerError(f"{self!r} is already running; stop() it first.")
        self.error = None
        self.version = self._resolve_version()
        port = self._requested_port
        if port is None:
            port = processes.free_port()
        if not processes.port_is_free(port):
            raise ValueError(
                f"Port {port} on {HOST} is in use{processes.port_owner(port)}. Stop the program "
                "that uses it, or leave port=None to pick a free port."
            )
        self.port = port
        folder = _state_dir() / LOG_FOLDER
        self.log_file = folder / f"model-server-{port}.log"
        env = self._environment()
        self.command = [sys.executable, "-m", "mlflow", *_serve_arguments(self.model_uri, port)]
        self._status = _StatusLine(self.progress)
        self._started = time.monotonic()
        self.startup_seconds = None
        # Its own process group, so that stop() ends all of it; and SIGTERM to the server if
        # this Python dies (e.g. a killed kernel).
        self._proc, _ = processes.spawn(
            self.command,
            self.log_file,
            cwd=folder,
            env=env,
            header=f"$ {self.command_line}",
            append=False,
            die_with_parent=True,
        )
        _RUNNING.add(self)
        self._status.update(f"starting the model server for {self.model_uri} ...")
        return self.wait() if wait else self

    def wait(self) -> ModelServer:
        """Wait until the started server answers ``/ping`` (at most ``timeout`` seconds from
        its start); return ``self``.

        Raises:
            ModelServerError: the server was not started, died while starting, or did not
                answer in time (the message ends with its log); it is stopped.
        """
        if self._proc is None or self.log_file is None:
            raise ModelServerError("The server has not been started: call start() first.")
        if self.startup_seconds is not None and self.running:
            return self
        status, started, what = self._status, self._started, f"{self.model_uri}"
        what += f" (version {self.version})"

        def tick(elapsed: float) -> None:
            status.update(f"starting the model server for {what} ... {elapsed:4.1f} s")

        ended = processes.wait_ready(
            self._proc, lambda: _ping(self.url), self.timeout, since=started, tick=tick
        )
        elapsed = time.monotonic() - started
        if ended == "ready":
            self.startup_seconds = elapsed
            status.update(
                f"model server for {what} answers at {self.url}, up within {elapsed:.1f} s "
                f"(pid {self.pid})"
            )
            return self
        code = self._proc.returncode
        self.stop()
        if ended == "exited":
            status.update(f"the model server for {what} exited after {elapsed:.1f} s")
            self.error = _last_error_line(self.log_file) or f"exit code {code}"
            raise ModelServerError(
                f"The model server for {what} exited with code {code} before it answered "
                f"on {self.url}. The end of its log ({self.log_file}):\n"
                f"{processes.log_tail(self.log_file, lines=12)}"
            )
        self.error = f"no answer on /ping within {self.timeout:g} s"
        status.update(f"the model server for {what} did not answer in {self.timeout:g} s")
        raise ModelServerError(
            f"The model server for {what} did not answer {self.url}/ping within "
            f"{self.timeout:g} s and was stopped. The end of its log "
            f"({self.log_file}):\n{processes.log_tail(self.log_file, lines=12)}"
        )

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop the server's whole process group: SIGTERM, then SIGKILL after ``timeout`` s.

        Returns True if something was running. The log file stays.
        """
        _RUNNING.discard(self)
        proc = self._proc
        if proc is None:
            return False
        return processes.terminate(proc, timeout=timeout)

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ requests

    def ping(self) -> bool:
        """True if the server answers ``/ping`` with 200."""
        return self.port is not None and _ping(self.url)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Send ``X`` to ``/invocations`` and return the predictions as an array.

        Raises:
            ServingError: the server answered with an error status (with its message).
            ModelServerError: the server does not answer.
        """
        status, answer = invocations(self.url, payload(X))
        if status != 200:
            raise ServingError(status, _error_message(answer))
        if not isinstance(answer, Mapping) or "predictions" not in answer:
            raise ServingError(status, f"unexpected answer: {str(answer)[:200]}")
        return np.asarray(answer["predictions"], dtype=float)


# --------------------------------------------------------------------------- traffic

#: The ways :class:`TrafficRouter` splits the requests between two model servers.
MODES: tuple[str, ...] = ("canary", "shadow", "blue-green")
#: The two arms of a traffic split, as the router's log names them.
ARMS: tuple[str, str] = ("champion", "candidate")
_LOG_COLUMNS = ("request", "arm", "answered", "status", "ms", "churn")


def _url_of(server: ModelServer | str) -> str:
    if isinstance(server, ModelServer):
        return server.url
    if isinstance(server, str) and server.startswith(("http://", "https://")):
        return server.rstrip("/")
    raise TypeError(f"Give a ModelServer or a URL such as 'http://127.0.0.1:5001', got {server!r}.")


def traffic_summary(log: pd.DataFrame, *, threshold: float | None = None) -> pd.DataFrame:
    """Compare the two arms of a traffic split on the requests they received (notebook 08).

    ``log`` has one row per request sent to one server, with the columns ``request`` (the
    request's number), ``arm`` (``"champion"`` or ``"candidate"``), ``answered`` (True if the
    client got this answer), ``status`` (the HTTP status, 0 if nothing answered), ``ms`` (the
    time to answer) and ``churn`` (the churn probabilities answered, a tuple; empty on an
    error), as :class:`TrafficRouter` keeps it. The result has one row per arm: requests,
    errors (a status other than 200), error rate, median and 95th-percentile latency in ms,
    and, on the requests both arms answered (shadow traffic), the share of customers for whom
    the candidate takes the same decision as the champion (churn probability at or above
    ``threshold``, default the break-even probability of :class:`utils.datasets.ChurnCosts`).

    Raises:
        ValueError: ``log`` lacks a column, or names an arm other than the two.
    """
    missing = [c for c in _LOG_COLUMNS if c not in log.columns]
    if missing:
        raise ValueError(f"The log lacks the column(s) {missing}; it needs {list(_LOG_COLUMNS)}.")
    unknown = set(log["arm"]) - set(ARMS)
    if unknown:
        raise ValueError(f"The log names the arm(s) {sorted(unknown)}; the arms are {ARMS}.")
    cut = ChurnCosts().break_even_probability() if threshold is None else float(threshold)
    rows = {}
    for arm in ARMS:
        part = log[log["arm"] == arm]
        errors = int((part["status"] != 200).sum())
        ok = part.loc[part["status"] == 200, "ms"]
        rows[arm] = {
            "requests": len(part),
            "errors": errors,
            "error_rate": errors / len(part) if len(part) else math.nan,
            "median_ms": float(ok.median()) if len(ok) else math.nan,
            "p95_ms": float(ok.quantile(0.95)) if len(ok) else math.nan,
            "same_decision": math.nan,
        }
    answered = log[log["status"] == 200]
    churn = {
        arm: dict(zip(part["request"], part["churn"], strict=True))
        for arm, part in answered.groupby("arm")
    }
    common = sorted(set(churn.get("champion", {})) & set(churn.get("candidate", {})))
    if common:
        champion = np.concatenate([np.asarray(churn["champion"][r], dtype=float) for r in common])
        candidate = np.concatenate([np.asarray(churn["candidate"][r], dtype=float) for r in common])
        same = (champion >= cut) == (candidate >= cut)
        rows["candidate"]["same_decision"] = float(same.mean())
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "arm"
    return table


class TrafficRouter:
    """A few lines of routing in front of two model servers (notebook 08).

    ``mode="canary"`` sends a ``share`` of the requests (drawn at random, seeded) to the
    candidate and the rest to the champion; the client gets the answer of the server that
    received its request. ``mode="shadow"`` sends every request to both; the client gets only
    the champion's answer, the candidate's is logged (here the two calls run one after the
    other; a production router sends the shadow copy without making the client wait).
    ``mode="blue-green"`` sends every request to the active arm (the champion, "blue", at
    first); :meth:`switch` moves all traffic to the other arm at once, and back.

    Every request to a server is logged (:attr:`log`); :meth:`summary` compares the arms with
    :func:`traffic_summary`.

    Args:
        champion, candidate: the two servers, as :class:`ModelServer` or base URLs.
        mode: one of :data:`MODES`.
        share: the candidate's share of the requests in canary mode, from 0 to 1.
        seed: the seed of the canary's random draws.
        timeout: seconds to wait for one answer.

    Raises:
        TypeError, ValueError: a server that is neither, an unknown mode, a share outside 0-1.
    """

    def __init__(
        self,
        champion: ModelServer | str,
        candidate: ModelServer | str,
        *,
        mode: str = "canary",
        share: float = 0.1,
        seed: int = 0,
        timeout: float = 10.0,
    ) -> None:
        self._urls = {"champion": _url_of(champion), "candidate": _url_of(candidate)}
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise ValueError(f"share must be a number from 0 to 1, got {share!r}.")
        self.mode = mode
        self.share = float(share)
        self.timeout = float(timeout)
        self.active = "champion"  # blue-green: the arm that receives the traffic
        self._rng = np.random.default_rng(seed)
        self._rows: list[dict[str, Any]] = []
        self._requests = 0

    def __repr__(self) -> str:
        extra = f", share {self.share:g}" if self.mode == "canary" else ""
        extra += f", active {self.active}" if self.mode == "blue-green" else ""
        return f"TrafficRouter({self.mode}{extra}, {self._requests} requests)"

    def _arms(self) -> tuple[list[str], str]:
        """The arms that receive the next request, and the one whose answer the client gets."""
        if self.mode == "shadow":
            return ["champion", "candidate"], "champion"
        if self.mode == "blue-green":
            return [self.active], self.active
        arm = "candidate" if self._rng.random() < self.share else "champion"
        return [arm], arm

    def send(self, X: pd.DataFrame) -> np.ndarray:
        """Route one request for the customers ``X``; return the answer the client gets.

        Raises:
            ServingError: the server whose answer the client gets answered with an error
                (logged first).
            ModelServerError: that server does not answer at all (logged first).
        """
        body = payload(X)
        targets, answering = self._arms()
        number = self._requests
        self._requests += 1
        result: np.ndarray | Exception | None = None
        for arm in targets:
            started = time.perf_counter()
            try:
                status, answer = invocations(self._urls[arm], body, timeout=self.timeout)
            except ModelServerError as err:
                status, answer = 0, err
            ms = (time.perf_counter() - started) * 1000
            churn: tuple[float, ...] = ()
            if status == 200 and isinstance(answer, Mapping) and "predictions" in answer:
                churn = tuple(np.asarray(answer["predictions"], dtype=float)[:, 1].tolist())
            elif status == 200:
                status = 502  # an answer the client cannot use
            self._rows.append(
                {
                    "request": number,
                    "arm": arm,
                    "answered": arm == answering,
                    "status": status,
                    "ms": ms,
                    "churn": churn,
                }
            )
            if arm == answering:
                if isinstance(answer, ModelServerError):
                    result = answer
                elif status != 200:
                    result = ServingError(status, _error_message(answer))
                else:
                    result = np.asarray(answer["predictions"], dtype=float)
        if isinstance(result, Exception):
            raise result
        assert result is not None
        return result

    def switch(self) -> str:
        """Blue-green: move all traffic to the other arm; return the arm now active.

        Raises:
            ValueError: the router is not in blue-green mode.
        """
        if self.mode != "blue-green":
            raise ValueError(f"switch() is for mode='blue-green'; this router is {self.mode!r}.")
        self.active = "candidate" if self.active == "champion" else "champion"
        return self.active

    @property
    def log(self) -> pd.DataFrame:
        """One row per request sent to a server (see :func:`traffic_summary`)."""
        return pd.DataFrame(self._rows, columns=list(_LOG_COLUMNS))

    def summary(self, *, threshold: float | None = None) -> pd.DataFrame:
        """The arms compared on the requests so far (:func:`traffic_summary`)."""
        return traffic_summary(self.log, threshold=threshold)


# --------------------------------------------------------------------------- stage records


@dataclass(frozen=True)
class StageResult:
    """What one stage of the pipeline found (notebook 08).

    Attributes:
        stage: the stage's name, one of :data:`STAGES`.
        passed: True if the stage succeeded (the pipeline may go on).
        detail: what happened, in one sentence with numbers.
        seconds: how long the stage took.
        checks: the individual checks behind the verdict (e.g. the gate's), if any.
        value: what the stage produced (a TrainResult, a GateDecision, a version, a server).
    """

    stage: str
    passed: bool
    detail: str
    seconds: float
    checks: tuple[Outcome, ...] = ()
    value: Any = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        mark = "\N{CHECK MARK}" if self.passed else "\N{BALLOT X}"
        return f"{mark} {self.stage:<10} {self.detail} ({self.seconds:.1f} s)"


Outcome_ = Literal["promoted", "rejected", "failed", "stopped"]


@dataclass
class PipelineRun:
    """The record of one run of :func:`run_pipeline` (notebook 08).

    Attributes:
        candidate: the candidate's name (the run name).
        model_name: the registered model.
        stages: the stages that ran, in order; the pipeline stops after the first that fails.
        outcome: ``"promoted"`` (the candidate answered and is the champion), ``"rejected"``
            (the gate said no), ``"failed"`` (registered, but its server did not come up or
            failed the smoke test: the champion never moved) or ``"stopped"`` (a stage before
            the gate failed).
        champion_before, champion_after: the champion's version before and after the run.
        version: the version registered for the candidate (None unless it passed the gate).
        run_id: the MLflow run that records the candidate and the gate's decision.
        server: the model server of the champion after the run: the candidate's new server
            if it was promoted, else the server that was in use (None if none).
    """

    candidate: str
    model_name: str
    stages: list[StageResult]
    outcome: Outcome_
    champion_before: str | None
    champion_after: str | None
    version: str | None = None
    run_id: str | None = None
    server: ModelServer | None = field(default=None, repr=False)

    def stage(self, name: str) -> StageResult | None:
        """The result of the stage ``name``, or None if it did not run."""
        return next((s for s in self.stages if s.stage == name), None)

    @property
    def gate(self) -> GateDecision | None:
        """The quality gate's decision, if the pipeline got that far."""
        compare = self.stage("compare")
        return None if compare is None else compare.value

    @property
    def failed_stage(self) -> str | None:
        """The first stage that failed, or None."""
        return next((s.stage for s in self.stages if not s.passed), None)

    @property
    def reason(self) -> str:
        """Why the run ended as it did, in one sentence."""
        failed = next((s for s in self.stages if not s.passed), None)
        if failed is None:
            return f"every stage passed: version {self.version} is the champion and serves"
        return f"stopped at {failed.stage!r}: {failed.detail}"

    def table(self) -> pd.DataFrame:
        """One row per stage of :data:`STAGES`: status (passed, failed, not run), detail, s."""
        rows = []
        ran = {s.stage: s for s in self.stages}
        for name in STAGES:
            s = ran.get(name)
            if s is None:
                rows.append({"stage": name, "status": "not run", "detail": "", "seconds": math.nan})
            else:
                status = "passed" if s.passed else "failed"
                rows.append(
                    {"stage": name, "status": status, "detail": s.detail, "seconds": s.seconds}
                )
        return pd.DataFrame(rows).set_index("stage").round({"seconds": 2})

    def __str__(self) -> str:
        before = self.champion_before or "none"
        after = self.champion_after or "none"
        head = f"{self.candidate}: {self.outcome.upper()} (champion: version {before} -> {after})"
        return "\n".join([head, *("  " + str(s) for s in self.stages), "  => " + self.reason])


def _timed(
    stage: str, body: Callable[[], tuple[bool, str, Any, tuple[Outcome, ...]]]
) -> StageResult:
    started = time.perf_counter()
    passed, detail, value, checks = body()
    return StageResult(stage, passed, detail, time.perf_counter() - started, checks, value)


# --------------------------------------------------------------------------- stages


def _features(df: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUEST_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"The data lack the feature column(s) {missing}.")
    return df[list(REQUEST_COLUMNS)]


def validate_data(
    train_data: pd.DataFrame, eval_data: pd.DataFrame, schema: pa.DataFrameSchema
) -> StageResult:
    """Stage 1: the data tests of notebook 07 on the training and evaluation data.

    Introduced in notebook 08. Fails when any of :func:`utils.ml_testing.data_tests` fails
    (schema, a customer in both, training rows not older than evaluation rows).
    """

    def body() -> tuple[bool, str, Any, tuple[Outcome, ...]]:
        outcomes = tuple(data_tests(train_data, eval_data, schema))
        failed = [o for o in outcomes if not o.passed]
        if failed:
            detail = "; ".join(f"{o.name}: {o.detail}" for o in failed)
            return (
                False,
                f"{len(failed)} of {len(outcomes)} data tests fail: {detail}",
                None,
                outcomes,
            )
        return (
            True,
            f"all {len(outcomes)} data tests pass ({len(train_data):,} training rows, "
            f"{len(eval_data):,} evaluation rows)",
            None,
            outcomes,
        )

    return _timed("validate", body)


def train_candidate(
    candidate: TrainConfig | Callable[[pd.DataFrame], TrainResult], train_data: pd.DataFrame
) -> StageResult:
    """Stage 2: train the candidate on ``train_data``; the value is the ``TrainResult``.

    Introduced in notebook 08. ``candidate`` is a :class:`utils.training.TrainConfig`, or a
    function that takes the training data and returns a ``TrainResult`` (for a candidate built
    in another way). The stage fails, with the error, if training raises.

    Raises:
        TypeError: ``candidate`` is neither, or the function returns no TrainResult.
    """
    # deferred: utils.training loads scikit-learn: +1.0 s to import delivery
    from utils.training import TrainConfig, TrainResult, train

    if not isinstance(candidate, TrainConfig) and not callable(candidate):
        raise TypeError(
            "candidate must be a training.TrainConfig or a function data -> TrainResult, got "
            f"{type(candidate).__name__}."
        )

    def body() -> tuple[bool, str, Any, tuple[Outcome, ...]]:
        try:
            if isinstance(candidate, TrainConfig):
                result = train(candidate, train_data)
            else:
                result = candidate(train_data)
        except (ValueError, TypeError, KeyError) as err:
            return False, f"training failed: {type(err).__name__}: {err}", None, ()
        if not isinstance(result, TrainResult):
            raise TypeError(
                f"The candidate function must return a training.TrainResult, got "
                f"{type(result).__name__}."
            )
        model = result.config.model.replace("_", " ")
        return (
            True,
            f"{model} trained on {result.n_train:,} rows in {result.fit_seconds:.2f} s",
            result,
            (),
        )

    return _timed("train", body)


def evaluate_candidate(model: Any, eval_data: pd.DataFrame) -> StageResult:
    """Stage 3: score the model on the evaluation data and run the behavioural tests.

    Introduced in notebook 08. The value is the dict of metrics
    (:func:`utils.training.evaluate`); the checks are :func:`utils.ml_testing.model_tests`.
    The stage itself passes when the model could be scored; the gate (stage 4) judges the
    numbers and the tests.
    """
    # deferred: utils.training loads scikit-learn: +1.0 s to import delivery
    from utils.training import evaluate

    def body() -> tuple[bool, str, Any, tuple[Outcome, ...]]:
        X, y = _features(eval_data), eval_data[CHURN_TARGET]
        try:
            metrics = evaluate(model, X, y, ChurnCosts())
            tests = tuple(model_tests(model, X))
        except (ValueError, TypeError, KeyError) as err:
            return False, f"the model cannot score the data: {type(err).__name__}: {err}", None, ()
        failing = sum(not t.passed for t in tests)
        return (
            True,
            f"ROC AUC {metrics['roc_auc']:.3f}, {metrics['cost_per_customer_eur']:.2f} EUR per "
            f"customer on {len(X):,} customers; {len(tests) - failing} of {len(tests)} "
            "behavioural tests pass",
            metrics,
            tests,
        )

    return _timed("evaluate", body)


def _champion_version(model_name: str) -> str | None:
    try:
        return registry.version_of(model_name)
    except ValueError:  # no registered model of that name yet
        return None


def compare_with_champion(
    model: Any,
    eval_data: pd.DataFrame,
    *,
    baseline: Any,
    model_name: str,
    tests: Sequence[Outcome] | None = None,
    name: str = "candidate",
) -> StageResult:
    """Stage 4: the quality gate of notebook 07 against the baseline and the champion.

    Introduced in notebook 08. The champion is loaded from ``models:/<model_name>@champion``
    (none on a model's first run). The value is the :class:`utils.ml_testing.GateDecision`.
    """

    def body() -> tuple[bool, str, Any, tuple[Outcome, ...]]:
        version = _champion_version(model_name)
        champion = None if version is None else registry.load_model(model_name, version)
        X, y = _features(eval_data), eval_data[CHURN_TARGET]
        decision = quality_gate(
            model, X, y, baseline=baseline, champion=champion, name=name, tests=tests
        )
        against = "no champion yet" if version is None else f"champion version {version}"
        if decision.passed:
            detail = f"passes all {len(decision.checks)} checks of the gate ({against})"
        else:
            names = ", ".join(c.name for c in decision.failed)
            detail = f"rejected by the gate ({against}): fails {names}"
        return decision.passed, detail, decision, decision.checks

    return _timed("compare", body)


def _log_candidate(
    result: TrainResult,
    decision: GateDecision,
    *,
    run_name: str,
    code: str | None,
    input_example: pd.DataFrame,
    trusted_types: Sequence[str] = (),
) -> tuple[str, str | None]:
    """Log the candidate's run with its gate metrics; the model only if it passed.

    The model is logged with the types skops must trust: the course's list
    (:func:`utils.tracking.skops_trusted_types`) plus ``trusted_types``, which the caller
    vouches for.
    """
    import mlflow

    # deferred: utils.experiments loads scikit-learn: +892 ms to import delivery
    from utils import experiments

    logged = experiments.log_training_run(
        result,
        run_name=run_name,
        tags={
            **registry.lineage_tags(result, code=code),
            "gate": "passed" if decision.passed else "rejected",
            "pipeline": "utils.delivery.run_pipeline",
        },
        confusion_matrix=False,
    )
    candidate = decision.metrics.loc["candidate"]
    model_uri = None
    with mlflow.start_run(run_id=logged.run_id):
        mlflow.log_metrics(
            {
                "gate_passed": float(decision.passed),
                "gate_checks_failed": float(len(decision.failed)),
                "gate_roc_auc": float(candidate["roc_auc"]),
                "gate_cost_per_customer_eur": float(candidate["cost_per_customer_eur"]),
            }
        )
        mlflow.log_text(str(decision), "gate_decision.txt")
        if decision.passed:
            info = tracking.log_sklearn_model(
                result.model,
                input_example=experiments.as_model_input(input_example),
                pyfunc_predict_fn="predict_proba",  # the service answers churn probabilities
                skops_trusted_types=tracking.skops_trusted_types(result.model, also=trusted_types),
            )
            model_uri = str(info.model_uri)
    return logged.run_id, model_uri


def register_champion(
    result: TrainResult,
    model_name: str,
    *,
    run_name: str,
    input_example: pd.DataFrame,
    reason: str,
    code: str | None = None,
) -> str:
    """Log a trained model, register it and make it the champion; return its version.

    Introduced in notebook 08, to start from a known champion. The run gets the lineage tags
    and the model is logged as the pipeline logs it (the served model answers churn
    probabilities). The move is recorded in the registry's history.
    """
    import mlflow

    # deferred: utils.experiments loads scikit-learn: +892 ms to import delivery
    from utils import experiments

    logged = experiments.log_training_run(
        result,
        run_name=run_name,
        tags=registry.lineage_tags(result, code=code),
        confusion_matrix=False,
    )
    with mlflow.start_run(run_id=logged.run_id):
        info = tracking.log_sklearn_model(
            result.model,
            input_example=experiments.as_model_input(_features(input_example)),
            pyfunc_predict_fn="predict_proba",
        )
    version = registry.register(
        info.model_uri, model_name, description=f"{run_name} (notebook 08)"
    ).version
    registry.promote(model_name, version, reason=reason)
    return str(version)


def register_candidate(model_uri: str, model_name: str, *, description: str) -> StageResult:
    """Stage 5: register the logged model as a new version of ``model_name``; no alias moves.

    Introduced in notebook 08. The value is the new version number (a string); the version is
    tagged ``gate=passed``. The champion still serves: the candidate is served and smoke-tested
    by its version number before anything points at it.
    """

    def body() -> tuple[bool, str, Any, tuple[Outcome, ...]]:
        version = registry.register(
            model_uri, model_name, description=description, tags={"gate": "passed"}
        ).version
        champion = _champion_version(model_name)
        still = f"champion stays version {champion}" if champion else "no champion yet"
        return True, f"registered version {version}; {still}", version, ()

    return _timed("register", body)


def deploy(
    model_name: str,
    version: str | int,
    *,
    timeout: float = START_TIMEOUT,
    progress: bool | None = None,
) -> StageResult:
    """Stage 6: start a model server for ``models:/<model_name>/<version>``, a fresh process.

    Introduced in notebook 08. The candidate is served by its version number, before any alias
    points at it: a model that loads only in the Python process that made it (a class defined
    in the notebook, ``__main__``) fails here, and nothing has moved. The value is the
    :class:`ModelServer`: running if the stage passed; stopped if it failed (the server died
    while starting or did not answer in time), with the error line of its log in
    ``server.error``.
    """

    def body() -> tuple[bool, str, Any, tuple[Outcome, ...]]:
        server = ModelServer(
            registry.model_uri(model_name, version), timeout=timeout, progress=progress
        )
        try:
            server.start()
        except ModelServerError:
            return (
                False,
                f"the model server for version {server.version} did not come up: {server.error} "
                f"(log: {server.log_file})",
                server,
                (),
            )
        return (
            True,
            f"version {server.version} serves at {server.url} (pid {server.pid}, up after "
            f"{server.startup_seconds:.1f} s)",
            server,
            (),
        )

    return _timed("serve", body)


def smoke_test(
    server: ModelServer | None,
    X: pd.DataFrame,
    expected: np.ndarray | None = None,
    *,
    max_seconds: float = 2.0,
) -> StageResult:
    """Stage 7: a few requests to the freshly served model, as the app would send them.

    Introduced in notebook 08. Checks, in order: the server answers ``/ping``; it accepts a
    request for the rows ``X`` in the service's format (:data:`REQUEST_COLUMNS`, status
    200); it answers one pair of probabilities per row; the answers equal ``expected`` (the
    in-process predictions of the tested model, if given); it answers within
    ``max_seconds``. The stage fails at the first check that fails.
    """

    def body() -> tuple[bool, str, Any, tuple[Outcome, ...]]:
        checks: list[Outcome] = []

        def fail(name: str, detail: str) -> tuple[bool, str, Any, tuple[Outcome, ...]]:
            checks.append(Outcome(name, "model", False, detail))
            return False, f"{name}: {detail}", None, tuple(checks)

        if server is None or not server.ping():
            where = "no server was started" if server is None else f"no answer at {server.url}"
            return fail("answers /ping", where)
        checks.append(Outcome("answers /ping", "model", True, f"{server.url}/ping says 200"))
        rows = X[list(REQUEST_COLUMNS)] if set(REQUEST_COLUMNS) <= set(X.columns) else X
        started = time.perf_counter()
        status, answer = invocations(server.url, payload(rows))
        seconds = time.perf_counter() - started
        if status != 200:
            return fail("accepts a request", f"HTTP {status}: {_error_message(answer)[:300]}")
        checks.append(
            Outcome("accepts a request", "model", True, f"HTTP 200 for {len(rows)} customers")
        )
        raw = answer.get("predictions", []) if isinstance(answer, Mapping) else []
        predictions = np.asarray(raw, dtype=float)
        shape_ok = predictions.shape == (len(rows), 2)
        if not shape_ok or not np.allclose(predictions.sum(axis=1), 1.0):
            return fail(
                "answers probabilities",
                f"expected {len(rows)} pairs of probabilities, got shape {predictions.shape}",
            )
        checks.append(
            Outcome("answers probabilities", "model", True, f"{len(rows)} pairs that sum to 1")
        )
        if expected is not None:
            expected_arr = np.asarray(expected, dtype=float)
            if expected_arr.shape != predictions.shape or not np.array_equal(
                predictions, expected_arr
            ):
                return fail(
                    "same answers as the tested model",
                    "the served probabilities differ from the model the gate tested",
                )
            checks.append(
                Outcome(
                    "same answers as the tested model",
                    "model",
                    True,
                    "identical probabilities, to the last bit",
                )
            )
        if seconds > max_seconds:
            return fail(
                "answers in time", f"{seconds:.2f} s for {len(rows)} rows (> {max_seconds} s)"
            )
        checks.append(Outcome("answers in time", "model", True, f"{seconds * 1000:.0f} ms"))
        return True, f"all {len(checks)} checks pass ({seconds * 1000:.0f} ms)", None, tuple(checks)

    return _timed("smoke test", body)


def promote_candidate(model_name: str, version: str | int, *, reason: str) -> StageResult:
    """Stage 8: move ``champion`` to ``version``, which has just answered the smoke test.

    Introduced in notebook 08, with :func:`utils.registry.promote` (notebook 06); the move is
    recorded in the history. The value is the recorded :class:`utils.registry.AliasMove`.
    """

    def body() -> tuple[bool, str, Any, tuple[Outcome, ...]]:
        move = registry.promote(model_name, version, reason=reason)
        was = f"version {move.previous}" if move.previous else "none"
        return True, f"champion {was} -> {move.version}", move, ()

    return _timed("promote", body)


def _tag_version(model_name: str, version: str, key: str, value: str) -> None:
    from mlflow import MlflowClient

    MlflowClient().set_model_version_tag(model_name, version, key, value[:5000])


# --------------------------------------------------------------------------- the pipeline


def run_pipeline(
    candidate: TrainConfig | Callable[[pd.DataFrame], TrainResult],
    train_data: pd.DataFrame,
    eval_data: pd.DataFrame,
    *,
    model_name: str,
    schema: pa.DataFrameSchema,
    run_name: str,
    server: ModelServer | None = None,
    baseline: TrainConfig | None = None,
    smoke_rows: int = 5,
    timeout: float = START_TIMEOUT,
    code: str | None = None,
    verbose: bool = True,
    progress: bool | None = None,
    trusted_types: Sequence[str] = (),
) -> PipelineRun:
    """Run the delivery pipeline for one candidate; return the record of every stage.

    Introduced in notebook 08. Validate -> train -> evaluate -> compare with the champion ->
    register (only if the gate passed) -> serve the new version -> smoke-test it -> promote.
    ``champion`` moves only after the candidate's own server has answered the smoke test; if
    serving or the smoke test fails, the candidate's server is stopped, the version is tagged
    ``smoke_test=failed`` and nothing else changes. The pipeline never stops ``server`` (the
    one in use): moving the traffic to the new server and stopping the old one is the job of
    whatever routes the requests (:class:`TrafficRouter`). The candidate's run is logged to
    the active experiment whatever the gate decides (with ``gate_*`` metrics and the decision
    as ``gate_decision.txt``); its model is logged and registered only if it passed.

    Args:
        candidate: a :class:`utils.training.TrainConfig`, or a function that takes the
            training data and returns a :class:`utils.training.TrainResult`.
        train_data, eval_data: training data, and later data to judge every model on (with
            labels).
        model_name: the registered model (``tracking.model_name(...)``).
        schema: the pandera schema for the data tests (``validation.churn_schema(...)``).
        run_name: the name of the candidate's MLflow run (and of the candidate).
        server: the model server in use, if any (returned as the run's server unless the
            candidate is promoted).
        baseline: the baseline's config (default ``TrainConfig("dummy")``).
        smoke_rows: how many evaluation rows the smoke test sends.
        timeout: seconds the new server may take to answer.
        code: the code version for the lineage (default :func:`utils.registry.code_version`).
        verbose: print each stage as it finishes.
        progress: a status line while the server starts (default: in a notebook).
        trusted_types: full names of types in the model that skops must trust beyond the
            course's list (:data:`utils.tracking.SKOPS_TRUSTED_TYPES`), which you vouch for.

    Raises:
        TypeError, ValueError: bad arguments (before any stage runs).
        utils.tracking.UntrustedTypesError: the model holds a type nobody vouched for.
    """
    # deferred: utils.training loads scikit-learn: +1.0 s to import delivery
    from utils.training import TrainConfig, train

    if not isinstance(model_name, str) or not model_name:
        raise TypeError("model_name must be the registered model's name (tracking.model_name).")
    if not isinstance(run_name, str) or not run_name:
        raise TypeError("run_name must be a non-empty string, e.g. 'candidate-lr'.")
    for what, df in (("train_data", train_data), ("eval_data", eval_data)):
        if not isinstance(df, pd.DataFrame) or df.empty:
            raise TypeError(f"{what} must be a non-empty pandas DataFrame.")
    if isinstance(smoke_rows, bool) or not isinstance(smoke_rows, int) or smoke_rows < 1:
        raise ValueError(f"smoke_rows must be a whole number >= 1, got {smoke_rows!r}.")
    if server is not None and not isinstance(server, ModelServer):
        raise TypeError(f"server must be a ModelServer or None, got {type(server).__name__}.")
    baseline = TrainConfig("dummy") if baseline is None else baseline
    code = registry.code_version() if code is None else code

    stages = _Stages(run_name, model_name, verbose, _champion_version(model_name))
    if verbose:
        now = stages.champion_before or "none"
        print(f"pipeline for {run_name} (champion now: version {now})", flush=True)
    checked = _train_and_test(stages, candidate, train_data, eval_data, schema)
    if checked is None:
        return stages.finish("stopped", server=server)
    result, evaluated = checked
    base_model = train(baseline, train_data).model
    gate = stages.record(
        compare_with_champion(
            result.model,
            eval_data,
            baseline=base_model,
            model_name=model_name,
            tests=evaluated.checks,
            name=run_name,
        )
    )
    rows = eval_data.head(smoke_rows)
    run_id, model_uri = _log_candidate(
        result,
        gate.value,
        run_name=run_name,
        code=code,
        input_example=_features(rows).head(3),
        trusted_types=trusted_types,
    )
    if not gate.passed:
        return stages.finish("rejected", run_id=run_id, server=server)
    assert model_uri is not None
    return _deliver_candidate(
        stages, result, gate.value, model_uri, rows, run_id, server, timeout, progress
    )


@dataclass
class _Stages:
    """The stages of one :func:`run_pipeline` run, printed as they finish when ``verbose``."""

    candidate: str
    model_name: str
    verbose: bool
    champion_before: str | None
    done: list[StageResult] = field(default_factory=list)

    def record(self, result: StageResult) -> StageResult:
        """Add ``result`` (and print it); return it."""
        self.done.append(result)
        if self.verbose:
            print(" ", result, flush=True)
        return result

    def finish(self, outcome: Outcome_, **kwargs: Any) -> PipelineRun:
        """The :class:`PipelineRun` of the stages so far, ending with ``outcome``."""
        run = PipelineRun(
            self.candidate,
            self.model_name,
            self.done,
            outcome,
            self.champion_before,
            _champion_version(self.model_name),
            **kwargs,
        )
        if self.verbose:
            print(f"  => {run.outcome}: {run.reason}", flush=True)
        return run


def _train_and_test(
    stages: _Stages,
    candidate: TrainConfig | Callable[[pd.DataFrame], TrainResult],
    train_data: pd.DataFrame,
    eval_data: pd.DataFrame,
    schema: pa.DataFrameSchema,
) -> tuple[TrainResult, StageResult] | None:
    """The stages before the gate: validate the data, train the candidate, test the model.

    Returns the training result and the evaluation stage, or None when a stage failed (the
    pipeline stops there).
    """
    if not stages.record(validate_data(train_data, eval_data, schema)).passed:
        return None
    trained = stages.record(train_candidate(candidate, train_data))
    if not trained.passed:
        return None
    evaluated = stages.record(evaluate_candidate(trained.value.model, eval_data))
    return (trained.value, evaluated) if evaluated.passed else None


def _deliver_candidate(
    stages: _Stages,
    result: TrainResult,
    decision: GateDecision,
    model_uri: str,
    rows: pd.DataFrame,
    run_id: str,
    server: ModelServer | None,
    timeout: float,
    progress: bool | None,
) -> PipelineRun:
    """The stages after the gate passed: register, serve, smoke-test, promote.

    ``champion`` moves only after the new server answered the smoke test; otherwise that
    server is stopped, the version tagged with the failure, and ``server`` stays in use.
    """
    run_name, model_name = stages.candidate, stages.model_name
    metrics = decision.metrics
    reason = (
        f"{run_name} passed the quality gate and the smoke test: ROC AUC "
        f"{metrics.loc['candidate', 'roc_auc']:.3f}"
    )
    if "champion" in metrics.index:
        reason += f" (champion {metrics.loc['champion', 'roc_auc']:.3f}; no worse than the margin)"
    registered = stages.record(
        register_candidate(
            model_uri,
            model_name,
            description=f"{run_name}: passed the gate of the delivery pipeline (notebook 08)",
        )
    )
    version: str = registered.value
    served = stages.record(deploy(model_name, version, timeout=timeout, progress=progress))
    new_server: ModelServer = served.value
    if served.passed:
        expected = np.asarray(result.model.predict_proba(_features(rows)), dtype=float)
        stages.record(smoke_test(new_server, rows, expected))
    last = stages.done[-1]
    _tag_version(model_name, version, "smoke_test", "passed" if last.passed else last.detail)
    if not last.passed:
        new_server.stop()  # champion never moved: nothing to roll back
        return stages.finish("failed", version=version, run_id=run_id, server=server)
    stages.record(promote_candidate(model_name, version, reason=reason))
    return stages.finish("promoted", version=version, run_id=run_id, server=new_server)


# --------------------------------------------------------------------------- figure

_STAGE_LABELS = {
    "validate": "validate\ndata",
    "train": "train",
    "evaluate": "evaluate",
    "compare": "compare with\nthe champion",
    "register": "register\na version",
    "serve": "serve that\nversion",
    "smoke test": "smoke\ntest",
    "promote": "promote\n(move alias)",
}
_FILL = {"passed": "#cfe8d3", "failed": "#f6c9c4", "not run": "#eeeeee", None: "#dbe9f6"}
_EDGE = {"passed": "#2e7d32", "failed": "#c62828", "not run": "#9e9e9e", None: "#4a7ab0"}


def pipeline_figure(run: PipelineRun | None = None, *, title: str | None = None) -> CourseFigure:
    """Draw the delivery pipeline's stages; with a run, colour each by its outcome.

    Introduced in notebook 08 (and its slides). Eight stages in a row, from data validation to
    the promotion; below the serve and smoke-test stages, what a failure there leads to (the
    candidate's server stops, the champion never moved). With ``run``, a stage is green when it
    passed, red when it failed, grey when it did not run.

    Raises:
        TypeError: ``run`` is not a :class:`PipelineRun`.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    from utils.figures import CourseFigure  # deferred: matplotlib, +396 ms to import delivery

    if run is not None and not isinstance(run, PipelineRun):
        raise TypeError(f"run must be a PipelineRun or None, got {type(run).__name__}.")
    status: dict[str, str | None] = dict.fromkeys(STAGES)
    if run is not None:
        status = {name: row.status for name, row in run.table().iterrows()}
    fig = CourseFigure(figsize=(12.0, 3.1), facecolor="white")
    if title is None:
        title = "The delivery pipeline" if run is None else f"Pipeline run: {run.candidate}"
        if run is not None:
            title += f" ({run.outcome})"
    fig.suptitle(title, fontsize=12, fontweight="bold")
    ax = fig.add_axes((0.01, 0.02, 0.98, 0.86))
    ax.set_xlim(0, len(STAGES))
    ax.set_ylim(0.05, 2.0)
    ax.axis("off")
    centres = {name: (i + 0.5, 1.55) for i, name in enumerate(STAGES)}
    w, h = 0.84, 0.62
    for name, (x, y) in centres.items():
        box = FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.0,rounding_size=0.06",
            facecolor=_FILL[status[name]],
            edgecolor=_EDGE[status[name]],
            linewidth=1.6,
        )
        box.set_gid(f"stage:{name}")
        ax.add_patch(box)
        ax.text(x, y, _STAGE_LABELS[name], ha="center", va="center", fontsize=9.5)

    def arrow(a: tuple[float, float], b: tuple[float, float], **kw: Any) -> None:
        ax.add_patch(
            FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, linewidth=1.3, **kw)
        )

    for left, right in zip(STAGES[:-1], STAGES[1:], strict=True):
        (x0, y0), (x1, _) = centres[left], centres[right]
        arrow((x0 + w / 2, y0), (x1 - w / 2, y0), color="#555555")
    below = (6.0, 0.45)  # between serve and smoke test
    note = FancyBboxPatch(
        (below[0] - 0.95, below[1] - 0.27),
        1.9,
        0.54,
        boxstyle="round,pad=0.0,rounding_size=0.06",
        facecolor="white",
        edgecolor="#c62828",
        linestyle="--",
        linewidth=1.3,
    )
    note.set_gid("on failure")
    ax.add_patch(note)
    ax.text(
        *below,
        "stop the candidate's server;\nthe champion never moved",
        ha="center",
        va="center",
        fontsize=9,
        color="#c62828",
    )
    for source in ("serve", "smoke test"):
        x0, y0 = centres[source]
        arrow((x0, y0 - h / 2), (x0, below[1] + 0.27), color="#c62828", linestyle="--")
    ax.text(
        3.5, 0.98, "gate failed: stop, the champion stays", fontsize=9, color="#555555", ha="center"
    )
    if run is not None:
        handles = [
            Patch(facecolor=_FILL[s], edgecolor=_EDGE[s], label=s)
            for s in ("passed", "failed", "not run")
        ]
        ax.legend(handles=handles, loc="lower left", fontsize=9, frameon=False, ncol=3)
    return fig
