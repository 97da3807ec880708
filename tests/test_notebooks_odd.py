"""The fresh-state runs of `tests/test_notebooks.py` for the odd-numbered notebooks.

They live in a file of their own so that pytest-xdist, which keeps a file on one worker
(`--dist loadfile`), runs them on the other worker than the even-numbered ones: together they
are the longest tests of the suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_notebooks import NOTEBOOKS, run_alone_twice


@pytest.mark.parametrize("path", NOTEBOOKS[1::2], ids=lambda p: p.stem)
def test_notebook_runs_alone_on_a_fresh_state_twice(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_alone_twice(path, tmp_path, monkeypatch)
