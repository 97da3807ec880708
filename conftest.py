"""Test-session set-up shared by the unit tests and nbval.

One course tracking server is started for the whole test session, in a throwaway state
folder, and ``MLFLOW_TRACKING_URI`` points every test and every notebook kernel at it (as a
class server would). It is started by the controlling pytest process before the xdist
workers are spawned, so they and their kernels inherit the environment, and it is stopped
when the session ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SESSION: dict[str, str] = {}


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if _is_xdist_worker(config) or os.environ.get("MLOPS_TEST_SESSION_SERVER") == "0":
        return
    from utils import tracking

    state = Path(tempfile.mkdtemp(prefix="mlops-course-test-state-"))
    server = tracking.start(state_dir=state)
    assert server.url is not None
    _SESSION.update(state=str(state), url=server.url)
    os.environ["MLFLOW_TRACKING_URI"] = server.url
    os.environ["MLOPS_TEST_SESSION_STATE"] = str(state)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


def pytest_unconfigure(config: pytest.Config) -> None:
    if not _SESSION or _is_xdist_worker(config):
        return
    from utils import tracking

    tracking.stop(state_dir=_SESSION["state"])
    shutil.rmtree(_SESSION["state"], ignore_errors=True)
    _SESSION.clear()


# The longest test files, longest first (about 6, 7, 5, 4 and 2 minutes on two cores). `make test`
# runs pytest-xdist with `--dist loadfile --no-loadscope-reorder`: a worker takes a whole file,
# in collection order. Starting with these spreads them over both workers; otherwise xdist
# orders files by their number of tests, which left the few long ones to one worker at the end.
LONGEST_FIRST = (
    "tests/test_classroom.py",
    "tests/test_notebooks.py",
    "tests/test_notebooks_odd.py",
    "tests/test_slides.py",
    "tests/test_e2e.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file, and of the other files, stays
