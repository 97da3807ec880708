"""Tests of utils.checks: every exercise check says "not attempted", gives a hint, and passes."""

from __future__ import annotations

import uuid
from pathlib import Path

import adversarial
import numpy as np
import pytest
from adversarial import Case, Table

from utils import checks, datasets, tracking

# ---------------------------------------------------------------------------------------------
# The framework
# ---------------------------------------------------------------------------------------------


def test_every_exercise_is_listed_with_its_notebook() -> None:
    ids = [e.id for e in checks.exercises()]
    assert ids[:5] == ["00.1", "00.2", "01.1", "01.2", "01.3"]
    notebooks = {p.stem for p in (Path(__file__).parent.parent / "notebooks").glob("*.ipynb")}
    for exercise in checks.exercises():  # every notebook's checks, from utils/exercises too
        assert exercise.notebook in notebooks, exercise
        assert exercise.id[:2] == exercise.notebook[:2]
    assert [e.id for e in checks.exercises("01_linear_coursework")] == ["01.1", "01.2", "01.3"]
    assert [e.id for e in checks.exercises("00")] == ["00.1", "00.2"]
    assert checks.exercises("99") == []


@pytest.mark.parametrize("exercise", [e.id for e in checks.exercises()])
@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholder_is_not_attempted_for_every_exercise(
    exercise: str, placeholder: object
) -> None:
    (info,) = [e for e in checks.exercises() if e.id == exercise]
    context = {name: object() for name in info.needs}  # not looked at for a placeholder
    result = checks.check(exercise, placeholder, **context)
    assert result.status == "not attempted"
    assert not result.passed
    assert "..." in result.message


def test_result_displays_as_one_line_and_as_html() -> None:
    result = checks.check("00.1", ...)
    text = repr(result)
    assert "\n" not in text
    assert text.startswith("\u2026 Exercise 00.1 (The four properties of MLOps): not attempted.")
    assert str(result).startswith("Exercise 00.1")
    html = result._repr_html_()
    assert "<b>Exercise 00.1</b>" in html
    assert "not attempted" in html


def test_html_escapes_the_message() -> None:
    result = checks.CheckResult("x", "<t>", "incorrect", "a < b & c")
    html = result._repr_html_()
    assert "&lt;t&gt;" in html and "a &lt; b &amp; c" in html


def test_unknown_exercise_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match=r"No exercise '9.9'. Known exercises: 00.1, 00.2"):
        checks.check("9.9", 1)


def test_exercise_id_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="exercise_id must be a string"):
        checks.check(1.1, 1)  # type: ignore[arg-type]


def test_missing_or_unexpected_context_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"needs the keyword arguments \['y_true', 'y_pred'\]"):
        checks.check("01.2", 0.9, y_true=[0, 1])
    with pytest.raises(TypeError, match=r"unexpected \['run_id'\]"):
        checks.check("01.1", 0.3, run_id="abc")


def test_register_adds_a_check_that_check_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "_REGISTRY", dict(checks._REGISTRY))

    @checks.register("99.1", "99_test", "Double it", needs=("x",))
    def _double(answer: object, *, x: int) -> tuple[checks.Status, str]:
        return (checks.CORRECT, "yes") if answer == 2 * x else (checks.INCORRECT, "double x")

    assert checks.check("99.1", 6, x=3).passed
    assert checks.check("99.1", 5, x=3).message == "double x"
    assert checks.check("99.1", ..., x=3).status == "not attempted"
    assert [e.id for e in checks.exercises("99")] == ["99.1"]


def test_register_rejects_bad_and_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="look like '01.2'"):
        checks.register("1.1", "01_x", "t")
    with pytest.raises(ValueError, match="registered already"):
        checks.register("01.1", "01_linear_coursework", "again")


def test_is_placeholder() -> None:
    assert checks.is_placeholder(...)
    assert checks.is_placeholder(None)
    assert not checks.is_placeholder(0)
    assert not checks.is_placeholder([])


# ---------------------------------------------------------------------------------------------
# 00.1: the four properties
# ---------------------------------------------------------------------------------------------


def test_00_1_correct_in_any_order_and_case() -> None:
    result = checks.check("00.1", ["Testable", "reproducible", "maintainable ", "trackable"])
    assert result.passed and result.status == "correct"


def test_00_1_accepts_noun_forms_and_a_set() -> None:
    answer = {"reproducibility", "tracking", "testing", "maintainability"}
    assert checks.check("00.1", answer).passed


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("reproducible, trackable", "You gave one string"),
        (42, "not a int"),
        ({"reproducible": 1}, "not a dict"),
        (["reproducible", 2], "word in quotes"),
        (
            ["reproducible", "trackable", "testable", "scalable"],
            "Not in the definition: 'scalable'",
        ),
        (["reproducible", "trackable"], "2 of the 4 properties are right"),
    ],
)
def test_00_1_wrong_answers_get_a_hint(answer: object, hint: str) -> None:
    result = checks.check("00.1", answer)
    assert result.status == "incorrect" and not result.passed
    assert hint in result.message


# ---------------------------------------------------------------------------------------------
# 00.2: read a run's parameters back (from the test session's MLflow server)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def logged_run():
    """A run with two parameters and a metric, on the tracking server of the test session, as
    notebook 00 logs it on the course's server (in an experiment of its own, so that the active
    experiment of the process stays as it was).

    Module-scoped: the checks only read it.
    """
    import mlflow

    tracking.connect(quiet=True)
    experiment = mlflow.create_experiment(f"checks-test-{uuid.uuid4().hex[:10]}")
    with mlflow.start_run(experiment_id=experiment) as run:
        mlflow.log_params({"greeting": "hello", "answer": 42})
        mlflow.log_metric("score", 0.5)
    return mlflow.get_run(run.info.run_id)


def test_00_2_params_read_from_the_server_are_correct(logged_run) -> None:
    import mlflow

    run_id = logged_run.info.run_id
    result = checks.check("00.2", mlflow.get_run(run_id).data.params, run_id=run_id)
    assert result.passed
    assert "string" in result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("run", "That is the whole run"),
        ("data", "Its parameters are in .params"),
        ("greeting", "Your answer is a str"),
        ({"score": 0.5}, "Those are the run's metrics"),
        ({"greeting": "hello", "answer": 42}, "stores every parameter as a string"),
        ({"greeting": "hello"}, "The parameter names differ"),
        ({"greeting": "hi", "answer": "42"}, "some values differ"),
    ],
)
def test_00_2_wrong_answers_get_specific_hints(logged_run, answer: object, hint: str) -> None:
    if answer == "run":
        answer = logged_run
    elif answer == "data":
        answer = logged_run.data
    result = checks.check("00.2", answer, run_id=logged_run.info.run_id)
    assert result.status == "incorrect"
    assert hint in result.message


# ---------------------------------------------------------------------------------------------
# 01.1: the share of malignant tumours
# ---------------------------------------------------------------------------------------------


def test_malignant_label_agrees_with_the_dataset_description() -> None:
    assert checks.malignant_label() == 0
    assert "0 = malignant" in datasets.describe_builtin("breast_cancer")["target"]


@pytest.fixture(scope="module")
def breast_cancer_labels():
    _, y = datasets.load_builtin("breast_cancer")
    return y


def test_01_1_correct_exact_and_rounded(breast_cancer_labels) -> None:
    y = breast_cancer_labels
    share = float((y == 0).mean())
    assert checks.check("01.1", share).passed
    assert checks.check("01.1", round(share, 2)).passed
    assert checks.check("01.1", np.float64(share)).passed
    result = checks.check("01.1", share)
    assert f"{int((y == 0).sum())} of {len(y)}" in result.message


def test_01_1_wrong_answers_get_specific_hints(breast_cancer_labels) -> None:
    y = breast_cancer_labels
    share = float((y == 0).mean())
    n_malignant = int((y == 0).sum())
    cases = [
        (1 - share, "share of benign tumours"),
        (100 * share, "not a percentage"),
        (n_malignant, "count of tumours"),
        (len(y) - n_malignant, "count of tumours"),
        ("0.37", "Your answer is a str"),
        (True, "Your answer is a bool"),
        (float("nan"), "single number"),
        (-0.5, "between 0 and 1"),
        (0.5, "Count the malignant labels"),
    ]
    for answer, hint in cases:
        result = checks.check("01.1", answer)
        assert result.status == "incorrect", answer
        assert hint in result.message, (answer, result.message)


# ---------------------------------------------------------------------------------------------
# 01.2: recall on malignant tumours (pos_label)
# ---------------------------------------------------------------------------------------------

# Ten test tumours; 0 = malignant. Of 4 malignant the model finds 3 (recall 0.75); it calls
# 5 tumours malignant, 3 rightly (precision 0.6); of 6 benign it keeps 4 (benign recall 2/3);
# 7 of 10 right (accuracy 0.7).
Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
Y_PRED = np.array([0, 0, 0, 1, 0, 0, 1, 1, 1, 1])


def test_01_2_correct() -> None:
    result = checks.check("01.2", 0.75, y_true=Y_TRUE, y_pred=Y_PRED)
    assert result.passed
    assert "75.0%" in result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (2 / 3, "recall of the benign class"),
        (0.6, "That is precision"),
        (0.7, "That is accuracy"),
        (75.0, "not a percentage"),
        ([0.75], "Your answer is a list"),
        (0.9, "pos_label"),
    ],
)
def test_01_2_wrong_answers_get_specific_hints(answer: object, hint: str) -> None:
    result = checks.check("01.2", answer, y_true=Y_TRUE, y_pred=Y_PRED)
    assert result.status == "incorrect"
    assert hint in result.message


def test_01_2_rejects_labels_that_are_not_the_breast_cancer_coding() -> None:
    with pytest.raises(ValueError, match="labels 0 and 1"):
        checks.check("01.2", 0.5, y_true=[0, 2], y_pred=[0, 1])


# ---------------------------------------------------------------------------------------------
# 01.3: a reproducible run (the answer is a function of the seed)
# ---------------------------------------------------------------------------------------------


def test_01_3_a_seeded_number_that_is_not_the_accuracy_is_refused() -> None:
    def score(seed: int) -> float:
        return float(np.random.default_rng(seed).uniform(0.9, 1.0))

    result = checks.check("01.3", score)
    assert result.status == "incorrect"
    assert "pipeline of section 4" in result.message


def test_01_3_the_template_function_is_not_attempted() -> None:
    def train_and_score(seed: int) -> float:
        return ...  # type: ignore[return-value] -- the exercise's template

    result = checks.check("01.3", train_and_score)
    assert result.status == "not attempted"
    assert "still returns ..." in result.message


def test_01_3_unseeded_randomness_is_caught() -> None:
    rng = np.random.default_rng(0)

    def score(seed: int) -> float:
        return float(rng.uniform(0.9, 1.0))  # ignores the seed: a new number every call

    result = checks.check("01.3", score)
    assert result.status == "incorrect"
    assert "Calls with seed=0 gave" in result.message
    assert "random_state=seed" in result.message


def test_01_3_a_function_that_ignores_its_seed_is_caught() -> None:
    result = checks.check("01.3", lambda seed: 0.95)
    assert result.status == "incorrect"
    assert "Every seed gave 0.9500: your function ignores its seed" in result.message


def _no_return(seed: int) -> None:
    accuracy = checks.reproducible_reference(seed)  # computed, but not returned
    del accuracy


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (0.95, "Give the function itself"),
        (_no_return, "returns None"),
        (lambda seed: "0.9", "returns a str"),
        (lambda seed: 95.0, "between 0 and 1"),
        (lambda: 0.9, "raised TypeError"),
        (lambda seed: 1 / 0, "raised ZeroDivisionError: division by zero"),
    ],
)
def test_01_3_wrong_answers_get_specific_hints(answer: object, hint: str) -> None:
    result = checks.check("01.3", answer)
    assert result.status == "incorrect"
    assert hint in result.message


# ---------------------------------------------------------------------------------------------
# The environment self-check
# ---------------------------------------------------------------------------------------------


def test_package_report_lists_the_course_requirements() -> None:
    report = checks.package_report()
    names = {row.package for row in report}
    assert {"mlflow", "scikit-learn", "pandas", "numpy", "ipywidgets"} <= names
    assert "pytest-xdist" not in names  # the dev extra is left out
    assert "psycopg" not in names  # and so is the classroom extra
    assert all(row.ok and row.installed for row in report)
    sklearn_row = next(row for row in report if row.package == "scikit-learn")
    assert sklearn_row.required.startswith(">=")


def test_package_report_of_an_unknown_distribution_says_how_to_fix() -> None:
    with pytest.raises(ValueError, match="pip install -e ."):
        checks.package_report("no-such-course-package")


def test_is_unwritten_tells_a_placeholder_from_a_written_function() -> None:
    def placeholder(report):
        # Your code here
        ...

    def passes(report):
        pass

    def written(report):
        return report > 1

    assert checks.is_unwritten(placeholder) and checks.is_unwritten(passes)
    assert not checks.is_unwritten(written)
    assert not checks.is_unwritten(len) and not checks.is_unwritten(3)


def test_function_answer_problem_names_what_to_give_and_what_to_write() -> None:
    def placeholder(report): ...

    def written(report):
        return True

    status, message = checks.function_answer_problem(True, "rule", "return True or False")
    assert status == checks.INCORRECT and "Give the rule itself" in message
    assert "not a bool" in message
    status, message = checks.function_answer_problem(placeholder, "rule", "return True or False")
    assert status == checks.NOT_ATTEMPTED
    assert message.startswith("Your rule does nothing yet") and "return True or False" in message
    assert checks.function_answer_problem(written, "rule", "return True or False") is None


# ---------------------------------------------------------------------------------------------
# Adversarial tables (tests/adversarial.py) of 00.1-01.3
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def run_context(logged_run) -> dict[str, str]:
    """00.2: the run id, as notebook 00 passes it (a run on a real MLflow store)."""
    return {"run_id": logged_run.info.run_id}


@pytest.fixture(scope="module")
def recall_context() -> dict[str, object]:
    """01.2: the test labels and predictions of notebook 01 (split with its seed, 42)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = datasets.load_builtin("breast_cancer")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=42)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_tr, y_tr)
    return {"y_true": y_te, "y_pred": model.predict(X_te)}


def _share() -> float:
    _, y = datasets.load_builtin("breast_cancer")
    return float((y == 0).mean())


def _recall(pos_label: int):
    from sklearn.metrics import recall_score

    return lambda c: recall_score(c["y_true"], c["y_pred"], pos_label=pos_label)


def _params(kind: str):
    import mlflow

    def build(context: dict) -> object:
        run = mlflow.MlflowClient().get_run(context["run_id"])
        if kind == "client":
            return {k: str(v) for k, v in run.data.params.items()}
        if kind == "search":
            frame = mlflow.search_runs(
                experiment_ids=[run.info.experiment_id],
                filter_string=f"attributes.run_id = '{run.info.run_id}'",
            )
            return {
                c.removeprefix("params."): frame.loc[0, c]
                for c in frame.columns
                if c.startswith("params.")
            }
        if kind == "metrics":
            return dict(run.data.metrics)
        return mlflow.get_run(context["run_id"]).data.params

    return build


def _seeded_score(seed: int) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = datasets.load_builtin("breast_cancer")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    fitted = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_tr, y_tr)
    return fitted.score(X_te, y_te)  # another API for the same accuracy


def _unseeded_model(seed: int) -> float:
    from sklearn.model_selection import train_test_split
    from sklearn.tree import DecisionTreeClassifier

    X, y = datasets.load_builtin("breast_cancer")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y)
    return DecisionTreeClassifier().fit(X_tr, y_tr).score(X_te, y_te)


def _unwritten(seed):  # noqa: ANN001, ANN202 -- the shape of the exercise cell
    pass


TABLES = [
    Table(
        "00.1",
        [
            Case(
                "reference",
                "the notebook's list",
                ["reproducible", "trackable", "testable", "maintainable"],
            ),
            Case(
                "alternative",
                "nouns in a tuple, mixed case",
                ("Testing", "Reproducibility ", "TRACKING", "maintainability"),
            ),
            Case(
                "wrong",
                "the three pillars",
                ["tools", "processes", "mindset", "value"],
                hint="Not in the definition",
            ),
            Case(
                "wrong",
                "three of four",
                ["reproducible", "trackable", "testable"],
                hint="3 of the 4",
            ),
            Case(
                "wrong",
                "one string",
                "reproducible, trackable, testable, maintainable",
                hint="one string",
            ),
            Case(
                "cheat",
                "every word in one item",
                ["reproducible trackable testable maintainable"],
                hint="one property per item",
            ),
            Case("cheat", "the course's own constant", checks.MLOPS_PROPERTIES, hint="not a dict"),
        ],
    ),
    Table(
        "00.2",
        [
            Case("reference", "mlflow.get_run(run_id).data.params", _params("get_run"), lazy=True),
            Case(
                "alternative", "MlflowClient, copied into a new dict", _params("client"), lazy=True
            ),
            Case("alternative", "mlflow.search_runs, params columns", _params("search"), lazy=True),
            Case("wrong", "the metrics", _params("metrics"), hint="metrics", lazy=True),
            Case(
                "wrong",
                "the whole run",
                lambda c: __import__("mlflow").get_run(c["run_id"]),
                hint="whole run",
                lazy=True,
            ),
            Case(
                "cheat",
                "the logged dict typed again",
                {"greeting": "hello", "answer": 42},
                hint="as a string",
            ),
            Case("cheat", "a constant dict", {"seed": "42"}, hint="names differ"),
        ],
        context="run_context",
    ),
    Table(
        "01.1",
        [
            Case("reference", "(y == 0).mean()", _share()),
            Case("alternative", "rounded, numpy float", np.float64(round(_share(), 3))),
            Case(
                "alternative",
                "from bincount",
                float(np.bincount(datasets.load_builtin("breast_cancer")[1])[0] / 569),
            ),
            Case("wrong", "the benign share", 1 - _share(), hint="benign"),
            Case("wrong", "a percentage", 100 * _share(), hint="percentage"),
            Case("wrong", "a count", 212, hint="count of tumours"),
            Case("cheat", "a constant", 0.5, hint="Count the malignant labels"),
            Case(
                "cheat",
                "the malignant label",
                checks.malignant_label(),
                hint="Count the malignant labels",
            ),
        ],
    ),
    Table(
        "01.2",
        [
            Case("reference", "recall_score(pos_label=0)", _recall(0), lazy=True),
            Case(
                "alternative",
                "counted with numpy",
                lambda c: float(np.mean(c["y_pred"][c["y_true"] == 0] == 0)),
                lazy=True,
            ),
            Case("wrong", "recall of the benign class", _recall(1), hint="pos_label", lazy=True),
            Case(
                "wrong",
                "accuracy",
                lambda c: float(np.mean(c["y_true"] == c["y_pred"])),
                hint="accuracy",
                lazy=True,
            ),
            Case(
                "wrong", "a percentage", lambda c: 100 * _recall(0)(c), hint="percentage", lazy=True
            ),
            Case("cheat", "a perfect score", 1.0, hint="recall_score"),
            Case(
                "cheat",
                "the accuracy the notebook printed",
                lambda c: float(np.mean(c["y_true"] == c["y_pred"])),
                hint="That is accuracy",
                lazy=True,
            ),
        ],
        context="recall_context",
    ),
    Table(
        "01.3",
        [
            Case("reference", "the solution", checks.reproducible_reference),
            Case("alternative", "model.score instead of accuracy_score", _seeded_score),
            Case("wrong", "unseeded split and tree", _unseeded_model, hint="not seeded"),
            Case(
                "wrong",
                "a fixed seed",
                lambda seed: checks.reproducible_reference(42),
                hint="ignores its seed",
            ),
            Case("wrong", "forgot the return line", _no_return, hint="returns None"),
            Case(
                "cheat",
                "a number from the seed alone",
                lambda seed: 0.9 + seed / 100,
                hint="pipeline of section 4",
            ),
            Case("cheat", "a constant", lambda seed: 0.95, hint="ignores its seed"),
        ],
    ),
]
test_adversarial = adversarial.parametrize(TABLES)


def test_01_3_an_unwritten_function_is_not_attempted() -> None:
    assert checks.check("01.3", _unwritten).status == "not attempted"


# --------------------------------------------------------------------------- course_calls


def _course_function(x: int) -> int:
    return x + 1


def _other_function(x: int) -> int:
    return x - 1


def test_course_calls_sees_every_route_to_a_watched_function() -> None:
    import functools
    import threading
    import types

    alias = _course_function
    copy = types.FunctionType(_course_function.__code__, globals(), "copy")
    routes = {
        "direct": lambda: _course_function(1),
        "alias": lambda: alias(1),
        "getattr": lambda: getattr(__import__(__name__), "_course_function", alias)(1),
        "partial": functools.partial(_course_function, 1),
        "copied code": lambda: copy(1),
        "lambda in a lambda": lambda: (lambda f: f(1))(alias),
    }
    for route, call in routes.items():
        with checks.course_calls(_course_function, _other_function) as ran:
            call()
        assert ran == ["_course_function"], route

    def in_a_thread() -> None:
        thread = threading.Thread(target=_course_function, args=(1,))
        thread.start()
        thread.join()

    with checks.course_calls(_course_function) as ran:
        in_a_thread()
    assert ran == ["_course_function"]
    with checks.course_calls(_course_function) as ran:
        _other_function(_other_function(1))
        assert _course_function is alias  # naming it is not calling it
    assert ran == []


def test_course_calls_watches_a_whole_module_and_keeps_another_profiler() -> None:
    import sys

    from utils import ml_testing

    seen: list[str] = []
    previous = sys.getprofile()
    sys.setprofile(lambda frame, event, arg: seen.append(event))
    data = datasets.make_churn(n_per_period=5, periods=2, seed=1)
    try:
        with checks.course_calls(ml_testing) as ran:
            _course_function(1)
            ml_testing.no_shared_ids(data, data)
        hook = sys.getprofile()
    finally:
        sys.setprofile(previous)
    assert ran and ran[0] == "no_shared_ids"
    assert "call" in seen and hook is not None  # the other profiler got its events back
    with pytest.raises(TypeError, match="functions and modules"):
        with checks.course_calls(len):  # type: ignore[arg-type]
            pass
