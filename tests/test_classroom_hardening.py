"""The class server survives what an instructor meets in the first lesson (utils/classroom.py).

One real class folder (PostgreSQL and ``mlflow server --app-name mlops-classroom``) is set up
for the module and used in order: a start with ``--allowed-hosts`` keeps loopback working and is
remembered by the next start; a server that is slow to answer is left running by a second
start; a crash between the admin's password change and saving it is recovered; another class's
server whose folder name shares a prefix is not taken for ours; no student can take another's
names.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import require_tool
from utils import classroom, processes

MISSING = classroom.postgres_missing_reason()
pytestmark = [pytest.mark.postgres, pytest.mark.server]


def _get(url: str, host: str, auth: tuple[str, str] | None = None) -> tuple[int, str]:
    import base64

    request = urllib.request.Request(f"{url}/api/2.0/mlflow/experiments/search?max_results=1")
    request.add_header("Host", host)
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _admin(folder: Path) -> tuple[str, str]:
    keys = json.loads((folder / classroom.SECRETS_FILE).read_text())
    return classroom.ADMIN_USER, keys["admin_password"]


@pytest.fixture(scope="module")
def folder():
    require_tool(MISSING is None, f"classroom mode needs PostgreSQL: {MISSING}")
    base = Path(tempfile.mkdtemp(prefix="mlops-class-hard-"))
    base.chmod(0o711)
    path = base / "class"
    classroom.init(path)
    try:
        yield path
    finally:
        classroom.stop(path)
        shutil.rmtree(base, ignore_errors=True)


def test_allowed_hosts_keep_loopback_and_are_remembered_by_the_next_start(folder: Path) -> None:
    port = processes.free_port()
    server = classroom.start(folder, port=port, workers=1, allowed_hosts="class.example.org")
    assert server.running and server.started, server.message
    # The first start finished: the admin's one-off password was replaced and works.
    keys = json.loads((folder / classroom.SECRETS_FILE).read_text())
    assert keys["admin_ready"] and "admin_password_pending" not in keys
    url = f"http://127.0.0.1:{port}"
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"class.example.org:{port}"):
        code, body = _get(url, host, _admin(folder))
        assert code == 200, (host, code, body)
    code, body = _get(url, f"evil.example.com:{port}", _admin(folder))
    assert code == 403 and "Invalid Host header" in body
    assert classroom.status(folder).running
    settings = json.loads((folder / classroom.CLASS_FILE).read_text())
    assert settings["allowed_hosts"] == "class.example.org"

    # The restart the guide recommends after a crash: no option given, the saved one is used.
    classroom.stop(folder, postgres=False)
    again = classroom.start(folder, port=port, workers=1)
    assert again.started and again.running
    assert _get(url, f"class.example.org:{port}", _admin(folder))[0] == 200
    assert _get(url, f"127.0.0.1:{port}", _admin(folder))[0] == 200


def test_a_second_start_leaves_a_slow_server_running(folder: Path) -> None:
    server = classroom.status(folder)
    assert server.running and server.pid
    process_group = os.getpgid(server.pid)
    os.killpg(process_group, signal.SIGSTOP)  # a server too busy to answer /health
    try:
        with pytest.raises(classroom.ClassroomError, match="left running"):
            classroom.start(folder, port=server.port, workers=1, busy_timeout=3)
        assert processes.process_alive(server.pid)
    finally:
        os.killpg(process_group, signal.SIGCONT)
    deadline = time.monotonic() + 60
    while not classroom.status(folder).running and time.monotonic() < deadline:
        time.sleep(1)
    after = classroom.status(folder)
    assert after.running and after.pid == server.pid  # the same process, never restarted
    assert classroom.start(folder, port=server.port, workers=1).message.startswith("Reusing")


def test_a_crash_between_password_change_and_saving_it_is_recovered(folder: Path) -> None:
    server = classroom.status(folder)
    assert server.running
    secrets_file = folder / classroom.SECRETS_FILE
    keys = json.loads(secrets_file.read_text())
    current = keys["admin_password"]
    # What the folder holds when the process dies right after the server accepted the new
    # password: the old one-off password, the new one pending, the admin not marked ready.
    keys.update(admin_password="one-off-password-not-valid-any-more", admin_ready=False)
    keys["admin_password_pending"] = current
    secrets_file.write_text(json.dumps(keys))
    assert classroom.status(folder).problem == "first-start"
    result = classroom.start(folder, port=server.port, workers=1)
    assert result.running and result.pid == server.pid
    keys = json.loads(secrets_file.read_text())
    assert keys["admin_ready"] and keys["admin_password"] == current
    assert "admin_password_pending" not in keys
    assert classroom.status(folder).running


def test_a_refused_api_is_reported_with_the_servers_reason(folder: Path) -> None:
    server = classroom.status(folder)
    assert server.running and server.url
    with pytest.raises(classroom.ClassroomError, match="The server said"):
        classroom._api(server.url, "GET", "2.0/mlflow/experiments/search", ("admin", "x" * 16))


def _call(url: str, auth: tuple[str, str], endpoint: str, body: dict) -> tuple[int, dict]:
    try:
        return classroom._api(url, "POST", endpoint, auth, body)
    except classroom.ClassroomError as error:  # 403 raises, with the server's reason
        return 403, {"message": str(error)}


def test_a_students_names_are_reserved_for_them(folder: Path) -> None:
    server = classroom.status(folder)
    assert server.running and server.url
    accounts = {a.username: a for a in classroom.add_students(["alice", "bob"], folder)}
    alice = ("alice", accounts["alice"].password)
    bob = ("bob", accounts["bob"].password)
    url = server.url
    create_experiment = "2.0/mlflow/experiments/create"
    create_model = "2.0/mlflow/registered-models/create"
    # alice tries bob's names first: refused, with a message that says whose names are hers.
    for endpoint, name in [
        (create_experiment, "bob-05-experiment-tracking"),
        (create_model, "bob-06-churn-classifier"),
        (create_experiment, "05-experiment-tracking"),  # no prefix at all: nobody's to take
    ]:
        code, body = _call(url, alice, endpoint, {"name": name})
        assert code == 403 and "start with your user name: 'alice-...'" in body["message"], body
    # bob creates his own names afterwards, as if nothing happened.
    code, body = _call(url, bob, create_experiment, {"name": "bob-05-experiment-tracking"})
    assert code == 200, body
    assert _call(url, bob, create_model, {"name": "bob-06-churn-classifier"})[0] == 200
    # alice's own names work; renaming hers into bob's is refused too.
    code, body = _call(url, alice, create_experiment, {"name": "alice-05-experiment-tracking"})
    assert code == 200, body
    assert _call(url, alice, create_model, {"name": "alice-06-churn-classifier"})[0] == 200
    try:
        code, _ = classroom._api(
            url,
            "POST",
            "2.0/mlflow/experiments/update",
            alice,
            {"experiment_id": body["experiment_id"], "new_name": "bob-07-testing"},
        )
    except classroom.ClassroomError as error:
        code = 403
        assert "not yours to create" in str(error)
    assert code == 403
    # After alice's attempts bob still creates more of his own; the admin may name anything.
    assert _call(url, bob, create_experiment, {"name": "bob-07-testing"})[0] == 200
    admin = _admin(folder)
    assert _call(url, admin, create_experiment, {"name": "class-demo"})[0] == 200


def test_a_user_name_that_extends_another_is_refused(folder: Path) -> None:
    with pytest.raises(ValueError, match="cannot both exist"):
        classroom.read_roster(["carol", "carol-smith"])
    with pytest.raises(ValueError, match="'bob' and 'bob-smith' cannot both exist"):
        classroom.add_students(["bob-smith"], folder)  # bob exists already


def test_a_server_of_a_folder_sharing_our_prefix_is_not_ours(tmp_path: Path) -> None:
    ours, other = tmp_path / "race", tmp_path / "race2"
    argv = [
        sys.executable,
        "-c",
        "import time; time.sleep(60)",
        "mlflow",
        "--app-name",
        classroom.APP_NAME,
        "--artifacts-destination",
        str(other / "server" / "artifacts"),
    ]
    proc = subprocess.Popen(argv)
    try:
        time.sleep(0.5)
        assert classroom._is_class_server(proc.pid, other)
        assert not classroom._is_class_server(proc.pid, ours)
    finally:
        proc.kill()
        proc.wait()


def test_allowed_host_patterns_always_hold_loopback_and_private_networks() -> None:
    patterns = classroom.allowed_host_patterns("0.0.0.0", 5060, "class.example.org, 10.1.2.3")
    for needed in ("127.0.0.1", "127.0.0.1:*", "localhost:*", "10.*", "192.168.*"):
        assert needed in patterns
    assert "class.example.org:5060" in patterns and "class.example.org:*" in patterns
    import socket

    assert f"{socket.gethostname()}:5060" in patterns  # the address in credentials.csv
    with pytest.raises(ValueError, match="comma-separated host names"):
        classroom._check_allowed_hosts("a b; rm -rf /")
