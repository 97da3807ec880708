"""Every notebook runs alone: no server running, an empty state folder, and again right after.

The runs themselves are nbval's (``make test`` collects ``notebooks/``): the plugin
``tests/nbval_fresh_state.py`` gives each notebook a fresh state before nbval starts its
kernel, then executes it a second time on the same state and checks what both executions left
in the tracking server (``tests/notebook_promises.py``). These tests check that machinery.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbval_fresh_state
import pytest
from notebook_promises import NOTEBOOKS, PROMISES, ROOT


def test_every_notebook_states_its_promises() -> None:
    assert sorted(PROMISES) == [p.stem for p in NOTEBOOKS]
    assert len(NOTEBOOKS) == 12


def test_every_notebook_is_rerun_on_its_own_fresh_state(pytestconfig: pytest.Config) -> None:
    # `make test` passes `notebooks` to pytest, so nbval collects every notebook there, and
    # the plugin is active: it is what runs each of them twice.
    assert pytestconfig.pluginmanager.has_plugin("tests.nbval_fresh_state")
    assert nbval_fresh_state.NOTEBOOKS_DIR == NOTEBOOKS[0].parent
    assert set(nbval_fresh_state.CLEARED) == {"MLFLOW_TRACKING_URI", "MLOPS_COURSE_SERVER_URI"}


def _notebook(*sources: str) -> str:
    cells = [
        {
            "cell_type": "code",
            "id": f"cell-{i}",
            "metadata": {},
            "source": s,
            "outputs": [],
            "execution_count": None,
        }
        for i, s in enumerate(sources)
    ]
    return json.dumps(
        {
            "cells": cells,
            "metadata": {
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                }
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


@pytest.mark.kernel
def test_plugin_gives_a_fresh_state_runs_twice_and_cleans_up(tmp_path: Path) -> None:
    """A notebook that records its environment: nbval's kernel and the rerun each see a new
    state folder, no session server; both executions see the same one; it is gone after."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    log = tmp_path / "seen.jsonl"
    record = (
        "import json, os\n"
        f"with open({str(log)!r}, 'a') as fh:\n"
        "    fh.write(json.dumps({k: os.environ.get(k) for k in ("
        "'MLOPS_COURSE_STATE', 'MLFLOW_TRACKING_URI', 'MLOPS_COURSE_SERVER_URI')}) + '\\n')"
    )
    (folder / "a.ipynb").write_text(_notebook("x = 1", record))
    (folder / "b.ipynb").write_text(_notebook(record, "assert False, 'a failing cell'"))
    env = {**os.environ, "MLOPS_NBVAL_FRESH_DIR": str(folder), "MLOPS_TEST_SESSION_SERVER": "0"}
    env["MLFLOW_TRACKING_URI"] = "http://127.0.0.1:9"  # what the kernels must not see
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",  # the folder is outside the repository: its conftest.py does not apply
            "tests.nbval_fresh_state",
            "--nbval-lax",
            "-rs",
            "-v",
            str(folder),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = result.stdout + result.stderr
    assert re.search(r"a\.ipynb::rerun-on-the-same-state PASSED", out), out[-3000:]
    assert re.search(r"b\.ipynb::rerun-on-the-same-state SKIPPED", out), out
    assert "nbval's execution of b.ipynb failed" in out, out
    assert result.returncode == 1, out  # b's failing cell fails the run
    seen = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(seen) == 3  # a: nbval and the rerun; b: nbval only
    assert all(
        s["MLFLOW_TRACKING_URI"] is None and s["MLOPS_COURSE_SERVER_URI"] is None for s in seen
    )
    states = [Path(s["MLOPS_COURSE_STATE"]) for s in seen]
    assert states[0] == states[1] != states[2], "a new state per notebook, kept for the rerun"
    assert not any(s.parent.exists() for s in states), "state folders are removed"
