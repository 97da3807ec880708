"""Exercise checks of notebook 08 (continuous delivery).

* 08.1: write a gate rule: promote a candidate only if it is cheaper than the champion by a
  margin and not much worse in ROC AUC;
* 08.2: build the JSON body of a REST request to a served MLflow model (``dataframe_split``,
  with or without ``index``, or ``dataframe_records``);
* 08.3: decide what the pipeline must do after each outcome of its stages (nothing to undo,
  promote the candidate, or roll back).

:func:`utils.checks.check` imports this module the first time a 08 exercise is checked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from utils.checks import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    Status,
    function_answer_problem,
    register,
)

__all__ = [
    "ACTIONS",
    "GATE_RULE_CASES",
    "NOTHING",
    "PROMOTE",
    "ROLL_BACK",
    "SITUATIONS",
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
    ("costlier by 0.30 EUR, better ROC AUC", _m(0.85, 41.8), _m(0.80, 41.5), False),
    ("cheaper by 0.50 EUR, ROC AUC 0.02 lower", _m(0.78, 41.0), _m(0.80, 41.5), False),
)


@register("08.1", NOTEBOOK, "A gate rule: cheaper by a margin, not much worse")
def _check_gate_rule(answer: object) -> tuple[Status, str]:
    problem = function_answer_problem(answer, "rule", "return True or False")
    if problem is not None:
        return problem
    if answer is gate_rule:
        return INCORRECT, (
            "That is the course's own rule (utils.exercises.nb08.gate_rule): write the rule "
            "yourself."
        )
    for description, candidate, champion, expected in GATE_RULE_CASES:
        try:
            decision = answer(dict(candidate), None if champion is None else dict(champion))
        except Exception as error:  # noqa: BLE001 - any error in student code is reported
            hint = (
                " With no champion, champion is None: check for that first."
                if champion is None
                else ""
            )
            return INCORRECT, (
                f"Your rule crashed on the case '{description}' with "
                f"{type(error).__name__}: {error}.{hint}"
            )
        if not isinstance(decision, (bool, np.bool_)):
            return INCORRECT, (
                f"Your rule returned {decision!r} for '{description}': return True (promote) "
                "or False (keep the champion)."
            )
        if bool(decision) != expected:
            say = "promote" if expected else "keep the champion"
            hint = ""
            if "exactly" in description:
                hint = (
                    " On the margin the rule promotes: 'at least' is >= and 'at most' is <=. "
                    "Compare with a tolerance of 1e-9, since in floats 41.5 - 41.45 is "
                    f"{41.5 - 41.45!r} and 0.80 - 0.79 is {0.80 - 0.79!r}."
                )
            elif "ROC AUC" in description and not expected:
                hint = " Check the ROC AUC too, not only the cost."
            elif not expected:
                hint = " Cheaper must mean cheaper by at least 0.05 EUR per customer."
            return INCORRECT, (
                f"For the case '{description}' (candidate {candidate}, champion {champion}) "
                f"your rule says {bool(decision)}, but the rule says to {say}.{hint}"
            )
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
            "'dataframe_split'."
        )
    if set(answer) not in ({"dataframe_split"}, {"dataframe_records"}):
        return INCORRECT, (
            f"The body has the keys {sorted(map(str, answer))}; it needs exactly one, "
            "'dataframe_split', which holds 'columns' and 'data' (or 'dataframe_records', "
            "one dict per customer)."
        )
    try:
        text = json.dumps(answer, allow_nan=False)
    except (TypeError, ValueError) as error:
        return INCORRECT, f"The body cannot be sent as JSON: {error}."
    columns = list(customers.columns)
    if "dataframe_records" in answer:
        records = json.loads(text)["dataframe_records"]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            return INCORRECT, "'dataframe_records' must be a list of dicts, one per customer."
        for i, record in enumerate(records):
            if set(record) != set(columns):
                return INCORRECT, (
                    f"Record {i} has the keys {sorted(record)}; each record needs exactly the "
                    f"customers' columns {columns}."
                )
        body = {"columns": columns, "data": [[r[c] for c in columns] for r in records]}
    else:
        split = answer["dataframe_split"]
        if not isinstance(split, Mapping) or not {"columns", "data"} <= set(split):
            return INCORRECT, (
                "'dataframe_split' must be a dict with the keys 'columns' and 'data'."
            )
        if not set(split) <= {"columns", "data", "index"}:
            extra = sorted(map(str, set(split) - {"columns", "data", "index"}))
            return INCORRECT, (
                f"'dataframe_split' holds only 'columns', 'data' and optionally 'index'; "
                f"remove {extra}."
            )
        body = json.loads(text)["dataframe_split"]
        if "index" in body and (
            not isinstance(body["index"], list) or len(body["index"]) != len(customers)
        ):
            return INCORRECT, (
                f"'index' is optional; if you send it, it is a list of {len(customers)} row "
                "labels, one per customer."
            )
        if not isinstance(body["columns"], list) or list(body["columns"]) != columns:
            return INCORRECT, (
                f"'columns' must name the customers' columns in their order: {columns}; got "
                f"{body['columns']}."
            )
    rows = [[_plain(v) for v in row] for row in customers.itertuples(index=False)]
    data = body["data"]
    if not isinstance(data, list) or len(data) != len(rows):
        got = len(data) if isinstance(data, list) else type(data).__name__
        return (
            INCORRECT,
            f"'data' must be a list of {len(rows)} rows (one per customer), got {got}.",
        )
    for i, (sent, expected) in enumerate(zip(data, rows, strict=True)):
        if not isinstance(sent, list) or len(sent) != len(expected):
            return INCORRECT, (
                f"Row {i} of 'data' must be a list of {len(expected)} values, one per column."
            )
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
    form = "dataframe_records" if "dataframe_records" in answer else "dataframe_split"
    return CORRECT, f"A valid {form} body for {len(rows)} customers: the served model accepts it."


# --------------------------------------------------------------------------- 08.3

#: The three actions of exercise 08.3.
NOTHING = "nothing to undo"
PROMOTE = "promote"
ROLL_BACK = "roll back"
ACTIONS: tuple[str, ...] = (NOTHING, PROMOTE, ROLL_BACK)

#: Situation -> (the right action, why).
SITUATIONS: dict[str, tuple[str, str]] = {
    "the data tests fail": (
        NOTHING,
        "the pipeline stops before training: the champion alias never moved",
    ),
    "the gate rejects the candidate": (
        NOTHING,
        "a rejected candidate is never registered: the alias did not move",
    ),
    "the candidate's server does not start": (
        NOTHING,
        "the candidate is served by its version number before the alias moves: stop its "
        "server, the champion still serves",
    ),
    "the served answers differ from the tested model's": (
        NOTHING,
        "the smoke test fails before the promotion: the alias never pointed at the candidate",
    ),
    "the smoke test passes": (
        PROMOTE,
        "the candidate's own server answered as tested: now move champion to it",
    ),
    "after the promotion, monitoring finds the new champion worse": (
        ROLL_BACK,
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
    missing = [s for s in SITUATIONS if s not in answer]
    if missing:
        return INCORRECT, f"Keep every situation of the exercise cell; missing: {missing}."
    if all(answer[s] is Ellipsis or answer[s] is None for s in SITUATIONS):
        return NOT_ATTEMPTED, "Replace each ... with one of " + ", ".join(map(repr, ACTIONS)) + "."
    for situation, (action, _why) in SITUATIONS.items():
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
