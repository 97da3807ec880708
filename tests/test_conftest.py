"""The test session's own rules (conftest.py): a missing tool is a skip with its reason on a
contributor's machine, listed at the end of the run, and a failure when CI is set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SUITE = """
from conftest import require_tool

def test_needs_a_tool():
    require_tool(False, "frobnicator not found: apt-get install frobnicator.")

def test_needs_nothing():
    require_tool(True, "never shown")
"""


def _run(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["MLOPS_TEST_SESSION_SERVER"] = "0"  # no tracking server for this small run
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "conftest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_suite.py"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_a_missing_tool_is_a_skip_listed_at_the_end_of_the_run(tmp_path: Path) -> None:
    result = _run(tmp_path, ci=False)
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert "suites not checked on this machine" in result.stdout
    summary = [line for line in lines if line.startswith("SKIPPED test_suite.py")]
    assert summary == [
        "SKIPPED test_suite.py (1 tests): frobnicator not found: apt-get install frobnicator."
    ], result.stdout
    assert "This run did not check everything" in result.stdout
    assert "1 passed, 1 skipped" in result.stdout


@pytest.mark.slow
def test_a_missing_tool_fails_when_ci_is_set(tmp_path: Path) -> None:
    result = _run(tmp_path, ci=True)
    assert result.returncode == 1, result.stdout
    assert "frobnicator not found: apt-get install frobnicator. (CI is set" in result.stdout
    assert "1 failed, 1 passed" in result.stdout
    assert "suites not checked on this machine" not in result.stdout


def test_every_notebook_and_long_test_file_has_a_time_budget() -> None:
    """`make bench` reads the budgets from CONTRIBUTING.md: every notebook has its row."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run as bench
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    budgets, default, total = bench.test_file_budgets(ROOT / "CONTRIBUTING.md")
    notebooks = {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert notebooks <= set(budgets), notebooks - set(budgets)
    long_files = {"tests/test_classroom.py", "tests/test_slides.py", "tests/test_e2e.py"}
    assert long_files <= set(budgets)
    assert all((ROOT / path).is_file() for path in budgets), "a budget names a missing file"
    assert default == 30 and total == 1300
    assert total < sum(budgets.values()), "the total is a budget of its own, not the sum"


def test_each_phase_of_a_test_records_its_cpu_seconds_with_the_children_it_waited_for(
    request: pytest.FixtureRequest,
) -> None:
    """`make bench` lists CPU seconds per test file: the worker's own, and those of the
    processes a test started and waited for (here a child that counts for about a second)."""
    import conftest

    assert [name for name, _ in request.node.user_properties] == ["cpu_seconds_setup"]
    before = conftest._cpu_seconds()
    busy = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", busy], check=True, timeout=60)
    assert conftest._cpu_seconds() - before >= 0.4


def test_every_file_of_the_longest_first_order_exists_once() -> None:
    """A renamed or removed file in ``LONGEST_FIRST`` would silently fall back to xdist's
    order (by name), which left a long file alone at the end of the run."""
    from conftest import LONGEST_FIRST

    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
    missing = [path for path in LONGEST_FIRST if not (ROOT / path).is_file()]
    assert missing == []


def test_a_worker_runs_at_a_lower_priority_than_the_session_server() -> None:
    """Under pytest-xdist each worker adds ``WORKER_NICENESS`` to its niceness; the
    controller, and the session's server it starts, keep theirs."""
    import psutil

    from conftest import WORKER_NICENESS

    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("a test of pytest-xdist's workers (make check and make test use them)")
    me = psutil.Process()
    controller = me.parent()
    assert me.nice() == min(19, controller.nice() + WORKER_NICENESS)
