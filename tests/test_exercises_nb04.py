"""Tests of the exercise checks of notebook 04 (utils/exercises/nb04.py)."""

from __future__ import annotations

import dataclasses

import adversarial
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from adversarial import Case, Table

from utils import checks, datasets
from utils.exercises import nb04


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return datasets.make_churn(n_per_period=300, periods=4, freq="MS", start="2025-01-01", seed=8)


@pytest.fixture(scope="module")
def costs() -> datasets.ChurnCosts:
    return datasets.ChurnCosts()


def test_notebook_04_has_four_exercises() -> None:
    exercises = checks.exercises("04")
    assert [e.id for e in exercises] == ["04.1", "04.2", "04.3", "04.4"]
    assert {e.notebook for e in exercises} == {"04_data_phase"}


@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholders_are_not_attempted(placeholder, data, costs) -> None:
    contexts = {"04.1": {"data": data, "costs": costs}, "04.4": {"costs": costs}}
    for exercise in ("04.1", "04.2", "04.3", "04.4"):
        result = checks.check(exercise, placeholder, **contexts.get(exercise, {}))
        assert result.status == "not attempted"
        assert not result.passed


# --- 04.1 the cost of a simple rule ----------------------------------------------------------


def test_rule_cost_prices_the_confusion_counts(costs) -> None:
    from utils.exercises import nb04

    frame = pd.DataFrame({"churned": [1, 1, 0, 0, 1]})
    contacted = np.array([True, False, True, False, False])
    # tp=1, fp=1, fn=2: 2 offers, 2 lost churners, 0.7 of the contacted churner lost
    assert nb04.rule_cost(frame, contacted, costs) == pytest.approx(2 * 20 + 200 * (2 + 0.7))
    with pytest.raises(ValueError, match="contacted has 2 entries"):
        nb04.rule_cost(frame, [True, False], costs)


def _counts(data: pd.DataFrame, contacted: np.ndarray) -> tuple[int, int, int, int]:
    churned = data["churned"].to_numpy() == 1
    return (
        int((contacted & churned).sum()),
        int((contacted & ~churned).sum()),
        int((~contacted & churned).sum()),
        int((~contacted & ~churned).sum()),
    )


def test_04_1_correct(data, costs) -> None:
    m2m = (data["contract"] == "month-to-month").to_numpy()
    tp, fp, fn, tn = _counts(data, m2m)
    answer = costs.cost(tp, fp, fn, tn)
    result = checks.check("04.1", answer, data=data, costs=costs)
    assert result.passed, result.message
    assert f"{tp + fp:,} month-to-month customers" in result.message
    assert checks.check("04.1", round(answer), data=data, costs=costs).passed
    assert checks.check("04.1", np.float64(answer), data=data, costs=costs).passed


def test_04_1_wrong_answers_get_specific_hints(data, costs) -> None:
    m2m = (data["contract"] == "month-to-month").to_numpy()
    churned = data["churned"].to_numpy() == 1
    n = len(data)
    tp, fp, fn, tn = _counts(data, m2m)
    cases = {
        costs.cost(tp, fp, fn, tn) / n: "cost per customer",
        costs.cost(*_counts(data, ~m2m)): "*except* the month-to-month",
        costs.cost(0, 0, int(churned.sum())): "contacting nobody",
        costs.cost(*_counts(data, np.ones(n, dtype=bool))): "contacting everybody",
        costs.cost(*_counts(data, churned)): "a perfect model",
        costs.cost(fn, fp, tp): "swapped",
        20 * (tp + fp) + 200 * (tp + fn): "offer_success_rate",
        123.0: "Count tp",
    }
    for answer, hint in cases.items():
        result = checks.check("04.1", answer, data=data, costs=costs)
        assert result.status == "incorrect", answer
        assert hint in result.message, (answer, result.message)
    result = checks.check("04.1", "532220", data=data, costs=costs)
    assert not result.passed and "one number in EUR" in result.message


def test_04_1_needs_the_notebook_context(costs) -> None:
    with pytest.raises(TypeError, match="churn data frame"):
        checks.check("04.1", 1.0, data=[1, 2], costs=costs)
    with pytest.raises(TypeError, match="needs the keyword arguments"):
        checks.check("04.1", 1.0)


# --- 04.2 a schema rule for a new column -----------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        pa.Column("int64", pa.Check.in_range(1, 5)),
        pa.Column(int, pa.Check.in_range(1, 5), nullable=False),
        pa.Column("int64", pa.Check.isin([1, 2, 3, 4, 5])),
        pa.Column("int64", [pa.Check.ge(1), pa.Check.le(5)]),
        pa.Column("int64", pa.Check.in_range(1, 5), name="profiles"),
    ],
)
def test_04_2_correct_rules(rule) -> None:
    result = checks.check("04.2", rule)
    assert result.passed, result.message


@pytest.mark.parametrize(
    "rule, hint",
    [
        (pa.Column("int64", pa.Check.in_range(0, 5)), "lets through a 0"),
        (pa.Column("int64", pa.Check.in_range(1, 6)), "lets through a 6"),
        (pa.Column("int64", pa.Check.ge(1)), "lets through a 6"),
        (pa.Column("int64"), "and 2 more bad case(s)"),
        (pa.Column(None, pa.Check.in_range(1, 5), nullable=True), "lets through a missing value"),
        (pa.Column("float64", pa.Check.in_range(1, 5)), "rejects a good column"),
        (pa.Column("int64", pa.Check.in_range(2, 5)), "rejects a good column"),
        (pa.Column("int64", pa.Check.in_range(1, 5), name="devices"), "named 'devices'"),
        (pa.Check.in_range(1, 5), "give a pandera column rule"),
        ("int64 from 1 to 5", "give a pandera column rule"),
    ],
)
def test_04_2_wrong_rules_get_hints(rule, hint) -> None:
    result = checks.check("04.2", rule)
    assert result.status == "incorrect"
    assert hint in result.message, result.message


# --- 04.3 which edits change the fingerprint? ------------------------------------------------


def test_04_3_truth_is_computed_and_the_code_strings_match_the_edits(data) -> None:
    from utils.exercises import nb04

    assert nb04.fingerprint_changes() == frozenset({"b", "d", "e", "f"})
    before = datasets.fingerprint(data)
    for letter, (code, edit) in nb04.FINGERPRINT_EDITS.items():
        from_code = eval(code, {"data": data})  # noqa: S307 -- the course's own code strings
        assert datasets.fingerprint(from_code) == datasets.fingerprint(edit(data)), letter
        changed = datasets.fingerprint(edit(data)) != before
        assert changed == (letter in nb04.fingerprint_changes()), letter


@pytest.mark.parametrize("answer", [{"b", "d", "e", "f"}, ["F", "E", "D", "B"], "b, d, e, f"])
def test_04_3_correct_in_any_form(answer) -> None:
    result = checks.check("04.3", answer)
    assert result.passed, result.message
    assert "(e) set_index moves customer_id" in result.message


@pytest.mark.parametrize(
    "answer, hint",
    [
        ({"b"}, "you left out d, e and f, which change it"),
        ({"b", "d", "e", "f", "g"}, "g does not change it"),
        ({"a", "b", "d", "e"}, "you left out f, which changes it; a does not change it"),
        ({"b", "z"}, "There is no edit z"),
        (3, "as a set of strings"),
        ({"b": True}, "as a set of strings"),
        ([1, 2], "as a set of strings"),
    ],
)
def test_04_3_wrong_answers_get_hints(answer, hint) -> None:
    result = checks.check("04.3", answer)
    assert result.status == "incorrect"
    assert hint in result.message, result.message


# --- 04.4 fix a draft design -----------------------------------------------------------------


def test_04_4_the_draft_fails_with_its_first_problem(costs) -> None:
    from utils import validation
    from utils.exercises import nb04

    draft = nb04.draft_design()
    problems = validation.check_design(draft, costs=costs)
    assert len(problems) == 6
    result = checks.check("04.4", draft, costs=costs)
    assert result.status == "incorrect"
    assert result.message.startswith(problems[0])
    assert "5 more problem(s)" in result.message


def test_04_4_a_fixed_draft_is_correct_and_half_fixed_is_not(costs) -> None:
    from utils.exercises import nb04

    draft = nb04.draft_design()
    fixed = dataclasses.replace(
        draft,
        inputs=[c for c in draft.inputs if c not in ("customer_id", "churned")],
        threshold=costs.break_even_probability(),
        metrics=["accuracy", "cost_per_customer_eur"],
        failure_modes={"late data": "keep last week's scores", "new levels": "schema", "x": "y"},
    )
    result = checks.check("04.4", fixed, costs=costs)
    assert result.passed, result.message
    assert "break-even probability 0.33" in result.message
    half = dataclasses.replace(fixed, threshold=0.5)
    result = checks.check("04.4", half, costs=costs)
    assert result.status == "incorrect" and "does not match the business costs" in result.message
    result = checks.check("04.4", fixed.to_dict(), costs=costs)
    assert result.status == "incorrect" and "give the corrected DesignDoc" in result.message


# ---------------------------------------------------------------------------------------------
# Adversarial tables (tests/adversarial.py)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def churn_context() -> dict[str, object]:
    """04.1: the notebook's data and costs (its make_churn call and ChurnCosts())."""
    data = datasets.make_churn(
        n_per_period=1000, periods=12, freq="MS", start="2025-01-01", seasonality=0.5, seed=42
    )
    return {"data": data, "costs": datasets.ChurnCosts()}


@pytest.fixture(scope="module")
def costs_context() -> dict[str, object]:
    """04.4: the notebook's ChurnCosts()."""
    return {"costs": datasets.ChurnCosts()}


def _policy_cost(context: dict, contacted) -> float:
    data, costs = context["data"], context["costs"]
    return nb04.rule_cost(data, np.asarray(contacted, dtype=bool), costs)


def _m2m(context: dict):
    return context["data"]["contract"] == "month-to-month"


def _counted_by_hand(context: dict) -> int:
    """The rule priced with a crosstab and integer arithmetic on the costs' fields."""
    data, costs = context["data"], context["costs"]
    table = pd.crosstab(_m2m(context), data["churned"] == 1)
    tp, fp, fn = table.loc[True, True], table.loc[True, False], table.loc[False, True]
    return np.int64(round(costs.cost(int(tp), int(fp), int(fn), 0)))


def _fixed_design(**changes):
    def build(context: dict):
        costs = context["costs"]
        draft = nb04.draft_design()
        fixed = dataclasses.replace(
            draft,
            inputs=[c for c in draft.inputs if c not in ("customer_id", "churned")],
            threshold=costs.break_even_probability(),
            metrics=["business_cost_eur", "roc_auc"],
            failure_modes={
                "The data arrives late": "Check the batch date; keep last month's scores.",
                "A column changes its unit": "The schema rejects the batch.",
                "The churn rate moves": "Monitor it monthly; retrain when the cost rises.",
            },
        )
        return dataclasses.replace(fixed, **changes)

    return build


def _rebuilt_design(context: dict):
    """Another correct answer: a new DesignDoc with the draft's good fields, in another order."""
    from utils import validation

    draft = nb04.draft_design()
    return validation.DesignDoc(
        target=draft.target,
        output=draft.output,
        consumers=list(draft.consumers),
        decision=draft.decision,
        inputs=["tenure_months", "monthly_charges", "usage_hours", "support_calls", "contract"],
        threshold=0.35,  # within the check's 0.05 of the break-even probability
        metrics=["cost_per_customer_eur"],
        baseline="Contact nobody; the month-to-month rule.",
        failure_modes={"a": "b", "c": "d", "e": "f"},  # content is judged by a person
    )


def _the_notebooks_own_design(context: dict):
    """The complete design of section 11, not the fixed draft."""
    from utils import validation

    return validation.DesignDoc(
        decision="At the start of each month the retention team sends a half-price month.",
        consumers=["retention team (sends the offers)"],
        output="For each active customer: the probability of cancelling within 30 days.",
        target="churned",
        inputs=list(datasets.CHURN_FEATURES),
        threshold=context["costs"].break_even_probability(),
        metrics=["business_cost_eur"],
        baseline="Contact nobody.",
        failure_modes={"a": "b", "c": "d", "e": "f"},
    )


TABLES = [
    Table(
        "04.1",
        [
            Case(
                "reference",
                "policy_cost of the rule",
                lambda c: _policy_cost(c, _m2m(c)),
                lazy=True,
            ),
            Case("alternative", "a crosstab, rounded to whole EUR", _counted_by_hand, lazy=True),
            Case(
                "wrong",
                "everybody except month-to-month",
                lambda c: _policy_cost(c, ~_m2m(c)),
                hint="except",
                lazy=True,
            ),
            Case(
                "wrong",
                "per customer",
                lambda c: _policy_cost(c, _m2m(c)) / len(c["data"]),
                hint="per customer",
                lazy=True,
            ),
            Case(
                "cheat",
                "the cost of contacting nobody, printed above",
                lambda c: _policy_cost(c, np.zeros(len(c["data"]))),
                hint="contacting nobody",
                lazy=True,
            ),
            Case("cheat", "a round guess", 100_000, hint="costs.cost(tp, fp, fn, tn)"),
        ],
        context="churn_context",
    ),
    Table(
        "04.2",
        [
            Case(
                "reference",
                "the solution",
                pa.Column("int64", pa.Check.in_range(1, 5), nullable=False),
            ),
            Case(
                "alternative",
                "ge and le, named",
                pa.Column(int, [pa.Check.ge(1), pa.Check.le(5)], name="profiles"),
            ),
            Case("alternative", "isin", pa.Column("int64", pa.Check.isin([1, 2, 3, 4, 5]))),
            Case("wrong", "0 allowed", pa.Column("int64", pa.Check.in_range(0, 5)), hint="a 0"),
            Case(
                "wrong",
                "a float column",
                pa.Column(float, pa.Check.in_range(1, 5)),
                hint="rejects a good column",
            ),
            Case(
                "wrong",
                "another column's name",
                pa.Column("int64", pa.Check.in_range(1, 5), name="support_calls"),
                hint="named 'support_calls'",
            ),
            Case("cheat", "a rule without checks", pa.Column(), hint="lets through"),
            Case(
                "cheat",
                "a check that passes everything",
                pa.Column(checks=pa.Check(lambda s: True)),
                hint="lets through",
            ),
        ],
    ),
    Table(
        "04.3",
        [
            Case("reference", "the fingerprints compared", set("bdef")),
            Case("alternative", "a sorted list, upper case", ["B", "D", "E", "F"]),
            Case("alternative", "a string", "b, d, e, f"),
            Case("wrong", "e and g thought alike", set("bdf"), hint="you left out e"),
            Case("wrong", "sorting by id counted", set("abdef"), hint="a does not change it"),
            Case("cheat", "every letter", set("abcdefg"), hint="do not change it"),
            Case(
                "cheat",
                "the course's own answer",
                nb04.fingerprint_changes(),
                hint="course's own answer",
            ),
            Case(
                "cheat",
                "a copy of the course's own answer",
                set(nb04.fingerprint_changes()),
                hint="course's own answer",
            ),
            Case(
                "cheat",
                "the course's own answer sorted",
                sorted(nb04.fingerprint_changes()),
                hint="course's own answer",
            ),
        ],
    ),
    Table(
        "04.4",
        [
            Case("reference", "the draft fixed", _fixed_design(), lazy=True),
            Case("alternative", "a new DesignDoc, threshold 0.35", _rebuilt_design, lazy=True),
            Case(
                "wrong",
                "the id kept",
                _fixed_design(inputs=["customer_id", "tenure_months"]),
                hint="identify a row",
                lazy=True,
            ),
            Case(
                "wrong",
                "threshold 0.5 kept",
                _fixed_design(threshold=0.5),
                hint="break-even",
                lazy=True,
            ),
            Case(
                "wrong",
                "no metric in money",
                _fixed_design(metrics=["roc_auc"]),
                hint="in money",
                lazy=True,
            ),
            Case(
                "cheat",
                "the draft as it is",
                lambda c: nb04.draft_design(),
                hint="target leakage",
                lazy=True,
            ),
            Case(
                "cheat",
                "the notebook's complete design",
                _the_notebooks_own_design,
                hint="Start from the draft",
                lazy=True,
            ),
            Case(
                "cheat",
                "the draft as a dict",
                lambda c: nb04.draft_design().to_dict(),
                hint="corrected DesignDoc",
                lazy=True,
            ),
        ],
        context="costs_context",
    ),
]
test_adversarial = adversarial.parametrize(TABLES)
