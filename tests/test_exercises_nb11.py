"""Tests of the exercise checks of notebook 11 (utils/exercises/nb11.py): each says "not
attempted" for the placeholder, gives a useful hint for typical wrong answers, and accepts the
solution."""

from __future__ import annotations

import math
import re

import adversarial
import pandas as pd
import pytest
from adversarial import Case, Table

from utils import checks, stack
from utils.checks import CORRECT, INCORRECT, NOT_ATTEMPTED
from utils.exercises import nb11

STAGE, JSONL, SERVER = nb11.TRACKING, nb11.FILE_LOG, "MLflow (self-hosted)"
LOCAL, WANDB = "MLflow (local SQLite file)", "Weights & Biases (hosted)"


def measured_matrix(server_cost: float = 4, local_cost: float = 4) -> pd.DataFrame:
    """The measured matrix of notebook 11 (section 4.6), with the Cost scores a machine gives."""
    measured = stack.add_tool(
        stack.default_matrix(),
        STAGE,
        LOCAL,
        {"Cost": 4, "Coverage": 3, "Complexity": 4, "Community": 5},
        note="judgement: no server, runs on one computer",
    )
    for tool, cost in ((JSONL, 5), (SERVER, server_cost), (LOCAL, local_cost)):
        measured = stack.set_score(measured, STAGE, tool, "Cost", cost, note="median ms per run")
    return measured


MEASURED = measured_matrix()
#: Weights that solve 11.1 and 11.2, written here (the checks keep no answer to read).
SMALL = {"Cost": 3, "Coverage": 1, "Complexity": 2, "Community": 1}
SHARED = {"Cost": 1, "Coverage": 3, "Complexity": 1, "Community": 2}
CONTEXT = {
    "11.1": {},
    "11.2": {"measured": MEASURED},
    "11.3": {"measured": MEASURED, "weights": SMALL},
}


def test_no_answer_is_a_module_attribute() -> None:
    # A constant holding a solution could be handed back as the answer, and refusing it by
    # value would refuse the same weights written by hand: the module keeps none.
    for name in dir(nb11):
        value = getattr(nb11, name)
        if isinstance(value, dict):
            assert value not in (SMALL, SHARED), name


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


def test_shared_team_follows_the_measured_matrix() -> None:
    weights = SHARED
    assert checks.check("11.2", {"weights": weights, "tool": SERVER}, measured=MEASURED).passed
    # A machine where the server is slow and the local file fast: Coverage 3 and Community 2
    # still give the server a tie at best; W&B (judged) can come first when the server is slowest.
    slow_server = measured_matrix(server_cost=1, local_cost=5)
    table = stack.weighted_scores(slow_server, weights)
    first = set(table[(table["stage"] == STAGE) & (table["rank"] == 1)]["tool"])
    assert SERVER not in first
    for tool in first:
        assert checks.check("11.2", {"weights": weights, "tool": tool}, measured=slow_server).passed
    result = checks.check("11.2", {"weights": weights, "tool": SERVER}, measured=slow_server)
    assert result.status == INCORRECT and "not first" in result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ({"Cost": 1, "Coverage": 3, "Complexity": 1, "Community": 2}, "exactly two keys"),
        (
            {
                "weights": {"Cost": 3, "Coverage": 1, "Complexity": 2, "Community": 1},
                "tool": SERVER,
            },
            "Coverage matters most",
        ),
        (
            {
                "weights": {"Cost": 2, "Coverage": 3, "Complexity": 1, "Community": 2},
                "tool": SERVER,
            },
            "Community comes second",
        ),
        (
            {
                "weights": {"Cost": 1, "Coverage": 3, "Complexity": 1, "Community": 2},
                "tool": "MLflow",
            },
            "spelt as there",
        ),
        (
            {"weights": {"Cost": 1, "Coverage": 3, "Complexity": 1, "Community": 2}, "tool": LOCAL},
            "not first",
        ),
        ({"weights": {"Cost": 1, "Coverage": 3}, "tool": SERVER}, "cannot be used"),
    ],
)
def test_shared_team_wrong_answers_get_hints(answer: object, hint: str) -> None:
    result = checks.check("11.2", answer, measured=MEASURED)
    assert result.status == INCORRECT
    assert hint in result.message, result.message


# --------------------------------------------------------------------------- 11.3


@pytest.mark.parametrize(
    ("server_cost", "local_cost", "today", "expected"),
    [
        (4, 4, LOCAL, 8.0),  # a typical machine: (2 + 2 + 4) / (5 - 4)
        (3, 3, LOCAL, 4.0),  # a loaded machine: the Cost gap is 2 points
        (4, 5, LOCAL, math.inf),  # a fast local file: the same Cost as the file log
    ],
)
def test_switch_weight_follows_the_measurement(
    server_cost: float, local_cost: float, today: str, expected: float
) -> None:
    measured = measured_matrix(server_cost, local_cost)
    assert stack.winners(measured, SMALL)[STAGE] == today
    assert nb11._switch_expected(measured, SMALL) == {today: expected}
    result = checks.check("11.3", expected, measured=measured, weights=SMALL)
    assert result.status == CORRECT, result.message
    assert today in result.message


def test_switch_weight_accepts_either_tool_of_a_tie() -> None:
    # Server 5, local 4: the small team's weighted scores tie (3 * 5 + 15 = 3 * 4 + 16 + 2).
    measured = measured_matrix(server_cost=5, local_cost=4)
    expected = nb11._switch_expected(measured, SMALL)
    if len(expected) > 1:
        for weight in expected.values():
            assert checks.check("11.3", weight, measured=measured, weights=SMALL).passed


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (3, "weight of Cost today"),
        (7.0, "other three criteria at 1"),  # the equal-weights flip against the local file
        (math.inf, "differ"),
        (-8, "0 or more"),
        (8.5, "Not quite"),
        ("8", "one number"),
    ],
)
def test_switch_weight_wrong_answers_get_hints(answer: object, hint: str) -> None:
    result = checks.check("11.3", answer, measured=MEASURED, weights=SMALL)
    assert result.status == INCORRECT
    assert hint in result.message, result.message


def test_switch_weight_follows_the_students_own_weights() -> None:
    # Other weights that pass 11.1 give another flip weight: the check follows them.
    wider = {"Cost": 4, "Coverage": 1, "Complexity": 3, "Community": 1}
    assert checks.check("11.1", wider).passed
    today = stack.winners(MEASURED, wider)[STAGE]
    flip = stack.flip_weight(MEASURED, STAGE, JSONL, today, "Cost", wider)
    assert flip is not None and not math.isclose(flip, 8.0)
    assert checks.check("11.3", flip, measured=MEASURED, weights=wider).passed
    assert not checks.check("11.3", 8.0, measured=MEASURED, weights=wider).passed


def test_switch_weight_needs_weights_that_solve_11_1() -> None:
    result = checks.check("11.3", 8.0, measured=MEASURED, weights=stack.EQUAL_WEIGHTS)
    assert result.status == INCORRECT and "Solve 11.1 first" in result.message


def test_switch_weight_names_the_wrong_tool() -> None:
    # Against the server instead of the team's tool today (the local file).
    flip = stack.flip_weight(MEASURED, STAGE, JSONL, SERVER, "Cost", SMALL)
    assert flip is not None and not math.isclose(flip, 8.0)
    result = checks.check("11.3", flip, measured=MEASURED, weights=SMALL)
    assert result.status == INCORRECT and "would beat MLflow (self-hosted)" in result.message


def test_the_checks_refuse_a_matrix_that_is_not_the_measured_one() -> None:
    with pytest.raises(TypeError, match="measured matrix"):
        checks.check(
            "11.3",
            8.0,
            measured=stack.default_matrix().query("stage != @STAGE"),
            weights=SMALL,
        )


# --------------------------------------------------------------------------- adversarial tables


@pytest.fixture(scope="module")
def measured_context() -> dict[str, object]:
    """The context of 11.2 and 11.3 in the notebook's form: the measured matrix of section 4.6."""
    return {"measured": measured_matrix()}


@pytest.fixture(scope="module")
def switch_context() -> dict[str, object]:
    """The context of 11.3: the measured matrix and the student's weights of 11.1."""
    return {"measured": measured_matrix(), "weights": dict(SMALL)}


def _shared(context: dict, weights: dict | None = None) -> dict:
    weights = weights or {"Cost": 1, "Coverage": 3, "Complexity": 1, "Community": 2}
    return {"weights": weights, "tool": stack.winners(context["measured"], weights)[STAGE]}


def _switch(context: dict) -> float:
    team = context["weights"]
    today = stack.winners(context["measured"], team)[STAGE]
    flip = stack.flip_weight(context["measured"], STAGE, JSONL, today, "Cost", team)
    return math.inf if flip is None else flip


TABLES = [
    Table(
        "11.1",
        [
            Case(
                "reference",
                "the solution cell's weights",
                {"Cost": 3, "Coverage": 1, "Complexity": 2, "Community": 1},
            ),
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
            Case("reference", "the solution's weights and winner", lambda c: _shared(c), lazy=True),
            Case(
                "alternative",
                "shares as floats, criteria in another order",
                lambda c: _shared(
                    c, {"Community": 0.3, "Coverage": 0.5, "Complexity": 0.1, "Cost": 0.1}
                ),
                lazy=True,
            ),
            Case(
                "alternative",
                "Cost left out (weight 0)",
                lambda c: _shared(c, {"Cost": 0, "Coverage": 4, "Complexity": 1, "Community": 2}),
                lazy=True,
            ),
            Case(
                "wrong",
                "Community first",
                lambda c: {
                    "weights": {"Cost": 1, "Coverage": 2, "Complexity": 1, "Community": 3},
                    "tool": SERVER,
                },
                hint="Coverage matters most",
                lazy=True,
            ),
            Case(
                "wrong",
                "Cost as high as Community",
                {
                    "weights": {"Cost": 2, "Coverage": 3, "Complexity": 1, "Community": 2},
                    "tool": SERVER,
                },
                hint="Community comes second",
            ),
            Case(
                "wrong",
                "right weights, the equal-weights tool of a machine where the local file wins",
                lambda c: {"weights": dict(SHARED), "tool": LOCAL},
                hint="not first",
                lazy=True,
            ),
            Case(
                "wrong",
                "right weights, the tool's name shortened",
                {"weights": dict(SHARED), "tool": "MLflow"},
                hint="spelt as there",
            ),
            Case(
                "wrong",
                "only the weights",
                dict(SHARED),
                hint="exactly two keys",
            ),
            Case(
                "cheat",
                "the course's EQUAL_WEIGHTS and the default matrix's winner",
                {"weights": stack.EQUAL_WEIGHTS, "tool": SERVER},
                hint="Coverage matters most",
            ),
        ],
        context="measured_context",
    ),
    Table(
        "11.3",
        [
            Case("reference", "the solution's flip weight", lambda c: _switch(c), lazy=True),
            Case(
                "alternative", "rounded to one decimal", lambda c: round(_switch(c), 1), lazy=True
            ),
            Case(
                "alternative",
                "solved by hand: the gap on the rest over the gap on Cost",
                lambda c: (1 * (3 - 1) + 2 * (4 - 3) + 1 * (5 - 1)) / (5 - 4),
                lazy=True,
            ),
            Case("wrong", "the team's weight today", 3, hint="weight of Cost today"),
            Case(
                "wrong",
                "the other weights at 1",
                lambda c: stack.flip_weight(
                    c["measured"], STAGE, JSONL, LOCAL, "Cost", stack.EQUAL_WEIGHTS
                ),
                hint="other three criteria at 1",
                lazy=True,
            ),
            Case(
                "wrong",
                "against the server, not the team's tool",
                lambda c: stack.flip_weight(
                    c["measured"], STAGE, JSONL, SERVER, "Cost", c["weights"]
                ),
                hint="would beat MLflow (self-hosted)",
                lazy=True,
            ),
            Case("wrong", "never", math.inf, hint="differ"),
            Case("wrong", "10 % off", lambda c: 1.1 * _switch(c), hint="within 2%", lazy=True),
            Case("cheat", "the course's SWITCH_TOLERANCE", nb11.SWITCH_TOLERANCE, hint="Not quite"),
        ],
        context="switch_context",
    ),
]

test_adversarial = adversarial.parametrize(TABLES)
