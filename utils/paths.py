"""Where the course keeps its files: the repository root and the state folder."""

from __future__ import annotations

import os
from pathlib import Path

STATE_ENV = "MLOPS_COURSE_STATE"


def repo_root() -> Path:
    """Return the root of the course repository (the folder holding ``pyproject.toml``)."""
    return Path(__file__).resolve().parent.parent


def state_dir(create: bool = True) -> Path:
    """Return the course state folder.

    It is the folder named by the environment variable ``MLOPS_COURSE_STATE`` when that is
    set, else ``.course/`` at the repository root (gitignored). It holds the tracking
    server's SQLite database, artifacts, PID file and log, and ``lab.json``.
    """
    raw = os.environ.get(STATE_ENV)
    path = Path(raw).expanduser() if raw else repo_root() / ".course"
    path = path.resolve()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
