"""Exercise checks of notebook 11 (choosing your stack).

* 11.1: set weights for the 4Cs that express a described team's priorities and give it a
  given tool;
* 11.2: compute a weighted 4C score by hand;
* 11.3: turn a measured time per logged run into the cost of a nightly job.

The checks compute the expected answers with :mod:`utils.stack` on its default matrix, or from
the measurement the check cell passes. :func:`utils.checks.check` imports this module the first
time a 11 exercise is checked.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from utils import stack
from utils.checks import CORRECT, INCORRECT, Status, register

__all__ = [
    "HAND_WEIGHTS",
    "HAND_TOOL",
    "NIGHTLY_RUNS",
    "TEAM_STAGE",
    "TEAM_TOOL",
    "HAND_TOLERANCE",
    "MINUTES_TOLERANCE",
]

NOTEBOOK = "11_choosing_your_stack"

#: Exercise 11.1: the job and the tool the small team should end up with.
TEAM_STAGE = "orchestration"
TEAM_TOOL = "Python script + cron"
#: Exercise 11.2: the tool and the weights to compute by hand.
HAND_TOOL = "DVC"
HAND_WEIGHTS: dict[str, float] = {"Cost": 2, "Coverage": 3, "Complexity": 1, "Community": 0}
#: Exercise 11.3: runs logged by the nightly job.
NIGHTLY_RUNS = 5000
#: Exercise 11.2: how far (absolute) from the weighted score an answer may be.
HAND_TOLERANCE = 0.01
#: Exercise 11.3: how far (relative) from the extra minutes an answer may be.
MINUTES_TOLERANCE = 0.02


def _number(answer: object) -> float | None:
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return None
    value = float(answer)
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------------------------------
# 11.1 Weights for a small team
# ---------------------------------------------------------------------------------------------


@register("11.1", NOTEBOOK, "Weights for a small team")
def _check_team_weights(answer: object) -> tuple[Status, str]:
    try:
        weights = stack.check_weights(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        return INCORRECT, f"These weights cannot be used: {error}"
    cost, complexity = weights["Cost"], weights["Complexity"]
    coverage, community = weights["Coverage"], weights["Community"]
    if not cost > complexity:
        return INCORRECT, (
            "The team says Cost matters most: give Cost a larger weight than every other "
            "criterion, Complexity included."
        )
    if not (complexity > coverage and complexity > community):
        return INCORRECT, (
            "Complexity comes second for this team (nobody wants to run servers): give it a "
            "larger weight than Coverage and Community, and a smaller one than Cost."
        )
    table = stack.weighted_scores(stack.default_matrix(), weights)
    rows = table[table["stage"] == TEAM_STAGE].set_index("tool")
    best = rows.index[0]
    if best != TEAM_TOOL or rows.loc[TEAM_TOOL, "rank"] != 1:
        return INCORRECT, (
            f"The order of your weights is right, but {best} still wins {TEAM_STAGE} "
            f"({rows.loc[best, 'weighted']:.2f} against {rows.loc[TEAM_TOOL, 'weighted']:.2f} "
            f"for {TEAM_TOOL}): its Coverage and Community still count too much. Make the gap "
            "between Cost and Complexity on one side and Coverage and Community on the other "
            "larger."
        )
    stack_now = stack.winners(stack.default_matrix(), weights)
    return CORRECT, (
        f"With these weights the team's stack is: {stack_now}. Note how the hand-rolled and "
        "simple tools move up when Cost and Complexity dominate."
    )


# ---------------------------------------------------------------------------------------------
# 11.2 A weighted score by hand
# ---------------------------------------------------------------------------------------------


def _hand_expected() -> tuple[float, dict[str, float]]:
    table = stack.weighted_scores(stack.default_matrix(), HAND_WEIGHTS)
    row = table[table["tool"] == HAND_TOOL].iloc[0]
    return float(row["weighted"]), {c: float(row[c]) for c in stack.CRITERIA}


@register("11.2", NOTEBOOK, "A weighted score by hand")
def _check_hand_score(answer: object) -> tuple[Status, str]:
    value = _number(answer)
    if value is None:
        return INCORRECT, (
            f"Give one number, the weighted score of {HAND_TOOL}, not a {type(answer).__name__}."
        )
    expected, scores = _hand_expected()
    weighted_sum = sum(HAND_WEIGHTS[c] * scores[c] for c in stack.CRITERIA)
    if abs(value - expected) <= HAND_TOLERANCE:
        return CORRECT, (
            f"{weighted_sum:g} weighted points / {sum(HAND_WEIGHTS.values()):g} weight "
            f"= {expected:.3f} (accepted within {HAND_TOLERANCE}), on the same 0-5 scale as the "
            "scores."
        )
    if value == stack.SCALE:
        return INCORRECT, (
            f"{value:g} is stack.SCALE, the top of the score scale, not DVC's weighted score: "
            "multiply its four scores by the weights and divide by the sum of the weights."
        )
    if abs(value - weighted_sum) <= HAND_TOLERANCE:
        return INCORRECT, (
            f"{weighted_sum:g} is the weighted sum. Divide it by the sum of the weights, so that "
            "the result is on the 0-5 scale of the scores."
        )
    if abs(value - weighted_sum / len(stack.CRITERIA)) <= HAND_TOLERANCE:
        return INCORRECT, (
            "You divided by the number of criteria (4). Divide by the sum of the weights "
            f"({sum(HAND_WEIGHTS.values()):g}) instead: a weight of 0 leaves a criterion out."
        )
    plain = sum(scores.values()) / len(scores)
    if abs(value - plain) <= HAND_TOLERANCE:
        return INCORRECT, "That is the plain mean of the four scores: multiply each by its weight."
    if not 0 <= value <= stack.SCALE:
        return INCORRECT, "A weighted mean of scores from 0 to 5 is between 0 and 5."
    return INCORRECT, (
        f"Not quite (an answer counts within {HAND_TOLERANCE}). Read {HAND_TOOL}'s four scores "
        "from the matrix, multiply each by its weight, add them up and divide by the sum of the "
        "weights."
    )


# ---------------------------------------------------------------------------------------------
# 11.3 The measurement, scaled up
# ---------------------------------------------------------------------------------------------


def _minutes_more(seconds_per_run: Mapping[str, float], runs: int = NIGHTLY_RUNS) -> float:
    """Minutes that logging ``runs`` runs takes with MLflow more than with the JSON-lines file.

    Used by the check of exercise 11.3 (notebook 11). ``seconds_per_run`` has the keys
    ``"mlflow"`` and ``"jsonl"`` (measured seconds per logged run).

    Raises:
        TypeError: ``seconds_per_run`` is not a mapping with those two numbers.
    """
    if not isinstance(seconds_per_run, Mapping) or not {"mlflow", "jsonl"} <= set(seconds_per_run):
        raise TypeError("seconds_per_run must be a dict with the keys 'mlflow' and 'jsonl'.")
    mlflow_s, jsonl_s = (_number(seconds_per_run[k]) for k in ("mlflow", "jsonl"))
    if mlflow_s is None or jsonl_s is None:
        raise TypeError("The measured seconds per run must be numbers.")
    return runs * (mlflow_s - jsonl_s) / 60


@register("11.3", NOTEBOOK, "The measurement, scaled up", needs=("seconds_per_run",))
def _check_nightly_minutes(
    answer: object, *, seconds_per_run: Mapping[str, float]
) -> tuple[Status, str]:
    value = _number(answer)
    if value is None:
        return INCORRECT, f"Give one number (minutes), not a {type(answer).__name__}."
    expected = _minutes_more(seconds_per_run)

    def close(target: float) -> bool:
        return abs(value - target) <= max(MINUTES_TOLERANCE * abs(target), 1e-3)

    if value == NIGHTLY_RUNS:
        return INCORRECT, (
            f"{NIGHTLY_RUNS:,} is the number of runs, not minutes: multiply it by the difference "
            "of the two measured times per run, and divide by 60."
        )
    if close(expected):
        return CORRECT, (
            f"{NIGHTLY_RUNS:,} runs x {1000 * seconds_per_run['mlflow']:.1f} ms against "
            f"{1000 * seconds_per_run['jsonl']:.3f} ms: about {expected:.1f} minutes more a night "
            f"with MLflow, on this machine (accepted within {MINUTES_TOLERANCE:.0%})."
        )
    if close(expected * 60):
        return INCORRECT, "That is in seconds: divide by 60 to get minutes."
    if close(expected / 60):
        return INCORRECT, "That is in hours: give minutes."
    if close(NIGHTLY_RUNS * float(seconds_per_run["mlflow"]) / 60):
        return INCORRECT, (
            "That is the whole time MLflow needs. Subtract what the JSON-lines file needs for "
            "the same runs: the question is how much *more*."
        )
    if close(expected * 1000) or close(expected * 60 * 1000):
        return INCORRECT, "Mind the units: the measured times are in seconds, not milliseconds."
    if value < 0:
        return INCORRECT, "MLflow is the slower of the two here: the difference is positive."
    return INCORRECT, (
        f"Not quite (an answer counts within {MINUTES_TOLERANCE:.0%}): multiply the "
        "difference of the two times per run (in seconds) by "
        f"{NIGHTLY_RUNS:,} runs, and divide by 60."
    )
