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
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from utils import ml_test_score, ml_testing
from utils.checks import (
    CORRECT,
    INCORRECT,
    Status,
    course_calls,
    function_answer_problem,
    register,
)
from utils.datasets import CHURN_FEATURES, make_churn

__all__: list[str] = []

NOTEBOOK = "07_testing_ml_systems"

#: The expected answers of exercise 07.3, one digest per test of its points (see
#: :func:`_digest`): the check compares answers with them, and the module holds no copy of the
#: answer a student could pass on as their own. The answer in clear is the notebook's solution
#: (and ``tests/test_exercises_nb07.py``).
_DESCRIBED_PIPELINE_DIGESTS: dict[str, str] = {
    "Data 1": "7c4cc0dbd9f770ef",
    "Data 2": "00682d062f66cdab",
    "Data 3": "661bb2a942caddfa",
    "Data 4": "57efaa012e2062f0",
    "Data 5": "81f26bca25fad7b3",
    "Data 6": "9a8735ef0fb8c708",
    "Data 7": "1b86021f07b69590",
    "Model 1": "4223544b7f49758c",
    "Model 2": "9f473b96fa84ec5a",
    "Model 3": "ec253e32e87b5d85",
    "Model 4": "b2263edef45092c4",
    "Model 5": "abb243005b0cf306",
    "Model 6": "28fbc967da8717c8",
    "Model 7": "347993359f8e0617",
    "Infra 1": "2158b6b8a3487179",
    "Infra 2": "ebf29fca484d3786",
    "Infra 3": "fc8d93c0ffac0418",
    "Infra 4": "9181930457de41c3",
    "Infra 5": "edf89623a102883b",
    "Infra 6": "068dc7f32b6ca405",
    "Infra 7": "9ce83bc162d9fc06",
    "Monitor 1": "0235cb1170a3e9a3",
    "Monitor 2": "157cc5b121913e91",
    "Monitor 3": "facfa5758a2cdf48",
    "Monitor 4": "3ea5eb96172fdd93",
    "Monitor 5": "f1143415c04636ce",
    "Monitor 6": "50adc8736e59a13a",
    "Monitor 7": "b85b73763fe10b66",
}


def _digest(test_id: str, points: float) -> str:
    return hashlib.sha256(f"07.3|{test_id}|{points:g}".encode()).hexdigest()[:16]


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


def _run_watched(function: Callable[..., Any], *args: Any) -> tuple[BaseException | None, str]:
    """Call ``function`` like :func:`_run`; also return the name of the first function of
    ``utils.ml_testing`` that ran meanwhile, however it was reached
    (:func:`~utils.checks.course_calls`), or ""."""
    with course_calls(ml_testing) as ran:
        error = _run(function, *args)
    return error, ran[0] if ran else ""


def _course_call_refused(name: str) -> tuple[Status, str]:
    return INCORRECT, (
        f"Your test calls the course's own utils.ml_testing (ml_testing.{name}): the exercise "
        "asks you to write it yourself, in plain pandas."
    )


def _check_test_function(answer: object) -> tuple[Status, str] | None:
    """Common first checks of 07.1 and 07.2; None when the answer is a written function.
    Calls into ``utils.ml_testing`` are refused when the function runs (:func:`_run_watched`)."""
    problem = function_answer_problem(answer, "test function", "write the assert")
    if problem is not None:
        return problem
    if getattr(answer, "__module__", None) == "utils.ml_testing":
        return _course_call_refused(getattr(answer, "__name__", "?"))
    return None


# ---------------------------------------------------------------------------------------------
# 07.1 A data test: no customer in both splits
# ---------------------------------------------------------------------------------------------


@functools.cache
def _splits() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Two clean splits of different sizes and two leaky ones, built from small churn data."""
    data = make_churn(n_per_period=60, periods=4, seed=7)
    train = data[data["period"] < 3]
    # The row index starts again at 0, as after reading a file: only customer_id tells.
    test = data[data["period"] == 3].reset_index(drop=True)
    again = train.sample(5, random_state=7)
    # The same five customers again, in the test period: new timestamps (later than every
    # training row, so a time test cannot see them) and one month more tenure.
    returning = again.assign(
        timestamp=test["timestamp"].sample(5, random_state=7).to_numpy(),
        period=3,
        tenure_months=again["tenure_months"] + 1,
    )
    leaky = pd.concat([test, returning], ignore_index=True)
    duplicated = pd.concat([test, again], ignore_index=True)
    # Another clean split, with other customers and other sizes: no size or id is constant.
    other = make_churn(n_per_period=45, periods=3, seed=9)
    resized = (other[other["period"] < 2], other[other["period"] == 2].reset_index(drop=True))
    return {
        "clean": (train, test),
        "resized": resized,
        "returning": (train, leaky),
        "copied": (train, duplicated),
    }


#: The order 07.1 runs the student's test in: a clean split again after the leaky ones, so that
#: a test whose answer depends on how often it was called cannot pass.
_ORDER_0701 = ("clean", "copied", "resized", "returning", "clean")

_LEAKS_0701 = {
    "copied": "5 training rows copied into the test data",
    "returning": (
        "5 training customers who come back in the test period with updated rows (new "
        "timestamps, one more month of tenure)"
    ),
}


@register("07.1", NOTEBOOK, "A data test: no customer in both splits")
def _check_shared_customers(answer: object) -> tuple[Status, str]:
    first = _check_test_function(answer)
    if first is not None:
        return first
    splits = _splits()
    for key in _ORDER_0701:
        train, test = splits[key]
        error, course = _run_watched(answer, train.copy(), test.copy())
        if course:
            return _course_call_refused(course)
        if key not in _LEAKS_0701:
            if isinstance(error, AssertionError):
                size = f" ({len(train)} training and {len(test)} test rows)"
                return INCORRECT, (
                    f"Your test fails on a clean split{size if key == 'resized' else ''}, where "
                    "no customer is in both frames. Compare the values of the customer_id "
                    "column, not the row index (it restarts at 0 in the test data), whole rows "
                    "or sizes, and give the same answer for the same data on every call."
                )
            if error is not None:
                return INCORRECT, (
                    f"Your test crashed on a clean split with {_describe(error)}. It receives "
                    "two DataFrames, train and test, with a customer_id column."
                )
            continue
        if error is None:
            hint = (
                " Whole rows differ here, and every timestamp of the test data is later than "
                "the training data: compare customer ids only."
                if key == "returning"
                else ""
            )
            return INCORRECT, (
                f"Your test passes on a split with {_LEAKS_0701[key]}: it cannot catch this "
                f"leak.{hint} A test that cannot fail is no test."
            )
        if not isinstance(error, AssertionError):
            return INCORRECT, (
                f"On a leaky split your test raised {_describe(error)} instead of failing an "
                "assert. Use assert ..., 'message' so that pytest reports a failed test."
            )
    return CORRECT, (
        "Your test passes on clean splits and fails when customers are in both frames, "
        "whether the rows were copied or came back changed in the test period. It is ready "
        "for pytest."
    )


# ---------------------------------------------------------------------------------------------
# 07.2 An invariance test: region does not matter
# ---------------------------------------------------------------------------------------------


class _ToyChurnModel:
    """A fixed churn model (no training): log-odds from charges and tenure, plus a bump for
    one region. Used to check the student's invariance test on models whose answer is known."""

    classes_ = np.array([0, 1])

    def __init__(self, region_bump: float, region: str = "west") -> None:
        self.region_bump = region_bump
        self.region = region

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        z = 0.12 * (X["monthly_charges"].to_numpy() - 15) - 0.04 * (
            X["tenure_months"].to_numpy() - 12
        )
        z = z + self.region_bump * (X["region"].astype(str).to_numpy() == self.region)
        p = 1.0 / (1.0 + np.exp(-z))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


@functools.cache
def _features() -> pd.DataFrame:
    return make_churn(n_per_period=100, periods=2, seed=8)[list(CHURN_FEATURES)]


@functools.cache
def _features_without_west() -> pd.DataFrame:
    """A batch in which no customer lives in the west (the region stays a category)."""
    X = _features()
    return X[X["region"].astype(str) != "west"].reset_index(drop=True)


#: The cases of 07.2 in the order they run: (key, model, X, must pass). The largest moves of a
#: churn probability when only the region changes are measured in
#: ``tests/test_exercises_nb07.py``. The model that ignores region runs again at the end, so
#: that a test whose answer depends on how often it was called cannot pass.
def _cases_0702() -> list[tuple[str, _ToyChurnModel, pd.DataFrame, bool]]:
    return [
        ("blind", _ToyChurnModel(0.0), _features(), True),
        ("near", _ToyChurnModel(0.16), _features(), True),  # moves by at most about 0.040
        ("biased", _ToyChurnModel(1.5), _features(), False),  # moves by up to about 0.36
        # Biased for the west, in a batch without west customers: only setting every row to
        # the west shows it.
        ("absent", _ToyChurnModel(1.5), _features_without_west(), False),
        ("over", _ToyChurnModel(0.32), _features(), False),  # moves by up to about 0.080
        ("blind", _ToyChurnModel(0.0), _features(), True),
    ]


_FAILS_0702 = {
    "over": (
        "a model that moves churn probabilities by up to about 0.08 when region changes: "
        "more than the tolerance of 0.05. Assert that the largest change is <= 0.05"
    ),
    "biased": (
        "a model that raises the churn probability of customers in the west by up to 0.36: it "
        "cannot catch a model that uses region. Try every region, and compare probabilities, "
        "not only predicted labels"
    ),
    "absent": (
        "a model biased for the west, on a batch without west customers: it cannot catch a "
        "model that uses region. Try every region of datasets.CHURN_CATEGORIES['region'], also "
        "one in which no customer of X lives"
    ),
}


@register("07.2", NOTEBOOK, "An invariance test: region does not matter")
def _check_invariance(answer: object) -> tuple[Status, str]:
    first = _check_test_function(answer)
    if first is not None:
        return first
    for key, model, X, must_pass in _cases_0702():
        error, course = _run_watched(answer, model, X.copy())
        if course:
            return _course_call_refused(course)
        if must_pass and isinstance(error, AssertionError):
            if key == "blind":
                return INCORRECT, (
                    "Your test fails on a model that ignores region completely. Compare the "
                    "churn probabilities (predict_proba(...)[:, 1]) of the same rows before and "
                    "after setting region, row by row, and give the same answer for the same "
                    "model on every call."
                )
            return INCORRECT, (
                "Your test fails on a model whose churn probabilities move by about 0.04 when "
                "region changes, within the tolerance. Compare probabilities "
                "(predict_proba(...)[:, 1]), not labels, and allow the tolerance of 0.05: "
                "assert the largest change is <= 0.05."
            )
        if error is not None and not isinstance(error, AssertionError):
            if must_pass:
                return INCORRECT, (
                    f"Your test crashed with {_describe(error)}. It receives a fitted model and "
                    "a DataFrame X of churn features; set X's region with X.assign(region=...)."
                )
            return INCORRECT, (
                f"On a model that uses region your test raised {_describe(error)} instead of "
                "failing an assert. Use assert ..., 'message' so that pytest reports a failure."
            )
        if not must_pass and error is None:
            return INCORRECT, (
                f"Your test passes on {_FAILS_0702[key]}. A test that cannot fail is no test."
            )
    return CORRECT, (
        "Your test passes for models that ignore region (or nearly: within 0.05) and fails "
        "for those that use it, even for a region no customer of the batch lives in. That is "
        "an invariance test."
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
    wrong = [
        key
        for key, digest in _DESCRIBED_PIPELINE_DIGESTS.items()
        if _digest(key, given.points[key]) != digest
    ]
    if not wrong:
        sections = ", ".join(f"{name} {value:g}" for name, value in given.sections.items())
        return CORRECT, (
            f"{sections}: final score {given.final:g}, band {given.band.label}. "
            f"{' and '.join(given.weakest)} hold the pipeline back: a good data section "
            "does not make up for them."
        )
    too_high = [
        key
        for key in wrong
        if _digest(key, given.points[key] - 0.5) == _DESCRIBED_PIPELINE_DIGESTS[key]
        or _digest(key, 0.0) == _DESCRIBED_PIPELINE_DIGESTS[key]
    ]
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
