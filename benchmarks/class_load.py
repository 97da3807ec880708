"""`make bench-class`: a class of simulated students logging to one tracking server at once.

Each student is a separate process. All start together and, with no pause between calls, do
what notebook 05 does, several times: create a run, log 5 parameters, 20 metric points, one
small artifact and one small scikit-learn model (``utils.tracking.log_sklearn_model``), end
the run. The same load runs against

* ``sqlite``: the course's own server (``utils.tracking.start``: SQLite, one worker), and
* ``postgres``: the class server (``utils.classroom``: PostgreSQL, accounts, several
  workers), each student with an account of their own.

For each server it reports runs completed, errors by kind, runs lost (requested but not
found complete afterwards), throughput, and the p50/p95 latency of each kind of call, as the
students see it. In a real class each student's own work (fitting, saving a model) runs on
their laptop; here it shares the server's cores, so the students run at a lower scheduling
priority (``--student-nice``, default 10) and the server is not starved by them. Both
servers are started on 127.0.0.1 in a temporary folder and stopped at the end; each phase
stops after ``--max-seconds`` (students still running are stopped and counted).

Usage: ``python benchmarks/class_load.py [--students 30] [--runs-per-student 3]
[--backend sqlite|postgres|both|sqlite-workers|all] [--workers N] [--student-nice 10]
[--max-seconds 600] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

from utils import classroom, processes, tracking

KINDS = ("experiment", "create_run", "params", "metric", "artifact", "model", "end_run")
METRIC_POINTS = 20
PARAMS = 5


def classify(err: BaseException) -> str:
    """A short, countable name for an error seen by a student (e.g. ``HTTP 500``)."""
    text = str(err)
    code = re.search(r"error code (\d{3})", text) or re.search(r"\b(\d{3}) Server Error", text)
    for pattern, name in (
        (r"database is locked", "database is locked"),
        (r"Connection refused|Failed to establish", "connection refused"),
        (r"timed out|Timeout", "timeout"),
        (r"Connection aborted|RemoteDisconnected|reset by peer", "connection dropped"),
        (r"too many (connections|clients)", "too many database connections"),
    ):
        if re.search(pattern, text, re.IGNORECASE):
            return f"HTTP {code.group(1)}: {name}" if code else name
    if code:
        return f"HTTP {code.group(1)}"
    return type(err).__name__


def _student(
    index: int,
    env: dict[str, str],
    experiment: str,
    runs: int,
    out_file: str,
    barrier: Any,
    nice: int = 0,
) -> None:
    """One simulated student (a child process): log ``runs`` runs, write events as JSON lines."""
    if nice and hasattr(os, "nice"):
        # Students' own work (fitting, saving a model) runs on their laptops in a real class;
        # here it shares the server's cores, so it yields to the server.
        os.nice(nice)
    os.environ.update(env)
    import mlflow
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(index)
    features = rng.normal(size=(200, 5))
    labels = (features[:, 0] + rng.normal(scale=0.5, size=200) > 0).astype(int)
    model = LogisticRegression().fit(features, labels)
    example = features[:3]
    with open(out_file, "a", buffering=1) as out:

        def record(kind: str, begun: float, error: BaseException | None = None) -> None:
            event = {"kind": kind, "seconds": time.perf_counter() - begun, "t": time.time()}
            if error is not None:
                event["error"] = classify(error)
                event["detail"] = str(error)[:300]
            out.write(json.dumps(event) + "\n")

        barrier.wait()
        begun = time.perf_counter()
        try:
            experiment_id = mlflow.set_experiment(experiment).experiment_id
            record("experiment", begun)
        except Exception as err:  # noqa: BLE001 - every failure is a measured outcome
            record("experiment", begun, err)
            return
        for number in range(runs):
            stage = "create_run"
            try:
                begun = time.perf_counter()
                run = mlflow.start_run(experiment_id=experiment_id, run_name=f"load-{number}")
                record(stage, begun)
                stage, begun = "params", time.perf_counter()
                mlflow.log_params({f"p{k}": k * index for k in range(PARAMS)})
                record(stage, begun)
                stage = "metric"
                for step in range(METRIC_POINTS):
                    begun = time.perf_counter()
                    mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
                    record(stage, begun)
                stage, begun = "artifact", time.perf_counter()
                mlflow.log_text(f"student {index}, run {number}\n", "notes.txt")
                record(stage, begun)
                stage, begun = "model", time.perf_counter()
                tracking.log_sklearn_model(model, input_example=example)
                record(stage, begun)
                stage, begun = "end_run", time.perf_counter()
                mlflow.end_run()
                record(stage, begun)
                out.write(json.dumps({"completed": run.info.run_id}) + "\n")
            except Exception as err:  # noqa: BLE001 - every failure is a measured outcome
                record(stage, begun, err)
                try:
                    mlflow.end_run("FAILED")
                except Exception:  # noqa: BLE001 - the server may be the problem
                    pass


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _verify(run_ids: list[str], env: dict[str, str]) -> tuple[int, list[str]]:
    """How many runs are complete on the server: FINISHED, params, 20 points, artifact, model."""
    os.environ.update(env)
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    good, missing = 0, []
    for run_id in run_ids:
        try:
            run = client.get_run(run_id)
            history = client.get_metric_history(run_id, "loss")
            artifacts = [a.path for a in client.list_artifacts(run_id)]
            models = client.search_logged_models(
                experiment_ids=[run.info.experiment_id],
                filter_string=f"source_run_id = '{run_id}'",
            )
            ok = (
                run.info.status == "FINISHED"
                and len(run.data.params) == PARAMS
                and len(history) == METRIC_POINTS
                and "notes.txt" in artifacts
                and len(models) >= 1
            )
        except Exception:  # noqa: BLE001 - a run that cannot be read is a lost run
            ok = False
        if ok:
            good += 1
        else:
            missing.append(run_id)
    return good, missing


def run_phase(
    backend: str,
    students: int,
    runs: int,
    max_seconds: float,
    workers: int,
    work: Path,
    nice: int = 10,
) -> dict[str, Any]:
    """Start one server, run the class against it, verify, stop it; return the figures."""
    phase_dir = Path(tempfile.mkdtemp(prefix=f"class-load-{backend}-", dir=work))
    phase_dir.chmod(0o711)
    base_env = {
        **tracking.QUIET_ENV,
        **tracking.CLIENT_RETRY_ENV,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    student_envs: list[dict[str, str]] = []
    setup_begun = time.perf_counter()
    folder = phase_dir / "class"
    sqlite_server: subprocess.Popen | None = None
    try:
        if backend == "sqlite":
            server = tracking.start(state_dir=phase_dir / "state", port=processes.free_port())
            url = server.url or ""
            setup = f"course server, SQLite, 1 worker ({url})"
        elif backend == "sqlite-workers":
            # What an instructor might try first: the course server with more worker processes.
            state = phase_dir / "state"
            state.mkdir()
            port = processes.free_port()
            url = f"http://127.0.0.1:{port}"
            command = tracking.server_command(state, port)
            command[command.index("--workers") + 1] = str(workers)
            sqlite_server = subprocess.Popen(
                command,
                env=tracking.server_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            deadline = time.monotonic() + 300
            while not processes.healthy(url, timeout=1.0):
                if sqlite_server.poll() is not None or time.monotonic() > deadline:
                    processes.terminate(sqlite_server.pid)
                    raise RuntimeError(f"the SQLite server with {workers} workers did not start")
                time.sleep(0.5)
            setup = f"SQLite, {workers} workers, no accounts ({url})"
        if backend in ("sqlite", "sqlite-workers"):
            admin_env = {**base_env, "MLFLOW_TRACKING_URI": url}
            student_envs = [{**base_env, "MLFLOW_TRACKING_URI": url} for _ in range(students)]
            names = [f"student{i:02d}-05-class-load" for i in range(students)]
        else:
            classroom.init(folder)
            server = classroom.start(folder, port=processes.free_port(), workers=workers)
            url = server.url or ""
            accounts = classroom.add_students([f"student{i:02d}" for i in range(students)], folder)
            keys = json.loads((folder / classroom.SECRETS_FILE).read_text())
            admin_env = {
                **base_env,
                "MLFLOW_TRACKING_URI": url,
                "MLFLOW_TRACKING_USERNAME": classroom.ADMIN_USER,
                "MLFLOW_TRACKING_PASSWORD": keys["admin_password"],
            }
            for account in accounts:
                student_envs.append(
                    {**base_env, **classroom.student_env(url, account.username, account.password)}
                )
            names = [f"{a.username}-05-class-load" for a in accounts]
            setup = f"class server, PostgreSQL, basic-auth, {workers} workers ({url})"
        setup_seconds = time.perf_counter() - setup_begun
        print(f"\n### {backend}: {setup} ready after {setup_seconds:.0f} s", flush=True)

        # Import the heavy modules once, before forking: students start at once, like a class
        # whose notebooks are already open (the parent makes no MLflow request before the fork).
        import mlflow.sklearn  # noqa: F401
        import sklearn.linear_model  # noqa: F401

        context = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        barrier = context.Barrier(students + 1)
        files = [phase_dir / f"student{i:02d}.jsonl" for i in range(students)]
        procs = [
            context.Process(
                target=_student,
                args=(i, student_envs[i], names[i], runs, str(files[i]), barrier, nice),
                daemon=True,
            )
            for i in range(students)
        ]
        for proc in procs:
            proc.start()
        barrier.wait(timeout=300)  # every student has imported and fitted: go
        begun = time.perf_counter()
        load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        deadline = time.monotonic() + max_seconds
        for proc in procs:
            proc.join(timeout=max(0.0, deadline - time.monotonic()))
        unfinished = [p for p in procs if p.is_alive()]
        for proc in unfinished:
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()
            proc.join(5)
        wall = time.perf_counter() - begun
        load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

        latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
        errors: Counter[str] = Counter()
        details: dict[str, str] = {}
        completed: list[str] = []
        calls = 0
        for path in files:
            if not path.exists():
                continue
            for line in path.read_text().splitlines():
                event = json.loads(line)
                if "completed" in event:
                    completed.append(event["completed"])
                    continue
                calls += 1
                if "error" in event:
                    key = f"{event['kind']}: {event['error']}"
                    errors[key] += 1
                    details.setdefault(key, event.get("detail", ""))
                else:
                    latencies[event["kind"]].append(event["seconds"])
        verified, missing = _verify(completed, admin_env)
        requested = students * runs
        result = {
            "backend": backend,
            "setup": setup,
            "students": students,
            "runs_per_student": runs,
            "student_nice": nice,
            "runs_requested": requested,
            "runs_completed": len(completed),
            "runs_verified": verified,
            "runs_lost_silently": len(missing),
            "runs_not_found": requested - verified,
            "students_stopped_at_deadline": len(unfinished),
            "wall_seconds": wall,
            "runs_per_minute": 60 * len(completed) / wall if wall else 0.0,
            "calls": calls,
            "calls_per_second": calls / wall if wall else 0.0,
            "errors": dict(errors),
            "error_examples": details,
            "latency_ms": {
                kind: {
                    "calls": len(values),
                    "p50": 1000 * _percentile(values, 50),
                    "p95": 1000 * _percentile(values, 95),
                    "max": 1000 * max(values) if values else float("nan"),
                }
                for kind, values in latencies.items()
            },
            "load_average_before_after": [load_before, load_after],
        }
    finally:
        if backend == "sqlite":
            tracking.stop(state_dir=phase_dir / "state")
        elif sqlite_server is not None:
            processes.terminate(sqlite_server.pid)
        else:
            classroom.stop(folder)
        shutil.rmtree(phase_dir, ignore_errors=True)
    return result


def report(result: dict[str, Any]) -> str:
    """The figures of one phase as Markdown."""
    lines = [
        f"**{result['backend']}**: {result['setup']}; {result['students']} students x "
        f"{result['runs_per_student']} runs (students at nice {result['student_nice']}), "
        f"{result['wall_seconds']:.0f} s "
        f"(load average {result['load_average_before_after'][0]:.1f} -> "
        f"{result['load_average_before_after'][1]:.1f})",
        "",
        "| runs requested | completed | verified on the server | not found afterwards | "
        "lost silently | runs/min | calls/s | errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {result['runs_requested']} | {result['runs_completed']} | {result['runs_verified']} "
        f"| {result['runs_not_found']} | {result['runs_lost_silently']} | "
        f"{result['runs_per_minute']:.1f} | {result['calls_per_second']:.1f} | "
        f"{sum(result['errors'].values())} |",
        "",
        "| call | calls | p50 (ms) | p95 (ms) | max (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, figures in result["latency_ms"].items():
        lines.append(
            f"| {kind} | {figures['calls']} | {figures['p50']:.0f} | {figures['p95']:.0f} | "
            f"{figures['max']:.0f} |"
        )
    if result["errors"]:
        lines += ["", "Errors by kind:", ""]
        for key, count in sorted(result["errors"].items(), key=lambda kv: -kv[1]):
            lines.append(f"- {key}: {count} (e.g. `{result['error_examples'][key][:160]}`)")
    if result["students_stopped_at_deadline"]:
        lines.append(
            f"\n{result['students_stopped_at_deadline']} students were still running at the "
            "deadline and were stopped."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the class load benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--runs-per-student", type=int, default=3)
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgres", "both", "sqlite-workers", "all"],
        default="both",
        help="both: the course server and the class server; sqlite-workers: SQLite with "
        "--workers processes; all: the three",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=classroom.default_workers(),
        help="worker processes of the class server (and of sqlite-workers)",
    )
    parser.add_argument("--max-seconds", type=float, default=600.0, help="per backend")
    parser.add_argument(
        "--student-nice",
        type=int,
        default=10,
        help="scheduling priority of the students' processes (0: same as the server)",
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.students <= 200:
        parser.error("--students must be from 1 to 200")
    if not 1 <= args.runs_per_student <= 50:
        parser.error("--runs-per-student must be from 1 to 50")
    if not 0 <= args.student_nice <= 19:
        parser.error("--student-nice must be from 0 to 19")
    backends = {
        "both": ["sqlite", "postgres"],
        "all": ["sqlite", "sqlite-workers", "postgres"],
    }.get(args.backend, [args.backend])
    if "postgres" in backends:
        reason = classroom.postgres_missing_reason()
        if reason:
            print(f"Skipping the PostgreSQL class server: {reason}")
            backends.remove("postgres")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"Machine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} before the benchmark "
        "(other programs running on the machine slow every figure down)."
    )
    work = Path(tempfile.mkdtemp(prefix="mlops-class-load-"))
    work.chmod(0o711)  # PostgreSQL runs as the postgres user when we are root
    results = []
    try:
        for backend in backends:
            result = run_phase(
                backend,
                args.students,
                args.runs_per_student,
                args.max_seconds,
                args.workers,
                work,
                args.student_nice,
            )
            results.append(result)
            print(report(result), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
