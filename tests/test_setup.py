"""The set-up: `make` refuses a too-old or missing Python with one line, and rebuilds a `.venv`
whose Python is missing, broken or too old, whatever its stamp says.

Each test runs the real Makefile in a scratch copy of the repository's set-up files, with a
`.venv` made for the case; none installs anything (the rebuild is checked with `make -n`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")


@pytest.fixture(autouse=True)
def _needs_make() -> None:
    require_tool(
        MAKE is not None, "make not found: the set-up is `make lab` (apt-get install make)."
    )


def _scratch(tmp_path: Path, python: str | None) -> Path:
    """A copy of the set-up files, with `.venv/bin/python` as ``python`` (a script's text), an
    up-to-date stamp, or no `.venv` at all (None)."""
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    if python is not None:
        bindir = tmp_path / ".venv" / "bin"
        bindir.mkdir(parents=True)
        (bindir / "python").write_text(python)
        (bindir / "python").chmod(0o755)
        (tmp_path / ".venv" / ".installed-from-lock").touch()  # newer than the lock
    return tmp_path


def _make(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(
        [str(MAKE), "--no-print-directory", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


HEALTHY = f'#!/bin/sh\nexec {sys.executable} "$@"\n'
BROKEN = "#!/bin/sh\necho 'error while loading shared libraries' >&2\nexit 127\n"
OLD = '#!/bin/sh\ncase "$*" in *version_info*) exit 1;; *) echo 3.9.6;; esac\n'


def test_a_healthy_venv_with_a_fresh_stamp_is_kept(tmp_path: Path) -> None:
    result = _make(_scratch(tmp_path, HEALTHY), "-n", "lint")
    assert result.returncode == 0, result.stderr
    assert "-m venv" not in result.stdout and "uv pip install" not in result.stdout
    assert "ruff check" in result.stdout


@pytest.mark.parametrize("python", [BROKEN, OLD], ids=["broken", "too-old"])
def test_a_broken_or_too_old_venv_is_rebuilt_whatever_the_stamp(
    tmp_path: Path, python: str
) -> None:
    result = _make(_scratch(tmp_path, python), "-n", "lint")
    assert result.returncode == 0, result.stderr
    assert "rm -rf .venv" in result.stdout and "-m venv .venv" in result.stdout
    assert "uv pip install" in result.stdout  # then the lock is installed again


def test_a_too_old_python_gets_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    folder = _scratch(tmp_path, None)
    old = tmp_path / "python3.9"
    old.write_text(OLD)
    old.chmod(0o755)
    result = _make(folder, "check", f"PYTHON={old}")
    assert result.returncode != 0
    message = [line for line in result.stdout.splitlines() if line.startswith("make: ")]
    assert message == [
        f"make: the course needs Python 3.11 or newer; '{old}' is 3.9.6. "
        "Run: make check PYTHON=/path/to/python3.11"
    ], result.stdout + result.stderr
    assert not (folder / ".venv").exists(), "nothing was made with the old Python"


def test_a_missing_python_gets_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    result = _make(_scratch(tmp_path, None), "lab", "PYTHON=no-such-python3")
    assert result.returncode != 0
    assert (
        "make: 'no-such-python3' was not found. Install Python 3.11 or newer, then run: "
        "make lab PYTHON=/path/to/python3" in result.stdout
    ), result.stdout + result.stderr


def test_clean_without_a_working_venv_leaves_the_runs_alone(tmp_path: Path) -> None:
    folder = _scratch(tmp_path, None)
    (folder / ".course").mkdir()
    (folder / ".course" / "mlflow.db").write_text("runs")
    result = _make(folder, "clean")
    assert result.returncode == 0, result.stderr
    assert ".course/ (your runs) is left alone" in result.stdout
    assert (folder / ".course" / "mlflow.db").exists()


def test_clean_without_a_terminal_moves_the_runs_aside(tmp_path: Path) -> None:
    folder = _scratch(tmp_path, HEALTHY)
    (folder / ".course" / "artifacts" / "1").mkdir(parents=True)  # work, but no database
    result = _make(folder, "clean")  # stdin is not a terminal here
    assert result.returncode == 0, result.stderr
    (aside,) = folder.glob(".course-old-*")
    assert f"moved it to {aside}" in result.stdout
    assert (aside / "artifacts" / "1").is_dir() and not (folder / ".course").exists()
