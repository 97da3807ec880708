"""From DevOps to MLOps: run tests from a notebook, and check the four properties of MLOps.

Notebook 03 (``03_devops_to_mlops``) turns the course project of notebook 01 into functions
with tests, runs those tests the way a continuous-integration (CI) server does, and turns the
four properties in the lecture's definition of MLOps (reproducible, trackable, testable,
maintainable) into checks that pass or fail:

* :func:`run_pytest` runs pytest in a separate Python process on a folder of your own and
  returns a short :class:`PytestReport` (one line per test), never the repository's own test
  set-up;
* :func:`run_fresh` runs a script in a fresh Python process, as a scheduled job does, and
  :func:`runs_logged_by` asks the tracking server which runs such a job logged;
* :func:`edit_file` changes a file the way a colleague's commit would and returns the diff;
* :func:`check_reproducible`, :func:`check_trackable`, :func:`check_testable` and
  :func:`check_maintainable` each return a :class:`PropertyCheck`; :func:`scorecard` puts
  several versions of a project side by side.

The checks are deliberately simple and measurable. They can tell a linear script from a tested,
tracked pipeline; they cannot replace a colleague who reads the code.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import inspect
import io
import math
import numbers
import os
import runpy
import subprocess
import sys
import tempfile
import textwrap
import time
import types
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "MLOPS_PROPERTIES",
    "MaintainabilityIssue",
    "PropertyCheck",
    "FreshRun",
    "PytestReport",
    "TestOutcome",
    "check_maintainable",
    "check_reproducible",
    "check_testable",
    "check_trackable",
    "edit_file",
    "load_module",
    "maintainability_issues",
    "run_pytest",
    "run_fresh",
    "run_script",
    "runs_logged_by",
    "scorecard",
]

#: The four properties of the lecture's MLOps definition, each with the check this module makes
#: of it (in the course's words).
MLOPS_PROPERTIES: dict[str, str] = {
    "reproducible": "Train several times from scratch: every run gives identical metrics.",
    "trackable": (
        "The run is on the tracking server: its parameters (with the seed), its metrics, a "
        "fingerprint of its data and the model itself."
    ),
    "testable": (
        "The pipeline is made of functions, every public function runs in a test, and all "
        "tests pass."
    ),
    "maintainable": (
        "No code runs on import, no magic numbers outside the configuration, every function "
        "is short and has a docstring."
    ),
}

#: Numbers that may appear anywhere in code without a name (an index, a count start).
ALLOWED_NUMBERS: tuple[int, ...] = (0, 1)

Outcome = Literal["passed", "failed", "error", "skipped"]
_SYMBOL = {"passed": "\u2714", "failed": "\u2718", "error": "\u2718", "skipped": "-"}
_NO_PARAM = "(no parameter)"

# Environment variables that would make a child pytest behave like the parent's.
_PYTEST_ENV_DROP = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_CURRENT_TEST")


# --------------------------------------------------------------------------- running pytest

#: Modules the pytest processes find already imported on Linux (see :func:`pytest_process`):
#: importing scikit-learn and its SciPy dependencies costs about 3 s of CPU in every new process.
WARM_MODULES: tuple[str, ...] = (
    "pytest",
    "numpy",
    "pandas",
    "sklearn",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "sklearn.ensemble",
    "pandera.pandas",
)

# On Linux, pytest processes are forked from multiprocessing's fork server, a small process of
# their own that has imported WARM_MODULES once. Elsewhere (macOS and Windows, where forking a
# process that has loaded numerical libraries is unsafe or impossible), a fresh interpreter.
_USE_FORKSERVER = sys.platform == "linux"


@dataclass(frozen=True)
class PytestProcess:
    """What one pytest process did (notebooks 03 and 07, through :func:`pytest_process`).

    Attributes:
        returncode: pytest's exit code (negative: killed by that signal).
        output: everything pytest printed (standard output and error together).
        seconds: wall-clock time from start to exit.
    """

    returncode: int
    output: str
    seconds: float


def _pytest_child(args: list[str], cwd: str, env: dict[str, str], output: str) -> None:
    """Body of a forked pytest process: output to a file, the caller's environment, pytest."""
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - fd 1 is the file
    sys.stderr = sys.stdout
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.dont_write_bytecode = True
    import pytest

    code = int(pytest.main(args))
    sys.stdout.flush()
    os._exit(code)


def _forkserver_context() -> Any:
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(WARM_MODULES))
    return context


def warm_up() -> bool:
    """Start, in the background, the helper that pytest processes are forked from.

    Introduced in notebook 03 (used again in 07). On Linux the first :func:`pytest_process`
    starts a helper process that imports :data:`WARM_MODULES` (about 3 s of CPU). Called early
    in a notebook, that import runs on another core while the notebook goes on, so the first
    pytest run starts at once. It returns at once; calling it again does nothing more.

    Returns:
        True when the helper runs (or is starting); False on platforms that start a fresh
        interpreter for every run instead (macOS, Windows).
    """
    if not _USE_FORKSERVER:
        return False
    from multiprocessing import forkserver

    _forkserver_context()
    forkserver.ensure_running()
    return True


def pytest_process(
    args: Sequence[str], cwd: str | os.PathLike[str], timeout: float = 120.0
) -> PytestProcess:
    """Run ``python -m pytest *args`` in a separate process in ``cwd``; wait for it.

    Introduced in notebook 03 (used again in 07): the process sees the files as they are now,
    runs with this kernel's Python and environment, loads no third-party plugins
    (``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``), writes no bytecode, and is stopped after
    ``timeout`` seconds. Nothing of it stays in this process: no imported test module, no
    changed setting.

    On Linux the process is forked from a helper that has imported :data:`WARM_MODULES` once
    (multiprocessing's fork server), so a run starts in a fraction of a second instead of
    importing scikit-learn again; the first run starts the helper. Elsewhere it is a fresh
    interpreter (``sys.executable -m pytest``).

    Raises:
        TimeoutError: pytest ran longer than ``timeout`` seconds (it is stopped).
        TypeError: an argument is not a string.
    """
    args = list(args)
    if not all(isinstance(a, str) for a in args):
        raise TypeError(f"pytest arguments must be strings, got {args!r}.")
    folder = Path(cwd)
    env = {k: v for k, v in os.environ.items() if k not in _PYTEST_ENV_DROP}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    started = time.perf_counter()
    too_long = (
        f"pytest in {folder} ran longer than {timeout:.0f} s and was stopped. "
        "Look for a test that waits or loops forever, or pass a larger timeout."
    )
    if not _USE_FORKSERVER:
        try:
            done = subprocess.run(  # noqa: S603 - this interpreter, our own arguments
                [sys.executable, "-m", "pytest", *args],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TimeoutError(too_long) from None
        output = done.stdout + done.stderr
        return PytestProcess(done.returncode, output, time.perf_counter() - started)
    with tempfile.TemporaryDirectory(prefix="pytest-out-") as scratch:
        log = Path(scratch) / "output.txt"
        child = _forkserver_context().Process(
            target=_pytest_child, args=(args, str(folder), env, str(log)), daemon=True
        )
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.terminate()
            child.join(5)
            if child.is_alive():
                child.kill()
                child.join()
            raise TimeoutError(too_long)
        output = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    code = child.exitcode if child.exitcode is not None else -1
    return PytestProcess(code, output, time.perf_counter() - started)


@dataclass(frozen=True)
class TestOutcome:
    """One test of a :class:`PytestReport`. Introduced in notebook 03.

    Attributes:
        name: the test's name, e.g. ``"test_split_is_reproducible"`` (with the file's module
            name in front when the run covered several files).
        outcome: ``"passed"``, ``"failed"``, ``"error"`` (the test could not even run, e.g.
            an import failed) or ``"skipped"``.
        message: for a failure or error, the first line of what went wrong; else ``""``.
        seconds: the time the test took.
    """

    __test__ = False  # not a test class, even though its name starts with "Test"

    name: str
    outcome: Outcome
    message: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class PytestReport:
    """What :func:`run_pytest` found: one outcome per test, readable at a glance.

    Introduced in notebook 03 (used again in notebook 07, whose suite runs every model test once
    per model: :meth:`table`). It prints as a header line (see :meth:`summary`) and one line
    per test, with the first line of the error under each failed test.

    Attributes:
        target: the test file or folder that was run.
        returncode: pytest's exit code (0: all passed; 1: some failed; 5: no tests found).
        seconds: wall-clock time of the whole pytest process.
        outcomes: one :class:`TestOutcome` per test, in the order pytest ran them.
        output: the end of pytest's own text output, kept for when no test could run.
        finished: when the run ended (seconds since the epoch, as ``time.time()``).
        command: the command that was run, as in a shell (``python -m pytest ...``).
    """

    target: Path
    returncode: int
    seconds: float
    outcomes: tuple[TestOutcome, ...]
    output: str = field(default="", repr=False)
    finished: float = field(default=0.0, repr=False)
    command: tuple[str, ...] = field(default=(), repr=False)

    def _names(self, *outcomes: str) -> list[str]:
        return [o.name for o in self.outcomes if o.outcome in outcomes]

    @property
    def passed(self) -> list[str]:
        """Names of the tests that passed."""
        return self._names("passed")

    @property
    def failed(self) -> list[str]:
        """Names of the tests that failed or could not run (errors)."""
        return self._names("failed", "error")

    @property
    def ok(self) -> bool:
        """True when pytest exited cleanly and at least one test ran and passed: "green"."""
        return self.returncode == 0 and bool(self.passed)

    def summary(self) -> str:
        """The header line, e.g. ``"✘ pytest test_x.py: 1 failed, 4 passed in 1.3 s"``."""
        counts = []
        for outcome, label in (
            ("failed", "failed"),
            ("error", "errors"),
            ("passed", "passed"),
            ("skipped", "skipped"),
        ):
            n = sum(o.outcome == outcome for o in self.outcomes)
            if n:
                counts.append(f"{n} {label}")
        if not counts:
            counts.append("no tests ran")
        symbol = "\u2714" if self.ok else "\u2718"
        return f"{symbol} pytest {self.target.name}: {', '.join(counts)} in {self.seconds:.1f} s"

    def table(self) -> Any:
        """The outcomes as a pandas table: one row per test function, one column per parameter
        (e.g. ``test_x[champion]`` goes to column ``champion``), and the column ``"(no
        parameter)"`` for tests without one. Introduced in notebook 07."""
        import pandas as pd

        cells: dict[str, dict[str, str]] = {}
        for outcome in self.outcomes:
            test, _, param = outcome.name.partition("[")
            cells.setdefault(test, {})[param[:-1] or _NO_PARAM] = outcome.outcome
        frame = pd.DataFrame.from_dict(cells, orient="index").fillna("")
        frame.index.name = "test"
        first = [_NO_PARAM] if _NO_PARAM in frame.columns else []
        return frame[first + [c for c in frame.columns if c != _NO_PARAM]]

    def __str__(self) -> str:
        lines = [self.summary()]
        for outcome in self.outcomes:
            lines.append(f"  {_SYMBOL[outcome.outcome]} {outcome.name}")
            if outcome.message:
                lines.append(f"      {outcome.message}")
        if not self.outcomes and self.output:
            lines.append(textwrap.indent(self.output.strip(), "  | "))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def _first_line(text: str | None, limit: int = 110) -> str:
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 3] + "..."
    return ""


def _error_line(traceback: str | None) -> str:
    """The last ``E   ...`` line of a pytest traceback: the error itself."""
    errors = [line[1:].strip() for line in (traceback or "").splitlines() if line.startswith("E ")]
    return _first_line(errors[-1]) if errors else ""


def _parse_junit(path: Path) -> list[TestOutcome]:
    root = ET.parse(path).getroot()
    cases = list(root.iter("testcase"))
    modules = {c.get("classname", "").split(".")[-1] for c in cases}
    outcomes = []
    for case in cases:
        name = case.get("name", "?")
        module = case.get("classname", "")
        if len(modules) > 1 and module:
            name = f"{module.split('.')[-1]}::{name}"
        seconds = float(case.get("time", "0") or 0)
        outcome: Outcome = "passed"
        message = ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "error"
                message = _first_line(child.get("message"))
                if message in ("", "collection failure"):  # the reason is in the traceback
                    message = _error_line(child.text) or message
                break
            if child.tag == "skipped":
                outcome = "skipped"
                message = _first_line(child.get("message"))
        outcomes.append(TestOutcome(name, outcome, message, seconds))
    return outcomes


def run_pytest(
    target: str | os.PathLike[str],
    *args: str,
    timeout: float = 120.0,
) -> PytestReport:
    """Run pytest on a test file or folder in a separate Python process; return a short report.

    This is what a CI server does with every proposed change. Introduced in notebook 03.
    pytest runs in a process of its own (:func:`pytest_process`) with this kernel's Python,
    from the target's folder, as if that folder were a project of its own: it reads no
    configuration file and no ``conftest.py`` from folders above (so a repository's test
    set-up, such as the course's, does not start), loads no third-party plugins, writes no cache
    and no bytecode. Modules next to the tests can be imported by them (``import coursework``).

    Args:
        target: a test file (``test_*.py``) or a folder of them.
        *args: extra pytest arguments, e.g. ``"-k", "split"``.
        timeout: seconds before the run is stopped.

    Returns:
        A :class:`PytestReport`; ``report.ok`` is True when every test passed.

    Raises:
        FileNotFoundError: ``target`` does not exist.
        TimeoutError: pytest ran longer than ``timeout`` seconds.
    """
    path = Path(target).expanduser().resolve()
    if not path.exists():
        raise FileNotFoundError(f"No test file or folder at {path}; write the tests first.")
    if not all(isinstance(a, str) for a in args):
        raise TypeError(f"Extra pytest arguments must be strings, got {args!r}.")
    folder = path if path.is_dir() else path.parent
    with tempfile.TemporaryDirectory(prefix="pytest-run-") as scratch:
        ini = Path(scratch) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        junit = Path(scratch) / "report.xml"
        command = [
            "-q",
            "-c",
            str(ini),
            "--rootdir",
            str(folder),
            "--noconftest",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            *args,
            str(path),
        ]
        done = pytest_process(command, folder, timeout)
        outcomes = _parse_junit(junit) if junit.exists() else []
    output = "\n".join(done.output.strip().splitlines()[-15:])
    shell = ("python", "-m", "pytest", *command)
    return PytestReport(
        path, done.returncode, done.seconds, tuple(outcomes), output, time.time(), shell
    )


# --------------------------------------------------------------------------- files and modules


def edit_file(path: str | os.PathLike[str], old: str, new: str) -> str:
    """Replace the one occurrence of ``old`` in a text file by ``new``; return the diff.

    Introduced in notebook 03, to make a change the way a colleague's commit would and show it
    as a reviewer sees it (a unified diff: ``-`` lines removed, ``+`` lines added).

    Raises:
        TypeError: ``old`` or ``new`` is not a string.
        FileNotFoundError: there is no file at ``path``.
        ValueError: ``old`` is empty, or occurs in the file not exactly once (the message says
            how often), so the edit would be ambiguous.
    """
    if not isinstance(old, str) or not isinstance(new, str):
        raise TypeError("old and new must be strings: the text to replace and its replacement.")
    if not old:
        raise ValueError("old is empty: give the exact text to replace.")
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"No file at {file}.")
    before = file.read_text(encoding="utf-8")
    count = before.count(old)
    if count != 1:
        raise ValueError(
            f"The text to replace occurs {count} times in {file.name}; it must occur exactly "
            f"once. Give more of the surrounding text. Text: {old!r:.80}"
        )
    after = before.replace(old, new)
    file.write_text(after, encoding="utf-8")
    diff = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{file.name}",
        tofile=f"b/{file.name}",
        n=1,
    )
    return "".join(diff)


def load_module(path: str | os.PathLike[str]) -> types.ModuleType:
    """Import a Python file as a new module object, fresh from disk every time.

    Introduced in notebook 03. Unlike ``import``, it never returns a cached copy, so after a
    file changes you get the new code. The module is not added to ``sys.modules``.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        SyntaxError: the file is not valid Python.
    """
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise FileNotFoundError(f"No Python file at {file}.")
    source = file.read_text(encoding="utf-8")
    module = types.ModuleType(file.stem)
    module.__file__ = str(file)
    exec(compile(source, str(file), "exec"), module.__dict__)
    return module


def run_script(path: str | os.PathLike[str], names: Sequence[str] | None = None) -> dict[str, Any]:
    """Run a Python script top to bottom in this process; return its variables.

    Introduced in notebook 03, to run a linear script (notebook 01's project) and read its
    results. It runs the file as ``python script.py`` runs it (as ``__main__``, in a namespace
    of its own), but inside this kernel, which is what lets it hand back the variables; modules
    the kernel imported before stay imported. To run a script in a process of its own, as a
    scheduled job does, use :func:`run_fresh`. What the script prints is swallowed, so that
    repeated runs stay quiet.

    Args:
        path: the script.
        names: the variables to return, e.g. ``["accuracy", "auc"]``; None returns every
            variable the script left behind (what a notebook kernel would hold after running
            the same code as cells), except Python's own ``__dunder__`` names.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        TypeError: ``names`` is a single string instead of a list.
        ValueError: the script did not define one of ``names``.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"No script at {file}.")
    if isinstance(names, str):
        raise TypeError("names must be a list of variable names, e.g. ['accuracy'].")
    with contextlib.redirect_stdout(io.StringIO()):
        variables = runpy.run_path(str(file), run_name="__main__")
    if names is None:
        return {k: v for k, v in variables.items() if not k.startswith("__")}
    missing = [n for n in names if n not in variables]
    if missing:
        raise ValueError(f"The script {file.name} does not define {missing}.")
    return {n: variables[n] for n in names}


@dataclass(frozen=True)
class FreshRun:
    """What a script did in a fresh Python process: what :func:`run_fresh` returns.

    Introduced in notebook 03. Prints as one line (``✔ python job.py: exit code 0 in 2.1 s``),
    followed by the error for a failed run.

    Attributes:
        script: the script that was run.
        returncode: the process's exit code (0: it ran to the end; negative: killed by that
            signal).
        stdout: what the script printed.
        stderr: what it wrote to standard error, e.g. a traceback.
        seconds: wall-clock time from start to exit.
    """

    script: Path
    returncode: int
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)
    seconds: float

    @property
    def ok(self) -> bool:
        """True when the script ran to the end (exit code 0)."""
        return self.returncode == 0

    @property
    def error(self) -> str:
        """The last line of the traceback, e.g. ``"NameError: name 'X' is not defined"``.

        Empty when the script ran to the end.
        """
        if self.ok:
            return ""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit code {self.returncode}, no message"

    @property
    def error_line(self) -> int | None:
        """The line of the script the error was raised in, from the traceback; else None."""
        found = None
        marker = f'File "{self.script}", line '
        for line in self.stderr.splitlines():
            line = line.strip()
            if line.startswith(marker):
                digits = line[len(marker) :].split(",")[0]
                found = int(digits) if digits.isdigit() else found
        return found

    def __str__(self) -> str:
        symbol = "\u2714" if self.ok else "\u2718"
        head = (
            f"{symbol} python {self.script.name}: exit code {self.returncode} "
            f"in {self.seconds:.1f} s"
        )
        if self.ok:
            return head
        where = f" (line {self.error_line})" if self.error_line else ""
        return f"{head}\n    {self.error}{where}"

    def __repr__(self) -> str:
        return str(self)


def run_fresh(
    script: str | os.PathLike[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> FreshRun:
    """Run a script as a scheduled job does: ``python script.py`` in a new Python process.

    Introduced in notebook 03. Unlike :func:`run_script`, nothing of this kernel reaches the
    script: no variable, no imported module, no changed setting, no state of a random
    generator. It starts with this kernel's Python (``sys.executable``, so the same installed
    packages) and environment variables, in the script's folder unless ``cwd`` says otherwise.
    A failing script is not an error here: look at ``ok`` and ``error`` of the result.

    Args:
        script: the Python file to run.
        cwd: the working folder of the process; default: the script's folder.
        env: environment variables to set or change for this process only (e.g.
            ``{"MLFLOW_EXPERIMENT_ID": "1"}``).
        timeout: seconds before the process is stopped.

    Raises:
        FileNotFoundError: there is no file at ``script``.
        TypeError: ``env`` is not a dict of strings.
        TimeoutError: the script ran longer than ``timeout`` seconds (it is stopped).
    """
    file = Path(script).expanduser().resolve()
    if not file.is_file():
        raise FileNotFoundError(f"No script at {file}.")
    extra = dict(env or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in extra.items()):
        raise TypeError(f"env must map names to strings, got {env!r}.")
    environment = {**os.environ, **extra, "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    try:
        done = subprocess.run(  # noqa: S603 - this interpreter, the caller's own script
            [sys.executable, str(file)],
            cwd=Path(cwd) if cwd is not None else file.parent,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TimeoutError(
            f"{file.name} ran longer than {timeout:.0f} s in a fresh process and was stopped."
        ) from None
    return FreshRun(file, done.returncode, done.stdout, done.stderr, time.perf_counter() - started)


def runs_logged_by(
    script: str | os.PathLike[str], experiment_id: str, timeout: float = 120.0
) -> list[str]:
    """Run a script as a job (:func:`run_fresh`); return the IDs of the runs it logged.

    Introduced in notebook 03, to ask the tracking server, not the script's author, whether a
    script records its runs. The script runs with ``experiment_id`` as its active MLflow
    experiment (``MLFLOW_EXPERIMENT_ID``) and this kernel's tracking server
    (``MLFLOW_TRACKING_URI``, set by ``tracking.connect()``); the runs are those that appear in
    the experiment while it runs. An empty list: the script logged nothing.

    Raises:
        RuntimeError: the script failed (the message has its error).
        FileNotFoundError, TimeoutError: as :func:`run_fresh`.
    """
    import mlflow  # imported here: importing utils.devops stays fast

    def run_ids() -> set[str]:
        runs = mlflow.search_runs([experiment_id], output_format="list", max_results=50_000)
        return {run.info.run_id for run in runs}

    before = run_ids()
    env = {
        "MLFLOW_EXPERIMENT_ID": str(experiment_id),
        "MLFLOW_TRACKING_URI": mlflow.get_tracking_uri(),
    }
    job = run_fresh(script, env=env, timeout=timeout)
    if not job.ok:
        raise RuntimeError(f"The script failed, so it cannot be checked:\n{job}")
    return sorted(run_ids() - before)


# --------------------------------------------------------------------------- the four checks


@dataclass(frozen=True)
class PropertyCheck:
    """The result of checking one MLOps property of one version of a project.

    Introduced in notebook 03. Prints as ``✔ reproducible: ...`` or ``✘ trackable: ...``
    followed by the reasons.

    Attributes:
        property: ``"reproducible"``, ``"trackable"``, ``"testable"`` or ``"maintainable"``.
        passed: whether the check passed.
        details: what was found, one finding per item (the reasons when it failed).
    """

    property: str
    passed: bool
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        symbol = "\u2714" if self.passed else "\u2718"
        verdict = "passes" if self.passed else "fails"
        lines = [f"{symbol} {self.property}: {verdict}"]
        lines += [f"    {d}" for d in self.details]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def _format_metrics(metrics: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:.6g}" for k, v in metrics.items())


def _as_metrics(result: object, run: int) -> dict[str, float]:
    if not isinstance(result, Mapping):
        raise TypeError(
            f"Run {run} returned a {type(result).__name__}; the training function must return "
            "a dict of metrics, e.g. {'accuracy': 0.95}."
        )
    metrics = {}
    for key, value in result.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"Run {run} returned the metric {key}={value!r}, not a number.")
        metrics[str(key)] = float(value)
    if not metrics:
        raise ValueError(f"Run {run} returned no metrics.")
    return metrics


def check_reproducible(train: Callable[[], Mapping[str, float]], runs: int = 5) -> PropertyCheck:
    """Reproducible: train ``runs`` times from scratch; every run must give identical metrics.

    Introduced in notebook 03. "Identical" means equal to the last digit, not merely close.
    Several runs (five by default) make it unlikely that two runs agree by coincidence.

    Args:
        train: a function without arguments that trains from scratch and returns a dict of
            metrics, e.g. ``lambda: project.train(CONFIG)[1]``.
        runs: how many runs to compare (at least 2).

    Raises:
        TypeError: ``train`` is not callable, or returned something other than a dict of
            numbers.
        ValueError: ``runs`` is less than 2, or a run returned no metrics.
    """
    if not callable(train):
        raise TypeError(f"train must be a function to call, got {type(train).__name__}.")
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 2:
        raise ValueError(f"runs must be an integer of at least 2, got {runs!r}.")
    results = [_as_metrics(train(), run) for run in range(1, runs + 1)]
    first = results[0]
    differing = sorted(
        {k for r in results[1:] for k in set(first) | set(r) if r.get(k) != first.get(k)}
    )
    if not differing:
        return PropertyCheck(
            "reproducible",
            True,
            (f"{runs} runs gave identical metrics: {_format_metrics(first)}",),
        )
    details = []
    for key in differing:
        values = sorted({r.get(key, math.nan) for r in results})
        shown = ", ".join(f"{v:.6g}" for v in values[:5])
        details.append(f"{key} differs between runs: {len(values)} different values ({shown})")
    details.append("some randomness is not seeded, or something else changes between runs")
    return PropertyCheck("reproducible", False, tuple(details))


def check_trackable(
    run_id: str | None,
    required_params: Iterable[str] = ("seed",),
    fingerprint_tag: str = "data_fingerprint",
) -> PropertyCheck:
    """Trackable: the run is on the tracking server with params, metrics, data and model.

    Introduced in notebook 03. Asks the tracking server MLflow currently points at (call
    ``tracking.connect()`` first) whether the run exists and finished, has the parameters
    ``required_params`` (at least the seed), at least one metric, the tag ``fingerprint_tag``
    (a fingerprint of the training data, :func:`utils.datasets.fingerprint`) and a model
    logged from it.

    Args:
        run_id: the MLflow run ID, or None when the version logs no run at all.
        required_params: parameter names the run must have.
        fingerprint_tag: the tag that holds the data fingerprint.

    Raises:
        TypeError: ``run_id`` is neither a string nor None.
    """
    if run_id is None:
        return PropertyCheck(
            "trackable", False, ("no run was logged: there is nothing on the tracking server",)
        )
    if not isinstance(run_id, str) or not run_id:
        raise TypeError(f"run_id must be an MLflow run ID (a string) or None, got {run_id!r}.")
    required = [required_params] if isinstance(required_params, str) else list(required_params)
    import mlflow  # imported here: importing utils.devops stays fast

    try:
        run = mlflow.get_run(run_id)
    except mlflow.exceptions.MlflowException:
        return PropertyCheck(
            "trackable",
            False,
            (f"no run {run_id} on the tracking server {mlflow.get_tracking_uri()}",),
        )
    problems = []
    if run.info.status != "FINISHED":
        problems.append(f"the run's status is {run.info.status}, not FINISHED")
    params = run.data.params
    missing = [p for p in required if p not in params]
    if missing:
        problems.append(f"parameters missing: {', '.join(missing)}")
    if not run.data.metrics:
        problems.append("no metrics logged")
    fingerprint = run.data.tags.get(fingerprint_tag, "")
    if not fingerprint:
        problems.append(f"no data fingerprint (tag {fingerprint_tag!r})")
    models = mlflow.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}'",
        output_format="list",
    )
    if not models:
        problems.append("no model logged from this run")
    if problems:
        return PropertyCheck("trackable", False, tuple(problems))
    return PropertyCheck(
        "trackable",
        True,
        (
            f"run {run_id[:8]}... on {mlflow.get_tracking_uri()}",
            f"{len(params)} parameters ({', '.join(sorted(params))}), "
            f"metrics: {_format_metrics(run.data.metrics)}",
            f"data fingerprint {fingerprint}, model {models[0].model_id}",
        ),
    )


def _source_of(code: str | os.PathLike[str] | Callable[..., Any]) -> tuple[str, str]:
    """Return (source, a name for messages) of a file path, a function, or source text."""
    if isinstance(code, os.PathLike):
        file = Path(code)
        if not file.is_file():
            raise FileNotFoundError(f"No Python file at {file}.")
        return file.read_text(encoding="utf-8"), file.name
    if isinstance(code, str):
        return code, "the code"
    if callable(code):
        try:
            return textwrap.dedent(inspect.getsource(code)), f"{code.__name__}()"
        except (OSError, TypeError) as err:
            raise ValueError(
                f"Cannot read the source code of {code!r}: define it in a file or a notebook "
                "cell and pass the function itself."
            ) from err
    raise TypeError(
        "Give a pathlib.Path of a Python file, a function, or source code as a string; "
        f"got {type(code).__name__}."
    )


def _parse(source: str, name: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as err:
        raise ValueError(f"{name} is not valid Python: {err.msg} (line {err.lineno}).") from None


def _names_used(node: ast.AST) -> set[str]:
    """Every name and attribute name that appears in ``node``: what it may call."""
    used = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            used.add(child.id)
        elif isinstance(child, ast.Attribute):
            used.add(child.attr)
    return used


def check_testable(
    module: str | os.PathLike[str],
    tests: str | os.PathLike[str] | None,
    report: PytestReport | None = None,
) -> PropertyCheck:
    """Testable: the pipeline is functions, every public function runs in a test, the tests pass.

    Introduced in notebook 03. Reads the module for its top-level functions, and the test file
    for the names it uses. A public function (name not starting with ``_``) *runs in a test*
    when a test calls it, or calls a function of the module that calls it (and so on). Then
    the tests are run with :func:`run_pytest`, in a separate process. Running in a test is not
    the same as being checked by one: a test that calls ``train`` runs ``build_model`` too, but
    may look at nothing ``build_model`` does.

    Args:
        module: the Python file of the pipeline.
        tests: its test file, or None when there are no tests.
        report: a :class:`PytestReport` of these tests that you have already, to save a run.
            It is used only if it ran ``tests`` after both files were last changed; otherwise
            the tests run again.

    Raises:
        FileNotFoundError: ``module`` (or a given ``tests`` file) does not exist.
        ValueError: a file is not valid Python.
        TypeError: ``report`` is not a PytestReport.
    """
    if report is not None and not isinstance(report, PytestReport):
        raise TypeError(f"report must be a PytestReport from run_pytest, got {report!r:.60}.")
    source, name = _source_of(Path(module))
    tree = _parse(source, name)
    calls = {
        node.name: _names_used(node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    public = [f for f in calls if not f.startswith("_")]
    problems = []
    if not public:
        problems.append(
            f"{name} defines no functions: its code runs top to bottom, a test cannot call a part"
        )
    if tests is None:
        problems.append("there are no tests")
        return PropertyCheck("testable", False, tuple(problems))
    test_source, test_name = _source_of(Path(tests))
    direct = _names_used(_parse(test_source, test_name)) & set(calls)
    reached, todo = set(direct), list(direct)
    while todo:
        for callee in calls[todo.pop()] & set(calls):
            if callee not in reached:
                reached.add(callee)
                todo.append(callee)
    untested = [f for f in public if f not in reached]
    if untested:
        problems.append(f"never run by a test: {', '.join(untested)}")
    tests_file = Path(tests).resolve()
    changed = max(Path(module).stat().st_mtime, tests_file.stat().st_mtime)
    if report is None or report.target != tests_file or report.finished < changed:
        report = run_pytest(tests_file)
    if not report.ok:
        failed = report.failed or ["(no test ran)"]
        problems.append(f"{report.summary()[2:]}; failing: {', '.join(failed)}")
    if problems:
        return PropertyCheck("testable", False, tuple(problems))
    indirect = [f for f in public if f not in direct]
    how = f"called by tests: {', '.join(f for f in public if f in direct)}"
    if indirect:
        how += f"; run through them: {', '.join(indirect)}"
    return PropertyCheck(
        "testable",
        True,
        (f"{len(public)} functions, each runs in a test ({how})", report.summary()[2:]),
    )


@dataclass(frozen=True)
class MaintainabilityIssue:
    """One finding of :func:`maintainability_issues` (notebook 03).

    Attributes:
        line: the line number in the checked source.
        rule: ``"code on import"``, ``"magic number"``, ``"long function"`` or
            ``"no docstring"``.
        message: what was found and what to do about it.
    """

    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _is_configuration(node: ast.stmt) -> bool:
    """True for ``UPPER_CASE = <literal>``: a named constant, i.e. configuration."""
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return False
    if not all(isinstance(t, ast.Name) and t.id.isupper() for t in targets):
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _is_main_guard(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


def _code_on_import(tree: ast.Module, source: str) -> tuple[list[MaintainabilityIssue], set[int]]:
    """The "code on import" issues of a module, and the ids of the nodes of its configuration
    (module constants), whose numbers are named and so not magic."""
    issues: list[MaintainabilityIssue] = []
    named: set[int] = set()  # ids of number nodes that are the value of a module constant
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom | ast.ClassDef):
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or _is_main_guard(node):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring or a bare string
        if _is_configuration(node):
            named.update(id(n) for n in ast.walk(node))
            continue
        snippet = _first_line(ast.get_source_segment(source, node), 60)
        issues.append(
            MaintainabilityIssue(
                node.lineno,
                "code on import",
                f"`{snippet}` runs on import; put it in a function",
            )
        )
    return issues, named


def maintainability_issues(
    code: str | os.PathLike[str] | Callable[..., Any],
    max_function_lines: int = 20,
) -> list[MaintainabilityIssue]:
    """List what makes code harder to maintain, by four measurable rules.

    Introduced in notebook 03. The rules:

    1. **code on import**: at the top level of a module, only imports, function and class
       definitions, a docstring, constants (an ``UPPER_CASE`` name assigned a literal value,
       such as ``SEED = 42`` or ``CONFIG = {"test_size": 0.25}``) and an
       ``if __name__ == "__main__":`` block; everything else runs as a side effect of
       importing it, and a test cannot call it on its own.
    2. **magic number**: a number written into the code (other than 0 and 1) outside a module
       constant, e.g. ``test_size=0.25`` inside a function: it belongs in the configuration,
       in one place, with a name.
    3. **long function**: a function longer than ``max_function_lines`` lines.
    4. **no docstring**: a function without a docstring saying what it does.

    Args:
        code: a ``pathlib.Path`` of a Python file, a function (its source is read), or
            source code as a string.
        max_function_lines: the longest function allowed, in lines, ``def`` line included.

    Returns:
        The issues in line order; an empty list when the code follows every rule.

    Raises:
        TypeError: ``code`` is none of the accepted kinds.
        ValueError: the code is not valid Python, or ``max_function_lines`` is not positive.
    """
    if isinstance(max_function_lines, bool) or not isinstance(max_function_lines, int):
        raise TypeError(f"max_function_lines must be an integer, got {max_function_lines!r}.")
    if max_function_lines < 1:
        raise ValueError(f"max_function_lines must be at least 1, got {max_function_lines}.")
    source, name = _source_of(code)
    tree = _parse(source, name)
    issues, named = _code_on_import(tree, source)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float | complex)
            and not isinstance(node.value, bool)
            and node.value not in ALLOWED_NUMBERS
            and id(node) not in named
        ):
            issues.append(
                MaintainabilityIssue(
                    node.lineno,
                    "magic number",
                    f"the number {node.value!r} is written into the code; give it a name in "
                    "the configuration",
                )
            )
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > max_function_lines:
                issues.append(
                    MaintainabilityIssue(
                        node.lineno,
                        "long function",
                        f"{node.name}() has {length} lines (at most {max_function_lines}); "
                        "split it into smaller functions",
                    )
                )
            if ast.get_docstring(node) is None:
                issues.append(
                    MaintainabilityIssue(
                        node.lineno,
                        "no docstring",
                        f"{node.name}() has no docstring saying what it does",
                    )
                )
    return sorted(issues, key=lambda i: (i.line, i.rule))


def check_maintainable(
    code: str | os.PathLike[str] | Callable[..., Any],
    max_function_lines: int = 20,
) -> PropertyCheck:
    """Maintainable: the code follows the four rules of :func:`maintainability_issues`.

    Introduced in notebook 03. These rules are measurable stand-ins for maintainability; a
    colleague reading the code judges much more (names, structure, duplication).

    Args:
        code: a ``pathlib.Path`` of a Python file, a function, or source code as a string.
        max_function_lines: the longest function allowed, in lines.
    """
    issues = maintainability_issues(code, max_function_lines)
    if issues:
        by_rule: dict[str, list[MaintainabilityIssue]] = {}
        for issue in issues:
            by_rule.setdefault(issue.rule, []).append(issue)
        details = []
        for rule, found in by_rule.items():
            lines = ", ".join(str(i.line) for i in found[:6]) + (", ..." if len(found) > 6 else "")
            details.append(f"{len(found)} x {rule} (line {lines}), e.g. {found[0].message}")
        return PropertyCheck("maintainable", False, tuple(details))
    source, name = _source_of(code)
    functions = [
        n
        for n in ast.walk(_parse(source, name))
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    longest = max(((n.end_lineno or n.lineno) - n.lineno + 1 for n in functions), default=0)
    return PropertyCheck(
        "maintainable",
        True,
        (
            "no code on import, no magic numbers outside the configuration",
            f"{len(functions)} functions, all with docstrings, the longest {longest} lines "
            f"(at most {max_function_lines})",
        ),
    )


def scorecard(versions: Mapping[str, Sequence[PropertyCheck]]) -> Any:
    """Put the property checks of several versions of a project side by side.

    Introduced in notebook 03.

    Args:
        versions: version name -> its :class:`PropertyCheck` results (one per property).

    Returns:
        A pandas DataFrame: one row per property (in the order of :data:`MLOPS_PROPERTIES`),
        one column per version, cells ``"✔ pass"`` or ``"✘ fail"`` (empty when a property
        was not checked), and a last row ``"passed"`` with the count, e.g. ``"1 of 4"``.

    Raises:
        TypeError: a value is not a sequence of PropertyCheck.
        ValueError: a version has the same property twice, or an unknown property.
    """
    import pandas as pd

    if not isinstance(versions, Mapping) or not versions:
        raise TypeError("versions must be a non-empty dict: version name -> list of checks.")
    table: dict[str, dict[str, str]] = {}
    for version, results in versions.items():
        if isinstance(results, PropertyCheck) or not isinstance(results, Sequence):
            raise TypeError(f"{version!r}: give a list of PropertyCheck results.")
        column: dict[str, str] = {}
        for result in results:
            if not isinstance(result, PropertyCheck):
                raise TypeError(f"{version!r}: {result!r} is not a PropertyCheck.")
            if result.property not in MLOPS_PROPERTIES:
                raise ValueError(f"{version!r}: unknown property {result.property!r}.")
            if result.property in column:
                raise ValueError(f"{version!r} checks {result.property!r} twice.")
            column[result.property] = "\u2714 pass" if result.passed else "\u2718 fail"
        passed = sum(cell.endswith("pass") for cell in column.values())
        column["passed"] = f"{passed} of {len(column)}"
        table[version] = column
    frame = pd.DataFrame(table, index=[*MLOPS_PROPERTIES, "passed"]).fillna("")
    frame.index.name = "property"
    return frame
