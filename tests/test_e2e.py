"""The student's journey, end to end in a real browser: `make lab`, JupyterLab, notebooks, MLflow.

nbval proves that every cell runs in a kernel; it cannot see what a student sees. This test
starts what `make lab` starts (``python -m utils lab --no-browser``, in a fresh state folder and
with ``MLFLOW_TRACKING_URI`` unset), reads the addresses it wrote to ``lab.json``, and drives
headless Chromium through JupyterLab and the MLflow UI (``tests/e2e/journey.mjs``, with
playwright-core from ``slides/node_modules``). In the browser it:

* opens each notebook of :data:`NOTEBOOKS`, runs it with Run > Run All Cells, and waits until
  its kernel is idle; every cell must have run with no error, every widget must be a visible
  control (not the text fallback a front end without the widget manager shows), and every
  figure must be an image;
* opens the MLflow UI, finds each run of :data:`RUNS` through the experiment list and reads its
  metrics from the page (they must be the values the server stored), then opens the run links
  the notebooks printed;
* never resolves a host name other than 127.0.0.1 (the course is offline).

Then it presses Ctrl-C (SIGINT) and checks that JupyterLab, the kernels, the tracking server
and the browser are all gone. Screenshots of every step, the browser's report and the timings
are in ``_build/e2e/`` (gitignored), to look at when something fails.

Without node, npm (the first time, for ``npm ci``) or Chromium the test is skipped with a message
saying what to install; when the environment variable ``CI`` is set it fails instead.
``MLOPS_E2E_UPDATE_DOCS=1`` also writes the README's two screenshots to ``docs/screenshots/``,
and (only then, as it takes minutes) runs notebooks 05, 06 and 08 on a fresh state with nbclient
and does their guided MLflow UI tasks in the browser (compare the sweep's runs, a logged model
and its signature, the registered model, a version and its lineage, the champion of notebook
08), keeping a picture of each in ``docs/screenshots/`` (:data:`GUIDED_SHOTS`).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from conftest import require_tool
from utils import lab, processes, tracking
from utils.paths import repo_root

ROOT = repo_root()
SLIDES = ROOT / "slides"
JOURNEY_SCRIPT = ROOT / "tests" / "e2e" / "journey.mjs"
SCREENSHOTS = ROOT / "_build" / "e2e"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"

# The notebooks the journey runs, in order, as a student would (all in notebooks/: the second
# and later ones are opened from JupyterLab's file browser). At least one must log to MLflow.
NOTEBOOKS = ["notebooks/00_start_here.ipynb", "notebooks/05_experiment_tracking.ipynb"]


@dataclass(frozen=True)
class Run:
    """An MLflow run a notebook of :data:`NOTEBOOKS` creates, to be found in the MLflow UI."""

    experiment: str
    name: str
    metrics: tuple[str, ...]


RUNS = [Run("05-experiment-tracking", "best-config", ("accuracy", "roc_auc"))]

# Text a notebook's widgets must show after Run All: proof that the kernel and the widgets in
# the browser talk to each other (notebook 00 moves its slider from code, and its label follows).
WIDGET_TEXT = {"notebooks/00_start_here.ipynb": "7 weeks of data = 49 days"}

# Time limits, generous for a slow, loaded machine: every wait is on a condition, so a fast
# machine never waits for them.
LAB_START_TIMEOUT = 360.0  # lab.json written: tracking server and JupyterLab both answer
TIMEOUTS_MS = {"step": 120_000, "kernel": 300_000, "run": 900_000}
JOURNEY_TIMEOUT = 2400.0  # the whole browser part
STOP_TIMEOUT = 120.0  # Ctrl-C until `make lab` has stopped everything

STDERR_MIME = "application/vnd.jupyter.stderr"


# --------------------------------------------------------------------------- requirements


def _load_build_module() -> Any:
    spec = importlib.util.spec_from_file_location("slides_build_for_e2e", SLIDES / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _npm_lock() -> Any:
    """One ``npm ci`` at a time in slides/ (tests run in parallel; npm ci replaces the folder)."""
    import fcntl  # POSIX only; the course runs on Linux and macOS (Windows through WSL)

    key = hashlib.sha256(str(SLIDES).encode()).hexdigest()[:12]
    with open(Path(tempfile.gettempdir()) / f"mlops-course-npm-{key}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _browser_tools() -> tuple[str, str]:
    """Return (node, chromium), installing playwright-core if needed; skip or fail if missing."""
    build = _load_build_module()
    node = shutil.which("node")
    require_tool(
        node is not None,
        "node not found: the browser test needs Node.js 18+ (apt-get install nodejs npm).",
    )
    chromium = build.find_chromium()
    require_tool(
        chromium is not None,
        "Chromium not found: the browser test needs it (apt-get "
        "install chromium, or set CHROMIUM to a Chromium or Chrome executable).",
    )
    with _npm_lock():
        try:
            build.ensure_node_modules()
        except build.BuildError as error:
            require_tool(False, f"playwright-core is not installed in slides/node_modules: {error}")
    assert node is not None and chromium is not None
    return node, chromium


# --------------------------------------------------------------------------- what to expect


def _is_figure_call(node: ast.stmt) -> bool:
    """True for a statement ``figures.<name>(...)``: a course figure shown as the cell's value."""
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and isinstance(node.value.func.value, ast.Name)
        and node.value.func.value.id == "figures"
    )


def expected_figures(source: str) -> int:
    """How many images a code cell shows at least: each ``plt.show()``, and a course figure
    (``figures.<name>(...)``) as the cell's last statement."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return 0
    shown = source.count("plt.show()")
    if body and _is_figure_call(body[-1]):
        shown += 1
    return shown


def expected_widgets(source: str) -> int:
    """How many widget outputs a code cell shows at least (0 or 1): it builds ipywidgets and
    displays them, with ``display(...)``, ``interact`` or as its last expression."""
    if "widgets." not in source:
        return 0
    if "display(" in source or "interact" in source:
        return 1
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return 0
    last = body[-1] if body else None
    return int(
        isinstance(last, ast.Expr) and "widgets." in (ast.get_source_segment(source, last) or "")
    )


# The text JupyterLab shows for a widget when no widget manager renders it, e.g.
# "VBox(children=(IntSlider(value=7, ...), Label(value='...')))", and the widget manager's
# own messages when a widget cannot be drawn.
_WIDGET_FALLBACK = re.compile(
    r"^\s*[A-Z]\w*\((?:children|value|description|layout|options|min|max|style|max_value)=",
)
_WIDGET_BROKEN = ("Error displaying widget", "Loading widget...")
# The last line of a traceback: "ValueError: ...", "KeyboardInterrupt", "mod.CustomError: ...".
_EXCEPTION_LINE = re.compile(
    r"^(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Interrupt|Exit)\b"
)


def is_error_output(text: str) -> bool:
    """True when stderr text is an exception (a traceback), False for a warning or a log line.

    JupyterLab renders both with the MIME type ``application/vnd.jupyter.stderr``; a traceback
    has "Traceback (most recent call last)" or ends with the exception's line (a SyntaxError
    has only that line), a warning ends with the source line that warned.
    """
    if "Traceback (most recent call last)" in text:
        return True
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and _EXCEPTION_LINE.match(lines[-1].strip()) is not None


# nbformat is imported where it is used: every xdist worker of `make check` collects this file,
# and importing nbformat takes over a second of CPU (its JSON schema validator compiles a grammar).
def _code_cells(path: str) -> list[str]:
    import nbformat

    nb = nbformat.read(ROOT / path, as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


# --------------------------------------------------------------------------- the journey


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _describe(procs: list[psutil.Process]) -> list[str]:
    out = []
    for proc in procs:
        try:
            out.append(f"{proc.pid} {' '.join(proc.cmdline())[:160]}")
        except psutil.Error:
            out.append(f"{proc.pid} (gone)")
    return out


def _checkpoints() -> set[Path]:
    """The checkpoint folders and files next to the journey's notebooks."""
    found: set[Path] = set()
    for folder in {(ROOT / path).parent / ".ipynb_checkpoints" for path in NOTEBOOKS}:
        if folder.is_dir():
            found |= {folder, *folder.iterdir()}
    return found


def _remove_new_checkpoints(before: set[Path]) -> None:
    """Remove the checkpoints JupyterLab made when the journey opened the notebooks (it makes
    one on opening a notebook that has none); a student's own checkpoints stay."""
    for path in sorted(_checkpoints() - before, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()


def _user_settings(folder: Path) -> None:
    """A fresh JupyterLab user with autosave off: running the notebooks must not write them."""
    plugin = folder / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(json.dumps({"autosave": False}))


def _lab_env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MLFLOW_TRACKING_URI", "MLOPS_COURSE_SERVER_URI", "JUPYTER_TOKEN")
    }
    env["MLOPS_COURSE_STATE"] = str(tmp / "state")
    # A free port for the tracking server, so that a test that starts another course server at
    # the same moment cannot take the same default port between check and bind.
    env["MLOPS_COURSE_PORT"] = str(processes.free_port())
    env["JUPYTERLAB_SETTINGS_DIR"] = str(tmp / "jupyter" / "settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp / "jupyter" / "workspaces")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp / "jupyter" / "runtime")
    _user_settings(tmp / "jupyter" / "settings")
    return env


def _wait_for_lab_file(state: Path, proc: subprocess.Popen[str], log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + LAB_START_TIMEOUT
    while time.monotonic() < deadline:
        info = lab.read_lab_file(state)
        if info:
            return info
        if proc.poll() is not None:
            raise AssertionError(f"`python -m utils lab` exited early:\n{log.read_text()[-3000:]}")
        time.sleep(0.25)
    raise AssertionError(
        f"`python -m utils lab` wrote no lab.json within {LAB_START_TIMEOUT:.0f} s:\n"
        f"{log.read_text()[-3000:]}"
    )


def _stop_lab(proc: subprocess.Popen[str], tree: list[psutil.Process]) -> dict[str, Any]:
    """Ctrl-C (SIGINT) to `make lab`; then force-stop whatever is still alive, and say what was."""
    started = time.monotonic()
    result: dict[str, Any] = {"returncode": None, "seconds": None, "left": []}
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            result["left"].append(f"{proc.pid} python -m utils lab (did not exit on Ctrl-C)")
            proc.kill()
            proc.wait(timeout=30)
    result["returncode"] = proc.returncode
    result["seconds"] = round(time.monotonic() - started, 1)
    # Give the process tree a moment to finish exiting, then record and remove what is left.
    _, alive = psutil.wait_procs([p for p in tree if _alive(p)], timeout=15)
    alive = [p for p in alive if _alive(p)]
    result["left"] += _describe(alive)
    for leftover in alive:
        with contextlib.suppress(psutil.Error):
            leftover.kill()
    return result


def _browser_processes(profile: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(str(profile) in part for part in proc.info["cmdline"] or []):
                found.append(proc)
    return found


def _run_journey_script(command: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run the node script; return its exit code, the processes it started and any left over.

    The script's process tree (node, Chromium and its helpers) is sampled every second while it
    runs, so that a browser process that outlives the script is found and stopped.
    """
    seen: dict[int, psutil.Process] = {}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    deadline = time.monotonic() + JOURNEY_TIMEOUT
    timed_out = False
    try:
        while proc.poll() is None:
            if time.monotonic() > deadline:
                timed_out = True
                break
            with contextlib.suppress(psutil.Error):
                for child in psutil.Process(proc.pid).children(recursive=True):
                    seen.setdefault(child.pid, child)
            time.sleep(1.0)
    finally:
        if proc.poll() is None:
            for leftover in [*seen.values(), psutil.Process(proc.pid)]:
                with contextlib.suppress(psutil.Error):
                    leftover.kill()
            proc.wait(timeout=30)
    if timed_out:
        raise AssertionError(
            f"the browser journey took more than {JOURNEY_TIMEOUT:.0f} s and was stopped; "
            f"see {SCREENSHOTS} and {log}"
        )
    # The browser closes before node exits; give its helpers a moment to exit too.
    _, alive = psutil.wait_procs([p for p in seen.values() if _alive(p)], timeout=15)
    alive = [p for p in alive if _alive(p)]
    left = _describe(alive)
    for leftover in alive:
        with contextlib.suppress(psutil.Error):
            leftover.kill()
    return {"returncode": proc.returncode, "processes": len(seen), "left": left}


def _stored_runs(tracking_uri: str) -> dict[str, list[dict[str, Any]]]:
    """What the server stored for each run of RUNS, to compare with what the UI shows."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    stored = {}
    for run in RUNS:
        experiment = client.get_experiment_by_name(tracking.experiment_name(run.experiment))
        found = []
        if experiment is not None:
            found = client.search_runs(
                [experiment.experiment_id], filter_string=f"attributes.run_name = '{run.name}'"
            )
        stored[run.name] = [
            {"run_id": r.info.run_id, "metrics": r.data.metrics, "status": r.info.status}
            for r in found
        ]
    return stored


def _optimised_png(source: Path, target: Path) -> None:
    """Save a UI screenshot with a 256-colour palette (a few tens of KB instead of hundreds)."""
    from PIL import Image

    with Image.open(source) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        target.parent.mkdir(parents=True, exist_ok=True)
        small.save(target, optimize=True)


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Walk the whole journey once; return what happened, for the tests below to judge."""
    node, chromium = _browser_tools()
    tmp = tmp_path_factory.mktemp("e2e")
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    notebooks_before = {path: _sha256(ROOT / path) for path in NOTEBOOKS}
    checkpoints_before = _checkpoints()
    env = _lab_env(tmp)
    log = tmp / "lab.out"
    result: dict[str, Any] = {"tmp": tmp}

    t0 = time.time()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            # --port: a free port rather than 8888, which a student's own `make lab` or another
            # test may hold; everything else is exactly what `make lab` runs.
            [
                sys.executable,
                "-m",
                "utils",
                "lab",
                "--no-browser",
                "--port",
                str(processes.free_port()),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    tree: list[psutil.Process] = []
    try:
        info = _wait_for_lab_file(tmp / "state", proc, log)
        result["lab"] = info
        result["lab_json_seconds"] = round(time.time() - t0, 1)

        config = {
            **info,
            "notebooks": NOTEBOOKS,
            "runs": [
                {"experiment": r.experiment, "run": r.name, "metrics": list(r.metrics)}
                for r in RUNS
            ],
            "screenshots": str(SCREENSHOTS),
            "profile": str(tmp / "browser-profile"),
            "timeouts": TIMEOUTS_MS,
        }
        (tmp / "config.json").write_text(json.dumps(config))
        report_file = tmp / "report.json"
        started = time.monotonic()
        browser = _run_journey_script(
            [node, str(JOURNEY_SCRIPT), str(tmp / "config.json"), str(report_file)],
            {**env, "CHROMIUM": chromium},
            tmp / "browser.log",
        )
        result["browser_seconds"] = round(time.monotonic() - started, 1)
        assert report_file.exists(), (
            f"the browser journey wrote no report (exit code {browser['returncode']}):\n"
            f"{(tmp / 'browser.log').read_text()[-3000:]}"
        )
        report = json.loads(report_file.read_text())
        result["report"] = report
        result["browser_processes"] = browser["processes"]
        result["browser_left"] = browser["left"] + _describe(
            [p for p in _browser_processes(tmp / "browser-profile") if _alive(p)]
        )

        result["stored"] = _stored_runs(info["mlflow_ui"])

        # Everything `make lab` started, just before Ctrl-C: JupyterLab, kernels, the server.
        tree = psutil.Process(proc.pid).children(recursive=True)
        result["kernels"] = [p.pid for p in tree if "ipykernel" in " ".join(p.cmdline())]
        result["tree"] = [p.pid for p in tree]
    finally:
        with contextlib.suppress(psutil.Error):
            tree = tree or psutil.Process(proc.pid).children(recursive=True)
        result["stop"] = _stop_lab(proc, tree)
        result["lab_output"] = log.read_text()
        result["notebooks_changed"] = [
            path for path, digest in notebooks_before.items() if _sha256(ROOT / path) != digest
        ]
        _remove_new_checkpoints(checkpoints_before)
        result["checkpoints_left"] = sorted(str(p) for p in _checkpoints() - checkpoints_before)
        summary = {k: v for k, v in result.items() if k not in ("tmp", "report", "lab_output")}
        summary["wall_seconds"] = round(time.time() - t0, 1)
        report = result.get("report") or {}
        if report.get("notebooks") and report["notebooks"][0].get("usableAt"):
            summary["lab_to_usable_notebook_seconds"] = round(
                report["notebooks"][0]["usableAt"] / 1000 - t0, 1
            )
        result["summary"] = summary
        (SCREENSHOTS / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        if report:
            (SCREENSHOTS / "report.json").write_text(json.dumps(report, indent=1))

    if os.environ.get("MLOPS_E2E_UPDATE_DOCS") == "1":
        shots = result["report"]["readme"]
        assert "jupyterlab" in shots and "mlflow_run" in shots, shots
        _optimised_png(Path(shots["jupyterlab"]), DOCS_SCREENSHOTS / "jupyterlab.png")
        _optimised_png(Path(shots["mlflow_run"]), DOCS_SCREENSHOTS / "mlflow.png")
    return result


def _report(journey: dict[str, Any]) -> dict[str, Any]:
    report = journey["report"]
    assert report["error"] is None, f"the browser journey failed: {report['error']}"
    return report


def _notebook(journey: dict[str, Any], path: str) -> dict[str, Any]:
    for entry in _report(journey)["notebooks"]:
        if entry["path"] == path:
            assert entry["error"] is None, f"{path}: {entry['error']}\nScreenshots: {SCREENSHOTS}"
            return entry
    raise AssertionError(f"{path} was not reached (an earlier notebook failed); see {SCREENSHOTS}")


def _outputs(entry: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [(cell["index"], out) for cell in entry["cells"] for out in cell["outputs"]]


# --------------------------------------------------------------------------- the checks


@pytest.mark.kernel
@pytest.mark.browser
def test_make_lab_opens_the_first_notebook_with_a_running_kernel(journey):
    report = _report(journey)
    assert journey["lab"]["mlflow_started_by_lab"] is True  # a fresh machine: nothing was running
    first = _notebook(journey, NOTEBOOKS[0])
    assert first["dialogs"] == [], f"a dialog stood in the student's way: {first['dialogs']}"
    assert first["kernel"]["name"] == "python3"
    assert report["browserVersion"]
    # The address `make lab` printed is the address the browser opened.
    assert journey["lab"]["jupyterlab"].endswith(
        f"/lab/tree/{NOTEBOOKS[0]}?token={journey['lab']['token']}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS)
@pytest.mark.kernel
@pytest.mark.browser
def test_every_cell_runs_without_an_error(journey, path):
    entry = _notebook(journey, path)
    assert entry["dialogs"] == [], (
        f"{path}: a dialog stood in the student's way: {entry['dialogs']}"
    )
    code = [c for c in entry["cells"] if c["type"] == "code"]
    assert len(code) == len(_code_cells(path)), "the browser shows another number of code cells"
    errors = [
        f"cell {i}: {out['text'][-1500:]}"
        for i, out in _outputs(entry)
        if out["mime"] == STDERR_MIME and is_error_output(out["text"])
    ]
    assert errors == [], f"{path} shows an error:\n" + "\n".join(errors)
    # Every cell ran, once, in order (a failing cell would have stopped the ones after it).
    shown = [c for c in code if not c["inputHidden"]]
    not_run = [c["index"] for c in shown if not re.fullmatch(r"\[\d+\]:", c["prompt"])]
    assert not_run == [], f"{path}: cells {not_run} did not run"
    numbers = [int(c["prompt"][1:-2]) for c in shown]
    assert numbers == sorted(set(numbers)), f"{path}: cells ran out of order: {numbers}"
    # Warnings are not errors; a student sees them, so say so in the test summary.
    for i, out in _outputs(entry):
        if out["mime"] == STDERR_MIME and not is_error_output(out["text"]):
            warnings.warn(f"{path}, cell {i} shows on stderr: {out['text'][:300]}", stacklevel=1)


@pytest.mark.parametrize("path", NOTEBOOKS)
@pytest.mark.kernel
@pytest.mark.browser
def test_every_widget_is_a_visible_control(journey, path):
    entry = _notebook(journey, path)
    expected = sum(expected_widgets(source) for source in _code_cells(path))
    widgets = [(i, out) for i, out in _outputs(entry) if out["kind"] == "widget"]
    assert len(widgets) >= expected, f"{path}: {len(widgets)} widget outputs, expected {expected}"
    for i, out in widgets:
        assert out["controls"], f"{path} cell {i}: a widget output with no control in it"
        hidden = [c for c in out["controls"] if not c["visible"]]
        assert hidden == [], f"{path} cell {i}: controls with no size on screen: {hidden}"
        for broken in _WIDGET_BROKEN:
            assert broken not in out["text"], f"{path} cell {i}: {out['text'][:300]}"
    fallbacks = [
        f"cell {i}: {out['text'][:200]}"
        for i, out in _outputs(entry)
        if out["kind"] in ("text", "html", "other") and _WIDGET_FALLBACK.match(out["text"])
    ]
    assert fallbacks == [], f"{path}: widgets shown as text, not as controls:\n" + "\n".join(
        fallbacks
    )
    if path in WIDGET_TEXT:
        texts = " ".join(c["text"] for _, out in widgets for c in out["controls"])
        assert WIDGET_TEXT[path] in texts, f"{path}: the widgets show {texts!r}"


@pytest.mark.parametrize("path", NOTEBOOKS)
@pytest.mark.kernel
@pytest.mark.browser
def test_every_figure_is_an_image(journey, path):
    entry = _notebook(journey, path)
    expected = sum(expected_figures(source) for source in _code_cells(path))
    images = [img for _, out in _outputs(entry) for img in out["images"]]
    pngs = [img for img in images if img["png"] and img["loaded"] and img["width"] > 50]
    assert len(pngs) >= expected, (
        f"{path}: {len(pngs)} PNG images drawn on screen, expected at least {expected}: {images}"
    )


@pytest.mark.kernel
@pytest.mark.browser
def test_mlflow_ui_shows_each_run_with_its_metrics(journey):
    report = _report(journey)
    assert len(report["runs"]) == len(RUNS)
    for wanted, seen in zip(RUNS, report["runs"], strict=True):
        assert seen["error"] is None, f"MLflow UI, run {wanted.name}: {seen['error']}"
        stored = journey["stored"][wanted.name]
        assert len(stored) == 1, f"{len(stored)} runs named {wanted.name} on the server"
        assert stored[0]["status"] == "FINISHED"
        assert seen["runId"] == stored[0]["run_id"], "the UI opened another run"
        assert wanted.name in seen["headings"], seen["headings"]
        for metric in wanted.metrics:
            row = seen["metrics"][metric]
            assert row[0] == metric, row
            assert math.isclose(float(row[1]), stored[0]["metrics"][metric], rel_tol=1e-9), row


@pytest.mark.kernel
@pytest.mark.browser
def test_run_links_printed_by_the_notebooks_open_their_runs(journey):
    report = _report(journey)
    names = {run.name for run in RUNS}
    assert report["links"], "no notebook printed a link to a run in the MLflow UI"
    for link in report["links"]:
        assert link["error"] is None, f"{link['url']}: {link['error']}"
        assert link["headings"], link
    opened = {h for link in report["links"] for h in link["headings"]}
    assert names <= opened, f"no printed link opened {names - opened}"


@pytest.mark.kernel
@pytest.mark.browser
def test_nothing_is_fetched_from_outside_the_machine(journey):
    assert _report(journey)["outsideRequests"] == []


@pytest.mark.kernel
@pytest.mark.browser
def test_no_page_has_an_uncaught_script_error(journey):
    report = _report(journey)
    assert report["pageErrors"] == [], report["pageErrors"]


@pytest.mark.kernel
@pytest.mark.browser
def test_running_the_notebooks_in_the_browser_does_not_change_them_on_disk(journey):
    assert journey["notebooks_changed"] == []
    assert journey["checkpoints_left"] == []  # the checkpoints JupyterLab made are removed


@pytest.mark.kernel
@pytest.mark.browser
def test_ctrl_c_stops_jupyterlab_the_kernels_the_server_and_nothing_is_left(journey):
    stop, info = journey["stop"], journey["lab"]
    assert stop["returncode"] == 0, journey["lab_output"][-3000:]
    assert stop["left"] == [], f"still running after Ctrl-C: {stop['left']}"
    # They were really there to stop: JupyterLab, one kernel per notebook and the server.
    assert info["jupyter_pid"] in journey["tree"] and info["mlflow_pid"] in journey["tree"]
    assert len(journey["kernels"]) >= len(NOTEBOOKS), journey["kernels"]
    for pid in [info["jupyter_pid"], info["mlflow_pid"], *journey["kernels"]]:
        assert not processes.process_alive(pid), f"process {pid} survived Ctrl-C"
    assert journey["browser_processes"] > 0  # the sampling saw the browser
    assert journey["browser_left"] == [], f"browser processes left: {journey['browser_left']}"
    assert not (journey["tmp"] / "state" / lab.LAB_FILE).exists()


def test_readme_screenshots_are_small_pngs():
    shots = sorted(DOCS_SCREENSHOTS.iterdir())
    expected = {"jupyterlab.png", "mlflow.png", "class-progress.png", *GUIDED_SHOTS.values()}
    assert {p.name for p in shots} == expected
    for shot in shots:
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), shot.name
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        if shot.name == "class-progress.png":  # the page's content, not the whole window
            assert 200 <= width <= 1280 and 100 <= height <= 800, (shot.name, width, height)
        else:
            assert (width, height) == (1280, 800), shot.name
        assert len(data) < 200_000, f"{shot.name}: {len(data)} bytes; keep README images small"


# --------------------------------------------------------------------------- guided UI tasks

# The notebooks whose guided MLflow UI tasks have pictures, run in this order on one state.
GUIDED_NOTEBOOKS = [
    "notebooks/05_experiment_tracking.ipynb",
    "notebooks/06_model_registry.ipynb",
    "notebooks/08_continuous_delivery.ipynb",
]
# The picture of each task (tests/e2e/journey.mjs, guidedTasks) in docs/screenshots/.
GUIDED_SHOTS = {
    "compare": "mlflow-05-compare.png",
    "logged-model": "mlflow-05-logged-model.png",
    "registered-model": "mlflow-06-model.png",
    "version": "mlflow-06-version.png",
    "champion": "mlflow-08-champion.png",
}
GUIDED_CELL_TIMEOUT = 600  # seconds per notebook cell


def _execute_notebooks(paths: list[str], state: Path) -> None:
    """Run the notebooks as Run All does (nbclient), on the state folder ``state``, with no
    ``MLFLOW_TRACKING_URI``: the first one starts the course server there, the next reuse it."""
    import nbformat
    from nbclient import NotebookClient

    cleared = ("MLFLOW_TRACKING_URI", "MLOPS_COURSE_SERVER_URI", "MLOPS_COURSE_STATE")
    saved = {name: os.environ.get(name) for name in (*cleared, "MLOPS_COURSE_PORT")}
    for name in cleared:
        os.environ.pop(name, None)
    os.environ["MLOPS_COURSE_STATE"] = str(state)
    os.environ["MLOPS_COURSE_PORT"] = str(processes.free_port())
    try:
        for path in paths:
            nb = nbformat.read(ROOT / path, as_version=4)
            NotebookClient(
                nb,
                timeout=GUIDED_CELL_TIMEOUT,
                kernel_name="python3",
                resources={"metadata": {"path": str((ROOT / path).parent)}},
            ).execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def guided_config(url: str) -> dict[str, Any]:
    """What the guided tasks look for, read from the server the notebooks left (no run IDs)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    experiment = client.get_experiment_by_name(tracking.experiment_name("05-experiment-tracking"))
    assert experiment is not None, "notebook 05 left no experiment"
    (sweep,) = client.search_runs(
        [experiment.experiment_id], filter_string="attributes.run_name = 'sweep'"
    )
    children = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{sweep.info.run_id}'",
    )
    config: dict[str, Any] = {
        "experiment": experiment.name,
        "sweepRun": "sweep",
        "sweepChildren": sorted(r.info.run_name for r in children),
        # The compare page's parallel coordinates: the model family, one parameter of each
        # family the sweep varies, and the metric the notebook ranks by.
        "compareParams": ["model", "param.C", "param.max_depth", "param.max_iter"],
        "metric": "roc_auc",
        "modelRun": "best-config",
    }
    for key, topic in (("06", "06-churn-classifier"), ("08", "08-churn-classifier")):
        name = tracking.model_name(topic)
        champion = client.get_model_version_by_alias(name, "champion")
        config[f"model{key}"] = name
        config[f"version{key}"] = champion.version
        config[f"version{key}Run"] = client.get_run(champion.run_id).info.run_name
    return config


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.skipif(
    os.environ.get("MLOPS_E2E_UPDATE_DOCS") != "1",
    reason="takes the guided tasks' pictures only with MLOPS_E2E_UPDATE_DOCS=1 (make screenshots)",
)
def test_guided_mlflow_ui_tasks_on_the_state_the_notebooks_leave(tmp_path):
    """Run notebooks 05, 06 and 08 on a fresh state, then do their guided MLflow UI tasks in
    the browser and keep a picture of each in docs/screenshots/."""
    node, chromium = _browser_tools()
    state = tmp_path / "state"
    started = time.monotonic()
    try:
        _execute_notebooks(GUIDED_NOTEBOOKS, state)
        executed = time.monotonic() - started
        server = tracking.status(state)
        assert server.running and server.url, "the notebooks started no course server"
        guided = guided_config(server.url)
        assert len(guided["sweepChildren"]) >= 2, guided
        config = {
            "mode": "guided",
            "mlflow_ui": server.url.rstrip("/"),
            "guided": guided,
            "screenshots": str(SCREENSHOTS / "guided"),
            "profile": str(tmp_path / "browser-profile"),
            "timeouts": TIMEOUTS_MS,
        }
        (tmp_path / "config.json").write_text(json.dumps(config))
        report_file = tmp_path / "report.json"
        _run_journey_script(
            [node, str(JOURNEY_SCRIPT), str(tmp_path / "config.json"), str(report_file)],
            {**os.environ, "CHROMIUM": chromium},
            tmp_path / "browser.log",
        )
    finally:
        tracking.stop(state_dir=state)
    report = json.loads(report_file.read_text())
    print(f"notebooks {executed:.0f} s, browser {time.monotonic() - started - executed:.0f} s")
    assert report["error"] is None, report["error"]
    assert report["outsideRequests"] == []
    tasks = report["guided"]
    assert set(tasks) == set(GUIDED_SHOTS), tasks.keys()
    for name, task in tasks.items():
        assert task["error"] is None, f"guided task {name}: {task['error']}"
    n = len(guided["sweepChildren"])
    assert f"Comparing {n} Runs" in tasks["compare"]["text"]
    assert "roc_auc" in tasks["compare"]["text"]
    assert "signature:" in tasks["logged-model"]["text"]
    assert guided["model06"] in tasks["registered-model"]["text"]
    assert "champion" in tasks["registered-model"]["text"]
    for task, key in (("version", "06"), ("champion", "08")):
        text = tasks[task]["text"]
        assert f"Version {guided['version' + key]}" in text
        assert guided[f"version{key}Run"] in text and "champion" in text
    for name, target in GUIDED_SHOTS.items():
        _optimised_png(Path(tasks[name]["shot"]), DOCS_SCREENSHOTS / target)


# --------------------------------------------------------------------------- the helpers


def test_expected_figures_counts_shows_and_course_figures():
    assert expected_figures("fig, ax = plt.subplots()\nax.plot([1])\nplt.show()") == 1
    assert expected_figures("from utils import figures\n\nfigures.lifecycle_diagram()") == 1
    assert expected_figures("fig = figures.lifecycle_diagram()\nprint('no figure shown')") == 0
    assert expected_figures("x = (") == 0


def test_expected_widgets_counts_cells_that_display_widgets():
    assert expected_widgets("s = widgets.IntSlider()\ndisplay(s)") == 1
    assert expected_widgets("widgets.IntSlider(value=3)") == 1
    assert expected_widgets("s = widgets.IntSlider()\nprint(s.value)") == 0
    assert expected_widgets("slider.value = 7") == 0


def test_error_outputs_are_told_apart_from_warnings():
    traceback = (
        "-----\nValueError                 Traceback (most recent call last)\n"
        "Cell In[3], line 1\n----> 1 raise ValueError('bad')\n\nValueError: bad"
    )
    assert is_error_output(traceback)
    assert is_error_output(
        "  Cell In[1], line 1\n    x = (\n        ^\nSyntaxError: incomplete input"
    )
    assert is_error_output("KeyboardInterrupt")
    warning = "/tmp/ipykernel_1/1.py:2: UserWarning: careful\n  warnings.warn('careful')\n"
    assert not is_error_output(warning)
    assert not is_error_output("2026/11/27 01:00:00 WARNING mlflow: a log line\n")
    assert _WIDGET_FALLBACK.match("VBox(children=(IntSlider(value=7, description='weeks'),))")
    assert not _WIDGET_FALLBACK.match("Test accuracy 98.6%, ROC AUC 0.998.")
