"""Exercise checks of notebook 10 (the full cycle).

* 10.1: pick the retraining policy to run when a retraining costs 1,000 EUR, from the seeds;
* 10.2: write a trigger rule: retrain on a performance alert, or when at least two features
  drifted;
* 10.3: say at which of Google Cloud's MLOps maturity levels each described team works.

:func:`utils.checks.check` imports this module the first time a 10 exercise is checked.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import pandas as pd

from utils.checks import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    Status,
    function_answer_problem,
    register,
)
from utils.exercises import rule_calls, rule_over_cases

__all__ = [
    "EXERCISE_COST_EUR",
    "RULE_CASES",
    "TEAMS",
    "make_report",
    "policy_choices",
    "trigger_rule",
]

NOTEBOOK = "10_full_cycle"

# --------------------------------------------------------------------------- 10.1

#: The retraining cost of exercise 10.1, EUR: twice the course's default (a day of review).
EXERCISE_COST_EUR = 1000.0


def policy_choices(sweep: pd.DataFrame, retrain_cost_eur: float) -> dict[str, Any]:
    """What the seed table says at ``retrain_cost_eur`` (exercise 10.1, notebook 10).

    Returns ``wins`` (seeds on which each policy is the cheapest), ``median`` (each policy's
    median saving against never retraining, EUR) and ``defensible``: the policies with the most
    wins or the largest median saving (never retraining counts, with a saving of 0).
    """
    # deferred: utils.cycle loads scipy.stats: +765 ms to import exercises.nb10
    from utils.cycle import seed_table, wins

    won = wins(sweep, retrain_cost_eur)
    median = seed_table(sweep, retrain_cost_eur).median()
    median["never"] = 0.0
    best = {str(won.idxmax()), str(median.idxmax())}
    best |= {str(p) for p in won.index if won[p] == won.max()}
    return {"wins": won, "median": median, "defensible": best}


@register("10.1", NOTEBOOK, "Pick a policy for a retraining cost", needs=("sweep",))
def _check_policy(answer: object, *, sweep: pd.DataFrame) -> tuple[Status, str]:
    # deferred: utils.cycle loads scipy.stats: +765 ms to import exercises.nb10
    from utils.cycle import RETRAIN_COST_EUR, seed_table

    choices = policy_choices(sweep, EXERCISE_COST_EUR)
    won, median = choices["wins"], choices["median"]
    names = list(won.index)
    if isinstance(answer, list | tuple | set | dict):
        return INCORRECT, (
            "Pick one policy, the one you would run: a single name such as 'monthly', not several."
        )
    if not isinstance(answer, str):
        return INCORRECT, f"Give the policy's name as a string, one of {names}."
    name = answer.strip().lower()
    if name not in names:
        return INCORRECT, f"{answer!r} is not one of the policies of the sweep: {names}."
    n = sweep["seed"].nunique()
    cost = f"{EXERCISE_COST_EUR:,.0f} EUR"
    if name in choices["defensible"]:
        return CORRECT, (
            f"At {cost} a retraining, {name} is the cheapest on {won[name]} of {n} seeds, with a "
            f"median saving of {median[name]:,.0f} EUR against never retraining. A decision "
            "from the spread over seeds, not from one run."
        )
    if name == "never":
        pays = int((seed_table(sweep, EXERCISE_COST_EUR) > 0).any(axis=1).sum())
        return INCORRECT, (
            f"At {cost} a retraining, retraining still pays on {pays} of {n} seeds: some "
            f"policy saves against never retraining. Compare the policies' wins and medians."
        )
    at_default = policy_choices(sweep, RETRAIN_COST_EUR)["defensible"]
    retrains = sweep.groupby("policy")["retrains"].median()
    if name in at_default:
        return INCORRECT, (
            f"{name} is a good pick at {RETRAIN_COST_EUR:,.0f} EUR a retraining, but count the "
            f"retrainings: it retrains about {retrains[name]:.0f} times, which costs "
            f"{retrains[name] * EXERCISE_COST_EUR:,.0f} EUR at {cost}. Price them with "
            f"cycle.seed_table(SWEEP, {EXERCISE_COST_EUR:.0f}) or "
            f"cycle.wins(SWEEP, {EXERCISE_COST_EUR:.0f})."
        )
    return INCORRECT, (
        f"At {cost} a retraining, {name} is the cheapest on only {won[name]} of {n} seeds "
        f"(median saving {median[name]:,.0f} EUR against never). Price the retrainings with "
        f"cycle.seed_table(SWEEP, {EXERCISE_COST_EUR:.0f}) and compare wins and medians over the "
        "seeds."
    )


# --------------------------------------------------------------------------- 10.2


def trigger_rule(report: Any) -> bool:
    """The rule of exercise 10.2, as the solution writes it (notebook 10): retrain when the
    performance alert fired, or when at least two features drifted."""
    return bool(report.performance_alert or len(report.drifted_features) >= 2)


def make_report(
    drifted: tuple[str, ...] = (),
    prediction_drift: bool = False,
    performance_alert: bool = False,
    week: int = 11,
) -> Any:
    """A :class:`utils.monitoring.MonitorReport` with the given alerts, for exercise 10.2."""
    # deferred: utils.monitoring loads scipy.stats: +590 ms to import exercises.nb10
    from utils.monitoring import MonitorReport

    reasons = []
    if drifted:
        reasons.append("feature drift: " + ", ".join(drifted))
    if prediction_drift:
        reasons.append("prediction drift: the churn probabilities moved")
    if performance_alert:
        reasons.append("performance: ROC AUC below the threshold")
    return MonitorReport(
        week=week,
        n=800,
        table=pd.DataFrame(),
        drifted_features=tuple(drifted),
        prediction_drift=prediction_drift,
        performance=None,
        performance_alert=performance_alert,
        retrain=bool(reasons),
        reasons=tuple(reasons),
    )


#: (description, report settings, expected decision) for checking 10.2.
RULE_CASES: tuple[tuple[str, dict[str, Any], bool], ...] = (
    ("no alert at all", {}, False),
    ("one feature drifted", {"drifted": ("monthly_charges",)}, False),
    ("only the predictions drifted", {"prediction_drift": True}, False),
    ("two features drifted", {"drifted": ("monthly_charges", "usage_hours")}, True),
    ("three features drifted", {"drifted": ("monthly_charges", "usage_hours", "contract")}, True),
    ("a performance alert", {"performance_alert": True}, True),
    ("a performance alert and one drifted feature",
     {"performance_alert": True, "drifted": ("usage_hours",)}, True),
    ("one feature and the predictions drifted",
     {"drifted": ("contract",), "prediction_drift": True}, False),
    ("one feature drifted and a performance alert, in another week",
     {"drifted": ("plan",), "performance_alert": True, "week": 30}, True),
    ("the predictions drifted and a performance alert",
     {"prediction_drift": True, "performance_alert": True}, True),
)  # fmt: skip


def _is_course_function(answer: object) -> bool:
    """True for a function of the course's ``utils`` (such as :func:`trigger_rule`), or one
    whose body only calls :func:`trigger_rule`."""
    if answer is trigger_rule:
        return True
    module = getattr(answer, "__module__", None) or ""
    if module == "utils" or module.startswith("utils."):
        return True
    code = getattr(answer, "__code__", None)
    return code is not None and "trigger_rule" in code.co_names


def _rule_crashed(description: str, arguments: Any, error: Exception) -> str:
    return (
        f"Your rule crashed on '{description}' with {type(error).__name__}: {error}. "
        "The report has the attributes performance_alert (True/False) and "
        "drifted_features (a tuple of names)."
    )


def _rule_wrong(description: str, arguments: Any, expected: bool) -> str:
    say = "retrain" if expected else "not retrain"
    hint = ""
    if "predictions" in description and not expected:
        hint = " Prediction drift alone is not in the rule."
    elif "one feature" in description and not expected:
        hint = " One drifted feature is not enough: count len(report.drifted_features)."
    elif "performance" in description:
        hint = " Look at report.performance_alert."
    elif "features drifted" in description:
        hint = (
            " Two drifted features are enough on their own, with or without a "
            "performance alert: count len(report.drifted_features)."
        )
    return f"For '{description}' the rule should {say}.{hint}"


@register("10.2", NOTEBOOK, "A trigger rule of your own")
def _check_rule(answer: object) -> tuple[Status, str]:
    problem = function_answer_problem(answer, "rule", "return True or False")
    if problem is not None:
        return problem
    if _is_course_function(answer):
        return INCORRECT, (
            "That is the course's own function, not a rule you wrote: write my_rule yourself, "
            "from report.performance_alert and report.drifted_features."
        )
    if any(rule_calls(answer, (make_report(**s),), trigger_rule) for _, s, _ in RULE_CASES):
        return INCORRECT, (
            "Your rule hands the decision to the course's own function (trigger_rule): "
            "write my_rule yourself, from report.performance_alert and "
            "report.drifted_features."
        )
    problem = rule_over_cases(
        answer,
        ((d, (make_report(**settings),), e) for d, settings, e in RULE_CASES),
        _rule_crashed,
        _rule_wrong,
        ("retrain", "do not retrain"),
    )
    if problem is not None:
        return problem
    return CORRECT, f"Your rule decides all {len(RULE_CASES)} cases right."


# --------------------------------------------------------------------------- 10.3

#: The teams of exercise 10.3 and their maturity level (Google Cloud's guide); private, since
#: the levels are the answer.
_LEVELS: dict[str, int] = {
    "A data scientist retrains the model in a notebook twice a year and emails the file to "
    "the engineers, who put it behind a prediction service.": 0,
    "A pipeline retrains the model on new data when monitoring raises an alert, validates data "
    "and model, and delivers a model that passes; the pipeline's own code is copied to the "
    "server by hand.": 1,
    "Every change to the pipeline's code is tested and built by CI and deployed automatically; "
    "the deployed pipeline retrains on triggers and delivers models through a registry, with a "
    "metadata store and an orchestrator.": 2,
    "This notebook's 'never' policy: the model built at the end of the history serves all "
    "fifteen months.": 0,
    "This notebook's 'drift-triggered' policy: the loop retrains, validates, gates and promotes "
    "by itself.": 1,
}

#: The teams of exercise 10.3, in the order of the exercise cell.
TEAMS: tuple[str, ...] = tuple(_LEVELS)

_WHY = {
    0: "manual steps, rare releases, no active monitoring: level 0",
    1: "continuous training with triggers, validation and delivery of models: level 1",
    2: "CI/CD of the pipeline itself (test, build, deploy) on top of level 1: level 2",
}


@register("10.3", NOTEBOOK, "Which maturity level?")
def _check_levels(answer: object) -> tuple[Status, str]:
    if answer is _LEVELS:
        return INCORRECT, (
            "That is the course's own answer, read from nb10: decide each team's level yourself."
        )
    if not isinstance(answer, Mapping):
        return INCORRECT, f"Give a dict {{team: level}}, not a {type(answer).__name__}."
    if all(v is Ellipsis or v is None for v in answer.values()):
        return NOT_ATTEMPTED, "Replace each ... by 0, 1 or 2."
    missing = [t for t in TEAMS if t not in answer]
    if missing:
        return INCORRECT, f"Keep the teams as keys; missing: {missing[0][:60]}..."
    for team, level in _LEVELS.items():
        given = answer[team]
        if given is Ellipsis or given is None:
            return INCORRECT, f"Not answered yet: {team[:70]}..."
        if isinstance(given, bool) or not isinstance(given, numbers.Integral):
            return INCORRECT, f"Levels are the numbers 0, 1 and 2, got {given!r}."
        if int(given) != level:
            return INCORRECT, (
                f"Not level {given}: '{team[:70]}...'. Look for what runs by itself: "
                "training? the pipeline's own build and deployment?"
            )
    return CORRECT, "; ".join(_WHY[level] for level in sorted(set(_LEVELS.values()))) + "."
