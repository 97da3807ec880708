"""Exercise checks of notebook 09 (monitoring and drift).

* 09.1: write the PSI of two arrays of shares as a function, by hand (not with
  :func:`utils.monitoring.psi_from_shares`);
* 09.2: find the features that drifted in a "mystery" stream (:func:`mystery_stream`);
* 09.3: choose the per-test p-value threshold for a wanted false-alarm rate (Bonferroni).

Every check computes the expected answer itself, with :mod:`utils.monitoring` or from the data
this module plants. :func:`utils.checks.check` imports this module the first time a 09 exercise
is checked.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np
import pandas as pd

from utils import datasets, monitoring
from utils.checks import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    Status,
    function_answer_problem,
    register,
)

__all__ = [
    "BATCH_SHARES",
    "NOTEBOOK",
    "PSI_TOLERANCE",
    "PSI_TRIALS",
    "THRESHOLD_TOLERANCE",
    "REFERENCE_SHARES",
    "WEEKS_PER_YEAR",
    "mystery_stream",
]

NOTEBOOK = "09_monitoring_and_drift"

#: Exercise 09.1: shares of the contract types in the reference weeks and in a new week.
REFERENCE_SHARES: dict[str, float] = {"month-to-month": 0.50, "one-year": 0.30, "two-year": 0.20}
BATCH_SHARES: dict[str, float] = {"month-to-month": 0.62, "one-year": 0.23, "two-year": 0.15}

#: Exercise 09.1: how far from the PSI an answer may be (absolute): four decimal places.
PSI_TOLERANCE = 1e-4
#: Exercise 09.1: customers in a week of the notebook's stream.
WEEK_SIZE = 1000

#: Exercise 09.2: the features :func:`mystery_stream` changes (private: it is the answer).
_MYSTERY_DRIFTED: frozenset[str] = frozenset({"tenure_months", "payment_method"})

#: Exercise 09.3: weeks in a year, and the wanted number of false alarms per year.
WEEKS_PER_YEAR = 52
FALSE_ALARMS_PER_YEAR = 1
#: Exercise 09.3: how far (relative) from the Bonferroni threshold an answer may be.
THRESHOLD_TOLERANCE = 0.02


def _number(answer: object) -> float | None:
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return None
    value = float(answer)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------- 09.1


def _expected_psi() -> float:
    levels = list(REFERENCE_SHARES)
    return monitoring.psi_from_shares(
        [REFERENCE_SHARES[k] for k in levels], [BATCH_SHARES[k] for k in levels]
    )


def _chi2_p_value(n: int) -> float:
    """The p-value of the chi-square test of the shares, for a week of ``n`` customers."""
    from scipy import stats

    levels = list(REFERENCE_SHARES)
    observed = np.array([BATCH_SHARES[k] for k in levels]) * n
    expected = np.array([REFERENCE_SHARES[k] for k in levels]) * n
    return float(stats.chisquare(observed, expected).pvalue)


#: Exercise 09.1: the pairs of shares (reference, batch) a student's PSI function is tried on:
#: the contract shares first, then the worked example of utils.monitoring and a reversal.
PSI_TRIALS: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = (
    (tuple(REFERENCE_SHARES.values()), tuple(BATCH_SHARES[k] for k in REFERENCE_SHARES)),
    ((0.5, 0.5), (0.25, 0.75)),
    ((0.1, 0.2, 0.3, 0.4), (0.4, 0.3, 0.2, 0.1)),
)


def _is_course_psi(answer: object) -> bool:
    """True for a function of the course's ``utils`` or one that calls its PSI functions."""
    module = getattr(answer, "__module__", None) or ""
    if module == "utils" or module.startswith("utils."):
        return True
    code = getattr(answer, "__code__", None)
    names = set(code.co_names) if code is not None else set()
    return bool(names & {"psi_from_shares", "psi", "psi_level"})


def _psi_mistake(value: float, e: np.ndarray, a: np.ndarray, expected: float) -> str:
    """A hint naming the mistake that gives ``value`` instead of the PSI of ``e`` and ``a``."""
    for name in ("PSI_MODERATE", "PSI_MAJOR", "PSI_EPSILON"):
        if value == getattr(monitoring, name):
            return (
                f"That is monitoring.{name}, a constant of the course, not the PSI of these shares."
            )
    if math.isclose(value, 100 * expected, rel_tol=1e-3):
        return "That is 100 times the PSI: use shares (0.62), not percentages (62)."
    if math.isclose(value, float(np.sum(a * np.log(a / e))), rel_tol=1e-3) or math.isclose(
        value, float(np.sum(e * np.log(e / a))), rel_tol=1e-3
    ):
        return (
            "That is a Kullback-Leibler divergence in one direction only. The PSI weighs each "
            "log ratio by the difference of the shares: sum of (batch - reference) * "
            "ln(batch / reference)."
        )
    if math.isclose(value, float(np.sum((a - e) * np.log10(a / e))), rel_tol=1e-3):
        return "That uses log base 10; the PSI uses the natural logarithm (np.log)."
    if math.isclose(value, float(np.mean((a - e) * np.log(a / e))), rel_tol=1e-3):
        return "That is the mean of the terms; the PSI is their sum."
    if value < 0:
        return (
            "A PSI is never negative: each term (batch - reference) * ln(batch / reference) "
            "has two factors of the same sign. Check the order inside the logarithm."
        )
    if math.isclose(value, expected, rel_tol=0.05):
        return (
            f"Close, but rounded too early: the PSI must come out within {PSI_TOLERANCE}; keep "
            "the full precision of each term until the sum."
        )
    return (
        "Not the PSI of these shares. For each bin compute (batch share - reference share) * "
        "ln(batch share / reference share), then add the terms."
    )


@register("09.1", NOTEBOOK, "PSI by hand")
def _check_psi(answer: object) -> tuple[Status, str]:
    problem = function_answer_problem(
        answer, "PSI function", "return the PSI of the two arrays of shares"
    )
    if problem is not None:
        return problem
    if answer is monitoring.psi_from_shares or _is_course_psi(answer):
        return INCORRECT, (
            "That is the course's own PSI function (utils.monitoring), not yours: write the "
            "formula with numpy in my_psi."
        )
    given: list[float] = []
    for reference, batch in PSI_TRIALS:
        e, a = np.array(reference), np.array(batch)
        try:
            result = answer(e.copy(), a.copy())
        except Exception as error:  # noqa: BLE001 - any error in student code becomes a hint
            return INCORRECT, (
                f"Your function raised {type(error).__name__}: {error}, called as my_psi("
                f"reference, batch) with two numpy arrays of shares, e.g. {list(reference)}."
            )
        if result is Ellipsis:
            return NOT_ATTEMPTED, "Your function still returns ...: write its body."
        if result is None:
            return INCORRECT, "Your function returns None: did you forget the return line?"
        value = _number(result)
        if value is None:
            return INCORRECT, (
                f"Your function returns a {type(result).__name__}; return the PSI as one "
                "number, e.g. the float that np.sum(...) returns."
            )
        expected = monitoring.psi_from_shares(list(reference), list(batch))
        if not math.isclose(value, expected, rel_tol=0, abs_tol=PSI_TOLERANCE):
            if value in given:
                return INCORRECT, (
                    f"Your function returns {value:.4f} for other shares too: compute the PSI "
                    "from its two arguments, not from a number you typed."
                )
            return INCORRECT, (
                f"For reference shares {list(reference)} and batch shares {list(batch)} your "
                f"function gives {value:.4f}. " + _psi_mistake(value, e, a, expected)
            )
        given.append(value)
    expected = _expected_psi()
    shift = 100 * (BATCH_SHARES["month-to-month"] - REFERENCE_SHARES["month-to-month"])
    return CORRECT, (
        f"Right on all {len(PSI_TRIALS)} pairs of shares (within {PSI_TOLERANCE}). For the "
        f"contracts, PSI = {expected:.4f}: below {monitoring.PSI_MODERATE}, "
        f"'{monitoring.psi_level(expected)}' by the rule of thumb, so the monitor would not call "
        "it drift. Do not read that as 'nothing happened': on a week of "
        f"{WEEK_SIZE:,} customers a chi-square test of these shares gives p = "
        f"{_chi2_p_value(WEEK_SIZE):.0e}, and month-to-month, the bin that grew by {shift:.0f} "
        "points, is the contract type with the most churn. The PSI's thresholds are "
        "conventions, and with three bins a large shift stays under them."
    )


# --------------------------------------------------------------------------- 09.2


def mystery_stream(seed: int = 909) -> pd.DataFrame:
    """Four production weeks (24-27) of the churn scenario in which some features drifted.

    For exercise 09.2 of notebook 09: a partner campaign brought new customers, and the stream
    changed in a way the exercise asks you to find with a :class:`utils.monitoring.Monitor`.
    """
    data = datasets.make_churn(n_per_period=1000, periods=4, seed=seed)
    data["period"] = data["period"] + 24
    rng = np.random.default_rng(seed)
    joined = rng.random(len(data)) < 0.3  # customers who came with the campaign
    tenure = data["tenure_months"].to_numpy().copy()
    tenure[joined] = rng.integers(0, 3, size=int(joined.sum()))
    data["tenure_months"] = tenure
    payment = data["payment_method"].copy()
    payment[joined] = "paypal"
    data["payment_method"] = payment
    return data


def _as_feature_set(answer: object) -> tuple[set[str] | None, str]:
    if isinstance(answer, str):
        return None, (
            "You gave one string. Give a set or list of feature names, e.g. "
            "{'usage_hours', 'plan'} (or the list that result.drifted_features() returns)."
        )
    if isinstance(answer, pd.DataFrame):
        return None, "That is a table; give the set of feature names that drifted."
    if not isinstance(answer, Iterable):
        return None, (
            f"Your answer is a {type(answer).__name__}; give a set or list of feature names."
        )
    names = list(answer)
    if not all(isinstance(n, str) for n in names):
        return None, "Give the features by name (strings), e.g. {'usage_hours', 'plan'}."
    return set(names), ""


@register("09.2", NOTEBOOK, "Which features drifted?")
def _check_drifted(answer: object) -> tuple[Status, str]:
    if answer is _MYSTERY_DRIFTED:
        return INCORRECT, (
            "That is the course's own answer, read from nb09: run the monitor over the mystery "
            "stream and collect the features it finds."
        )
    names, hint = _as_feature_set(answer)
    if names is None:
        return INCORRECT, hint
    if monitoring.PREDICTION in names:
        return INCORRECT, (
            "'prediction' is the model's output, not a feature. The question asks which input "
            "features drifted; leave the prediction out."
        )
    unknown = sorted(names - set(datasets.CHURN_FEATURES))
    if unknown:
        return INCORRECT, (
            f"{unknown} are not features of the churn data; the features are "
            f"{', '.join(datasets.CHURN_FEATURES)}."
        )
    if names == _MYSTERY_DRIFTED:
        return CORRECT, (
            "Both found: the campaign's customers are new (tenure 0-2 months) and pay by PayPal. "
            "Region, plan and the rest did not move, so there is nothing to fix there."
        )
    extra = sorted(names - _MYSTERY_DRIFTED)
    missing = _MYSTERY_DRIFTED - names
    if extra:
        return INCORRECT, (
            f"{', '.join(extra)} did not drift: look at the rows of the table with statistic "
            "'drift' (the test and the PSI must both alert), not at a single p-value."
        )
    return INCORRECT, (
        f"You found {len(names)} of the {len(names) + len(missing)} drifted features. Run the "
        "monitor over all four weeks of the mystery stream and collect every feature that "
        "drifted in any week."
    )


# --------------------------------------------------------------------------- 09.3


def _expected_threshold(n_tests: int) -> float:
    return FALSE_ALARMS_PER_YEAR / WEEKS_PER_YEAR / n_tests


@register("09.3", NOTEBOOK, "A threshold for one false alarm a year", needs=("n_tests",))
def _check_threshold(answer: object, *, n_tests: object) -> tuple[Status, str]:
    if isinstance(n_tests, bool) or not isinstance(n_tests, numbers.Integral) or n_tests < 1:
        raise TypeError("Exercise 09.3 needs the number of tests per week as n_tests=...")
    value = _number(answer)
    if value is None:
        return INCORRECT, (
            f"Your answer is a {type(answer).__name__}; give the p-value threshold as one "
            "number between 0 and 1."
        )
    expected = _expected_threshold(int(n_tests))
    if math.isclose(value, expected, rel_tol=THRESHOLD_TOLERANCE):
        return CORRECT, (
            f"{expected:.5f} (accepted within {THRESHOLD_TOLERANCE:.0%}, so the Sidak "
            f"threshold 1 - (1 - 1/{WEEKS_PER_YEAR})^(1/{n_tests}) passes too): one false "
            f"alarm in {WEEKS_PER_YEAR} weeks is a rate of "
            f"{1 / WEEKS_PER_YEAR:.4f} per week, shared by {n_tests} tests (Bonferroni). The "
            "price: a smaller drift needs more data before a test notices it."
        )
    if not 0 < value < 1:
        return INCORRECT, (
            f"{value:g} cannot be a p-value threshold: it must lie between 0 and 1, the range "
            "of a p-value."
        )
    weekly = FALSE_ALARMS_PER_YEAR / WEEKS_PER_YEAR
    if math.isclose(value, weekly, rel_tol=THRESHOLD_TOLERANCE):
        return INCORRECT, (
            f"{weekly:.4f} is the false-alarm rate for the whole week. The monitor runs "
            f"{n_tests} tests a week, each of which can raise the alarm: divide it among them."
        )
    if math.isclose(value, 0.05 / n_tests, rel_tol=THRESHOLD_TOLERANCE) or math.isclose(
        value, 0.05, rel_tol=THRESHOLD_TOLERANCE
    ):
        return INCORRECT, (
            "That starts from the course's default alpha of 0.05 per week, which means about "
            f"{0.05 * WEEKS_PER_YEAR:.1f} false alarms a year. Start from one a year instead."
        )
    if n_tests > 1 and math.isclose(value, weekly / (n_tests - 1), rel_tol=THRESHOLD_TOLERANCE):
        return INCORRECT, (
            f"Count the tests again: {n_tests - 1} features and the model's prediction make "
            f"{n_tests}."
        )
    if math.isclose(value, weekly / n_tests / WEEKS_PER_YEAR, rel_tol=THRESHOLD_TOLERANCE):
        return INCORRECT, "You divided by the number of weeks twice."
    return INCORRECT, (
        "Not quite. First the weekly rate: one false alarm per year of weeks. Then Bonferroni: "
        "share it equally among the tests of a week."
    )
