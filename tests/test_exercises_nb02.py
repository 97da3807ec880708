"""Tests of the exercise checks of notebook 02 (utils.exercises.nb02)."""

from __future__ import annotations

import adversarial
import numpy as np
import pytest
from adversarial import Case, Table

from utils import checks, debt
from utils.exercises import nb02

# --- 02.1: count logical lines ----------------------------------------------------------------


def test_02_1_placeholder_solution_and_types() -> None:
    assert checks.check("02.1", ...).status == checks.NOT_ATTEMPTED
    expected = debt.count_logical_lines(nb02.COUNT_SNIPPET)
    assert expected == 3
    assert checks.check("02.1", expected).passed
    assert checks.check("02.1", 3.0).passed
    for wrong in ("3", 3.5, True):
        result = checks.check("02.1", wrong)
        assert result.status == checks.INCORRECT and "whole number" in result.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (7, "every physical line"),
        (6, "skipped the blank line"),
        (5, "docstring does not count"),
        (4, "one statement spans two physical lines"),
        (12, "Count statements"),
    ],
)
def test_02_1_hints_name_the_mistake(answer: int, hint: str) -> None:
    result = checks.check("02.1", answer)
    assert result.status == checks.INCORRECT and hint in result.message


# --- 02.2: name the debt ----------------------------------------------------------------------

SOLUTION = {
    "A": "dead experimental codepaths",
    "B": "pipeline jungles",
    "C": "configuration debt",
    "D": "direct feedback loops",
}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Dead code-paths", "dead experimental codepaths"),
        ("DEAD EXPERIMENTAL CODE PATHS", "dead experimental codepaths"),
        ("pipeline_jungle", "pipeline jungles"),
        ("CACE", "entanglement"),
        ("Changing Anything Changes Everything", "entanglement"),
        ("glue code debt", "glue code"),
        ("config debt", "configuration debt"),
        ("feedback loop", "feedback loops"),
        ("Hidden feedback loop", "hidden feedback loops"),
        ("Direct feedback loop", "direct feedback loops"),
        ("spaghetti", None),
        (42, None),
    ],
)
def test_debt_name_is_case_and_format_insensitive(text: object, name: str | None) -> None:
    assert nb02.debt_name(text) == name


def test_02_2_placeholder_and_solution() -> None:
    assert checks.check("02.2", {k: ... for k in "ABCD"}).status == checks.NOT_ATTEMPTED
    assert checks.check("02.2", SOLUTION).passed
    variants = {
        "a": "Dead Code",
        "b": "Pipeline-Jungle",
        "c": "CONFIGURATION",
        "d": "feedback loops",
    }
    assert checks.check("02.2", variants).passed
    assert checks.check("02.2", list(SOLUTION.values())).passed


def test_02_2_hints() -> None:
    swapped = {**SOLUTION, "A": "glue code"}
    result = checks.check("02.2", swapped)
    assert result.status == checks.INCORRECT and result.message.startswith("3 of 4 right.")
    assert "A: glue code is a debt in the paper, but not this one." in result.message
    assert "branches" in result.message  # the hint of snippet A
    unknown = checks.check("02.2", {**SOLUTION, "D": "bad luck"})
    assert "'bad luck' is not a name the paper uses" in unknown.message
    partial = checks.check("02.2", {**SOLUTION, "C": ...})
    assert partial.status == checks.INCORRECT and "snippet(s) C" in partial.message
    for wrong in ("glue code", 42, ["a", "b"]):
        assert "Give a dict" in checks.check("02.2", wrong).message


def test_the_snippets_are_valid_python() -> None:
    assert set(nb02.DEBT_SNIPPETS) == {"A", "B", "C", "D"}
    for snippet in nb02.DEBT_SNIPPETS.values():
        assert debt.count_logical_lines(snippet) >= 3


# --- 02.3: refactor snippet C -----------------------------------------------------------------

DEFAULTS = {"model": "logistic_regression", "threshold": 0.5, "max_offer_rate": 0.6}


def good(raw):
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"Unknown setting(s) {unknown}")
    settings = {**DEFAULTS, **raw}
    for name in ("threshold", "max_offer_rate"):
        value = settings[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number")
        if not 0 <= value <= 1:
            raise ValueError(f"{name} out of range")
    if settings["model"] not in ("logistic_regression", "gradient_boosting"):
        raise ValueError("unknown model")
    return settings


def test_02_3_placeholder_solution_and_non_functions() -> None:
    def placeholder(raw):
        return ...

    assert checks.check("02.3", placeholder).status == checks.NOT_ATTEMPTED
    assert checks.check("02.3", good).passed
    result = checks.check("02.3", good({}))
    assert result.status == checks.INCORRECT and "without parentheses" in result.message


def test_02_3_the_loose_snippet_fails_on_the_typo() -> None:
    result = checks.check("02.3", debt.loose_settings)
    assert result.status == checks.INCORRECT
    assert "'treshold'" in result.message and "should raise ValueError" in result.message


def test_02_3_hints_for_typical_mistakes() -> None:
    def mutates(raw):
        raw.setdefault("model", "logistic_regression")
        raw.setdefault("threshold", 0.5)
        raw.setdefault("max_offer_rate", 0.6)
        return good(raw)

    assert "changed the dict" in checks.check("02.3", mutates).message

    def accepts_bools(raw):
        return good({k: (0.5 if v is True else v) for k, v in raw.items()})

    assert "a bool where a number belongs" in checks.check("02.3", accepts_bools).message

    def silent_key(raw):
        try:
            return good(raw)
        except ValueError as error:
            if "Unknown" in str(error):
                raise ValueError("bad configuration") from None
            raise

    assert "name it in the error message" in checks.check("02.3", silent_key).message

    def wrong_defaults(raw):
        return good({"threshold": 0.33, **raw})

    assert "should return the defaults" in checks.check("02.3", wrong_defaults).message

    def crashes(raw):
        raise KeyError("model")

    assert "raised KeyError" in checks.check("02.3", crashes).message

    def wrong_error(raw):
        if "model" in raw and raw["model"] != "gradient_boosting":
            raise KeyError(raw["model"])
        return good(raw)

    message = checks.check("02.3", wrong_error).message
    assert "raised KeyError" in message and "a model the service does not know" in message


# --- adversarial tables (tests/adversarial.py) ------------------------------------------------

SOLUTION_02_2 = {
    "A": "dead experimental codepaths",
    "B": "pipeline jungle",
    "C": "configuration debt",
    "D": "direct feedback loop",
}


def _settings_with_a_schema(raw):
    """Another correct load_settings: a table of validators instead of if-statements."""
    rules = {
        "model": lambda v: v in ("logistic_regression", "gradient_boosting"),
        "threshold": lambda v: type(v) in (int, float) and 0 <= v <= 1,
        "max_offer_rate": lambda v: type(v) in (int, float) and 0 <= v <= 1,
    }
    result = dict(DEFAULTS)
    for key, value in raw.items():
        if key not in rules:
            raise ValueError(f"unknown key {key!r}")
        if not rules[key](value):
            raise ValueError(f"bad value for {key}: {value!r}")
        result[key] = value
    return result


def _only_the_typo(raw):
    """Catches unknown keys, but checks no value."""
    for key in raw:
        if key not in DEFAULTS:
            raise ValueError(f"unknown key {key!r}")
    return {**DEFAULTS, **raw}


def _range_without_types(raw):
    """Checks ranges, but lets a string or a bool through."""
    settings = _only_the_typo(raw)
    for name in ("threshold", "max_offer_rate"):
        value = settings[name]
        if isinstance(value, int | float) and not 0 <= value <= 1:
            raise ValueError(f"{name} out of range")
    if settings["model"] not in ("logistic_regression", "gradient_boosting"):
        raise ValueError("unknown model")
    return settings


def _range_by_comparisons(raw):
    """Checks types and ranges with ``<`` and ``>``, which a NaN passes."""
    settings = _only_the_typo(raw)
    for name in ("threshold", "max_offer_rate"):
        value = settings[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number")
        if value < 0 or value > 1:
            raise ValueError(f"{name} out of range")
    if settings["model"] not in ("logistic_regression", "gradient_boosting"):
        raise ValueError("unknown model")
    return settings


def _unwritten_settings(raw):
    pass


TABLES = [
    Table(
        "02.1",
        [
            Case("reference", "debt.count_logical_lines' answer", 3),
            Case("alternative", "a float", 3.0),
            Case("alternative", "a numpy integer", np.int64(3)),
            Case("wrong", "every physical line", 7, hint="every physical line"),
            Case("wrong", "the continuation counted twice", 4, hint="one logical line"),
            Case("wrong", "a string", "3", hint="whole number"),
            Case(
                "cheat",
                "the course's counter itself",
                debt.count_logical_lines,
                hint="whole number",
            ),
            Case(
                "cheat",
                "the length of the snippet's lines",
                len(nb02.COUNT_SNIPPET.splitlines()),
                hint="every physical line",
            ),
        ],
    ),
    Table(
        "02.2",
        [
            Case("reference", "the solution", SOLUTION_02_2),
            Case(
                "alternative",
                "B as glue code, of which a jungle is a special case",
                {**SOLUTION_02_2, "B": "glue code"},
            ),
            Case(
                "alternative",
                "a list in order, other spellings",
                ["Dead code-paths", "Pipeline-Jungles", "config debt", "feedback loops"],
            ),
            Case(
                "alternative",
                "A in the paper's own words",
                {**SOLUTION_02_2, "A": "obsolete experimental codepaths"},
            ),
            Case(
                "alternative", "lower-case keys", {k.lower(): v for k, v in SOLUTION_02_2.items()}
            ),
            Case(
                "wrong",
                "C as entanglement",
                {**SOLUTION_02_2, "C": "entanglement"},
                hint="C: entanglement is a debt in the paper, but not this one",
            ),
            Case(
                "wrong",
                "D as a hidden feedback loop (that needs two systems)",
                {**SOLUTION_02_2, "D": "hidden feedback loop"},
                hint="a hidden one runs between two systems",
            ),
            Case(
                "wrong",
                "a made-up name",
                {**SOLUTION_02_2, "A": "spaghetti"},
                hint="not a name the paper uses",
            ),
            Case(
                "wrong",
                "a snippet left out",
                {k: v for k, v in SOLUTION_02_2.items() if k != "D"},
                hint="snippet(s) D",
            ),
            Case(
                "cheat", "the course's list of names", nb02.DEBT_NAMES, hint='"A", "B", "C" and "D"'
            ),
            Case(
                "cheat",
                "every name for every snippet",
                dict.fromkeys("ABCD", ", ".join(nb02.DEBT_NAMES)),
                hint="not a name the paper uses",
            ),
            Case(
                "cheat",
                "the same name everywhere",
                dict.fromkeys("ABCD", "glue code"),
                hint="1 of 4 right",
            ),
        ],
    ),
    Table(
        "02.3",
        [
            Case("reference", "the solution", good),
            Case("alternative", "a table of validators", _settings_with_a_schema),
            Case("wrong", "only the typo caught", _only_the_typo, hint="a threshold above 1"),
            Case(
                "wrong",
                "ranges but no types",
                _range_without_types,
                hint="a number given as a string",
            ),
            Case(
                "wrong",
                "ranges by comparisons, which a NaN passes",
                _range_by_comparisons,
                hint="a threshold that is not a number",
            ),
            Case(
                "cheat",
                "snippet C as it is (the course's loose loader)",
                debt.loose_settings,
                hint="should raise ValueError",
            ),
            Case(
                "cheat",
                "the defaults merged in",
                lambda raw: {**nb02.SETTINGS_DEFAULTS, **raw},
                hint="unknown (misspelt) key",
            ),
            Case(
                "cheat",
                "the defaults, whatever the input",
                lambda raw: dict(nb02.SETTINGS_DEFAULTS),
                hint="should return",
            ),
        ],
    ),
]
test_adversarial = adversarial.parametrize(TABLES)


def test_02_3_an_unwritten_function_is_not_attempted() -> None:
    assert checks.check("02.3", _unwritten_settings).status == checks.NOT_ATTEMPTED
