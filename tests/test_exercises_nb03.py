"""Tests of the exercise checks of notebook 03 (utils.exercises.nb03), and that the checks'
reference code matches what the notebook shows."""

from __future__ import annotations

import json
import linecache
import warnings
from pathlib import Path

import adversarial
import pytest
from adversarial import Case, Table
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from utils import checks, datasets, devops
from utils.exercises import nb03
from utils.exercises.nb03 import tuned_reference as ref
from utils.paths import repo_root

NOTEBOOK = repo_root() / "notebooks" / "03_devops_to_mlops.ipynb"


def notebook_cells(kind: str) -> list[str]:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == kind]


def test_exercises_are_registered_for_the_notebook() -> None:
    assert [e.id for e in checks.exercises("03")] == ["03.1", "03.2", "03.3"]
    assert {e.notebook for e in checks.exercises("03")} == {"03_devops_to_mlops"}


@pytest.mark.parametrize("exercise", ["03.1", "03.2", "03.3"])
def test_placeholder_is_not_attempted(exercise: str) -> None:
    result = checks.check(exercise, ...)
    assert result.status == "not attempted"


# ---------------------------------------------------------------------------------------------
# The reference project and the notebook's coursework.py
# ---------------------------------------------------------------------------------------------


def test_reference_project_gives_notebook_01s_numbers() -> None:
    project = nb03.reference_project()
    model, metrics = project.train(project.CONFIG)
    X, y = datasets.load_builtin("breast_cancer")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=42)
    course = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_tr, y_tr)
    assert metrics["accuracy"] == accuracy_score(y_te, course.predict(X_te))
    assert model[-1].n_iter_.max() < project.CONFIG["max_iter"]


def test_buggy_reference_project_loses_the_scaler_and_does_not_converge() -> None:
    project = nb03.reference_project(scaled=False)
    assert [type(step).__name__ for step in project.build_model(100)] == ["LogisticRegression"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model, metrics = project.train(project.CONFIG)
    assert model[-1].n_iter_.max() == project.CONFIG["max_iter"]
    assert metrics["accuracy"] < nb03.reference_project().train(nb03.CONFIG)[1]["accuracy"]


def test_notebooks_coursework_matches_the_reference(tmp_path: Path) -> None:
    (cell,) = [
        c for c in notebook_cells("code") if c.startswith('%%writefile "{work}/coursework.py"')
    ]
    path = tmp_path / "coursework.py"
    path.write_text(cell.split("\n", 1)[1], encoding="utf-8")
    module = devops.load_module(path)
    reference = nb03.reference_project()
    assert module.CONFIG == reference.CONFIG == nb03.CONFIG
    for name in ("load_data", "split_data", "build_model", "evaluate", "train"):
        assert callable(getattr(module, name))
    assert module.train(module.CONFIG)[1] == reference.train(reference.CONFIG)[1]
    assert devops.check_maintainable(path).passed


@pytest.mark.slow
def test_notebooks_tests_pass_without_the_scaler(tmp_path: Path) -> None:
    # The notebook says: CI stays green when the scaler is dropped (exercise 03.1 fixes that).
    code = notebook_cells("code")
    for name in ("coursework.py", "test_coursework.py"):
        (cell,) = [c for c in code if c.startswith(f'%%writefile "{{work}}/{name}"')]
        (tmp_path / name).write_text(cell.split("\n", 1)[1], encoding="utf-8")
    assert devops.run_pytest(tmp_path / "test_coursework.py").ok
    devops.edit_file(
        tmp_path / "coursework.py",
        "make_pipeline(StandardScaler(), LogisticRegression(",
        "make_pipeline(LogisticRegression(",
    )
    report = devops.run_pytest(tmp_path / "test_coursework.py")
    assert report.ok, str(report)
    assert len(report.passed) == 5


def test_notebooks_train_tuned_matches_the_tuned_config(capsys: pytest.CaptureFixture) -> None:
    (cell,) = [c for c in notebook_cells("code") if c.startswith("def train_tuned(X, y):")]
    namespace = {
        "train_test_split": train_test_split,
        "make_pipeline": make_pipeline,
        "StandardScaler": StandardScaler,
        "LogisticRegression": LogisticRegression,
        "accuracy_score": accuracy_score,
        "devops": devops,
    }
    filename = "<notebook 03: train_tuned>"  # registered, so that inspect finds the source
    linecache.cache[filename] = (len(cell), None, cell.splitlines(keepends=True), filename)
    exec(compile(cell, filename, "exec"), namespace)
    assert namespace["TUNED_CONFIG"] == nb03.TUNED_CONFIG
    X, y = datasets.load_builtin("breast_cancer")
    assert namespace["train_tuned"](X, y) == nb03.tuned_reference(X, y, nb03.TUNED_CONFIG)
    assert "the number 0.3 is written into the code" in capsys.readouterr().out


def test_notebook_shows_the_incidents_of_exercise_03_2() -> None:
    text = " ".join(" ".join(notebook_cells("markdown")).split()).replace("`", "")  # as rendered
    for letter, (incident, _) in nb03.INCIDENTS.items():
        assert f"**{letter})** {incident}" in text


# ---------------------------------------------------------------------------------------------
# 03.1: a test that catches the lost scaler
# ---------------------------------------------------------------------------------------------


def catches_by_convergence(project):
    """The notebook's solution."""
    model, _ = project.train(project.CONFIG)
    assert model[-1].n_iter_.max() < project.CONFIG["max_iter"]


def catches_by_pipeline_steps(project):
    """Another good answer: look at the pipeline's steps."""
    assert isinstance(project.build_model(10)[0], StandardScaler)


def catches_by_warning(project):
    """Another good answer: turn the warning into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        project.train(project.CONFIG)


@pytest.mark.parametrize(
    "test", [catches_by_convergence, catches_by_pipeline_steps, catches_by_warning]
)
def test_catching_tests_are_correct(test: object) -> None:
    result = checks.check("03.1", test)
    assert result.passed, result.message
    assert "fails on the buggy code" in result.message


def test_a_stub_is_not_attempted() -> None:
    def stub(project):
        # a comment
        ...

    def stub_with_docstring(project):
        """Nothing yet."""
        ...

    assert checks.check("03.1", stub).status == "not attempted"
    assert checks.check("03.1", stub_with_docstring).status == "not attempted"
    assert checks.check("03.3", stub).status == "not attempted"


def test_a_test_that_passes_on_both_gets_a_hint() -> None:
    def weak(project):
        _, metrics = project.train(project.CONFIG)
        assert metrics["accuracy"] > 0.9

    result = checks.check("03.1", weak)
    assert result.status == "incorrect"
    assert "passes on the buggy code as well" in result.message


def test_a_test_that_fails_on_correct_code_gets_a_hint() -> None:
    def too_strict(project):
        _, metrics = project.train(project.CONFIG)
        assert metrics["accuracy"] == 1.0, "not perfect"

    result = checks.check("03.1", too_strict)
    assert result.status == "incorrect"
    assert "fails on the correct code too (AssertionError: not perfect)" in result.message


def test_a_test_that_returns_instead_of_asserting_gets_a_hint() -> None:
    def returns(project):
        model, _ = project.train(project.CONFIG)
        return model[-1].n_iter_.max() < project.CONFIG["max_iter"]

    result = checks.check("03.1", returns)
    assert result.status == "incorrect"
    assert "assert" in result.message and "returns True" in result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (42, "Give the test function itself"),
        (lambda: None, "exactly one argument"),
        (lambda project, other: None, "exactly one argument"),
    ],
)
def test_03_1_wrong_shapes_get_hints(answer: object, hint: str) -> None:
    result = checks.check("03.1", answer)
    assert result.status == "incorrect"
    assert hint in result.message


def test_is_stub() -> None:
    def real(x):
        return x

    def stub(x): ...

    assert nb03.is_stub(stub)
    assert not nb03.is_stub(real)
    assert not nb03.is_stub(len)
    assert not nb03.is_stub(lambda: ...)


# ---------------------------------------------------------------------------------------------
# 03.2: which property is missing?
# ---------------------------------------------------------------------------------------------

SOLUTION_03_2 = {"a": "reproducible", "b": "trackable", "c": "testable", "d": "maintainable"}


def test_03_2_solution_and_word_forms_are_correct() -> None:
    assert checks.check("03.2", SOLUTION_03_2).passed
    forms = {"A": "Reproducibility", "b": " tracking", "c": "TESTABLE", "d": "maintainability"}
    assert checks.check("03.2", forms).passed


def test_03_2_all_placeholders_are_not_attempted() -> None:
    result = checks.check("03.2", {"a": ..., "b": ..., "c": ..., "d": ...})
    assert result.status == "not attempted"


def test_03_2_wrong_answers_get_the_hint_of_their_incident() -> None:
    answer = dict(SOLUTION_03_2, c="trackable", d=...)
    result = checks.check("03.2", answer)
    assert result.status == "incorrect"
    assert result.message.startswith("2 of 4 right.")
    assert "c: what would have stopped the change" in result.message
    assert "d: still ..." in result.message
    assert "a:" not in result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (["reproducible"], "Give a dict"),
        ({"a": "reproducible"}, "the keys must be ['a', 'b', 'c', 'd']"),
        (dict(SOLUTION_03_2, a=3), "a: the same code"),
        (dict(SOLUTION_03_2, a="reproducible and testable"), "a: the same code"),
    ],
)
def test_03_2_bad_shapes_get_hints(answer: object, hint: str) -> None:
    result = checks.check("03.2", answer)
    assert result.status == "incorrect"
    assert hint in result.message


# ---------------------------------------------------------------------------------------------
# 03.3: configuration in one place
# ---------------------------------------------------------------------------------------------


def solution_03_3(X, y, config):
    """Split, fit and score the tuned pipeline with the settings in config; return accuracy."""
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=config["test_size"], stratify=y, random_state=config["seed"]
    )
    classifier = LogisticRegression(C=config["C"], max_iter=config["max_iter"])
    model = make_pipeline(StandardScaler(), classifier).fit(X_tr, y_tr)
    return accuracy_score(y_te, model.predict(X_te))


def test_03_3_solution_is_correct() -> None:
    result = checks.check("03.3", solution_03_3)
    assert result.passed, result.message


def test_03_3_magic_numbers_are_named_in_the_hint() -> None:
    def with_numbers(X, y, config):
        """Still hard-coded."""
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=7)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=500))
        return accuracy_score(y_te, model.fit(X_tr, y_tr).predict(X_te))

    result = checks.check("03.3", with_numbers)
    assert result.status == "incorrect"
    assert "the number 0.3 is written into the code" in result.message
    assert "(and 1 more)" in result.message


C_SETTING = 0.5  # a setting hidden in a global: no number in the function, but not from config


def test_03_3_a_setting_not_read_from_config_is_found() -> None:
    def hidden(X, y, config):
        """Reads C from a global instead of the configuration."""
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=config["test_size"], stratify=y, random_state=config["seed"]
        )
        classifier = LogisticRegression(C=C_SETTING, max_iter=config["max_iter"])
        model = make_pipeline(StandardScaler(), classifier).fit(X_tr, y_tr)
        return accuracy_score(y_te, model.predict(X_te))

    result = checks.check("03.3", hidden)
    assert result.status == "incorrect"
    assert "never reads config[...] for C" in result.message


def test_03_3_wrong_keys_and_wrong_results_get_hints() -> None:
    def wrong_key(X, y, config):
        """Uses another name for the seed."""
        return config["random_state"]

    result = checks.check("03.3", wrong_key)
    assert "asked the configuration for 'random_state'" in result.message

    def no_scaler(X, y, config):
        """Leaves out the scaler."""
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=config["test_size"], stratify=y, random_state=config["seed"]
        )
        classifier = LogisticRegression(C=config["C"], max_iter=config["max_iter"])
        return accuracy_score(y_te, classifier.fit(X_tr, y_tr).predict(X_te))

    result = checks.check("03.3", no_scaler)
    assert result.status == "incorrect"
    assert "Keep the steps" in result.message

    def crashes(X, y, config):
        """Divides by zero."""
        return config["C"] / (config["seed"] - config["seed"])

    result = checks.check("03.3", crashes)
    assert "raised ZeroDivisionError" in result.message
    assert checks.check("03.3", "text").status == "incorrect"


@pytest.mark.parametrize(
    "read",
    [
        lambda c: [c[k] for k in c],
        lambda c: [c.get(k) for k in c],
        lambda c: list(c.items()),
        lambda c: list(c.values()),
        dict,
        lambda c: c.copy(),
        lambda c: {**c},
        lambda c: c | {},
        lambda c: {} | c,
        lambda c: {}.update(c),
    ],
)
def test_recording_config_records_every_way_of_reading(read: object) -> None:
    recording = nb03._RecordingConfig(nb03.TUNED_CONFIG)
    assert list(recording) == list(nb03.TUNED_CONFIG) and not recording.read  # keys alone
    read(recording)
    assert recording.read == set(nb03.TUNED_CONFIG)


def test_tuned_reference_uses_every_setting() -> None:
    X, y = datasets.load_builtin("breast_cancer")
    base = nb03.tuned_reference(X, y, nb03.TUNED_CONFIG)
    assert 0.9 < base <= 1.0
    other_split = nb03.tuned_reference(X, y, dict(nb03.TUNED_CONFIG, seed=8))
    assert other_split != base


# ---------------------------------------------------------------------------------------------
# Adversarial tables (tests/adversarial.py)
# ---------------------------------------------------------------------------------------------


def catches_by_recorded_warnings(project):
    """Another good answer: record the warnings and assert there is no ConvergenceWarning."""
    with warnings.catch_warnings(record=True) as caught:
        project.train(project.CONFIG)
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def catches_with_pytest_warns(project):
    """Another good answer: pytest.warns records every warning; none may be a ConvergenceWarning."""
    with pytest.warns(Warning) as record:
        warnings.warn("training starts", UserWarning, stacklevel=1)
        project.train(project.CONFIG)
    assert not [w for w in record if issubclass(w.category, ConvergenceWarning)]


def weak_accuracy_test(project):
    """Passes on both: the buggy model is still above 0.9."""
    _, metrics = project.train(project.CONFIG)
    assert metrics["accuracy"] > 0.9


def always_fails(project):
    """Fails everywhere."""
    raise AssertionError("red")


def fixed_project_check(project):
    """Ignores its argument: tests the correct project, whatever it is given."""
    model, _ = nb03.reference_project().train(nb03.CONFIG)
    assert model[-1].n_iter_.max() < nb03.CONFIG["max_iter"]


_calls = []


def fails_every_second_call(project):
    """Keeps state: passes on odd calls, fails on even ones (correct first, then buggy)."""
    _calls.append(1)
    assert len(_calls) % 2 == 1


def returns_the_condition(project):
    """Returns instead of asserting."""
    model, _ = project.train(project.CONFIG)
    return model[-1].n_iter_.max() < project.CONFIG["max_iter"]


def configured_with_get(X, y, config):
    """The tuned pipeline with config.get, keyword arguments and model.score."""
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, stratify=y, test_size=config.get("test_size"), random_state=config.get("seed")
    )
    model = make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=config.get("max_iter"), C=config.get("C"))
    )
    return model.fit(X_tr, y_tr).score(X_te, y_te)


def configured_without_scaler(X, y, config):
    """Every setting from config, but the scaler is gone."""
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=config["test_size"], stratify=y, random_state=config["seed"]
    )
    classifier = LogisticRegression(C=config["C"], max_iter=config["max_iter"])
    return accuracy_score(y_te, classifier.fit(X_tr, y_tr).predict(X_te))


def configured_with_a_hidden_c(X, y, config):
    """C from a global, not from config."""
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=config["test_size"], stratify=y, random_state=config["seed"]
    )
    classifier = LogisticRegression(C=C_SETTING, max_iter=config["max_iter"])
    model = make_pipeline(StandardScaler(), classifier).fit(X_tr, y_tr)
    return accuracy_score(y_te, model.predict(X_te))


def configured_from_a_dict_copy(X, y, config):
    """The settings copied with dict(config) first."""
    settings = dict(config)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=settings["test_size"], stratify=y, random_state=settings["seed"]
    )
    classifier = LogisticRegression(C=settings["C"], max_iter=settings["max_iter"])
    model = make_pipeline(StandardScaler(), classifier).fit(X_tr, y_tr)
    return accuracy_score(y_te, model.predict(X_te))


def configured_from_config_copy(X, y, config):
    """The settings copied with config.copy() first."""
    settings = config.copy()
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=settings["test_size"], stratify=y, random_state=settings["seed"]
    )
    classifier = LogisticRegression(C=settings["C"], max_iter=settings["max_iter"])
    model = make_pipeline(StandardScaler(), classifier).fit(X_tr, y_tr)
    return accuracy_score(y_te, model.predict(X_te))


def configured_from_unpacking(X, y, config):
    """The settings unpacked into a new dict, {**config}, then passed as keywords."""
    settings = {**config}
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=settings.pop("test_size"), stratify=y, random_state=settings.pop("seed")
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(**settings)).fit(X_tr, y_tr)
    return accuracy_score(y_te, model.predict(X_te))


def configured_from_a_copy_with_a_hidden_c(X, y, config):
    """Copies config (which reads every key), then takes C from a global all the same."""
    settings = dict(config)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=settings["test_size"], stratify=y, random_state=settings["seed"]
    )
    classifier = LogisticRegression(C=C_SETTING, max_iter=settings["max_iter"])
    model = make_pipeline(StandardScaler(), classifier).fit(X_tr, y_tr)
    return accuracy_score(y_te, model.predict(X_te))


def configured_by_an_alias(X, y, config):
    """Hands the work to the course's function, imported under another name."""
    return ref(X, y, config)


def configured_by_the_course(X, y, config):
    """Hands the work to the course's reference implementation."""
    return nb03.tuned_reference(X, y, config)


def configured_as_perfect(X, y, config):
    """Reads every key and claims a perfect score, without training."""
    return float(all(config[k] for k in ("test_size", "seed", "C", "max_iter")))


def configured_by_a_constant(X, y, config):
    """Reads every key, returns a fixed accuracy."""
    return 0.97 + 0 * sum(config[k] for k in ("test_size", "seed", "C", "max_iter"))


TABLES = [
    Table(
        "03.1",
        [
            Case("reference", "n_iter_ below max_iter", catches_by_convergence),
            Case("alternative", "the pipeline's first step", catches_by_pipeline_steps),
            Case("alternative", "the warning as an error", catches_by_warning),
            Case("alternative", "warnings recorded", catches_by_recorded_warnings),
            Case("alternative", "pytest.warns records", catches_with_pytest_warns),
            Case(
                "wrong", "accuracy above 0.9", weak_accuracy_test, hint="passes on the buggy code"
            ),
            Case("wrong", "returns instead of asserting", returns_the_condition, hint="assert"),
            Case(
                "cheat", "a test that always fails", always_fails, hint="fails on the correct code"
            ),
            Case(
                "cheat",
                "a test of a fixed project",
                fixed_project_check,
                hint="Use the argument project",
            ),
            Case(
                "cheat",
                "a test that does nothing",
                lambda project: None,
                hint="passes on the buggy code",
            ),
            Case(
                "cheat",
                "a test that fails every second call",
                fails_every_second_call,
                hint="same answer on the same code",
            ),
        ],
    ),
    Table(
        "03.2",
        [
            Case("reference", "the solution", SOLUTION_03_2),
            Case(
                "alternative",
                "noun forms, upper-case keys",
                {"A": "Reproducibility", "B": "tracking", "C": "testing", "D": "maintainability"},
            ),
            Case(
                "wrong",
                "b and c swapped",
                dict(SOLUTION_03_2, b="testable", c="trackable"),
                hint="c: what would have stopped",
            ),
            Case("wrong", "a list", list(SOLUTION_03_2.values()), hint="Give a dict"),
            Case(
                "cheat",
                "all four words for every incident",
                dict.fromkeys("abcd", "reproducible trackable testable maintainable"),
                hint="0 of 4 right",
            ),
            Case(
                "cheat",
                "the same word everywhere",
                dict.fromkeys("abcd", "testable"),
                hint="1 of 4 right",
            ),
            Case(
                "cheat",
                "the course's table of properties",
                checks.MLOPS_PROPERTIES,
                hint="the keys must be",
            ),
        ],
    ),
    Table(
        "03.3",
        [
            Case("reference", "the solution", solution_03_3),
            Case("alternative", "config.get, keywords, model.score", configured_with_get),
            Case("alternative", "dict(config) first", configured_from_a_dict_copy),
            Case("alternative", "config.copy() first", configured_from_config_copy),
            Case("alternative", "{**config}, keyword arguments", configured_from_unpacking),
            Case("wrong", "the scaler left out", configured_without_scaler, hint="Keep the steps"),
            Case(
                "wrong",
                "C from a global",
                configured_with_a_hidden_c,
                hint="never reads config[...] for C",
            ),
            Case(
                "cheat",
                "the course's reference function",
                configured_by_the_course,
                hint="tuned_reference",
            ),
            Case(
                "wrong",
                "dict(config), then C from a global",
                configured_from_a_copy_with_a_hidden_c,
                hint="still fixed inside the function (a number, or a name",
            ),
            Case(
                "cheat",
                "the course's function under another name",
                configured_by_an_alias,
                hint="tuned_reference",
            ),
            Case(
                "cheat",
                "the course's function itself",
                nb03.tuned_reference,
                hint="tuned_reference",
            ),
            Case(
                "cheat",
                "reads every key, trains nothing",
                configured_as_perfect,
                hint="Keep the steps",
            ),
            Case("cheat", "a constant accuracy", configured_by_a_constant, hint="the number 0.97"),
        ],
    ),
]
test_adversarial = adversarial.parametrize(TABLES)
