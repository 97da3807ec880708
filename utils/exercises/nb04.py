"""Exercise checks of notebook 04 (data phase).

* 04.1: the cost in EUR of a simple business rule (contact every month-to-month customer);
* 04.2: a pandera column rule for a new column, ``profiles``;
* 04.3: which edits of a data frame change its fingerprint;
* 04.4: fix a colleague's draft design so that :func:`utils.validation.check_design` accepts it.

Every check computes the expected answer itself, from ``utils`` and the context the check cell
passes. :func:`utils.checks.check` imports this module the first time a 04 exercise is checked.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from utils.checks import CORRECT, INCORRECT, Status, register
from utils.datasets import ChurnCosts, fingerprint, make_churn
from utils.validation import MONEY_METRICS, DesignDoc, check_design

__all__ = [
    "FINGERPRINT_EDITS",
    "PROFILES_RANGE",
    "draft_design",
    "fingerprint_changes",
    "rule_cost",
]

NOTEBOOK = "04_data_phase"


def _number(answer: object) -> float | None:
    if isinstance(answer, bool) or not isinstance(answer, int | float | np.integer | np.floating):
        return None
    value = float(answer)
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------------------------------
# 04.1 The cost of a simple rule
# ---------------------------------------------------------------------------------------------


def rule_cost(data: pd.DataFrame, contacted: pd.Series | np.ndarray, costs: ChurnCosts) -> float:
    """Cost in EUR of contacting exactly the rows where ``contacted`` is True (notebook 04).

    Counts true positives (contacted churners), false positives (contacted stayers) and false
    negatives (churners left alone) against ``data["churned"]`` and prices them with
    :meth:`utils.datasets.ChurnCosts.cost`.
    """
    churned = np.asarray(data["churned"]) == 1
    contacted = np.asarray(contacted, dtype=bool)
    if contacted.shape != churned.shape:
        raise ValueError(
            f"contacted has {contacted.shape[0]} entries but the data has {churned.shape[0]} rows."
        )
    tp = int(np.sum(contacted & churned))
    fp = int(np.sum(contacted & ~churned))
    fn = int(np.sum(~contacted & churned))
    tn = int(np.sum(~contacted & ~churned))
    return costs.cost(tp, fp, fn, tn)


@register("04.1", NOTEBOOK, "Cost of a simple rule", needs=("data", "costs"))
def _check_rule_cost(
    answer: object, *, data: pd.DataFrame, costs: ChurnCosts
) -> tuple[Status, str]:
    if not isinstance(data, pd.DataFrame) or "contract" not in data or "churned" not in data:
        raise TypeError("Exercise 04.1 needs the notebook's churn data frame as data=data.")
    if not isinstance(costs, ChurnCosts):
        raise TypeError("Exercise 04.1 needs the notebook's ChurnCosts as costs=costs.")
    value = _number(answer)
    if value is None:
        return INCORRECT, (
            f"Your answer is a {type(answer).__name__}; give the total cost as one number in "
            "EUR, e.g. costs.cost(tp, fp, fn, tn)."
        )
    m2m = (data["contract"] == "month-to-month").to_numpy()
    churned = data["churned"].to_numpy() == 1
    n = len(data)
    expected = rule_cost(data, m2m, costs)
    tp = int(np.sum(m2m & churned))
    fp = int(np.sum(m2m & ~churned))
    fn = int(np.sum(~m2m & churned))
    tol = 0.5
    if abs(value - expected) <= tol:
        nobody = rule_cost(data, np.zeros(n, dtype=bool), costs)
        return CORRECT, (
            f"Contacting the {tp + fp:,} month-to-month customers costs {expected:,.0f} EUR, "
            f"{nobody - expected:,.0f} EUR less than contacting nobody. A model must beat this "
            "rule, not only the trivial policies."
        )
    if abs(value - expected / n) <= 0.01:
        return INCORRECT, "That is the cost per customer. Give the total over all rows of data."
    if abs(value - rule_cost(data, ~m2m, costs)) <= tol:
        return INCORRECT, (
            "That is the cost of contacting everybody *except* the month-to-month customers. "
            "Contact the rows where data['contract'] == 'month-to-month'."
        )
    others = {
        "contacting nobody": rule_cost(data, np.zeros(n, dtype=bool), costs),
        "contacting everybody": rule_cost(data, np.ones(n, dtype=bool), costs),
        "a perfect model": rule_cost(data, churned, costs),
    }
    for name, cost in others.items():
        if abs(value - cost) <= tol:
            return INCORRECT, f"That is the cost of {name}. Contact the month-to-month customers."
    swapped = costs.cost(fn, fp, tp)
    if abs(value - swapped) <= tol:
        return INCORRECT, (
            "True positives and false negatives are swapped: a true positive is a churner you "
            "contacted, a false negative a churner you did not."
        )
    no_success = costs.offer_cost_eur * (tp + fp) + costs.customer_value_eur * (tp + fn)
    if abs(value - no_success) <= tol:
        return INCORRECT, (
            "You count every contacted churner as lost. An offer keeps a churner with "
            "probability offer_success_rate; costs.cost(tp, fp, fn, tn) does the pricing for you."
        )
    return INCORRECT, (
        "Not quite (the check accepts the total to within 0.5 EUR). Count tp (contacted and "
        "churned), fp (contacted, stayed) and fn (churned, not contacted), then use "
        "costs.cost(tp, fp, fn, tn)."
    )


# ---------------------------------------------------------------------------------------------
# 04.2 A schema rule for a new column
# ---------------------------------------------------------------------------------------------

PROFILES_RANGE: tuple[int, int] = (1, 5)
"""Exercise 04.2: the number of viewer profiles on an account, at least 1 and at most 5."""


def _profiles_cases() -> list[tuple[str, pd.Series, bool]]:
    """(description, column, should pass) for exercise 04.2."""
    return [
        ("whole numbers from 1 to 5", pd.Series([1, 2, 3, 4, 5, 1], dtype="int64"), True),
        ("a 0 (an account always has a profile)", pd.Series([1, 0, 2], dtype="int64"), False),
        ("a 6 (the service allows at most 5 profiles)", pd.Series([1, 6, 2], dtype="int64"), False),
        ("a negative count", pd.Series([1, -1, 2], dtype="int64"), False),
        ("a missing value", pd.Series([1.0, np.nan, 2.0], dtype="float64"), False),
        ("fractions such as 2.5 (a float column)", pd.Series([1.0, 2.5, 3.0]), False),
        ("text such as 'two'", pd.Series(["1", "two", "3"], dtype="str"), False),
    ]


@register("04.2", NOTEBOOK, "A schema rule for a new column")
def _check_profiles_column(answer: object) -> tuple[Status, str]:
    import pandera.pandas as pa

    if not isinstance(answer, pa.Column):
        return INCORRECT, (
            f"Your answer is a {type(answer).__name__}; give a pandera column rule, "
            "pa.Column(dtype, checks)."
        )
    if answer.name not in (None, "profiles"):
        return INCORRECT, (
            f"Your column is named {answer.name!r}; leave the name out (the schema gives it) "
            "or call it 'profiles'."
        )
    schema = pa.DataFrameSchema({"profiles": answer})
    accepted_bad: list[str] = []
    for description, column, should_pass in _profiles_cases():
        frame = pd.DataFrame({"profiles": column})
        try:
            schema.validate(frame, lazy=True)
            passed = True
        except pa.errors.SchemaErrors:
            passed = False
        except Exception as error:  # noqa: BLE001 -- a broken student check becomes a hint
            return INCORRECT, f"Validating with your rule raised {type(error).__name__}: {error}"
        if should_pass and not passed:
            return INCORRECT, (
                f"Your rule rejects a good column ({description}). Check the dtype (the counts "
                "are int64) and the limits of your range."
            )
        if not should_pass and passed:
            accepted_bad.append(description)
    if accepted_bad:
        return INCORRECT, (
            f"Your rule lets through {accepted_bad[0]}"
            + (f" and {len(accepted_bad) - 1} more bad case(s)" if len(accepted_bad) > 1 else "")
            + ". Require dtype int64 and a range of 1 to 5 "
            "(pa.Check.in_range), with no missing values."
        )
    return CORRECT, (
        "Your rule accepts whole numbers from 1 to 5 and rejects 0, 6, negative counts, "
        "missing values, fractions and text."
    )


# ---------------------------------------------------------------------------------------------
# 04.3 Which edits change the fingerprint?
# ---------------------------------------------------------------------------------------------

FINGERPRINT_EDITS: dict[str, tuple[str, Callable[[pd.DataFrame], pd.DataFrame]]] = {
    "a": ('data.sort_values("customer_id")', lambda d: d.sort_values("customer_id")),
    "b": ('data.sort_values("monthly_charges")', lambda d: d.sort_values("monthly_charges")),
    "c": ('data.round({"monthly_charges": 2})', lambda d: d.round({"monthly_charges": 2})),
    "d": ('data.astype({"period": "int32"})', lambda d: d.astype({"period": "int32"})),
    "e": ('data.set_index("customer_id")', lambda d: d.set_index("customer_id")),
    "f": (
        'data.assign(region=data["region"].astype(str))',
        lambda d: d.assign(region=d["region"].astype(str)),
    ),
    "g": ("data.set_axis(data.index + 1000)", lambda d: d.set_axis(d.index + 1000)),
}
"""Exercise 04.3: letter -> (the edit as code, the edit as a function of the data)."""


class _CourseLetter(str):
    """A letter of the course's own answer to 04.3: copies of that answer keep these objects."""

    __slots__ = ()


@functools.cache
def fingerprint_changes() -> frozenset[str]:
    """The letters of :data:`FINGERPRINT_EDITS` whose edit changes the fingerprint (exercise
    04.3 of notebook 04).

    Computed on a small churn data set (the answer is the same for any output of
    :func:`utils.datasets.make_churn`): rows come sorted by customer id, and charges already
    have two decimals. The letters compare equal to plain strings, but the check of 04.3
    recognises them, so ``set(fingerprint_changes())`` or ``sorted(...)`` of it is refused as
    the course's own answer (a copy rebuilt letter by letter as new strings is not).
    """
    data = make_churn(n_per_period=50, periods=3, seed=4)
    before = fingerprint(data)
    return frozenset(
        _CourseLetter(k)
        for k, (_, edit) in FINGERPRINT_EDITS.items()
        if fingerprint(edit(data)) != before
    )


_EXPLAIN = {
    "a": "the rows already come sorted by customer id, so sorting by it changes nothing",
    "b": "sorting by charges changes the order of the rows",
    "c": "charges already have two decimals, so rounding to two changes no value",
    "d": "int64 -> int32 is another dtype, even though every value stays the same",
    "e": "set_index moves customer_id out of the columns into the index, which is not hashed",
    "f": "category -> str is another dtype, even though every value prints the same",
    "g": "only the index labels change, and the index is not part of the fingerprint",
}


def _letters(answer: object) -> set[str] | None:
    if isinstance(answer, str):
        items: Iterable[Any] = [c for c in answer if c.isalpha()]
    elif isinstance(answer, Iterable) and not isinstance(answer, Mapping):
        items = list(answer)
    else:
        return None
    if not all(isinstance(x, str) for x in items):
        return None
    return {x.strip().lower() for x in items}


@register("04.3", NOTEBOOK, "Which edits change the fingerprint?")
def _check_fingerprint_changes(answer: object) -> tuple[Status, str]:
    collection = isinstance(answer, Iterable) and not isinstance(answer, str | Mapping)
    items = list(answer) if collection else []  # read once: the answer may be a generator
    letters = _letters(items if collection else answer)
    if letters is None:
        return INCORRECT, (
            "Give the letters of the edits that change the fingerprint as a set of strings, "
            "e.g. {'a', 'c'}."
        )
    unknown = sorted(letters - set(FINGERPRINT_EDITS))
    if unknown:
        return INCORRECT, f"There is no edit {', '.join(unknown)}: use letters a to g."
    truth = fingerprint_changes()
    if any(isinstance(x, _CourseLetter) for x in items):
        return INCORRECT, (
            "That is the course's own answer, nb04.fingerprint_changes(), or a copy of it. "
            "Predict the letters yourself, then test your prediction with "
            "datasets.fingerprint(...)."
        )
    if letters == truth:
        return CORRECT, (
            "Right: " + "; ".join(f"({k}) {_EXPLAIN[k]}" for k in sorted(truth)) + ". The others "
            "leave every value, dtype, name and the row order as they were."
        )
    missed = sorted(truth - letters)
    extra = sorted(letters - truth)
    parts = []
    if missed:
        parts.append(
            f"you left out {_join(missed)}, which change{'s' if len(missed) == 1 else ''} it"
        )
    if extra:
        parts.append(f"{_join(extra)} do{'es' if len(extra) == 1 else ''} not change it")
    first = (missed or extra)[0]
    return INCORRECT, (
        f"Not quite: {'; '.join(parts)}. For ({first}), ask what the edit does to the values, "
        "the dtypes, the column names and order, and the order of the rows; or try it: "
        "datasets.fingerprint(edited) == datasets.fingerprint(data)."
    )


def _join(letters: list[str]) -> str:
    return letters[0] if len(letters) == 1 else ", ".join(letters[:-1]) + " and " + letters[-1]


# ---------------------------------------------------------------------------------------------
# 04.4 Fix a draft design
# ---------------------------------------------------------------------------------------------


def draft_design() -> Any:
    """Exercise 04.4: a colleague's draft design of the retention model, with problems."""
    return DesignDoc(
        decision="Each month, the retention team sends an offer to the customers the model flags.",
        consumers=["retention team (offer e-mails)"],
        output="For each active customer: the probability of churning in the next 30 days.",
        target="churned",
        inputs=[
            "customer_id",
            "tenure_months",
            "monthly_charges",
            "usage_hours",
            "support_calls",
            "late_payments",
            "contract",
            "churned",
        ],
        threshold=0.5,
        metrics=["accuracy"],
        baseline="Contacting nobody.",
        failure_modes={"The data arrives late": "..."},
    )


@register("04.4", NOTEBOOK, "Fix a draft design", needs=("costs",))
def _check_design(answer: object, *, costs: ChurnCosts) -> tuple[Status, str]:
    if not isinstance(answer, DesignDoc):
        return INCORRECT, (
            f"Your answer is a {type(answer).__name__}; give the corrected DesignDoc "
            "(start from draft and change its fields)."
        )
    if not isinstance(costs, ChurnCosts):
        raise TypeError("Exercise 04.4 needs the notebook's ChurnCosts as costs=costs.")
    draft = draft_design()
    changed = [name for name in _KEPT_FIELDS if getattr(answer, name, None) != getattr(draft, name)]
    if changed:
        return INCORRECT, (
            f"Start from the draft: its {', '.join(repr(n) for n in changed)} had no problem, "
            "and a fix keeps them (e.g. dataclasses.replace(draft, ...)); this exercise is about "
            "fixing that draft, not about another design."
        )
    problems = check_design(answer, costs=costs)
    if problems:
        more = (
            f" ({len(problems) - 1} more problem(s) after this one.)" if len(problems) > 1 else ""
        )
        return INCORRECT, problems[0] + more
    return CORRECT, (
        f"check_design finds no problem: {len(answer.inputs)} inputs without "
        f"identifiers or the label, a threshold at the break-even probability "
        f"{costs.break_even_probability():.2f}, a metric in money "
        f"({', '.join(m for m in answer.metrics if m in MONEY_METRICS)}) and "
        f"{len(answer.failure_modes)} failure modes, each with an answer. Whether those failure "
        "modes are real and their answers would work is not something a check can tell: "
        "compare them with the solution's, or ask a colleague to read them."
    )


#: Exercise 04.4: the fields of the draft that had no problem; a fix keeps them.
_KEPT_FIELDS: tuple[str, ...] = ("decision", "consumers", "output", "target")
