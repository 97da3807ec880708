"""A class under load: the code of ``make bench-class`` (``benchmarks/class_load.py``), small.

Ten simulated students log runs at once to a class server (its own PostgreSQL cluster, one
for the whole file): no error, and exactly the runs they made in the database. Then the same
class behind nginx with two server instances, one of which is killed mid-load: every run a
student finished is in the database, complete, and every error a student saw names what
happened. The figures of the full benchmark are in docs/classroom.md, generated from
docs/class-load.json: the first tests (no server) check that the two agree.

Without PostgreSQL (or nginx, for the two instances) these tests are skipped with the reason;
with ``CI`` set they fail instead.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from conftest import require_tool
from utils import classroom
from utils.paths import repo_root

ROOT = repo_root()
MISSING = classroom.postgres_missing_reason()
STUDENTS = 10


def _load_benchmark() -> Any:  # noqa: ANN401 - the module
    spec = importlib.util.spec_from_file_location(
        "class_load", ROOT / "benchmarks" / "class_load.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("class_load", module)
    spec.loader.exec_module(module)
    return module


class_load = _load_benchmark()


# --------------------------------------------------------------------------- the figures


def test_the_guides_load_table_is_the_one_generated_from_the_results_file() -> None:
    results = json.loads(class_load.RESULTS.read_text())
    documented = class_load.documented_table()
    assert documented, f"{class_load.GUIDE} lost the class-load table's markers"
    assert documented == class_load.docs_table(results), (
        "docs/classroom.md's load table differs from docs/class-load.json: run "
        "`.venv/bin/python benchmarks/class_load.py --from-json docs/class-load.json "
        "--write-docs` (or `make bench-class` to measure again)"
    )


def test_the_results_file_records_how_and_where_it_was_measured() -> None:
    results = json.loads(class_load.RESULTS.read_text())
    env = results["environment"]
    assert env["date"] and env["machine"]["cores"] >= 1 and len(env["load_average_at_start"]) == 3
    assert {"mlflow", "sqlalchemy", "psycopg", "postgresql"} <= set(env["versions"])
    assert results["setup"]["progress_grants"] == results["setup"]["students_added"] ** 2
    assert results["phases"], "no phase was measured"
    for phase in results["phases"]:
        assert len(phase["load_average_before_after"]) == 2
        assert set(phase["server_latency_ms"]) == set(class_load.SERVER_KINDS)
        assert phase["database"]["runs_expected"] == phase["students"] * phase["runs_per_student"]


def test_requests_are_grouped_by_kind_of_call() -> None:
    kind = class_load.server_kind
    assert kind("POST", "/api/2.0/mlflow/runs/log-metric") == "metric"
    assert kind("PUT", "/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts/notes.txt") == (
        "artifact"
    )
    assert kind("PUT", "/api/2.0/mlflow-artifacts/artifacts/3/models/m-1/artifacts/MLmodel") == (
        "model"
    )
    assert kind("POST", "/api/2.0/mlflow/logged-models") == "model"
    assert kind("POST", "/api/2.0/mlflow/runs/create") == "other"
    assert class_load.classify("failed with error code 502 != 200. Bad Gateway") == (
        "HTTP 502: bad gateway"
    )


def test_nginx_config_passes_the_students_host_header_to_every_instance(tmp_path: Path) -> None:
    conf = classroom.nginx_config("127.0.0.1", 5060, [40001, 40002], tmp_path)
    assert "listen 127.0.0.1:5060;" in conf
    assert "server 127.0.0.1:40001 " in conf and "server 127.0.0.1:40002 " in conf
    assert "proxy_set_header Host $http_host;" in conf
    assert str(tmp_path / "nginx.pid") in conf  # nothing written outside the class folder
    assert "listen [::]:5060;" in classroom.nginx_config("::", 5060, [40001], tmp_path)


# --------------------------------------------------------------------------- a small class


@pytest.fixture(scope="module")
def small_class() -> Iterator[dict[str, Any]]:
    """One class for the file: PostgreSQL, a server with a request log, ten accounts."""
    require_tool(MISSING is None, f"classroom mode needs PostgreSQL: {MISSING}")
    base = Path(tempfile.mkdtemp(prefix="mlops-class-load-test-"))
    base.chmod(0o711)  # the postgres user must reach the cluster below it
    folder = base / "class"
    try:
        klass = class_load.set_up_class(folder, STUDENTS, workers=2)
        yield {"folder": folder, "work": base / "events", **klass}
    finally:
        classroom.stop(folder)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.postgres
@pytest.mark.server
def test_ten_students_at_once_no_error_and_exactly_their_runs_in_the_database(
    small_class: dict[str, Any],
) -> None:
    folder, runs = small_class["folder"], 2
    load = class_load.run_load(
        small_class["url"], small_class["accounts"], "small", runs, small_class["work"], 600
    )
    assert load["errors"] == {}, load["error_examples"]
    assert load["students_stopped_at_deadline"] == 0
    users = [user for user, _ in small_class["accounts"]]
    counted = class_load.audit(folder, users, "small", runs, load["runs_completed"])
    assert counted["runs_in_database"] == counted["complete"] == STUDENTS * runs, counted
    assert counted["runs_finished_by_students"] == STUDENTS * runs
    assert counted["duplicates"] == 0 and counted["foreign_experiments"] == []
    assert counted["orphans"] == counted["incomplete"] == counted["lost"] == []
    assert counted["unknown"] == []
    # The server timed every call the students made (20 metric points per run).
    timings = class_load.server_timings(
        folder / "server" / classroom.REQUEST_LOG, load["began_at"], load["ended_at"] + 1
    )
    assert timings["latency_ms"]["metric"]["calls"] == STUDENTS * runs * class_load.METRIC_POINTS
    assert timings["latency_ms"]["model"]["calls"] >= STUDENTS * runs
    assert not [code for code in timings["status_codes"] if code.startswith("5")], timings


@pytest.mark.postgres
@pytest.mark.server
def test_two_instances_behind_nginx_one_killed_mid_load_loses_no_finished_run(
    small_class: dict[str, Any],
) -> None:
    require_tool(classroom.nginx_missing_reason() is None, str(classroom.nginx_missing_reason()))
    folder, runs = small_class["folder"], 3
    class_load.restart(folder, small_class["port"], instances=2, workers=1)
    record = json.loads((folder / "server" / classroom.SERVER_FILE).read_text())
    assert len(record["instances"]) == 2
    server = classroom.status(folder)
    assert server.running and (server.instances, server.instances_answering) == (2, 2)
    # One database and one artifact store: both instances serve the same runs.
    victim = psutil.Process(record["instances"][0]["pid"])
    killed: list[int] = []

    def kill_one_instance(finished: int) -> None:
        if finished >= 4 and not killed:
            tree = [victim, *victim.children(recursive=True)]
            for proc in tree:
                proc.kill()  # SIGKILL: a crash, mid-request for some students
            psutil.wait_procs(tree, timeout=10)
            killed.append(finished)

    load = class_load.run_load(
        small_class["url"],
        small_class["accounts"],
        "killed",
        runs,
        small_class["work"],
        600,
        during=kill_one_instance,
    )
    assert killed, "the load ended before an instance could be killed"
    after = classroom.status(folder)
    assert after.running and after.instances_answering == 1, after.message
    assert f"port {record['instances'][0]['port']}" in after.message
    users = [user for user, _ in small_class["accounts"]]
    counted = class_load.audit(folder, users, "killed", runs, load["runs_completed"])
    # Every run a student finished is in the database, complete.
    assert counted["lost"] == [] and counted["unknown"] == [], counted
    assert counted["runs_finished_by_students"] >= killed[0]
    # The surviving instance served the rest: most runs finished despite the kill.
    assert counted["complete"] == counted["runs_finished_by_students"]
    # What was in flight at the kill: a run left open (an orphan, RUNNING) or created twice
    # (the client retried the request that died with the instance); at most one per student.
    assert len(counted["orphans"]) + counted["duplicates"] <= STUDENTS, counted
    # A student who saw an error was told what happened: the proxy's 502, or a dropped
    # connection.
    for kind, detail in load["error_examples"].items():
        assert re.search(r"502|Bad Gateway|Connection|RemoteDisconnected", detail), (kind, detail)
    # Each run either finished or ended with the one error its student saw.
    assert len(load["runs_completed"]) + sum(load["errors"].values()) == STUDENTS * runs
    classroom.stop(folder, postgres=False)
    pids = [record["pid"], *(i["pid"] for i in record["instances"])]
    assert not [pid for pid in pids if psutil.pid_exists(pid) and _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_bad_instances_and_inventory_patterns_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="instances must be an int from 1 to 16"):
        classroom.start(tmp_path / "class", instances=0)
    with pytest.raises(ValueError, match="SQL LIKE pattern"):
        classroom.run_inventory(tmp_path / "class", "x'; DROP TABLE runs; --")
