"""Checks for the notebooks' exercises, and the environment self-check of notebook 00.

Every exercise in a notebook has three cells: a cell the student fills in (it runs as given,
with ``...`` as a placeholder), a check cell, and a collapsed solution cell. The check cell calls
:func:`check` with the exercise's id and the student's answer::

    from utils import checks

    malignant_share = ...  # your answer
    checks.check("01.1", malignant_share)

and shows a :class:`CheckResult`: "not attempted" while the answer is still ``...`` (or ``None``),
"correct", or "incorrect" with a hint. The solution cell asserts
``checks.check("01.1", solution).passed``, so running the notebook in CI proves that every
solution passes its own check.

Every check a student runs in a notebook is recorded (:mod:`utils.progress`: the outcome and
the number of distinct answers, never the answer); solution cells record nothing.

Each exercise's check is a function registered with :func:`register`. It computes the expected
answer itself, from the same ``utils`` functions the notebook uses (or from the context the check
cell passes, such as the test labels), so it cannot drift away from the data.

Introduced in notebook 00 (``00_start_here``).
"""

from __future__ import annotations

import contextlib
import functools
import html
import importlib.metadata
import math
import numbers
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import CodeType, ModuleType
from typing import Any, Literal

from utils import progress

Status = Literal["not attempted", "correct", "incorrect"]
CheckFunction = Callable[..., tuple[Status, str]]

NOT_ATTEMPTED: Status = "not attempted"
CORRECT: Status = "correct"
INCORRECT: Status = "incorrect"

_COLOURS: dict[str, str] = {
    NOT_ATTEMPTED: "#6b6b6b",
    CORRECT: "#1a7f37",
    INCORRECT: "#b35900",
}
_SYMBOLS: dict[str, str] = {NOT_ATTEMPTED: "\u2026", CORRECT: "\u2714", INCORRECT: "\u2718"}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one answer: what :func:`check` returns.

    It shows as one line of text (or a small coloured box in JupyterLab). Introduced in notebook
    00 (``00_start_here``).

    Attributes:
        exercise: the exercise id, e.g. ``"01.1"``.
        title: the exercise's short title.
        status: ``"not attempted"``, ``"correct"`` or ``"incorrect"``.
        message: what to do next: a hint when incorrect, a short confirmation when correct.
    """

    exercise: str
    title: str
    status: Status
    message: str

    @property
    def passed(self) -> bool:
        """True only when the answer is correct."""
        return self.status == CORRECT

    def __str__(self) -> str:
        return f"Exercise {self.exercise} ({self.title}): {self.status}. {self.message}"

    def __repr__(self) -> str:
        return f"{_SYMBOLS[self.status]} {self}"

    def _repr_html_(self) -> str:
        colour = _COLOURS[self.status]
        return (
            f'<div style="border-left: 5px solid {colour}; padding: 4px 10px; margin: 2px 0;">'
            f"<b>Exercise {html.escape(self.exercise)}</b> \u00b7 {html.escape(self.title)}: "
            f'<b style="color: {colour};">{_SYMBOLS[self.status]} {self.status}</b><br>'
            f"{html.escape(self.message)}</div>"
        )


@dataclass(frozen=True)
class Exercise:
    """One registered exercise: its id, the notebook it belongs to and what its check needs.

    Attributes:
        id: ``"NN.k"``: notebook number and exercise number, e.g. ``"01.2"``.
        notebook: the notebook's file stem, e.g. ``"01_linear_coursework"``.
        title: a short title shown with every result.
        function: the check itself (see :func:`register`).
        needs: names of the keyword arguments (context) the check cell must pass to
            :func:`check`, e.g. ``("y_true", "y_pred")``.
    """

    id: str
    notebook: str
    title: str
    function: CheckFunction = field(repr=False)
    needs: tuple[str, ...] = ()


_REGISTRY: dict[str, Exercise] = {}
_ID_RE = re.compile(r"^\d{2}\.\d+$")


def register(
    exercise_id: str, notebook: str, title: str, needs: tuple[str, ...] = ()
) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as the check of exercise ``exercise_id``.

    This is how a notebook's exercises get their checks (notebook 00 introduces the pattern).
    The decorated function receives the answer (never the placeholder: :func:`check` handles
    that) and the context named in ``needs`` as keyword arguments, and returns
    ``(status, message)``: ``(CORRECT, confirmation)`` or ``(INCORRECT, hint)``. It computes the
    expected answer itself, from ``utils`` or from the context::

        @register("01.1", "01_linear_coursework", "Share of malignant tumours")
        def _check_malignant_share(answer): ...

    Raises:
        ValueError: ``exercise_id`` is not of the form ``"NN.k"`` or is registered already.
    """
    if not _ID_RE.match(exercise_id):
        raise ValueError(f"Exercise ids look like '01.2' (notebook.exercise), got {exercise_id!r}.")
    if exercise_id in _REGISTRY:
        raise ValueError(f"Exercise {exercise_id} is registered already; pick another id.")

    def decorate(function: CheckFunction) -> CheckFunction:
        _REGISTRY[exercise_id] = Exercise(exercise_id, notebook, title, function, tuple(needs))
        return function

    return decorate


def _load_notebook_checks(number: str) -> None:
    """Import ``utils.exercises.nbNN``, where notebooks from 02 on register their checks."""
    import importlib

    try:
        importlib.import_module(f"utils.exercises.nb{number}")
    except ModuleNotFoundError as err:
        if err.name != f"utils.exercises.nb{number}":
            raise


def is_placeholder(answer: object) -> bool:
    """Return True if ``answer`` is still the exercise's placeholder (``...`` or ``None``).

    Introduced in notebook 00 (``00_start_here``), where the exercises are explained.
    """
    return answer is Ellipsis or answer is None


def exercises(notebook: str | None = None) -> list[Exercise]:
    """List the registered exercises, optionally only those of one notebook (notebook 00).

    Args:
        notebook: a notebook's file stem (``"01_linear_coursework"``) or its number (``"01"``);
            ``None`` lists all exercises.
    """
    if notebook is None:
        import pkgutil

        # deferred: import cycle checks -> exercises -> checks (they register here)
        import utils.exercises

        for module in pkgutil.iter_modules(utils.exercises.__path__):
            if re.fullmatch(r"nb\d{2}", module.name):
                _load_notebook_checks(module.name[2:])
    elif re.match(r"^\d{2}", notebook):
        _load_notebook_checks(notebook[:2])
    found = list(_REGISTRY.values())
    if notebook is not None:
        found = [e for e in found if e.notebook == notebook or e.id.split(".")[0] == notebook]
    return sorted(found, key=lambda e: e.id)


def check(exercise_id: str, answer: object = Ellipsis, /, **context: Any) -> CheckResult:
    """Check a student's answer to one exercise and return the result to display.

    Introduced in notebook 00 (``00_start_here``); every notebook's exercises use it.

    Args:
        exercise_id: the exercise's id as the notebook gives it, e.g. ``"01.2"``.
        answer: the student's answer. ``...`` (the placeholder) or ``None`` means
            "not attempted".
        **context: what the check needs from the notebook to compute the expected answer
            (the exercise's ``needs``), e.g. ``y_true=y_test, y_pred=y_pred``.

    Returns:
        A :class:`CheckResult`; its ``passed`` is True only for a correct answer.

    Raises:
        ValueError: ``exercise_id`` is not a registered exercise.
        TypeError: the check cell did not pass the context the exercise needs.
    """
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a string such as '01.1', got {exercise_id!r}.")
    exercise = _REGISTRY.get(exercise_id)
    if exercise is None and _ID_RE.match(exercise_id):
        _load_notebook_checks(exercise_id[:2])
        exercise = _REGISTRY.get(exercise_id)
    if exercise is None:
        known = ", ".join(e.id for e in exercises())
        raise ValueError(f"No exercise {exercise_id!r}. Known exercises: {known}.")
    missing = [name for name in exercise.needs if name not in context]
    unknown = [name for name in context if name not in exercise.needs]
    if missing or unknown:
        raise TypeError(
            f"Exercise {exercise_id} needs the keyword arguments {list(exercise.needs)}; "
            f"missing {missing}, unexpected {unknown}. Run the check cell as the notebook gives it."
        )
    if is_placeholder(answer):
        return CheckResult(
            exercise.id,
            exercise.title,
            NOT_ATTEMPTED,
            "Replace the ... in the exercise cell with your answer, then run that cell "
            "and this one again.",
        )
    status, message = exercise.function(answer, **context)
    progress.record(exercise.id, status, answer)
    return CheckResult(exercise.id, exercise.title, status, message)


# ---------------------------------------------------------------------------------------------
# Helpers for the checks
# ---------------------------------------------------------------------------------------------


def _as_number(answer: object) -> float | None:
    """Return ``answer`` as a float if it is a real number (not a bool), else None."""
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return None
    value = float(answer)
    return value if math.isfinite(value) else None


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol


def _type_name(answer: object) -> str:
    return type(answer).__name__


def _number_hint(answer: object, what: str) -> str:
    return (
        f"Your answer is a {_type_name(answer)} ({answer!r:.60}); {what} is a single number "
        "between 0 and 1, e.g. 0.42."
    )


# ---------------------------------------------------------------------------------------------
# Notebook 00: start here
# ---------------------------------------------------------------------------------------------

#: The four properties the lecture's definition of MLOps asks of the ML lifecycle, with the word
#: stems that identify them (so "reproducibility" counts as "reproducible").
MLOPS_PROPERTIES: dict[str, str] = {
    "reproducible": "reproduc",
    "trackable": "track",
    "testable": "test",
    "maintainable": "maintain",
}


@register("00.1", "00_start_here", "The four properties of MLOps")
def _check_mlops_properties(answer: object) -> tuple[Status, str]:
    if isinstance(answer, str):
        return INCORRECT, (
            "You gave one string. Give a list of four words, e.g. "
            "['first', 'second', 'third', 'fourth']."
        )
    if not isinstance(answer, Iterable) or isinstance(answer, Mapping):
        return INCORRECT, f"Give a list of four words, not a {_type_name(answer)}."
    words = list(answer)
    if not all(isinstance(w, str) for w in words):
        return INCORRECT, "Every item of the list must be a word in quotes, e.g. 'testable'."
    cleaned = [w.strip().lower() for w in words]
    matched: set[str] = set()
    wrong: list[str] = []
    several: list[str] = []
    for word in cleaned:
        hits = [p for p, stem in MLOPS_PROPERTIES.items() if stem in word]
        if len(hits) == 1:
            matched.update(hits)
        elif hits:
            several.append(word)
        else:
            wrong.append(word)
    if several:
        return INCORRECT, (
            f"One property per item: {several[0]!r} holds several. "
            "Give a list of four separate words."
        )
    if len(matched) == 4 and not wrong:
        return (
            CORRECT,
            "Reproducible, trackable, testable, maintainable: the course is built on them.",
        )
    parts = [f"{len(matched)} of the 4 properties are right."]
    if wrong:
        parts.append(f"Not in the definition: {', '.join(repr(w) for w in wrong)}.")
    if len(matched) < 4:
        parts.append(
            "Read the definition of MLOps at the top of this notebook again: "
            "the four words after 'make the ML lifecycle'."
        )
    return INCORRECT, " ".join(parts)


@register("00.2", "00_start_here", "Read a run back from the server", needs=("run_id",))
def _check_read_params(answer: object, *, run_id: str) -> tuple[Status, str]:
    import mlflow  # imported here: importing utils.checks stays fast

    run = mlflow.MlflowClient().get_run(run_id)
    expected = dict(run.data.params)
    if isinstance(answer, mlflow.entities.Run):
        return INCORRECT, "That is the whole run. Its parameters are in run.data.params."
    if isinstance(answer, mlflow.entities.RunData):
        return INCORRECT, "Almost: that is the run's data. Its parameters are in .params."
    if not isinstance(answer, Mapping):
        return INCORRECT, (
            f"Your answer is a {_type_name(answer)}; the parameters are a dict "
            "(name -> value), found in run.data.params."
        )
    answer = dict(answer)
    if answer == expected:
        return CORRECT, (
            "You read the parameters back from the tracking server. "
            "Note that MLflow stores every parameter as a string."
        )
    if answer == dict(run.data.metrics):
        return INCORRECT, "Those are the run's metrics. The parameters are in run.data.params."
    if set(answer) == set(expected) and {k: str(v) for k, v in answer.items()} == expected:
        return INCORRECT, (
            "The names and values match, but the server stores every parameter as a string "
            "(e.g. '42', not 42). Read them from the server with mlflow.get_run(run_id) "
            "instead of typing them."
        )
    if set(answer) != set(expected):
        return INCORRECT, (
            f"The parameter names differ: the run has {sorted(expected)}, "
            f"you gave {sorted(map(str, answer))}. Use mlflow.get_run(run_id).data.params."
        )
    return (
        INCORRECT,
        "The names match but some values differ. Use mlflow.get_run(run_id).data.params.",
    )


# ---------------------------------------------------------------------------------------------
# Notebook 01: the linear course project
# ---------------------------------------------------------------------------------------------


@functools.cache
def malignant_label() -> int:
    """The label that means "malignant" in the breast cancer data of notebook 01.

    Read from scikit-learn's own class names (``target_names``), which
    ``utils.datasets.load_builtin("breast_cancer")`` keeps: 0 = malignant, 1 = benign.
    """
    from sklearn.datasets import load_breast_cancer

    return list(load_breast_cancer().target_names).index("malignant")


@register("01.1", "01_linear_coursework", "Share of malignant tumours")
def _check_malignant_share(answer: object) -> tuple[Status, str]:
    # deferred: utils.datasets loads pandas: +404 ms to import checks
    from utils import datasets

    _, y = datasets.load_builtin("breast_cancer")
    malignant = malignant_label()
    n_malignant = int((y == malignant).sum())
    expected = n_malignant / len(y)
    value = _as_number(answer)
    if value is None:
        return INCORRECT, _number_hint(answer, "the share")
    if _close(value, expected, 0.005):
        return CORRECT, f"{expected:.1%} of the tumours ({n_malignant} of {len(y)}) are malignant."
    if _close(value, 1 - expected, 0.005):
        return INCORRECT, (
            "That is the share of benign tumours. Check which label means malignant: "
            "the dataset's description in section 1 says."
        )
    if _close(value, 100 * expected, 0.5):
        return (
            INCORRECT,
            "Right number, wrong scale: give a fraction between 0 and 1, not a percentage.",
        )
    if value == n_malignant or value == len(y) - n_malignant:
        return INCORRECT, "That is a count of tumours. Divide it by the number of tumours."
    if not 0 <= value <= 1:
        return INCORRECT, "A share is between 0 and 1."
    return INCORRECT, (
        "Not quite (the check accepts the share to within 0.005). Count the malignant labels "
        "in y and divide by the number of rows."
    )


@register("01.2", "01_linear_coursework", "Recall on malignant tumours", needs=("y_true", "y_pred"))
def _check_malignant_recall(answer: object, *, y_true: Any, y_pred: Any) -> tuple[Status, str]:
    from sklearn.metrics import accuracy_score, precision_score, recall_score

    malignant = malignant_label()
    labels = {int(label) for label in (*y_true, *y_pred)}
    if not labels <= {0, 1}:
        raise ValueError(
            f"Exercise 01.2 needs the breast cancer labels 0 and 1 as y_true and y_pred, "
            f"got the labels {sorted(labels)}."
        )
    other = 1 - malignant
    expected = recall_score(y_true, y_pred, pos_label=malignant)
    value = _as_number(answer)
    if value is None:
        return INCORRECT, _number_hint(answer, "a recall")
    tol = 1e-3
    if _close(value, expected, tol):
        return CORRECT, (
            f"The model finds {expected:.1%} of the malignant tumours in the test set; "
            "the rest would be sent home as benign."
        )
    if _close(value, 100 * expected, 100 * tol):
        return (
            INCORRECT,
            "Right number, wrong scale: give a fraction between 0 and 1, not a percentage.",
        )
    if _close(value, recall_score(y_true, y_pred, pos_label=other), tol):
        return INCORRECT, (
            "That is the recall of the benign class: scikit-learn counts the label 1 (benign) "
            "as positive by default. Tell recall_score which label is positive with pos_label."
        )
    if _close(value, precision_score(y_true, y_pred, pos_label=malignant), tol):
        return INCORRECT, (
            "That is precision (of the tumours predicted malignant, the share that are). "
            "Recall asks: of the malignant tumours, what share did the model find?"
        )
    if _close(value, accuracy_score(y_true, y_pred), tol):
        return (
            INCORRECT,
            "That is accuracy, over both classes. Recall looks at the malignant ones only.",
        )
    return (
        INCORRECT,
        "Not quite (the check accepts the recall to within 0.001). Use "
        "recall_score(y_test, y_pred, pos_label=...) with the malignant label.",
    )


def reproducible_reference(seed: int) -> float:
    """The test accuracy exercise 01.3 asks for: notebook 01's split and pipeline with ``seed``.

    Introduced in notebook 01 (``01_linear_coursework``): 25 % of the breast cancer data,
    stratified, split off with ``random_state=seed``; the pipeline of section 4
    (``StandardScaler``, ``LogisticRegression(max_iter=1000)``) is fitted on the rest.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # deferred: utils.datasets loads pandas: +404 ms to import checks
    from utils import datasets

    X, y = datasets.load_builtin("breast_cancer")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    fitted = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_tr, y_tr)
    return float(accuracy_score(y_te, fitted.predict(X_te)))


def _call_reproducible(answer: Callable[[int], object], seed: int) -> float | tuple[Status, str]:
    """The accuracy ``answer(seed)`` returns, or the verdict when it is not one (exercise 01.3)."""
    try:
        result = answer(seed)
    except Exception as error:  # noqa: BLE001 -- any error in student code becomes a hint
        return (
            INCORRECT,
            f"Calling your function with seed={seed} raised {type(error).__name__}: {error}",
        )
    if result is Ellipsis:
        return NOT_ATTEMPTED, (
            "Your function still returns ... (the placeholder): write its body, "
            "then run that cell and this one again."
        )
    value = _as_number(result)
    if value is None:
        if result is None:
            return INCORRECT, "Your function returns None: did you forget the return line?"
        return INCORRECT, (
            f"Your function returns a {_type_name(result)}; it should return the test "
            "accuracy as one number."
        )
    if not 0 <= value <= 1:
        return INCORRECT, f"Your function returned {value}; an accuracy is between 0 and 1."
    return value


@register("01.3", "01_linear_coursework", "A reproducible run")
def _check_reproducible_function(answer: object) -> tuple[Status, str]:
    if not callable(answer):
        return INCORRECT, (
            f"Give the function itself, not the result of calling it: your answer is a "
            f"{_type_name(answer)}. Write the function's name without parentheses."
        )
    if is_unwritten(answer):
        return NOT_ATTEMPTED, (
            "Your function does nothing yet (its body is still ...): write its body, "
            "then run that cell and this one again."
        )
    # Seeds 0 and 1 three times each: an unseeded split can repeat a score by chance, rarely
    # three times in a row for both seeds.
    scores: dict[int, list[float]] = {}
    for seed in (0, 0, 0, 1, 1, 1, 2, 3):
        value = _call_reproducible(answer, seed)
        if isinstance(value, tuple):
            return value
        scores.setdefault(seed, []).append(value)
    for seed in (0, 1):
        if len(set(scores[seed])) > 1:
            shown = " and ".join(sorted({f"{v:.4f}" for v in scores[seed]}))
            return INCORRECT, (
                f"Calls with seed={seed} gave {shown}: some randomness is not seeded. Pass "
                "random_state=seed to train_test_split (and to the model, if it has a "
                "random_state)."
            )
    distinct = {values[0] for values in scores.values()}
    if len(distinct) == 1:
        return INCORRECT, (
            f"Every seed gave {distinct.pop():.4f}: your function ignores its seed. "
            "Use the seed argument as random_state instead of a fixed number."
        )
    for seed in (0, 1):
        expected = reproducible_reference(seed)
        if not _close(scores[seed][0], expected, 1e-9):
            return INCORRECT, (
                f"With seed={seed} your function returns {scores[seed][0]:.4f}, but the "
                f"pipeline of section 4 trained on that seed's split scores {expected:.4f} "
                "on its test part. Split X and y with test_size=0.25, stratify=y and "
                "random_state=seed, fit the pipeline and return accuracy_score on the test part."
            )
    return CORRECT, (
        "Same seed, same score; another seed, another split and another score. "
        "The seed is now part of the result."
    )


# ---------------------------------------------------------------------------------------------
# Environment self-check (notebook 00)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageStatus:
    """One line of the environment self-check: a required package and what is installed.

    Attributes:
        package: the distribution name, e.g. ``"scikit-learn"``.
        required: the version specifier the course declares, e.g. ``">=1.6"``.
        installed: the installed version, or ``None`` if the package is missing.
        ok: True if the package is installed in a version that satisfies ``required``.
    """

    package: str
    required: str
    installed: str | None
    ok: bool


def package_report(distribution: str = "mlops-course") -> list[PackageStatus]:
    """Compare the packages the course requires with the versions installed in this kernel.

    The requirements are read from the installed course package's metadata (the dependency list
    of ``pyproject.toml``), so they are never copied by hand. Introduced in notebook 00
    (``00_start_here``).

    Args:
        distribution: the installed distribution whose requirements to check.

    Returns:
        One :class:`PackageStatus` per required package (optional extras are left out).

    Raises:
        ValueError: ``distribution`` is not installed in this environment (the fix: install the
            course with ``pip install -e .`` from the course folder, or use its ``.venv``).
    """
    from packaging.requirements import Requirement

    try:
        requirements = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        raise ValueError(
            f"The package {distribution!r} is not installed in this Python environment. "
            "Use the course's .venv (run `make lab` in the course folder), or install the "
            "course with `pip install -e .` from the course folder."
        ) from None
    report = []
    for line in requirements:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            installed: str | None = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        ok = installed is not None and requirement.specifier.contains(installed, prereleases=True)
        report.append(PackageStatus(requirement.name, str(requirement.specifier), installed, ok))
    return report


def _empty() -> None: ...


def is_unwritten(function: object) -> bool:
    """True when ``function``'s body is only ``...`` or ``pass``: an exercise placeholder.

    Introduced in notebook 07 (used by the checks of later notebooks whose answer is a
    function): an exercise cell such as ``def my_rule(report): ...`` is "not attempted".
    """
    code = getattr(function, "__code__", None)
    if code is None:
        return False
    return code.co_code == _empty.__code__.co_code and set(code.co_consts) <= {None, Ellipsis}


def function_answer_problem(answer: object, what: str, todo: str) -> tuple[Status, str] | None:
    """The first checks of an exercise whose answer is a function; None when it is written.

    Introduced in notebook 07 (tests written as functions) and used by 08 and 10 (rules):
    an answer that is not callable is *incorrect*, one whose body is still the placeholder
    (:func:`is_unwritten`) is *not attempted*.

    Args:
        answer: what the student passed.
        what: what the function is, e.g. ``"rule"`` or ``"test function"``.
        todo: what to write in its body, e.g. ``"return True or False"``.
    """
    if not callable(answer):
        return INCORRECT, (
            f"Give the {what} itself (the function's name, without parentheses), not a "
            f"{type(answer).__name__}."
        )
    if is_unwritten(answer):
        return NOT_ATTEMPTED, (
            f"Your {what} does nothing yet (its body is still ...): {todo}, then run that cell "
            "and this one again."
        )
    return None


@contextlib.contextmanager
def course_calls(*watched: Callable[..., Any] | ModuleType) -> Iterator[list[str]]:
    """Record which of the ``watched`` course functions ran inside the ``with`` block.

    Introduced in notebook 03 and used by the checks of 07, 08 and 09, whose exercises ask the
    student to write something the course already has: an answer that hands the work to the
    course's function is refused. The calls are watched as they happen (a profile hook on the
    functions' code), so every way of reaching the function is seen: its name, an alias, a
    name imported earlier, ``getattr``, a lambda, ``functools.partial``, a copy of its code,
    a thread started inside the block. ``watched`` holds functions, or modules, which stand
    for every function written in the module's file::

        with checks.course_calls(monitoring.psi, monitoring.psi_from_shares) as ran:
            answer(reference, batch)
        if ran: ...  # e.g. ["psi_from_shares"]

    Yields a list that fills with the names of the watched functions that ran, each once, in
    the order they first ran. A profiler already set (a debugger, coverage) keeps receiving
    its events, and is put back afterwards.
    """
    codes: set[CodeType] = set()
    files: set[str] = set()
    for item in watched:
        if isinstance(item, ModuleType):
            files.add(str(item.__file__))
            continue
        function = getattr(item, "__wrapped__", item)
        code = getattr(function, "__code__", None)
        if not isinstance(code, CodeType):
            raise TypeError(f"course_calls watches functions and modules, got {item!r}.")
        codes.add(code)
    ran: list[str] = []
    previous = sys.getprofile()
    previous_threads = threading.getprofile()

    def watch(frame: Any, event: str, arg: object) -> None:
        if event == "call":
            code = frame.f_code
            if (code in codes or code.co_filename in files) and code.co_name not in ran:
                ran.append(code.co_name)
        if previous is not None:
            previous(frame, event, arg)

    sys.setprofile(watch)
    threading.setprofile(watch)
    try:
        yield ran
    finally:
        sys.setprofile(previous)
        threading.setprofile(previous_threads)  # type: ignore[arg-type]
