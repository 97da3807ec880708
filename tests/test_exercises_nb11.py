"""Tests of the exercise checks of notebook 11 (utils/exercises/nb11.py): each says "not
attempted" for the placeholder, gives a useful hint for typical wrong answers, and accepts the
solution."""

from __future__ import annotations

import fractions
import re

import adversarial
import numpy as np
import pytest
from adversarial import Case, Table

from utils import checks, stack
from utils.checks import CORRECT, INCORRECT, NOT_ATTEMPTED
from utils.exercises import nb11

MEASURED = {"mlflow": 0.042, "jsonl": 0.00005}  # seconds per logged run, as a notebook measures
CONTEXT = {"11.1": {}, "11.2": {}, "11.3": {"seconds_per_run": MEASURED}}


def test_notebook_11_has_three_exercises() -> None:
    exercises = checks.exercises("11")
    assert [e.id for e in exercises] == ["11.1", "11.2", "11.3"]
    assert {e.notebook for e in exercises} == {"11_choosing_your_stack"}


@pytest.mark.parametrize("exercise", ["11.1", "11.2", "11.3"])
@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholders_are_not_attempted(exercise: str, placeholder: object) -> None:
    assert checks.check(exercise, placeholder, **CONTEXT[exercise]).status == NOT_ATTEMPTED


# --------------------------------------------------------------------------- 11.1


def test_team_weights_solution_is_correct() -> None:
    solution = {"Cost": 3, "Coverage": 1, "Complexity": 2, "Community": 1}
    result = checks.check("11.1", solution)
    assert result.status == CORRECT, result.message
    assert "Python script + cron" in result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ({"Cost": 1, "Coverage": 1, "Complexity": 1}, "cannot be used: .*missing"),
        ("Cost first", "cannot be used"),
        ({"Cost": 1, "Coverage": 1, "Complexity": 3, "Community": 1}, "Cost matters most"),
        ({"Cost": 3, "Coverage": 2, "Complexity": 2, "Community": 1}, "Complexity comes second"),
        ({"Cost": 3, "Coverage": 1, "Complexity": 2, "Community": 2}, "Complexity comes second"),
        # The right order, but too close together: Prefect still wins.
        ({"Cost": 1.1, "Coverage": 1, "Complexity": 1.05, "Community": 1}, "Prefect still wins"),
    ],
)
def test_team_weights_wrong_answers_get_hints(answer: object, hint: str) -> None:
    result = checks.check("11.1", answer)
    assert result.status == INCORRECT
    assert re.search(hint, result.message), result.message


def test_the_order_alone_does_not_decide_the_team_exercise() -> None:
    # Both weightings respect the team's order; only the second gives the cron script.
    close = {"Cost": 1.1, "Coverage": 1, "Complexity": 1.05, "Community": 1}
    apart = {"Cost": 4, "Coverage": 1, "Complexity": 3, "Community": 1}
    matrix = stack.default_matrix()
    assert stack.winners(matrix, close)[nb11.TEAM_STAGE] != nb11.TEAM_TOOL
    assert stack.winners(matrix, apart)[nb11.TEAM_STAGE] == nb11.TEAM_TOOL
    assert checks.check("11.1", apart).passed


# --------------------------------------------------------------------------- 11.2


def test_hand_score_solution_is_correct() -> None:
    # DVC scores Cost 4, Coverage 4, Complexity 3, Community 4 in the default matrix.
    assert checks.check("11.2", (2 * 4 + 3 * 4 + 1 * 3 + 0 * 4) / 6).status == CORRECT
    assert checks.check("11.2", 3.83).status == CORRECT  # rounded to two decimals


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (23, "weighted sum"),
        (23 / 4, "number of criteria"),
        (3.75, "plain mean"),
        (7.5, "between 0 and 5"),
        (3.2, "Not quite"),
        ("3.83", "one number"),
        (True, "one number"),
    ],
)
def test_hand_score_wrong_answers_get_hints(answer: object, hint: str) -> None:
    result = checks.check("11.2", answer)
    assert result.status == INCORRECT
    assert hint in result.message, result.message


# --------------------------------------------------------------------------- 11.3


def test_nightly_minutes_solution_is_correct() -> None:
    expected = 5000 * (0.042 - 0.00005) / 60
    assert nb11._minutes_more(MEASURED) == pytest.approx(expected)
    result = checks.check("11.3", expected, seconds_per_run=MEASURED)
    assert result.status == CORRECT, result.message
    assert checks.check("11.3", round(expected, 1), seconds_per_run=MEASURED).passed


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (5000 * (0.042 - 0.00005), "in seconds"),
        (5000 * (0.042 - 0.00005) / 3600, "in hours"),
        (5000 * 0.042 / 60 + 1, "Not quite"),
        (-3.5, "positive"),
        ("3.5", "one number"),
    ],
)
def test_nightly_minutes_wrong_answers_get_hints(answer: object, hint: str) -> None:
    result = checks.check("11.3", answer, seconds_per_run=MEASURED)
    assert result.status == INCORRECT
    assert hint in result.message, result.message


def test_nightly_minutes_needs_the_measurement() -> None:
    # When the file's time is not negligible, the whole MLflow time is not the answer.
    slow_file = {"mlflow": 0.042, "jsonl": 0.010}
    result = checks.check("11.3", 5000 * 0.042 / 60, seconds_per_run=slow_file)
    assert result.status == INCORRECT and "whole time MLflow needs" in result.message
    with pytest.raises(TypeError, match="needs the keyword arguments"):
        checks.check("11.3", 3.5)
    with pytest.raises(TypeError, match="'mlflow' and 'jsonl'"):
        nb11._minutes_more({"mlflow": 0.04})


# --------------------------------------------------------------------------- adversarial tables


@pytest.fixture(scope="module")
def measured_context() -> dict[str, object]:
    """The context of 11.3 in the notebook's form: median seconds per logged run of each way."""
    return {"seconds_per_run": dict(MEASURED)}


_SOLUTION_WEIGHTS = {"Cost": 3, "Coverage": 1, "Complexity": 2, "Community": 1}
_DVC = (2 * 4 + 3 * 4 + 1 * 3 + 0 * 4) / 6


def _minutes(context: dict, factor: float = 1.0) -> float:
    s = context["seconds_per_run"]
    return factor * 5000 * (s["mlflow"] - s["jsonl"]) / 60


TABLES = [
    Table(
        "11.1",
        [
            Case("reference", "the solution cell's weights", _SOLUTION_WEIGHTS),
            Case(
                "alternative",
                "shares that add up to 1, as floats",
                {"Cost": 0.45, "Complexity": 0.35, "Coverage": 0.1, "Community": 0.1},
            ),
            Case(
                "alternative",
                "wider gaps",
                {"Cost": 4, "Coverage": 1, "Complexity": 3, "Community": 1},
            ),
            Case(
                "wrong",
                "order right, gaps too small",
                {"Cost": 1.1, "Coverage": 1, "Complexity": 1.05, "Community": 1},
                hint="still wins",
            ),
            Case(
                "wrong",
                "Complexity first",
                {"Cost": 1, "Coverage": 1, "Complexity": 3, "Community": 1},
                hint="Cost matters most",
            ),
            Case(
                "wrong",
                "Coverage as high as Complexity",
                {"Cost": 3, "Coverage": 2, "Complexity": 2, "Community": 1},
                hint="Complexity comes second",
            ),
            Case(
                "wrong",
                "a criterion missing",
                {"Cost": 1, "Coverage": 1, "Complexity": 1},
                hint="cannot be used",
            ),
            Case(
                "cheat", "the course's EQUAL_WEIGHTS", stack.EQUAL_WEIGHTS, hint="Cost matters most"
            ),
        ],
    ),
    Table(
        "11.2",
        [
            Case("reference", "the solution's weighted mean", _DVC),
            Case("alternative", "rounded to two decimals", round(_DVC, 2)),
            Case("alternative", "an exact fraction", fractions.Fraction(23, 6)),
            Case(
                "alternative",
                "numpy's average",
                float(np.average([4, 4, 3, 4], weights=[2, 3, 1, 0])),
            ),
            Case("wrong", "the weighted sum", 23, hint="weighted sum"),
            Case("wrong", "divided by four", 23 / 4, hint="number of criteria"),
            Case("wrong", "the plain mean", 3.75, hint="plain mean"),
            Case("wrong", "rounded to one decimal", 3.8, hint="within 0.01"),
            Case("wrong", "above the scale", 7.5, hint="between 0 and 5"),
            Case("cheat", "the course's SCALE", stack.SCALE, hint="stack.SCALE"),
        ],
    ),
    Table(
        "11.3",
        [
            Case("reference", "the solution's formula", lambda c: _minutes(c), lazy=True),
            Case(
                "alternative", "rounded to one decimal", lambda c: round(_minutes(c), 1), lazy=True
            ),
            Case(
                "alternative",
                "via milliseconds",
                lambda c: (
                    5000
                    * (1000 * c["seconds_per_run"]["mlflow"] - 1000 * c["seconds_per_run"]["jsonl"])
                    / 1000
                    / 60
                ),
                lazy=True,
            ),
            Case("wrong", "in seconds", lambda c: _minutes(c, 60), hint="in seconds", lazy=True),
            Case("wrong", "in hours", lambda c: _minutes(c, 1 / 60), hint="in hours", lazy=True),
            Case("wrong", "the sign flipped", lambda c: -_minutes(c), hint="positive", lazy=True),
            Case("wrong", "10 % off", lambda c: _minutes(c, 1.1), hint="within 2%", lazy=True),
            Case("cheat", "the course's NIGHTLY_RUNS", nb11.NIGHTLY_RUNS, hint="number of runs"),
        ],
        context="measured_context",
    ),
]

test_adversarial = adversarial.parametrize(TABLES)
