"""Checks of the exercises of notebook 03 (``03_devops_to_mlops``).

* 03.1: write a test that catches a bug (it must pass on the correct project and fail on a
  project whose pipeline lost its feature scaling);
* 03.2: name the MLOps property each incident lacks;
* 03.3: move the magic numbers of a training function into a configuration.

The checks compute what they expect from their own reference implementation of the notebook's
``coursework.py`` (same functions, same settings), so they do not depend on the notebook's files.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import warnings
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from utils import devops
from utils.checks import (
    CORRECT,
    INCORRECT,
    MLOPS_PROPERTIES,
    NOT_ATTEMPTED,
    Status,
    course_calls,
    register,
)

NOTEBOOK = "03_devops_to_mlops"

#: The settings of the notebook's ``coursework.py`` (the improved course project).
CONFIG: dict[str, Any] = {"test_size": 0.25, "seed": 42, "max_iter": 1000}
MALIGNANT = 0

#: The settings of exercise 03.3: the numbers written into ``train_tuned`` in the notebook.
TUNED_CONFIG: dict[str, Any] = {"test_size": 0.3, "seed": 7, "C": 0.5, "max_iter": 500}
# Another configuration: a function that still hard-codes a number gives another result here.
_OTHER_CONFIG: dict[str, Any] = {"test_size": 0.2, "seed": 3, "C": 0.05, "max_iter": 300}


# ---------------------------------------------------------------------------------------------
# The reference project (the notebook's coursework.py), correct and with the bug of 03.1
# ---------------------------------------------------------------------------------------------


@functools.cache
def _data() -> tuple[Any, Any]:
    # deferred: utils.datasets loads pandas: +288 ms to import exercises.nb03
    from utils import datasets

    return datasets.load_builtin("breast_cancer")


def reference_project(scaled: bool = True) -> SimpleNamespace:
    """The notebook's ``coursework.py`` as a namespace of functions, for exercise 03.1.

    Introduced in notebook 03. ``scaled=False`` gives the buggy version: ``build_model``
    leaves out the ``StandardScaler``, as if a colleague had "simplified" the pipeline.
    Both have ``CONFIG``, ``MALIGNANT``, ``load_data``, ``split_data``, ``build_model``,
    ``evaluate`` and ``train``, like the notebook's module.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def load_data() -> tuple[Any, Any]:
        X, y = _data()
        return X.copy(), y.copy()

    def split_data(X: Any, y: Any, test_size: float, seed: int) -> list[Any]:
        return train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)

    def build_model(max_iter: int) -> Any:
        if scaled:
            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
        return make_pipeline(LogisticRegression(max_iter=max_iter))

    def evaluate(model: Any, X: Any, y: Any) -> dict[str, float]:
        p_malignant = model.predict_proba(X)[:, list(model.classes_).index(MALIGNANT)]
        return {
            "accuracy": float(accuracy_score(y, model.predict(X))),
            "roc_auc": float(roc_auc_score(y == MALIGNANT, p_malignant)),
        }

    def train(config: Mapping[str, Any]) -> tuple[Any, dict[str, float]]:
        X, y = load_data()
        X_train, X_test, y_train, y_test = split_data(X, y, config["test_size"], config["seed"])
        model = build_model(config["max_iter"]).fit(X_train, y_train)
        return model, evaluate(model, X_test, y_test)

    return SimpleNamespace(
        CONFIG=dict(CONFIG),
        MALIGNANT=MALIGNANT,
        load_data=load_data,
        split_data=split_data,
        build_model=build_model,
        evaluate=evaluate,
        train=train,
    )


def is_stub(function: object) -> bool:
    """True if ``function``'s body is still only the placeholder ``...`` (and comments).

    Introduced in notebook 03, whose exercises give a function to complete: while its body is
    ``...``, the exercise is "not attempted" rather than wrong.
    """
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))  # type: ignore[arg-type]
    except (OSError, TypeError, SyntaxError):
        return False
    definitions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if len(definitions) != 1:
        return False
    body = definitions[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            body = body[1:]  # a docstring
    return len(body) == 1 and (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and body[0].value.value is Ellipsis
    )


_STUB_MESSAGE = (
    "The function's body is still ... (the placeholder): write its body, then run that cell "
    "and this one again."
)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _run_test(test: Any, project: SimpleNamespace) -> tuple[BaseException | None, object]:
    """Run a student's test on a project, as pytest would: (exception or None, return value)."""
    with warnings.catch_warnings(record=True):
        # The buggy pipeline warns that it did not converge. Every warning reaches the test as
        # it would under pytest (a test may record it, or turn it into an error), and is then
        # caught here, so the check does not print it. "always": a warning seen once before
        # (e.g. in an earlier call of the check) is still shown to the test.
        warnings.simplefilter("always")
        try:
            returned = test(project)
        except Exception as error:  # noqa: BLE001 -- any exception fails a test
            return error, None
    return None, returned


_PASSES_ON_BUGGY = (
    "Your test passes on the buggy code as well, so it would not catch the bug. Use the "
    "argument project (not the notebook's coursework module), and ask what changes when "
    "the features are not standardised: does the fit converge "
    "(model[-1].n_iter_ against max_iter)? Which steps does the pipeline have?"
)
_SAME_ANSWER = (
    " The check runs your test on each project twice (correct, buggy, buggy, correct), and a "
    "test must give the same answer on the same code every time it runs: it must not depend "
    "on how often it ran before."
)


@register("03.1", NOTEBOOK, "A test that catches the lost scaler")
def _check_catching_test(answer: object) -> tuple[Status, str]:
    if not callable(answer):
        return INCORRECT, (
            f"Give the test function itself (its name, without parentheses), not a "
            f"{type(answer).__name__}."
        )
    if is_stub(answer):
        return NOT_ATTEMPTED, _STUB_MESSAGE
    try:
        parameters = inspect.signature(answer).parameters
    except (TypeError, ValueError):
        parameters = {}
    if len(parameters) != 1:
        return INCORRECT, (
            "Your test must take exactly one argument, the project module: "
            "def test_something(project): ..., and use project.train, project.CONFIG etc."
        )
    error, returned = _run_test(answer, reference_project(scaled=True))
    if error is not None:
        return INCORRECT, (
            f"Your test fails on the correct code too ({_describe(error)}). A test must pass "
            "while the code is right, or it only cries wolf."
        )
    if returned is not None:
        if hasattr(returned, "item"):  # a numpy scalar such as np.True_: show it as Python's
            returned = returned.item()
        return INCORRECT, (
            f"Your test returns {returned!r:.40}. pytest does not look at what a test returns: "
            "a test fails only when it raises. Write assert <condition> instead of return."
        )
    error, _ = _run_test(answer, reference_project(scaled=False))
    if error is None:
        return INCORRECT, _PASSES_ON_BUGGY
    # Each project once more, buggy first (correct, buggy, buggy, correct): a test whose result
    # depends on how often it ran (a counter that fails every second call, say) is caught.
    again, _ = _run_test(answer, reference_project(scaled=False))
    if again is None:
        return INCORRECT, (
            "Your test failed on the buggy code the first time, but passes on it when it runs "
            "again." + _SAME_ANSWER
        )
    again, _ = _run_test(answer, reference_project(scaled=True))
    if again is not None:
        return INCORRECT, (
            f"Your test fails on the correct code when it runs again ({_describe(again)})."
            + _SAME_ANSWER
        )
    return CORRECT, (
        f"Your test passes on the correct code and fails on the buggy code with "
        f"{_describe(error)}. In CI, this change would now be stopped before it is merged."
    )


# ---------------------------------------------------------------------------------------------
# 03.2: which property is missing?
# ---------------------------------------------------------------------------------------------

#: The incidents of exercise 03.2 and the property each one shows to be missing.
INCIDENTS: dict[str, tuple[str, str]] = {
    "a": (
        "Last month the model scored two points higher than a rerun of the same script on the "
        "same data gives today, and nobody changed anything.",
        "reproducible",
    ),
    "b": (
        "The clinic asks which data and settings produced the model it uses. Nobody can "
        "say: the notebook has been rerun many times since.",
        "trackable",
    ),
    "c": (
        "A colleague 'simplified' the preprocessing. Nothing complained, and the weaker model "
        "was in use for a month before anyone noticed.",
        "testable",
    ),
    "d": (
        "The test share is written as 0.25 in four notebooks. Someone changed three of them, "
        "and two reports now disagree.",
        "maintainable",
    ),
}

_INCIDENT_HINTS: dict[str, str] = {
    "a": "a: the same code on the same data gives another number. Which property promises "
    "the same number every time?",
    "b": "b: the question is where a record of the run is kept.",
    "c": "c: what would have stopped the change before it was merged?",
    "d": "d: the trouble is a setting that lives in many places instead of one.",
}


def _property_of(word: str) -> str | None:
    hits = [p for p, stem in MLOPS_PROPERTIES.items() if stem in word.strip().lower()]
    return hits[0] if len(hits) == 1 else None


@register("03.2", NOTEBOOK, "Which property is missing?")
def _check_incidents(answer: object) -> tuple[Status, str]:
    if not isinstance(answer, Mapping):
        return INCORRECT, (
            f"Give a dict from incident letter to property, e.g. "
            f"{{'a': 'reproducible', 'b': ...}}; you gave a {type(answer).__name__}."
        )
    keys = {str(k).strip().lower() for k in answer}
    if keys != set(INCIDENTS):
        return INCORRECT, (
            f"Give one property for each incident: the keys must be {sorted(INCIDENTS)}, "
            f"you gave {sorted(map(str, answer))}."
        )
    given = {str(k).strip().lower(): v for k, v in answer.items()}
    if all(v is Ellipsis for v in given.values()):
        return NOT_ATTEMPTED, (
            "Replace each ... with a property, e.g. 'reproducible', then run that cell and "
            "this one again."
        )
    wrong = []
    for letter, (_, expected) in INCIDENTS.items():
        value = given[letter]
        if value is Ellipsis:
            wrong.append(f"{letter}: still ...")
            continue
        if not isinstance(value, str) or _property_of(value) != expected:
            wrong.append(_INCIDENT_HINTS[letter])
    if not wrong:
        return CORRECT, (
            "One property per incident. Section 6 turns each of them into a check a machine "
            "can run."
        )
    return INCORRECT, f"{4 - len(wrong)} of 4 right. " + " ".join(wrong)


# ---------------------------------------------------------------------------------------------
# 03.3: configuration in one place
# ---------------------------------------------------------------------------------------------


def tuned_reference(X: Any, y: Any, config: Mapping[str, Any]) -> float:
    """The training function of exercise 03.3 with its settings taken from ``config``.

    Introduced in notebook 03: the accuracy ``train_tuned`` gives, for any configuration with
    the keys ``test_size``, ``seed``, ``C`` and ``max_iter``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=config["test_size"], stratify=y, random_state=config["seed"]
    )
    model = make_pipeline(
        StandardScaler(), LogisticRegression(C=config["C"], max_iter=config["max_iter"])
    )
    model.fit(X_tr, y_tr)
    return float(accuracy_score(y_te, model.predict(X_te)))


class _RecordingConfig(Mapping):
    """A read-only mapping that remembers which keys were read (to find hard-coded settings).

    Not a ``dict`` subclass: ``dict(config)``, ``{**config}`` and ``dict.update`` take a fast path
    for dicts that never calls an overridden ``__getitem__``. Through ``Mapping``, every way of
    reading a value (``[]``, ``get``, ``items``, ``values``, ``dict(...)``, ``{**...}``, ``copy``)
    passes ``__getitem__`` and is recorded; listing the keys alone reads no setting.
    """

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._settings = dict(settings)
        self.read: set[str] = set()

    def __getitem__(self, key: Any) -> Any:
        value = self._settings[key]
        self.read.add(key)
        return value

    def __iter__(self) -> Any:
        return iter(self._settings)

    def __len__(self) -> int:
        return len(self._settings)

    def copy(self) -> dict[str, Any]:
        return {key: self[key] for key in self}

    def __or__(self, other: Any) -> dict[str, Any]:
        return {**self.copy(), **other}

    def __ror__(self, other: Any) -> dict[str, Any]:
        return {**other, **self.copy()}

    def __repr__(self) -> str:
        return repr(self._settings)


@register("03.3", NOTEBOOK, "Configuration in one place")
def _check_configured_function(answer: object) -> tuple[Status, str]:
    if not callable(answer):
        return INCORRECT, (
            f"Give the function itself (its name, without parentheses), not a "
            f"{type(answer).__name__}."
        )
    if is_stub(answer):
        return NOT_ATTEMPTED, _STUB_MESSAGE
    try:
        issues = devops.maintainability_issues(answer)
    except (TypeError, ValueError) as error:
        return INCORRECT, f"Cannot read your function's source: {error}"
    if issues:
        shown = "; ".join(str(i) for i in issues[:3])
        more = f" (and {len(issues) - 3} more)" if len(issues) > 3 else ""
        return INCORRECT, f"The maintainability check still finds: {shown}{more}."
    X, y = _data()
    for config in (TUNED_CONFIG, _OTHER_CONFIG):
        recording = _RecordingConfig(config)
        try:
            with warnings.catch_warnings(), course_calls(tuned_reference) as ran:
                warnings.simplefilter("ignore")
                value = answer(X.copy(), y.copy(), recording)
        except KeyError as error:
            return INCORRECT, (
                f"Your function asked the configuration for {error}; use the keys "
                f"{', '.join(TUNED_CONFIG)}."
            )
        except Exception as error:  # noqa: BLE001 -- student code: any error becomes a hint
            return INCORRECT, (
                f"Calling your function as f(X, y, config) raised {_describe(error)}."
            )
        if ran:  # seen at run time, under any name
            return INCORRECT, (
                "Your function hands the work to the course's own tuned_reference: write the "
                "steps of train_tuned yourself (split, fit, score), with the settings taken "
                "from config."
            )
        unread = [k for k in config if k not in recording.read]
        if unread:
            return INCORRECT, (
                f"Your function never reads config[...] for {', '.join(unread)}: that setting "
                "is still fixed inside the function (or missing). Take every setting from config."
            )
        expected = tuned_reference(X, y, config)
        if not isinstance(value, int | float) or isinstance(value, bool) or value != expected:
            fixed = (
                " It is right with TUNED_CONFIG, so a setting is probably still fixed inside "
                "the function (a number, or a name from outside it) instead of read from config."
                if config is _OTHER_CONFIG
                else ""
            )
            return INCORRECT, (
                f"With config {dict(config)} your function returns {value!r:.40}; train_tuned's "
                f"steps with these settings give the accuracy {expected:.6f}. Keep the steps, "
                f"change only where the numbers come from.{fixed}"
            )
    return CORRECT, (
        "Same steps, same accuracy, and every setting now has a name in one place: to change "
        "the test share you change one line of the configuration."
    )
