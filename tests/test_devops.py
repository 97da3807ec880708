"""Tests of utils.devops: pytest runs, file edits, scripts, and the four MLOps checks."""

from __future__ import annotations

import dataclasses
import os
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from utils import datasets, devops, tracking
from utils.devops import MaintainabilityIssue, PropertyCheck, PytestReport, TestOutcome

# A tiny project with no third-party imports, so that each pytest run takes well under a second.
MODULE = '''
"""A tiny module under test."""

FACTOR = 2


def double(x):
    """Return x times FACTOR."""
    return helper(x) * FACTOR


def helper(x):
    """Return x unchanged."""
    return x
'''

TESTS = """
import little


def test_double():
    assert little.double(3) == 6


def test_double_of_zero():
    assert little.double(0) == 0
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    write(folder, "little.py", MODULE)
    write(folder, "test_little.py", TESTS)
    return folder


# ---------------------------------------------------------------------------------------------
# run_pytest and its report
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_green_run_lists_every_test(project: Path) -> None:
    report = devops.run_pytest(project / "test_little.py")
    assert report.ok
    assert report.returncode == 0
    assert report.passed == ["test_double", "test_double_of_zero"]
    assert report.failed == []
    text = str(report)
    assert text.splitlines()[0].startswith("\u2714 pytest test_little.py: 2 passed in ")
    assert "  \u2714 test_double_of_zero" in text.splitlines()
    assert repr(report) == text


@pytest.mark.slow
def test_red_run_names_the_failure_and_its_message(project: Path) -> None:
    devops.edit_file(project / "little.py", "return helper(x) * FACTOR", "return helper(x) + 1")
    report = devops.run_pytest(project / "test_little.py")
    assert not report.ok
    assert report.returncode == 1
    assert report.failed == ["test_double", "test_double_of_zero"]
    lines = str(report).splitlines()
    assert lines[0].startswith("\u2718 pytest test_little.py: 2 failed in ")
    assert lines[1] == "  \u2718 test_double"
    assert lines[2].strip().startswith("assert 4 == 6")


@pytest.mark.slow
def test_a_folder_runs_every_test_file_and_names_the_module(project: Path) -> None:
    write(project, "test_more.py", "def test_more():\n    assert True\n")
    report = devops.run_pytest(project)
    assert report.ok
    assert sorted(report.passed) == [
        "test_little::test_double",
        "test_little::test_double_of_zero",
        "test_more::test_more",
    ]


@pytest.mark.slow  # a pytest run of its own
def test_import_error_is_reported_as_an_error_not_a_pass(project: Path) -> None:
    write(project, "test_broken.py", "import no_such_module_here\n\ndef test_x():\n    pass\n")
    report = devops.run_pytest(project / "test_broken.py")
    assert not report.ok
    assert [o.outcome for o in report.outcomes] == ["error"]
    assert "no_such_module_here" in report.outcomes[0].message
    assert report.failed == [report.outcomes[0].name]


def test_no_tests_is_not_green(tmp_path: Path) -> None:
    empty = write(tmp_path / "empty", "test_nothing.py", "x = 1\n")
    report = devops.run_pytest(empty)
    assert report.returncode == 5
    assert not report.ok
    assert "no tests ran" in report.summary()


def test_skipped_tests_are_listed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "skips",
        "test_skip.py",
        """
        import pytest


        @pytest.mark.skip(reason="not today")
        def test_later():
            pass


        def test_now():
            pass
        """,
    )
    report = devops.run_pytest(path)
    assert report.ok
    assert [(o.name, o.outcome) for o in report.outcomes] == [
        ("test_later", "skipped"),
        ("test_now", "passed"),
    ]
    assert "1 passed, 1 skipped" in report.summary()


def test_parent_conftest_config_and_addopts_are_ignored(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A repository around the project whose test set-up would break (or start servers).
    root = project.parent
    write(root, "conftest.py", "raise RuntimeError('the parent conftest must not run')\n")
    write(root, "pytest.ini", "[pytest]\naddopts = --no-such-option\n")
    write(project, "conftest.py", "raise RuntimeError('no conftest at all')\n")
    monkeypatch.setenv("PYTEST_ADDOPTS", "--no-such-option-either")
    report = devops.run_pytest(project / "test_little.py")
    assert report.ok, str(report)
    assert not (project / ".pytest_cache").exists()
    assert not (project / "__pycache__").exists()


def test_pytest_runs_with_this_python(tmp_path: Path) -> None:
    path = write(
        tmp_path / "which",
        "test_which.py",
        f"import sys\n\ndef test_python():\n    assert sys.executable == {sys.executable!r}\n",
    )
    assert devops.run_pytest(path).ok


@pytest.mark.slow
def test_timeout_is_a_clear_error(tmp_path: Path) -> None:
    path = write(
        tmp_path / "slow", "test_slow.py", "import time\n\ndef test_x():\n    time.sleep(60)\n"
    )
    with pytest.raises(TimeoutError, match="ran longer than 2 s"):
        devops.run_pytest(path, timeout=2)


@pytest.mark.parametrize("forkserver", [True, False], ids=["forked", "fresh-interpreter"])
@pytest.mark.slow
def test_both_ways_of_starting_pytest_agree(
    project: Path, monkeypatch: pytest.MonkeyPatch, forkserver: bool
) -> None:
    if forkserver and sys.platform != "linux":
        pytest.skip("the fork server is used on Linux only")
    monkeypatch.setattr(devops, "_USE_FORKSERVER", forkserver)
    assert devops.run_pytest(project).passed == ["test_double", "test_double_of_zero"]
    # The next run sees the file as it is now, and nothing of the runs stays in this process.
    devops.edit_file(project / "little.py", "FACTOR = 2", "FACTOR = 3")
    report = devops.run_pytest(project)
    assert report.failed == ["test_double"] and report.passed == ["test_double_of_zero"]
    assert "little" not in sys.modules and "test_little" not in sys.modules
    done = devops.pytest_process(["-q", "--co", "-p", "no:cacheprovider"], project)
    assert done.returncode == 0 and "2 tests collected" in done.output, done.output


def test_warm_up_starts_the_helper_in_the_background(project: Path) -> None:
    running = devops.warm_up()  # how long it takes is measured by `make bench`, not here
    assert running is (sys.platform == "linux")
    assert devops.warm_up() is running  # a second call changes nothing
    assert devops.run_pytest(project).passed == ["test_double", "test_double_of_zero"]


@pytest.mark.slow
def test_a_stopped_pytest_process_is_gone(tmp_path: Path) -> None:
    import psutil

    pid_file = tmp_path / "pid"
    path = write(
        tmp_path / "slow",
        "test_slow.py",
        f"""
        import os, time

        def test_x():
            open({str(pid_file)!r}, "w").write(str(os.getpid()))
            time.sleep(60)
        """,
    )
    with pytest.raises(TimeoutError, match="ran longer than 3 s"):
        devops.pytest_process(["-q", "-p", "no:cacheprovider", str(path)], path.parent, 3)
    pid = int(pid_file.read_text())
    assert pid != os.getpid()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_pytest_process_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="must be strings"):
        devops.pytest_process(["-q", 3], tmp_path)  # type: ignore[list-item]


def test_run_pytest_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="write the tests first"):
        devops.run_pytest(tmp_path / "missing.py")
    with pytest.raises(TypeError, match="must be strings"):
        devops.run_pytest(tmp_path, 3)  # type: ignore[arg-type]


def test_report_summary_counts_and_long_messages_stay_one_line() -> None:
    report = PytestReport(
        Path("t/test_x.py"),
        1,
        1.234,
        (
            TestOutcome("test_a", "failed", "AssertionError: " + "x" * 200),
            TestOutcome("test_b", "error", "ImportError: nope"),
            TestOutcome("test_c", "passed"),
        ),
    )
    assert report.summary() == "\u2718 pytest test_x.py: 1 failed, 1 errors, 1 passed in 1.2 s"
    assert report.failed == ["test_a", "test_b"]
    assert not report.ok
    assert TestOutcome.__test__ is False


def test_first_line_is_shortened() -> None:
    line = devops._first_line("\n  AssertionError: " + "y" * 300 + "\nmore")
    assert len(line) == 110 and line.endswith("...")


# ---------------------------------------------------------------------------------------------
# edit_file, load_module, run_script
# ---------------------------------------------------------------------------------------------


def test_edit_file_changes_the_file_and_returns_a_diff(project: Path) -> None:
    path = project / "little.py"
    diff = devops.edit_file(path, "FACTOR = 2", "FACTOR = 3")
    assert "FACTOR = 3" in path.read_text()
    assert diff.startswith("--- a/little.py\n+++ b/little.py\n")
    assert "-FACTOR = 2\n" in diff and "+FACTOR = 3\n" in diff


@pytest.mark.parametrize(
    ("old", "message"),
    [("not there", "occurs 0 times"), ("x)", "occurs 3 times"), ("", "old is empty")],
)
def test_edit_file_refuses_ambiguous_edits(project: Path, old: str, message: str) -> None:
    before = (project / "little.py").read_text()
    with pytest.raises(ValueError, match=message):
        devops.edit_file(project / "little.py", old, "new")
    assert (project / "little.py").read_text() == before


def test_edit_file_bad_arguments(project: Path) -> None:
    with pytest.raises(TypeError, match="must be strings"):
        devops.edit_file(project / "little.py", "FACTOR", 3)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        devops.edit_file(project / "nope.py", "a", "b")


def test_load_module_is_fresh_every_time(project: Path) -> None:
    first = devops.load_module(project / "little.py")
    assert first.double(5) == 10
    devops.edit_file(project / "little.py", "FACTOR = 2", "FACTOR = 10")
    second = devops.load_module(project / "little.py")
    assert second.double(5) == 50
    assert first.double(5) == 10  # the old module object keeps its old code
    assert "little" not in sys.modules
    with pytest.raises(FileNotFoundError):
        devops.load_module(project / "nope.py")


def test_run_script_returns_variables_and_swallows_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "script.py", "import math\nanswer = 6 * 7\nprint('noise')\n")
    assert devops.run_script(path, ["answer"]) == {"answer": 42}
    everything = devops.run_script(path)
    assert everything["answer"] == 42 and "math" in everything
    assert not any(name.startswith("__") for name in everything)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match=r"does not define \['nothing'\]"):
        devops.run_script(path, ["nothing"])
    with pytest.raises(TypeError, match="list of variable names"):
        devops.run_script(path, "answer")
    with pytest.raises(FileNotFoundError):
        devops.run_script(tmp_path / "nope.py", ["x"])


def test_run_fresh_shares_nothing_with_this_process(tmp_path: Path) -> None:
    # A name defined here, a module imported here: the fresh process has neither.
    fresh_name = "defined only in the test process"  # noqa: F841 - the point of the test
    path = write(
        tmp_path, "job.py", "import sys\nprint('devops' in sys.modules)\nprint(fresh_name)\n"
    )
    job = devops.run_fresh(path)
    assert not job.ok and job.returncode == 1
    assert job.stdout.strip() == "False"  # utils.devops is imported here, not there
    assert job.error == "NameError: name 'fresh_name' is not defined"
    assert job.error_line == 3
    assert str(job).splitlines() == [
        f"\u2718 python job.py: exit code 1 in {job.seconds:.1f} s",
        "    NameError: name 'fresh_name' is not defined (line 3)",
    ]


def test_run_fresh_runs_in_the_scripts_folder_with_extra_variables(tmp_path: Path) -> None:
    path = write(
        tmp_path, "job.py", "import os, sys\nprint(os.getcwd())\nprint(os.environ['MARK'])\n"
    )
    job = devops.run_fresh(path, env={"MARK": "set for the job"})
    assert job.ok and job.error == "" and job.error_line is None
    assert job.stdout.splitlines() == [str(tmp_path.resolve()), "set for the job"]
    assert "MARK" not in os.environ
    elsewhere = devops.run_fresh(path, cwd=tmp_path.parent, env={"MARK": "x"})
    assert elsewhere.stdout.splitlines()[0] == str(tmp_path.parent.resolve())
    assert str(elsewhere).startswith("\u2714 python job.py: exit code 0")


@pytest.mark.slow
def test_run_fresh_rejects_bad_input_and_stops_a_long_job(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No script"):
        devops.run_fresh(tmp_path / "nope.py")
    path = write(tmp_path, "job.py", "import time\ntime.sleep(30)\n")
    with pytest.raises(TypeError, match="env must map"):
        devops.run_fresh(path, env={"N": 1})  # type: ignore[dict-item]
    started = time.perf_counter()
    with pytest.raises(TimeoutError, match="ran longer than 1 s"):
        devops.run_fresh(path, timeout=1.0)
    assert time.perf_counter() - started < 10


# ---------------------------------------------------------------------------------------------
# check_reproducible
# ---------------------------------------------------------------------------------------------


def test_reproducible_passes_for_a_seeded_computation() -> None:
    def seeded() -> dict[str, float]:
        return {"mean": float(np.random.default_rng(0).normal(size=100).mean())}

    result = devops.check_reproducible(seeded)
    assert result.passed and result.property == "reproducible"
    assert result.details[0].startswith("5 runs gave identical metrics: mean ")


def test_reproducible_fails_for_unseeded_randomness() -> None:
    rng = np.random.default_rng()
    result = devops.check_reproducible(lambda: {"draw": float(rng.random()), "fixed": 1.0})
    assert not result.passed
    assert result.details[0].startswith("draw differs between runs: 5 different values")
    assert not any(d.startswith("fixed") for d in result.details)
    assert str(result).startswith("\u2718 reproducible: fails\n    draw differs")


def test_reproducible_counts_each_run() -> None:
    calls = []
    devops.check_reproducible(lambda: calls.append(1) or {"a": 1.0}, runs=3)
    assert len(calls) == 3


def test_reproducible_notices_a_missing_metric() -> None:
    answers = iter([{"a": 1.0, "b": 2.0}, {"a": 1.0}])
    result = devops.check_reproducible(lambda: next(answers), runs=2)
    assert not result.passed
    assert result.details[0].startswith("b differs between runs")


@pytest.mark.parametrize(
    ("train", "runs", "error", "message"),
    [
        ("not callable", 2, TypeError, "must be a function"),
        (lambda: {"a": 1.0}, 1, ValueError, "at least 2"),
        (lambda: {"a": 1.0}, True, ValueError, "at least 2"),
        (lambda: 0.9, 2, TypeError, "must return a dict of metrics"),
        (lambda: {"a": "high"}, 2, TypeError, "not a number"),
        (lambda: {"a": True}, 2, TypeError, "not a number"),
        (lambda: {}, 2, ValueError, "no metrics"),
    ],
)
def test_reproducible_rejects_bad_input(
    train: object, runs: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        devops.check_reproducible(train, runs=runs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# check_trackable (against the test session's tracking server)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def logged_runs() -> dict[str, str]:
    import mlflow
    from sklearn.linear_model import LogisticRegression

    tracking.connect(quiet=True)
    tracking.use_experiment("test-devops")
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    y = pd.Series([0, 0, 1, 1])
    model = LogisticRegression().fit(X, y)
    with mlflow.start_run(run_name="complete") as complete:
        mlflow.log_params({"seed": 1, "C": 1.0})
        mlflow.log_metric("accuracy", 1.0)
        mlflow.set_tag("data_fingerprint", datasets.fingerprint(X))
        tracking.log_sklearn_model(model)
    with mlflow.start_run(run_name="bare") as bare:
        mlflow.log_param("C", 1.0)
    return {"complete": complete.info.run_id, "bare": bare.info.run_id}


@pytest.mark.slow
def test_runs_logged_by_asks_the_server(logged_runs: dict[str, str], tmp_path: Path) -> None:
    import mlflow

    experiment_id = tracking.use_experiment("test-devops")
    silent = write(tmp_path, "silent.py", "answer = 42\n")
    assert devops.runs_logged_by(silent, experiment_id) == []
    logs = write(
        tmp_path,
        "logs_a_run.py",
        "import mlflow\nwith mlflow.start_run(run_name='from-a-job'):\n"
        "    mlflow.log_param('seed', 1)\n",
    )
    (found,) = devops.runs_logged_by(logs, experiment_id)
    run = mlflow.get_run(found)
    assert run.info.experiment_id == experiment_id
    assert run.info.run_name == "from-a-job" and run.data.params == {"seed": "1"}
    assert found not in logged_runs.values()
    broken = write(tmp_path, "broken.py", "raise SystemExit('cannot run')\n")
    with pytest.raises(RuntimeError, match="cannot run"):
        devops.runs_logged_by(broken, experiment_id)


def test_trackable_passes_for_a_complete_run(logged_runs: dict[str, str]) -> None:
    result = devops.check_trackable(logged_runs["complete"], required_params=["seed", "C"])
    assert result.passed, str(result)
    text = str(result)
    assert "2 parameters (C, seed)" in text
    assert "accuracy 1" in text
    assert "model m-" in text


def test_trackable_lists_everything_missing(logged_runs: dict[str, str]) -> None:
    result = devops.check_trackable(logged_runs["bare"], required_params={"seed": 1, "C": 2})
    assert not result.passed
    assert result.details == (
        "parameters missing: seed",
        "no metrics logged",
        "no data fingerprint (tag 'data_fingerprint')",
        "no model logged from this run",
    )


def test_trackable_fails_without_a_run() -> None:
    result = devops.check_trackable(None)
    assert not result.passed
    assert "no run was logged" in result.details[0]


def test_trackable_fails_for_an_unknown_run(logged_runs: dict[str, str]) -> None:
    result = devops.check_trackable("0" * 32)
    assert not result.passed
    assert result.details[0].startswith("no run 000")


def test_trackable_rejects_a_non_string_id() -> None:
    with pytest.raises(TypeError, match="run ID"):
        devops.check_trackable(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# check_testable
# ---------------------------------------------------------------------------------------------


def test_testable_passes_when_every_function_runs_in_a_test(project: Path) -> None:
    result = devops.check_testable(project / "little.py", project / "test_little.py")
    assert result.passed, str(result)
    assert result.details[0] == (
        "2 functions, each runs in a test (called by tests: double; run through them: helper)"
    )
    assert result.details[1].startswith("pytest test_little.py: 2 passed")


def test_testable_fails_for_a_script_without_functions_or_tests(tmp_path: Path) -> None:
    script = write(tmp_path, "script.py", "x = 1\nprint(x)\n")
    result = devops.check_testable(script, None)
    assert not result.passed
    assert result.details == (
        "script.py defines no functions: its code runs top to bottom, a test cannot call a part",
        "there are no tests",
    )


def test_testable_names_functions_no_test_runs(project: Path) -> None:
    with (project / "little.py").open("a") as file:
        file.write('\n\ndef unused():\n    """Nobody calls this."""\n    return 0\n')
    result = devops.check_testable(project / "little.py", project / "test_little.py")
    assert not result.passed
    assert result.details == ("never run by a test: unused",)


def test_testable_fails_when_a_test_fails(project: Path) -> None:
    devops.edit_file(project / "little.py", "FACTOR = 2", "FACTOR = 3")
    result = devops.check_testable(project / "little.py", project / "test_little.py")
    assert not result.passed
    assert "1 failed, 1 passed" in result.details[0]
    assert result.details[0].endswith("failing: test_double")


def test_testable_reuses_only_a_fresh_report_of_the_same_tests(project: Path) -> None:
    module, tests = project / "little.py", project / "test_little.py"
    fake = PytestReport(
        tests.resolve(),
        1,
        123.0,
        (TestOutcome("test_double", "failed", "boom"),),
        finished=time.time() + 60,
    )
    reused = devops.check_testable(module, tests, report=fake)
    assert not reused.passed  # the (fake, red) report was used: no new run
    assert reused.details[-1].endswith("in 123.0 s; failing: test_double")
    stale = dataclasses.replace(fake, finished=0.0)  # older than the files: run again
    assert devops.check_testable(module, tests, report=stale).passed
    other = dataclasses.replace(fake, target=project / "test_other.py")
    assert devops.check_testable(module, tests, report=other).passed
    with pytest.raises(TypeError, match="must be a PytestReport"):
        devops.check_testable(module, tests, report="green")  # type: ignore[arg-type]


def test_run_pytest_report_records_when_it_finished(project: Path) -> None:
    before = time.time()
    report = devops.run_pytest(project / "test_little.py")
    assert before <= report.finished <= time.time()


def test_testable_needs_existing_python_files(tmp_path: Path, project: Path) -> None:
    with pytest.raises(FileNotFoundError):
        devops.check_testable(tmp_path / "nope.py", None)
    bad = write(tmp_path, "bad.py", "def f(:\n")
    with pytest.raises(ValueError, match="not valid Python"):
        devops.check_testable(bad, None)


# ---------------------------------------------------------------------------------------------
# maintainability
# ---------------------------------------------------------------------------------------------


def rules(code: str, **kwargs: int) -> list[tuple[int, str]]:
    issues = devops.maintainability_issues(textwrap.dedent(code), **kwargs)
    return [(issue.line, issue.rule) for issue in issues]


def test_clean_code_has_no_issues() -> None:
    code = '''
    """Docstring."""
    import math

    SEED = 42
    CONFIG = {"test_size": 0.25, "sizes": (1, 2, 3)}
    NAME: str = "x"


    def f(x):
        """Use the configuration."""
        return x[0] + x[-1] * CONFIG["test_size"] + math.pi + True


    class Thing:
        """Classes are definitions, not code on import."""


    if __name__ == "__main__":
        f([0, 1])
    '''
    assert rules(code) == []


def test_each_rule_is_found_with_its_line() -> None:
    code = """
    import math

    X = math.sqrt(4)
    data = [1, 2]
    print(data)


    def g(x):
        return x * 0.25
    """
    assert rules(code) == [
        (4, "code on import"),  # upper-case, but not a literal: computed on import
        (4, "magic number"),
        (5, "code on import"),
        (5, "magic number"),  # the 2 (1 is allowed)
        (6, "code on import"),
        (9, "no docstring"),
        (10, "magic number"),
    ]


def test_long_functions_are_found() -> None:
    body = "\n".join(f"    a{i} = {i % 2}" for i in range(6))
    code = f'def long():\n    """Six assignments."""\n{body}\n    return a0\n'
    assert devops.maintainability_issues(code, max_function_lines=9) == []
    found = devops.maintainability_issues(code, max_function_lines=8)
    assert found == [
        MaintainabilityIssue(
            1, "long function", "long() has 9 lines (at most 8); split it into smaller functions"
        )
    ]
    assert str(found[0]).startswith("line 1: long() has 9 lines")


def test_maintainability_reads_functions_and_files(tmp_path: Path) -> None:
    def with_magic(x):
        return x * 1000

    issues = devops.maintainability_issues(with_magic)
    assert [(i.line, i.rule) for i in issues] == [(1, "no docstring"), (2, "magic number")]
    assert "the number 1000" in issues[1].message
    path = write(tmp_path, "m.py", "y = 3\n")
    assert [i.rule for i in devops.maintainability_issues(path)] == [
        "code on import",
        "magic number",
    ]


@pytest.mark.parametrize(
    ("code", "kwargs", "error", "message"),
    [
        (3, {}, TypeError, "Give a pathlib.Path"),
        ("def f(:", {}, ValueError, "not valid Python"),
        ("x = 1", {"max_function_lines": 0}, ValueError, "at least 1"),
        ("x = 1", {"max_function_lines": 2.5}, TypeError, "must be an integer"),
        (print, {}, ValueError, "Cannot read the source"),
    ],
)
def test_maintainability_rejects_bad_input(
    code: object, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        devops.maintainability_issues(code, **kwargs)  # type: ignore[arg-type]


def test_check_maintainable_summarises_by_rule() -> None:
    code = "a = 5\nb = 6\n\ndef f():\n    return 7\n"
    result = devops.check_maintainable(code)
    assert not result.passed
    assert result.details[0].startswith("2 x code on import (line 1, 2), e.g. `a = 5` runs")
    assert result.details[1].startswith("3 x magic number (line 1, 2, 5), e.g. the number 5")
    assert result.details[2].startswith("1 x no docstring (line 4)")


def test_check_maintainable_passes_clean_code(project: Path) -> None:
    result = devops.check_maintainable(project / "little.py")
    assert result.passed
    assert result.details[1] == "2 functions, all with docstrings, the longest 3 lines (at most 20)"


# ---------------------------------------------------------------------------------------------
# scorecard
# ---------------------------------------------------------------------------------------------


def test_scorecard_puts_versions_side_by_side() -> None:
    ok = [PropertyCheck(p, True) for p in devops.MLOPS_PROPERTIES]
    partial = [PropertyCheck("reproducible", True), PropertyCheck("testable", False)]
    card = devops.scorecard({"good": ok, "partial": partial})
    assert list(card.index) == [*devops.MLOPS_PROPERTIES, "passed"]
    assert card["good"].tolist() == ["\u2714 pass"] * 4 + ["4 of 4"]
    assert card["partial"].tolist() == ["\u2714 pass", "", "\u2718 fail", "", "1 of 2"]


@pytest.mark.parametrize(
    ("versions", "error", "message"),
    [
        ({}, TypeError, "non-empty dict"),
        ({"v": PropertyCheck("testable", True)}, TypeError, "list of PropertyCheck"),
        ({"v": ["testable"]}, TypeError, "is not a PropertyCheck"),
        ({"v": [PropertyCheck("fast", True)]}, ValueError, "unknown property"),
        (
            {"v": [PropertyCheck("testable", True), PropertyCheck("testable", False)]},
            ValueError,
            "twice",
        ),
    ],
)
def test_scorecard_rejects_bad_input(
    versions: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        devops.scorecard(versions)  # type: ignore[arg-type]


def test_property_check_prints_its_verdict_and_details() -> None:
    result = PropertyCheck("trackable", True, ("run abc", "3 parameters"))
    assert str(result) == "\u2714 trackable: passes\n    run abc\n    3 parameters"
    assert repr(result) == str(result)
