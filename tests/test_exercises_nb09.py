"""Tests of the exercise checks of notebook 09 (utils/exercises/nb09.py): "not attempted" for the
placeholder, a useful hint for the typical wrong answers, and the solution accepted."""

from __future__ import annotations

import functools
import math

import adversarial
import numpy as np
import pandas as pd
import pytest
from adversarial import Case, Table
from sklearn.metrics import roc_auc_score

from utils import checks, datasets, monitoring, training
from utils.exercises import nb09


def test_notebook_09_has_three_exercises() -> None:
    exercises = checks.exercises("09")
    assert [e.id for e in exercises] == ["09.1", "09.2", "09.3"]
    assert {e.notebook for e in exercises} == {"09_monitoring_and_drift"}


@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholders_are_not_attempted(placeholder: object) -> None:
    calm = {"calm_auc": np.full(60, 0.83), "reference_auc": 0.84}
    for exercise, context in (("09.1", {}), ("09.2", {}), ("09.3", calm)):
        result = checks.check(exercise, placeholder, **context)
        assert result.status == "not attempted" and not result.passed


# --------------------------------------------------------------------------- 09.1


def _shares() -> tuple[np.ndarray, np.ndarray]:
    e = np.array(list(nb09.REFERENCE_SHARES.values()))
    a = np.array([nb09.BATCH_SHARES[k] for k in nb09.REFERENCE_SHARES])
    return e, a


def _no_return(reference, batch):
    terms = (batch - reference) * np.log(batch / reference)  # noqa: F841 - the mistake


_course = monitoring.psi_from_shares


def _alias_psi(e, a):
    return _course(e, a)  # an alias: no name of the course's function in the code


def _my_psi(reference, batch):
    """The solution cell's function."""
    return float(np.sum((batch - reference) * np.log(batch / reference)))


def test_psi_by_hand_accepts_the_formula() -> None:
    e, a = _shares()
    assert float(np.sum((a - e) * np.log(a / e))) == pytest.approx(0.0588, abs=1e-4)  # by hand
    result = checks.check("09.1", _my_psi)
    assert result.passed and "convention" in result.message and "chi-square" in result.message
    assert "prediction bias" in result.message  # what to watch instead
    assert nb09.PSI_TOLERANCE == 1e-4


def test_psi_trials_start_with_the_contract_shares_and_tell_mistakes_apart() -> None:
    assert nb09.PSI_TRIALS[0] == (
        tuple(nb09.REFERENCE_SHARES.values()),
        tuple(nb09.BATCH_SHARES[k] for k in nb09.REFERENCE_SHARES),
    )
    # A function that is right on the contract shares only is caught on the next pair.
    assert not checks.check("09.1", lambda e, a: _my_psi(*_shares())).passed


def test_the_watch_on_the_course_psi_keeps_another_profiler() -> None:
    import sys

    seen: list[str] = []
    previous = sys.getprofile()
    sys.setprofile(lambda frame, event, arg: seen.append(event))
    try:
        assert not checks.check("09.1", _alias_psi).passed
        assert checks.check("09.1", _my_psi).passed
        hook = sys.getprofile()
    finally:
        sys.setprofile(previous)
    assert seen and hook is not None  # the profiler got its events and was put back


def test_an_unwritten_psi_function_is_not_attempted() -> None:
    def my_psi(reference, batch):
        # your code here
        ...

    assert checks.check("09.1", my_psi).status == "not attempted"


# --------------------------------------------------------------------------- 09.2

#: The features mystery_stream changes, written here: nb09 keeps no attribute with the answer.
PLANTED = {"tenure_months", "payment_method"}


def test_no_answer_of_09_2_is_a_module_attribute() -> None:
    for name in dir(nb09):
        value = getattr(nb09, name)
        if isinstance(value, (set, frozenset, list, tuple)):
            assert set(value) != PLANTED, name


@pytest.fixture(scope="module")
def mystery_result() -> monitoring.StreamResult:
    """The notebook's monitor (seed 42, weeks 0-7 of 1,000 customers) on the mystery stream:
    the same result the adversarial table below reads (computed once, only read)."""
    return _mystery()


def test_the_mystery_stream_drifts_in_exactly_the_planted_features(mystery_result) -> None:
    assert set(mystery_result.drifted_features()) == PLANTED
    assert list(mystery_result.summary["week"]) == [24, 25, 26, 27]
    stream = nb09.mystery_stream()
    assert stream.equals(nb09.mystery_stream())  # seeded: the same stream every time
    assert set(stream["payment_method"].cat.categories) == set(
        datasets.CHURN_CATEGORIES["payment_method"]
    )


def test_which_features_drifted_accepts_the_solution(mystery_result) -> None:
    assert checks.check("09.2", mystery_result.drifted_features()).passed
    assert checks.check("09.2", {"payment_method", "tenure_months"}).passed


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        ("tenure_months", "one string"),
        (42, "set or list"),
        ({"tenure_months", "payment_method", "prediction"}, "model's output"),
        ({"tenure", "payment_method"}, "not features"),
        ({"tenure_months", "payment_method", "region"}, "region did not drift"),
        ({"tenure_months"}, "1 of the 2"),
    ],
)
def test_which_features_drifted_hints(wrong: object, hint: str) -> None:
    result = checks.check("09.2", wrong)
    assert result.status == "incorrect" and hint in result.message


# --------------------------------------------------------------------------- 09.3


@functools.cache
def _calm() -> dict[str, object]:
    """The context of 09.3 as the notebook builds it: the monitor of section 4 (seed 42, the
    reference weeks 0-7, the baseline on the held-out split) and three years of calm weeks."""
    reference = datasets.make_churn(n_per_period=1000, periods=8, seed=42)
    trained = training.train(training.TrainConfig("logistic_regression", seed=42), reference)
    held_out = training.split(reference, trained.config)[1]
    monitor = monitoring.Monitor(reference, trained.model, baseline=held_out)
    calm = datasets.make_churn(n_per_period=52_000, periods=3, seed=43)
    scores = monitor.scores(calm).reshape(-1, 1000)
    labels = calm["churned"].to_numpy().reshape(-1, 1000)
    auc = np.array([roc_auc_score(y, p) for y, p in zip(labels, scores, strict=True)])
    return {"calm_auc": auc, "reference_auc": monitor.reference_performance["roc_auc"]}


def _rate(drop: float) -> float:
    context = _calm()
    return nb09.false_alarms_per_year(context["calm_auc"], context["reference_auc"], drop)


def _solution(context: dict[str, object]) -> float:
    within = [d for d in nb09.CANDIDATE_DROPS if _rate(d) <= nb09.FALSE_ALARMS_PER_YEAR]
    return min(within)


def test_the_calm_weeks_make_a_real_choice() -> None:
    """The answer is neither the default nor the quietest drop, and a tighter drop fails."""
    answer = _solution(_calm())
    assert answer not in (monitoring.Thresholds().roc_auc_drop, max(nb09.CANDIDATE_DROPS))
    tighter = round(answer - 0.01, 2)
    assert _rate(tighter) > nb09.FALSE_ALARMS_PER_YEAR >= _rate(answer)
    rates = [_rate(d) for d in nb09.CANDIDATE_DROPS]
    assert rates == sorted(rates, reverse=True)  # larger drops fire less often


def test_drop_accepts_the_most_sensitive_drop_within_the_budget() -> None:
    context = _calm()
    answer = _solution(context)
    result = checks.check("09.3", answer, **context)
    assert result.passed and "smallest drop" in result.message
    assert checks.check("09.3", np.float64(answer), **context).passed


def test_drop_context_is_required() -> None:
    with pytest.raises(TypeError, match="needs the keyword arguments"):
        checks.check("09.3", 0.04)
    with pytest.raises(TypeError, match="calm_auc"):
        checks.check("09.3", 0.04, calm_auc=[0.8, 0.8], reference_auc=0.84)
    with pytest.raises(TypeError, match="reference_auc"):
        checks.check("09.3", 0.04, calm_auc=np.full(60, 0.8), reference_auc="0.84")


# --------------------------------------------------------------------------- adversarial tables


@functools.cache
def _monitor() -> monitoring.Monitor:
    """The notebook's monitor: seed 42, weeks 0-7 of 1,000 customers, logistic regression."""
    data = datasets.make_churn(n_per_period=1000, periods=8, seed=42)
    model = training.train(training.TrainConfig("logistic_regression", seed=42), data).model
    return monitoring.Monitor(data, model)


@functools.cache
def _mystery() -> monitoring.StreamResult:
    return monitoring.monitor_stream(_monitor(), nb09.mystery_stream(), label_delay=None)


@pytest.fixture(scope="module")
def drop_context() -> dict[str, object]:
    """The context of 09.3 as the notebook builds it: calm weeks and the reference ROC AUC."""
    return _calm()


TABLES = [
    Table(
        "09.1",
        [
            Case("reference", "the solution cell's numpy sum", _my_psi),
            Case(
                "alternative",
                "a loop with math.log over the pairs of shares",
                lambda e, a: sum((y - x) * math.log(y / x) for x, y in zip(e, a, strict=True)),
            ),
            Case(
                "alternative",
                "np.dot of the differences and the log ratios, a numpy float",
                lambda e, a: np.dot(a - e, np.log(a) - np.log(e)),
            ),
            Case("wrong", "in percentages", lambda e, a: 100 * _my_psi(e, a), hint="percentages"),
            Case(
                "wrong",
                "KL divergence",
                lambda e, a: float(np.sum(a * np.log(a / e))),
                hint="one direction",
            ),
            Case(
                "wrong",
                "log base 10",
                lambda e, a: float(np.sum((a - e) * np.log10(a / e))),
                hint="log base 10",
            ),
            Case(
                "wrong",
                "the mean of the terms",
                lambda e, a: float(np.mean((a - e) * np.log(a / e))),
                hint="mean of the terms",
            ),
            Case(
                "wrong",
                "the log ratio turned over",
                lambda e, a: float(np.sum((a - e) * np.log(e / a))),
                hint="never negative",
            ),
            Case(
                "wrong",
                "rounded to two decimals",
                lambda e, a: round(_my_psi(e, a), 2),
                hint="rounded too early",
            ),
            Case("wrong", "the number, not a function", 0.0588, hint="PSI function itself"),
            Case("wrong", "forgot the return", _no_return, hint="return line"),
            Case(
                "cheat",
                "the course's psi_from_shares",
                monitoring.psi_from_shares,
                hint="course's own PSI function",
            ),
            Case(
                "cheat",
                "a wrapper of the course's function",
                lambda e, a: monitoring.psi_from_shares(e, a),
                hint="course's own PSI function",
            ),
            Case(
                "cheat",
                "an alias of the course's function",
                _alias_psi,
                hint="course's own PSI function",
            ),
            Case(
                "cheat",
                "the course's function found with getattr",
                lambda e, a: getattr(monitoring, "psi_from_shares")(e, a),  # noqa: B009
                hint="course's own PSI function",
            ),
            Case(
                "cheat",
                "a lambda inside a lambda",
                (lambda f: lambda e, a: f(e, a))(monitoring.psi_from_shares),
                hint="course's own PSI function",
            ),
            Case(
                "cheat",
                "functools.partial of the course's function",
                functools.partial(monitoring.psi_from_shares),
                hint="course's own PSI function",
            ),
            Case(
                "cheat",
                "the contract PSI typed in",
                lambda e, a: 0.0588,
                hint="for other shares too",
            ),
            Case(
                "cheat",
                "the course's threshold",
                lambda e, a: monitoring.PSI_MODERATE,
                hint="constant of the course",
            ),
        ],
    ),
    Table(
        "09.2",
        [
            Case(
                "reference",
                "the monitor's drifted features",
                lambda c: set(_mystery().drifted_features()),
                lazy=True,
            ),
            Case("alternative", "a sorted list", ["payment_method", "tenure_months"]),
            Case("alternative", "a pandas Index", pd.Index(["payment_method", "tenure_months"])),
            Case("alternative", "a numpy array", np.array(["tenure_months", "payment_method"])),
            Case(
                "wrong",
                "with the prediction",
                {"tenure_months", "payment_method", "prediction"},
                hint="model's output",
            ),
            Case("wrong", "only one of the two", ["tenure_months"], hint="1 of the 2"),
            Case("wrong", "one string", "tenure_months", hint="one string"),
            Case("wrong", "a misspelt feature", {"tenure", "payment_method"}, hint="not features"),
            Case(
                "wrong",
                "the drift of the first week plus region",
                lambda c: set(_mystery().drifted_features()) | {"region"},
                hint="region did not drift",
                lazy=True,
            ),
            Case(
                "cheat",
                "the drifted features of the notebook's planted stream",
                ["monthly_charges", "usage_hours", "support_calls", "contract"],
                hint="did not drift",
            ),
            Case(
                "cheat",
                "every feature of the course",
                list(datasets.CHURN_FEATURES),
                hint="did not drift",
            ),
        ],
    ),
    Table(
        "09.3",
        [
            Case("reference", "the smallest drop within the budget", _solution, lazy=True),
            Case(
                "alternative",
                "a numpy float from the table",
                lambda c: np.float64(_solution(c)),
                lazy=True,
            ),
            Case(
                "alternative",
                "computed as a fraction",
                lambda c: round(_solution(c) * 100) / 100,
                lazy=True,
            ),
            Case(
                "wrong",
                "one step tighter: over the budget",
                lambda c: round(_solution(c) - 0.01, 2),
                hint="false alarms a year",
                lazy=True,
            ),
            Case("wrong", "the tightest candidate", 0.01, hint="A larger drop fires less often"),
            Case("wrong", "the quietest candidate", 0.10, hint="a quiet alert is not a sensitive"),
            Case("wrong", "not a candidate", 0.045, hint="not one of the candidate drops"),
            Case("wrong", "a string", "0.04", hint="one number"),
            Case(
                "cheat",
                "the monitor's default drop",
                lambda c: monitoring.Thresholds().roc_auc_drop,
                hint="monitor's default",
                lazy=True,
            ),
            Case(
                "cheat",
                "the budget itself",
                nb09.FALSE_ALARMS_PER_YEAR,
                hint="not one of the candidate drops",
            ),
        ],
        context="drop_context",
    ),
]

test_adversarial = adversarial.parametrize(TABLES)
