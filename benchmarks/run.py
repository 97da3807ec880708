"""`make bench`: time and memory of every notebook and of the tracking server's cold start.

For each notebook: wall time of a full execution (``jupyter nbconvert --execute``) and the
peak resident memory of its kernel, with the course server already running (as after
``make lab``). For the server: time from launch to a healthy ``/health``, and the memory of
its process tree, for the course's lean server and for a default ``mlflow server`` measured
in the same run. Everything uses a throwaway state folder and ports on 127.0.0.1.

Usage: ``python benchmarks/run.py [--notebooks PATTERN] [--skip-default-server]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from utils import tracking
from utils.paths import repo_root

MIB = 1024 * 1024


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def _kernel_rss(proc: psutil.Process) -> int:
    """RSS of the ipykernel processes below ``proc``."""
    total = 0
    for p in proc.children(recursive=True):
        try:
            if "ipykernel" in " ".join(p.cmdline()):
                total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def bench_notebook(path: Path, env: dict[str, str], out_dir: Path) -> tuple[float, float, str]:
    """Execute one notebook; return wall seconds, kernel peak MiB and 'ok' or the error."""
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--ExecutePreprocessor.timeout=600",
        "--output-dir",
        str(out_dir),
        str(path),
    ]
    peak = 0
    begun = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, cwd=path.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    ps = psutil.Process(proc.pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, _kernel_rss(ps))
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    wall = time.perf_counter() - begun
    done.set()
    sampler.join()
    status = "ok" if proc.returncode == 0 else output.decode(errors="replace").strip()[-300:]
    return wall, peak / MIB, status


def bench_server_start(
    command: list[str], env: dict[str, str], url: str
) -> tuple[float, float, int]:
    """Launch a server; return seconds to a healthy /health, the tree's MiB and processes."""
    begun = time.perf_counter()
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while not tracking._healthy(url, timeout=1.0):
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with code {proc.returncode}: {command}")
            if time.perf_counter() - begun > 180:
                raise RuntimeError("server did not answer within 180 s")
            time.sleep(0.1)
        ready = time.perf_counter() - begun
        time.sleep(2.0)  # let workers settle, then measure the whole tree
        ps = psutil.Process(proc.pid)
        rss = _tree_rss(ps) / MIB
        nprocs = 1 + len(ps.children(recursive=True))
        return ready, rss, nprocs
    finally:
        tracking._terminate(proc.pid)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", default="*.ipynb", help="glob in notebooks/")
    parser.add_argument("--skip-default-server", action="store_true")
    args = parser.parse_args(argv)

    root = repo_root()
    work = Path(tempfile.mkdtemp(prefix="mlops-course-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update(tracking._QUIET_ENV)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    print(f"Machine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB")
    try:
        print("\n## Tracking server cold start\n")
        rows = []
        state = work / "course-server"
        state.mkdir()
        port = tracking._free_port()
        course_env = tracking._server_env()
        measured = bench_server_start(
            tracking._server_command(state, port), course_env, f"http://127.0.0.1:{port}"
        )
        rows.append(("course server (1 worker, no job runner)", *measured))
        if not args.skip_default_server:
            default_dir = work / "default-server"
            default_dir.mkdir()
            port = tracking._free_port()
            default_env = {k: v for k, v in env.items() if not k.startswith("MLFLOW_SERVER")}
            default_cmd = [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--backend-store-uri",
                f"sqlite:///{(default_dir / 'mlflow.db').as_posix()}",
            ]
            measured = bench_server_start(default_cmd, default_env, f"http://127.0.0.1:{port}")
            rows.append(("default `mlflow server`", *measured))
        print("| server | ready after (s) | memory (MiB) | processes |")
        print("|---|---:|---:|---:|")
        for name, ready, rss, nprocs in rows:
            print(f"| {name} | {ready:.1f} | {rss:.0f} | {nprocs} |")

        print("\n## Notebooks (course server already running)\n")
        nb_state = work / "notebooks-state"
        env["MLOPS_COURSE_STATE"] = str(nb_state)
        server = tracking.start(state_dir=nb_state)
        print(f"(server at {server.url})")
        out_dir = work / "executed"
        print("| notebook | wall (s) | kernel peak memory (MiB) | status |")
        print("|---|---:|---:|---|")
        failures = 0
        for path in sorted((root / "notebooks").glob(args.notebooks)):
            wall, peak, status = bench_notebook(path, env, out_dir)
            failures += status != "ok"
            print(f"| {path.name} | {wall:.1f} | {peak:.0f} | {status} |", flush=True)
        tracking.stop(state_dir=nb_state)
        return 1 if failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
