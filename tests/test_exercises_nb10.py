"""Tests of the exercise checks of notebook 10 (utils/exercises/nb10.py): each says "not
attempted" for the placeholder, gives a useful hint for typical wrong answers, and accepts the
solution."""

from __future__ import annotations

import collections

import adversarial
import numpy as np
import pandas as pd
import pytest
from adversarial import Case, Table

from utils import checks, cycle
from utils.checks import CORRECT, INCORRECT, NOT_ATTEMPTED
from utils.exercises import nb10


def synthetic_sweep() -> pd.DataFrame:
    """A sweep table as cycle.sweep_seeds returns it, made up so that the pick moves with the
    price of a retraining: at 500 EUR monthly wins every seed, at 1,000 EUR every-3-months."""
    saves = {"never": (0, 0), "monthly": (20_000, 15), "every-3-months": (12_000, 5),
             "drift-triggered": (10_000, 6)}  # fmt: skip
    rows = []
    for seed in range(10):
        for policy, (saving, retrains) in saves.items():
            wobble = (seed * 7 + len(policy)) % 3 - 1
            noise = 0 if policy == "never" else 300 * wobble
            cost = 600_000.0 - saving + noise
            rows.append({"seed": seed, "policy": policy, "retrains": retrains,
                         "promotions": retrains // 2, "business_cost_eur": cost,
                         "control_cost_eur": 8_000.0, "accuracy_after_drift": 0.7,
                         "first_alert": 10.0})  # fmt: skip
    return pd.DataFrame(rows)


SWEEP = synthetic_sweep()


def test_notebook_10_has_three_exercises() -> None:
    exercises = checks.exercises("10")
    assert [e.id for e in exercises] == ["10.1", "10.2", "10.3"]
    assert {e.notebook for e in exercises} == {"10_full_cycle"}


@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholders_are_not_attempted(placeholder: object) -> None:
    assert checks.check("10.1", placeholder, sweep=SWEEP).status == NOT_ATTEMPTED
    assert checks.check("10.2", placeholder).status == NOT_ATTEMPTED
    assert checks.check("10.3", placeholder).status == NOT_ATTEMPTED


# --------------------------------------------------------------------------- 10.1


def test_policy_pick_follows_the_price_of_a_retraining() -> None:
    choices = nb10.policy_choices(SWEEP, nb10.EXERCISE_COST_EUR)
    assert choices["defensible"] == {"every-3-months"}
    assert nb10.policy_choices(SWEEP, 500)["defensible"] == {"monthly"}
    assert nb10.policy_choices(SWEEP, 10**6)["defensible"] == {"never"}
    result = checks.check("10.1", "every-3-months", sweep=SWEEP)
    assert result.passed and "10 of 10 seeds" in result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("monthly", "count the retrainings"),
        ("drift-triggered", "cheapest on only 0 of 10 seeds"),
        ("never", "retraining still pays"),
        ("weekly", "not one of the policies"),
        (3, "as a string"),
        (["monthly", "never"], "Pick one policy"),
    ],
)
def test_wrong_picks_get_hints(answer: object, hint: str) -> None:
    result = checks.check("10.1", answer, sweep=SWEEP)
    assert result.status == INCORRECT and hint in result.message


# --------------------------------------------------------------------------- 10.2


def _unwritten(report):
    # Your code here
    ...


def test_rule_solution_is_correct() -> None:
    def solution(report):
        return report.performance_alert or len(report.drifted_features) >= 2

    assert checks.check("10.2", solution).status == CORRECT
    assert not checks.check("10.2", nb10.trigger_rule).passed  # the course's own rule


def test_an_unwritten_rule_is_not_attempted() -> None:
    assert checks.check("10.2", _unwritten).status == NOT_ATTEMPTED


@pytest.mark.parametrize(
    ("rule", "hint"),
    [
        (lambda report: report.retrain, "One drifted feature is not enough"),
        (lambda report: len(report.drifted_features) >= 2, "performance_alert"),
        (lambda report: report.performance_alert, "should retrain"),
        (lambda report: report.performance_alert or report.prediction_drift, "Prediction drift"),
        (lambda report: "yes", "return True"),
        (lambda report: report.alerts, "crashed"),
        ("my_rule", "function"),
    ],
)
def test_wrong_rules_get_hints(rule: object, hint: str) -> None:
    result = checks.check("10.2", rule)
    assert result.status == INCORRECT and hint in result.message


def test_the_cases_cover_both_decisions_and_every_alert_kind() -> None:
    decisions = {expected for _, _, expected in nb10.RULE_CASES}
    assert decisions == {True, False}
    report = nb10.make_report(drifted=("usage_hours",), performance_alert=True)
    assert report.retrain and len(report.reasons) == 2 and nb10.trigger_rule(report)
    assert not nb10.make_report().retrain


# --------------------------------------------------------------------------- 10.3


def test_levels_solution_is_correct() -> None:
    assert checks.check("10.3", dict(nb10._LEVELS)).status == CORRECT


def test_levels_placeholder_dict_is_not_attempted() -> None:
    assert checks.check("10.3", dict.fromkeys(nb10.TEAMS, ...)).status == NOT_ATTEMPTED


def test_levels_wrong_answers_get_hints() -> None:
    teams = list(nb10.TEAMS)
    wrong = dict(nb10._LEVELS) | {teams[2]: 1}
    result = checks.check("10.3", wrong)
    assert result.status == INCORRECT and "Not level 1" in result.message
    half = dict(nb10._LEVELS) | {teams[4]: ...}
    assert "Not answered yet" in checks.check("10.3", half).message
    assert "0, 1 and 2" in checks.check("10.3", dict(nb10._LEVELS) | {teams[0]: "zero"}).message
    assert "missing" in checks.check("10.3", {teams[0]: 0}).message
    assert "dict" in checks.check("10.3", [0, 1, 2, 0, 1]).message


def test_the_levels_are_not_public() -> None:
    assert not isinstance(nb10.TEAMS, dict)
    assert list(nb10.TEAMS) == list(nb10._LEVELS)


# --------------------------------------------------------------------------- adversarial tables


@pytest.fixture(scope="module")
def sweep_context() -> dict[str, object]:
    """The context of 10.1: a sweep table (made up, so that the price moves the pick)."""
    return {"sweep": SWEEP}


def _solution_rule(report):
    return report.performance_alert or len(report.drifted_features) >= 2


def _rule_with_ifs(report):
    if report.performance_alert:
        return True
    return np.bool_(len(set(report.drifted_features)) > 1)


def _wrapper_of_the_course(report):
    return nb10.trigger_rule(report)


_borrowed = nb10.trigger_rule


def _alias_of_the_course(report):
    return _borrowed(report)


_SOLUTION_LEVELS = dict(zip(nb10.TEAMS, [0, 1, 2, 0, 1], strict=True))

TABLES = [
    Table(
        "10.1",
        [
            Case("reference", "the policy with the most wins at 1,000 EUR", "every-3-months"),
            Case("alternative", "capitals and spaces", " Every-3-Months "),
            Case("alternative", "a numpy string", np.str_("every-3-months")),
            Case("wrong", "the pick at the default price", "monthly", hint="count the retrainings"),
            Case("wrong", "never retrain while retraining pays", "never", hint="still pays"),
            Case("wrong", "a policy that never wins", "drift-triggered", hint="cheapest on only"),
            Case("wrong", "a policy that is not in the sweep", "weekly", hint="not one of"),
            Case("wrong", "the number of retrainings", 5, hint="as a string"),
            Case(
                "cheat",
                "the notebook's WINS at the default price, not repriced",
                lambda c: str(cycle.wins(c["sweep"], cycle.RETRAIN_COST_EUR).idxmax()),
                hint="count the retrainings",
                lazy=True,
            ),
            Case(
                "cheat",
                "every policy at once",
                ["never", "monthly", "every-3-months", "drift-triggered"],
                hint="Pick one policy",
            ),
        ],
        context="sweep_context",
    ),
    Table(
        "10.2",
        [
            Case("reference", "the solution cell's rule", _solution_rule),
            Case("alternative", "ifs, a set and a numpy bool", _rule_with_ifs),
            Case(
                "alternative",
                "a lambda with not/and",
                lambda r: not (not r.performance_alert and len(r.drifted_features) < 2),
            ),
            Case(
                "wrong",
                "the default trigger (any alert)",
                lambda r: r.retrain,
                hint="One drifted feature is not enough",
            ),
            Case(
                "wrong",
                "drift only",
                lambda r: len(r.drifted_features) >= 2,
                hint="performance_alert",
            ),
            Case(
                "wrong",
                "more than two features",
                lambda r: r.performance_alert or len(r.drifted_features) > 2,
                hint="should retrain",
            ),
            Case(
                "wrong",
                "the prediction counted as a feature",
                lambda r: r.performance_alert or len(r.drifted_features) + r.prediction_drift >= 2,
                hint="Prediction drift alone",
            ),
            Case(
                "wrong",
                "performance and drift both required",
                lambda r: r.performance_alert and len(r.drifted_features) >= 2,
                hint="enough on their own",
            ),
            Case("wrong", "returns a string", lambda r: "yes", hint="return True"),
            Case("wrong", "an attribute that does not exist", lambda r: r.alerts, hint="crashed"),
            Case(
                "cheat",
                "the course's own trigger_rule",
                nb10.trigger_rule,
                hint="course's own function",
            ),
            Case(
                "cheat",
                "a wrapper of the course's rule",
                _wrapper_of_the_course,
                hint="course's own function",
            ),
            Case(
                "cheat",
                "the course's rule under another name",
                _alias_of_the_course,
                hint="course's own function",
            ),
            Case("cheat", "always retrain", lambda r: True, hint="should not retrain"),
        ],
    ),
    Table(
        "10.3",
        [
            Case("reference", "the solution cell's levels", _SOLUTION_LEVELS),
            Case(
                "alternative",
                "an OrderedDict in reverse order with numpy ints",
                collections.OrderedDict(
                    (t, np.int64(v)) for t, v in reversed(_SOLUTION_LEVELS.items())
                ),
            ),
            Case(
                "wrong",
                "team 3 at level 1",
                _SOLUTION_LEVELS | {nb10.TEAMS[2]: 1},
                hint="Not level 1",
            ),
            Case(
                "wrong",
                "the hand-copied pipeline at level 2",
                _SOLUTION_LEVELS | {nb10.TEAMS[1]: 2},
                hint="Not level 2",
            ),
            Case(
                "wrong",
                "levels as words",
                _SOLUTION_LEVELS | {nb10.TEAMS[0]: "zero"},
                hint="0, 1 and 2",
            ),
            Case("wrong", "a list of levels", [0, 1, 2, 0, 1], hint="dict"),
            Case("wrong", "one team only", {nb10.TEAMS[0]: 0}, hint="missing"),
            Case("cheat", "the course's own answer dict", nb10._LEVELS, hint="course's own answer"),
            Case(
                "cheat", "every team at level 1", dict.fromkeys(nb10.TEAMS, 1), hint="Not level 1"
            ),
        ],
    ),
]

test_adversarial = adversarial.parametrize(TABLES)
