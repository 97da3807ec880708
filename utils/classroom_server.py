"""The class server's MLflow app: MLflow's basic-auth app, plus names reserved per student.

``python -m utils.classroom start`` runs ``mlflow server --app-name mlops-classroom``; the name
is this package's entry point in the group ``mlflow.app`` (``pyproject.toml``), the way MLflow
documents custom server apps. :func:`create_app` builds MLflow's own ``basic-auth`` app
(``mlflow.server.auth.create_app``: accounts and permissions) and adds one rule to it:

    On a class server, a student's experiments and registered models are named
    ``<user name>-<topic>`` (``utils.tracking.experiment_name`` and ``model_name`` do it), and
    nobody else may create or rename anything to such a name.

Without it, MLflow lets any account create ``bob-05-experiment-tracking`` before bob does;
bob, who then holds no permission on it, gets "Permission denied" on his own names for the rest
of the course. The admin account may use any name. Student names never extend another's
(``bob`` and ``bob-smith`` cannot both exist: :func:`utils.classroom.read_roster`), so the
owner of a name is the user whose name is its prefix.

With ``MLOPS_CLASS_REQUEST_LOG`` set to a file (``classroom.start(request_log=True)``, used by
``make bench-class``), every request's time inside the server, from the moment the server hands
it to the app to the last byte of its response (accounts, permissions and the store included),
is appended to that file as one JSON line: ``{"t", "method", "path", "status", "ms", "pid"}``.
"""

from __future__ import annotations

import functools
import json
import os
import time
from typing import Any

#: The environment variable naming the request-timing file (see the module docstring).
REQUEST_LOG_ENV = "MLOPS_CLASS_REQUEST_LOG"

#: REST endpoints (under /api/ and /ajax-api/) that give an experiment or a registered model a
#: name, and the field of the request body that holds it.
NAMING_ENDPOINTS = {
    "/2.0/mlflow/experiments/create": "name",
    "/2.0/mlflow/experiments/update": "new_name",
    "/2.0/mlflow/registered-models/create": "name",
    "/2.0/mlflow/registered-models/rename": "new_name",
}


def name_refusal(username: str, name: Any, admin: str = "admin") -> str | None:
    """Why ``username`` may not give something the name ``name``, or None when it may."""
    if username == admin or not isinstance(name, str):
        return None  # the admin names anything; a missing name is MLflow's own error
    if name.startswith(f"{username}-"):
        return None
    return (
        f"On this class server the names of your experiments and models start with your user "
        f"name: '{username}-...'. '{name}' is not yours to create; the course's "
        "tracking.experiment_name() and tracking.model_name() give the right names."
    )


def _reserve_names():  # noqa: ANN202 - a Flask response or None
    from flask import jsonify, request

    path = request.path
    for prefix in ("/api", "/ajax-api"):
        if path.startswith(prefix):
            path = path[len(prefix) :]
            break
    field = NAMING_ENDPOINTS.get(path)
    if field is None or request.method not in ("POST", "PATCH"):
        return None
    auth = request.authorization
    if auth is None or not auth.username:
        return None  # basic-auth, which ran first, has refused it already
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        return None
    refusal = name_refusal(
        auth.username, body.get(field) if isinstance(body, dict) else None, _admin()
    )
    if refusal is None:
        return None
    response = jsonify(error_code="PERMISSION_DENIED", message=refusal)
    response.status_code = 403
    return response


@functools.cache
def _admin() -> str:
    """The admin's user name, from the auth configuration the server was started with."""
    from configparser import ConfigParser

    parser = ConfigParser()
    parser.read(os.environ.get("MLFLOW_AUTH_CONFIG_PATH", ""))
    return parser.get("mlflow", "admin_username", fallback="admin")


class RequestTimer:
    """An ASGI app around ``app`` that appends each HTTP request's time to ``log_file``.

    One JSON line per request (``t``: when it ended, ``method``, ``path``, ``status``, ``ms``,
    ``pid``: the worker). Each worker appends whole lines in single writes, so the workers
    (and several server instances) can share one file.
    """

    def __init__(self, app: Any, log_file: str) -> None:  # noqa: ANN401 - any ASGI app
        self.app = app
        self.log_file = log_file
        self._out: Any = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:  # noqa: ANN401
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        begun = time.perf_counter()
        status = [0]

        async def timed_send(message: dict) -> None:
            if message.get("type") == "http.response.start":
                status[0] = int(message.get("status", 0))
            await send(message)
            if message.get("type") == "http.response.body" and not message.get("more_body"):
                self._record(scope, status[0], begun)

        try:
            await self.app(scope, receive, timed_send)
        except Exception:
            self._record(scope, status[0] or 500, begun)
            raise

    def _record(self, scope: dict, status: int, begun: float) -> None:
        event = {
            "t": round(time.time(), 3),
            "method": scope.get("method", ""),
            "path": scope.get("path", ""),
            "status": status,
            "ms": round(1000 * (time.perf_counter() - begun), 2),
            "pid": os.getpid(),
        }
        try:
            if self._out is None:
                self._out = open(self.log_file, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
            self._out.write(json.dumps(event) + "\n")
        except OSError:
            pass  # a full disk must not fail the request that was served


def create_app() -> Any:  # noqa: ANN401 - a Flask app, or the FastAPI app wrapping it
    """MLflow's basic-auth app with :func:`_reserve_names` checked after its own checks.

    With ``MLOPS_CLASS_REQUEST_LOG`` set, the app is wrapped in :class:`RequestTimer`.
    """
    from mlflow.server import app as flask_app
    from mlflow.server.auth import create_app as create_basic_auth_app

    wrapped = create_basic_auth_app(flask_app)  # registers basic-auth's before_request first
    flask_app.before_request(_reserve_names)
    log_file = os.environ.get(REQUEST_LOG_ENV)
    if log_file and wrapped is not flask_app:
        return RequestTimer(wrapped, log_file)  # the ASGI app uvicorn (MLflow's default) runs
    return wrapped
