"""`make bench`: time and memory of every notebook and of the tracking server's cold start.

For each notebook: the time of *Restart Kernel and Run All* (``run_all.py``: kernel start to
the end of the last cell, in a process of its own) and the peak resident memory of its
kernel, with the course server already running (as after ``make lab``). An empty notebook
is measured first: its time is what the kernel itself costs. For the server: time from
launch to a healthy ``/health``, and the memory of its process tree, for the course's lean
server and for a default ``mlflow server`` measured in the same run. Everything uses a
throwaway state folder and ports on 127.0.0.1.

Usage: ``python benchmarks/run.py [--notebooks PATTERN] [--skip-default-server]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from run_all import RESULT_PREFIX

from utils import processes, tracking
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
    """RSS of the kernel: the ipykernel processes right below ``proc``.

    Only ``proc``'s own children count. A process the kernel starts (a server, a pytest run)
    is a copy of the kernel for a moment between fork and exec, with the kernel's command line:
    counting it would add the kernel's memory twice.
    """
    total = 0
    for p in proc.children():
        try:
            if "ipykernel" in " ".join(p.cmdline()):
                total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def bench_notebook(path: Path, env: dict[str, str]) -> tuple[float, float, float, str]:
    """Execute one notebook in a fresh kernel (``run_all.py``, in a process of its own).

    Returns the run-all seconds (kernel start to the end of the last cell, what *Restart Kernel
    and Run All* costs a student), the seconds of the whole process (plus Python's start and
    nbclient's imports), the kernel's peak resident MiB, and 'ok' or the error.
    """
    command = [sys.executable, str(Path(__file__).with_name("run_all.py")), str(path)]
    peak = 0
    begun = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, cwd=path.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    ps = psutil.Process(proc.pid)
    done = threading.Event()

    def sample() -> None:
        # Samples the kernel's memory until the notebook ends (no server to wait for here).
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
    process_wall = time.perf_counter() - begun
    done.set()
    sampler.join()
    text = output.decode(errors="replace").strip()
    last = text.splitlines()[-1] if text else ""
    if proc.returncode != 0 or not last.startswith(RESULT_PREFIX):
        return float("nan"), process_wall, peak / MIB, text[-300:] or f"exit {proc.returncode}"
    return float(last.split()[1]), process_wall, peak / MIB, "ok"


def empty_notebook(folder: Path) -> Path:
    """Write a notebook with one trivial cell: its run-all time is the kernel's own cost."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("1 + 1")]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    path = folder / "empty.ipynb"
    nbformat.write(notebook, path)
    return path


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
        ended = processes.wait_ready(
            proc, lambda: processes.healthy(url, timeout=1.0), 180, interval=0.1
        )
        if ended == "exited":
            raise RuntimeError(f"server exited with code {proc.returncode}: {command}")
        if ended != "ready":
            raise RuntimeError("server did not answer within 180 s")
        ready = time.perf_counter() - begun
        # Not a wait for the server (it answers): its workers start after /health does, so
        # the tree is measured once it has settled.
        time.sleep(2.0)
        ps = psutil.Process(proc.pid)
        rss = _tree_rss(ps) / MIB
        nprocs = 1 + len(ps.children(recursive=True))
        return ready, rss, nprocs
    finally:
        processes.terminate(proc.pid)


def test_file_budgets(contributing: Path) -> tuple[dict[str, float], float, float]:
    """The time budgets CONTRIBUTING.md states: per test file, for any other, and in all."""
    budgets, default = {}, float("nan")
    text = contributing.read_text()
    total = re.search(r"All files together should stay under\s+([\d,]+) s", text)
    for line in text.splitlines():
        named = re.match(r"^\| `([^`]+)` \| (\d+) \|", line)
        if named:
            budgets[named[1]] = float(named[2])
        other = re.match(r"^\| any other (?:test )?file \| (\d+) \|", line)
        if other:
            default = float(other[1])
    if not budgets or default != default or total is None:
        raise ValueError(f"{contributing} states no time budget per test file, or in all")
    return budgets, default, float(total[1].replace(",", ""))


def print_slowest_test_files(root: Path, top: int = 15) -> int:
    """Print the slowest test files that the last test runs recorded, against their budgets.

    `make test` and `make check` record the time each test file took (setup, call and
    teardown of its tests, on one worker) in ``_build/test-times.json`` (conftest.py). Returns
    the number of files over their budget.
    """
    record_file = root / "_build" / "test-times.json"
    print("\n## Slowest test files (from the last runs of make test and make check)\n")
    if not record_file.exists():
        print("No record yet: run `make test` first; it writes _build/test-times.json.")
        return 0
    record = json.loads(record_file.read_text())
    budgets, default, total_budget = test_file_budgets(root / "CONTRIBUTING.md")
    last = record.get("last_run", {})
    print(
        f"Last run: {last.get('finished')}, {last.get('tests')} tests on "
        f"{last.get('workers')} workers, {last.get('wall_seconds')} s. Seconds are one "
        "worker's time for the file; budgets are in CONTRIBUTING.md.\n"
    )
    print("| test file | seconds | budget | CPU seconds | measured | |")
    print("|---|---:|---:|---:|---|---|")
    rows = sorted(record["files"].items(), key=lambda kv: -kv[1]["seconds"])
    over = 0
    for path, entry in rows:
        budget = budgets.get(path, default)
        late = entry["seconds"] > budget
        over += late
        if rows.index((path, entry)) < top or late:
            flag = "OVER BUDGET" if late else ""
            cpu = f"{entry['cpu_seconds']:.1f}" if "cpu_seconds" in entry else "-"
            print(
                f"| {path} | {entry['seconds']:.1f} | {budget:.0f} | {cpu} | {entry['measured']} "
                f"| {flag} |"
            )
    total = sum(entry["seconds"] for _, entry in rows)
    cpu_total = sum(entry.get("cpu_seconds", 0.0) for _, entry in rows)
    print(
        f"\n{len(rows)} files, {total:.0f} s of worker time in all (budget {total_budget:.0f} s); "
        f"{over} files over their budget. CPU seconds: what the worker and the processes it "
        f"started and waited for used ({cpu_total:.0f} s in all); a server a notebook's kernel "
        "starts is not counted."
    )
    return over + (total > total_budget)


def bench_progress(work: Path, checks: int = 200) -> list[tuple[str, float, float]]:
    """Milliseconds a check spends recording its outcome (utils.progress): median and p95.

    The local write is timed on a record holding every exercise; the class-server upload is
    timed as the cell sees it (it runs in the background), against an address that refuses.
    """
    from utils import checks as checks_module
    from utils import progress

    state = work / "progress-state"
    ids = [e.id for e in checks_module.exercises()]
    for i, exercise in enumerate(ids):
        progress.save_outcome(exercise, "incorrect", i, state)
    local, handed_off = [], []
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME")}
    try:
        os.environ["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{processes.free_port()}"
        os.environ["MLFLOW_TRACKING_USERNAME"] = "bench"
        for i in range(checks):
            start = time.perf_counter()
            progress.save_outcome(ids[i % len(ids)], "incorrect", f"answer {i}", state)
            local.append(time.perf_counter() - start)
            start = time.perf_counter()
            progress.sync(background=True, state=state)
            handed_off.append(time.perf_counter() - start)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return [
        (what, 1000 * statistics.median(times), 1000 * statistics.quantiles(times, n=20)[-1])
        for what, times in (("save the outcome locally", local), ("start the upload", handed_off))
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", default="*.ipynb", help="glob in notebooks/")
    parser.add_argument("--skip-default-server", action="store_true")
    parser.add_argument(
        "--tests-only", action="store_true", help="only the slowest test files of the last runs"
    )
    args = parser.parse_args(argv)

    root = repo_root()
    if args.tests_only:
        print_slowest_test_files(root)
        return 0
    work = Path(tempfile.mkdtemp(prefix="mlops-course-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update(tracking.QUIET_ENV)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    print(f"Machine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB")
    try:
        print("\n## Tracking server cold start\n")
        rows = []
        state = work / "course-server"
        state.mkdir()
        port = processes.free_port()
        course_env = tracking.server_env()
        measured = bench_server_start(
            tracking.server_command(state, port), course_env, f"http://127.0.0.1:{port}"
        )
        rows.append(("course server (1 worker, no job runner)", *measured))
        if not args.skip_default_server:
            default_dir = work / "default-server"
            default_dir.mkdir()
            port = processes.free_port()
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

        print("\n## Exercise progress: what a check spends recording (goal: under 50 ms)\n")
        print("| step | median (ms) | p95 (ms) |")
        print("|---|---:|---:|")
        for what, median, p95 in bench_progress(work):
            print(f"| {what} | {median:.1f} | {p95:.1f} |")

        print("\n## Notebooks (course server already running)\n")
        nb_state = work / "notebooks-state"
        env["MLOPS_COURSE_STATE"] = str(nb_state)
        server = tracking.start(state_dir=nb_state)
        print(f"(server at {server.url})")
        print(
            "run all: kernel start to the end of the last cell, as *Restart Kernel and Run All*;"
            " process: plus Python's start and the runner's imports\n"
        )
        print("| notebook | run all (s) | process (s) | kernel peak memory (MiB) | status |")
        print("|---|---:|---:|---:|---|")
        failures = 0
        paths = [empty_notebook(work), *sorted((root / "notebooks").glob(args.notebooks))]
        for path in paths:
            run_all, process_wall, peak, status = bench_notebook(path, env)
            failures += status != "ok"
            name = "(empty notebook: the kernel alone)" if path.parent == work else path.name
            print(
                f"| {name} | {run_all:.1f} | {process_wall:.1f} | {peak:.0f} | {status} |",
                flush=True,
            )
        tracking.stop(state_dir=nb_state)
        print_slowest_test_files(root)
        return 1 if failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
