"""Classroom mode: one shared MLflow tracking server for a whole class, run by the instructor.

A class of 30 to 100 students outgrows a SQLite file on one laptop. This module sets up what
MLflow recommends for a shared server (see ``docs/classroom.md``, the instructor guide):

* a PostgreSQL cluster of its own, in the class folder (``init_cluster``/``start_cluster``);
  PostgreSQL refuses to run as root, so when you are root its programs run as the
  ``postgres`` user; it listens on 127.0.0.1 and on a Unix socket only its owner can open;
* two databases on it: the runs and the model registry (``mlflow``), and the accounts and
  permissions of MLflow's authentication app (``mlflow_auth``);
* ``mlflow server --app-name mlops-classroom`` (MLflow's basic-auth app, with each student's
  names reserved for them: ``utils/classroom_server.py``) with proxied artifacts (students
  need no access to the server's disk), on 127.0.0.1 unless the instructor opts in to another
  address;
* student accounts created in bulk from a roster, with generated passwords written to a
  CSV file that only its owner can read.

Everything lives in one *class folder* (``~/mlops-class`` by default, or ``MLOPS_CLASS_DIR``)::

    class.json      settings: ports, address, workers (no secrets)
    secrets.json    database password, Flask secret key, admin password (mode 600)
    postgres/       the PostgreSQL cluster (data/, socket/, postgres.log)
    server/         artifacts/, basic_auth.ini, server.json (PID, URL), server.log
                    (with --instances N: server-1.log ..., nginx.conf, nginx-error.log)

Students connect with three environment variables, read by :func:`utils.tracking.connect`:
``MLFLOW_TRACKING_URI``, ``MLFLOW_TRACKING_USERNAME`` and ``MLFLOW_TRACKING_PASSWORD``.
Their experiment and model names then start with their user name, and the authentication
app refuses (HTTP 403) any change to another student's experiments, runs or models.

Command line: ``python -m utils.classroom init|start|stop|status|admin-password|add-students|
grant|permission``; ``python -m utils.classroom --help`` lists the options.
"""

from __future__ import annotations

import argparse
import base64
import csv
import getpass
import glob
import html
import importlib.util
import io
import ipaddress
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from utils import processes, progress, tracking
from utils.classroom_server import REQUEST_LOG_ENV
from utils.paths import repo_root, write_private

__all__ = [
    "ADMIN_USER",
    "DEFAULT_PORT",
    "ClassServer",
    "ClassroomError",
    "PostgresCluster",
    "StudentAccount",
    "add_students",
    "change_admin_password",
    "class_dir",
    "create_database",
    "default_workers",
    "find_postgres",
    "grant",
    "init",
    "init_cluster",
    "main",
    "nginx_config",
    "nginx_missing_reason",
    "permission",
    "postgres_missing_reason",
    "read_credentials",
    "read_roster",
    "run_inventory",
    "start",
    "start_cluster",
    "status",
    "stop",
    "stop_cluster",
    "student_env",
    "write_credentials",
]

#: The class server's port unless ``--port`` or ``MLOPS_CLASS_PORT`` says otherwise.
DEFAULT_PORT = 5060
#: The administrator account of MLflow's authentication app.
ADMIN_USER = "admin"
#: Environment variables read by the command line for its defaults.
DIR_ENV = "MLOPS_CLASS_DIR"
PORT_ENV = "MLOPS_CLASS_PORT"
WORKERS_ENV = "MLOPS_CLASS_WORKERS"
#: Optional folder of PostgreSQL's programs (initdb, pg_ctl, postgres, psql).
PG_BINDIR_ENV = "MLOPS_PG_BINDIR"

CLASS_FILE = "class.json"
#: The server app (``mlflow server --app-name``): MLflow's basic-auth app with each student's
#: names reserved for them (utils/classroom_server.py; an entry point in pyproject.toml).
APP_NAME = "mlops-classroom"
SECRETS_FILE = "secrets.json"
SERVER_FILE = "server.json"
CLUSTER_FILE = "cluster.json"
PROGRESS_PAGE = "progress.html"
#: Each request's time inside the server, one JSON line each (``start(request_log=True)``).
REQUEST_LOG = "requests.log"
NGINX_CONF = "nginx.conf"
#: The levels of a grant on one experiment or model (MLflow's resource-level permissions; the
#: server-wide default is READ or NO_PERMISSIONS instead, see :func:`start`).
PERMISSIONS = ("READ", "USE", "EDIT", "MANAGE", "DENY")
MIN_PASSWORD = 12  # MLflow's authentication app refuses shorter passwords

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SQL_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RESERVED_USERS = {ADMIN_USER, "default", "postgres", "root"}
# Settings of the throwaway or real cluster; appended to postgresql.conf by init_cluster.
_CLUSTER_CONF = """
# --- set by utils.classroom (MLOps course) ---
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket}'
unix_socket_permissions = 0700
# Each MLflow server worker keeps pools of connections to two databases.
max_connections = 200
"""


class ClassroomError(RuntimeError):
    """The class server or its database could not be set up, started, reached or stopped.

    The message says what went wrong and what to do about it.
    """


# --------------------------------------------------------------------------- small helpers


def class_dir(folder: str | os.PathLike[str] | None = None) -> Path:
    """The class folder: ``folder``, else ``MLOPS_CLASS_DIR``, else ``~/mlops-class``.

    As root the default is ``/srv/mlops-class``: PostgreSQL runs as the ``postgres`` user,
    which cannot enter root's home folder.

    Introduced in ``docs/classroom.md``. It holds passwords and the class's database, so it
    must not lie inside the course repository: it could be committed, and ``make clean`` or
    an update of the course could take it away (``.course/`` included).
    """
    if folder is None:
        # root's home is closed to the postgres user; /srv is the usual place for a service.
        folder = os.environ.get(DIR_ENV) or (
            "/srv/mlops-class" if processes.running_as_root() else "~/mlops-class"
        )
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"the class folder must be a path, got {folder!r}")
    path = Path(folder).expanduser().resolve()
    _refuse_inside_repo(path, "the class folder")
    return path


def _refuse_inside_repo(path: Path, what: str) -> None:
    root = repo_root()
    if path == root or root in path.parents:
        raise ValueError(
            f"{what} {path} is inside the course repository, where its passwords could be "
            "committed and `make clean` or an update could remove it. Use a folder outside it, "
            "e.g. ~/mlops-class."
        )


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a string, got {name!r}")
    if not _NAME_RE.match(name):
        raise ValueError(
            f"{what} {name!r} is not valid: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (for an e-mail address, the part before '@')."
        )
    return name


def _check_password(password: Any, what: str = "password") -> str:
    if not isinstance(password, str):
        raise TypeError(f"the {what} must be a string")
    if len(password) < MIN_PASSWORD or password != password.strip() or "\n" in password:
        raise ValueError(
            f"the {what} must have at least {MIN_PASSWORD} characters, without leading or "
            "trailing spaces (MLflow's authentication app refuses shorter ones)."
        )
    return password


def _new_password() -> str:
    """A random password of 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def _read_json(path: Path) -> dict[str, Any]:
    """A state file of the class folder (:func:`utils.processes.read_record`); empty when it
    does not exist yet. A damaged one is a :class:`ClassroomError`: the class's data is at
    stake, so nothing replaces it behind the user's back."""
    try:
        return processes.read_record(path) or {}
    except ValueError as err:
        raise ClassroomError(f"{err}; restore or delete it.") from None


# --------------------------------------------------------------------------- PostgreSQL


def find_postgres() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl, postgres, psql), or None.

    Introduced in ``docs/classroom.md``. Looks at ``MLOPS_PG_BINDIR``, the ``PATH``,
    ``pg_config --bindir``, Debian's ``/usr/lib/postgresql/<version>/bin`` and Homebrew.
    """
    needed = ("initdb", "pg_ctl", "postgres", "psql")

    def complete(folder: Path) -> bool:
        return all((folder / name).exists() for name in needed)

    candidates: list[Path] = []
    if os.environ.get(PG_BINDIR_ENV):
        candidates.append(Path(os.environ[PG_BINDIR_ENV]))
    if shutil.which("pg_ctl"):
        candidates.append(Path(shutil.which("pg_ctl")).resolve().parent)  # type: ignore[arg-type]
    if shutil.which("pg_config"):
        try:
            out = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass

    def version(folder: Path) -> float:
        try:
            return float(folder.parent.name.split("@")[-1].removeprefix("postgresql"))
        except ValueError:
            return 0.0

    for pattern in ("/usr/lib/postgresql/*/bin", "/opt/homebrew/opt/postgresql*/bin"):
        found = sorted((Path(p) for p in glob.glob(pattern)), key=version, reverse=True)
        candidates.extend(found)
    candidates.append(Path("/usr/local/opt/postgresql/bin"))
    for folder in candidates:
        if complete(folder):
            return folder
    return None


def postgres_missing_reason() -> str | None:
    """Why this machine cannot run the class server's PostgreSQL, or None when it can.

    Introduced in ``docs/classroom.md``; the tests use it to skip with a clear message.
    """
    if sys.platform == "win32":
        return "the class server runs on Linux or macOS (on Windows, use WSL)."
    if find_postgres() is None:
        return (
            "PostgreSQL's programs (initdb, pg_ctl, postgres, psql) were not found. Install "
            "them (Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install "
            "postgresql@16`), or set MLOPS_PG_BINDIR to the folder that holds them."
        )
    if processes.running_as_root():
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return (
                "PostgreSQL refuses to run as root and there is no `postgres` user to run it "
                "as. Install Debian's `postgresql` package (it creates the user) or run as an "
                "ordinary user."
            )
    if importlib.util.find_spec("psycopg") is None:
        return (
            "the PostgreSQL driver for Python is missing: install `psycopg[binary]` into the "
            "course's environment (`.venv/bin/python -m pip install 'psycopg[binary]'`)."
        )
    if importlib.util.find_spec("flask_wtf") is None:
        return (
            "MLflow's authentication app needs Flask-WTF: install `mlflow[auth]` into the "
            "course's environment (`.venv/bin/python -m pip install 'mlflow[auth]'`)."
        )
    return None


@dataclass
class PostgresCluster:
    """A PostgreSQL cluster in a folder of its own, run by ``os_user``.

    Created by :func:`init_cluster` (introduced in ``docs/classroom.md``). It listens on
    127.0.0.1:``port`` and on a Unix socket in ``folder/socket`` that only ``os_user`` (and
    root) can open.
    """

    folder: Path
    port: int
    os_user: str
    bindir: Path

    @property
    def data_dir(self) -> Path:
        """The cluster's data folder (``PGDATA``)."""
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        """The folder of the cluster's Unix socket."""
        return self.folder / "socket"

    @property
    def log_file(self) -> Path:
        """The cluster's log file."""
        return self.folder / "postgres.log"

    def database_uri(self, database: str, role: str) -> str:
        """SQLAlchemy URI of ``database`` for ``role`` over TCP, without the password.

        The password travels in the ``PGPASSWORD`` environment variable instead, so that it
        appears in no command line.
        """
        return f"postgresql+psycopg://{role}@127.0.0.1:{self.port}/{database}"

    def running(self) -> bool:
        """True when the cluster's postmaster runs (``pg_ctl status``)."""
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        result = _run_as(self, [self._bin("pg_ctl"), "-D", str(self.data_dir), "status"])
        return result.returncode == 0

    def _bin(self, name: str) -> str:
        return str(self.bindir / name)


def _run_as(
    cluster: PostgresCluster, argv: list[str], stdin: str | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run one of PostgreSQL's programs as the cluster's OS user."""
    if processes.running_as_root() and cluster.os_user != "root":
        runuser = shutil.which("runuser")
        if runuser:
            argv = [runuser, "-u", cluster.os_user, "--", *argv]
        else:
            argv = ["su", "-s", "/bin/sh", cluster.os_user, "-c", shlex.join(argv)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = env["LANG"] = "C"
    cwd = cluster.folder if cluster.folder.exists() else None
    try:
        return subprocess.run(  # noqa: S603 - PostgreSQL's own programs, fixed arguments
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        raise ClassroomError(
            f"{Path(argv[0]).name} did not finish within {timeout:.0f} s: "
            f"{' '.join(argv[-6:])}. See {cluster.log_file}."
        ) from None


def _load_cluster(folder: Path) -> PostgresCluster | None:
    record = _read_json(folder / CLUSTER_FILE)
    if not record:
        return None
    return PostgresCluster(
        folder=folder,
        port=int(record["port"]),
        os_user=str(record["os_user"]),
        bindir=Path(record["bindir"]),
    )


def init_cluster(folder: str | os.PathLike[str], port: int | None = None) -> PostgresCluster:
    """Create a PostgreSQL cluster in ``folder`` (or return the one already there).

    Introduced in ``docs/classroom.md`` (``python -m utils.classroom init`` calls it). When
    you are root, ``folder`` is handed to the ``postgres`` user and PostgreSQL's programs run
    as that user (PostgreSQL refuses to run as root). Local connections use the OS user
    name (peer), TCP connections on 127.0.0.1 a password (scram-sha-256). ``port``
    defaults to a free port.

    Raises:
        ClassroomError: PostgreSQL is missing, or ``initdb`` failed (the message shows why).
    """
    path = Path(folder).expanduser().resolve()
    existing = _load_cluster(path)
    if existing is not None and (existing.data_dir / "PG_VERSION").exists():
        return existing
    if port is not None:
        processes.check_port(port, "the PostgreSQL port")
    socket_path = path / "socket" / f".s.PGSQL.{port or 65535}"
    if len(str(socket_path)) > 100:
        raise ValueError(
            f"the folder {path} is too deep for PostgreSQL's Unix socket ({socket_path} is "
            "longer than 100 characters, the limit of the system). Choose a shorter path."
        )
    reason = postgres_missing_reason()
    if reason:
        raise ClassroomError(f"Cannot create a PostgreSQL cluster: {reason}")
    bindir = find_postgres()
    assert bindir is not None
    port = port or processes.free_port()
    os_user = "postgres" if processes.running_as_root() else getpass.getuser()
    path.mkdir(parents=True, exist_ok=True)
    (path / "socket").mkdir(exist_ok=True)
    for item in (path, path / "socket"):
        item.chmod(0o700)
        if processes.running_as_root():
            shutil.chown(item, user=os_user)
    cluster = PostgresCluster(folder=path, port=port, os_user=os_user, bindir=bindir)
    if _run_as(cluster, ["test", "-w", str(path)]).returncode != 0:
        raise ClassroomError(
            f"The user {os_user!r} cannot reach {path}: a folder above it is closed to other "
            "users (root's home folder is). Choose a folder such as /srv/mlops-class."
        )
    result = _run_as(
        cluster,
        [
            cluster._bin("initdb"),
            "-D",
            str(cluster.data_dir),
            "-U",
            os_user,
            "-E",
            "UTF8",
            "--locale=C",
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
        ],
    )
    if result.returncode != 0:
        raise ClassroomError(
            f"initdb failed (exit code {result.returncode}) in {cluster.data_dir}:\n"
            f"{(result.stderr or result.stdout).strip()[-1500:]}"
        )
    conf = _CLUSTER_CONF.format(port=port, socket=cluster.socket_dir)
    with open(cluster.data_dir / "postgresql.conf", "a", encoding="utf-8") as fh:
        fh.write(conf)
    record = {"port": port, "os_user": os_user, "bindir": str(bindir)}
    (path / CLUSTER_FILE).write_text(json.dumps(record, indent=2))
    if processes.running_as_root():
        shutil.chown(path / CLUSTER_FILE, user=os_user)
    return cluster


def start_cluster(cluster: PostgresCluster, timeout: float = 60.0) -> bool:
    """Start the cluster unless it runs; return True if it was started now.

    Introduced in ``docs/classroom.md``. Waits until it accepts connections.

    Raises:
        ClassroomError: the port is taken or PostgreSQL did not start (with its log's end).
    """
    if cluster.running():
        return False
    if not processes.port_is_free(cluster.port):
        raise ClassroomError(
            f"Port {cluster.port} on 127.0.0.1, recorded for the class database in "
            f"{cluster.folder / CLUSTER_FILE}, is used by another program"
            f"{processes.port_owner(cluster.port)}. Stop that program, or change "
            "'port' in that file and in data/postgresql.conf."
        )
    result = _run_as(
        cluster,
        [
            cluster._bin("pg_ctl"),
            "-D",
            str(cluster.data_dir),
            "-l",
            str(cluster.log_file),
            "-w",
            "-t",
            str(int(timeout)),
            "start",
        ],
        timeout=timeout + 30,
    )
    if result.returncode != 0:
        raise ClassroomError(
            f"PostgreSQL did not start (pg_ctl exit code {result.returncode}). The end of "
            f"its log ({cluster.log_file}):\n{processes.log_tail(cluster.log_file)}"
        )
    return True


def stop_cluster(cluster: PostgresCluster, timeout: float = 60.0) -> bool:
    """Stop the cluster (fast shutdown: open sessions are ended); return True if it ran.

    Introduced in ``docs/classroom.md``. The data stays in the cluster's folder.
    """
    if not cluster.running():
        return False
    result = _run_as(
        cluster,
        [
            cluster._bin("pg_ctl"),
            "-D",
            str(cluster.data_dir),
            "-m",
            "fast",
            "-w",
            "-t",
            str(int(timeout)),
            "stop",
        ],
        timeout=timeout + 30,
    )
    if result.returncode != 0:
        raise ClassroomError(
            f"PostgreSQL did not stop (pg_ctl exit code {result.returncode}): "
            f"{result.stderr.strip()[-500:]}"
        )
    return True


def _psql(cluster: PostgresCluster, sql: str, database: str = "postgres") -> str:
    """Run SQL (given on standard input, so no secret shows in a command line)."""
    result = _run_as(
        cluster,
        [
            cluster._bin("psql"),
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(cluster.socket_dir),
            "-p",
            str(cluster.port),
            "-U",
            cluster.os_user,
            "-d",
            database,
            "-f",
            "-",
        ],
        stdin=sql,
    )
    if result.returncode != 0:
        raise ClassroomError(f"psql failed: {result.stderr.strip()[-800:]}")
    return result.stdout


def create_database(cluster: PostgresCluster, database: str, role: str, password: str) -> str:
    """Create ``role`` (a login with ``password``) and ``database`` owned by it; return its URI.

    Introduced in ``docs/classroom.md``. Safe to run again: an existing role gets the new
    password, an existing database is kept. The URI has no password (see
    :meth:`PostgresCluster.database_uri`).
    """
    for value, what in ((database, "database"), (role, "role")):
        if not isinstance(value, str) or not _SQL_NAME_RE.match(value):
            raise ValueError(
                f"the {what} name {value!r} is not valid: use lower-case letters, digits and "
                "'_', starting with a letter or '_'."
            )
    _check_password(password, "database password")
    literal = "'" + password.replace("'", "''") + "'"
    _psql(
        cluster,
        f"""
SELECT 'CREATE ROLE "{role}" LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') \\gexec
ALTER ROLE "{role}" WITH LOGIN PASSWORD {literal};
SELECT 'CREATE DATABASE "{database}" OWNER "{role}"'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}') \\gexec
""",
    )
    return cluster.database_uri(database, role)


# --------------------------------------------------------------------------- the class server


@dataclass
class ClassServer:
    """What :func:`status` and :func:`start` know about a class server.

    ``url`` is the address the instructor's machine uses (always 127.0.0.1);
    ``student_url`` the one students use (the bound address, when it is not 127.0.0.1).
    """

    folder: Path
    running: bool
    url: str | None
    student_url: str | None
    pid: int | None
    port: int | None
    host: str
    log_file: Path
    message: str
    started: bool = field(default=False)
    # Why it is not running: "" (it runs), "none", "gone" (its process ended), "no-health"
    # (the process lives but /health does not answer), "refused" (/health answers but the API
    # refuses the admin: the message quotes the server's reason), "first-start" (the admin's
    # one-off password was never replaced).
    problem: str = field(default="")
    # With several server instances behind nginx (``start(instances=N)``): how many there are,
    # and how many of them answer /health (``pid`` is then nginx's).
    instances: int = field(default=1)
    instances_answering: int = field(default=1)

    def __str__(self) -> str:
        return self.message


def _settings(folder: Path) -> dict[str, Any]:
    settings = _read_json(folder / CLASS_FILE)
    if not settings:
        raise ClassroomError(
            f"{folder} is not a class folder yet: run `python -m utils.classroom init --dir "
            f"{folder}` first."
        )
    return settings


def _secrets(folder: Path) -> dict[str, Any]:
    return _read_json(folder / SECRETS_FILE)


def _save_secrets(folder: Path, values: dict[str, Any]) -> None:
    write_private(folder / SECRETS_FILE, json.dumps(values, indent=2))


def init(
    folder: str | os.PathLike[str] | None = None, pg_port: int | None = None
) -> PostgresCluster:
    """Set up a class folder: its PostgreSQL cluster (started) and the two databases.

    Introduced in ``docs/classroom.md`` (``python -m utils.classroom init``). Generates the
    database password and the Flask secret key into ``secrets.json`` (mode 600). Safe to run
    again: what exists is kept (a stopped cluster is started).
    """
    path = class_dir(folder)
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o711)  # the postgres user must reach postgres/; nobody may list the folder
    cluster = init_cluster(path / "postgres", port=pg_port)
    start_cluster(cluster)
    keys = _secrets(path)
    keys.setdefault("db_password", _new_password())
    keys.setdefault("flask_secret_key", secrets.token_hex(32))
    _save_secrets(path, keys)
    tracking_uri = create_database(cluster, "mlflow", "mlflow", keys["db_password"])
    auth_uri = create_database(cluster, "mlflow_auth", "mlflow", keys["db_password"])
    settings = _read_json(path / CLASS_FILE)
    settings.update(backend_store_uri=tracking_uri, auth_database_uri=auth_uri)
    (path / CLASS_FILE).write_text(json.dumps(settings, indent=2))
    (path / "server").mkdir(exist_ok=True)
    (path / "server").chmod(0o700)
    return cluster


def _auth_ini(settings: dict[str, Any], default_permission: str, cache_seconds: int) -> str:
    return (
        "[mlflow]\n"
        f"default_permission = {default_permission}\n"
        f"database_uri = {settings['auth_database_uri']}\n"
        f"admin_username = {ADMIN_USER}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "# Successful password checks are remembered this long by each worker (each check\n"
        "# otherwise costs a deliberately slow hash).\n"
        f"auth_cache_ttl_seconds = {cache_seconds}\n"
    )


def default_workers() -> int:
    """The class server's worker processes: one per CPU core, at least 2 and at most 4.

    Introduced in ``docs/classroom.md``. On two cores, 2 workers served 30 simulated students
    faster than MLflow's default of 4 (``benchmarks/class_load.py``).
    """
    return max(2, min(4, os.cpu_count() or 2))


def _server_dir(folder: Path) -> Path:
    return folder / "server"


def _student_url(host: str, port: int) -> str:
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def allowed_host_patterns(host: str, port: int, extra: str | None = None) -> list[str]:
    """The Host headers the class server accepts: MLflow's defaults, the server's names, ``extra``.

    Introduced in ``docs/classroom.md``. MLflow's ``--allowed-hosts`` *replaces* its default
    list (loopback and private addresses), so passing only the name students type would lock
    out 127.0.0.1, which this module itself uses. The list therefore always holds MLflow's
    defaults (``mlflow.server.security_utils.get_default_allowed_hosts``), the bound address,
    the machine's host names (the address written into ``credentials.csv`` when the server
    binds every interface), and the comma-separated names in ``extra``, each with and without a
    port.
    """
    from mlflow.server.security_utils import get_default_allowed_hosts

    names = [host] if host not in ("0.0.0.0", "::") else []
    names += [socket.gethostname(), socket.getfqdn()]
    if extra:
        names += [name.strip() for name in extra.split(",") if name.strip()]
    patterns = list(get_default_allowed_hosts())
    for name in names:
        name = f"[{name}]" if ":" in name and not name.startswith("[") else name
        for pattern in (name, f"{name}:{port}", f"{name}:*"):
            if pattern not in patterns:
                patterns.append(pattern)
    return patterns


def _check_allowed_hosts(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9.*:\[\],_-]*", value):
        raise ValueError(
            f"allowed_hosts must be comma-separated host names such as "
            f"'class.example.org,10.0.0.5', got {value!r}"
        )
    return value.strip(",") or None


def _is_class_server(pid: int, folder: Path) -> bool:
    """True when ``pid`` is a server of this class folder: one of its MLflow servers, or the
    nginx in front of them (not a reused PID, nor another class's server)."""
    server_dir = _server_dir(folder)
    # nginx sets its process title to one string that names its configuration file.
    if processes.runs_with_arguments(pid, "-c", str(server_dir / NGINX_CONF), title="nginx:"):
        return True
    # The artifacts folder is one whole argument: a prefix (``.../race`` of ``.../race2``) is
    # another class's server.
    return processes.runs_with_arguments(pid, "mlflow", APP_NAME, str(server_dir / "artifacts"))


def _api_refusal(url: str, admin: tuple[str, str]) -> str:
    """Why an authenticated API call as the admin fails, or "" when it succeeds."""
    try:
        code, body = _api(url, "GET", "2.0/mlflow/experiments/search", admin, {"max_results": 1})
    except ClassroomError as error:
        return str(error)
    return "" if code == 200 else f"HTTP {code}: {_message(body)}"


def _api_gate_refusal(url: str) -> str:
    """Why the API is not in service, or "" when it is.

    A request without credentials must get HTTP 401: the Host header passed MLflow's check
    and the accounts are in force. (Calling as the admin would work too, but each worker would
    then remember the admin's password for ``auth_cache_ttl_seconds``, also after it changes.)
    """
    request = urllib.request.Request(f"{url}/api/2.0/mlflow/experiments/search?max_results=1")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return f"HTTP {response.status} without a password: the accounts are not in force"
    except urllib.error.HTTPError as err:
        if err.code == 401:
            return ""
        reason = err.read().decode("utf-8", "replace").strip()[:300]
        return f"HTTP {err.code}: {reason}"
    except OSError as err:
        return f"the API does not answer ({err})"


def status(
    folder: str | os.PathLike[str] | None = None, health_timeout: float = 10.0
) -> ClassServer:
    """Report whether the class server of ``folder`` runs and answers its API.

    Introduced in ``docs/classroom.md`` (``python -m utils.classroom status``). Running means:
    the recorded process is this folder's server, ``/health`` answers within
    ``health_timeout`` seconds, and an authenticated API call as the admin succeeds (``/health``
    skips MLflow's checks of the Host header and of accounts, so it alone says too little).
    """
    path = class_dir(folder)
    log_file = _server_dir(path) / "server.log"
    record = _read_json(_server_dir(path) / SERVER_FILE)
    if not record:
        return ClassServer(
            path, False, None, None, None, None, "127.0.0.1", log_file, "No class server runs.",
            problem="none",
        )  # fmt: skip
    pid, port, host = int(record["pid"]), int(record["port"]), str(record["host"])
    url = f"http://127.0.0.1:{port}"
    student_url = record.get("student_url") or _student_url(host, port)
    problem, message = _server_problem(path, pid, port, url, health_timeout, log_file)
    if problem == "gone":
        return ClassServer(
            path, False, None, None, None, port, host, log_file, message, problem=problem
        )
    if problem:
        return ClassServer(
            path, False, url, student_url, pid, port, host, log_file, message, problem=problem
        )
    behind = record.get("instances") or []
    if not behind:
        return ClassServer(
            path, True, url, student_url, pid, port, host, log_file,
            f"Class server running at {student_url} (pid {pid}, bound to {host}:{port}).",
        )  # fmt: skip
    answering, note = _instances_answering(path, behind, health_timeout)
    return ClassServer(
        path, True, url, student_url, pid, port, host, log_file,
        f"Class server running at {student_url}: nginx (pid {pid}, bound to {host}:{port}) in "
        f"front of {answering} of {len(behind)} instances{note}.",
        instances=len(behind),
        instances_answering=answering,
    )  # fmt: skip


def _server_problem(
    path: Path, pid: int, port: int, url: str, health_timeout: float, log_file: Path
) -> tuple[str, str]:
    """Why the recorded server of ``path`` is not in service, as ``(problem, message)`` for
    :class:`ClassServer`; ``("", "")`` when it is (its process, /health, its first start, the
    API, checked in that order)."""
    if not processes.process_alive(pid) or not _is_class_server(pid, path):
        return "gone", (
            f"The class server (pid {pid}, port {port}) is no longer running; start it "
            "again with `python -m utils.classroom start`."
        )
    if not processes.healthy(url, timeout=health_timeout):
        return "no-health", (
            f"The class server process (pid {pid}) exists but {url}/health does not answer "
            f"within {health_timeout:g} s: it is starting, or too busy. Its log: "
            f"{log_file}"
        )
    if not _secrets(path).get("admin_ready"):
        return "first-start", (
            f"The class server (pid {pid}) runs, but its first start did not finish: the "
            "admin's one-off password was not replaced. Run `python -m utils.classroom start` "
            "again to finish it."
        )
    refusal = _api_gate_refusal(url)
    if refusal:
        return "refused", (
            f"The class server (pid {pid}) answers /health but refuses the API: {refusal}"
        )
    return "", ""


def _instances_answering(
    path: Path, behind: list[dict[str, Any]], health_timeout: float
) -> tuple[int, str]:
    """How many of the instances behind nginx are this class's and answer /health, and a note
    naming those that do not ("" when all do)."""
    answering = [
        i
        for i in behind
        if processes.process_alive(int(i["pid"]))
        and _is_class_server(int(i["pid"]), path)
        and processes.healthy(f"http://127.0.0.1:{int(i['port'])}", timeout=health_timeout)
    ]
    missing = [f"{i['port']} (pid {i['pid']})" for i in behind if i not in answering]
    if not missing:
        return len(answering), ""
    return len(answering), (
        f"; not answering: the instance on port {', '.join(missing)}, see its log in "
        f"{_server_dir(path)}; nginx routes around it. Restart all with `stop --keep-postgres` "
        "and `start` when the class can pause"
    )


def start(
    folder: str | os.PathLike[str] | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    workers: int | None = None,
    default_permission: str = "READ",
    allowed_hosts: str | None = None,
    auth_cache_seconds: int = 60,
    timeout: float = 240.0,
    busy_timeout: float = 30.0,
    instances: int | None = None,
    request_log: bool = False,
) -> ClassServer:
    """Start the class server of ``folder`` (its PostgreSQL first), or reuse the running one.

    Introduced in ``docs/classroom.md`` (``python -m utils.classroom start``). The server is
    ``mlflow server --app-name mlops-classroom`` (MLflow's basic-auth app; a student's
    experiment and model names are reserved for them) with the PostgreSQL backend and proxied
    artifacts in ``folder/server/artifacts``. It binds 127.0.0.1 unless ``host`` names another
    address (``"0.0.0.0"``: every network interface; the guide says what that exposes).

    On the very first start MLflow creates the ``admin`` account with a random one-off
    password, which is changed at once, before any student can connect; the new one is kept
    in ``secrets.json``. ``default_permission`` is what every account may do with what others
    created (``READ``: see, not change; ``NO_PERMISSIONS``: not even see).

    ``allowed_hosts`` adds comma-separated host names students may type to the Host headers
    the server accepts (:func:`allowed_host_patterns`: loopback and private addresses always
    stay allowed). It is saved in ``class.json`` and reused by later starts; ``""`` clears it.
    A server that runs but answers slowly is never stopped by a second start: it is waited
    for up to ``busy_timeout`` seconds, then left running with an error that says so.

    ``instances`` greater than 1 runs that many separate ``mlflow server`` processes (each with
    ``workers`` workers) on free ports of 127.0.0.1, sharing the PostgreSQL database and the
    artifacts folder, behind nginx on ``host:port`` (:func:`nginx_config`; nginx must be
    installed, and runs as you: the port is above 1024). One instance that dies is routed
    around. It is saved in ``class.json`` and reused by later starts (default 1).
    ``request_log`` appends each request's time inside the server to
    ``server/requests.log`` (``utils/classroom_server.py``; ``make bench-class`` reads it).

    Raises:
        ClassroomError: the folder is not set up (run :func:`init`), the port is taken, nginx
            is missing, or the server did not start (the message shows the end of its log).
    """
    if port is not None:
        processes.check_port(port)
    if not isinstance(host, str) or not host:
        raise TypeError(f"host must be an address such as '127.0.0.1', got {host!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"host {host!r} is not an IP address: use 127.0.0.1 (this machine only), the "
            "address of one network interface, or 0.0.0.0 (every interface)."
        ) from None
    if workers is None:
        workers = default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 32:
        raise ValueError(f"workers must be an int from 1 to 32, got {workers!r}")
    if default_permission not in ("READ", "NO_PERMISSIONS"):
        raise ValueError(
            f"default_permission must be 'READ' (students see each other's runs) or "
            f"'NO_PERMISSIONS' (they do not), got {default_permission!r}"
        )
    if allowed_hosts is not None:
        allowed_hosts = _check_allowed_hosts(allowed_hosts) or ""  # "": none beyond the defaults
    if not isinstance(auth_cache_seconds, int) or not 0 <= auth_cache_seconds <= 3600:
        raise ValueError(f"auth_cache_seconds must be 0 to 3600, got {auth_cache_seconds!r}")
    if instances is not None and (
        isinstance(instances, bool) or not isinstance(instances, int) or not 1 <= instances <= 16
    ):
        raise ValueError(f"instances must be an int from 1 to 16, got {instances!r}")
    path = class_dir(folder)
    settings = _settings(path)
    if port is None:
        port = int(settings.get("port", DEFAULT_PORT))
    if instances is None:
        instances = int(settings.get("instances", 1))
    if instances > 1 and nginx_missing_reason():
        raise ClassroomError(f"Cannot start {instances} instances: {nginx_missing_reason()}")
    missing = postgres_missing_reason()
    if missing:
        raise ClassroomError(f"Cannot start the class server: {missing}")

    with _lock(path):
        return _start_unlocked(
            path,
            settings,
            port,
            host,
            workers,
            default_permission,
            allowed_hosts,
            auth_cache_seconds,
            timeout,
            busy_timeout,
            instances,
            request_log,
        )


def _lock(path: Path):  # noqa: ANN202 - a filelock.FileLock
    """One start or stop at a time per class folder (two terminals, or a script and you)."""
    return processes.lock(path / "class.lock", timeout=600)


def _start_unlocked(
    path: Path,
    settings: dict[str, Any],
    port: int,
    host: str,
    workers: int,
    default_permission: str,
    allowed_hosts: str | None,
    auth_cache_seconds: int,
    timeout: float,
    busy_timeout: float,
    instances: int = 1,
    request_log: bool = False,
) -> ClassServer:
    current = _running_server(path, port, busy_timeout)
    if current is not None:
        return current
    # nginx gone, instances behind it still running (or the reverse): stop what is left.
    _stop_unlocked(path, postgres=False)
    cluster = _load_cluster(path / "postgres")
    if cluster is None:
        raise ClassroomError(f"{path / 'postgres'} holds no cluster: run `init` again.")
    start_cluster(cluster)
    if not processes.port_is_free(port):
        raise ClassroomError(
            f"Port {port} on 127.0.0.1 is already in use by another program"
            f"{processes.port_owner(port)}. Stop it, or choose another port "
            f"(`--port {port + 1}`)."
        )

    server_dir = _server_dir(path)
    server_dir.mkdir(exist_ok=True)
    artifacts = server_dir / "artifacts"
    artifacts.mkdir(exist_ok=True)
    ini = server_dir / "basic_auth.ini"
    ini.write_text(_auth_ini(settings, default_permission, auth_cache_seconds))
    if allowed_hosts is None:
        allowed_hosts = settings.get("allowed_hosts")  # the names given at an earlier start
    allowed_hosts = allowed_hosts or None
    settings.update(
        port=port,
        host=host,
        workers=workers,
        default_permission=default_permission,
        allowed_hosts=allowed_hosts,
        instances=instances,
    )
    (path / CLASS_FILE).write_text(json.dumps(settings, indent=2))

    env, bootstrap = _server_env(path, ini, request_log)
    command = _server_command(settings, artifacts)
    if instances > 1:
        server = _spawn_behind_nginx(path, command, instances, port, host, env, timeout)
    else:
        server = _spawn(path, command, port, host, env, timeout)
    if bootstrap:
        _finish_first_start(path, server)
    return server


def _running_server(path: Path, port: int, busy_timeout: float) -> ClassServer | None:
    """The class server that already runs for ``path``, finishing its first start if need
    be; None when none runs (the caller starts one).

    Raises:
        ClassroomError: it runs on another port, refuses the API, or stays too busy to answer
            within ``busy_timeout`` seconds (it is left running in each case).
    """
    current = status(path, health_timeout=min(10.0, busy_timeout))
    if current.problem == "no-health":
        # A live server that is slow to answer (a class logging at once) is never killed by a
        # second start: wait for it, then reuse it or say what to do.
        deadline = time.monotonic() + busy_timeout
        while current.problem == "no-health" and time.monotonic() < deadline:
            time.sleep(1)
            current = status(path, health_timeout=5)
        if current.problem == "no-health":
            raise ClassroomError(
                f"{current.message} It was left running, so nobody's work is interrupted. "
                "If it stays stuck, stop it yourself (`python -m utils.classroom stop "
                "--keep-postgres`) and start it again."
            )
    if current.running or current.problem in ("first-start", "refused"):
        if current.port != port:
            raise ClassroomError(
                f"The class server already runs at {current.url}, not on port {port}. Stop "
                "it first (`python -m utils.classroom stop`) to move it."
            )
    if current.problem == "refused":
        raise ClassroomError(
            f"{current.message} It was left running. Stop it (`python -m utils.classroom stop "
            "--keep-postgres`) and start it again: the new start accepts 127.0.0.1 and the "
            "saved allowed hosts."
        )
    if current.problem == "first-start":
        _finish_first_start(path, current)
        current.running, current.problem = True, ""
        current.message = f"Finished the first start of the class server at {current.student_url}."
        return current
    if current.running:
        current.message = f"Reusing the class server at {current.student_url}."
        return current
    return None


def _server_env(path: Path, ini: Path, request_log: bool) -> tuple[dict[str, str], bool]:
    """The MLflow server's environment, and whether this is its first start (MLflow then
    creates the admin with a one-off password, saved first in ``secrets.json``)."""
    keys = _secrets(path)
    env = tracking.server_env()
    for name in list(env):
        if name.startswith(("PG", "MLFLOW_TRACKING_", "MLFLOW_AUTH_", "MLFLOW_SERVER_ALLOWED")):
            del env[name]
    env.update(
        PGPASSWORD=keys["db_password"],
        MLFLOW_FLASK_SERVER_SECRET_KEY=keys["flask_secret_key"],
        MLFLOW_AUTH_CONFIG_PATH=str(ini),
    )
    env.pop(REQUEST_LOG_ENV, None)
    if request_log:
        env[REQUEST_LOG_ENV] = str(_server_dir(path) / REQUEST_LOG)
    bootstrap = not keys.get("admin_ready")
    if bootstrap:
        # First start: MLflow creates the admin with this one-off password (it ships none).
        keys["admin_password"] = keys.get("admin_password") or _new_password()
        _save_secrets(path, keys)
        env["MLFLOW_AUTH_ADMIN_PASSWORD"] = keys["admin_password"]
    return env, bootstrap


def _server_command(settings: dict[str, Any], artifacts: Path) -> list[str]:
    """The ``mlflow server`` command line of the class, from its saved ``settings``."""
    host, port = settings["host"], int(settings["port"])
    return [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--app-name",
        APP_NAME,
        "--host",
        host,
        "--port",
        str(port),
        "--backend-store-uri",
        settings["backend_store_uri"],
        "--artifacts-destination",
        str(artifacts),
        "--workers",
        str(settings["workers"]),
        "--allowed-hosts",
        ",".join(allowed_host_patterns(host, port, settings["allowed_hosts"])),
    ]


def _finish_first_start(path: Path, server: ClassServer) -> None:
    """Replace the admin's one-off password, surviving a crash at any point.

    The new password is saved as pending *before* the server is asked to change it; after a
    crash between the two, the next start finds out which of the two the server accepts. The
    admin is marked ready only once the server has confirmed the change.
    """
    url = server.url or ""
    keys = _secrets(path)
    pending = keys.get("admin_password_pending")
    if pending and not _api_refusal(url, (ADMIN_USER, pending)):
        keys.update(admin_password=pending, admin_ready=True)  # the change had gone through
        keys.pop("admin_password_pending", None)
        _save_secrets(path, keys)
        return
    current = str(keys.get("admin_password", ""))
    new = _new_password()
    keys["admin_password_pending"] = new
    _save_secrets(path, keys)
    code, body = _api(
        url,
        "PATCH",
        "2.0/mlflow/users/update-password",
        (ADMIN_USER, current),
        {"username": ADMIN_USER, "password": new, "current_password": current},
    )
    if code != 200:
        raise ClassroomError(
            f"The class server did not accept the admin's new password (HTTP {code}: "
            f"{_message(body)}). The server is running; run `python -m utils.classroom start` "
            "again to retry. Until then no student account can be added."
        )
    keys.update(admin_password=new, admin_ready=True)
    keys.pop("admin_password_pending", None)
    _save_secrets(path, keys)


def _record(pid: int, port: int, host: str, **more: Any) -> dict[str, Any]:
    """What the server file says of a running class server (see :func:`_spawn`)."""
    return {
        "pid": pid,
        "port": port,
        "host": host,
        "url": f"http://127.0.0.1:{port}",
        "student_url": _student_url(host, port),
        "started_at": time.time(),
        **more,
    }


def _started(
    folder: Path, record: dict[str, Any], log_file: Path, message: str, **more: Any
) -> ClassServer:
    """The :class:`ClassServer` of a server this call started, from its record."""
    return ClassServer(
        folder,
        True,
        record["url"],
        record["student_url"],
        record["pid"],
        record["port"],
        record["host"],
        log_file,
        message,
        started=True,
        **more,
    )


def _spawn(
    folder: Path,
    command: list[str],
    port: int,
    host: str,
    env: dict[str, str],
    timeout: float,
    log_name: str = "server.log",
    record_it: bool = True,
) -> ClassServer:
    server_dir = _server_dir(folder)
    log_file = server_dir / log_name
    url = f"http://127.0.0.1:{port}"
    student_url = _student_url(host, port)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    proc, log_start = processes.spawn(
        command,
        log_file,
        cwd=server_dir,
        env=env,
        header=f"\n=== {stamp} starting on {host}:{port}",
    )
    if record_it:
        processes.write_record(server_dir / SERVER_FILE, _record(proc.pid, port, host))
    ended = processes.wait_ready(
        proc, lambda: processes.healthy(url, timeout=1.0), timeout, interval=0.5
    )
    if ended == "ready":
        processes.reap_in_background(proc)
        return _started(
            folder,
            _record(proc.pid, port, host),
            log_file,
            f"Started the class server at {student_url} (pid {proc.pid}).",
        )
    if ended == "exited":
        what = f"exited with code {proc.returncode} while starting on {host}:{port}."
    else:
        processes.terminate(proc.pid)
        what = f"did not answer {url}/health within {timeout:.0f} s and was stopped."
    if record_it:
        (server_dir / SERVER_FILE).unlink(missing_ok=True)
    raise ClassroomError(
        f"The class server {what} "
        f"The end of its log ({log_file}):\n{processes.log_tail(log_file, log_start)}"
    )


def nginx_missing_reason() -> str | None:
    """Why ``start(instances=N)`` cannot put nginx in front of the instances, or None.

    Introduced in ``docs/classroom.md``; the tests use it to skip with a clear message.
    """
    if _nginx() is None:
        return (
            "nginx was not found (it routes the class's requests to the server instances). "
            "Install it (Debian/Ubuntu: `apt-get install nginx`; macOS: `brew install nginx`); "
            "the system's nginx service need not run."
        )
    return None


def _nginx() -> str | None:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx", "/opt/homebrew/bin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def nginx_config(host: str, port: int, instance_ports: Sequence[int], folder: Path) -> str:
    """nginx's configuration for the class: ``host:port`` in front of the instances.

    Introduced in ``docs/classroom.md``. Every file nginx writes (PID, error log, buffers of
    large uploads) stays in ``folder``; it runs in the foreground as the user who starts it
    (as root, its workers run as root too, like the MLflow servers). The Host header students
    send is passed on unchanged, so the instances check it against the class's allowed hosts.
    A request that cannot reach an instance (refused: the instance died) goes to the next one;
    one already sent to an instance that dies fails with HTTP 502, which MLflow's client
    retries once.
    """
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    upstreams = "\n".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in instance_ports
    )
    temp = folder / "nginx-temp"
    user = f"user {getpass.getuser()};\n" if processes.running_as_root() else ""
    return f"""# Written by `python -m utils.classroom start --instances {len(instance_ports)}`;
# rewritten at every start.
{user}worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "nginx-error.log"} warn;
daemon off;
events {{
    worker_connections 2048;
}}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    client_max_body_size 0;
    upstream mlflow_class {{
{upstreams}
    }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://mlflow_class;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 600s;
            proxy_send_timeout 600s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


def _spawn_behind_nginx(
    folder: Path,
    command: list[str],
    instances: int,
    port: int,
    host: str,
    env: dict[str, str],
    timeout: float,
) -> ClassServer:
    """Start ``instances`` servers on free loopback ports, one after the other (the first
    creates the tables on a new database), then nginx on ``host:port`` in front of them."""
    server_dir = _server_dir(folder)
    nginx = _nginx()
    if nginx is None:
        raise ClassroomError(f"Cannot start {instances} instances: {nginx_missing_reason()}")
    behind: list[ClassServer] = []
    try:
        for number in range(1, instances + 1):
            inner = processes.free_port()
            argv = list(command)
            argv[argv.index("--host") + 1] = "127.0.0.1"  # only nginx reaches the instances
            argv[argv.index("--port") + 1] = str(inner)
            behind.append(
                _spawn(
                    folder, argv, inner, "127.0.0.1", env, timeout, f"server-{number}.log", False
                )
            )
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (server_dir / "nginx-temp" / name).mkdir(parents=True, exist_ok=True)
        conf = server_dir / NGINX_CONF
        conf.write_text(nginx_config(host, port, [s.port or 0 for s in behind], server_dir))
        error_log = server_dir / "nginx-error.log"
        proc, log_start = processes.spawn(
            [nginx, "-p", str(server_dir), "-c", str(conf)],
            error_log,
            cwd=server_dir,
            env=os.environ,
        )
        url = f"http://127.0.0.1:{port}"
        ended = processes.wait_ready(
            proc, lambda: processes.healthy(url, timeout=1.0), 60, interval=0.3
        )
        if ended != "ready":
            processes.terminate(proc.pid)
            raise ClassroomError(
                f"nginx did not start on {host}:{port}. The end of its log ({error_log}):\n"
                f"{processes.log_tail(error_log, log_start)}"
            )
    except BaseException:
        for server in behind:
            processes.terminate(server.pid or 0)
        raise
    processes.reap_in_background(proc)
    record = _record(
        proc.pid, port, host, instances=[{"pid": s.pid, "port": s.port} for s in behind]
    )
    processes.write_record(server_dir / SERVER_FILE, record)
    return _started(
        folder,
        record,
        server_dir / "server-1.log",
        f"Started the class server at {record['student_url']}: nginx (pid {proc.pid}) in front "
        f"of {instances} instances (pids {', '.join(str(s.pid) for s in behind)}).",
        instances=instances,
        instances_answering=instances,
    )


def run_inventory(folder: str | os.PathLike[str] | None, experiments_like: str) -> list[dict]:
    """Every run of the experiments whose name matches ``experiments_like``, from the database.

    Introduced in ``docs/classroom.md`` (``make bench-class`` counts the runs with it). Reads
    PostgreSQL directly, not through the server: one dict per run with ``experiment``,
    ``run_id``, ``run_name``, ``status``, ``params`` and ``metric_points`` (row counts),
    ``models`` (logged models whose source is the run) and ``artifacts`` (the run's files in
    the artifacts folder, relative paths). ``experiments_like`` is an SQL ``LIKE`` pattern of
    letters, digits, ``_``, ``.``, ``-`` and ``%``.
    """
    if not isinstance(experiments_like, str) or not re.fullmatch(
        r"[A-Za-z0-9_.%-]+", experiments_like
    ):
        raise ValueError(
            f"experiments_like must be an SQL LIKE pattern such as 'alice-%', got "
            f"{experiments_like!r}"
        )
    path = class_dir(folder)
    cluster = _load_cluster(path / "postgres")
    if cluster is None or not cluster.running():
        raise ClassroomError(f"The class database in {path} is not running: run `start`.")
    out = _psql(
        cluster,
        f"""
SELECT coalesce(json_agg(row_to_json(x)), '[]') FROM (
  SELECT e.name AS experiment, r.run_uuid AS run_id, r.name AS run_name, r.status,
         r.artifact_uri,
         (SELECT count(*) FROM params p WHERE p.run_uuid = r.run_uuid) AS params,
         (SELECT count(*) FROM metrics m WHERE m.run_uuid = r.run_uuid) AS metric_points,
         (SELECT count(*) FROM logged_models l WHERE l.source_run_id = r.run_uuid) AS models
    FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
   WHERE e.name LIKE '{experiments_like}' AND r.lifecycle_stage = 'active'
   ORDER BY e.name, r.start_time) x;
""",
        database="mlflow",
    )
    runs = json.loads(out.strip() or "[]")
    artifacts_root = _server_dir(path) / "artifacts"
    for run in runs:
        relative = str(run.pop("artifact_uri") or "").removeprefix("mlflow-artifacts:/")
        base = artifacts_root / relative
        run["artifacts"] = (
            sorted(str(f.relative_to(base)) for f in base.rglob("*") if f.is_file())
            if relative and base.is_dir()
            else []
        )
    return runs


def stop(folder: str | os.PathLike[str] | None = None, postgres: bool = True) -> bool:
    """Stop the class server of ``folder`` and, unless ``postgres`` is False, its database.

    Introduced in ``docs/classroom.md`` (``python -m utils.classroom stop``). Returns True
    if the MLflow server was running. Runs, artifacts and accounts stay in the folder.
    """
    path = class_dir(folder)
    if not (path / CLASS_FILE).exists() and not (path / "postgres" / CLUSTER_FILE).exists():
        return False  # not a class folder: nothing to stop
    with _lock(path):
        return _stop_unlocked(path, postgres)


def _stop_unlocked(path: Path, postgres: bool) -> bool:
    record = _read_json(_server_dir(path) / SERVER_FILE)
    stopped = False
    if record:
        # nginx first (no new requests), then every instance behind it.
        pids = [int(record["pid"]), *(int(i["pid"]) for i in record.get("instances", []))]
        for pid in pids:
            if processes.process_alive(pid) and _is_class_server(pid, path):
                processes.terminate(pid)
                stopped = True
        (_server_dir(path) / SERVER_FILE).unlink(missing_ok=True)
    if postgres:
        cluster = _load_cluster(path / "postgres")
        if cluster is not None:
            stop_cluster(cluster)
    return stopped


# --------------------------------------------------------------------------- the REST API


def _api(
    url: str,
    method: str,
    endpoint: str,
    auth: tuple[str, str],
    payload: dict[str, Any] | None = None,
    timeout: float = 60.0,
) -> tuple[int, dict[str, Any]]:
    """Call the server's REST API ``/api/<endpoint>`` as ``auth``; return (status, JSON).

    HTTP 401 and 403 raise :class:`ClassroomError`; other errors come back as their status.
    """
    full = f"{url.rstrip('/')}/api/{endpoint}"
    data = None
    if payload is not None and method == "GET":
        full += "?" + urllib.parse.urlencode(payload)
    elif payload is not None:
        data = json.dumps(payload).encode()
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    request = urllib.request.Request(full, data=data, method=method)
    request.add_header("Authorization", f"Basic {token}")
    request.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read().decode("utf-8", "replace")
            code = response.status
    except urllib.error.HTTPError as err:
        code, body = err.code, err.read().decode("utf-8", "replace")
    except OSError as err:
        raise ClassroomError(
            f"The class server at {url} does not answer ({err}). Is it running? "
            "`python -m utils.classroom status`"
        ) from None
    try:
        parsed = json.loads(body) if body.strip() else {}
    except ValueError:
        parsed = {"message": body.strip()[:300]}
    if not isinstance(parsed, dict):
        parsed = {"message": str(parsed)[:300]}
    if code == 401:
        raise ClassroomError(
            f"The class server at {url} refused the credentials of '{auth[0]}' (HTTP 401): "
            f"the password in {SECRETS_FILE} is not the current one. The server said: "
            f"{_message(parsed)}"
        )
    if code == 403:
        raise ClassroomError(
            f"The class server at {url} refused {method} {endpoint} for '{auth[0]}' (HTTP 403). "
            f"The server said: {_message(parsed)}"
        )
    return code, parsed


def _admin(folder: Path) -> tuple[str, tuple[str, str]]:
    server = status(folder)
    if not server.running or server.url is None:
        raise ClassroomError(f"{server.message} Start it: `python -m utils.classroom start`.")
    keys = _secrets(folder)
    if not keys.get("admin_ready"):
        raise ClassroomError("The class server has not finished its first start yet.")
    return server.url, (ADMIN_USER, keys["admin_password"])


def change_admin_password(
    folder: str | os.PathLike[str] | None = None, new_password: str | None = None
) -> None:
    """Change the admin's password (to a random one if ``new_password`` is None).

    Introduced in ``docs/classroom.md`` (``python -m utils.classroom admin-password``). The
    new password is stored in ``secrets.json`` (mode 600) and never printed.
    """
    path = class_dir(folder)
    new = _new_password() if new_password is None else _check_password(new_password)
    url, (user, current) = _admin(path)
    code, body = _api(
        url,
        "PATCH",
        "2.0/mlflow/users/update-password",
        (user, current),
        {"username": user, "password": new, "current_password": current},
    )
    if code != 200:
        raise ClassroomError(f"The password was not changed (HTTP {code}): {_message(body)}")
    keys = _secrets(path)
    keys["admin_password"] = new
    _save_secrets(path, keys)


def _message(body: dict[str, Any]) -> str:
    return str(body.get("message") or body.get("error_code") or body)[:300]


@dataclass(frozen=True)
class StudentAccount:
    """One student's account on the class server (from :func:`add_students`)."""

    username: str
    password: str = field(repr=False)
    created: bool = True


def read_roster(source: str | os.PathLike[str] | Iterable[str]) -> list[str]:
    """The user names of a class roster: a file, or an iterable of lines.

    Introduced in ``docs/classroom.md``. A plain list has one name per line; a CSV file has a
    header with a ``username`` column. Blank lines and lines starting with ``#`` are
    skipped. A name that is not valid, reserved (``admin``) or given twice is an error.
    """
    if isinstance(source, (str, os.PathLike)):
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ValueError(
                f"the roster {source} does not exist; write one user name per line into it."
            ) from None
        lines = text.splitlines()
    elif isinstance(source, Iterable):
        lines = [str(line) for line in source]
    else:
        raise TypeError(f"the roster must be a file path or a list of names, got {source!r}")
    lines = [line.strip() for line in lines]
    lines = [line for line in lines if line and not line.startswith("#")]
    if lines and "," in lines[0]:
        reader = csv.DictReader(io.StringIO("\n".join(lines)))
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if "username" not in columns:
            raise ValueError(
                f"the roster's CSV header {reader.fieldnames} has no 'username' column; add "
                "one, or give a plain list with one user name per line."
            )
        key = (reader.fieldnames or [])[columns.index("username")]
        names = [(row.get(key) or "").strip() for row in reader]
    else:
        names = lines
    seen: set[str] = set()
    for name in names:
        _check_name(name, "the user name")
        if name.lower() in _RESERVED_USERS:
            raise ValueError(f"the user name {name!r} is reserved; give that student another.")
        if name.lower() in seen:
            raise ValueError(f"the user name {name!r} is in the roster twice.")
        seen.add(name.lower())
    if not names:
        raise ValueError("the roster is empty: write one user name per line.")
    _check_no_name_extends_another(names)
    return names


def _check_no_name_extends_another(names: Iterable[str]) -> None:
    """Refuse ``bob`` with ``bob-smith``: the server gives each student the names that start
    with their user name and a dash (``utils/classroom_server.py``), so one would own the
    other's names."""
    lowered = sorted({name.lower() for name in names})
    for name in lowered:
        for other in lowered:
            if other.startswith(f"{name}-"):
                raise ValueError(
                    f"the user names {name!r} and {other!r} cannot both exist: experiment "
                    f"names start with the user name and a dash, so {name!r} would own "
                    f"{other!r}'s. Give one of them another name, e.g. "
                    f"{other.replace('-', '_')!r}."
                )


def add_students(
    usernames: Sequence[str],
    folder: str | os.PathLike[str] | None = None,
    reset_existing: bool = False,
) -> list[StudentAccount]:
    """Create an account with a random password for each user name; return them all.

    Introduced in ``docs/classroom.md`` (``python -m utils.classroom add-students``).
    Existing accounts are left as they are (``created=False``, no password), unless
    ``reset_existing``: then they get a new random password (a student who forgot theirs).
    """
    if isinstance(usernames, str) or not isinstance(usernames, Sequence):
        raise TypeError("usernames must be a list of user names (see read_roster)")
    names = read_roster(list(usernames))
    url, admin = _admin(class_dir(folder))
    code, body = _api(url, "GET", "2.0/mlflow/users/list", admin)
    existing = [u.get("username", "") for u in body.get("users", [])] if code == 200 else []
    _check_no_name_extends_another(
        {n for n in [*existing, *names] if n.lower() not in _RESERVED_USERS}
    )
    accounts = []
    for name in names:
        password = _new_password()
        code, body = _api(
            url, "POST", "2.0/mlflow/users/create", admin, {"username": name, "password": password}
        )
        if code == 200:
            accounts.append(StudentAccount(name, password, True))
        elif body.get("error_code") == "RESOURCE_ALREADY_EXISTS" and reset_existing:
            code, body = _api(
                url,
                "PATCH",
                "2.0/mlflow/users/update-password",
                admin,
                {"username": name, "password": password},
            )
            if code != 200:
                raise ClassroomError(f"Could not reset '{name}' (HTTP {code}): {_message(body)}")
            accounts.append(StudentAccount(name, password, True))
        elif body.get("error_code") == "RESOURCE_ALREADY_EXISTS":
            accounts.append(StudentAccount(name, "", False))
        else:
            raise ClassroomError(f"Could not create '{name}' (HTTP {code}): {_message(body)}")
    _provision_progress(url, admin, [*existing, *names])
    return accounts


# --------------------------------------------------------------------------- exercise progress


def _progress_experiment(url: str, admin: tuple[str, str], username: str) -> tuple[str, bool]:
    """The id of ``username``'s progress experiment, created by the admin if missing."""
    name = progress.experiment_name(username)
    code, body = _api(
        url, "GET", "2.0/mlflow/experiments/get-by-name", admin, {"experiment_name": name}
    )
    if code == 200:
        return str(body["experiment"]["experiment_id"]), False
    code, body = _api(url, "POST", "2.0/mlflow/experiments/create", admin, {"name": name})
    if code != 200:
        raise ClassroomError(
            f"Could not create the experiment {name!r} (HTTP {code}): {_message(body)}"
        )
    return str(body["experiment_id"]), True


def _provision_progress(url: str, admin: tuple[str, str], usernames: Iterable[str]) -> None:
    """Give every student an exercise-progress experiment only they and the admin can read.

    Each student gets ``EDIT`` on their own (to write their record) and every other student
    ``DENY`` on it, whatever the class's default permission: a class of n students
    needs n(n-1) grants, made once, when the students are added (and for the pairs a later
    ``add-students`` adds). Running it again repairs what is missing.
    """
    students = sorted({u for u in usernames if u.lower() not in _RESERVED_USERS})
    ids = {user: _progress_experiment(url, admin, user) for user in students}
    for owner, (experiment_id, created) in ids.items():
        wanted = {user: ("EDIT" if user == owner else "DENY") for user in students}
        for user, level in wanted.items():
            if not created:
                code, body = _api(
                    url,
                    "GET",
                    "3.0/mlflow/users/permissions/get",
                    admin,
                    {"username": user, "resource_type": "experiment", "resource_id": experiment_id},
                )
                if code == 200 and body.get("permission") == level:
                    continue
            _grant(url, admin, user, "experiment", experiment_id, level)


@dataclass(frozen=True)
class ClassProgress:
    """The class's exercise progress, as the instructor's admin account reads it."""

    exercises: list[str]
    students: dict[str, dict[str, progress.Outcome]]

    def table(self) -> str:
        """Students by exercises: ``ok`` solved, ``xN`` N distinct wrong answers, ``.`` none."""
        width = max([7, *(len(s) for s in self.students)])
        head = " ".join(e[-4:].rjust(5) for e in self.exercises)
        lines = [f"{'student'.ljust(width)} {head}  solved"]
        for student, outcomes in sorted(self.students.items()):
            cells = [_cell_text(outcomes.get(e)).rjust(5) for e in self.exercises]
            solved = sum(1 for o in outcomes.values() if o.solved)
            lines.append(f"{student.ljust(width)} {' '.join(cells)}  {solved}")
        lines.append(
            "ok = solved (attempts), xN = N wrong answers and not solved yet, . = not attempted"
        )
        return "\n".join(lines)


def _cell_text(outcome: progress.Outcome | None) -> str:
    if outcome is None:
        return "."
    return f"ok{outcome.attempts}" if outcome.solved else f"x{outcome.attempts}"


def class_progress(folder: str | os.PathLike[str] | None = None) -> ClassProgress:
    """Read every student's progress record from the class server (admin account).

    Introduced in ``docs/classroom.md`` (``python -m utils.classroom progress``).
    """
    url, admin = _admin(class_dir(folder))
    code, body = _api(url, "GET", "2.0/mlflow/users/list", admin)
    users = [u.get("username", "") for u in body.get("users", [])] if code == 200 else []
    students = sorted(u for u in users if u and u.lower() not in _RESERVED_USERS)
    found: dict[str, dict[str, progress.Outcome]] = {}
    for user in students:
        name = progress.experiment_name(user)
        code, body = _api(
            url, "GET", "2.0/mlflow/experiments/get-by-name", admin, {"experiment_name": name}
        )
        outcomes: dict[str, progress.Outcome] = {}
        if code == 200:
            search = {
                "experiment_ids": [body["experiment"]["experiment_id"]],
                "filter": f"attributes.run_name = '{progress.RUN_NAME}'",
                "max_results": 1,
            }
            code, runs = _api(url, "POST", "2.0/mlflow/runs/search", admin, search)
            for run in runs.get("runs", [])[:1]:
                tags = {t["key"]: t["value"] for t in run.get("data", {}).get("tags", [])}
                outcomes = progress.outcomes_from_tags(tags)
        found[user] = outcomes
    exercises = sorted(set(progress.exercise_ids()) | {e for o in found.values() for e in o})
    return ClassProgress(exercises, found)


def progress_page(report: ClassProgress, path: str | os.PathLike[str]) -> Path:
    """Write the class's progress as one static HTML page (a heat map with counts in the cells).

    No external assets; every cell carries its count and a symbol, not colour alone, and the
    colours (blue for solved, orange for wrong answers only) stay apart for colour-blind
    readers and in grey.
    """
    out = Path(path)
    rows = []
    worst = max(
        [1, *(o.attempts for s in report.students.values() for o in s.values() if not o.solved)]
    )
    for student, outcomes in sorted(report.students.items()):
        cells = []
        for exercise in report.exercises:
            o = outcomes.get(exercise)
            if o is None:
                cells.append('<td class="none" title="not attempted">&middot;</td>')
            elif o.solved:
                cells.append(
                    f'<td class="ok" title="solved after {o.attempts} answer(s)">'
                    f"&#10004; {o.attempts}</td>"
                )
            else:
                shade = 0.25 + 0.75 * o.attempts / worst
                cells.append(
                    f'<td class="bad" style="background: rgba(230, 97, 1, {shade:.2f})" '
                    f'title="{o.attempts} wrong answer(s), not solved">&#10008; {o.attempts}</td>'
                )
        solved = sum(1 for o in outcomes.values() if o.solved)
        rows.append(f"<tr><th>{html.escape(student)}</th>{''.join(cells)}<td>{solved}</td></tr>")
    stuck = [
        f"{e}: {sum(1 for s in report.students.values() if e in s and not s[e].solved)}"
        for e in report.exercises
    ]
    head = "".join(f"<th>{html.escape(e)}</th>" for e in report.exercises)
    out.write_text(
        _PAGE.format(
            when=html.escape(time.strftime("%Y-%m-%d %H:%M")),
            head=head,
            rows="\n".join(rows),
            stuck=html.escape(", ".join(s for s in stuck if not s.endswith(": 0")) or "nobody"),
        ),
        encoding="utf-8",
    )
    return out


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Class progress</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
table {{ border-collapse: collapse; font-size: 1.1em; }}
th, td {{ border: 1px solid #999; padding: 0.3em 0.5em; text-align: center; }}
td.ok {{ background: #2c7bb6; color: #fff; }}
td.bad {{ color: #000; font-weight: bold; }}
td.none {{ color: #595959; }}
</style></head><body>
<h1>Class progress</h1>
<p>Read from the class server at {when}. &#10004; n: solved after n distinct answers;
&#10008; n: n wrong answers, not solved yet (darker: more); &middot;: not attempted.</p>
<table><tr><th>student</th>{head}<th>solved</th></tr>
{rows}
</table>
<p>Tried and not solved, per exercise: {stuck}.</p>
</body></html>
"""


def write_credentials(
    accounts: Iterable[StudentAccount], path: str | os.PathLike[str], url: str
) -> int:
    """Write the new accounts' ``username,password,tracking_uri`` to a CSV file (mode 600).

    Introduced in ``docs/classroom.md``. Returns the number of rows. The file must not exist
    yet and must not lie in the course repository (it holds passwords).
    """
    out = Path(path).expanduser().resolve()
    _refuse_inside_repo(out, "the credentials file")
    if out.exists():
        raise ValueError(f"{out} exists already; choose a new file name (it holds passwords).")
    rows = [a for a in accounts if a.created]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["username", "password", "tracking_uri"])
    for account in rows:
        writer.writerow([account.username, account.password, url])
    out.parent.mkdir(parents=True, exist_ok=True)
    write_private(out, buffer.getvalue())
    return len(rows)


def read_credentials(path: str | os.PathLike[str]) -> dict[str, StudentAccount]:
    """Read a credentials file written by :func:`write_credentials` (name -> account)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if rows and not {"username", "password"} <= set(rows[0]):
        raise ValueError(f"{path} is not a credentials file (columns username, password).")
    return {r["username"]: StudentAccount(r["username"], r["password"]) for r in rows}


def student_env(url: str, username: str, password: str) -> dict[str, str]:
    """The three environment variables that point a student's notebooks at the class server.

    Introduced in ``docs/classroom.md``; :func:`utils.tracking.connect` reads them.
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"url must be the server's http(s) address, got {url!r}")
    return {
        "MLFLOW_TRACKING_URI": url,
        "MLFLOW_TRACKING_USERNAME": _check_name(username, "the user name"),
        "MLFLOW_TRACKING_PASSWORD": _check_password(password),
    }


def _resource(url: str, admin: tuple[str, str], experiment: str | None, model: str | None):
    if (experiment is None) == (model is None):
        raise ValueError("give exactly one of experiment=... or registered_model=...")
    if model is not None:
        return "registered_model", _check_name(model, "the registered model name")
    assert experiment is not None
    code, body = _api(
        url,
        "GET",
        "2.0/mlflow/experiments/get-by-name",
        admin,
        {"experiment_name": _check_name(experiment, "the experiment name")},
    )
    if code != 200:
        raise ValueError(f"there is no experiment named {experiment!r} on the class server.")
    return "experiment", str(body["experiment"]["experiment_id"])


def grant(
    username: str,
    level: str,
    experiment: str | None = None,
    registered_model: str | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> None:
    """Give ``username`` the permission ``level`` on one experiment or registered model.

    Introduced in ``docs/classroom.md`` (``python -m utils.classroom grant``), e.g. to let a
    pair of students log into one experiment (``EDIT``) or to hide one (``DENY``).
    """
    if level not in PERMISSIONS:
        raise ValueError(f"level must be one of {', '.join(PERMISSIONS)}, got {level!r}")
    _check_name(username, "the user name")
    url, admin = _admin(class_dir(folder))
    kind, resource_id = _resource(url, admin, experiment, registered_model)
    _grant(url, admin, username, kind, resource_id, level)


def _grant(
    url: str, admin: tuple[str, str], username: str, kind: str, resource_id: str, level: str
) -> None:
    target = {"username": username, "resource_type": kind, "resource_id": resource_id}
    endpoint = "3.0/mlflow/users/permissions/grant"
    code, body = _api(url, "POST", endpoint, admin, {**target, "permission": level})
    if body.get("error_code") == "RESOURCE_ALREADY_EXISTS":
        # A grant exists already: replace it (the API has no update for a user's grant).
        _api(url, "POST", "3.0/mlflow/users/permissions/revoke", admin, target)
        code, body = _api(url, "POST", endpoint, admin, {**target, "permission": level})
    if code != 200:
        raise ClassroomError(f"The permission was not granted (HTTP {code}): {_message(body)}")


def permission(
    username: str,
    experiment: str | None = None,
    registered_model: str | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> str:
    """The permission ``username`` has on one experiment or registered model (e.g. ``READ``).

    Introduced in ``docs/classroom.md`` (``python -m utils.classroom permission``).
    """
    _check_name(username, "the user name")
    url, admin = _admin(class_dir(folder))
    kind, resource_id = _resource(url, admin, experiment, registered_model)
    code, body = _api(
        url,
        "GET",
        "3.0/mlflow/users/permissions/get",
        admin,
        {"username": username, "resource_type": kind, "resource_id": resource_id},
    )
    if code != 200:
        raise ClassroomError(f"Could not read the permission (HTTP {code}): {_message(body)}")
    return str(body["permission"])


# --------------------------------------------------------------------------- command line


def _read_new_password(source: str | None) -> str | None:
    if source == "-":
        return sys.stdin.readline().rstrip("\n")
    if source:
        return Path(source).read_text(encoding="utf-8").splitlines()[0]
    if sys.stdin.isatty():
        first = getpass.getpass("New admin password (12 characters or more): ")
        if getpass.getpass("Again: ") != first:
            raise ValueError("the two passwords differ; nothing was changed.")
        return first
    return None


def _parser() -> argparse.ArgumentParser:
    """The command line of ``python -m utils.classroom``: one subcommand per task."""
    parser = argparse.ArgumentParser(
        prog="python -m utils.classroom",
        description="A shared MLflow tracking server for a class (see docs/classroom.md).",
    )
    parser.add_argument(
        "--dir",
        default=None,
        help=f"the class folder (default: ${DIR_ENV}, else ~/mlops-class)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_init = sub.add_parser("init", help="create and start PostgreSQL and the databases")
    p_init.add_argument("--pg-port", type=int, default=None, help="PostgreSQL's port")
    _add_start_arguments(sub.add_parser("start", help="start the class server (and PostgreSQL)"))
    p_stop = sub.add_parser("stop", help="stop the class server and PostgreSQL")
    p_stop.add_argument("--keep-postgres", action="store_true")
    sub.add_parser("status", help="is the class server running, and where?")
    p_pw = sub.add_parser("admin-password", help="change the admin's password")
    p_pw.add_argument(
        "--from-file", default=None, help="read it from this file ('-': standard input)"
    )
    p_add = sub.add_parser("add-students", help="create accounts from a roster")
    p_add.add_argument("roster", help="one user name per line, or a CSV with 'username'")
    p_add.add_argument("--out", required=True, help="new CSV file for the passwords")
    p_add.add_argument("--url", default=None, help="the address students use")
    p_add.add_argument(
        "--reset-existing", action="store_true", help="new passwords for existing accounts"
    )
    sub.add_parser("progress", help="the class's exercise progress (table and HTML page)")
    for name in ("grant", "permission"):
        p = sub.add_parser(name, help=f"{name} a permission on an experiment or model")
        p.add_argument("username")
        if name == "grant":
            p.add_argument("level", choices=PERMISSIONS)
        what = p.add_mutually_exclusive_group(required=True)
        what.add_argument("--experiment")
        what.add_argument("--registered-model")
    return parser


def _add_start_arguments(p_start: argparse.ArgumentParser) -> None:
    """The options of ``start`` (:func:`start`'s arguments)."""
    p_start.add_argument("--port", type=int, default=None, help=f"default ${PORT_ENV} or 5060")
    p_start.add_argument(
        "--host", default="127.0.0.1", help="address to bind (opt in: e.g. 0.0.0.0)"
    )
    p_start.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"server processes (default ${WORKERS_ENV}, else one per CPU core, 2 to 4)",
    )
    p_start.add_argument("--default-permission", default="READ", choices=["READ", "NO_PERMISSIONS"])
    p_start.add_argument("--allowed-hosts", default=None, help="host names students type")
    p_start.add_argument(
        "--instances",
        type=int,
        default=None,
        help="separate server processes behind nginx on the class port (default: as the last "
        "start, else 1; needs nginx)",
    )
    p_start.add_argument(
        "--request-log",
        action="store_true",
        help="append each request's time inside the server to server/requests.log",
    )


def _int_from_env(name: str, what: str) -> int | None:
    """The whole number in environment variable ``name``, or None when it is unset or empty.

    Raises:
        ValueError: it holds something else (``what`` says what was expected).
    """
    value = os.environ.get(name)
    if not value:
        return None
    if not value.isdigit():
        raise ValueError(f"{name}={value!r} is not {what}")
    return int(value)


def _command_init(args: argparse.Namespace, folder: Path) -> int:
    cluster = init(folder, pg_port=args.pg_port)
    print(f"PostgreSQL runs on 127.0.0.1:{cluster.port}; class folder {folder}.")
    return 0


def _command_start(args: argparse.Namespace, folder: Path) -> int:
    port = args.port if args.port is not None else _int_from_env(PORT_ENV, "a port number")
    if args.host != "127.0.0.1":
        print(
            f"Binding {args.host}: every machine that can reach this one on port "
            f"{port or DEFAULT_PORT} can reach the login of the MLflow server (plain "
            "HTTP: passwords cross the network unencrypted)."
        )
    workers = args.workers
    if workers is None:
        workers = _int_from_env(WORKERS_ENV, "a number")
    server = start(
        folder,
        port=port,
        host=args.host,
        workers=workers,
        default_permission=args.default_permission,
        allowed_hosts=args.allowed_hosts,
        instances=args.instances,
        request_log=args.request_log,
    )
    print(server.message)
    return 0


def _command_stop(args: argparse.Namespace, folder: Path) -> int:
    stopped = stop(folder, postgres=not args.keep_postgres)
    print("Stopped the class server." if stopped else "No class server was running.")
    return 0


def _command_status(args: argparse.Namespace, folder: Path) -> int:  # noqa: ARG001
    current = status(folder)
    print(current.message)
    return 0 if current.running else 3


def _command_admin_password(args: argparse.Namespace, folder: Path) -> int:
    change_admin_password(folder, _read_new_password(args.from_file))
    print(f"Changed the admin password; it is kept in {folder / SECRETS_FILE} (mode 600).")
    return 0


def _command_add_students(args: argparse.Namespace, folder: Path) -> int:
    names = read_roster(args.roster)
    url = args.url or status(folder).student_url or ""
    accounts = add_students(names, folder, reset_existing=args.reset_existing)
    rows = write_credentials(accounts, args.out, url)
    existing = sum(not a.created for a in accounts)
    print(
        f"Wrote {rows} accounts ({existing} existed already and were kept). "
        f"Passwords: {Path(args.out).resolve()} (mode 600; hand each student theirs)."
    )
    return 0


def _command_progress(args: argparse.Namespace, folder: Path) -> int:  # noqa: ARG001
    report = class_progress(folder)
    print(report.table())
    page = progress_page(report, folder / PROGRESS_PAGE)
    print(f"Wrote {page} (open it in a browser; run this again to refresh it).")
    return 0


def _command_grant(args: argparse.Namespace, folder: Path) -> int:
    grant(args.username, args.level, args.experiment, args.registered_model, folder)
    what = args.experiment or args.registered_model
    print(f"{args.username} now has {args.level} on {what}.")
    return 0


def _command_permission(args: argparse.Namespace, folder: Path) -> int:
    print(permission(args.username, args.experiment, args.registered_model, folder))
    return 0


#: What each subcommand of :func:`main` runs; each prints its outcome and returns the exit code.
_COMMANDS = {
    "init": _command_init,
    "start": _command_start,
    "stop": _command_stop,
    "status": _command_status,
    "admin-password": _command_admin_password,
    "add-students": _command_add_students,
    "progress": _command_progress,
    "grant": _command_grant,
    "permission": _command_permission,
}


def main(argv: list[str] | None = None) -> int:
    """Run the classroom command line (``python -m utils.classroom``); return the exit code."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args, class_dir(args.dir))
    except (ClassroomError, ValueError, TypeError, tracking.TrackingServerError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
