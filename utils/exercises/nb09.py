"""Exercise checks of notebook 09 (monitoring and drift).

* 09.1: write the PSI of two arrays of shares as a function, by hand (not with
  :func:`utils.monitoring.psi_from_shares`);
* 09.2: find the features that drifted in a "mystery" stream (:func:`mystery_stream`);
* 09.3: choose the ROC AUC drop of the performance alert from its false alarms, measured on
  calm weeks: the most sensitive drop that stays within one false alarm a year.

Every check computes the expected answer itself, with :mod:`utils.monitoring` or from the data
this module plants. :func:`utils.checks.check` imports this module the first time a 09 exercise
is checked.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from utils import datasets, monitoring
from utils.checks import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    Status,
    course_calls,
    function_answer_problem,
    register,
)

__all__ = [
    "BATCH_SHARES",
    "CANDIDATE_DROPS",
    "FALSE_ALARMS_PER_YEAR",
    "MYSTERY_SEED",
    "NOTEBOOK",
    "PSI_TOLERANCE",
    "PSI_TRIALS",
    "REFERENCE_SHARES",
    "WEEKS_PER_YEAR",
    "false_alarms_per_year",
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

#: Exercise 09.2: the seed of :func:`mystery_stream`. The features it changes are the answer,
#: so no attribute of this module holds them: the check finds them by comparing the stream with
#: the same data before the change.
MYSTERY_SEED = 909

#: Exercise 09.3: weeks in a year, and the false alarms a year the team accepts.
WEEKS_PER_YEAR = 52
FALSE_ALARMS_PER_YEAR = 1
#: Exercise 09.3: the ROC AUC drops to choose from (0.01 to 0.10).
CANDIDATE_DROPS: tuple[float, ...] = tuple(round(0.01 * k, 2) for k in range(1, 11))


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
    """True for a function of the course's ``utils`` or one that names its PSI functions."""
    module = getattr(answer, "__module__", None) or ""
    if module == "utils" or module.startswith("utils."):
        return True
    code = getattr(answer, "__code__", None)
    names = set(code.co_names) if code is not None else set()
    return bool(names & {"psi_from_shares", "psi", "psi_level"})


def _call_watched(
    function: Callable[..., object], *args: object
) -> tuple[object, Exception | None, bool]:
    """Call ``function(*args)``: its result, its error, and whether it ran the course's PSI
    (:func:`utils.monitoring.psi_from_shares` or :func:`utils.monitoring.psi`), whatever route
    the call took (:func:`~utils.checks.course_calls`)."""
    with course_calls(monitoring.psi_from_shares, monitoring.psi) as ran:
        try:
            result, error = function(*args), None
        except Exception as raised:  # noqa: BLE001 - any error in student code becomes a hint
            result, error = None, raised
    return result, error, bool(ran)


_COURSE_PSI = (
    "That is the course's own PSI function (utils.monitoring), not yours: your function calls "
    "it{how}. Write the formula with numpy in my_psi."
)


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
        return INCORRECT, _COURSE_PSI.format(how="")
    given: list[float] = []
    for reference, batch in PSI_TRIALS:
        e, a = np.array(reference), np.array(batch)
        result, error, course = _call_watched(answer, e.copy(), a.copy())  # type: ignore[arg-type]
        if course:
            return INCORRECT, _COURSE_PSI.format(
                how=" (psi_from_shares or psi ran while it did, by whatever name it was called)"
            )
        if error is not None:
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
        f"contracts, PSI = {expected:.4f}, under the convention's {monitoring.PSI_MODERATE}, so "
        "the monitor would raise no drift alert. That is the convention failing, not the "
        f"customers standing still: on a week of {WEEK_SIZE:,} customers a chi-square test of "
        f"these shares gives p = {_chi2_p_value(WEEK_SIZE):.0e}, and month-to-month, the bin "
        f"that grew by {shift:.0f} points, is the contract type with the most churn. The "
        "thresholds were set for about ten bins; with three, a shift that matters stays under "
        "them. Watch what it costs instead: the prediction bias and the cost per customer."
    )


# --------------------------------------------------------------------------- 09.2


def mystery_stream(seed: int = MYSTERY_SEED) -> pd.DataFrame:
    """Four production weeks (24-27) of the churn scenario in which some features drifted.

    For exercise 09.2 of notebook 09: a partner campaign brought new customers, and the stream
    changed in a way the exercise asks you to find with a :class:`utils.monitoring.Monitor`.
    """
    data = _mystery_before(seed)
    rng = np.random.default_rng(seed)
    joined = rng.random(len(data)) < 0.3  # customers who came with the campaign
    tenure = data["tenure_months"].to_numpy().copy()
    tenure[joined] = rng.integers(0, 3, size=int(joined.sum()))
    data["tenure_months"] = tenure
    payment = data["payment_method"].copy()
    payment[joined] = "paypal"
    data["payment_method"] = payment
    return data


def _mystery_before(seed: int) -> pd.DataFrame:
    """The weeks of :func:`mystery_stream` before the campaign changed them."""
    data = datasets.make_churn(n_per_period=1000, periods=4, seed=seed)
    data["period"] = data["period"] + 24
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
    # The features the campaign changed, found here from the data: no attribute holds the answer.
    before, after = _mystery_before(MYSTERY_SEED), mystery_stream(MYSTERY_SEED)
    drifted = {f for f in datasets.CHURN_FEATURES if not before[f].equals(after[f])}
    if names == drifted:
        return CORRECT, (
            "Both found: the campaign's customers are new (tenure 0-2 months) and pay by PayPal. "
            "Region, plan and the rest did not move, so there is nothing to fix there."
        )
    extra = sorted(names - drifted)
    missing = drifted - names
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


def false_alarms_per_year(calm_auc: object, reference_auc: float, drop: float) -> float:
    """False alarms a year of the rule "ROC AUC below reference - drop" on calm weeks.

    For exercise 09.3 (and its table in notebook 09): the share of calm weeks whose ROC AUC is
    below ``reference_auc - drop``, times :data:`WEEKS_PER_YEAR`.
    """
    auc = np.asarray(calm_auc, dtype=float)
    return float(np.mean(auc < float(reference_auc) - float(drop)) * WEEKS_PER_YEAR)


def _expected_drop(calm_auc: np.ndarray, reference_auc: float) -> float | None:
    within = [
        d
        for d in CANDIDATE_DROPS
        if false_alarms_per_year(calm_auc, reference_auc, d) <= FALSE_ALARMS_PER_YEAR
    ]
    return min(within) if within else None


def _calm_context(calm_auc: object, reference_auc: object) -> tuple[np.ndarray, float]:
    auc = np.asarray(calm_auc, dtype=float)
    if auc.ndim != 1 or len(auc) < WEEKS_PER_YEAR or not np.isfinite(auc).all():
        raise TypeError(
            "Exercise 09.3 needs calm_auc=..., the ROC AUC of at least a year of calm weeks."
        )
    if isinstance(reference_auc, bool) or not isinstance(reference_auc, numbers.Real):
        raise TypeError("Exercise 09.3 needs reference_auc=..., the monitor's reference ROC AUC.")
    return auc, float(reference_auc)


@register(
    "09.3",
    NOTEBOOK,
    "A performance threshold from its false alarms",
    needs=("calm_auc", "reference_auc"),
)
def _check_drop(answer: object, *, calm_auc: object, reference_auc: object) -> tuple[Status, str]:
    auc, reference = _calm_context(calm_auc, reference_auc)
    value = _number(answer)
    if value is None:
        return INCORRECT, (
            f"Your answer is a {type(answer).__name__}; give the drop as one number, one of "
            f"nb09.CANDIDATE_DROPS (e.g. {CANDIDATE_DROPS[2]})."
        )
    candidates = [d for d in CANDIDATE_DROPS if math.isclose(value, d, abs_tol=1e-9)]
    if not candidates:
        return INCORRECT, (
            f"{value:g} is not one of the candidate drops {list(CANDIDATE_DROPS)}: choose one "
            "of them (the table lists their false alarms)."
        )
    drop = candidates[0]
    expected = _expected_drop(auc, reference)
    rate = false_alarms_per_year(auc, reference, drop)
    if expected is None:  # pragma: no cover - the notebook's calm weeks always allow one
        return INCORRECT, "No candidate stays within the budget on these calm weeks."
    if rate > FALSE_ALARMS_PER_YEAR:
        return INCORRECT, (
            f"On the calm weeks the drop {drop:g} raised {rate:.1f} false alarms a year; the "
            f"team accepts {FALSE_ALARMS_PER_YEAR}. A larger drop fires less often."
        )
    if drop == expected:
        return CORRECT, (
            f"{drop:g}: {rate:.2f} false alarms a year on the calm weeks, within the budget of "
            f"{FALSE_ALARMS_PER_YEAR}, and the smallest drop that is, so it alerts as early as "
            "the budget allows. Measured on simulated calm weeks: redo it on your own quiet "
            "weeks, and again when the model or the traffic changes."
        )
    default = math.isclose(drop, monitoring.Thresholds().roc_auc_drop)
    return INCORRECT, (
        (
            "That is the monitor's default, a guess made before any false alarm was counted. "
            if default
            else ""
        )
        + f"The drop {drop:g} stays within the budget ({rate:.2f} false alarms a year), but a "
        "smaller candidate does too, and a smaller drop alerts sooner when the model really "
        "degrades: a quiet alert is not a sensitive one. Take the smallest drop within "
        "the budget."
    )
