"""Each notebook runs alone: no server running, an empty state folder, and again right after.

nbval (in `make test`) runs every notebook against the test session's server. These tests
run each one as a student's first contact does: nothing running, nothing in the state
folder. The notebook must start its own course server, log what it promises, and a second
run in the same state must work too (names and runs cope with what exists) and reproduce
the same numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from mlflow.tracking import MlflowClient
from nbclient import NotebookClient

from utils import tracking

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# What each notebook promises to leave in the tracking server: experiment topic, run name,
# and the metrics that must be identical between two independent runs.
PROMISES: dict[str, list[tuple[str, str, set[str]]]] = {
    "00_start_here": [("00-start-here", "hello-tracking", {"packages_ok"})],
    "01_linear_coursework": [("01-linear-coursework", "course-project", {"accuracy", "roc_auc"})],
}


def _execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert errors == []


def test_every_notebook_states_its_promises() -> None:
    assert sorted(PROMISES) == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_alone_on_a_fresh_state_twice(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLOPS_COURSE_SERVER_URI", raising=False)
    monkeypatch.setenv("MLOPS_COURSE_STATE", str(state))
    try:
        _execute(path)
        _execute(path)
        server = tracking.status(state)
        if not PROMISES[path.stem]:
            return
        assert server.running, "the notebook should have started the course server"
        client = MlflowClient(tracking_uri=server.url)
        for topic, run_name, metrics in PROMISES[path.stem]:
            experiment = client.get_experiment_by_name(tracking.experiment_name(topic))
            assert experiment is not None, f"experiment {topic} is missing"
            runs = client.search_runs(
                [experiment.experiment_id], filter_string=f"attributes.run_name = '{run_name}'"
            )
            assert len(runs) == 2, f"{len(runs)} runs named {run_name}, expected one per run"
            assert all(r.info.status == "FINISHED" for r in runs)
            first, second = (r.data.metrics for r in runs)
            assert metrics <= set(first), f"metrics {metrics - set(first)} were not logged"
            assert {m: first[m] for m in metrics} == {m: second[m] for m in metrics}
    finally:
        tracking.stop(state_dir=state)
    assert not tracking.status(state).running
    assert os.environ.get("MLOPS_COURSE_STATE") == str(state)
