"""Tests of the exercise checks of notebook 07 (utils/exercises/nb07.py): each says "not
attempted" for the placeholder, gives a useful hint for typical wrong answers, and accepts the
solution. The checks of 07.1 and 07.2 must refuse test functions that cannot fail."""

from __future__ import annotations

import adversarial
import numpy as np
import pytest
from adversarial import Case, Table

from utils import checks, datasets, ml_test_score, ml_testing
from utils.checks import CORRECT, INCORRECT, NOT_ATTEMPTED
from utils.exercises.nb07 import _DESCRIBED_PIPELINE_ANSWERS as DESCRIBED_PIPELINE_ANSWERS


def test_notebook_07_has_three_exercises() -> None:
    exercises = checks.exercises("07")
    assert [e.id for e in exercises] == ["07.1", "07.2", "07.3"]
    assert {e.notebook for e in exercises} == {"07_testing_ml_systems"}


@pytest.mark.parametrize("exercise", ["07.1", "07.2", "07.3"])
@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholders_are_not_attempted(exercise: str, placeholder: object) -> None:
    assert checks.check(exercise, placeholder).status == NOT_ATTEMPTED


def _unwritten(train, test):
    # Your code here
    ...


def _pass_only(train, test):
    pass


@pytest.mark.parametrize("exercise", ["07.1", "07.2"])
@pytest.mark.parametrize("function", [_unwritten, _pass_only])
def test_an_unwritten_test_function_is_not_attempted(exercise: str, function) -> None:
    result = checks.check(exercise, function)
    assert result.status == NOT_ATTEMPTED
    assert "does nothing yet" in result.message


@pytest.mark.parametrize("exercise", ["07.1", "07.2"])
def test_a_value_instead_of_a_function_gets_a_hint(exercise: str) -> None:
    result = checks.check(exercise, True)
    assert result.status == INCORRECT
    assert "test function itself" in result.message


# --------------------------------------------------------------------------- 07.1


def _solution_0701(train, test):
    shared = set(train["customer_id"]) & set(test["customer_id"])
    assert not shared, f"{len(shared)} customers in both"


def _by_index(train, test):
    assert not set(train.index) & set(test.index)


def _whole_rows(train, test):
    assert train.merge(test).empty


def _never_fails(train, test):
    shared = set(train["customer_id"]) & set(test["customer_id"])
    assert len(shared) >= 0


def _raises_instead(train, test):
    if set(train["customer_id"]) & set(test["customer_id"]):
        raise ValueError("leak")


def _wrong_column(train, test):
    assert not set(train["customer"]) & set(test["customer"])


def test_0701_accepts_the_solution() -> None:
    result = checks.check("07.1", _solution_0701)
    assert result.status == CORRECT
    assert "fails when customers are in both" in result.message


@pytest.mark.parametrize(
    ("function", "words"),
    [
        (_by_index, "not the row index"),
        (_whole_rows, "compare customer ids only"),
        (_never_fails, "cannot catch this leak"),
        (_raises_instead, "instead of failing an assert"),
        (_wrong_column, "crashed on a clean split with KeyError"),
    ],
)
def test_0701_explains_typical_mistakes(function, words: str) -> None:
    result = checks.check("07.1", function)
    assert result.status == INCORRECT
    assert words in result.message


# --------------------------------------------------------------------------- 07.2

REGIONS = datasets.CHURN_CATEGORIES["region"]


def _solution_0702(model, X):
    before = model.predict_proba(X)[:, 1]
    for region in REGIONS:
        after = model.predict_proba(X.assign(region=region))[:, 1]
        assert np.abs(after - before).max() <= 0.05


def _no_tolerance(model, X):
    before = model.predict_proba(X)[:, 1]
    for region in REGIONS:
        assert (model.predict_proba(X.assign(region=region))[:, 1] == before).all()


def _computes_but_never_asserts(model, X):
    before = model.predict_proba(X)[:, 1]
    for region in REGIONS:
        np.abs(model.predict_proba(X.assign(region=region))[:, 1] - before).max()


def _changes_nothing(model, X):
    same = X.assign(region=X["region"])  # every customer keeps their own region
    assert (model.predict_proba(X)[:, 1] == model.predict_proba(same)[:, 1]).all()


def _always_fails(model, X):
    raise AssertionError("no model is good enough")


def _crashes(model, X):
    before = model.predict_proba(X.drop(columns="region"))[:, 1]
    assert (before >= 0).all()


def test_0702_accepts_the_solution() -> None:
    result = checks.check("07.2", _solution_0702)
    assert result.status == CORRECT
    assert "fails for one that uses it" in result.message


@pytest.mark.parametrize(
    ("function", "words"),
    [
        (_no_tolerance, "allow the tolerance of 0.05"),
        (_computes_but_never_asserts, "cannot catch a model that uses region"),
        (_always_fails, "fails on a model that ignores region completely"),
        (_crashes, "crashed with KeyError"),
    ],
)
def test_0702_explains_typical_mistakes(function, words: str) -> None:
    result = checks.check("07.2", function)
    assert result.status == INCORRECT
    assert words in result.message


def test_0702_a_test_that_changes_nothing_is_no_test() -> None:
    result = checks.check("07.2", _changes_nothing)
    assert result.status == INCORRECT
    assert "cannot catch" in result.message


# --------------------------------------------------------------------------- 07.3


def test_0703_accepts_the_described_pipeline() -> None:
    result = checks.check("07.3", dict(DESCRIBED_PIPELINE_ANSWERS))
    assert result.status == CORRECT
    assert "final score 1.5, band (1, 2]" in result.message
    assert "Model and Infrastructure" in result.message
    # Saying "not done" explicitly is the same as leaving a test out.
    explicit = {**ml_test_score.course_answers(), **dict.fromkeys(_ids(), "not done")}
    explicit.update(DESCRIBED_PIPELINE_ANSWERS)
    assert checks.check("07.3", explicit).passed


def _ids() -> list[str]:
    return [test.id for test in ml_test_score.RUBRIC]


def test_0703_names_the_answers_to_look_at_again() -> None:
    too_much = {**DESCRIBED_PIPELINE_ANSWERS, "Infra 7": "automated", "Infra 1": "automated"}
    result = checks.check("07.3", too_much)
    assert result.status == INCORRECT
    assert result.message.startswith("2 of the 28 answers differ")
    assert "Infra 1, Infra 7" in result.message and "more credit" in result.message

    too_little = {k: v for k, v in DESCRIBED_PIPELINE_ANSWERS.items() if k != "Monitor 7"}
    result = checks.check("07.3", too_little)
    assert result.message.startswith("1 of the 28 answers differs")
    assert "Monitor 7" in result.message and "too little credit" in result.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ({"Data 8": "manual"}, "'Data 8' is not a test"),
        ({"Data 1": "yes"}, "must be one of"),
        ("Data 1: automated", "give a dict of test id -> level"),
    ],
)
def test_0703_explains_malformed_answers(answer: object, words: str) -> None:
    result = checks.check("07.3", answer)
    assert result.status == INCORRECT
    assert words in result.message


# --------------------------------------------------------------------------- adversarial tables


def _pandas_isin_0701(train, test):
    assert not test["customer_id"].isin(train["customer_id"]).any(), "shared customers"


def _course_function_0701(train, test):
    assert ml_testing.no_shared_ids(train, test).passed


def _numpy_0702(model, X):
    before = model.predict_proba(X)[:, 1]
    changes = [
        np.max(np.abs(model.predict_proba(X.assign(region=r))[:, 1] - before)) for r in REGIONS
    ]
    assert max(changes) < 0.05 + 1e-12


def _labels_only_0702(model, X):
    before = model.predict(X)
    for region in REGIONS:
        assert (model.predict(X.assign(region=region)) == before).mean() >= 0.5


def _course_function_0702(model, X):
    assert ml_testing.invariance(model, X, "region").passed


def _always_passes(*args):
    return True


TABLES = [
    Table(
        "07.1",
        [
            Case("reference", "the notebook's solution (sets)", _solution_0701),
            Case("alternative", "pandas isin", _pandas_isin_0701),
            Case("wrong", "compares the row index", _by_index, hint="not the row index"),
            Case("wrong", "compares whole rows", _whole_rows, hint="compare customer ids only"),
            Case("wrong", "raises instead of asserting", _raises_instead, hint="failing an assert"),
            Case("cheat", "a test that always passes", _always_passes, hint="cannot catch"),
            Case(
                "cheat",
                "the course's ml_testing.no_shared_ids",
                _course_function_0701,
                hint="write it yourself",
            ),
            Case(
                "cheat",
                "ml_testing.no_shared_ids itself",
                ml_testing.no_shared_ids,
                hint="write it yourself",
            ),
        ],
    ),
    Table(
        "07.2",
        [
            Case("reference", "the notebook's solution", _solution_0702),
            Case("alternative", "a list of changes and max()", _numpy_0702),
            Case("wrong", "no tolerance", _no_tolerance, hint="tolerance of 0.05"),
            Case("wrong", "compares labels only", _labels_only_0702, hint="cannot catch"),
            Case("wrong", "changes nothing", _changes_nothing, hint="cannot catch"),
            Case("cheat", "a test that always passes", _always_passes, hint="cannot catch"),
            Case(
                "cheat",
                "the course's ml_testing.invariance",
                _course_function_0702,
                hint="write it yourself",
            ),
        ],
    ),
    Table(
        "07.3",
        [
            Case("reference", "the notebook's solution", dict(DESCRIBED_PIPELINE_ANSWERS)),
            Case(
                "alternative",
                "every test listed, the others 'not done'",
                {**dict.fromkeys(_ids(), "not done"), **DESCRIBED_PIPELINE_ANSWERS},
            ),
            Case(
                "wrong",
                "the rollback drill counted as automated",
                {**DESCRIBED_PIPELINE_ANSWERS, "Infra 7": "automated"},
                hint="more credit",
            ),
            Case(
                "wrong",
                "the weekly quality job left out",
                {k: v for k, v in DESCRIBED_PIPELINE_ANSWERS.items() if k != "Monitor 7"},
                hint="too little credit",
            ),
            Case(
                "cheat",
                "the course's own pipeline (ml_test_score.course_answers())",
                ml_test_score.course_answers(),
                hint="differ from the description",
            ),
            Case(
                "cheat",
                "everything automated",
                dict.fromkeys(_ids(), "automated"),
                hint="more credit",
            ),
        ],
    ),
]

test_adversarial = adversarial.parametrize(TABLES)
