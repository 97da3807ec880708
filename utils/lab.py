"""``make lab``: the course's tracking server plus JupyterLab, started together, stopped by Ctrl-C.

:func:`run` starts (or reuses) the course MLflow server, then JupyterLab rooted at the
repository, bound to 127.0.0.1 with a token, opened at ``notebooks/00_start_here.ipynb``.
It prints two lines, ``MLflow UI: <url>`` and ``JupyterLab: <url>``, and writes them to
``lab.json`` in the state folder for scripts. Ctrl-C stops JupyterLab (and its kernels) and
the tracking server if this call started it; a server it merely reused keeps running.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from utils import processes, tracking
from utils.paths import repo_root, state_dir, write_private

LAB_FILE = "lab.json"
LAB_LOG = "jupyterlab.log"
DEFAULT_LAB_PORT = 8888
START_NOTEBOOK = "notebooks/00_start_here.ipynb"

# Switch off everything in JupyterLab that reaches for the network: the news feed, the
# update check, and the extension manager's PyPI listing.
OFFLINE_FLAGS = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
]


class LabError(RuntimeError):
    """JupyterLab could not be started; the message says why and what to do."""


def lab_command(port: int, open_browser: bool = True) -> list[str]:
    """The JupyterLab command line ``make lab`` runs (introduced in notebook 00).

    The token is not on it (every local user can read a command line with ``ps``): JupyterLab
    reads it from the environment variable ``JUPYTER_TOKEN``, which :func:`run` sets.
    """
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={repo_root()}",
        f"--ServerApp.default_url=/lab/tree/{START_NOTEBOOK}",
        f"--ServerApp.open_browser={open_browser}",
        *OFFLINE_FLAGS,
    ]
    if processes.running_as_root():
        command.append("--allow-root")
    return command


#: JupyterLab plugins switched off for an offline course: the announcements plugin asks
#: whether to fetch Jupyter news from the internet, even with the news feed set to None.
DISABLED_PLUGINS = ["@jupyterlab/apputils-extension:announcements"]


def _offline_lab_config(state: Path) -> Path:
    """Write a Jupyter config folder whose page config disables :data:`DISABLED_PLUGINS`."""
    folder = state / "jupyter-config"
    (folder / "labconfig").mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": dict.fromkeys(DISABLED_PLUGINS, True)}
    (folder / "labconfig" / "page_config.json").write_text(json.dumps(page_config, indent=2))
    return folder


def read_lab_file(state: Path | None = None) -> dict[str, Any] | None:
    """The contents of ``lab.json`` (URLs and PIDs of a running ``make lab``), or None."""
    path = (state or state_dir()) / LAB_FILE
    try:
        return processes.read_record(path)
    except (OSError, ValueError):
        return None  # unreadable or damaged: no lab to reuse (the next start rewrites it)


def _lab_answers(base: str, token: str) -> bool:
    try:
        code, _ = processes.http_get(f"{base}/api/status?token={token}", timeout=2.0)
    except (OSError, ValueError):
        return False
    return code == 200


def _existing_lab(state: Path) -> dict[str, Any] | None:
    info = read_lab_file(state)
    if not info:
        return None
    pid = info.get("jupyter_pid")
    if isinstance(pid, int) and processes.process_alive(pid):
        if _lab_answers(info.get("jupyterlab_base", ""), info.get("token", "")):
            return info
    (state / LAB_FILE).unlink(missing_ok=True)  # stale: its JupyterLab is gone
    return None


def _lab_port(port: int | None) -> int:
    """JupyterLab's port: ``port`` if it is free, else by default 8888 or a free one."""
    if port is None:
        free = processes.port_is_free(DEFAULT_LAB_PORT)
        return DEFAULT_LAB_PORT if free else processes.free_port()
    if not processes.port_is_free(port):
        raise LabError(
            f"Port {port} on 127.0.0.1 is already in use{processes.port_owner(port)}."
            " Choose another with `python -m utils lab --port N`, or stop that program."
        )
    return port


class _StopRequests:
    """While active (``with``), Ctrl-C and SIGTERM set :attr:`requested` instead of raising,
    so that :func:`run` can stop JupyterLab cleanly; the old handlers come back on exit."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, Any] = {}

    def _request(self, signum: int, frame: Any) -> None:  # noqa: ARG002
        self.requested = True

    def __enter__(self) -> _StopRequests:
        self._old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in self._old:
            signal.signal(sig, self._request)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def _lab_env(state: Path, token: str) -> dict[str, str]:
    """JupyterLab's environment: quiet, offline, the course's state folder, and the token
    (not on the command line, where `ps` shows it)."""
    env = dict(os.environ)
    env.update(tracking.QUIET_ENV)
    env["MLOPS_COURSE_STATE"] = str(state)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["JUPYTER_TOKEN"] = token
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        p for p in (str(_offline_lab_config(state)), env.get("JUPYTER_CONFIG_PATH")) if p
    )
    return env


def _start_failure(ended: str, returncode: int | None, base: str, timeout: float) -> str:
    """What went wrong when JupyterLab did not become ready (``ended`` by
    :func:`utils.processes.wait_ready`)."""
    if ended == "exited":
        return f"exited with code {returncode} while starting"
    return f"did not answer on {base} within {timeout:.0f} s"


def _serve_until_stopped(jupyter: subprocess.Popen[bytes], stop: _StopRequests, log: Path) -> int:
    """Wait for Ctrl-C (exit code 0), or for JupyterLab to end on its own (1)."""
    print("Press Ctrl-C to stop.", flush=True)
    while not stop.requested:
        if jupyter.poll() is not None:
            print(f"JupyterLab stopped (exit code {jupyter.returncode}); see {log}.", flush=True)
            return 1
        time.sleep(0.5)
    return 0


def _stop_lab(jupyter: subprocess.Popen[bytes] | None, state: Path, server_started: bool) -> None:
    """Stop JupyterLab, forget it, and stop the tracking server if :func:`run` started it."""
    if jupyter is not None and jupyter.poll() is None:
        print("Stopping JupyterLab ...", flush=True)
        processes.terminate(jupyter, timeout=20.0)
    (state / LAB_FILE).unlink(missing_ok=True)
    if server_started:
        print("Stopping the MLflow server ...", flush=True)
        tracking.stop()


def run(open_browser: bool = True, port: int | None = None, timeout: float = 120.0) -> int:
    """Start the tracking server and JupyterLab; block until Ctrl-C; return an exit code.

    Introduced in the README's quick start (``make lab``). ``port`` is JupyterLab's port
    (default 8888, or a free one if 8888 is taken).
    """
    if port is not None:
        processes.check_port(port)
    state = state_dir()
    existing = _existing_lab(state)
    if existing:
        print(f"MLflow UI: {existing['mlflow_ui']}")
        print(f"JupyterLab: {existing['jupyterlab']}")
        print(f"(already running, pid {existing['jupyter_pid']}; stop it in its own terminal)")
        return 0

    port = _lab_port(port)
    server = tracking.start()
    jupyter: subprocess.Popen[bytes] | None = None
    with _StopRequests() as stop:
        try:
            token = secrets.token_hex(24)
            base = f"http://127.0.0.1:{port}"
            log_file = state / LAB_LOG
            # Its own session: Ctrl-C reaches only this process, which then stops JupyterLab
            # cleanly (JupyterLab would otherwise stop to ask "Shutdown? (y/[n])").
            jupyter, log_start = processes.spawn(
                lab_command(port, open_browser),
                log_file,
                cwd=repo_root(),
                env=_lab_env(state, token),
            )
            ended = processes.wait_ready(
                jupyter,
                lambda: _lab_answers(base, token),
                timeout,
                tick=lambda _elapsed: not stop.requested,
            )
            if ended == "interrupted":
                return 130
            if ended != "ready":
                raise LabError(
                    f"JupyterLab {_start_failure(ended, jupyter.returncode, base, timeout)}. "
                    f"The end of its log ({log_file}):\n{processes.log_tail(log_file, log_start)}"
                )
            info = {
                "mlflow_ui": server.url,
                "jupyterlab": f"{base}/lab/tree/{START_NOTEBOOK}?token={token}",
                "jupyterlab_base": base,
                "token": token,
                "jupyter_pid": jupyter.pid,
                "lab_pid": os.getpid(),
                "mlflow_pid": server.pid,
                "mlflow_started_by_lab": server.started,
            }
            write_private(state / LAB_FILE, json.dumps(info, indent=2))  # it holds the token
            print(f"MLflow UI: {info['mlflow_ui']}", flush=True)
            print(f"JupyterLab: {info['jupyterlab']}", flush=True)
            return _serve_until_stopped(jupyter, stop, log_file)
        finally:
            _stop_lab(jupyter, state, server.started)
