"""Classroom mode on the real thing: PostgreSQL, MLflow's authentication app, two students.

The module fixture runs the instructor guide (``docs/classroom.md``): every ``bash`` block, in
order, in a throwaway class folder (its own PostgreSQL cluster in a temporary folder, run as the
``postgres`` user when we are root, a free port on 127.0.0.1). The tests then run the course's
logging notebooks as two students at once (alice all of them, in two kernels at a time; bob
the first that registers models, at the same time), try to cross the students' permissions, use a
wrong password, kill the server while students log, and finally run the guide's ``stop`` step.

Without PostgreSQL these tests are skipped with the reason; with ``CI`` set they fail instead.
``MLOPS_CLASSROOM_NOTEBOOKS`` picks the notebooks the students run: ``all``, or a glob such as
``05_*``; by default those from 05 on (the tracking notebooks) less any whose own MLflow calls
the others all make too (:func:`without_repeats`).
"""

from __future__ import annotations

import ast
import csv
import fnmatch
import getpass
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from conftest import require_tool
from utils import classroom, processes, tracking
from utils.paths import repo_root

if TYPE_CHECKING:
    import nbformat

ROOT = repo_root()
GUIDE = ROOT / "docs" / "classroom.md"
STUDENTS = ("alice", "bob")
MISSING = classroom.postgres_missing_reason()


def guide_blocks() -> list[str]:
    """The guide's ``bash`` blocks: the steps the tests run, in order."""
    return re.findall(r"^```bash\n(.*?)^```", GUIDE.read_text(), re.MULTILINE | re.DOTALL)


def mlflow_calls(notebook: Path) -> set[str]:
    """What a notebook's code asks MLflow directly: ``mlflow.x.y`` calls and the methods it
    calls on an ``MlflowClient`` (``client = mlflow.MlflowClient()``, then ``client.get_run``)."""
    # The notebook's JSON, without nbformat: every xdist worker of `make check` collects this
    # file, and importing nbformat takes over a second of CPU (its JSON schema validator
    # compiles a grammar). The tests that run notebooks import it where they use it.
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = "\n".join(
        line
        for cell in cells
        if cell["cell_type"] == "code"
        for line in "".join(cell["source"]).splitlines()
        if not line.lstrip().startswith(("%", "!"))
    )
    tree = ast.parse(code)

    def dotted(node: ast.expr) -> list[str] | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None

    def is_client(node: ast.expr) -> bool:
        name = dotted(node.func) if isinstance(node, ast.Call) else None
        return bool(name) and name[-1] == "MlflowClient"

    clients = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and is_client(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    calls = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if is_client(node.func.value) or (
            isinstance(node.func.value, ast.Name) and node.func.value.id in clients
        ):
            calls.add(f"MlflowClient.{node.func.attr}")
        elif (name := dotted(node.func)) and name[0] == "mlflow" and name[-1] != "MlflowClient":
            calls.add(".".join(name))
    return calls


def logging_notebooks() -> list[Path]:
    """The notebooks the two students run (see the module docstring)."""
    logging = [
        p
        for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
        if "tracking.connect(" in p.read_text(encoding="utf-8")
    ]
    choice = os.environ.get("MLOPS_CLASSROOM_NOTEBOOKS", "")
    if choice == "all":
        return logging
    if choice:
        return [p for p in logging if fnmatch.fnmatch(p.name, choice)]
    later = [p for p in logging if p.name[:2].isdigit() and int(p.name[:2]) >= 5]
    return without_repeats(later or logging)


def without_repeats(notebooks: list[Path]) -> list[Path]:
    """The notebooks left when each, from the last back, is dropped if the others left ask
    MLflow everything it asks (:func:`mlflow_calls`): the class server sees the same requests
    from fewer notebook runs. Notebook 10, the longest, is the one dropped today: what it asks
    MLflow itself, 05 and 06 ask too, and what ``utils.cycle`` logs for it goes through
    ``utils.registry`` and ``tracking.log_sklearn_model``, which 06 and 05 use.
    ``MLOPS_CLASSROOM_NOTEBOOKS=all`` runs every notebook (the weekly upgrade check does)."""
    kept = list(notebooks)
    calls = {p: mlflow_calls(p) for p in notebooks}
    for notebook in reversed(notebooks):
        others = set().union(*(calls[p] for p in kept if p != notebook))
        if len(kept) > 1 and calls[notebook] <= others:
            kept.remove(notebook)
    return kept


@dataclass
class ClassUnderTest:
    folder: Path
    url: str
    port: int
    env: dict[str, str]
    accounts: dict[str, classroom.StudentAccount]
    step_outputs: list[str]
    secrets_after_step: list[dict]
    blocks: list[str]

    def admin(self) -> tuple[str, str]:
        keys = json.loads((self.folder / classroom.SECRETS_FILE).read_text())
        return classroom.ADMIN_USER, keys["admin_password"]

    def student_env(self, user: str, password: str | None = None) -> dict[str, str]:
        """A student's terminal: the guide's three variables, nothing of the test session."""
        env = {
            k: v
            for k, v in self.env.items()
            if not k.startswith(("MLFLOW_TRACKING_", "MLOPS_CLASS", "MLOPS_COURSE_SERVER"))
        }
        env.update(
            MLFLOW_TRACKING_URI=self.url,
            MLFLOW_TRACKING_USERNAME=user,
            MLFLOW_TRACKING_PASSWORD=password or self.accounts[user].password,
            MLOPS_COURSE_STATE=str(self.folder.parent / f"course-state-{user}"),
        )
        return env

    def passwords(self) -> list[str]:
        keys = json.loads((self.folder / classroom.SECRETS_FILE).read_text())
        found = [keys["db_password"], keys["admin_password"], keys["flask_secret_key"]]
        found += [s["admin_password"] for s in self.secrets_after_step if "admin_password" in s]
        return found + [a.password for a in self.accounts.values()]


def _run_block(block: str, env: dict[str, str], timeout: float = 600) -> str:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"guide step failed ({result.returncode}):\n{block}\n{output}"
    return output


@pytest.fixture(scope="module")
def klass() -> ClassUnderTest:
    """A class server set up by running the guide's steps, stopped at the end."""
    require_tool(MISSING is None, f"classroom mode needs PostgreSQL: {MISSING}")
    blocks = guide_blocks()
    assert "classroom stop" in blocks[-1], "the guide's last step should stop the server"
    base = Path(tempfile.mkdtemp(prefix="mlops-class-test-"))
    base.chmod(0o711)  # the postgres user must reach the cluster below it
    folder = base / "class"
    port = processes.free_port()
    env = dict(os.environ)
    env.update(
        MLOPS_CLASS_DIR=str(folder),
        MLOPS_CLASS_PORT=str(port),
        MLOPS_CLASS_WORKERS="2",
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    outputs, snapshots = [], []
    try:
        for block in blocks[:-1]:
            outputs.append(_run_block(block, env))
            snapshots.append(json.loads((folder / classroom.SECRETS_FILE).read_text()))
        url = f"http://127.0.0.1:{port}"
        accounts = classroom.read_credentials(folder / "credentials.csv")
        yield ClassUnderTest(folder, url, port, env, accounts, outputs, snapshots, blocks)
    finally:
        classroom.stop(folder)
        shutil.rmtree(base, ignore_errors=True)


def _client(monkeypatch: pytest.MonkeyPatch, url: str, user: str, password: str) -> MlflowClient:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
    for name, value in tracking.CLIENT_RETRY_ENV.items():
        monkeypatch.setenv(name, value)
    return MlflowClient(tracking_uri=url)


def _tree(pid: int) -> list[psutil.Process]:
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def _postmaster(cluster: classroom.PostgresCluster) -> psutil.Process | None:
    """PostgreSQL's main process of ``cluster`` (its PID is the first line of postmaster.pid)."""
    try:
        return psutil.Process(int((cluster.data_dir / "postmaster.pid").read_text().split()[0]))
    except (OSError, ValueError, psutil.NoSuchProcess):
        return None


def _listening(pids: set[int]) -> set[tuple[str, int]]:
    return {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.net_connections(kind="inet")
        if c.pid in pids and c.status == psutil.CONN_LISTEN
    }


# --------------------------------------------------------------------------- the guide's set-up


@pytest.mark.postgres
@pytest.mark.kernel
def test_guide_sets_up_a_server_on_loopback_with_rotated_admin_password(
    klass: ClassUnderTest,
) -> None:
    server = classroom.status(klass.folder)
    assert server.running and server.url == klass.url and server.host == "127.0.0.1"
    assert server.pid is not None
    assert _listening({p.pid for p in _tree(server.pid)}) == {("127.0.0.1", klass.port)}
    cluster = classroom._load_cluster(klass.folder / "postgres")
    assert cluster is not None and cluster.running()
    postmaster = _postmaster(cluster)
    assert postmaster is not None
    assert postmaster.username() == ("postgres" if os.geteuid() == 0 else getpass.getuser())
    assert _listening({postmaster.pid}) == {("127.0.0.1", cluster.port)}
    for secret_file in (klass.folder / classroom.SECRETS_FILE, klass.folder / "credentials.csv"):
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600, secret_file
    # The admin password was replaced twice: at the first start, and by the guide's step 3.
    steps = [b.strip().splitlines()[-1] for b in klass.blocks[:-1]]
    before = klass.secrets_after_step[steps.index("python -m utils.classroom start")]
    after = klass.secrets_after_step[steps.index("python -m utils.classroom admin-password")]
    assert before["admin_password"] != after["admin_password"]
    old_admin = (classroom.ADMIN_USER, before["admin_password"])
    with pytest.raises(classroom.ClassroomError, match="HTTP 401"):
        classroom._api(klass.url, "GET", "2.0/mlflow/users/get", old_admin, {"username": "admin"})
    code, body = classroom._api(
        klass.url, "GET", "2.0/mlflow/users/get", klass.admin(), {"username": "alice"}
    )
    assert code == 200 and body["user"]["username"] == "alice"
    assert set(klass.accounts) == set(STUDENTS)
    assert all(len(a.password) >= classroom.MIN_PASSWORD for a in klass.accounts.values())
    with open(klass.folder / "credentials.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["tracking_uri"] for r in rows} == {klass.url}
    printed = "\n".join(klass.step_outputs)
    assert "Started the class server at" in printed and "Class server running at" in printed
    assert not [p for p in klass.passwords() if p in printed], "a step printed a password"


# --------------------------------------------------------------------------- two students at once

# Prepended to each notebook the students run: record the ID of every run the notebook's
# MLflow client creates on the class server (the real calls go through), so that the test can
# look for each one. Runs a notebook logs to a store of its own (notebook 11 times a local
# SQLite file) are not the server's to keep.
RECORDER = """\
import os as _test_os

from mlflow.tracking.client import MlflowClient as _TestClient

_test_created_runs = []
_test_create_run = _TestClient.create_run
_test_server = _test_os.environ["MLFLOW_TRACKING_URI"].rstrip("/")


def _test_recording_create_run(self, *args, **kwargs):
    run = _test_create_run(self, *args, **kwargs)
    if str(self.tracking_uri).rstrip("/") == _test_server:
        _test_created_runs.append(run.info.run_id)
    return run


_TestClient.create_run = _test_recording_create_run
"""
REPORT = 'import json as _test_json\nprint("CREATED_RUNS=" + _test_json.dumps(_test_created_runs))'

# Executes notebooks one after the other in a kernel of its own (one student's terminal);
# a failing cell stops that notebook, which is then saved with its error for the test to read.
RUNNER = """
import json, sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

for source, target, cwd in json.loads(sys.argv[1]):
    print("BEGIN", time.time(), flush=True)
    for attempt in range(3):
        nb = nbformat.read(source, as_version=4)
        try:
            NotebookClient(
                nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": cwd}}
            ).execute()
        except CellExecutionError:
            pass
        except RuntimeError as err:
            # The kernel died before its first reply, before any cell ran: with several
            # kernels starting at once, a port jupyter_client chose can be taken before the
            # kernel binds it ("Address already in use"). Start it again; nothing ran yet.
            if "Kernel died before replying" in str(err) and attempt < 2:
                print("RETRY kernel start:", err, flush=True)
                continue
            raise
        break
    nbformat.write(nb, target)
    print("END", time.time(), flush=True)
"""


def _start_notebooks(
    paths: list[Path], out_dir: Path, env: dict[str, str], record: bool = True
) -> tuple[subprocess.Popen, list[Path]]:
    import nbformat

    out_dir.mkdir(parents=True, exist_ok=True)
    jobs, targets = [], []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if record:
            nb.cells.insert(0, nbformat.v4.new_code_cell(RECORDER))
            nb.cells.append(nbformat.v4.new_code_cell(REPORT))
        source, target = out_dir / f"in-{path.name}", out_dir / path.name
        nbformat.write(nb, source)
        jobs.append([str(source), str(target), str(path.parent)])
        targets.append(target)
    with open(out_dir / "runner.log", "wb") as log:  # a file: a full pipe would block
        proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER, json.dumps(jobs)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return proc, targets


def _finish(proc: subprocess.Popen, targets: list[Path], timeout: float) -> list[float]:
    """Wait for a runner; return the BEGIN/END times it printed (fails with its log)."""
    proc.wait(timeout=timeout)
    log = (targets[0].parent / "runner.log").read_text(errors="replace")
    assert proc.returncode == 0, log[-3000:]
    return [float(t) for t in re.findall(r"^(?:BEGIN|END) ([0-9.]+)$", log, re.MULTILINE)]


def _outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def _text(out: dict) -> str:
    if out.get("output_type") == "error":
        return f"{out.get('ename')}: {out.get('evalue')}\n" + "\n".join(out.get("traceback", []))
    if out.get("output_type") == "stream":
        return out.get("text", "")
    return json.dumps(out.get("data", {}))


def _errors(nb: nbformat.NotebookNode) -> list[str]:
    return [_text(o)[:2000] for o in _outputs(nb) if o.get("output_type") == "error"]


def _students_notebooks(notebooks: list[Path]) -> dict[str, list[Path]]:
    """alice runs every notebook; bob, at the same time, the first that registers models.

    Registered models are where two students' names would collide if the prefix were lost,
    so both run one such notebook. Every notebook names its models with the same
    ``tracking.model_name``, so bob's runs of the others would repeat that code path at the
    cost of three more notebook runs (``MLOPS_CLASSROOM_BOB=all`` makes bob run every one that
    registers models).
    """
    shared = [p for p in notebooks if "tracking.model_name(" in p.read_text(encoding="utf-8")]
    if os.environ.get("MLOPS_CLASSROOM_BOB") != "all":
        shared = shared[:1]
    return {"alice": notebooks, "bob": shared or notebooks[:1]}


@pytest.fixture(scope="module")
def class_runs(klass: ClassUnderTest) -> dict[str, dict[str, list[str]]]:
    """Run the logging notebooks as alice and bob at the same time; their created run IDs.

    Alice works in two notebooks at once (two kernels, as with two browser tabs), bob in one:
    three kernels log to the server together.
    """
    import nbformat

    notebooks = logging_notebooks()
    assert notebooks, "no notebook calls tracking.connect()"
    work = klass.folder.parent / "notebooks"
    chosen = _students_notebooks(notebooks)
    lanes = {
        ("alice", 0): chosen["alice"][0::2],
        ("alice", 1): chosen["alice"][1::2],
        ("bob", 0): chosen["bob"],
    }
    started = {
        (user, lane): _start_notebooks(paths, work / f"{user}-{lane}", klass.student_env(user))
        for (user, lane), paths in lanes.items()
        if paths
    }
    created: dict[str, dict[str, list[str]]] = {"alice": {}, "bob": {}}
    secrets = klass.passwords()
    spans = {key: _finish(proc, targets, 1500) for key, (proc, targets) in started.items()}
    # At once: every kernel was running while each of the others was.
    assert min(span[-1] for span in spans.values()) > max(span[0] for span in spans.values())
    for (user, _), (_, targets) in started.items():
        for target in targets:
            nb = nbformat.read(target, as_version=4)
            assert _errors(nb) == [], f"{user} ran {target.name}"
            text = "\n".join(_text(o) for o in _outputs(nb))
            assert not [s for s in secrets if s in text], f"{target.name} printed a credential"
            found = re.findall(r"CREATED_RUNS=(\[.*\])", text)
            assert found, f"{target.name} did not reach its last cell for {user}"
            created[user][target.stem] = json.loads(found[-1])
    assert sorted(created["alice"]) == sorted(p.stem for p in chosen["alice"])
    return created


@pytest.mark.postgres
@pytest.mark.kernel
def test_two_students_at_once_every_run_is_recorded_under_their_own_names(
    klass: ClassUnderTest,
    class_runs: dict[str, dict[str, list[str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import nbformat

    admin = _client(monkeypatch, klass.url, *klass.admin())
    topics: dict[str, Counter] = {}
    for user in STUDENTS:
        prefix = f"{user}-"
        topics[user] = Counter()
        for notebook, run_ids in class_runs[user].items():
            nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
            source = "\n".join(cell.source for cell in nb.cells)
            promised = set(re.findall(r'use_experiment\(\s*"([^"]+)"', source))
            assert run_ids or not promised, f"{notebook} logged no run for {user}"
            seen = set()
            for run_id in run_ids:
                run = admin.get_run(run_id)  # raises if the server lost it
                assert run.info.status == "FINISHED", (user, notebook, run.info.run_name)
                name = admin.get_experiment(run.info.experiment_id).name
                assert name.startswith(prefix), f"{user}'s run went into {name!r}"
                topic = name.removeprefix(prefix)
                seen.add(topic)
                topics[user][topic] += 1
            assert promised <= seen, f"{notebook}: no run of {user} in {promised - seen}"
    # The notebooks both ran gave the same topics and as many runs, under two names.
    both = set(class_runs["bob"])
    assert both and both <= set(class_runs["alice"]), "bob runs the model notebooks, alice all"
    alice_on_both: Counter = Counter()
    for notebook in both:
        for run_id in class_runs["alice"][notebook]:
            name = admin.get_experiment(admin.get_run(run_id).info.experiment_id).name
            alice_on_both[name.removeprefix("alice-")] += 1
    assert alice_on_both == topics["bob"] and sum(topics["bob"].values()) > 0
    experiments = {e.name for e in admin.search_experiments()} - {"Default"}
    assert all(name.startswith(("alice-", "bob-")) for name in experiments), experiments
    models = [m.name for m in admin.search_registered_models()]
    assert all(name.startswith(("alice-", "bob-")) for name in models), models
    bob_models = {m.removeprefix("bob-") for m in models if m.startswith("bob-")}
    alice_models = {m.removeprefix("alice-") for m in models if m.startswith("alice-")}
    # The same model names under two prefixes: bob's notebooks registered what alice's did.
    assert bob_models and bob_models <= alice_models, (bob_models, alice_models)


@pytest.mark.postgres
@pytest.mark.kernel
def test_a_student_cannot_change_another_students_work_unless_granted(
    klass: ClassUnderTest, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    alice = _client(monkeypatch, klass.url, "alice", klass.accounts["alice"].password)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    experiment_name = tracking.experiment_name("permission-check")
    model_name = tracking.model_name("permission-check")
    assert (experiment_name, model_name) == ("alice-permission-check",) * 2
    experiment_id = alice.create_experiment(experiment_name)
    run_id = alice.create_run(experiment_id).info.run_id
    alice.log_metric(run_id, "accuracy", 0.9)
    alice.create_registered_model(model_name)

    bob = _client(monkeypatch, klass.url, "bob", klass.accounts["bob"].password)
    assert bob.get_run(run_id).data.metrics == {"accuracy": 0.9}  # READ: bob may look
    refused = [
        lambda: bob.log_metric(run_id, "accuracy", 0.1),
        lambda: bob.create_run(experiment_id),
        lambda: bob.set_tag(run_id, "owner", "bob"),
        lambda: bob.delete_experiment(experiment_id),
        lambda: bob.set_registered_model_tag(model_name, "owner", "bob"),
    ]
    for attempt in refused:
        with pytest.raises(MlflowException, match="403"):
            attempt()

    def cli(*args: str) -> str:
        assert classroom.main(["--dir", str(klass.folder), *args]) == 0
        return capsys.readouterr().out.strip()

    assert cli("permission", "alice", "--experiment", experiment_name) == "MANAGE"
    assert cli("permission", "bob", "--experiment", experiment_name) == "READ"
    cli("grant", "bob", "EDIT", "--experiment", experiment_name)
    assert cli("permission", "bob", "--experiment", experiment_name) == "EDIT"
    bob.log_metric(run_id, "bob_was_here", 1.0)
    assert "bob_was_here" in alice.get_run(run_id).data.metrics
    cli("grant", "bob", "READ", "--experiment", experiment_name)
    with pytest.raises(MlflowException, match="403"):
        bob.log_metric(run_id, "accuracy", 0.2)
    assert alice.get_run(run_id).data.metrics["accuracy"] == 0.9
    assert classroom.permission("bob", registered_model=model_name, folder=klass.folder) == "READ"


@pytest.mark.postgres
@pytest.mark.kernel
def test_a_wrong_password_gets_a_clear_message_in_the_notebook(klass: ClassUnderTest) -> None:
    import nbformat

    notebook = next(  # the first notebook that connects (the whole list, not only 05-10)
        p
        for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
        if "tracking.connect(" in p.read_text()
    )
    wrong = "not-the-password-of-bob"
    env = klass.student_env("bob", wrong)
    proc, targets = _start_notebooks([notebook], klass.folder.parent / "wrong", env, False)
    _finish(proc, targets, 600)
    nb = nbformat.read(targets[0], as_version=4)
    failing = [
        c
        for c in nb.cells
        if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.outputs)
    ]
    assert len(failing) == 1 and "tracking.connect(" in failing[0].source
    (error,) = [o for o in failing[0].outputs if o.get("output_type") == "error"]
    assert error["ename"] == "TrackingServerError"
    assert "refused user 'bob'" in error["evalue"] and "HTTP 401" in error["evalue"]
    assert "MLFLOW_TRACKING_PASSWORD" in error["evalue"]
    text = "\n".join(_text(o) for o in _outputs(nb))
    assert wrong not in text and klass.accounts["bob"].password not in text


@pytest.mark.postgres
@pytest.mark.kernel
def test_connect_without_an_account_says_one_is_needed(klass: ClassUnderTest) -> None:
    env = klass.student_env("bob")
    del env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"]
    result = subprocess.run(
        [sys.executable, "-c", "from utils import tracking; tracking.connect()"],
        env=env,
        cwd=klass.folder.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("utils.tracking.TrackingServerError: ")
    assert f"{klass.url} needs an account" in last and "MLFLOW_TRACKING_USERNAME" in last


# --------------------------------------------------------------------------- faults

# One student logging runs in a loop, as fast as they can, until the stop file appears; every
# run the server created ("started"), every finished run ("ok") and every error goes to the
# events file as a JSON line.
STUDENT_LOOP = """
import json, os, sys, time
import mlflow
from utils import tracking

events, stop_file = sys.argv[1], sys.argv[2]


def emit(**event):
    with open(events, "a") as fh:
        fh.write(json.dumps({"t": time.time(), **event}) + "\\n")


tracking.connect(quiet=True)
experiment_id = tracking.use_experiment("fault-drill")
number = 0
while not os.path.exists(stop_file):
    begun = time.monotonic()
    try:
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"drill-{number}") as run:
            emit(started=run.info.run_id)
            mlflow.log_params({f"p{k}": k for k in range(5)})
            for step in range(20):
                mlflow.log_metric("loss", 1 / (step + 1), step=step)
            mlflow.log_text("notes", "notes.txt")
        emit(ok=run.info.run_id)
    except Exception as err:
        emit(error=f"{type(err).__name__}: {err}", seconds=time.monotonic() - begun)
        time.sleep(0.5)
    number += 1
"""


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _wait_for(condition, timeout: float, what: str) -> None:  # noqa: ANN001 - a callable
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.mark.postgres
@pytest.mark.kernel
def test_server_killed_while_students_log_then_restarted(
    klass: ClassUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = klass.folder.parent / "fault"
    work.mkdir()
    stop_file = work / "stop"
    files = {user: work / f"{user}.jsonl" for user in STUDENTS}
    procs = {
        user: subprocess.Popen(
            [sys.executable, "-c", STUDENT_LOOP, str(files[user]), str(stop_file)],
            env=klass.student_env(user),
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for user in STUDENTS
    }

    def count(user: str, key: str, after: float = 0.0) -> int:
        return sum(1 for e in _events(files[user]) if key in e and e["t"] > after)

    try:
        _wait_for(lambda: all(count(u, "ok") >= 2 for u in STUDENTS), 300, "runs before the kill")
        server = classroom.status(klass.folder)
        assert server.running and server.pid is not None
        tree = _tree(server.pid)
        killed_at = time.time()
        for proc in tree:
            proc.kill()  # SIGKILL: a crash, not a clean stop
        psutil.wait_procs(tree, timeout=10)
        assert not classroom.status(klass.folder).running
        _wait_for(
            lambda: all(count(u, "error", killed_at) >= 2 for u in STUDENTS),
            60,
            "errors during the outage",
        )
        # An exercise checked during the outage is kept locally, with a clear line.
        failed = _check_as(klass, "bob", "07.1", "correct", "y")
        assert failed.startswith(f"upload to {klass.url} failed"), failed
        _run_block("python -m utils.classroom start", klass.env)  # the guide's advice
        restarted_at = time.time()
        # The next check after the restart sends the whole record: nothing was lost.
        assert _check_as(klass, "bob", "07.2", "incorrect", "z").startswith("the class server")
        bob = classroom.class_progress(klass.folder).students["bob"]
        assert (bob["07.1"].label, bob["07.2"].label) == ("solved", "tried")
        _wait_for(
            lambda: all(count(u, "ok", restarted_at) >= 2 for u in STUDENTS),
            300,
            "runs after the restart",
        )
    finally:
        stop_file.touch()
        for proc in procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()

    admin = _client(monkeypatch, klass.url, *klass.admin())
    for user in STUDENTS:
        events = _events(files[user])
        before = [e["ok"] for e in events if "ok" in e and e["t"] < killed_at]
        outage = [e for e in events if "error" in e]
        assert len(before) >= 2 and outage
        assert all(e["t"] > killed_at for e in outage), "errors before the server was killed"
        for run_id in before:  # every run finished before the crash is complete
            run = admin.get_run(run_id)
            assert run.info.status == "FINISHED"
            assert len(run.data.params) == 5
            assert len(admin.get_metric_history(run_id, "loss")) == 20
            assert [a.path for a in admin.list_artifacts(run_id)] == ["notes.txt"]
        # A clear error, not a hang: the wait above for two errors per student bounds it.
        for event in outage:
            assert f"127.0.0.1:{klass.port}" in event["error"], event
            assert re.search(
                r"Connection refused|Failed to establish|Connection aborted|RemoteDisconnected",
                event["error"],
            ), event
        after = [e["ok"] for e in events if "ok" in e and e["t"] > restarted_at]
        assert all(admin.get_run(r).info.status == "FINISHED" for r in after)
        _check_run_in_flight_at_the_kill(admin, events)


def _check_run_in_flight_at_the_kill(admin: MlflowClient, events: list[dict]) -> None:
    """What the kill did to the run a student had open: it stays open, nothing is doubled.

    The run in flight (created, never reported finished) is on the server, still RUNNING,
    with what reached the server before the kill; the student's loop went on with new runs
    after the restart (the restarted server never finishes it by itself). Only if the kill fell
    on the last request, the one that finishes the run, is it FINISHED and complete (the reply
    was lost). A run whose creation reached the server but whose reply did not is the only one
    the student never heard of: RUNNING and empty. Nothing is created twice: every run name
    that is FINISHED is so once.
    """
    ok = {e["ok"] for e in events if "ok" in e}
    started = {e["started"] for e in events if "started" in e}
    assert ok <= started
    in_flight = started - ok
    assert len(in_flight) <= 1, f"more than one run open at the kill: {in_flight}"
    experiment_id = admin.get_run(next(iter(ok))).info.experiment_id
    runs = {
        r.info.run_id: r
        for r in admin.search_runs([experiment_id], run_view_type=ViewType.ALL, max_results=5000)
    }
    assert started <= set(runs), "a run the server created is missing after the restart"
    for run_id in in_flight:
        run = runs[run_id]
        if run.info.status == "FINISHED":  # only the reply to the finishing request was lost
            assert len(run.data.params) == 5
            assert len(admin.get_metric_history(run_id, "loss")) == 20
        else:
            assert run.info.status == "RUNNING", run.info
    unheard = set(runs) - started
    assert len(unheard) <= 1, f"runs the student never heard of: {unheard}"
    for run_id in unheard:
        assert runs[run_id].info.status == "RUNNING" and not runs[run_id].data.params
    finished = Counter(r.info.run_name for r in runs.values() if r.info.status == "FINISHED")
    assert all(count == 1 for count in finished.values()), finished


# --------------------------------------------------------------------------- exercise progress

# A student's kernel, reduced to what utils.progress does after a check: save the outcome
# locally, then upload the record (here in the foreground, to wait for the answer).
PROGRESS_STEP = """
import sys
from utils import progress
exercise, status, answer = sys.argv[1:4]
progress.save_outcome(exercise, status, answer)
print(progress.sync())
"""


def _check_as(klass: ClassUnderTest, user: str, exercise: str, status: str, answer: str) -> str:
    env = klass.student_env(user)
    env.pop("MLOPS_COURSE_PROGRESS", None)
    result = subprocess.run(
        [sys.executable, "-c", PROGRESS_STEP, exercise, status, answer],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.postgres
@pytest.mark.kernel
def test_the_instructor_sees_each_students_progress_and_students_see_only_their_own(
    klass: ClassUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _check_as(klass, "alice", "05.1", "incorrect", "a") == (
        "the class server has the whole record"
    )
    _check_as(klass, "alice", "05.1", "incorrect", "b")
    _check_as(klass, "alice", "05.1", "correct", "c")
    _check_as(klass, "bob", "06.2", "incorrect", "x")
    report = classroom.class_progress(klass.folder)
    assert set(report.students) >= set(STUDENTS)
    alice, bob = report.students["alice"], report.students["bob"]
    # Exactly what each one did (the fault test below adds bob's 07.x; nothing else is there).
    assert {e: (o.attempts, o.label) for e, o in alice.items()} == {"05.1": (3, "solved")}
    assert {e: (o.attempts, o.label) for e, o in bob.items() if e[:2] != "07"} == {
        "06.2": (1, "tried")
    }
    assert len(report.exercises) >= 36 and "06.2" in report.exercises
    table = report.table()
    assert re.search(r"^alice .* ok3 ", table, re.MULTILINE), table
    assert re.search(r"^bob .* x1 ", table, re.MULTILINE), table

    # The page the instructor projects: counts in the cells, no external assets.
    out = subprocess.run(
        [sys.executable, "-m", "utils.classroom", "progress"],
        cwd=ROOT,
        env=klass.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    page = (klass.folder / classroom.PROGRESS_PAGE).read_text()
    assert "&#10004; 3" in page and "&#10008; 1" in page
    assert not re.search(r"(src|href)=\"?https?:", page)

    # Each student is refused the other's record by the server itself.
    for reader, owner in (("alice", "bob"), ("bob", "alice")):
        client = _client(monkeypatch, klass.url, reader, klass.accounts[reader].password)
        with pytest.raises(MlflowException, match="PERMISSION_DENIED|Permission denied|403"):
            client.get_experiment_by_name(f"{owner}-progress")
        own = client.get_experiment_by_name(f"{reader}-progress")
        assert own is not None and client.search_runs([own.experiment_id])


# --------------------------------------------------------------------------- the guide's last step


@pytest.mark.postgres
@pytest.mark.kernel
def test_guide_stop_step_stops_server_and_database(klass: ClassUnderTest) -> None:
    server = classroom.status(klass.folder)
    cluster = classroom._load_cluster(klass.folder / "postgres")
    assert server.running and cluster is not None
    postmaster = _postmaster(cluster)
    assert postmaster is not None
    output = _run_block(klass.blocks[-1], klass.env)
    assert "Stopped the class server." in output
    assert not classroom.status(klass.folder).running
    assert not cluster.running()
    # pg_ctl returns once PostgreSQL has removed its PID file, just before the process exits.
    _wait_for(lambda: not processes.process_alive(postmaster.pid), 30, "PostgreSQL to exit")
    assert processes.port_is_free(klass.port) and processes.port_is_free(cluster.port)
    # Everything is still there for the next lesson.
    assert (cluster.data_dir / "PG_VERSION").exists()
    assert (klass.folder / classroom.SECRETS_FILE).exists()


# --------------------------------------------------------------------------- no PostgreSQL needed


def test_read_roster_accepts_lists_and_csv_and_rejects_bad_names(tmp_path: Path) -> None:
    assert classroom.read_roster(["alice", "", "# a comment", " bob "]) == ["alice", "bob"]
    roster = tmp_path / "roster.csv"
    roster.write_text("Name,Username,Email\nAlice A.,alice,a@x.org\nBob B.,bob.b,b@x.org\n")
    assert classroom.read_roster(roster) == ["alice", "bob.b"]
    (tmp_path / "plain.txt").write_text("\ufeffcarol\ndave\n")
    assert classroom.read_roster(tmp_path / "plain.txt") == ["carol", "dave"]
    bad = {
        ("alice", "Alice"): "twice",
        ("admin",): "reserved",
        ("alice smith",): "not valid",
        ("a@x.org",): "not valid",
        (): "empty",
    }
    for names, message in bad.items():
        with pytest.raises(ValueError, match=message):
            classroom.read_roster(list(names))
    (tmp_path / "nouser.csv").write_text("name,email\nAlice,a@x.org\n")
    with pytest.raises(ValueError, match="no 'username' column"):
        classroom.read_roster(tmp_path / "nouser.csv")
    with pytest.raises(ValueError, match="does not exist"):
        classroom.read_roster(tmp_path / "missing.txt")
    with pytest.raises(TypeError):
        classroom.read_roster(42)  # type: ignore[arg-type]


def test_credentials_file_is_private_new_and_outside_the_repository(tmp_path: Path) -> None:
    accounts = [
        classroom.StudentAccount("alice", "a" * 16),
        classroom.StudentAccount("bob", "", created=False),
    ]
    out = tmp_path / "credentials.csv"
    assert classroom.write_credentials(accounts, out, "http://127.0.0.1:5060") == 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert classroom.read_credentials(out) == {"alice": classroom.StudentAccount("alice", "a" * 16)}
    assert "a" * 16 not in repr(classroom.read_credentials(out))
    with pytest.raises(ValueError, match="exists already"):
        classroom.write_credentials(accounts, out, "http://127.0.0.1:5060")
    with pytest.raises(ValueError, match="inside the course repository"):
        classroom.write_credentials(accounts, ROOT / "credentials.csv", "http://127.0.0.1:5060")
    assert not (ROOT / "credentials.csv").exists()


def test_class_folder_must_not_be_in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="inside the course repository"):
        classroom.class_dir(ROOT / "class")
    with pytest.raises(ValueError, match="make clean"):  # .course/ too: make clean empties it
        classroom.class_dir(ROOT / ".course" / "class")
    monkeypatch.setenv(classroom.DIR_ENV, "/tmp/some-class")
    assert classroom.class_dir() == Path("/tmp/some-class").resolve()
    with pytest.raises(TypeError):
        classroom.class_dir(5)  # type: ignore[arg-type]


def test_student_env_and_bad_arguments_get_clear_errors(tmp_path: Path) -> None:
    assert 2 <= classroom.default_workers() <= 4
    env = classroom.student_env("http://127.0.0.1:5060", "alice", "x" * 16)
    assert env == {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:5060",
        "MLFLOW_TRACKING_USERNAME": "alice",
        "MLFLOW_TRACKING_PASSWORD": "x" * 16,
    }
    with pytest.raises(ValueError, match="at least 12 characters"):
        classroom.student_env("http://127.0.0.1:5060", "alice", "short")
    with pytest.raises(ValueError, match="http"):
        classroom.student_env("127.0.0.1:5060", "alice", "x" * 16)
    with pytest.raises(ValueError, match="not an IP address"):
        classroom.start(tmp_path, host="classroom.example.org")
    with pytest.raises(ValueError, match="workers"):
        classroom.start(tmp_path, workers=0)
    with pytest.raises(ValueError, match="default_permission"):
        classroom.start(tmp_path, default_permission="EDIT")
    with pytest.raises(ValueError, match="between 1024 and 65535"):
        classroom.start(tmp_path, port=80)
    with pytest.raises(classroom.ClassroomError, match="not a class folder yet"):
        classroom.start(tmp_path)
    with pytest.raises(ValueError, match="level must be one of"):
        classroom.grant("bob", "WRITE", experiment="x", folder=tmp_path)
    deep = tmp_path / ("d" * 90)
    with pytest.raises(ValueError, match="too deep"):
        classroom.init_cluster(deep)


def test_command_line_reports_errors_and_status(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert classroom.main(["--dir", str(tmp_path), "status"]) == 3
    assert "No class server runs." in capsys.readouterr().out
    assert classroom.main(["--dir", str(tmp_path), "start"]) == 2
    assert "run `python -m utils.classroom init" in capsys.readouterr().err
    assert classroom.main(["--dir", str(ROOT / "class"), "status"]) == 2
    assert "inside the course repository" in capsys.readouterr().err


@pytest.mark.postgres
def test_find_postgres_finds_all_four_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool(MISSING is None, f"classroom mode needs PostgreSQL: {MISSING}")
    bindir = classroom.find_postgres()
    assert bindir is not None
    assert all((bindir / name).exists() for name in ("initdb", "pg_ctl", "postgres", "psql"))
    monkeypatch.setenv(classroom.PG_BINDIR_ENV, str(bindir))
    assert classroom.find_postgres() == bindir


def test_the_class_runs_every_mlflow_call_the_tracking_notebooks_make() -> None:
    """Dropping a notebook from the class run drops no request the notebooks make themselves;
    the call reader sees calls through a client and through ``mlflow``."""
    later = [p for p in sorted((ROOT / "notebooks").glob("[01][0-9]_*.ipynb")) if p.name >= "05"]
    logging = [p for p in later if "tracking.connect(" in p.read_text(encoding="utf-8")]
    chosen = without_repeats(logging)
    assert chosen and chosen[0] == logging[0]
    asked = set().union(*(mlflow_calls(p) for p in chosen))
    assert set().union(*(mlflow_calls(p) for p in logging)) == asked
    assert {"mlflow.start_run", "mlflow.register_model", "MlflowClient.get_model_version"} <= asked
    assert any(p.name.startswith("08_") for p in chosen), "the model server must read the class"
