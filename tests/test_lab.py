"""`make lab` (python -m utils lab): starts what it should, offline, and Ctrl-C stops it all."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from utils import lab, processes, tracking
from utils.paths import repo_root


def _start_lab(state: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI",)}
    env["MLOPS_COURSE_STATE"] = str(state)
    return subprocess.Popen(
        [sys.executable, "-m", "utils", "lab", "--no-browser"],
        cwd=repo_root(),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_lab_file(state: Path, proc: subprocess.Popen[str], timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = lab.read_lab_file(state)
        if info:
            return info
        if proc.poll() is not None:
            pytest.fail(f"make lab exited early:\n{proc.stdout.read() if proc.stdout else ''}")
        time.sleep(0.5)
    proc.kill()
    pytest.fail("make lab did not write lab.json in time")


def _ctrl_c(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=90)
    return out


@pytest.mark.server
def test_lab_starts_server_and_jupyterlab_offline_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    proc = _start_lab(tmp_path)
    try:
        info = _wait_for_lab_file(tmp_path, proc)
        jupyter = psutil.Process(info["jupyter_pid"])
        server_pid = info["mlflow_pid"]
        assert info["mlflow_started_by_lab"] is True
        # Both answer on loopback; JupyterLab only with its token.
        assert processes.healthy(info["mlflow_ui"])
        assert info["jupyterlab"].startswith("http://127.0.0.1:")
        assert info["jupyterlab"].endswith(
            f"/lab/tree/notebooks/00_start_here.ipynb?token={info['token']}"
        )
        code, page = processes.http_get(info["jupyterlab"], timeout=10)
        assert code == 200
        # The page configuration shows the news feed off; the update check is never asked.
        assert '"news": {"disabled": true}' in page.replace("\n", " ") or (
            '"disabled": true' in page and "news" in page
        )
        # The announcements plugin, which asks to fetch Jupyter news, is switched off.
        for plugin in lab.DISABLED_PLUGINS:
            assert plugin in page
        assert "disabledExtensions" in page
        code, _ = processes.http_get(f"{info['jupyterlab_base']}/api/contents", timeout=10)
        assert code == 403
        code, body = processes.http_get(
            f"{info['jupyterlab_base']}/api/contents/notebooks?token={info['token']}", timeout=10
        )
        assert code == 200 and "00_start_here.ipynb" in body
        # The token is in no command line and in a file only its owner reads.
        assert stat.S_IMODE((tmp_path / lab.LAB_FILE).stat().st_mode) == 0o600
        for process in [jupyter, *jupyter.children(recursive=True)]:
            try:
                words = process.cmdline()
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue  # a short-lived child that ended meanwhile has no command line left
            assert info["token"] not in " ".join(words)
        # The JupyterLab process tree runs the offline flags, as root too.
        cmdline = " ".join(jupyter.cmdline())
        for flag in lab.OFFLINE_FLAGS:
            assert flag in cmdline
        if os.geteuid() == 0:
            assert "--allow-root" in cmdline
    finally:
        out = _ctrl_c(proc)
    assert proc.returncode == 0, out
    lines = out.splitlines()
    assert lines[0] == f"MLflow UI: {info['mlflow_ui']}"
    assert lines[1] == f"JupyterLab: {info['jupyterlab']}"
    assert not psutil.pid_exists(info["jupyter_pid"]) or (
        psutil.Process(info["jupyter_pid"]).status() == psutil.STATUS_ZOMBIE
    )
    assert not processes.process_alive(server_pid)
    assert not (tmp_path / lab.LAB_FILE).exists()
    assert not tracking.status(tmp_path).running


@pytest.mark.server
def test_lab_reuses_a_running_server_and_leaves_it_running(tmp_path: Path) -> None:
    server = tracking.start(state_dir=tmp_path)
    try:
        proc = _start_lab(tmp_path)
        try:
            info = _wait_for_lab_file(tmp_path, proc)
            assert info["mlflow_ui"] == server.url
            assert info["mlflow_started_by_lab"] is False
            kernels_parent = info["jupyter_pid"]
        finally:
            out = _ctrl_c(proc)
        assert proc.returncode == 0, out
        assert not processes.process_alive(kernels_parent)
        still = tracking.status(tmp_path)
        assert still.running and still.pid == server.pid
    finally:
        tracking.stop(state_dir=tmp_path)


def test_lab_command_is_bound_to_loopback_and_keeps_the_token_off_it() -> None:
    command = lab.lab_command(8899, open_browser=False)
    assert "--ServerApp.ip=127.0.0.1" in command
    assert not [arg for arg in command if "token" in arg.lower()]  # `ps` shows a command line
    assert f"--ServerApp.root_dir={repo_root()}" in command
    assert "--ServerApp.default_url=/lab/tree/notebooks/00_start_here.ipynb" in command
    assert (repo_root() / lab.START_NOTEBOOK).exists()


def test_lab_rejects_a_taken_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setenv("MLOPS_COURSE_STATE", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(ValueError, match="port must be between"):
        lab.run(open_browser=False, port=22)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(lab.LabError, match=f"Port {port} on 127.0.0.1 is already in use"):
            lab.run(open_browser=False, port=port)
        # The port is checked before anything starts: no server was left behind.
        assert not tracking.status(tmp_path).running
