"""utils.processes with real processes and real sockets: ports, spawn, readiness, stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from utils import processes

# A tiny HTTP server: /health answers OK once the file named by its second argument exists
# (so a test decides when it is "ready"); it starts a grandchild in the same process group
# that leaves the tree (its parent exits), as a worker that outlives a supervisor would.
SERVER = r"""
import http.server, os, subprocess, sys
port, ready_file = int(sys.argv[1]), sys.argv[2]
subprocess.Popen([sys.executable, "-c",
    "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
    "'import time; time.sleep(600)']); time.sleep(0.1)"])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == "/health" and os.path.exists(ready_file)
        self.send_response(200 if ok else 503)
        self.end_headers()
        self.wfile.write(b"OK" if ok else b"starting")
    def log_message(self, *args):
        print("request", self.path, flush=True)
print("listening on", port, flush=True)
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def _wait_for(condition, seconds: float = 30.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_ports_free_taken_and_owner() -> None:
    port = processes.free_port()
    assert processes.port_is_free(port)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert not processes.port_is_free(port)
        listeners = processes.listener_pids(port)
        if listeners is not None:  # the system tells us who listens
            assert os.getpid() in listeners
            assert f"pid {os.getpid()}" in processes.port_owner(port)
    assert processes.port_is_free(port)
    assert processes.port_owner(port) == ""


@pytest.mark.parametrize("bad", [0, 70000, True, "5050", 5.0])
def test_bad_ports_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="1 to 65535"):
        processes.port_is_free(bad)  # type: ignore[arg-type]


def test_check_port() -> None:
    assert processes.check_port(5050) == 5050
    with pytest.raises(TypeError, match="must be an int"):
        processes.check_port("5050")
    with pytest.raises(ValueError, match="1024 and 65535"):
        processes.check_port(80, "lab port")


def test_spawn_wait_recognise_and_stop_a_server(tmp_path: Path) -> None:
    port = processes.free_port()
    ready_file = tmp_path / "ready"
    log_file = tmp_path / "logs" / "server.log"
    log_file.parent.mkdir()
    log_file.write_text("an earlier run\n")
    command = [sys.executable, "-c", SERVER, str(port), str(ready_file)]
    proc, log_start = processes.spawn(
        command, log_file, cwd=tmp_path, env=os.environ, header="=== starting"
    )
    try:
        assert log_start == len("an earlier run\n")
        url = f"http://127.0.0.1:{port}"
        # Not ready: the server answers, but /health is not OK yet.
        ended = processes.wait_ready(proc, lambda: processes.healthy(url), timeout=1.0)
        assert ended == "timeout" and proc.poll() is None
        ended = processes.wait_ready(
            proc, lambda: processes.healthy(url), timeout=60, tick=lambda elapsed: False
        )
        assert ended == "interrupted"
        ready_file.touch()
        assert processes.wait_ready(proc, lambda: processes.healthy(url), timeout=60) == "ready"
        assert processes.http_get(f"{url}/other")[0] == 503
        assert processes.serves_port(proc.pid, port)
        if processes.listener_pids(port) is not None:  # another process's health is not ours
            other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            try:
                assert not processes.serves_port(other.pid, port)
            finally:
                processes.terminate(other)
        # Recognised by whole arguments: a prefix of its ready file is another server's.
        assert processes.runs_with_arguments(proc.pid, "-c", str(ready_file))
        assert not processes.runs_with_arguments(proc.pid, "-c", str(ready_file)[:-1])
        assert not processes.runs_with_arguments(os.getpid(), str(ready_file))
        tail = processes.log_tail(log_file, log_start)
        assert "=== starting" in tail and "listening on" in tail and "an earlier" not in tail
        # Its own process group, with a grandchild that left its tree.
        assert os.getpgid(proc.pid) == proc.pid
        assert _wait_for(lambda: len(processes.process_group_members(proc.pid)) >= 2)
        assert processes.terminate(proc, timeout=10) is True
        assert proc.returncode is not None  # reaped: no zombie left
        assert not processes.process_alive(proc.pid)
        assert _wait_for(lambda: processes.process_group_members(proc.pid) == [])
        assert processes.port_is_free(port)
        assert processes.terminate(proc.pid) is False  # already gone
    finally:
        if proc.poll() is None:
            processes.terminate(proc)


def test_a_process_that_exits_while_starting(tmp_path: Path) -> None:
    log_file = tmp_path / "server.log"
    script = "import sys; print('Error: address already in use', file=sys.stderr); sys.exit(3)"
    proc, start = processes.spawn([sys.executable, "-c", script], log_file, cwd=tmp_path, env={})
    assert processes.wait_ready(proc, lambda: False, timeout=60) == "exited"
    assert proc.returncode == 3
    assert processes.log_tail(log_file, start) == "    Error: address already in use"


def test_reap_in_background_leaves_no_zombie(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    processes.reap_in_background(proc)
    assert processes.process_alive(proc.pid)
    processes.terminate(proc.pid, timeout=10)  # by number, as another process would
    assert _wait_for(lambda: proc.returncode is not None)
    with pytest.raises(TypeError, match="process id"):
        processes.process_alive("1")  # type: ignore[arg-type]


def test_log_tail_without_a_log_or_with_an_empty_one(tmp_path: Path) -> None:
    assert processes.log_tail(tmp_path / "missing.log") == "    (no log)"
    (tmp_path / "empty.log").write_text("\n\n")
    assert processes.log_tail(tmp_path / "empty.log") == "    (the log is empty)"
    (tmp_path / "long.log").write_text("".join(f"line {i}\n\n" for i in range(40)))
    tail = processes.log_tail(tmp_path / "long.log", lines=3).splitlines()
    assert tail == ["    line 37", "    line 38", "    line 39"]


def test_lock_lets_one_holder_at_a_time(tmp_path: Path) -> None:
    with processes.lock(tmp_path / "server.lock", timeout=5):
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from utils import processes\n"
                "try:\n"
                f"    processes.lock(processes.Path({str(tmp_path / 'server.lock')!r}), 0.2)"
                ".acquire()\n"
                "except Exception as err:\n"
                "    sys.exit(type(err).__name__)",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert other.returncode == 1 and "Timeout" in other.stderr
    with processes.lock(tmp_path / "server.lock", timeout=0.2):  # free again
        pass


def test_records_are_written_whole_and_damaged_ones_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "server.json"
    assert processes.read_record(path, "pid") is None  # no server recorded
    processes.write_record(path, {"pid": 12, "port": 5050, "url": "http://127.0.0.1:5050"})
    assert processes.read_record(path, "pid", "port", "url") == {
        "pid": 12,
        "port": 5050,
        "url": "http://127.0.0.1:5050",
    }
    assert [p.name for p in tmp_path.iterdir()] == ["server.json"]  # no temporary file left
    with pytest.raises(ValueError, match="lacks one of"):
        processes.read_record(path, "pid", "token")
    for damaged in ('{"pid": 1', '["pid"]', '{"pid": "12"}', '{"pid": true}'):
        path.write_text(damaged)
        with pytest.raises(ValueError, match="server.json"):
            processes.read_record(path, "pid")
    # Without required keys, any JSON object is a record; anything else is still refused,
    # and invalid JSON says where the parser stopped.
    path.write_text('{"token": "x"}')
    assert processes.read_record(path) == {"token": "x"}
    path.write_text("[]")
    with pytest.raises(ValueError, match="server.json is not a JSON object"):
        processes.read_record(path)
    path.write_text('{"pid": 1')
    with pytest.raises(ValueError, match=r"server.json is not valid JSON \(.*line 1"):
        processes.read_record(path)


def test_a_process_that_sets_its_own_title_is_recognised_by_it(tmp_path: Path) -> None:
    """nginx replaces its command line with one title; ``exec -a`` makes such a process."""
    conf = tmp_path / "server" / "nginx.conf"
    title = f"nginx: master process /usr/sbin/nginx -p {tmp_path} -c {conf}"
    proc = subprocess.Popen(["bash", "-c", f'exec -a "{title}" sleep 60'])
    try:
        assert _wait_for(lambda: processes.runs_with_arguments(proc.pid, "60"))  # exec'd
        assert processes.runs_with_arguments(proc.pid, "-c", str(conf), title="nginx:")
        # Whole words of the title only: a prefix of the path is another folder's server.
        assert not processes.runs_with_arguments(proc.pid, str(conf)[:-1], title="nginx:")
        # Only with the title it starts with: otherwise the title is a single argument.
        assert not processes.runs_with_arguments(proc.pid, "-c", str(conf))
        assert not processes.runs_with_arguments(proc.pid, "-c", str(conf), title="mlflow")
        assert not processes.runs_with_arguments(os.getpid(), str(conf), title="nginx:")
    finally:
        processes.terminate(proc)


def test_what_is_left_of_a_group_whose_leader_exited_is_stopped(tmp_path: Path) -> None:
    script = (
        "import subprocess, sys; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
        "print('started', flush=True)"
    )
    proc, _ = processes.spawn(
        [sys.executable, "-c", script], tmp_path / "log", cwd=tmp_path, env={}
    )
    assert proc.wait(timeout=60) == 0
    assert _wait_for(lambda: len(processes.process_group_members(proc.pid)) == 1)
    assert processes.terminate(proc, timeout=10) is False  # the leader had already exited
    assert _wait_for(lambda: processes.process_group_members(proc.pid) == [])
