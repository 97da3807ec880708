"""Processes and ports of the course's local servers, written once.

The course starts several servers as child processes: the MLflow tracking server
(:mod:`utils.tracking`), JupyterLab (:mod:`utils.lab`), a model server
(:class:`utils.delivery.ModelServer`) and the class server (:mod:`utils.classroom`). Each
one goes through the same steps, and this module holds them:

* pick a port: :func:`port_is_free`, :func:`free_port`, :func:`check_port`, and when a port
  is taken, who holds it: :func:`port_owner`, :func:`listener_pids`;
* start the process detached, with its output appended to a log file: :func:`spawn`;
* wait until it answers, or exits, or the time is up: :func:`wait_ready`, with
  :func:`http_get` and :func:`healthy` for the usual checks;
* tell the user what went wrong: :func:`log_tail`;
* find it again later from a record file (:func:`write_record`, :func:`read_record`), and
  make sure a recorded PID is still *our* process and not a reused number:
  :func:`process_alive`, :func:`runs_with_arguments`, :func:`serves_port`; one start at a
  time: :func:`lock`; whether we run as root (:func:`running_as_root`: some servers then
  need another user or a flag);
* stop it promptly with everything it started, and collect its exit status:
  :func:`terminate`, :func:`reap_in_background`.

Every server binds 127.0.0.1 (:data:`HOST`) unless its caller says otherwise; HTTP requests
here never go through a proxy.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "HOST",
    "check_port",
    "free_port",
    "healthy",
    "http_get",
    "listener_pids",
    "lock",
    "log_tail",
    "port_is_free",
    "port_owner",
    "process_alive",
    "process_group_members",
    "read_record",
    "reap_in_background",
    "running_as_root",
    "runs_with_arguments",
    "serves_port",
    "spawn",
    "terminate",
    "wait_ready",
    "write_record",
]

#: The address every course server binds by default: loopback, unreachable from elsewhere.
HOST = "127.0.0.1"


# --------------------------------------------------------------------------- ports


def check_port(port: Any, what: str = "port") -> int:
    """Return ``port`` if it is an unprivileged port number (1024-65535).

    Raises:
        TypeError: not an int (a bool is not a port either).
        ValueError: outside 1024-65535.
    """
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"{what} must be an int between 1024 and 65535, got {port!r}")
    if not 1024 <= port <= 65535:
        raise ValueError(
            f"{what} must be between 1024 and 65535 (unprivileged ports), got {port}. "
            "Pick a number such as 5050."
        )
    return port


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:``port`` and we may bind it (notebook 08).

    Raises:
        ValueError: ``port`` is not a whole number from 1 to 65535.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port must be a whole number from 1 to 65535, got {port!r}.")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that the system says is free now (another program may take it
    before we bind it: a start that finds it taken picks again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def listener_pids(port: int) -> set[int] | None:
    """PIDs listening on TCP ``port``, or None where the system does not tell us (e.g. macOS
    without root)."""
    try:
        import psutil

        return {
            c.pid
            for c in psutil.net_connections(kind="tcp")
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid
        }
    except Exception:  # noqa: BLE001 - e.g. AccessDenied; the caller falls back
        return None


def port_owner(port: int) -> str:
    """Which program listens on ``port``, as `` (pid N, name)`` to append to a message;
    an empty string when unknown (it is only a hint, never an error)."""
    try:
        import psutil

        for pid in sorted(listener_pids(port) or ()):
            return f" (pid {pid}, {psutil.Process(pid).name()})"
    except Exception:  # noqa: BLE001 - only a hint for the message
        return ""
    return ""


# --------------------------------------------------------------------------- HTTP


def http_get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    """GET ``url`` directly (never through a proxy: the servers are local); return the status
    code and the body. An HTTP error status is returned, not raised.

    Raises:
        OSError: nothing answers (refused, timed out).
        ValueError: ``url`` is not a URL.
    """
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, ""


def healthy(url: str, timeout: float = 2.0) -> bool:
    """True when ``url``/health answers 200 with ``OK`` (an MLflow server, the class server)."""
    try:
        code, body = http_get(f"{url}/health", timeout=timeout)
    except (OSError, ValueError):
        return False
    return code == 200 and body.strip().upper().startswith("OK")


# --------------------------------------------------------------------------- processes


def process_alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie (notebook 08).

    Raises:
        TypeError: ``pid`` is not an int.
    """
    import psutil

    if isinstance(pid, bool) or not isinstance(pid, int):
        raise TypeError(f"pid must be a process id (an int), got {pid!r}.")
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def runs_with_arguments(pid: int, *arguments: str, title: str | None = None) -> bool:
    """True when process ``pid``'s command line holds each of ``arguments`` as a whole argument.

    How the course recognises its own server behind a recorded PID, which the system may have
    given to another program since: pass the program's name and the paths that only this
    server has (its state folder's files). A path must match a whole argument exactly, so
    ``/x/class`` is not ``/x/class2``.

    Some programs replace their command line with a title of their own, one string where the
    arguments were (nginx: ``nginx: master process /usr/sbin/nginx -c /x/nginx.conf``). Pass
    how that title starts as ``title`` (``"nginx:"``): a process whose command line starts with
    it matches when each argument appears in the title between spaces (or at an end). Within a
    title a path that continues after a space is not told apart from its first part: give such
    programs paths without spaces, or a distinctive last argument.
    """
    import psutil

    try:
        command = psutil.Process(pid).cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    if all(argument in command for argument in arguments):
        return True
    line = " ".join(command)
    if title is None or not line.startswith(title):
        return False
    return all(f" {argument} " in f" {line} " for argument in arguments)


def running_as_root() -> bool:
    """True when this process runs as root (never on Windows): PostgreSQL then needs its own
    user, JupyterLab the ``--allow-root`` flag, and nginx a ``user`` line."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def serves_port(pid: int, port: int) -> bool:
    """True unless we can see that ``port`` is served by a process outside ``pid``'s tree.

    A health check that answers may come from another program that holds the port; this
    tells them apart where the system lists listeners (an unknown answer counts as ours).
    """
    import psutil

    listeners = listener_pids(port)
    if not listeners:
        return True  # unknown: trust the health check
    try:
        proc = psutil.Process(pid)
        tree = {pid, *(child.pid for child in proc.children(recursive=True))}
    except psutil.NoSuchProcess:
        return False
    return bool(listeners & tree)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGTERM when the thread of the Python that started it ends."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def spawn(
    command: list[str],
    log_file: Path,
    *,
    cwd: Path,
    env: Mapping[str, str],
    header: str | None = None,
    append: bool = True,
    die_with_parent: bool = False,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``command`` detached, its output going to ``log_file``; return it and where its
    output starts in the log (for :func:`log_tail`).

    The process gets its own session (process group): Ctrl-C in a terminal or an interrupted
    kernel does not reach it, and :func:`terminate` stops the whole group. ``header`` is a
    line written to the log first; ``append=False`` starts the log afresh.
    ``die_with_parent`` (Linux only) sends it SIGTERM when the thread that started it ends,
    e.g. a killed kernel: start such processes from the main thread.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_start = log_file.stat().st_size if append and log_file.exists() else 0
    kwargs: dict[str, Any] = {}
    if sys.platform == "win32":  # pragma: no cover - the course runs on Linux and macOS
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    else:
        kwargs["start_new_session"] = True
        if die_with_parent and sys.platform.startswith("linux"):
            kwargs["preexec_fn"] = _die_with_parent
    with open(log_file, "ab" if append else "wb") as log:
        if header is not None:
            log.write(f"{header}\n".encode())
            log.flush()
        proc = subprocess.Popen(  # noqa: S603 - the callers' own fixed commands
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env),
            **kwargs,
        )
    return proc, log_start


Readiness = Literal["ready", "exited", "timeout", "interrupted"]


def wait_ready(
    proc: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    timeout: float,
    *,
    since: float | None = None,
    interval: float = 0.25,
    tick: Callable[[float], bool | None] | None = None,
) -> Readiness:
    """Wait until ``ready()`` is true while ``proc`` runs; say how the wait ended.

    Returns ``"ready"``; ``"exited"`` (the process ended first: ``proc.returncode`` holds its
    code); ``"timeout"`` (``timeout`` seconds passed since ``since``, a ``time.monotonic()``
    value, default now; the process still runs: the caller stops it); or ``"interrupted"``
    (``tick``, called each round with the seconds waited so far, returned False).
    """
    started = time.monotonic() if since is None else since
    while True:
        elapsed = time.monotonic() - started
        if tick is not None and tick(elapsed) is False:
            return "interrupted"
        if proc.poll() is not None:
            return "exited"
        if ready() and proc.poll() is None:
            return "ready"
        if elapsed > timeout:
            return "timeout"
        time.sleep(interval)


def _group_members(pgid: int) -> list[Any]:  # psutil.Process
    """The live (not zombie) processes of process group ``pgid``."""
    import psutil

    members = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(proc.pid) == pgid:
                members.append(proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return members


def _wait_gone(procs: list[Any], timeout: float) -> list[Any]:  # psutil.Process
    """Wait until every process has exited; return those still running after ``timeout``.

    A process that has exited but is not yet reaped by its parent (a zombie: the server was
    started by another process, e.g. a notebook kernel) counts as gone: waiting for it would
    only wait for the timeout.
    """
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for proc in procs:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def terminate(pid: int | subprocess.Popen[bytes], timeout: float = 15.0) -> bool:
    """Stop a process with everything it started: SIGTERM, then SIGKILL after ``timeout`` s.

    "Everything" is its descendants and, when it leads a process group (as :func:`spawn`
    makes it), every member of that group, even those that left the tree. Given the
    ``Popen`` that started it, its exit status is collected too (no zombie is left).
    Returns True if the process was running.
    """
    import psutil

    popen = pid if isinstance(pid, subprocess.Popen) else None
    number = popen.pid if popen is not None else int(pid)  # type: ignore[arg-type]
    was_running, procs = False, []
    if popen is None or popen.poll() is None:  # an exited Popen's number may be reused
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(number)
            was_running = parent.status() != psutil.STATUS_ZOMBIE
            procs = [parent, *parent.children(recursive=True)]
    if sys.platform != "win32":
        # The group outlives its leader: what is left of it goes too. A process group's
        # number is never given to a new process while the group has members.
        known = {p.pid for p in procs}
        procs += [p for p in _group_members(number) if p.pid not in known]
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    alive = _wait_gone(procs, timeout)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    _wait_gone(alive, 5)
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=5)
    return was_running


def reap_in_background(proc: subprocess.Popen[bytes]) -> None:
    """Collect ``proc``'s exit status as soon as it ends, whoever stops it.

    A server started here and stopped by another process (``python -m utils server stop``, a
    second notebook) would otherwise stay a zombie for as long as this process lives.
    """
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()


# --------------------------------------------------------------------------- files


def log_tail(log_file: Path, since: int = 0, lines: int = 25) -> str:
    """The last ``lines`` non-empty lines of ``log_file`` from byte ``since``, indented by
    four spaces, to end an error message with; says so when there is no log or it is empty."""
    try:
        with open(log_file, "rb") as fh:
            fh.seek(since)
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return "    (no log)"
    tail = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return "\n".join("    " + line for line in tail) or "    (the log is empty)"


def write_record(path: Path, record: Mapping[str, Any]) -> None:
    """Write a running server's record (its PID, port, URL, ...) to ``path`` as JSON, at once:
    a reader never sees half a file (a temporary file is renamed over it)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(dict(record), indent=2))
    tmp.replace(path)


def read_record(path: Path, *required: str) -> dict[str, Any] | None:
    """The record :func:`write_record` wrote at ``path``, or None when there is none.

    Any JSON state file of a server reads this way (the class's settings and secrets, the
    ``make lab`` record): a missing file is None, a damaged one a ValueError, each caller
    deciding what that means for it (replace the file, or tell the user to restore it).

    Raises:
        ValueError: the file is not a JSON object with the ``required`` keys, or its ``pid``
            or ``port`` is not a whole number (a damaged file). The message names the file
            and, for invalid JSON, where the parser stopped.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        record = json.loads(text)
    except ValueError as err:
        raise ValueError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path} is not a JSON object")
    if any(key not in record for key in required):
        raise ValueError(f"{path} lacks one of {list(required)}")
    for key in ("pid", "port"):
        if key in record and (isinstance(record[key], bool) or not isinstance(record[key], int)):
            raise ValueError(f"{path}: {key} is not a whole number")
    return record


def lock(path: Path, timeout: float) -> Any:  # a filelock.FileLock
    """A lock file at ``path``: ``with lock(path, 60):`` lets one process at a time start or
    stop a server (two notebooks, or ``make lab`` and a notebook, at once). Waiting longer than
    ``timeout`` seconds raises ``filelock.Timeout``."""
    from filelock import FileLock

    return FileLock(str(path), timeout=timeout)


def process_group_members(pgid: int) -> list[int]:
    """PIDs of the live (not zombie) processes of process group ``pgid`` (empty once a group
    that :func:`terminate` stopped is gone)."""
    return [proc.pid for proc in _group_members(pgid)]
