"""Exercise progress: what a check records, where, and what it never records.

The class-server side (two students, the instructor's view, refusals, a stopped server) is in
``tests/test_classroom.py``, which has the PostgreSQL-backed server.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from utils import checks, progress, tracking

if TYPE_CHECKING:
    import nbformat

ROOT = Path(__file__).resolve().parent.parent


def test_attempts_count_distinct_answers_not_reruns(tmp_path: Path) -> None:
    progress.save_outcome("01.1", "incorrect", 0.2, tmp_path)
    progress.save_outcome("01.1", "incorrect", 0.2, tmp_path)  # the same cell run again
    progress.save_outcome("01.1", "incorrect", 0.25, tmp_path)
    outcome = progress.load(tmp_path)["01.1"]
    assert (outcome.status, outcome.attempts, outcome.solved, outcome.label) == (
        "incorrect",
        2,
        None,
        "tried",
    )
    solved = progress.save_outcome("01.1", "correct", 0.37, tmp_path)
    assert (solved.attempts, solved.label) == (3, "solved") and solved.solved
    # A wrong answer after the right one: the last status changes, solved stays.
    later = progress.save_outcome("01.1", "incorrect", 0.1, tmp_path)
    assert (later.status, later.attempts, later.solved) == ("incorrect", 4, solved.solved)


def test_the_answer_itself_is_never_stored(tmp_path: Path) -> None:
    secret = "my-answer-is-42.4242"
    progress.save_outcome("05.1", "incorrect", secret, tmp_path)
    text = (tmp_path / progress.PROGRESS_FILE).read_text()
    assert secret not in text and "42.4242" not in text
    data = json.loads(text)
    # Only a salted digest: the same answer under another student's salt gives another digest.
    digest = data["exercises"]["05.1"]["hashes"][0]
    assert digest == progress.answer_digest(secret, data["salt"])
    assert digest != progress.answer_digest(secret, "another-salt")


def test_equal_answers_of_every_kind_give_equal_digests() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert progress.answer_digest(frame, "s") == progress.answer_digest(frame.copy(), "s")
    assert progress.answer_digest(frame, "s") != progress.answer_digest(frame.iloc[::-1], "s")
    array = np.arange(6.0)
    assert progress.answer_digest(array, "s") == progress.answer_digest(array.copy(), "s")
    assert progress.answer_digest(array, "s") != progress.answer_digest(array.reshape(2, 3), "s")
    assert progress.answer_digest({"a": 1}, "s") == progress.answer_digest({"a": 1}, "s")

    def f(x):
        return x + 1

    def g(x):
        return x + 2

    assert progress.answer_digest(f, "s") != progress.answer_digest(g, "s")
    # An object whose repr names its address is hashed by content where it can be.
    assert progress.answer_digest(object(), "s")  # answers, never raises


def _writer(state: str, worker: int) -> None:
    for i in range(25):
        progress.save_outcome("02.1", "incorrect", f"{worker}-{i}", Path(state))


@pytest.mark.slow
def test_two_notebooks_checking_at_once_lose_nothing(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(tmp_path), w)) for w in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    assert progress.load(tmp_path)["02.1"].attempts == 50
    assert json.loads((tmp_path / progress.PROGRESS_FILE).read_text())["changes"] == 50
    assert not list(tmp_path.glob("*.tmp"))


def test_a_damaged_record_is_kept_aside_and_a_new_one_started(tmp_path: Path) -> None:
    (tmp_path / progress.PROGRESS_FILE).write_text("{half a file")
    progress.save_outcome("03.1", "correct", "x", tmp_path)
    assert progress.load(tmp_path)["03.1"].label == "solved"
    kept = list(tmp_path.glob("progress.json.damaged-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{half a file"


def test_nothing_is_recorded_outside_a_notebook_or_when_switched_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_COURSE_STATE", str(tmp_path))
    monkeypatch.delenv(progress.SWITCH_ENV, raising=False)
    assert progress.running_cell() is None  # pytest is not a notebook kernel
    assert not progress.recording_enabled()
    assert not checks.check("01.1", 0.5).passed
    assert not (tmp_path / progress.PROGRESS_FILE).exists()
    monkeypatch.setenv(progress.SWITCH_ENV, "off")
    assert not progress.recording_enabled()


def test_the_tables_read_back_what_the_server_tags_carry(tmp_path: Path) -> None:
    progress.save_outcome("05.2", "incorrect", 1, tmp_path)
    progress.save_outcome("05.2", "correct", 2, tmp_path)
    progress.save_outcome("06.1", "incorrect", 1, tmp_path)
    outcomes = progress.load(tmp_path)
    tags = progress.tags_for(outcomes)
    assert not [v for v in tags.values() if len(v) > 100]
    assert progress.outcomes_from_tags({**tags, "mlflow.runName": "progress"}) == outcomes
    text = progress.table(outcomes, ["05.1", "05.2", "06.1"])
    assert "05.1 not attempted" in text
    assert "05.2 solved (2 attempts)" in text
    assert "06.1 tried (1 attempt)" in text
    assert text.endswith("solved 1 of 3 exercises; tried 1; not attempted 1")


def test_the_command_prints_the_table_offline_and_deletes_on_request(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_COURSE_"))}
    env["MLOPS_COURSE_STATE"] = str(tmp_path)
    progress.save_outcome("04.2", "correct", "a", tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "utils", "progress", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )

    shown = run()
    assert shown.returncode == 0, shown.stderr
    assert "04.2 solved (1 attempt)" in shown.stdout
    assert re.search(r"solved 1 of \d\d exercises", shown.stdout)
    refused = run("--delete")  # no terminal to ask in
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert (tmp_path / progress.PROGRESS_FILE).exists()
    deleted = run("--delete", "--yes")
    assert deleted.returncode == 0 and "deleted" in deleted.stdout
    assert not (tmp_path / progress.PROGRESS_FILE).exists()


def test_make_clean_keeps_the_progress_record(tmp_path: Path) -> None:
    state = tmp_path / ".course"
    (state / "artifacts" / "1").mkdir(parents=True)
    (state / "artifacts" / "1" / "model.pkl").write_text("x")
    progress.save_outcome("07.1", "correct", "a", state)
    message = tracking.clean_state(state, confirm=lambda question: True)
    assert "Kept your exercise progress" in message
    assert not (state / "artifacts").exists()
    assert progress.load(state)["07.1"].label == "solved"
    # Moved aside (no terminal to ask in): the fresh folder has the record too.
    (state / "artifacts").mkdir()
    (state / "artifacts" / "x").write_text("x")
    message = tracking.clean_state(state, confirm=None)
    assert "moved it to" in message and progress.load(state)["07.1"].label == "solved"


def test_the_exercise_list_is_read_from_the_notebooks_and_matches_the_checks() -> None:
    assert progress.exercise_ids() == [e.id for e in checks.exercises()]


def test_every_solution_cell_starts_with_the_header_progress_relies_on() -> None:
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = cell["source"]
            first = ("".join(source) if isinstance(source, list) else source).lstrip()
            first = first.split("\n", 1)[0]
            is_solution = "solution" in cell["metadata"].get("tags", [])
            if is_solution:
                assert re.fullmatch(r"# Solution to exercise \d\d\.\d", first), (path.name, first)
                assert first.startswith(progress.SOLUTION_HEADER)
            else:
                assert not first.startswith(progress.SOLUTION_HEADER), (path.name, first)


# nbformat and nbclient are imported where a kernel test needs them: `make check` collects this
# file without running those tests, and importing nbformat alone takes over a second (its JSON
# schema validator compiles a grammar).
def _notebook(*sources: str) -> nbformat.NotebookNode:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


def _execute_with_env(nb: nbformat.NotebookNode, env: dict[str, str]) -> None:
    """Run a notebook in a fresh kernel that inherits ``env`` (as a student's lab would)."""
    from nbclient import NotebookClient

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        NotebookClient(
            nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(ROOT)}}
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.kernel
def test_a_kernel_records_student_checks_but_not_solution_cells(tmp_path: Path) -> None:
    nb = _notebook(
        "from utils import checks, datasets\n_, y = datasets.load_builtin('breast_cancer')",
        'checks.check("01.1", ...)',  # the placeholder: not an attempt
        'checks.check("01.1", 0.5)',  # wrong
        'checks.check("01.1", 0.5)',  # the same cell run again: the same attempt
        '# Solution to exercise 01.1\nassert checks.check("01.1", (y == 0).mean()).passed',
        'checks.check("01.2", 0.1, y_true=[1, 0], y_pred=[1, 1])',
        "# which cell runs\nfrom utils import progress\n"
        "assert progress.running_cell().startswith('# which cell runs\\n')",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env.pop(progress.SWITCH_ENV, None)
    _execute_with_env(nb, {**env, "MLOPS_COURSE_STATE": str(tmp_path / "on")})
    record = progress.load(tmp_path / "on")
    assert set(record) == {"01.1", "01.2"}, record
    # The solution cell's correct answer did not count: tried once, not solved.
    assert (record["01.1"].attempts, record["01.1"].label) == (1, "tried")
    assert record["01.2"].attempts == 1
    # The same notebook with the switch off, as in the course's own test runs: no file.
    off = {**env, "MLOPS_COURSE_STATE": str(tmp_path / "off"), progress.SWITCH_ENV: "off"}
    _execute_with_env(copy.deepcopy(nb), off)
    assert not (tmp_path / "off" / progress.PROGRESS_FILE).exists()
