"""Tests of the exercise checks of notebook 08 (utils/exercises/nb08.py): each says "not
attempted" for the placeholder, gives a useful hint for typical wrong answers, and accepts the
solution."""

from __future__ import annotations

import functools
import json
from typing import Any

import adversarial
import numpy as np
import pandas as pd
import pytest
from adversarial import Case, Table

from utils import checks, datasets, delivery
from utils.checks import CORRECT, INCORRECT, NOT_ATTEMPTED
from utils.exercises import nb08
from utils.exercises.nb08 import NOTHING, PROMOTE, ROLL_BACK


def test_notebook_08_has_three_exercises() -> None:
    exercises = checks.exercises("08")
    assert [e.id for e in exercises] == ["08.1", "08.2", "08.3"]
    assert {e.notebook for e in exercises} == {"08_continuous_delivery"}


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    weeks = datasets.make_churn(n_per_period=20, periods=1, seed=3)
    return weeks[list(datasets.CHURN_FEATURES)].head(3)


@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholders_are_not_attempted(placeholder: object, customers: pd.DataFrame) -> None:
    assert checks.check("08.1", placeholder).status == NOT_ATTEMPTED
    assert checks.check("08.2", placeholder, customers=customers).status == NOT_ATTEMPTED
    assert checks.check("08.3", placeholder).status == NOT_ATTEMPTED


# --------------------------------------------------------------------------- 08.1


def _unwritten(candidate, champion):
    # Your code here
    ...


def _solution(candidate, champion):
    if champion is None:
        return True
    saving = champion["cost_per_customer_eur"] - candidate["cost_per_customer_eur"]
    auc_loss = champion["roc_auc"] - candidate["roc_auc"]
    return saving >= 0.05 - 1e-9 and auc_loss <= 0.01 + 1e-9


def test_gate_rule_solution_is_correct() -> None:
    result = checks.check("08.1", _solution)
    assert result.status == CORRECT and result.passed


@pytest.mark.parametrize(
    "borrowed",
    [
        lambda c, ch: nb08.gate_rule(c, ch),
        functools.partial(nb08.gate_rule),
        lambda c, ch: bool(nb08.gate_rule(c, ch)) if ch is not None else True,
    ],
)
def test_a_rule_that_calls_the_courses_rule_is_refused(borrowed) -> None:
    result = checks.check("08.1", borrowed)
    assert result.status == INCORRECT and "write the rule yourself" in result.message
    # the course's rule works again afterwards
    assert nb08.gate_rule({"roc_auc": 0.8, "cost_per_customer_eur": 41.0}, None) is True


def test_numpy_booleans_are_accepted() -> None:
    assert checks.check("08.1", lambda c, ch: np.bool_(_solution(c, ch))).passed


def test_an_unwritten_rule_is_not_attempted() -> None:
    result = checks.check("08.1", _unwritten)
    assert result.status == NOT_ATTEMPTED and "does nothing yet" in result.message


@pytest.mark.parametrize(
    ("rule", "hint"),
    [
        (lambda c, ch: c["cost_per_customer_eur"] < ch["cost_per_customer_eur"], "None"),
        (
            lambda c, ch: ch is None or c["cost_per_customer_eur"] < ch["cost_per_customer_eur"],
            "at least 0.05 EUR",
        ),
        (
            lambda c, ch: (
                ch is None or c["cost_per_customer_eur"] <= ch["cost_per_customer_eur"] - 0.05
            ),
            "ROC AUC too",
        ),
        (lambda c, ch: "yes", "return True"),
        (lambda c, ch: c["roc_auc"] > ch["roc_auc"] if ch else True, "says"),
    ],
)
def test_wrong_rules_get_a_hint(rule, hint: str) -> None:
    result = checks.check("08.1", rule)
    assert result.status == INCORRECT
    assert hint in result.message


def test_a_value_instead_of_a_rule_gets_a_hint() -> None:
    result = checks.check("08.1", True)
    assert result.status == INCORRECT and "Give the rule itself" in result.message


# --------------------------------------------------------------------------- 08.2


def test_payload_solution_is_correct(customers: pd.DataFrame) -> None:
    body = {"dataframe_records": customers.to_dict(orient="records")}
    assert checks.check("08.2", body, customers=customers).passed
    assert checks.check("08.2", json.dumps(body), customers=customers).passed  # as JSON text


@pytest.mark.parametrize(
    ("make", "hint"),
    [
        (lambda df: df.to_dict(orient="records"), "one key"),
        (lambda df: delivery.payload(df), "delivery.payload"),
        (lambda df: {"dataframe_split": df.to_dict(orient="split")}, 'orient="records"'),
        (lambda df: {"dataframe_records": df.to_dict(orient="list")}, "list of dicts"),
        (lambda df: {"dataframe_records": df.to_dict(orient="records")[:2]}, "list of 3"),
        (lambda df: {"dataframe_records": df.iloc[::-1].to_dict(orient="records")}, "Row 0"),
        (
            lambda df: {"dataframe_records": df.drop(columns="contract").to_dict("records")},
            "Record 0",
        ),
        (lambda df: {"dataframe_records": [{1, 2}]}, "JSON"),
        (lambda df: df, "dict"),
        (lambda df: "not json", "not valid JSON"),
    ],
)
def test_wrong_payloads_get_a_hint(customers: pd.DataFrame, make, hint: str) -> None:
    result = checks.check("08.2", make(customers), customers=customers)
    assert result.status == INCORRECT
    assert hint in result.message


# --------------------------------------------------------------------------- 08.3


#: The notebook's solution of 08.3, written out as a student writes it.
_DECISIONS = {
    "the data tests fail": "nothing to undo",
    "the gate rejects the candidate": "nothing to undo",
    "the candidate's server does not start": "nothing to undo",
    "the served answers differ from the tested model's": "nothing to undo",
    "the smoke test passes": "promote",
    "after the promotion, monitoring finds the new champion worse": "roll back",
}


def _template() -> dict[str, object]:
    return dict.fromkeys(_DECISIONS, ...)


def test_decisions_template_is_not_attempted() -> None:
    result = checks.check("08.3", _template())
    assert result.status == NOT_ATTEMPTED and "roll back" in result.message


def test_decisions_solution_is_correct() -> None:
    answer = dict(_DECISIONS)
    assert checks.check("08.3", answer).passed
    shouting = {k: v.upper() for k, v in answer.items()}
    assert checks.check("08.3", shouting).passed


def test_wrong_decisions_get_a_hint() -> None:
    answer = dict(_DECISIONS)
    wrong = dict(answer, **{"the gate rejects the candidate": "roll back"})
    result = checks.check("08.3", wrong)
    assert result.status == INCORRECT and "Did the champion alias move" in result.message
    # the old order (promote, then serve) made this a rollback; the alias now moves last
    wrong = dict(answer, **{"the candidate's server does not start": "roll back"})
    result = checks.check("08.3", wrong)
    assert result.status == INCORRECT and "moves it last" in result.message
    after = "after the promotion, monitoring finds the new champion worse"
    wrong = dict(answer, **{after: NOTHING})
    result = checks.check("08.3", wrong)
    assert result.status == INCORRECT and "alias already moved" in result.message
    wrong = dict(answer, **{"the smoke test passes": "roll back"})
    assert "which stage comes last" in checks.check("08.3", wrong).message
    partial = dict(answer, **{"the smoke test passes": ...})
    assert "still has no answer" in checks.check("08.3", partial).message
    unknown = dict(answer, **{"the smoke test passes": "keep"})
    assert "not one of the actions" in checks.check("08.3", unknown).message
    missing = {k: v for k, v in answer.items() if k != "the data tests fail"}
    assert "missing" in checks.check("08.3", missing).message
    assert "dict" in checks.check("08.3", ["promote"]).message


# --------------------------------------------------------------------------- adversarial tables


def _customers_08_2() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The three customers of exercise 08.2, taken as notebook 08 takes them (rows 10, 20 and
    30), and the first three, whose body the notebook builds with ``delivery.payload``."""
    weeks = datasets.make_churn(n_per_period=40, periods=1, seed=3)
    columns = weeks[list(delivery.REQUEST_COLUMNS)]
    return columns.iloc[[10, 20, 30]], columns.head(3)


@pytest.fixture(scope="module")
def context_08_2() -> dict[str, Any]:
    """The check's keyword arguments for exercise 08.2."""
    return {"customers": _customers_08_2()[0]}


def _records(context: dict[str, Any]) -> dict[str, Any]:
    return {"dataframe_records": context["customers"].to_dict(orient="records")}


def _check_08_2(answer: object, context: dict[str, Any]) -> checks.CheckResult:
    return checks.check("08.2", answer, **context)


def test_the_notebooks_earlier_body_is_refused(context_08_2: dict[str, Any]) -> None:
    # the body the notebook sent before the exercise, and the course's own builder
    for cheat in (
        delivery.payload(_customers_08_2()[1]),
        delivery.payload(context_08_2["customers"]),
    ):
        result = _check_08_2(cheat, context_08_2)
        assert result.status == INCORRECT and "delivery.payload" in result.message


def _auc_0105_rule(c, ch):
    if ch is None:
        return True
    saving = ch["cost_per_customer_eur"] - c["cost_per_customer_eur"]
    return saving >= 0.05 - 1e-9 and ch["roc_auc"] - c["roc_auc"] <= 0.0105


def _gt_rule(c, ch):
    if ch is None:
        return True
    saving = ch["cost_per_customer_eur"] - c["cost_per_customer_eur"]
    return saving > 0.05 and ch["roc_auc"] - c["roc_auc"] < 0.01


def _no_tolerance_rule(c, ch):
    if ch is None:
        return True
    saving = ch["cost_per_customer_eur"] - c["cost_per_customer_eur"]
    return saving >= 0.05 and ch["roc_auc"] - c["roc_auc"] <= 0.01


def _tolerant_rule(c, ch):
    if ch is None:
        return True
    saving = ch["cost_per_customer_eur"] - c["cost_per_customer_eur"]
    return round(saving, 6) >= 0.05 and round(ch["roc_auc"] - c["roc_auc"], 6) <= 0.01


TABLES = [
    Table(
        "08.1",
        [
            Case(
                "reference",
                "the notebook's solution, with the tolerance",
                nb08_solution := (
                    lambda c, ch: (
                        ch is None
                        or (
                            ch["cost_per_customer_eur"] - c["cost_per_customer_eur"] >= 0.05 - 1e-9
                            and ch["roc_auc"] - c["roc_auc"] <= 0.01 + 1e-9
                        )
                    )
                ),
            ),
            Case("alternative", "rounding instead of a tolerance", _tolerant_rule),
            Case(
                "alternative",
                "numpy booleans",
                lambda c, ch: np.bool_(nb08_solution(c, ch)),
            ),
            Case("wrong", "> where >= is asked", _gt_rule, hint="'at least' is >="),
            Case("wrong", ">= without a float tolerance", _no_tolerance_rule, hint="1e-9"),
            Case(
                "wrong",
                "cost only",
                lambda c, ch: (
                    ch is None
                    or c["cost_per_customer_eur"] <= ch["cost_per_customer_eur"] - 0.05 + 1e-9
                ),
                hint="ROC AUC too",
            ),
            Case(
                "wrong",
                "forgets that there may be no champion",
                lambda c, ch: c["cost_per_customer_eur"] < ch["cost_per_customer_eur"],
                hint="champion is None",
            ),
            Case(
                "wrong",
                "an ROC AUC margin of 0.0105 (passes 0.01, refuses 0.011)",
                _auc_0105_rule,
                hint="ROC AUC too",
            ),
            Case("cheat", "always promote", lambda c, ch: True, hint="keep the champion"),
            Case("cheat", "the course's own rule", nb08.gate_rule, hint="write the rule yourself"),
            Case(
                "cheat",
                "a lambda that calls the course's rule",
                lambda c, ch: nb08.gate_rule(c, ch),
                hint="write the rule yourself",
            ),
            Case(
                "cheat",
                "functools.partial of the course's rule",
                functools.partial(nb08.gate_rule),
                hint="write the rule yourself",
            ),
        ],
    ),
    Table(
        "08.2",
        [
            Case(
                "reference",
                "to_dict(orient='records')",
                _records,
                lazy=True,
            ),
            Case(
                "alternative",
                "records built by hand, one dict per row",
                lambda ctx: {
                    "dataframe_records": [
                        {column: row[column] for column in ctx["customers"].columns}
                        for _, row in ctx["customers"].iterrows()
                    ]
                },
                lazy=True,
            ),
            Case(
                "alternative",
                "as JSON text (to_json)",
                lambda ctx: (
                    '{"dataframe_records": ' + ctx["customers"].to_json(orient="records") + "}"
                ),
                lazy=True,
            ),
            Case(
                "wrong",
                "the records without their key",
                lambda ctx: ctx["customers"].to_dict(orient="records"),
                hint="one key",
                lazy=True,
            ),
            Case(
                "wrong",
                "columns instead of records (orient='list')",
                lambda ctx: {"dataframe_records": ctx["customers"].to_dict(orient="list")},
                hint="list of dicts",
                lazy=True,
            ),
            Case(
                "wrong",
                "a column missing",
                lambda ctx: {
                    "dataframe_records": ctx["customers"]
                    .drop(columns="contract")
                    .to_dict(orient="records")
                },
                hint="Record 0",
                lazy=True,
            ),
            Case(
                "wrong",
                "the split form, written by hand",
                lambda ctx: {
                    "dataframe_split": ctx["customers"].to_dict(orient="split", index=False)
                },
                hint='orient="records"',
                lazy=True,
            ),
            Case(
                "cheat",
                "the notebook's earlier body (`body`, the first three customers)",
                lambda ctx: delivery.payload(_customers_08_2()[1]),
                hint="delivery.payload",
                lazy=True,
            ),
            Case(
                "cheat",
                "delivery.payload of the exercise's customers",
                lambda ctx: delivery.payload(ctx["customers"]),
                hint="delivery.payload",
                lazy=True,
            ),
            Case(
                "cheat",
                "the records of the first three customers, not of the asked ones",
                lambda ctx: {"dataframe_records": _customers_08_2()[1].to_dict(orient="records")},
                hint="Row 0",
                lazy=True,
            ),
            Case(
                "cheat",
                "an empty body",
                {"dataframe_records": []},
                hint="list of 3 records",
            ),
        ],
        context="context_08_2",
    ),
    Table(
        "08.3",
        [
            Case("reference", "the notebook's solution", dict(_DECISIONS)),
            Case(
                "alternative",
                "other case and spaces",
                {k: f" {v.upper()} " for k, v in _DECISIONS.items()},
            ),
            Case(
                "wrong",
                "roll back after a rejected candidate",
                dict(_DECISIONS, **{"the gate rejects the candidate": ROLL_BACK}),
                hint="Did the champion alias move",
            ),
            Case(
                "wrong",
                "the old order: roll back a candidate whose server does not start",
                dict(_DECISIONS, **{"the candidate's server does not start": ROLL_BACK}),
                hint="moves it last",
            ),
            Case(
                "wrong",
                "the old order: roll back when the served answers differ",
                dict(
                    _DECISIONS, **{"the served answers differ from the tested model's": ROLL_BACK}
                ),
                hint="moves it last",
            ),
            Case(
                "wrong",
                "nothing to undo after a promotion that went wrong",
                dict(
                    _DECISIONS,
                    **{"after the promotion, monitoring finds the new champion worse": NOTHING},
                ),
                hint="alias already moved",
            ),
            Case(
                "wrong",
                "no promotion after a passed smoke test",
                dict(_DECISIONS, **{"the smoke test passes": NOTHING}),
                hint="which stage comes last",
            ),
            Case(
                "cheat",
                "roll back always",
                dict.fromkeys(_DECISIONS, ROLL_BACK),
                hint="Did the champion alias move",
            ),
            Case(
                "cheat",
                "nothing to undo always",
                dict.fromkeys(_DECISIONS, NOTHING),
                hint="which stage comes last",
            ),
            Case(
                "cheat",
                "promote always",
                dict.fromkeys(_DECISIONS, PROMOTE),
                hint="Did the champion alias move",
            ),
            Case(
                "cheat",
                "copied from the check's answer key",
                {s: a for s, (a, _) in nb08._SITUATIONS.items()},
                hint="answer key",
            ),
            Case(
                "cheat",
                "a list of the actions",
                list(nb08.ACTIONS),
                hint="dict of situation",
            ),
        ],
    ),
]

test_adversarial = adversarial.parametrize(TABLES)
