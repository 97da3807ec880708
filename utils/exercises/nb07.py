"""Exercise checks of notebook 07 (testing ML systems).

* 07.1: write a data test: no customer in both the training and the test data;
* 07.2: write an invariance test: changing ``region`` moves no churn probability by more than
  0.05;
* 07.3: score a described pipeline on the ML Test Score.

The checks of 07.1 and 07.2 run the student's test function on cases where it must pass and
on cases where it must fail: a test that cannot fail is no test. :func:`utils.checks.check`
imports this module the first time a 07 exercise is checked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from utils import ml_test_score
from utils.checks import (
    CORRECT,
    INCORRECT,
    Status,
    function_answer_problem,
    register,
)
from utils.datasets import CHURN_FEATURES, make_churn

__all__: list[str] = []

NOTEBOOK = "07_testing_ml_systems"

#: The expected answers of exercise 07.3 (every other test is not done). Private: a public
#: constant would be a cheat that passes.
_DESCRIBED_PIPELINE_ANSWERS: dict[str, str] = {
    "Data 1": ml_test_score.AUTOMATED,
    "Data 2": ml_test_score.MANUAL,
    "Data 7": ml_test_score.AUTOMATED,
    "Model 3": ml_test_score.MANUAL,
    "Model 5": ml_test_score.AUTOMATED,
    "Infra 4": ml_test_score.AUTOMATED,
    "Infra 7": ml_test_score.MANUAL,
    "Monitor 2": ml_test_score.AUTOMATED,
    "Monitor 7": ml_test_score.AUTOMATED,
}


def _type_name(answer: object) -> str:
    return type(answer).__name__


def _run(function: Callable[..., Any], *args: Any) -> BaseException | None:
    """Call ``function``; return the exception it raised, or None."""
    try:
        function(*args)
    except Exception as error:  # noqa: BLE001 - any error in student code is reported
        return error
    return None


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _names_used(function: object) -> set[str]:
    """The global and attribute names the code of ``function`` uses, nested code included."""
    code = getattr(function, "__code__", None)
    names: set[str] = set()
    stack = [code] if code is not None else []
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(c for c in current.co_consts if hasattr(c, "co_names"))
    return names


def _check_test_function(answer: object, course_function: str) -> tuple[Status, str] | None:
    """Common first checks of 07.1 and 07.2; None when the answer is a written function.

    ``course_function`` is the name of the course's own test (in ``utils.ml_testing``) that
    the exercise asks the student to write in plain pandas: calling it is refused.
    """
    problem = function_answer_problem(answer, "test function", "write the assert")
    if problem is not None:
        return problem
    if getattr(answer, "__module__", None) == "utils.ml_testing" or (
        course_function in _names_used(answer)
    ):
        return INCORRECT, (
            f"Your test calls the course's own ml_testing.{course_function}: the exercise "
            "asks you to write it yourself, in plain pandas."
        )
    return None


# ---------------------------------------------------------------------------------------------
# 07.1 A data test: no customer in both splits
# ---------------------------------------------------------------------------------------------


@functools.cache
def _splits() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """A clean split and two leaky ones, built from a small churn data set."""
    data = make_churn(n_per_period=60, periods=4, seed=7)
    train = data[data["period"] < 3]
    # The row index starts again at 0, as after reading a file: only customer_id tells.
    test = data[data["period"] == 3].reset_index(drop=True)
    again = train.sample(5, random_state=7)
    # The same five customers again, a week later: new timestamps and one month more tenure.
    returning = again.assign(
        timestamp=again["timestamp"] + pd.Timedelta(days=7),
        tenure_months=again["tenure_months"] + 1,
    )
    leaky = pd.concat([test, returning], ignore_index=True)
    duplicated = pd.concat([test, again], ignore_index=True)
    return {"clean": (train, test), "returning": (train, leaky), "copied": (train, duplicated)}


@register("07.1", NOTEBOOK, "A data test: no customer in both splits")
def _check_shared_customers(answer: object) -> tuple[Status, str]:
    first = _check_test_function(answer, "no_shared_ids")
    if first is not None:
        return first
    splits = _splits()
    train, test = splits["clean"]
    error = _run(answer, train.copy(), test.copy())
    if isinstance(error, AssertionError):
        return INCORRECT, (
            "Your test fails on a clean split, where no customer is in both frames. Compare "
            "the values of the customer_id column, not the row index (it restarts at 0 in "
            "the test data) or whole rows."
        )
    if error is not None:
        return INCORRECT, (
            f"Your test crashed on a clean split with {_describe(error)}. It receives two "
            "DataFrames, train and test, with a customer_id column."
        )
    for key, what in (
        ("copied", "5 training rows copied into the test data"),
        ("returning", "5 training customers who come back a week later with updated rows"),
    ):
        train, test = splits[key]
        error = _run(answer, train.copy(), test.copy())
        if error is None:
            hint = (
                " Whole rows differ here (new timestamp, one more month of tenure): compare "
                "customer ids only."
                if key == "returning"
                else ""
            )
            return INCORRECT, (
                f"Your test passes on a split with {what}: it cannot catch this leak.{hint} A "
                "test that cannot fail is no test."
            )
        if not isinstance(error, AssertionError):
            return INCORRECT, (
                f"On a leaky split your test raised {_describe(error)} instead of failing an "
                "assert. Use assert ..., 'message' so that pytest reports a failed test."
            )
    return CORRECT, (
        "Your test passes on a clean split and fails when customers are in both frames, "
        "whether the rows were copied or came back changed. It is ready for pytest."
    )


# ---------------------------------------------------------------------------------------------
# 07.2 An invariance test: region does not matter
# ---------------------------------------------------------------------------------------------


class _ToyChurnModel:
    """A fixed churn model (no training): log-odds from charges and tenure, plus a bump for
    one region. Used to check the student's invariance test on models whose answer is known."""

    classes_ = np.array([0, 1])

    def __init__(self, region_bump: float) -> None:
        self.region_bump = region_bump

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        z = 0.12 * (X["monthly_charges"].to_numpy() - 15) - 0.04 * (
            X["tenure_months"].to_numpy() - 12
        )
        z = z + self.region_bump * (X["region"].astype(str).to_numpy() == "west")
        p = 1.0 / (1.0 + np.exp(-z))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


@functools.cache
def _features() -> pd.DataFrame:
    return make_churn(n_per_period=100, periods=2, seed=8)[list(CHURN_FEATURES)]


@register("07.2", NOTEBOOK, "An invariance test: region does not matter")
def _check_invariance(answer: object) -> tuple[Status, str]:
    first = _check_test_function(answer, "invariance")
    if first is not None:
        return first
    cases = {
        "blind": _ToyChurnModel(0.0),
        "noise": _ToyChurnModel(0.05),  # moves probabilities by at most about 0.013
        "biased": _ToyChurnModel(1.5),  # moves them by up to about 0.35
    }
    for key in ("blind", "noise"):
        error = _run(answer, cases[key], _features().copy())
        if isinstance(error, AssertionError):
            if key == "blind":
                return INCORRECT, (
                    "Your test fails on a model that ignores region completely. Compare the "
                    "churn probabilities (predict_proba(...)[:, 1]) of the same rows before and "
                    "after setting region, row by row."
                )
            return INCORRECT, (
                "Your test fails on a model whose churn probabilities move by about 0.01 when "
                "region changes. Compare probabilities (predict_proba(...)[:, 1]), not labels, "
                "and allow the tolerance of 0.05: assert the largest change is <= 0.05."
            )
        if error is not None:
            return INCORRECT, (
                f"Your test crashed with {_describe(error)}. It receives a fitted model and a "
                "DataFrame X of churn features; set X's region with X.assign(region=...)."
            )
    error = _run(answer, cases["biased"], _features().copy())
    if error is None:
        return INCORRECT, (
            "Your test passes on a model that raises the churn probability of customers in the "
            "west by up to 0.35: it cannot catch a model that uses region. Try every region, "
            "and compare probabilities, not only predicted labels. A test that cannot fail is "
            "no test."
        )
    if not isinstance(error, AssertionError):
        return INCORRECT, (
            f"On a model that uses region your test raised {_describe(error)} instead of "
            "failing an assert. Use assert ..., 'message' so that pytest reports a failure."
        )
    return CORRECT, (
        "Your test passes for models that ignore region (or nearly: within 0.05) and fails "
        "for one that uses it. That is an invariance test."
    )


# ---------------------------------------------------------------------------------------------
# 07.3 Score a described pipeline on the ML Test Score
# ---------------------------------------------------------------------------------------------


@register("07.3", NOTEBOOK, "Score a described pipeline on the ML Test Score")
def _check_described_pipeline(answer: object) -> tuple[Status, str]:
    if not isinstance(answer, Mapping):
        return INCORRECT, (
            f"Your answer is a {_type_name(answer)}; give a dict of test id -> level, e.g. "
            "{'Data 1': 'automated', 'Model 3': 'manual'}."
        )
    try:
        given = ml_test_score.score(answer)
    except Exception as error:  # noqa: BLE001 - any malformed answer is reported
        return INCORRECT, f"ml_test_score.score cannot read your dict: {error}"
    expected = ml_test_score.score(_DESCRIBED_PIPELINE_ANSWERS)
    wrong = [key for key in expected.answers if given.answers[key] != expected.answers[key]]
    if not wrong:
        sections = ", ".join(f"{name} {value:g}" for name, value in expected.sections.items())
        return CORRECT, (
            f"{sections}: final score {expected.final:g}, band {expected.band.label}. "
            f"{' and '.join(expected.weakest)} hold the pipeline back: a good data section "
            "does not make up for them."
        )
    too_high = [k for k in wrong if given.points[k] > expected.points[k]]
    shown = ", ".join(wrong[:3]) + (f" (and {len(wrong) - 3} more)" if len(wrong) > 3 else "")
    advice = (
        " Some tests get more credit than the description gives: a test done once by hand "
        "is manual, and one the description does not mention is not done."
        if too_high
        else " Some tests the description mentions are missing or get too little credit."
    )
    return INCORRECT, (
        f"{len(wrong)} of the 28 answers {'differs' if len(wrong) == 1 else 'differ'} from the "
        f"description. Look again at: "
        f"{shown}.{advice}"
    )
