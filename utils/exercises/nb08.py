"""Exercise checks of notebook 08 (continuous delivery).

* 08.1: write a gate rule: promote a candidate only if it is cheaper than the champion by a
  margin and not much worse in ROC AUC;
* 08.2: build the JSON body of a REST request to a served MLflow model in the
  ``dataframe_records`` form (the ``dataframe_split`` form is what ``delivery.payload`` builds,
  so it is refused);
* 08.3: decide what the pipeline must do after each outcome of its stages (nothing to undo,
  promote the candidate, or roll back).

:func:`utils.checks.check` imports this module the first time a 08 exercise is checked.
"""

from __future__ import annotations

import functools
import json
import math
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
    "ACTIONS",
    "GATE_RULE_CASES",
    "NOTHING",
    "PROMOTE",
    "ROLL_BACK",
    "gate_rule",
]

NOTEBOOK = "08_continuous_delivery"

# --------------------------------------------------------------------------- 08.1


#: The margins of exercise 08.1's rule.
MIN_SAVING_EUR = 0.05
MAX_AUC_LOSS = 0.01
#: A difference within this of a margin counts as on the margin (floats: 41.5 - 41.45 is
#: 0.04999999999999716, not 0.05).
TOLERANCE = 1e-9


def gate_rule(candidate: Mapping[str, float], champion: Mapping[str, float] | None) -> bool:
    """The rule of exercise 08.1, as the solution writes it (notebook 08).

    Promote when there is no champion; otherwise only when the candidate's cost per customer
    is at least :data:`MIN_SAVING_EUR` lower than the champion's and its ROC AUC at most
    :data:`MAX_AUC_LOSS` lower, both to within :data:`TOLERANCE`.
    """
    if champion is None:
        return True
    saving = champion["cost_per_customer_eur"] - candidate["cost_per_customer_eur"]
    loss = champion["roc_auc"] - candidate["roc_auc"]
    return saving >= MIN_SAVING_EUR - TOLERANCE and loss <= MAX_AUC_LOSS + TOLERANCE


def _m(auc: float, cost: float) -> dict[str, float]:
    return {"roc_auc": auc, "cost_per_customer_eur": cost}


#: (description, candidate, champion, expected decision) for checking 08.1.
GATE_RULE_CASES: tuple[tuple[str, dict[str, float], dict[str, float] | None, bool], ...] = (
    ("no champion yet", _m(0.70, 45.0), None, True),
    ("cheaper by 0.50 EUR, same ROC AUC", _m(0.80, 41.0), _m(0.80, 41.5), True),
    ("cheaper by 0.20 EUR, ROC AUC 0.005 lower", _m(0.795, 41.3), _m(0.80, 41.5), True),
    ("cheaper by 0.06 EUR", _m(0.80, 41.44), _m(0.80, 41.5), True),
    ("cheaper by 0.30 EUR, ROC AUC 0.009 lower", _m(0.791, 41.2), _m(0.80, 41.5), True),
    ("cheaper by exactly 0.05 EUR", _m(0.80, 41.45), _m(0.80, 41.5), True),
    ("cheaper by 0.50 EUR, ROC AUC exactly 0.01 lower", _m(0.79, 41.0), _m(0.80, 41.5), True),
    ("cheaper by only 0.02 EUR", _m(0.83, 41.48), _m(0.80, 41.5), False),
    ("cheaper by only 0.049 EUR", _m(0.80, 41.451), _m(0.80, 41.5), False),
    ("cheaper by 0.50 EUR, ROC AUC 0.011 lower", _m(0.789, 41.0), _m(0.80, 41.5), False),
    ("cheaper by 0.50 EUR, ROC AUC 0.0102 lower", _m(0.7898, 41.0), _m(0.80, 41.5), False),
    ("costlier by 0.30 EUR, better ROC AUC", _m(0.85, 41.8), _m(0.80, 41.5), False),
    ("cheaper by 0.50 EUR, ROC AUC 0.02 lower", _m(0.78, 41.0), _m(0.80, 41.5), False),
)


def _gate_rule_crashed(description: str, arguments: Any, error: Exception) -> str:
    hint = (
        " With no champion, champion is None: check for that first." if arguments[1] is None else ""
    )
    return (
        f"Your rule crashed on the case '{description}' with {type(error).__name__}: {error}.{hint}"
    )


def _gate_rule_wrong(description: str, arguments: Any, expected: bool) -> str:
    say = "promote" if expected else "keep the champion"
    hint = ""
    if "exactly" in description:
        hint = (
            " On the margin the rule promotes: 'at least' is >= and 'at most' is <=. "
            "Compare with a tolerance of 1e-9, since in floats 41.5 - 41.45 is "
            f"{41.5 - 41.45!r} and 0.80 - 0.79 is {0.80 - 0.79!r}."
        )
    elif "ROC AUC" in description and not expected:
        hint = (
            " Check the ROC AUC too, not only the cost: it may be at most 0.01 lower "
            "(with the 1e-9 tolerance, no more)."
        )
    elif not expected:
        hint = " Cheaper must mean cheaper by at least 0.05 EUR per customer."
    candidate, champion = arguments
    return (
        f"For the case '{description}' (candidate {candidate}, champion {champion}) "
        f"your rule says {not expected}, but the rule says to {say}.{hint}"
    )


@register("08.1", NOTEBOOK, "A gate rule: cheaper by a margin, not much worse")
def _check_gate_rule(answer: object) -> tuple[Status, str]:
    problem = function_answer_problem(answer, "rule", "return True or False")
    if problem is not None:
        return problem
    if answer is gate_rule or (isinstance(answer, functools.partial) and answer.func is gate_rule):
        return INCORRECT, (
            "That is the course's own rule (utils.exercises.nb08.gate_rule): write the rule "
            "yourself."
        )
    if any(
        rule_calls(answer, (dict(c), None if ch is None else dict(ch)), gate_rule)
        for _, c, ch, _ in GATE_RULE_CASES
    ):
        return INCORRECT, (
            "Your rule calls the course's own rule (utils.exercises.nb08.gate_rule) and passes "
            "on its answer: write the rule yourself, from the two margins."
        )
    problem = rule_over_cases(
        answer,
        ((d, (dict(c), None if ch is None else dict(ch)), e) for d, c, ch, e in GATE_RULE_CASES),
        _gate_rule_crashed,
        _gate_rule_wrong,
        ("promote", "keep the champion"),
    )
    if problem is not None:
        return problem
    return CORRECT, (
        f"Your rule decides all {len(GATE_RULE_CASES)} cases as specified, including the "
        "edge cases at the margins."
    )


# --------------------------------------------------------------------------- 08.2


def _plain(value: Any) -> Any:
    """A cell value as JSON carries it (numpy scalars as Python numbers)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


@register("08.2", NOTEBOOK, "A REST request body for the served model", needs=("customers",))
def _check_payload(answer: object, *, customers: pd.DataFrame) -> tuple[Status, str]:
    if not isinstance(customers, pd.DataFrame):
        raise TypeError("Pass customers=<the DataFrame of the exercise> to the check.")
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError:
            return INCORRECT, "Your answer is a string but not valid JSON: give a dict."
    if not isinstance(answer, Mapping):
        return INCORRECT, (
            f"Give the body as a dict, got a {type(answer).__name__}. It has one key, "
            "'dataframe_records'."
        )
    if set(answer) == {"dataframe_split"}:
        return INCORRECT, (
            "A dataframe_split body: that is the form `delivery.payload` builds; build the "
            'records yourself with `DataFrame.to_dict(orient="records")`, under the key '
            "'dataframe_records'."
        )
    if set(answer) != {"dataframe_records"}:
        return INCORRECT, (
            f"The body has the keys {sorted(map(str, answer))}; it needs exactly one, "
            "'dataframe_records', which holds one dict per customer."
        )
    try:
        text = json.dumps(answer, allow_nan=False)
    except (TypeError, ValueError) as error:
        return INCORRECT, f"The body cannot be sent as JSON: {error}."
    columns = list(customers.columns)
    records = json.loads(text)["dataframe_records"]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return INCORRECT, "'dataframe_records' must be a list of dicts, one per customer."
    for i, record in enumerate(records):
        if set(record) != set(columns):
            return INCORRECT, (
                f"Record {i} has the keys {sorted(record)}; each record needs exactly the "
                f"customers' columns {columns}."
            )
    rows = [[_plain(v) for v in row] for row in customers.itertuples(index=False)]
    if len(records) != len(rows):
        return INCORRECT, (
            f"'dataframe_records' must be a list of {len(rows)} records (one per customer), "
            f"got {len(records)}."
        )
    for i, (record, expected) in enumerate(zip(records, rows, strict=True)):
        sent = [record[c] for c in columns]
        for column, a, b in zip(columns, sent, expected, strict=True):
            same = (
                math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
                if isinstance(a, (int, float)) and isinstance(b, (int, float))
                else str(a) == str(b)
            )
            if not same:
                return INCORRECT, (
                    f"Row {i}, column {column!r}: the body says {a!r}, the customer has {b!r}. "
                    "Keep the rows in their order and the values as they are."
                )
    return CORRECT, (
        f"A valid dataframe_records body for {len(rows)} customers: the served model accepts it."
    )


# --------------------------------------------------------------------------- 08.3

#: The three actions of exercise 08.3.
NOTHING = "nothing to undo"
PROMOTE = "promote"
ROLL_BACK = "roll back"
ACTIONS: tuple[str, ...] = (NOTHING, PROMOTE, ROLL_BACK)


def _own(action: str) -> str:
    """A new string object equal to ``action`` (not the interned constant), so that the check
    recognises an answer copied from :data:`_SITUATIONS` by the identity of its values."""
    return "".join(list(action))


#: Situation -> (the right action, why): the check's answer key, private.
_SITUATIONS: dict[str, tuple[str, str]] = {
    "the data tests fail": (
        _own(NOTHING),
        "the pipeline stops before training: the champion alias never moved",
    ),
    "the gate rejects the candidate": (
        _own(NOTHING),
        "a rejected candidate is never registered: the alias did not move",
    ),
    "the candidate's server does not start": (
        _own(NOTHING),
        "the candidate is served by its version number before the alias moves: stop its "
        "server, the champion still serves",
    ),
    "the served answers differ from the tested model's": (
        _own(NOTHING),
        "the smoke test fails before the promotion: the alias never pointed at the candidate",
    ),
    "the smoke test passes": (
        _own(PROMOTE),
        "the candidate's own server answered as tested: now move champion to it",
    ),
    "after the promotion, monitoring finds the new champion worse": (
        _own(ROLL_BACK),
        "the alias already points at the new version: move it back to the previous champion",
    ),
}


@register("08.3", NOTEBOOK, "What to do after each outcome")
def _check_actions(answer: object) -> tuple[Status, str]:
    if not isinstance(answer, Mapping):
        return INCORRECT, (
            f"Give a dict of situation -> action, got a {type(answer).__name__}. Start from "
            "the dict in the exercise cell."
        )
    missing = [s for s in _SITUATIONS if s not in answer]
    if missing:
        return INCORRECT, f"Keep every situation of the exercise cell; missing: {missing}."
    if all(answer[s] is Ellipsis or answer[s] is None for s in _SITUATIONS):
        return NOT_ATTEMPTED, "Replace each ... with one of " + ", ".join(map(repr, ACTIONS)) + "."
    if any(answer[s] is action for s, (action, _why) in _SITUATIONS.items()):
        return INCORRECT, (
            "These actions are copied from the check's own answer key "
            "(utils.exercises.nb08._SITUATIONS): decide each situation yourself, from the order "
            "of the pipeline's stages."
        )
    for situation, (action, _why) in _SITUATIONS.items():
        given = answer[situation]
        if given is Ellipsis or given is None:
            return INCORRECT, f"'{situation}' still has no answer: choose one of {list(ACTIONS)}."
        if not isinstance(given, str) or given.strip().lower() not in ACTIONS:
            return INCORRECT, (
                f"'{situation}': {given!r} is not one of the actions {list(ACTIONS)}."
            )
        if given.strip().lower() != action:
            if action == NOTHING:
                hint = (
                    "Did the champion alias move before this happened? The pipeline moves it "
                    "last, after the smoke test."
                )
            elif action == ROLL_BACK:
                hint = "The alias already moved to the new version: what must happen to it?"
            else:
                hint = (
                    "The candidate's own server answered as the tested model did: which stage "
                    "comes last?"
                )
            return INCORRECT, f"'{situation}': not {given!r}. {hint}"
    return CORRECT, (
        "Right: the champion alias moves only after the candidate's server has answered the "
        "smoke test, so every failure before it leaves nothing to undo; a rollback is for a "
        "problem found after the promotion."
    )
