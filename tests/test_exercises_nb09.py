"""Tests of the exercise checks of notebook 09 (utils/exercises/nb09.py): "not attempted" for the
placeholder, a useful hint for the typical wrong answers, and the solution accepted."""

from __future__ import annotations

import functools
import math

import adversarial
import numpy as np
import pandas as pd
import pytest
from adversarial import Case, Table

from utils import checks, datasets, monitoring, training
from utils.exercises import nb09


def test_notebook_09_has_three_exercises() -> None:
    exercises = checks.exercises("09")
    assert [e.id for e in exercises] == ["09.1", "09.2", "09.3"]
    assert {e.notebook for e in exercises} == {"09_monitoring_and_drift"}


@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholders_are_not_attempted(placeholder: object) -> None:
    for exercise, context in (("09.1", {}), ("09.2", {}), ("09.3", {"n_tests": 10})):
        result = checks.check(exercise, placeholder, **context)
        assert result.status == "not attempted" and not result.passed


# --------------------------------------------------------------------------- 09.1


def _shares() -> tuple[np.ndarray, np.ndarray]:
    e = np.array(list(nb09.REFERENCE_SHARES.values()))
    a = np.array([nb09.BATCH_SHARES[k] for k in nb09.REFERENCE_SHARES])
    return e, a


def _no_return(reference, batch):
    terms = (batch - reference) * np.log(batch / reference)  # noqa: F841 - the mistake


def _my_psi(reference, batch):
    """The solution cell's function."""
    return float(np.sum((batch - reference) * np.log(batch / reference)))


def test_psi_by_hand_accepts_the_formula() -> None:
    e, a = _shares()
    assert float(np.sum((a - e) * np.log(a / e))) == pytest.approx(0.0588, abs=1e-4)  # by hand
    result = checks.check("09.1", _my_psi)
    assert result.passed and "stable" in result.message and "chi-square" in result.message
    assert nb09.PSI_TOLERANCE == 1e-4


def test_psi_trials_start_with_the_contract_shares_and_tell_mistakes_apart() -> None:
    assert nb09.PSI_TRIALS[0] == (
        tuple(nb09.REFERENCE_SHARES.values()),
        tuple(nb09.BATCH_SHARES[k] for k in nb09.REFERENCE_SHARES),
    )
    # A function that is right on the contract shares only is caught on the next pair.
    assert not checks.check("09.1", lambda e, a: _my_psi(*_shares())).passed


def test_an_unwritten_psi_function_is_not_attempted() -> None:
    def my_psi(reference, batch):
        # your code here
        ...

    assert checks.check("09.1", my_psi).status == "not attempted"


# --------------------------------------------------------------------------- 09.2


@pytest.fixture(scope="module")
def mystery_result() -> monitoring.StreamResult:
    """The notebook's monitor (seed 42, weeks 0-7 of 1,000 customers) on the mystery stream."""
    data = datasets.make_churn(n_per_period=1000, periods=8, seed=42)
    model = training.train(training.TrainConfig("logistic_regression", seed=42), data).model
    monitor = monitoring.Monitor(data, model)
    return monitoring.monitor_stream(monitor, nb09.mystery_stream(), label_delay=None)


def test_the_mystery_stream_drifts_in_exactly_the_planted_features(mystery_result) -> None:
    assert set(mystery_result.drifted_features()) == nb09._MYSTERY_DRIFTED
    assert list(mystery_result.summary["week"]) == [24, 25, 26, 27]
    stream = nb09.mystery_stream()
    assert stream.equals(nb09.mystery_stream())  # seeded: the same stream every time
    assert set(stream["payment_method"].cat.categories) == set(
        datasets.CHURN_CATEGORIES["payment_method"]
    )


def test_which_features_drifted_accepts_the_solution(mystery_result) -> None:
    assert checks.check("09.2", mystery_result.drifted_features()).passed
    assert checks.check("09.2", {"payment_method", "tenure_months"}).passed


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        ("tenure_months", "one string"),
        (42, "set or list"),
        ({"tenure_months", "payment_method", "prediction"}, "model's output"),
        ({"tenure", "payment_method"}, "not features"),
        ({"tenure_months", "payment_method", "region"}, "region did not drift"),
        ({"tenure_months"}, "1 of the 2"),
    ],
)
def test_which_features_drifted_hints(wrong: object, hint: str) -> None:
    result = checks.check("09.2", wrong)
    assert result.status == "incorrect" and hint in result.message


# --------------------------------------------------------------------------- 09.3


def test_threshold_accepts_bonferroni_for_one_false_alarm_a_year() -> None:
    result = checks.check("09.3", 1 / 52 / 10, n_tests=10)
    assert result.passed and "0.00192" in result.message
    assert checks.check("09.3", 1 / 52 / 5, n_tests=5).passed
    assert not checks.check("09.3", 1 / 52 / 10, n_tests=5).passed


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (1 / 52, "whole week"),
        (0.005, "default alpha"),
        (1 / 52 / 9, "Count the tests again"),
        (1 / 52 / 10 / 52, "twice"),
        ("0.002", "one number"),
        (0.01, "Not quite"),
    ],
)
def test_threshold_hints(wrong: object, hint: str) -> None:
    result = checks.check("09.3", wrong, n_tests=10)
    assert result.status == "incorrect" and hint in result.message


def test_threshold_needs_the_number_of_tests() -> None:
    with pytest.raises(TypeError, match="needs the keyword arguments"):
        checks.check("09.3", 0.002)
    with pytest.raises(TypeError, match="n_tests"):
        checks.check("09.3", 0.002, n_tests=0)


def test_the_solution_threshold_keeps_false_alarms_near_one_a_year() -> None:
    """The rule the solution computes, on 10 independent uniform p-values per null week: the
    share of weeks with an alarm is about 1/52 (Bonferroni is at most that)."""
    threshold = 1 / 52 / 10
    rng = np.random.default_rng(0)
    weeks = 20_000
    alarms = (rng.random((weeks, 10)) < threshold).any(axis=1).mean()
    rate = 1 / 52
    assert alarms <= rate + 3 * math.sqrt(rate * (1 - rate) / weeks)
    assert alarms > 0.9 * rate  # and the price in missed drift is not paid for nothing


# --------------------------------------------------------------------------- adversarial tables


@functools.cache
def _monitor() -> monitoring.Monitor:
    """The notebook's monitor: seed 42, weeks 0-7 of 1,000 customers, logistic regression."""
    data = datasets.make_churn(n_per_period=1000, periods=8, seed=42)
    model = training.train(training.TrainConfig("logistic_regression", seed=42), data).model
    return monitoring.Monitor(data, model)


@functools.cache
def _mystery() -> monitoring.StreamResult:
    return monitoring.monitor_stream(_monitor(), nb09.mystery_stream(), label_delay=None)


@pytest.fixture(scope="module")
def threshold_context() -> dict[str, object]:
    """The context of 09.3 as the notebook builds it: the monitor's number of tests."""
    return {"n_tests": _monitor().n_tests}


_WEEKLY = 1 / nb09.WEEKS_PER_YEAR

TABLES = [
    Table(
        "09.1",
        [
            Case("reference", "the solution cell's numpy sum", _my_psi),
            Case(
                "alternative",
                "a loop with math.log over the pairs of shares",
                lambda e, a: sum((y - x) * math.log(y / x) for x, y in zip(e, a, strict=True)),
            ),
            Case(
                "alternative",
                "np.dot of the differences and the log ratios, a numpy float",
                lambda e, a: np.dot(a - e, np.log(a) - np.log(e)),
            ),
            Case("wrong", "in percentages", lambda e, a: 100 * _my_psi(e, a), hint="percentages"),
            Case(
                "wrong",
                "KL divergence",
                lambda e, a: float(np.sum(a * np.log(a / e))),
                hint="one direction",
            ),
            Case(
                "wrong",
                "log base 10",
                lambda e, a: float(np.sum((a - e) * np.log10(a / e))),
                hint="log base 10",
            ),
            Case(
                "wrong",
                "the mean of the terms",
                lambda e, a: float(np.mean((a - e) * np.log(a / e))),
                hint="mean of the terms",
            ),
            Case(
                "wrong",
                "the log ratio turned over",
                lambda e, a: float(np.sum((a - e) * np.log(e / a))),
                hint="never negative",
            ),
            Case(
                "wrong",
                "rounded to two decimals",
                lambda e, a: round(_my_psi(e, a), 2),
                hint="rounded too early",
            ),
            Case("wrong", "the number, not a function", 0.0588, hint="PSI function itself"),
            Case("wrong", "forgot the return", _no_return, hint="return line"),
            Case(
                "cheat",
                "the course's psi_from_shares",
                monitoring.psi_from_shares,
                hint="course's own PSI function",
            ),
            Case(
                "cheat",
                "a wrapper of the course's function",
                lambda e, a: monitoring.psi_from_shares(e, a),
                hint="course's own PSI function",
            ),
            Case(
                "cheat",
                "the contract PSI typed in",
                lambda e, a: 0.0588,
                hint="for other shares too",
            ),
            Case(
                "cheat",
                "the course's threshold",
                lambda e, a: monitoring.PSI_MODERATE,
                hint="constant of the course",
            ),
        ],
    ),
    Table(
        "09.2",
        [
            Case(
                "reference",
                "the monitor's drifted features",
                lambda c: set(_mystery().drifted_features()),
                lazy=True,
            ),
            Case("alternative", "a sorted list", sorted(nb09._MYSTERY_DRIFTED)),
            Case("alternative", "a pandas Index", pd.Index(["payment_method", "tenure_months"])),
            Case("alternative", "a numpy array", np.array(["tenure_months", "payment_method"])),
            Case(
                "wrong",
                "with the prediction",
                {"tenure_months", "payment_method", "prediction"},
                hint="model's output",
            ),
            Case("wrong", "only one of the two", ["tenure_months"], hint="1 of the 2"),
            Case("wrong", "one string", "tenure_months", hint="one string"),
            Case("wrong", "a misspelt feature", {"tenure", "payment_method"}, hint="not features"),
            Case(
                "wrong",
                "the drift of the first week plus region",
                lambda c: set(_mystery().drifted_features()) | {"region"},
                hint="region did not drift",
                lazy=True,
            ),
            Case(
                "cheat",
                "the course's answer constant",
                nb09._MYSTERY_DRIFTED,
                hint="course's own answer",
            ),
            Case(
                "cheat",
                "every feature of the course",
                list(datasets.CHURN_FEATURES),
                hint="did not drift",
            ),
        ],
    ),
    Table(
        "09.3",
        [
            Case(
                "reference",
                "the solution: weekly rate / n_tests",
                lambda c: _WEEKLY / c["n_tests"],
                lazy=True,
            ),
            Case(
                "alternative",
                "one product in the denominator",
                lambda c: 1 / (nb09.WEEKS_PER_YEAR * c["n_tests"]),
                lazy=True,
            ),
            Case(
                "alternative",
                "Sidak instead of Bonferroni",
                lambda c: 1 - (1 - _WEEKLY) ** (1 / c["n_tests"]),
                lazy=True,
            ),
            Case(
                "alternative",
                "the course's Thresholds with the weekly rate",
                lambda c: monitoring.Thresholds(alpha=_WEEKLY).pvalue_threshold(c["n_tests"]),
                lazy=True,
            ),
            Case("wrong", "the weekly rate, undivided", _WEEKLY, hint="whole week"),
            Case(
                "wrong",
                "one test too few",
                lambda c: _WEEKLY / (c["n_tests"] - 1),
                hint="Count the tests again",
                lazy=True,
            ),
            Case(
                "wrong",
                "divided by 52 twice",
                lambda c: _WEEKLY / c["n_tests"] / nb09.WEEKS_PER_YEAR,
                hint="twice",
                lazy=True,
            ),
            Case("wrong", "not a probability", 2.0, hint="between 0 and 1"),
            Case(
                "cheat",
                "the monitor's own threshold (alpha 0.05)",
                lambda c: monitoring.Thresholds().pvalue_threshold(c["n_tests"]),
                hint="default alpha",
                lazy=True,
            ),
            Case(
                "cheat", "the course's WEEKS_PER_YEAR", nb09.WEEKS_PER_YEAR, hint="between 0 and 1"
            ),
        ],
        context="threshold_context",
    ),
]

test_adversarial = adversarial.parametrize(TABLES)
