"""Tests for ML systems: data tests, behavioural model tests and a quality gate.

Introduced in notebook 07 (testing ML systems); notebook 08 (continuous delivery) runs the same
tests and gate in its pipeline.

Code tests check logic that people wrote; the behaviour of a model is learned from data, so an
ML system also needs tests of its **data** and of its **model**, and a **gate** that decides
whether a new model may replace the one in use (E. Breck et al., *The ML Test Score*, IEEE Big
Data 2017). Every test here returns an :class:`Outcome`: passed or not, and a sentence saying
what was found.

* **Data tests**: :func:`schema_test` (the pandera schema of notebook 04), :func:`no_shared_ids`
  (no customer in both training and evaluation data) and :func:`no_future_rows` (training
  data older than the evaluation data: no peeking into the future).
* **Behavioural model tests**, in the sense of M. T. Ribeiro, T. Wu, C. Guestrin and S. Singh,
  *Beyond Accuracy: Behavioral Testing of NLP Models with CheckList*, ACL 2020:
  :func:`minimum_functionality` (obvious cases get the obvious answer), :func:`invariance`
  (changing what must not matter does not change the prediction) and :func:`directional`
  (changing an input in a known direction moves the prediction the expected way).
  :func:`model_tests` runs the course's three tests of a churn model.
* **The quality gate**: :func:`quality_gate` compares a candidate with a baseline and with the
  champion on the same evaluation data and returns a :class:`GateDecision` with its reasons.
  :func:`paired_bootstrap_difference` (notebook 06) says how far the difference between two
  models on the same rows can be trusted: a paired bootstrap interval.
* **Real pytest**: :func:`write_test_suite` writes a small pytest module (:data:`TEST_MODULE`)
  with the data and models it tests into a folder; :func:`utils.devops.run_pytest` (notebook 03)
  runs it in a separate Python process and returns a :class:`utils.devops.PytestReport`.
"""

from __future__ import annotations

import math
import numbers
import os
import pickle
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from utils.datasets import CHURN_CATEGORIES, CHURN_FEATURES, CHURN_TARGET, ChurnCosts
from utils.validation import validation_report

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    import pandera.pandas as pa

    from utils.figures import CourseFigure

__all__ = [
    "DIRECTIONAL_DELTA_EUR",
    "INVARIANCE_TOLERANCE",
    "TEST_MODULE",
    "GateDecision",
    "Outcome",
    "PairedDifference",
    "behaviour_figure",
    "churn_probability",
    "churn_profiles",
    "data_tests",
    "directional",
    "invariance",
    "largest_change",
    "minimum_functionality",
    "model_tests",
    "no_future_rows",
    "no_shared_ids",
    "paired_bootstrap_difference",
    "quality_gate",
    "schema_test",
    "write_test_suite",
]

#: How far (in probability, 0 to 1) a churn probability may move when only ``region`` changes.
INVARIANCE_TOLERANCE = 0.05
#: The rise in monthly charges (EUR) of the course's directional test.
DIRECTIONAL_DELTA_EUR = 5.0

Kind = Literal["data", "model", "gate"]


@dataclass(frozen=True)
class Outcome:
    """The result of one test (notebook 07).

    Attributes:
        name: what was tested, e.g. ``"invariance: region"``.
        kind: ``"data"``, ``"model"`` or ``"gate"``.
        passed: True if the test passed.
        detail: what was found, in one sentence (numbers included).
    """

    name: str
    kind: Kind
    passed: bool
    detail: str

    def __str__(self) -> str:
        mark = "\N{CHECK MARK}" if self.passed else "\N{BALLOT X}"
        return f"{mark} {self.name}: {self.detail}"


# --------------------------------------------------------------------------- input checks


def _frame(df: object, what: str, columns: Sequence[str] = ()) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {missing}; it has {list(df.columns)}.")
    if len(df) == 0:
        raise ValueError(f"{what} has no rows: a test on no data proves nothing.")
    return df


def _number(value: object, what: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{what} must be a finite number >= {minimum:g}, got {value}.")
    return value


def _examples(values: Sequence[object], limit: int = 3) -> str:
    shown = ", ".join(str(v) for v in list(values)[:limit])
    return shown + (", ..." if len(values) > limit else "")


# --------------------------------------------------------------------------- data tests


def schema_test(df: pd.DataFrame, schema: pa.DataFrameSchema, what: str = "batch") -> Outcome:
    """Check a batch against a pandera schema (e.g. :func:`utils.validation.churn_schema`).

    Introduced in notebook 07; the schema itself is notebook 04's. The detail names every
    failing check (column, check, count), as :func:`utils.validation.validation_report` does.

    Raises:
        TypeError: ``df`` is not a DataFrame or ``schema`` not a pandera schema.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"schema_test expects a pandas DataFrame, got {type(df).__name__}.")
    report = validation_report(df, schema)
    if report.empty:
        return Outcome(
            f"schema: {what}", "data", True, f"all {len(df):,} rows pass every check of the schema"
        )
    problems = "; ".join(
        f"{row.column} {row.check} ({row.count:,} rows, e.g. {row.failing_values})"
        for row in report.itertuples()
    )
    return Outcome(f"schema: {what}", "data", False, f"{len(report)} check(s) fail: {problems}")


def no_shared_ids(
    train: pd.DataFrame, test: pd.DataFrame, id_column: str = "customer_id"
) -> Outcome:
    """Leakage test: no identifier (e.g. customer) is in both the training and the test data.

    Introduced in notebook 07. A customer in both lets the model be scored on someone it has
    already seen, which flatters its test metrics.

    Raises:
        TypeError, ValueError: a frame is not a DataFrame, is empty or lacks ``id_column``.
    """
    train = _frame(train, "train", [id_column])
    test = _frame(test, "test", [id_column])
    shared = sorted(set(train[id_column]) & set(test[id_column]))
    name = f"no {id_column} in both splits"
    if not shared:
        return Outcome(
            name,
            "data",
            True,
            f"{train[id_column].nunique():,} training and {test[id_column].nunique():,} test "
            "ids, none in both",
        )
    return Outcome(
        name,
        "data",
        False,
        f"{len(shared):,} ids are in both the training and the test data, e.g. {_examples(shared)}",
    )


def no_future_rows(
    train: pd.DataFrame, test: pd.DataFrame, time_column: str = "timestamp"
) -> Outcome:
    """Leakage test: every training row is older than every test row.

    Introduced in notebook 07. A model in use is trained on the past and scores the future; a
    training row from the test period (or later) lets it peek at the future it is judged on.

    Raises:
        TypeError, ValueError: a frame is not a DataFrame, is empty or lacks ``time_column``.
    """
    train = _frame(train, "train", [time_column])
    test = _frame(test, "test", [time_column])
    first_test = test[time_column].min()
    late = train[train[time_column] >= first_test]
    name = "training data older than test data"
    if late.empty:
        return Outcome(
            name,
            "data",
            True,
            f"the newest training row ({train[time_column].max()}) is older than the first "
            f"test row ({first_test})",
        )
    return Outcome(
        name,
        "data",
        False,
        f"{len(late):,} training rows are not older than the first test row ({first_test}); "
        f"the newest is from {late[time_column].max()}",
    )


def data_tests(
    train: pd.DataFrame,
    test: pd.DataFrame,
    schema: pa.DataFrameSchema,
    id_column: str = "customer_id",
    time_column: str = "timestamp",
) -> list[Outcome]:
    """The course's data tests of a training and a test (evaluation) frame (notebook 07):
    the schema on each, no shared ids, and training data older than test data."""
    return [
        schema_test(train, schema, "training data"),
        schema_test(test, schema, "test data"),
        no_shared_ids(train, test, id_column),
        no_future_rows(train, test, time_column),
    ]


# --------------------------------------------------------------------------- model tests


def churn_probability(model: Any, X: pd.DataFrame) -> np.ndarray:
    """The model's probability of the positive class (churn) for each row of ``X``.

    Introduced in notebook 07.

    Raises:
        TypeError: the model has no ``predict_proba`` or ``X`` is not a DataFrame.
        ValueError: the model does not know exactly two classes.
    """
    if not hasattr(model, "predict_proba"):
        raise TypeError(
            f"The model must be a fitted classifier with predict_proba, got {type(model).__name__}."
        )
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}.")
    classes = getattr(model, "classes_", None)
    if classes is None or len(classes) != 2:
        raise ValueError(
            f"The model must be a fitted binary classifier (two classes_), got classes {classes!r}."
        )
    return np.asarray(model.predict_proba(X), dtype=float)[:, 1]


def churn_profiles() -> pd.DataFrame:
    """Four hand-made customers whose answer is obvious, for minimum-functionality tests.

    Introduced in notebook 07. Two obvious churners (month-to-month, new, expensive, barely
    watching, calling support, paying late) and two obvious stayers (long contracts, years of
    tenure, cheap, watching a lot, no trouble). Under the true rule of
    :func:`utils.datasets.make_churn` the churners cancel with probability above 0.99 and the
    stayers below 0.01.

    Returns:
        The churn feature columns (:data:`utils.datasets.CHURN_FEATURES`, categorical dtypes as
        in ``make_churn``), a ``profile`` name as index and the column ``expected`` (1 = churns).
    """
    rows = [
        ("new, expensive, unhappy", 2, 29.5, 3.0, 5, 3, "month-to-month", "premium", "invoice", 1),
        ("leaving after a month", 1, 27.0, 5.0, 4, 2, "month-to-month", "standard", "paypal", 1),
        ("loyal for five years", 60, 9.5, 80.0, 0, 0, "two-year", "basic", "direct_debit", 0),
        ("happy on a yearly plan", 48, 14.0, 60.0, 0, 0, "one-year", "standard", "credit_card", 0),
    ]
    regions = ["north", "south", "east", "west"]
    records = []
    for (name, tenure, charges, usage, calls, late, contract, plan, payment, label), region in zip(
        rows, regions, strict=True
    ):
        records.append(
            {
                "profile": name,
                "tenure_months": tenure,
                "monthly_charges": charges,
                "usage_hours": usage,
                "support_calls": calls,
                "late_payments": late,
                "contract": contract,
                "plan": plan,
                "payment_method": payment,
                "region": region,
                "expected": label,
            }
        )
    df = pd.DataFrame(records).set_index("profile")
    for column, levels in CHURN_CATEGORIES.items():
        df[column] = pd.Categorical(df[column], categories=levels)
    return df[[*CHURN_FEATURES, "expected"]]


def minimum_functionality(
    model: Any,
    cases: pd.DataFrame,
    expected: Sequence[int] | pd.Series | np.ndarray,
    threshold: float = 0.5,
    name: str = "minimum functionality",
) -> Outcome:
    """Behavioural test: every obvious case gets the obvious answer.

    Introduced in notebook 07. A case counts as predicted positive (churn) when its
    probability is at least ``threshold``.

    Args:
        model: a fitted binary classifier with ``predict_proba``.
        cases: the feature rows (e.g. :func:`churn_profiles` without ``expected``).
        expected: the expected label (0 or 1) of each case.
        threshold: the decision threshold.
        name: the test's name in the outcome.

    Raises:
        TypeError, ValueError: bad model or frame; ``expected`` of another length or not 0/1.
    """
    cases = _frame(cases, "cases")
    labels = np.asarray(expected)
    if labels.shape != (len(cases),) or not np.isin(labels, [0, 1]).all():
        raise ValueError(
            f"expected must hold one label, 0 or 1, per case ({len(cases)} cases), "
            f"got {labels.tolist()!r}."
        )
    threshold = _number(threshold, "threshold")
    if threshold > 1:
        raise ValueError(f"threshold is a probability in [0, 1], got {threshold}.")
    proba = churn_probability(model, cases)
    predicted = (proba >= threshold).astype(int)
    wrong = [
        f"{label} (p={p:.2f}, expected {'churn' if e else 'stay'})"
        for label, p, e, got in zip(cases.index, proba, labels, predicted, strict=True)
        if got != e
    ]
    if not wrong:
        return Outcome(
            name,
            "model",
            True,
            f"all {len(cases)} obvious cases get the obvious answer "
            f"(churn probabilities {', '.join(f'{p:.2f}' for p in proba)})",
        )
    return Outcome(
        name,
        "model",
        False,
        f"{len(wrong)} of {len(cases)} obvious cases get the wrong answer: {'; '.join(wrong)}",
    )


def _values_of(series: pd.Series) -> list[object]:
    """The values a column can take: its categories, else its distinct values."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    return list(pd.unique(series))


def _replace(X: pd.DataFrame, column: str, value: object) -> pd.DataFrame:
    """``X`` with every value of ``column`` set to ``value``, keeping a categorical dtype."""
    series = X[column]
    if isinstance(series.dtype, pd.CategoricalDtype):
        new = pd.Categorical([value] * len(X), categories=series.cat.categories)
        return X.assign(**{column: pd.Series(new, index=X.index)})
    return X.assign(**{column: value})


def _variant_probabilities(model: Any, variants: Sequence[pd.DataFrame]) -> list[np.ndarray]:
    """The churn probabilities of each of ``variants`` (copies of one frame, one column
    changed), from one ``predict_proba`` call on all of them stacked: a model scores each row
    on its own, and one call of a scikit-learn pipeline on n rows costs far less than n calls
    on one row each (the overhead is per call)."""
    scores = churn_probability(model, pd.concat(variants, ignore_index=True))
    return np.split(scores, np.cumsum([len(v) for v in variants])[:-1])


def invariance(
    model: Any,
    X: pd.DataFrame,
    column: str,
    values: Sequence[object] | None = None,
    tolerance: float = INVARIANCE_TOLERANCE,
) -> Outcome:
    """Behavioural test: changing ``column`` (which must not matter) does not move predictions.

    Introduced in notebook 07. Every row of ``X`` is scored as it is, then again with
    ``column`` set to each of ``values`` in turn; the test passes when no probability moves by
    more than ``tolerance``.

    Args:
        model: a fitted binary classifier with ``predict_proba``.
        X: the rows to perturb (their features).
        column: the column that must not matter, e.g. ``"region"``.
        values: the values to try; default the categories of a categorical column, else the
            column's distinct values.
        tolerance: the largest allowed change of a probability (0 to 1).

    Raises:
        TypeError, ValueError: bad model or frame, missing column, no values, bad tolerance.
    """
    X = _frame(X, "X", [column])
    tolerance = _number(tolerance, "tolerance")
    values = _values_of(X[column]) if values is None else list(values)
    if not values:
        raise ValueError(f"Give at least one value of {column!r} to try.")
    base, *variants = _variant_probabilities(model, [X, *(_replace(X, column, v) for v in values)])
    worst, worst_value, moved = 0.0, values[0], np.zeros(len(X), dtype=bool)
    for value, scores in zip(values, variants, strict=True):
        change = np.abs(scores - base)
        moved |= change > tolerance
        if change.max() > worst:
            worst, worst_value = float(change.max()), value
    name = f"invariance: {column}"
    tried = f"{len(X):,} rows x {len(values)} values of {column}"
    if not moved.any():
        return Outcome(
            name,
            "model",
            True,
            f"the largest change of a churn probability is {worst:.3f} "
            f"(tolerance {tolerance:g}; {tried})",
        )
    return Outcome(
        name,
        "model",
        False,
        f"the churn probability of {int(moved.sum()):,} of {len(X):,} rows moves by more than "
        f"{tolerance:g}; up to {worst:.3f} when {column} is set to {worst_value!r} ({tried})",
    )


def directional(
    model: Any,
    X: pd.DataFrame,
    column: str,
    delta: float,
    direction: Literal["increase", "decrease"] = "increase",
    tolerance: float = 0.0,
) -> Outcome:
    """Behavioural test: adding ``delta`` to ``column`` moves the prediction the expected way.

    Introduced in notebook 07. With ``direction="increase"`` no churn probability may fall by
    more than ``tolerance`` when ``column`` grows by ``delta`` (e.g. higher monthly charges
    never make a customer less likely to cancel); with ``"decrease"`` none may rise.

    Raises:
        TypeError, ValueError: bad model or frame, a missing or non-numeric column, a bad
            ``delta``, ``direction`` or ``tolerance``.
    """
    X = _frame(X, "X", [column])
    if not pd.api.types.is_numeric_dtype(X[column]):
        raise TypeError(f"directional needs a numeric column; {column!r} is {X[column].dtype}.")
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not delta:
        raise ValueError(f"delta must be a non-zero number, got {delta!r}.")
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be 'increase' or 'decrease', got {direction!r}.")
    tolerance = _number(tolerance, "tolerance")
    base, shifted = _variant_probabilities(model, [X, X.assign(**{column: X[column] + delta})])
    change = shifted - base
    wrong = change < -tolerance if direction == "increase" else change > tolerance
    expectation = "never lowers" if direction == "increase" else "never raises"
    name = f"directional: {column}"
    if not wrong.any():
        return Outcome(
            name,
            "model",
            True,
            f"{delta:+g} on {column} {expectation} the churn probability of any of {len(X):,} "
            f"rows (changes from {change.min():+.3f} to {change.max():+.3f})",
        )
    worst = change.min() if direction == "increase" else change.max()
    return Outcome(
        name,
        "model",
        False,
        f"{delta:+g} on {column} moves the churn probability the wrong way for "
        f"{int(wrong.sum()):,} of {len(X):,} rows (by up to {abs(worst):.3f})",
    )


def model_tests(model: Any, X: pd.DataFrame) -> list[Outcome]:
    """The course's three behavioural tests of a churn model (notebook 07).

    * minimum functionality on :func:`churn_profiles`;
    * invariance: ``region`` (no effect by design in ``make_churn``) moves no churn
      probability by more than :data:`INVARIANCE_TOLERANCE`;
    * directional: monthly charges :data:`DIRECTIONAL_DELTA_EUR` higher never lower the churn
      probability.

    Args:
        model: a fitted churn classifier.
        X: the rows to perturb, e.g. the evaluation data's features.
    """
    profiles = churn_profiles()
    return [
        minimum_functionality(model, profiles[list(CHURN_FEATURES)], profiles["expected"]),
        invariance(model, X, "region"),
        directional(model, X, "monthly_charges", DIRECTIONAL_DELTA_EUR),
    ]


def largest_change(model: Any, X: pd.DataFrame, column: str) -> np.ndarray:
    """For each row, the largest move of its churn probability when ``column`` is set to each
    of its values in turn (what :func:`invariance` compares with its tolerance).

    Introduced in notebook 07.
    """
    X = _frame(X, "X", [column])
    base, *variants = _variant_probabilities(
        model, [X, *(_replace(X, column, v) for v in _values_of(X[column]))]
    )
    return np.max([np.abs(scores - base) for scores in variants], axis=0)


def behaviour_figure(
    models: Mapping[str, Any],
    X: pd.DataFrame,
    column: str = "monthly_charges",
    invariant: str = "region",
    tolerance: float = INVARIANCE_TOLERANCE,
) -> CourseFigure:
    """Two panels that show a directional and an invariance test for each model.

    Introduced in notebook 07 (and its slides). Left: the churn probability of one customer
    (the first month-to-month customer in ``X``) as ``column`` goes from 8 to 36 EUR. Right:
    a histogram over all rows of :func:`largest_change` for ``invariant``, with the tolerance.

    Raises:
        ValueError: no models, more than four, or no month-to-month customer in ``X``.
    """
    # deferred: utils.figures loads matplotlib: +504 ms to import ml_testing
    from utils.figures import CourseFigure

    if not isinstance(models, Mapping) or not 1 <= len(models) <= 4:
        raise ValueError("models must be a dict of one to four {name: fitted model}.")
    X = _frame(X, "X", [column, invariant, "contract"])
    candidates = X[X["contract"].astype(str) == "month-to-month"]
    if candidates.empty:
        raise ValueError("X holds no month-to-month customer to draw the directional panel.")
    customer = candidates.iloc[[0]]
    grid_values = np.arange(8.0, 36.0, 0.25)
    grid = customer.loc[customer.index.repeat(len(grid_values))].assign(**{column: grid_values})
    colours = ["#0072b2", "#d55e00", "#009e73", "#cc79a7"]
    fig = CourseFigure(figsize=(11.0, 3.9), facecolor="white")
    ax_dir, ax_inv = fig.subplots(1, 2)
    moves = {name: largest_change(model, X, invariant) for name, model in models.items()}
    upper = max(0.2, math.ceil(max(float(m.max()) for m in moves.values()) * 20) / 20)
    bins = np.linspace(0, upper, int(round(upper * 200)) + 1)
    for (name, model), colour in zip(models.items(), colours, strict=False):
        ax_dir.plot(grid_values, churn_probability(model, grid), color=colour, label=name)
        ax_inv.hist(moves[name], bins=bins, color=colour, alpha=0.6, label=name)
    ax_dir.set_title("Directional: one customer, only the monthly charges change", fontsize=10)
    ax_dir.set_xlabel("monthly charges (EUR per month)")
    ax_dir.set_ylabel("predicted churn probability (0 to 1)")
    ax_dir.legend(fontsize=9)
    ax_inv.axvline(tolerance, color="black", linestyle="--", label=f"tolerance {tolerance:g}")
    ax_inv.set_title(f"Invariance: {len(X):,} customers, only the {invariant} changes", fontsize=10)
    ax_inv.set_xlabel("largest change of the churn probability (0 to 1)")
    ax_inv.set_ylabel("number of customers")
    ax_inv.legend(fontsize=9)
    fig.suptitle("A directional and an invariance test, per model", fontsize=11, fontweight="bold")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- quality gate


@dataclass(frozen=True)
class GateDecision:
    """What :func:`quality_gate` decided, and why (notebook 07).

    Attributes:
        candidate: the candidate's name.
        passed: True if every check passed: the candidate may become champion.
        checks: every check, in order, each with its reason.
        metrics: one row per model (candidate, baseline, champion) with the metrics the gate
            compared, on the same evaluation data.
    """

    candidate: str
    passed: bool
    checks: tuple[Outcome, ...]
    metrics: pd.DataFrame = field(repr=False)

    @property
    def failed(self) -> list[Outcome]:
        """The checks that failed (empty when the candidate passed)."""
        return [c for c in self.checks if not c.passed]

    @property
    def reasons(self) -> list[str]:
        """Every check as one readable line, passed or failed."""
        return [str(c) for c in self.checks]

    def __str__(self) -> str:
        if self.passed:
            head = f"PASSED: {self.candidate} passes all {len(self.checks)} checks of the gate"
        else:
            head = (
                f"REJECTED: {self.candidate} fails {len(self.failed)} of {len(self.checks)} "
                "checks of the gate"
            )
        return "\n".join([head, *("  " + line for line in self.reasons)])


def quality_gate(
    candidate: Any,
    X: pd.DataFrame,
    y: pd.Series | np.ndarray | Sequence[int],
    *,
    baseline: Any,
    champion: Any = None,
    name: str = "candidate",
    tests: Sequence[Outcome] | None = None,
    costs: ChurnCosts | None = None,
    threshold: float = 0.5,
    min_gain_over_baseline: float = 0.05,
    max_auc_loss: float = 0.005,
    max_cost_increase_eur: float = 0.10,
) -> GateDecision:
    """Decide whether a candidate model may replace the champion, with reasons.

    Introduced in notebook 07; notebook 08's pipeline runs it before every promotion. All
    models are scored with :func:`utils.training.evaluate` on the same evaluation data
    ``X, y``. The candidate passes when all of these hold:

    1. it beats the baseline: ROC AUC at least ``min_gain_over_baseline`` above the
       baseline's;
    2. it is cheaper than the baseline: a lower business cost per customer (EUR);
    3. it is not worse than the champion: ROC AUC at most ``max_auc_loss`` below the
       champion's (skipped, and passed, when there is no champion yet);
    4. it is not costlier than the champion: cost per customer at most
       ``max_cost_increase_eur`` above the champion's (likewise);
    5. every test in ``tests`` passed (default: :func:`model_tests` of the candidate on ``X``).

    Args:
        candidate: the fitted candidate model.
        X, y: the evaluation data (features and labels), the same for every model.
        baseline: a fitted baseline, e.g. a ``DummyClassifier`` (``TrainConfig("dummy")``).
        champion: the model in use (e.g. loaded from ``models:/<name>@champion``), or None.
        name: the candidate's name in the decision.
        tests: outcomes of tests the candidate must pass; ``()`` for none.
        costs: business costs (default ``ChurnCosts()``).
        threshold: decision threshold for the business cost.
        min_gain_over_baseline, max_auc_loss, max_cost_increase_eur: the gate's margins.

    Returns:
        A :class:`GateDecision`; ``print`` it for the reasons.

    Raises:
        TypeError, ValueError: bad models or data (from :func:`utils.training.evaluate`), a
            negative margin, or ``tests`` that are not Outcomes.
    """
    from utils.training import evaluate  # deferred: scikit-learn, +933 ms to import ml_testing

    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}.")
    costs = ChurnCosts() if costs is None else costs
    min_gain = _number(min_gain_over_baseline, "min_gain_over_baseline")
    max_loss = _number(max_auc_loss, "max_auc_loss")
    max_extra = _number(max_cost_increase_eur, "max_cost_increase_eur")
    if tests is None:
        tests = model_tests(candidate, X)
    tests = list(tests)
    if not all(isinstance(t, Outcome) for t in tests):
        raise TypeError("tests must be a list of Outcome objects (from ml_testing's tests).")

    models = {"candidate": candidate, "baseline": baseline}
    if champion is not None:
        models["champion"] = champion
    scored = {key: evaluate(model, X, y, costs, threshold) for key, model in models.items()}
    auc = {key: m["roc_auc"] for key, m in scored.items()}
    cost = {key: m["cost_per_customer_eur"] for key, m in scored.items()}

    checks = [
        Outcome(
            "beats the baseline",
            "gate",
            auc["candidate"] >= auc["baseline"] + min_gain,
            f"ROC AUC {auc['candidate']:.3f} vs baseline {auc['baseline']:.3f} "
            f"(needs at least +{min_gain:g})",
        ),
        Outcome(
            "cheaper than the baseline",
            "gate",
            cost["candidate"] < cost["baseline"],
            f"{cost['candidate']:.2f} vs baseline {cost['baseline']:.2f} EUR per customer",
        ),
    ]
    if champion is None:
        checks.append(
            Outcome("not worse than the champion", "gate", True, "skipped: no champion yet")
        )
    else:
        checks += [
            Outcome(
                "not worse than the champion",
                "gate",
                auc["candidate"] >= auc["champion"] - max_loss,
                f"ROC AUC {auc['candidate']:.3f} vs champion {auc['champion']:.3f} "
                f"(may be at most {max_loss:g} lower)",
            ),
            Outcome(
                "not costlier than the champion",
                "gate",
                cost["candidate"] <= cost["champion"] + max_extra,
                f"{cost['candidate']:.2f} vs champion {cost['champion']:.2f} EUR per customer "
                f"(may be at most {max_extra:.2f} higher)",
            ),
        ]
    checks += tests
    metrics = pd.DataFrame(
        {
            key: {
                "roc_auc": m["roc_auc"],
                "cost_per_customer_eur": m["cost_per_customer_eur"],
                "recall": m["recall"],
                "precision": m["precision"],
            }
            for key, m in scored.items()
        }
    ).T
    metrics.index.name = "model"
    return GateDecision(name, all(c.passed for c in checks), tuple(checks), metrics)


# --------------------------------------------------------------------------- paired bootstrap


class PairedDifference(NamedTuple):
    """What :func:`paired_bootstrap_difference` measured: ``difference`` is
    ``metric(score_b) - metric(score_a)`` on all rows; ``low`` and ``high`` bound its
    bootstrap interval. Unpacks as ``difference, low, high = ...``."""

    difference: float
    low: float
    high: float


def _roc_auc_weighted(y_pos: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC of ``score`` for each row of ``weights`` (how often each sample is drawn).

    The Mann-Whitney form, with ties counted half, as ``sklearn.metrics.roc_auc_score``: one
    sort of the scores, then cumulative sums over the groups of equal scores, for all
    resamples at once."""
    order = np.argsort(score, kind="stable")
    sorted_score = score[order]
    starts = np.flatnonzero(np.r_[True, sorted_score[1:] != sorted_score[:-1]])
    w = weights[:, order]
    positive = y_pos[order]
    pos, neg = np.where(positive, w, 0.0), np.where(positive, 0.0, w)
    if len(starts) < len(score):  # ties: sum the weights of each group of equal scores
        pos, neg = np.add.reduceat(pos, starts, axis=1), np.add.reduceat(neg, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negatives with a strictly lower score
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    return (pos * (below + 0.5 * neg)).sum(axis=1) / pairs


def paired_bootstrap_difference(
    y_true: pd.Series | np.ndarray | Sequence[int],
    score_a: np.ndarray | Sequence[float],
    score_b: np.ndarray | Sequence[float],
    metric: Callable[[np.ndarray, np.ndarray], float] | None = None,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedDifference:
    """How much model B's metric differs from model A's on the same rows, with a paired
    bootstrap interval (notebook 06).

    Both models scored the same rows (customers), so the question is not how a score moves
    between different test sets but how the **difference** moves when the same kind of rows
    are drawn again. Each resample draws the rows with replacement, the positives and the
    negatives separately (a stratified bootstrap, so every resample holds both classes), and
    scores **both** models on the same drawn rows; the interval is the percentile interval of
    the resampled differences (B. Efron and R. J. Tibshirani, *An Introduction to the
    Bootstrap*, 1993). An interval that contains 0 means the data cannot tell the models apart.

    Args:
        y_true: the labels (two classes; the larger label is the positive one).
        score_a, score_b: each model's score per row, e.g. the churn probability; model A is
            the reference (the champion), model B the one compared with it (the challenger).
        metric: ``metric(y_positive, score) -> float``; the default, ROC AUC, is computed for
            all resamples at once (about 0.1 s for 1,000 resamples of 1,000 rows); any other
            callable is called once per resample and model.
        n_resamples: how many bootstrap resamples.
        confidence: the interval's coverage, e.g. 0.95.
        seed: the seed of the resampling (the same seed gives the same interval).

    Returns:
        A :class:`PairedDifference` ``(difference, low, high)``: ``metric(score_b) -
        metric(score_a)`` on all rows, and the interval's bounds.

    Raises:
        TypeError: a bad ``metric``, ``n_resamples``, ``confidence`` or ``seed``.
        ValueError: lengths differ, scores are not finite, or ``y_true`` does not hold
            exactly two classes.
    """
    y = np.asarray(y_true)
    a = np.asarray(score_a, dtype=float)
    b = np.asarray(score_b, dtype=float)
    if y.ndim != 1 or a.ndim != 1 or b.ndim != 1:
        raise ValueError("y_true, score_a and score_b must be one-dimensional.")
    if not len(y) == len(a) == len(b):
        raise ValueError(
            f"y_true, score_a and score_b differ in length: {len(y)}, {len(a)}, {len(b)}."
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("score_a and score_b must be finite numbers.")
    classes = np.unique(y)
    if len(classes) != 2:
        raise ValueError(f"y_true must hold exactly two classes, got {classes.tolist()}.")
    if metric is not None and not callable(metric):
        raise TypeError(f"metric must be a callable or None, got {metric!r}.")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, numbers.Integral):
        raise TypeError(f"n_resamples must be an integer, got {n_resamples!r}.")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}.")
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise TypeError(f"confidence must be a number in (0, 1), got {confidence!r}.")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}.")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {seed!r}.")

    positive = y == classes[1]
    rng = np.random.default_rng(seed)
    n = len(y)
    groups = [np.flatnonzero(positive), np.flatnonzero(~positive)]
    diffs = []
    batch = max(1, 2_000_000 // n)  # resamples per batch: bounds the memory to about 16 MB
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        offsets = n * np.arange(size)[:, None]  # row k of the weights starts at k * n
        drawn = [  # draw the positives and the negatives separately
            members[rng.integers(0, len(members), size=(size, len(members)))] + offsets
            for members in groups
        ]
        weights = np.bincount(np.hstack(drawn).ravel(), minlength=size * n).reshape(size, n)
        if metric is None:
            diffs.append(
                _roc_auc_weighted(positive, b, weights) - _roc_auc_weighted(positive, a, weights)
            )
        else:
            for w in weights:
                idx = np.repeat(np.arange(n), w.astype(int))
                diffs.append([float(metric(positive[idx], b[idx]) - metric(positive[idx], a[idx]))])
    everything = np.ones((1, n))
    if metric is None:
        difference = float(
            _roc_auc_weighted(positive, b, everything)[0]
            - _roc_auc_weighted(positive, a, everything)[0]
        )
    else:
        difference = float(metric(positive, b) - metric(positive, a))
    tail = (1.0 - float(confidence)) / 2
    low, high = np.quantile(np.concatenate(diffs), [tail, 1.0 - tail])
    return PairedDifference(difference, float(low), float(high))


# --------------------------------------------------------------------------- real pytest

#: The pytest module :func:`write_test_suite` writes: the data tests once, and the model tests
#: for every model in ``models.pkl`` (a parametrized fixture). Read it as an example of ML
#: tests written for pytest.
TEST_MODULE = '''\
"""Tests of the churn data and models (written by utils.ml_testing.write_test_suite)."""

import pickle
from pathlib import Path

import pytest

from utils import ml_testing, validation
from utils.datasets import CHURN_FEATURES

HERE = Path(__file__).parent
MODELS = pickle.loads((HERE / "models.pkl").read_bytes())  # {name: fitted model}
DATA = pickle.loads((HERE / "data.pkl").read_bytes())  # train, test, schema settings
TRAIN, TEST = DATA["train"], DATA["test"]
SCHEMA = validation.churn_schema(**DATA["schema"])


@pytest.fixture(params=sorted(MODELS))
def model(request):
    return MODELS[request.param]


# Data tests: the data the models learn from and are judged on.
def test_training_data_fits_the_schema():
    outcome = ml_testing.schema_test(TRAIN, SCHEMA, "training data")
    assert outcome.passed, outcome.detail


def test_test_data_fits_the_schema():
    outcome = ml_testing.schema_test(TEST, SCHEMA, "test data")
    assert outcome.passed, outcome.detail


def test_no_customer_in_both_splits():
    outcome = ml_testing.no_shared_ids(TRAIN, TEST, "customer_id")
    assert outcome.passed, outcome.detail


def test_training_data_is_older_than_test_data():
    outcome = ml_testing.no_future_rows(TRAIN, TEST, "timestamp")
    assert outcome.passed, outcome.detail


# Behavioural model tests: run once for every model.
def test_obvious_cases(model):
    profiles = ml_testing.churn_profiles()
    outcome = ml_testing.minimum_functionality(
        model, profiles[list(CHURN_FEATURES)], profiles["expected"]
    )
    assert outcome.passed, outcome.detail


def test_region_does_not_matter(model):
    outcome = ml_testing.invariance(model, TEST[list(CHURN_FEATURES)], "region", tolerance=0.05)
    assert outcome.passed, outcome.detail


def test_higher_charges_do_not_lower_churn(model):
    features = TEST[list(CHURN_FEATURES)]
    outcome = ml_testing.directional(model, features, "monthly_charges", delta=5.0)
    assert outcome.passed, outcome.detail
'''

_SUITE_FILE = "test_churn_model.py"


def write_test_suite(
    folder: str | os.PathLike[str],
    models: Mapping[str, Any],
    train: pd.DataFrame,
    test: pd.DataFrame,
    schema: Mapping[str, Any] | None = None,
) -> Path:
    """Write a pytest suite for ``models`` and the data into ``folder``; return the folder.

    Introduced in notebook 07. The folder gets :data:`TEST_MODULE` as
    ``test_churn_model.py``, the models (``models.pkl``) and data (``data.pkl``) it tests, and
    an empty ``pytest.ini``, which makes the folder pytest's root: no configuration or
    ``conftest.py`` of another project is picked up.

    Args:
        folder: where to write (created if missing), e.g. a temporary folder.
        models: ``{name: fitted model}``; each model test runs once per model, with the name
            as its parameter, e.g. ``test_region_does_not_matter[champion]``.
        train, test: the training and test (evaluation) data, churn columns included.
        schema: keyword arguments of :func:`utils.validation.churn_schema` that fit the data,
            e.g. ``{"periods": 14}`` (default: its defaults).

    Raises:
        TypeError, ValueError: no models, a model without ``predict_proba``, bad names or
            frames.
    """
    if not isinstance(models, Mapping) or not models:
        raise ValueError("models must be a non-empty dict of {name: fitted model}.")
    for key, model in models.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", key):
            raise ValueError(
                f"Model names become test ids: use letters, digits, '-', '_' and '.', got {key!r}."
            )
        if not hasattr(model, "predict_proba"):
            raise TypeError(f"Model {key!r} has no predict_proba: give fitted classifiers.")
    columns = [*CHURN_FEATURES, CHURN_TARGET, "customer_id", "timestamp"]
    train = _frame(train, "train", columns)
    test = _frame(test, "test", columns)
    settings = dict(schema or {})
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    (path / "pytest.ini").write_text("[pytest]\n")
    (path / _SUITE_FILE).write_text(TEST_MODULE)
    (path / "models.pkl").write_bytes(pickle.dumps(dict(models)))
    data = {"train": train, "test": test, "schema": settings}
    (path / "data.pkl").write_bytes(pickle.dumps(data))
    return path
