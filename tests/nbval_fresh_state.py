"""nbval runs each notebook of ``notebooks/`` as a student's first contact does, then again.

For each notebook nbval collects from ``notebooks/``, this plugin:

1. before nbval starts the notebook's kernel, points the environment at a new, empty state
   folder (``MLOPS_COURSE_STATE``) with no ``MLFLOW_TRACKING_URI``: no server runs, so the
   notebook must start the course server itself (the kernel inherits the environment);
2. adds one item after the notebook's last cell, ``rerun-on-the-same-state``, which checks that
   the notebook started its server, executes the notebook a second time in the same state
   (nbclient, as *Run All* does), and checks what both executions promised to leave in the
   server (:mod:`notebook_promises`): a run per execution, identical metrics;
3. when leaving the notebook, stops its server, removes the state folder and restores the
   environment.

So one pass gives nbval's per-cell report, the fresh-state guarantee and the twice-in-a-row
guarantee, with two executions of each notebook instead of three.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The folder whose notebooks get this treatment (another one only for the plugin's own test).
NOTEBOOKS_DIR = Path(os.environ.get("MLOPS_NBVAL_FRESH_DIR", ROOT / "notebooks")).resolve()
RERUN_NAME = "rerun-on-the-same-state"
# The variables a notebook's kernel must not inherit from the test session: a class server or
# the session's server would make the notebook skip starting its own.
CLEARED = ("MLFLOW_TRACKING_URI", "MLOPS_COURSE_SERVER_URI")
RERUN_TIMEOUT = 600  # seconds per cell of the second execution; a hang fails instead of waiting

_active: dict[str, object] = {}  # the notebook now running: its node id, state and saved env


def _notebook_of(item: pytest.Item) -> Path | None:
    """The course notebook an nbval cell (or our rerun item) belongs to, else None."""
    path = Path(str(item.path))
    if path.suffix == ".ipynb" and path.parent.resolve() == NOTEBOOKS_DIR:
        return path
    return None


class NotebookRerun(pytest.Item):
    """The second execution of a notebook on the state nbval's execution left."""

    def __init__(self, *, notebook: Path, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.notebook = notebook
        self.add_marker("kernel")

    def runtest(self) -> None:
        import nbformat
        from nbclient import NotebookClient

        from tests.notebook_promises import PROMISES, check_promises
        from utils import tracking

        if _active.get("failed"):
            pytest.skip(f"nbval's execution of {self.notebook.name} failed (see its cells)")
        state = Path(str(_active["state"]))
        course = self.notebook.parent == ROOT / "notebooks"
        promises = PROMISES[self.notebook.stem] if course else []
        if promises:
            server = tracking.status(state)
            assert server.running, "the notebook should have started the course server itself"
        nb = nbformat.read(self.notebook, as_version=4)
        NotebookClient(
            nb,
            timeout=RERUN_TIMEOUT,
            kernel_name="python3",
            resources={"metadata": {"path": str(self.notebook.parent)}},
        ).execute()
        errors = [
            f"{out.get('ename')}: {out.get('evalue')}"
            for cell in nb.cells
            if cell.cell_type == "code"
            for out in cell.get("outputs", [])
            if out.get("output_type") == "error"
        ]
        assert errors == [], f"the second execution on the same state failed: {errors}"
        if promises:
            server = tracking.status(state)
            assert server.running and server.url
            check_promises(self.notebook, server.url)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.notebook.name}: second execution on the same state"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Add a rerun item after the last cell of every course notebook nbval collected."""
    last: dict[Path, int] = {}
    for index, item in enumerate(items):
        notebook = _notebook_of(item)
        if notebook is not None:
            item.add_marker("kernel")
            last[notebook] = index
    for notebook, index in sorted(last.items(), key=lambda kv: kv[1], reverse=True):
        parent = items[index].parent
        rerun = NotebookRerun.from_parent(parent, name=RERUN_NAME, notebook=notebook)
        items.insert(index + 1, rerun)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a notebook's first cell (so before nbval starts its kernel): a fresh state."""
    notebook = _notebook_of(item)
    if notebook is None or _active.get("notebook") == str(notebook):
        return
    _leave()
    state = Path(tempfile.mkdtemp(prefix=f"mlops-nbval-{notebook.stem[:2]}-")) / "state"
    saved = {name: os.environ.get(name) for name in (*CLEARED, "MLOPS_COURSE_STATE")}
    for name in CLEARED:
        os.environ.pop(name, None)
    os.environ["MLOPS_COURSE_STATE"] = str(state)
    _active.update(
        notebook=str(notebook),
        state=str(state),
        saved=saved,
        failed=False,
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember that a cell of the running notebook failed: the rerun then has no base."""
    report = yield
    notebook = _notebook_of(item)
    if report.failed and notebook is not None and str(notebook) == _active.get("notebook"):
        _active["failed"] = True
    return report


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After a notebook's last item (nbval's kernel is shut down by then): clean up."""
    notebook = _notebook_of(item)
    if notebook is None:
        return
    if nextitem is None or _notebook_of(nextitem) != notebook:
        _leave()


def _leave() -> None:
    """Stop the notebook's server, remove its state folder and restore the environment."""
    if not _active:
        return
    from utils import tracking

    state = Path(str(_active["state"]))
    try:
        tracking.stop(state_dir=state)
    finally:
        shutil.rmtree(state.parent, ignore_errors=True)
        saved: dict[str, str | None] = _active["saved"]  # type: ignore[assignment]
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        # The promise checks point MLflow at the notebook's server; point it back, so the
        # tests this worker runs next reach the session's server.
        if saved["MLFLOW_TRACKING_URI"] and "mlflow" in sys.modules:
            sys.modules["mlflow"].set_tracking_uri(saved["MLFLOW_TRACKING_URI"])
        _active.clear()


def pytest_sessionfinish() -> None:
    _leave()
