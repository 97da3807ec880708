"""Checks of the exercises of notebook 02 (``02_hidden_technical_debt``).

* 02.1: count the logical lines of a snippet, as :func:`utils.debt.count_logical_lines` does.
* 02.2: name the debt (Sculley et al., 2015) in four short snippets.
* 02.3: refactor snippet C (configuration debt) into a settings loader that fails loudly.

:func:`utils.checks.check` imports this module the first time one of these exercises is checked.
"""

from __future__ import annotations

import copy
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from utils.checks import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    Status,
    function_answer_problem,
    register,
)
from utils.debt import line_breakdown

NOTEBOOK = "02_hidden_technical_debt"

# ---------------------------------------------------------------------------------------------
# 02.1: count logical lines
# ---------------------------------------------------------------------------------------------

COUNT_SNIPPET = '''\
def offer_rate(probabilities, threshold=0.33):
    """Share of customers who get a retention offer."""
    # a customer gets an offer at or above the threshold

    offers = [p >= threshold
              for p in probabilities]
    return sum(offers) / len(offers)  # a share, from 0 to 1
'''
"""The snippet of exercise 02.1."""


@register("02.1", NOTEBOOK, "Count logical lines")
def _check_count(answer: object) -> tuple[Status, str]:
    parts = line_breakdown(COUNT_SNIPPET)
    expected = parts.logical
    if (
        isinstance(answer, bool)
        or not isinstance(answer, numbers.Real)
        or not math.isfinite(answer)
        or answer != int(answer)
    ):
        return INCORRECT, f"Give a whole number (e.g. 5), not a {type(answer).__name__}."
    answer = int(answer)
    if answer == expected:
        return CORRECT, (
            f"{expected} logical lines: the def, the list comprehension (two physical lines, one "
            "statement) and the return. The docstring, the comment and the blank line do not count."
        )
    non_blank = parts.physical - parts.blank
    hints = {
        parts.physical: "That is every physical line, blank one included.",
        non_blank: "You skipped the blank line; comments and docstrings do not count either.",
        non_blank - parts.comment: "Comments are out; the docstring does not count either.",
        non_blank - parts.comment - 1: (
            "Close: one statement spans two physical lines (inside the brackets). "
            "It is one logical line."
        ),
    }
    return INCORRECT, hints.get(
        answer,
        "Count statements and clause headers (def, if, for, ...); a statement continued over "
        "several lines counts once; skip comments, the docstring and blank lines.",
    )


# ---------------------------------------------------------------------------------------------
# 02.2: name the debt
# ---------------------------------------------------------------------------------------------

DEBT_SNIPPETS: dict[str, str] = {
    "A": """\
def make_offer(customer, flags):
    if flags.get("exp_2019_double_discount"):  # experiment ended in 2019
        return legacy_double_discount(customer)
    if flags.get("bandit_v0"):  # prototype, never launched
        return bandit_v0_offer(customer)
    return standard_offer(customer)
""",
    "B": """\
os.system("python scrape_accounts.py > accounts.csv")
accounts = pd.read_csv("accounts.csv")
usage = pd.read_csv("/tmp/usage_export_final_v2.csv")
joined = accounts.merge(usage, on="id", how="left").fillna(0)
joined.sample(frac=0.3).to_csv("train_sample.csv")
os.system("python dedupe.py train_sample.csv train_clean.csv")
""",
    "C": """\
settings = json.loads(Path("service.json").read_text())
# service.json holds: {"treshold": 0.33, "max_offer_rate": "0.6"}
model_kind = settings.get("model", "logistic_regression")
threshold = settings.get("threshold", 0.5)
max_offer_rate = settings.get("max_offer_rate", 0.6)
""",
    "D": """\
# Every Monday: the marketing tool sends offers, billing records cancellations.
marketing.send_offers(customers[model.predict_proba(X) >= 0.33])
labels = billing.cancelled_within_30_days(customers)
model.fit(X, labels)  # the training data do not say who got an offer
""",
}
"""The four snippets of exercise 02.2."""

#: The kinds of debt Sculley et al. (2015) name, each with the spellings the check accepts.
DEBT_NAMES: dict[str, tuple[str, ...]] = {
    "entanglement": ("entanglement", "CACE", "changing anything changes everything"),
    "correction cascades": ("correction cascades",),
    "undeclared consumers": ("undeclared consumers", "visibility debt"),
    "unstable data dependencies": ("unstable data dependencies",),
    "underutilized data dependencies": ("underutilized data dependencies",),
    "direct feedback loops": ("direct feedback loops", "direct loops"),
    "hidden feedback loops": ("hidden feedback loops", "hidden loops"),
    "feedback loops": ("feedback loops",),
    "glue code": ("glue code", "glue"),
    "pipeline jungles": ("pipeline jungles", "jungle"),
    "dead experimental codepaths": (
        "dead experimental codepaths",
        "dead experimental code",
        "dead codepaths",
        "dead code",
        "experimental codepaths",
        "obsolete experimental codepaths",  # the paper's words for the Knight Capital loss
    ),
    "abstraction debt": ("abstraction debt",),
    "configuration debt": ("configuration debt", "config debt", "configuration"),
    "fixed thresholds in dynamic systems": ("fixed thresholds in dynamic systems",),
}

_EXPECTED: dict[str, tuple[str, ...]] = {
    "A": ("dead experimental codepaths",),
    # The notebook (section 6) calls a pipeline jungle "a special case of glue code": both count.
    "B": ("pipeline jungles", "glue code"),
    "C": ("configuration debt",),
    # One model shapes its own next labels: a direct loop. "feedback loop" alone is right too.
    "D": ("direct feedback loops", "feedback loops"),
}
_HINTS: dict[str, str] = {
    "A": "Look at the branches: which of them can still run, and should they?",
    "B": "Count the scrapes, joins, samples and intermediate files, and who could test them.",
    "C": "Compare the key in service.json with the key the code reads; what happens then?",
    "D": "Where do next week's labels come from, and what shaped them?",
}
# A right idea under the wrong name gets its own hint.
_NEAR_MISSES: dict[tuple[str, str], str] = {
    ("D", "hidden feedback loops"): (
        "D: a feedback loop, yes, but a hidden one runs between two systems that influence each "
        "other through the world; here one model shapes its own next labels."
    ),
}


def _normalise(text: str) -> str:
    """Lower case, letters only, no plural s: 'Dead code-paths' -> 'deadcodepath'."""
    letters = re.sub(r"[^a-z]", "", text.lower())
    return letters[:-1] if letters.endswith("s") else letters


_LOOKUP: dict[str, str] = {
    _normalise(alias): name for name, aliases in DEBT_NAMES.items() for alias in aliases
}


def debt_name(text: str) -> str | None:
    """The paper's name of the debt that ``text`` spells (case and format do not matter), or
    None. ``debt_name("Dead code-paths")`` is ``"dead experimental codepaths"``.

    Introduced in notebook 02 (``02_hidden_technical_debt``), exercise 02.2.
    """
    if not isinstance(text, str):
        return None
    key = _normalise(text)
    if key in _LOOKUP:
        return _LOOKUP[key]
    without_debt = key.removesuffix("debt")  # "glue code debt" -> "glue code"
    return _LOOKUP.get(without_debt) or _LOOKUP.get(_normalise(without_debt))


@register("02.2", NOTEBOOK, "Name the debt")
def _check_names(answer: object) -> tuple[Status, str]:
    if isinstance(answer, Mapping):
        given = {str(k).strip().upper(): v for k, v in answer.items()}
    elif isinstance(answer, Sequence) and not isinstance(answer, str) and len(answer) == 4:
        given = dict(zip("ABCD", answer, strict=True))
    else:
        return INCORRECT, (
            'Give a dict with one name per snippet, e.g. {"A": "glue code", "B": ..., '
            '"C": ..., "D": ...}.'
        )
    if not set(_EXPECTED) & set(given):
        return INCORRECT, (
            f"The keys of your dict are {sorted(map(str, given))[:6]}; use the snippets' letters "
            '"A", "B", "C" and "D", each with the name of its debt.'
        )
    missing = [k for k in _EXPECTED if k not in given or given[k] is Ellipsis]
    if len(missing) == len(_EXPECTED):
        return NOT_ATTEMPTED, "Replace every ... with the name of a debt from the paper."
    if missing:
        return INCORRECT, f"Name the debt of snippet(s) {', '.join(missing)} too."
    problems = []
    for key, accepted in _EXPECTED.items():
        name = debt_name(given[key])
        if name in accepted:
            continue
        if (key, name) in _NEAR_MISSES:
            problems.append(_NEAR_MISSES[key, name])
        elif name is None:
            problems.append(
                f"{key}: {given[key]!r} is not a name the paper uses; the list is in section 1. "
                f"{_HINTS[key]}"
            )
        else:
            problems.append(
                f"{key}: {name} is a debt in the paper, but not this one. {_HINTS[key]}"
            )
    if problems:
        right = len(_EXPECTED) - len(problems)
        return INCORRECT, f"{right} of 4 right. " + " ".join(problems)
    return CORRECT, (
        "A: dead experimental codepaths (old experiments behind flags); B: a pipeline jungle, "
        "the special case of glue code in data preparation (scrapes, joins, samples, "
        "intermediate files); C: configuration debt (a misspelt key "
        "silently falls back to a default, a string where a number belongs); D: a direct "
        "feedback loop (the model's offers shape its own next labels, and nothing records it)."
    )


# ---------------------------------------------------------------------------------------------
# 02.3: refactor snippet C
# ---------------------------------------------------------------------------------------------

SETTINGS_DEFAULTS: dict[str, Any] = {
    "model": "logistic_regression",
    "threshold": 0.5,
    "max_offer_rate": 0.6,
}
"""The settings of exercise 02.3 and their defaults (those of snippet C)."""
SETTINGS_MODELS: tuple[str, ...] = ("logistic_regression", "gradient_boosting")
"""The values exercise 02.3 allows for ``model``."""


def _call(function: Callable[..., Any], raw: dict[str, Any]) -> tuple[Any, BaseException | None]:
    try:
        return function(raw), None
    except Exception as error:  # noqa: BLE001 -- any error in student code is reported
        return None, error


@register("02.3", NOTEBOOK, "Refactor: settings that fail loudly")
def _check_settings(answer: object) -> tuple[Status, str]:
    problem = function_answer_problem(answer, "function", "write load_settings's body")
    if problem is not None:
        return problem
    result, error = _call(answer, {})
    if error is None and result is Ellipsis:
        return (
            NOT_ATTEMPTED,
            "Your function still returns ...: write its body, then rerun both cells.",
        )
    if error is not None:
        return INCORRECT, f"load_settings({{}}) raised {type(error).__name__}: {error}"
    if result != SETTINGS_DEFAULTS:
        return INCORRECT, (
            f"load_settings({{}}) should return the defaults {SETTINGS_DEFAULTS}, got {result!r}."
        )
    valid = {"model": "gradient_boosting", "threshold": 0.33, "max_offer_rate": 0.5}
    for raw, expected in (
        ({"threshold": 0.33}, {**SETTINGS_DEFAULTS, "threshold": 0.33}),
        (valid, valid),
        ({"max_offer_rate": 1}, {**SETTINGS_DEFAULTS, "max_offer_rate": 1}),
    ):
        kept = copy.deepcopy(raw)
        result, error = _call(answer, raw)
        if error is not None:
            return (
                INCORRECT,
                f"load_settings({kept}) is valid but raised {type(error).__name__}: {error}",
            )
        if result != expected:
            return INCORRECT, f"load_settings({kept}) should return {expected}, got {result!r}."
        if raw != kept:
            return INCORRECT, "Your function changed the dict it was given; build a new one."
    for raw, why, allowed in (
        ({"treshold": 0.33}, "an unknown (misspelt) key", (ValueError,)),
        ({"threshold": 1.5}, "a threshold above 1", (ValueError,)),
        ({"max_offer_rate": -0.1}, "a negative max_offer_rate", (ValueError,)),
        ({"max_offer_rate": "0.6"}, "a number given as a string", (ValueError, TypeError)),
        ({"threshold": True}, "a bool where a number belongs", (ValueError, TypeError)),
        ({"model": "random_forest"}, "a model the service does not know", (ValueError,)),
        ({"Threshold": 0.4}, "an unknown (misspelt) key", (ValueError,)),
        ({"threshold": -0.2}, "a negative threshold", (ValueError,)),
        ({"max_offer_rate": 2}, "a max_offer_rate above 1", (ValueError,)),
        ({"threshold": "0.4"}, "a number given as a string", (ValueError, TypeError)),
        ({"model": 3}, "a model the service does not know", (ValueError, TypeError)),
        ({"threshold": float("nan")}, "a threshold that is not a number", (ValueError, TypeError)),
    ):
        result, error = _call(answer, raw)
        if error is None:
            return INCORRECT, (
                f"load_settings({raw}) returned {result!r}; it should raise ValueError for {why}."
            )
        if not isinstance(error, allowed):
            names = " or ".join(e.__name__ for e in allowed)
            return INCORRECT, (
                f"load_settings({raw}) raised {type(error).__name__} ({error}); for {why} raise "
                f"{names} with a message that says what is wrong."
            )
    _, error = _call(answer, {"treshold": 0.33})
    if "treshold" not in str(error):
        return INCORRECT, (
            'Almost: when a key is unknown, name it in the error message (e.g. "Unknown '
            "setting 'treshold'\") so that whoever reads it can fix the file."
        )
    return CORRECT, (
        "A typo, a value out of range or a wrong type now stops the service at start-up with a "
        "message, instead of running for weeks on a default."
    )
