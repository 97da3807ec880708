"""Tests of the exercise checks of notebook 07 (utils/exercises/nb07.py): each says "not
attempted" for the placeholder, gives a useful hint for typical wrong answers, and accepts the
solution. The checks of 07.1 and 07.2 must refuse test functions that cannot fail."""

from __future__ import annotations

import adversarial
import numpy as np
import pandas as pd
import pytest
from adversarial import Case, Table

from utils import checks, datasets, ml_test_score, ml_testing
from utils.checks import CORRECT, INCORRECT, NOT_ATTEMPTED
from utils.exercises import nb07

#: The answer of exercise 07.3, as the notebook's solution gives it (the check keeps only
#: digests of it).
DESCRIBED_PIPELINE_ANSWERS = {
    "Data 1": "automated",
    "Data 2": "manual",
    "Data 7": "automated",
    "Model 3": "manual",
    "Model 5": "automated",
    "Infra 4": "automated",
    "Infra 7": "manual",
    "Monitor 2": "automated",
    "Monitor 7": "automated",
}


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
    assert "fails for those that use it" in result.message


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


def _time_leak_test_0701(train, test):
    # The other leakage test: no training data from the test period.
    assert test["timestamp"].min() > train["timestamp"].max()


def _course_time_test_0701(train, test):
    assert ml_testing.no_future_rows(train, test).passed


def _size_0701(train, test):
    assert len(test) == 60  # the size of the test data the check used to give


# The course's function kept under another name, in another cell: no name tells.
nsi = ml_testing.no_shared_ids


def _alias_0701(train, test):
    assert nsi(train, test).passed


def _every_third_call():
    calls = []

    def test(*args):
        calls.append(1)
        assert len(calls) % 3 == 1  # pass, fail, fail, pass, ...

    return test


def _merge_0701(train, test):
    both = train[["customer_id"]].merge(test[["customer_id"]], on="customer_id")
    assert both.empty, f"{both['customer_id'].nunique()} customers in both"


def _tolerance_0_3_0702(model, X):
    before = model.predict_proba(X)[:, 1]
    for region in REGIONS:
        assert np.abs(model.predict_proba(X.assign(region=region))[:, 1] - before).max() <= 0.3


def _model_tests_0702(model, X):
    assert all(outcome.passed for outcome in ml_testing.model_tests(model, X))


inv = ml_testing.invariance


def _alias_0702(model, X):
    assert inv(model, X, "region").passed


def _one_region_0702(model, X):
    before = model.predict_proba(X)[:, 1]
    after = model.predict_proba(X.assign(region=REGIONS[0]))[:, 1]
    assert np.abs(after - before).max() <= 0.05


def _regions_in_x_0702(model, X):
    before = model.predict_proba(X)[:, 1]
    for region in X["region"].unique():  # only the regions this batch happens to contain
        assert np.abs(model.predict_proba(X.assign(region=region))[:, 1] - before).max() <= 0.05


def _categories_0702(model, X):
    # The categorical column knows every region, also one no customer of the batch lives in.
    before = pd.Series(model.predict_proba(X)[:, 1])
    for region in X["region"].cat.categories:
        after = pd.Series(model.predict_proba(X.assign(region=region))[:, 1])
        assert (after - before).abs().le(0.05).all(), region


def _copied_check_data_0703():
    """The cheapest cheat on 07.3: copy what the check keeps of the expected answer."""
    return dict(nb07._DESCRIBED_PIPELINE_DIGESTS)


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
            Case("alternative", "an inner merge on customer_id", _merge_0701),
            Case(
                "wrong",
                "the time-leak test instead (test data newer than training data)",
                _time_leak_test_0701,
                hint="cannot catch this leak",
            ),
            Case(
                "cheat",
                "the course's ml_testing.no_future_rows",
                _course_time_test_0701,
                hint="write it yourself",
            ),
            Case("cheat", "asserts the size of the test data", _size_0701, hint="clean split"),
            Case(
                "cheat",
                "ml_testing.no_shared_ids under another name, from another cell",
                _alias_0701,
                hint="write it yourself",
            ),
            Case(
                "cheat",
                "passes on every third call",
                _every_third_call(),
                hint="same answer for the same data",
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
            Case("alternative", "pandas, the column's categories", _categories_0702),
            Case("wrong", "a tolerance of 0.3", _tolerance_0_3_0702, hint="tolerance of 0.05"),
            Case("wrong", "tries one region only", _one_region_0702, hint="every region"),
            Case(
                "wrong",
                "tries only the regions present in X",
                _regions_in_x_0702,
                hint="no customer of X lives",
            ),
            Case(
                "cheat",
                "the course's ml_testing.model_tests",
                _model_tests_0702,
                hint="write it yourself",
            ),
            Case(
                "cheat",
                "ml_testing.invariance under another name, from another cell",
                _alias_0702,
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
                "the check's own data copied (nb07._DESCRIBED_PIPELINE_DIGESTS)",
                _copied_check_data_0703(),
                hint="must be one of",
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


def test_0702_the_toy_models_move_probabilities_as_the_check_says() -> None:
    moves = {}
    for key, model, X, must_pass in nb07._cases_0702():
        before = model.predict_proba(X)[:, 1]
        change = max(
            np.abs(model.predict_proba(X.assign(region=r))[:, 1] - before).max() for r in REGIONS
        )
        assert (change <= ml_testing.INVARIANCE_TOLERANCE) == must_pass, key
        moves[key] = change
    assert 0.035 < moves["near"] <= 0.041 and 0.075 < moves["over"] < 0.085
    assert 0.3 < moves["biased"] < 0.4 and 0.3 < moves["absent"] < 0.4
    # Only setting every row to the west shows the bias in the batch without west customers.
    _, model, X, _ = nb07._cases_0702()[3]
    before = model.predict_proba(X)[:, 1]
    for region in REGIONS[:-1]:
        assert (model.predict_proba(X.assign(region=region))[:, 1] == before).all()


def test_0701_the_leaky_splits_fool_a_time_test_and_the_clean_ones_differ_in_size() -> None:
    splits = nb07._splits()
    for key in ("clean", "resized", "returning"):
        train, test = splits[key]
        assert test["timestamp"].min() > train["timestamp"].max(), key
    assert len(splits["clean"][1]) != len(splits["resized"][1])
    assert nb07._ORDER_0701[0] == nb07._ORDER_0701[-1] == "clean"
