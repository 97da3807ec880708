"""Test-session set-up shared by the unit tests and nbval.

* One course tracking server is started for the whole test session, in a throwaway state
  folder, and ``MLFLOW_TRACKING_URI`` points the unit tests at it (as a class server would).
  The controlling pytest process starts it in the background on a port chosen first, before
  the xdist workers are spawned, so they inherit the address; it gets ready while the workers
  collect the tests, and each worker waits for it before its first test (``session_server``).
  It is stopped when the session ends. The notebooks do not use it:
  ``tests/nbval_fresh_state.py`` runs each one on a fresh state of its own. The xdist
  workers run at a lower priority than the controller and this server (``WORKER_NICENESS``).
* Markers (declared in ``pyproject.toml``) say what a test needs beyond Python: ``kernel`` (a
  Jupyter kernel: notebooks, decks), ``browser`` (Chromium), ``postgres`` (PostgreSQL).
  ``make check`` runs the tests that need none of them.
* :func:`require_tool` is the one place that decides what a missing tool means: a skip
  with the reason on a contributor's machine, a failure when ``CI`` is set (CI must check
  everything). Test files use it with ``from conftest import require_tool``. The run ends
  with one line per skipped suite and why.
* Test runs record no exercise progress (``utils.progress``): ``MLOPS_COURSE_PROGRESS=off`` is
  set for the session and every kernel, lab and server it starts; the progress tests turn it
  back on where they test recording.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Generator
from pathlib import Path

import pytest

pytest_plugins = ["tests.nbval_fresh_state"]

os.environ["MLOPS_COURSE_PROGRESS"] = "off"

_SESSION: dict[str, str] = {}
_STARTER: list[threading.Thread] = []
SESSION_URL_ENV = "MLOPS_TEST_SESSION_URL"
WORKER_NICENESS = 5  # added to each xdist worker's niceness (see pytest_configure)


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """Start the session's server in the background: it gets ready while tests are collected."""
    if _is_xdist_worker(config):
        # The workers (and every kernel, server and browser they start) yield the cores to
        # the session's server, which runs at the controller's priority: on two busy cores a
        # worker that waits for the server's answer then waits less. make check: 53-61 s
        # (median 56) before, 50-53 s after, in four idle runs each.
        os.nice(WORKER_NICENESS)
        return
    if os.environ.get("MLOPS_TEST_SESSION_SERVER") == "0":
        return
    from utils import processes, tracking

    state = Path(tempfile.mkdtemp(prefix="mlops-course-test-state-"))
    url = f"http://127.0.0.1:{processes.free_port()}"
    starter = threading.Thread(
        target=tracking.start,
        kwargs={"state_dir": state, "port": int(url.rsplit(":", 1)[1])},
        name="session-server",
        daemon=True,
    )
    starter.start()
    _STARTER.append(starter)
    _SESSION.update(state=str(state), url=url)
    os.environ["MLFLOW_TRACKING_URI"] = url
    os.environ[SESSION_URL_ENV] = url
    os.environ["MLOPS_TEST_SESSION_STATE"] = str(state)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


@pytest.fixture(scope="session", autouse=True)
def session_server() -> str | None:
    """Wait (once per worker) until the session's server answers; fail with its log if not."""
    url = os.environ.get(SESSION_URL_ENV)
    if not url:
        return None
    from utils import tracking

    state = Path(os.environ["MLOPS_TEST_SESSION_STATE"])
    deadline = time.monotonic() + tracking.START_TIMEOUT
    while time.monotonic() < deadline:
        if tracking.status(state).running:
            return url
        if _STARTER and not _STARTER[0].is_alive() and not tracking.status(state).running:
            break  # the start failed in this process: no point in waiting
        time.sleep(0.25)
    log = state / tracking.LOG_FILE
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    pytest.fail(f"The test session's tracking server did not start at {url}. Its log:\n{tail}")


def pytest_unconfigure(config: pytest.Config) -> None:
    if not _SESSION or _is_xdist_worker(config):
        return
    from utils import tracking

    for starter in _STARTER:
        starter.join(timeout=tracking.START_TIMEOUT)
    _STARTER.clear()
    tracking.stop(state_dir=_SESSION["state"])
    shutil.rmtree(_SESSION["state"], ignore_errors=True)
    _SESSION.clear()


# --------------------------------------------------------------------------- missing tools

#: The prefix of every skip for a missing tool; the summary at the end groups them by suite.
MISSING_TOOL = "not checked on this machine:"


def require_tool(available: bool, message: str) -> None:
    """Skip when a tool a suite needs is missing, or fail when ``CI`` is set.

    ``message`` says what is missing and how to install it. On a contributor's machine the
    test is skipped (and listed at the end of the run); in CI every check must run, so the
    same message fails the test.
    """
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so every suite must run: this is an error.)")
    pytest.skip(f"{MISSING_TOOL} {message}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """End the run with one line per suite skipped for a missing tool, and why."""
    suites: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        if MISSING_TOOL not in str(reason):
            continue
        suite = report.nodeid.split("::")[0]
        suites[suite].add(str(reason).split(MISSING_TOOL, 1)[1].strip())
        counts[suite] += 1
    if not suites:
        return
    terminalreporter.section("suites not checked on this machine", sep="=", yellow=True)
    for suite in sorted(suites):
        reasons = "; ".join(sorted(suites[suite]))
        terminalreporter.line(f"SKIPPED {suite} ({counts[suite]} tests): {reasons}")
    terminalreporter.line(
        "This run did not check everything: install what is named above, or let CI run it "
        "(with CI set, a missing tool is an error)."
    )


# --------------------------------------------------------------------------- test times

#: Where each run writes the time spent per test file (setup, call and teardown of its tests);
#: `make bench` reads it to list the slowest files against their budgets in CONTRIBUTING.md.
TEST_TIMES = Path(__file__).resolve().parent / "_build" / "test-times.json"
_TIMES: dict[str, float] = defaultdict(float)
_CPU: dict[str, float] = defaultdict(float)
_STARTED: list[float] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _STARTED.append(time.time())


def _cpu_seconds() -> float:
    """CPU time of this process and of the child processes it has waited for (kernels,
    servers, browsers a test started and stopped). A process left to run on (a server a
    notebook's kernel started) is not counted: its parent never waits for it. A child is
    counted when it is waited for, which may be in a later test of the same worker."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    yield from _measure_cpu(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    yield from _measure_cpu(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    yield from _measure_cpu(item, "teardown")


def _measure_cpu(item: pytest.Item, when: str) -> Generator[None, None, None]:
    """Put the CPU seconds of one phase of a test in its report (it travels from an xdist
    worker to the controller with the report's user properties)."""
    before = _cpu_seconds()
    yield
    item.user_properties.append((f"cpu_seconds_{when}", _cpu_seconds() - before))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0]
    if (TEST_TIMES.parent.parent / path).is_file():  # the course's own files, not a test's
        _TIMES[path] += report.duration
        _CPU[path] += dict(report.user_properties).get(f"cpu_seconds_{report.when}", 0.0)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Record this run's time per file, keeping the files it did not run from earlier runs."""
    if _is_xdist_worker(session.config) or not _TIMES or not _STARTED:
        return
    try:
        files = json.loads(TEST_TIMES.read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        files = {}
    finished = time.strftime("%Y-%m-%d %H:%M")
    workers = getattr(session.config.option, "numprocesses", None) or 0
    for path, seconds in _TIMES.items():
        files[path] = {
            "seconds": round(seconds, 1),
            "cpu_seconds": round(_CPU[path], 1),
            "measured": finished,
            "workers": workers,
        }
    record = {
        "last_run": {
            "finished": finished,
            "wall_seconds": round(time.time() - _STARTED[0], 1),
            "workers": workers,
            "tests": session.testscollected,
            "exit_status": int(exitstatus),
        },
        "files": dict(sorted(files.items())),
    }
    TEST_TIMES.parent.mkdir(exist_ok=True)
    TEST_TIMES.write_text(json.dumps(record, indent=1) + "\n")


# --------------------------------------------------------------------------- order

# Every test file of 15 s or more of worker time, longest first (`make bench` reports them;
# order measured in a clean-clone `make test`). `make test` runs pytest-xdist with
# `--dist loadfile --no-loadscope-reorder`: a worker takes a whole file, in collection order,
# and the next one when it is nearly done. Longest first spreads the long files over the
# workers and leaves the short ones for the end, so all workers finish close together.
# Otherwise xdist orders files by name: test_tracking.py (about 70 s, mostly waiting for
# servers to start) came last, alone, with one core idle for about a minute.
LONGEST_FIRST = (
    "tests/test_classroom.py",
    "notebooks/10_full_cycle.ipynb",
    "tests/test_slides.py",
    "notebooks/08_continuous_delivery.ipynb",
    "tests/test_e2e.py",
    "tests/test_class_load.py",
    "tests/test_tracking.py",
    "notebooks/11_choosing_your_stack.ipynb",
    "notebooks/03_devops_to_mlops.ipynb",
    "tests/test_cycle.py",
    "notebooks/05_experiment_tracking.ipynb",
    "tests/test_exercises_nb06.py",
    "notebooks/09_monitoring_and_drift.ipynb",
    "notebooks/07_testing_ml_systems.ipynb",
    "tests/test_delivery.py",
    "notebooks/06_model_registry.ipynb",
    "tests/test_classroom_hardening.py",
    "tests/test_lab.py",
    "notebooks/04_data_phase.ipynb",
    "notebooks/01_linear_coursework.ipynb",
    "tests/test_registry.py",
    "tests/test_experiments.py",
    "notebooks/02_hidden_technical_debt.ipynb",
    "tests/test_devops.py",
    "tests/test_exercises_nb05.py",
    "notebooks/00_start_here.ipynb",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file, and of the other files, stays
