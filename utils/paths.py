"""Where the course keeps its files: the repository root and the state folder."""

from __future__ import annotations

import os
import shutil
import subprocess
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


def write_private(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (mode 600), atomically.

    For files that hold a password or a token: the class server's ``secrets.json`` and
    ``credentials.csv``, and ``lab.json`` with JupyterLab's token. The file is written under a
    temporary name and renamed, so a reader never sees half of it.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    tmp.replace(path)


def git_output(folder: str | os.PathLike[str], *args: str) -> str | None:
    """The standard output of ``git -C <folder> <args>``, or None when it cannot say.

    None when git is not installed, ``folder`` is not in a git repository (e.g. a downloaded
    ZIP of the course), or git fails or takes more than 10 s: the code versions of notebooks
    05 and 06 are built on it and must not depend on git being there.
    """
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [git, "--no-optional-locks", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
