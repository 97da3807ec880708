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


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


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
    if _running_as_root():
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
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


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

    if port is None:
        free = processes.port_is_free(DEFAULT_LAB_PORT)
        port = DEFAULT_LAB_PORT if free else processes.free_port()
    elif not processes.port_is_free(port):
        raise LabError(
            f"Port {port} on 127.0.0.1 is already in use{processes.port_owner(port)}."
            " Choose another with `python -m utils lab --port N`, or stop that program."
        )
    server = tracking.start()
    started_server = server.started
    jupyter: subprocess.Popen[bytes] | None = None
    stop_requested = False

    def _request_stop(signum: int, frame: Any) -> None:  # noqa: ARG001
        nonlocal stop_requested
        stop_requested = True

    old_handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in old_handlers:
        signal.signal(sig, _request_stop)
    try:
        token = secrets.token_hex(24)
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        env.update(tracking.QUIET_ENV)
        env["MLOPS_COURSE_STATE"] = str(state)
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        env["JUPYTER_TOKEN"] = token  # not on the command line, where `ps` shows it
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            p for p in (str(_offline_lab_config(state)), env.get("JUPYTER_CONFIG_PATH")) if p
        )
        log_file = state / LAB_LOG
        # Its own session: Ctrl-C reaches only this process, which then stops JupyterLab
        # cleanly (JupyterLab would otherwise stop to ask "Shutdown? (y/[n])").
        jupyter, log_start = processes.spawn(
            lab_command(port, open_browser), log_file, cwd=repo_root(), env=env
        )
        ended = processes.wait_ready(
            jupyter,
            lambda: _lab_answers(base, token),
            timeout,
            tick=lambda _elapsed: not stop_requested,
        )
        if ended == "interrupted":
            return 130
        if ended != "ready":
            what = (
                f"exited with code {jupyter.returncode} while starting"
                if ended == "exited"
                else f"did not answer on {base} within {timeout:.0f} s"
            )
            raise LabError(
                f"JupyterLab {what}. The end of its log ({log_file}):\n"
                f"{processes.log_tail(log_file, log_start)}"
            )
        info = {
            "mlflow_ui": server.url,
            "jupyterlab": f"{base}/lab/tree/{START_NOTEBOOK}?token={token}",
            "jupyterlab_base": base,
            "token": token,
            "jupyter_pid": jupyter.pid,
            "lab_pid": os.getpid(),
            "mlflow_pid": server.pid,
            "mlflow_started_by_lab": started_server,
        }
        write_private(state / LAB_FILE, json.dumps(info, indent=2))  # it holds the token
        print(f"MLflow UI: {info['mlflow_ui']}", flush=True)
        print(f"JupyterLab: {info['jupyterlab']}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while not stop_requested:
            if jupyter.poll() is not None:
                print(
                    f"JupyterLab stopped (exit code {jupyter.returncode}); see {log_file}.",
                    flush=True,
                )
                return 1
            time.sleep(0.5)
        return 0
    finally:
        if jupyter is not None and jupyter.poll() is None:
            print("Stopping JupyterLab ...", flush=True)
            processes.terminate(jupyter, timeout=20.0)
        (state / LAB_FILE).unlink(missing_ok=True)
        if started_server:
            print("Stopping the MLflow server ...", flush=True)
            tracking.stop()
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
