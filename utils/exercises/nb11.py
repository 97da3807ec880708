"""Exercise checks of notebook 11 (choosing your stack).

* 11.1: set weights for the 4Cs that express a described team's priorities and give it a
  given tool;
* 11.2: set weights for a team that shares its runs, and read the experiment-tracking tool the
  measured matrix gives them;
* 11.3: find the weight of Cost from which a hand-written file log would beat the tool the
  small team of 11.1, with the student's own 11.1 weights, chooses with the measured matrix.

The checks compute the expected answers with :mod:`utils.stack`: 11.1 on its default matrix,
11.2 and 11.3 on the measured matrix the check cell passes (``measured``, notebook 11 section
4.6), so the right answer follows what was measured on the student's machine; 11.3 also takes
the student's weights of 11.1 (``weights``). No attribute of this module holds an answer: the
checks test properties of the weights, and a module constant a student could read and hand back
would be a correct answer the check cannot refuse (refusing it by value would refuse the
natural answer too).
:func:`utils.checks.check` imports this module the first time a 11 exercise is checked.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import pandas as pd

from utils import stack
from utils.checks import CORRECT, INCORRECT, Status, register

__all__ = [
    "FILE_LOG",
    "SWITCH_TOLERANCE",
    "TEAM_STAGE",
    "TEAM_TOOL",
    "TRACKING",
]

NOTEBOOK = "11_choosing_your_stack"

#: Exercise 11.1: the job and the tool the small team should end up with.
TEAM_STAGE = "orchestration"
TEAM_TOOL = "Python script + cron"
#: Exercises 11.2 and 11.3: the job, and the hand-written candidate of 11.3.
TRACKING = "experiment tracking"
FILE_LOG = "JSON-lines file (hand-rolled)"
#: Exercise 11.3: how far (relative) from the weight of Cost an answer may be.
SWITCH_TOLERANCE = 0.02


def _number(answer: object) -> float | None:
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return None
    value = float(answer)
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------------------------------
# 11.1 Weights for a small team
# ---------------------------------------------------------------------------------------------


def _small_team_problem(answer: object) -> tuple[dict[str, float] | None, str]:
    """The weights of 11.1, or None and why they do not say the small team's priorities."""
    try:
        weights = stack.check_weights(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        return None, f"These weights cannot be used: {error}"
    cost, complexity = weights["Cost"], weights["Complexity"]
    coverage, community = weights["Coverage"], weights["Community"]
    if not cost > complexity:
        return None, (
            "The team says Cost matters most: give Cost a larger weight than every other "
            "criterion, Complexity included."
        )
    if not (complexity > coverage and complexity > community):
        return None, (
            "Complexity comes second for this team (nobody wants to run servers): give it a "
            "larger weight than Coverage and Community, and a smaller one than Cost."
        )
    table = stack.weighted_scores(stack.default_matrix(), weights)
    rows = table[table["stage"] == TEAM_STAGE].set_index("tool")
    best = rows.index[0]
    if best != TEAM_TOOL or rows.loc[TEAM_TOOL, "rank"] != 1:
        return None, (
            f"The order of your weights is right, but {best} still wins {TEAM_STAGE} "
            f"({rows.loc[best, 'weighted']:.2f} against {rows.loc[TEAM_TOOL, 'weighted']:.2f} "
            f"for {TEAM_TOOL}): its Coverage and Community still count too much. Make the gap "
            "between Cost and Complexity on one side and Coverage and Community on the other "
            "larger."
        )
    return weights, ""


@register("11.1", NOTEBOOK, "Weights for a small team")
def _check_team_weights(answer: object) -> tuple[Status, str]:
    weights, problem = _small_team_problem(answer)
    if weights is None:
        return INCORRECT, problem
    stack_now = stack.winners(stack.default_matrix(), weights)
    return CORRECT, (
        f"With these weights the team's stack is: {stack_now}. Note how the hand-rolled and "
        "simple tools move up when Cost and Complexity dominate."
    )


# ---------------------------------------------------------------------------------------------
# 11.2 A team that shares its runs
# ---------------------------------------------------------------------------------------------


def _tracking_tools(measured: pd.DataFrame) -> list[str]:
    rows = measured[measured["stage"] == TRACKING]
    return list(dict.fromkeys(rows["tool"]))


def _check_measured(measured: object) -> pd.DataFrame:
    """The measured matrix the check cell passes, validated (notebook 11, section 4.6)."""
    matrix = stack.check_matrix(measured)  # type: ignore[arg-type]
    rows = matrix[matrix["stage"] == TRACKING]
    if rows.empty or FILE_LOG not in set(rows["tool"]):
        raise TypeError("measured must be the measured matrix of section 4.6 (`measured`).")
    return matrix


@register("11.2", NOTEBOOK, "A team that shares its runs", needs=("measured",))
def _check_shared_team(answer: object, *, measured: pd.DataFrame) -> tuple[Status, str]:
    matrix = _check_measured(measured)
    if not isinstance(answer, Mapping) or set(answer) != {"weights", "tool"}:
        return INCORRECT, (
            'Give a dict with exactly two keys: {"weights": {...}, "tool": "..."}, the weights '
            "of the team and the tool your measured matrix ranks first with them."
        )
    try:
        weights = stack.check_weights(answer["weights"])
    except (TypeError, ValueError) as error:
        return INCORRECT, f"These weights cannot be used: {error}"
    others = max(weights["Cost"], weights["Complexity"])
    if not (weights["Coverage"] > weights["Community"] and weights["Coverage"] > others):
        return INCORRECT, (
            "Coverage matters most for this team (colleagues must see the runs): give it a larger "
            "weight than every other criterion."
        )
    if not weights["Community"] > others:
        return INCORRECT, (
            "Community comes second for this team (the tool must outlive the project): give it a "
            "larger weight than Cost and Complexity, and a smaller one than Coverage."
        )
    tool = answer["tool"]
    tools = _tracking_tools(matrix)
    if not isinstance(tool, str) or tool not in tools:
        return INCORRECT, (
            f"The tool must be one of the experiment-tracking tools of the measured matrix, "
            f"spelt as there: {tools}."
        )
    table = stack.weighted_scores(matrix, weights)
    rows = table[table["stage"] == TRACKING].set_index("tool")
    if rows.loc[tool, "rank"] != 1:
        equal = stack.winners(matrix, stack.EQUAL_WEIGHTS)[TRACKING]
        also = (
            " That is the tool of equal weights: rank with the team's weights instead."
            if tool == equal
            else ""
        )
        return INCORRECT, (
            f"The weights are right, but with them {tool} is not first in your measured matrix "
            f"(weighted {rows.loc[tool, 'weighted']:.2f}, rank {rows.loc[tool, 'rank']}).{also} "
            "Rank the experiment-tracking tools of `measured` with your weights "
            "(stack.weighted_scores or the formula of section 3)."
        )
    return CORRECT, (
        f"With these weights your measured matrix gives {tool} "
        f"(weighted {rows.loc[tool, 'weighted']:.2f}). Coverage and Community decide for this "
        "team; a measured Cost moves it only when the candidates are close on the rest."
    )


# ---------------------------------------------------------------------------------------------
# 11.3 When would the small team switch?
# ---------------------------------------------------------------------------------------------


def _switch_expected(matrix: pd.DataFrame, team: dict[str, float]) -> dict[str, float]:
    """The small team's tool(s) today -> the weight of Cost from which the file log beats it.

    Usually one tool; tools that tie for first place are all given (any of them is the team's
    choice today). ``math.inf`` means that no weight of Cost makes the file log win.
    """
    table = stack.weighted_scores(matrix, team)
    first = table[(table["stage"] == TRACKING) & (table["rank"] == 1)]["tool"]
    expected = {}
    for tool in first:
        if tool == FILE_LOG:
            expected[tool] = 0.0
            continue
        flip = stack.flip_weight(matrix, TRACKING, FILE_LOG, tool, "Cost", team)
        expected[tool] = math.inf if flip is None else flip
    return expected


@register("11.3", NOTEBOOK, "When would the small team switch?", needs=("measured", "weights"))
def _check_switch_weight(
    answer: object, *, measured: pd.DataFrame, weights: object
) -> tuple[Status, str]:
    matrix = _check_measured(measured)
    team, problem = _small_team_problem(weights)
    if team is None:
        return INCORRECT, (
            "Exercise 11.3 uses your weights of exercise 11.1 (weights=team_weights), and they "
            f"do not pass 11.1 yet. Solve 11.1 first. {problem}"
        )
    value = math.inf if _is_inf(answer) else _number(answer)
    if value is None:
        return INCORRECT, (
            f"Give one number, a weight of Cost, or math.inf; not a {type(answer).__name__}."
        )
    expected = _switch_expected(matrix, team)
    today = next(iter(expected))

    def close(target: float) -> bool:
        if math.isinf(target) or math.isinf(value):
            return math.isinf(target) and math.isinf(value)
        return abs(value - target) <= max(SWITCH_TOLERANCE * abs(target), 1e-6)

    for tool, target in expected.items():
        if close(target):
            if math.isinf(target):
                return CORRECT, (
                    f"No weight of Cost makes the file log beat {tool}: their measured Cost "
                    "scores are equal, so Cost cannot separate them, and the file log is behind "
                    "on the rest."
                )
            return CORRECT, (
                f"{tool} wins for the small team today; the file log would beat it from a Cost "
                f"weight of {target:.2f} (the team's is {team['Cost']:g}, the others kept)."
            )
    if value < 0:
        return INCORRECT, "A weight is 0 or more."
    if value == team["Cost"]:
        return INCORRECT, (
            f"{value:g} is the team's weight of Cost today. The question is from which weight of "
            "Cost the file log would win."
        )
    if math.isinf(value):
        return INCORRECT, (
            f"The measured Costs of the file log and {today} differ, so some weight of Cost does "
            "make the file log win: find where their weighted scores tie."
        )
    mistakes = []  # one value can match more than one mistake: name each
    for other in _tracking_tools(matrix):
        if other in expected or other == FILE_LOG:
            continue
        flip = stack.flip_weight(matrix, TRACKING, FILE_LOG, other, "Cost", team)
        if flip is not None and close(flip):
            mistakes.append(
                f"That is where the file log would beat {other}, but the small team's tool today "
                f"is {today}: compare the file log with that one."
            )
    equal = stack.flip_weight(matrix, TRACKING, FILE_LOG, today, "Cost", stack.EQUAL_WEIGHTS)
    if equal is not None and close(equal):
        mistakes.append(
            "That is the weight with the other three criteria at 1. Keep the small team's other "
            f"weights: {team}."
        )
    if mistakes:
        return INCORRECT, " Or: ".join(mistakes)
    return INCORRECT, (
        f"Not quite (an answer counts within {SWITCH_TOLERANCE:.0%}). Find the small team's tool "
        "today in your measured matrix, then the weight of Cost at which the file log's weighted "
        "score equals that tool's, the team's other weights kept (stack.flip_weight)."
    )


def _is_inf(answer: object) -> bool:
    return (
        isinstance(answer, numbers.Real)
        and not isinstance(answer, bool)
        and math.isinf(float(answer))
        and float(answer) > 0
    )
