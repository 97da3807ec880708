"""The full cycle: monitor, trigger, retrain, validate, gate, promote, serve, and monitor again.

Introduced in notebook 10 (the full cycle). The pieces come from the earlier notebooks; this
module puts them in a loop that runs by itself over simulated months:

1. **serve**: the champion scores the month's customers (what it cost is measured once their
   labels are known);
2. **monitor**: at the end of the month a :class:`utils.monitoring.Monitor` (notebook 09)
   checks the month's inputs for drift, and the performance of last month's customers, whose
   labels have just arrived (a churn label needs 30 days: :data:`LABEL_DELAY_MONTHS`);
3. **trigger**: a :class:`Policy` decides whether to retrain: never (maturity level 0), on a
   schedule, or when the monitor raises an alert;
4. **retrain** on recent data: the last ``window`` labelled months before the newest one;
5. **validate** the data with the data tests of notebook 07 (:func:`utils.delivery.validate_data`);
6. **gate**: the quality gate of notebook 07 (:func:`utils.ml_testing.quality_gate`) judges the
   candidate against a baseline and the champion on the newest labelled month;
7. **promote**: only a candidate that passed is registered and becomes ``champion``
   (:func:`utils.registry.register` and :func:`utils.registry.promote`); it serves from the next
   month on, with a new monitor whose reference is the data it was built from.

:func:`run_cycle` runs one policy over a :class:`Scenario` and returns a :class:`CycleRun`, the
record of every month and every retraining. With a ``model_name`` it records everything in
MLflow as it goes: one parent run per policy (its monthly metrics with ``step=month``), one
nested run per retraining (the gate's numbers and decision), the model logged only when it is
promoted, and every promotion in the registry, where the ``champion`` alias moves. Each move's
reason ends with ``[execution <id>]``, so that :func:`registry_promotions` finds the moves of
one execution however often the notebook ran before.

What is simplified, and why: the champion serves *in this process* (a real model server takes
about 7 s to start, notebook 08 shows one); the gate uses the champion held in memory instead of
loading it from the registry (the same model: notebook 10 checks it); training is a logistic
regression on a few thousand rows. :func:`compare_policies` and :func:`policies_figure` compare
policies run on the same stream; :data:`MATURITY_LEVELS` maps them to Google Cloud's MLOps
maturity levels.

Importing this module has no side effects; MLflow is imported only when something is logged.
"""

from __future__ import annotations

import hashlib
import io
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from utils import registry, tracking
from utils.datasets import CHURN_FEATURES, CHURN_TARGET, ChurnCosts, make_churn
from utils.ml_testing import model_tests, quality_gate
from utils.monitoring import Monitor, MonitorReport, Thresholds
from utils.paths import state_dir
from utils.registry import code_version
from utils.validation import churn_schema

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    import pandera.pandas as pa

    from utils.figures import CourseFigure
    from utils.registry import AliasMove
    from utils.training import TrainConfig, TrainResult

__all__ = [
    "DEFAULT_OFFERS",
    "LABEL_DELAY_MONTHS",
    "LEVEL_2_ADDS",
    "MATURITY_LEVELS",
    "POLICY_KINDS",
    "RETRAIN_COST_EUR",
    "CycleRun",
    "ModelKey",
    "Offers",
    "Policy",
    "RetrainRecord",
    "Scenario",
    "break_even_threshold",
    "compare_policies",
    "cycle_config",
    "cycle_figure",
    "drift_triggered",
    "maturity_table",
    "never",
    "policies_figure",
    "registry_promotions",
    "run_cycle",
    "run_policies",
    "schedule_months",
    "scheduled",
    "seed_rows",
    "seed_table",
    "seeds_figure",
    "sweep_seeds",
    "wins",
]

#: Months between a customer's month and the arrival of their label (churn within 30 days).
LABEL_DELAY_MONTHS = 1
#: The kinds of :class:`Policy`: never retrain, retrain on a schedule, retrain on an alert.
POLICY_KINDS: tuple[str, ...] = ("never", "schedule", "trigger")
#: The tag that marks every run of one execution (as in notebook 05).
EXECUTION_TAG = "execution_id"

PolicyKind = Literal["never", "schedule", "trigger"]
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_FEATURES = list(CHURN_FEATURES)


# --------------------------------------------------------------------------- input checks


def _whole(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def _amount(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}.")
    return float(value)


# --------------------------------------------------------------------------- the scenario


@dataclass(frozen=True)
class Scenario:
    """The production stream of notebook 10: months of churn data with drift planted in them.

    Introduced in notebook 10. Month ``k`` holds ``n_per_month`` customers of the course
    scenario (:func:`utils.datasets.make_churn` with ``freq="MS"``). Months
    ``0 .. history_months - 1`` are the labelled **history** the first model is built from;
    months ``history_months .. months - 1`` are **production**. From month ``drift_start`` on,
    covariate and concept drift grow as ``make_churn`` describes (per month here).

    Attributes:
        n_per_month: customers per month.
        months: months in all (history and production).
        history_months: labelled months before production (at least 2: one to train on, one to
            judge the first model on).
        drift_start: the first month with drift (``months`` = never).
        covariate_drift, concept_drift, seasonality: as in ``make_churn``.
        seed: the seed of the data and of every model.
        start: the first day of month 0.

    Raises:
        TypeError, ValueError: a field of the wrong type or out of range.
    """

    n_per_month: int = 800
    months: int = 18
    history_months: int = 3
    drift_start: int = 8
    covariate_drift: float = 0.2
    concept_drift: float = 0.5
    seasonality: float = 0.0
    seed: int = 42
    start: str = "2025-01-01"

    def __post_init__(self) -> None:
        _whole(self.n_per_month, "n_per_month", 50)
        _whole(self.months, "months", 3)
        history = _whole(self.history_months, "history_months", 2)
        if history >= self.months:
            raise ValueError(
                f"history_months ({history}) must be below months ({self.months}): "
                "production needs at least one month."
            )
        drift = _whole(self.drift_start, "drift_start", 0)
        if drift > self.months:
            raise ValueError(
                f"drift_start must be between 0 and months={self.months} (months means "
                f"'never'), got {drift}."
            )
        for name in ("covariate_drift", "concept_drift", "seasonality"):
            _amount(getattr(self, name), name)
        _whole(self.seed, "seed", 0)
        if not isinstance(self.start, str):
            raise TypeError(
                f"start must be a date string such as '2025-01-01', got {self.start!r}."
            )

    @property
    def production(self) -> range:
        """The production months, in order."""
        return range(self.history_months, self.months)

    def data(self) -> pd.DataFrame:
        """All months of the stream (a deterministic function of the fields)."""
        return make_churn(
            n_per_period=self.n_per_month,
            periods=self.months,
            freq="MS",
            start=self.start,
            seed=self.seed,
            covariate_drift=self.covariate_drift,
            concept_drift=self.concept_drift,
            seasonality=self.seasonality,
            drift_start=self.drift_start,
        )

    def schema(self) -> pa.DataFrameSchema:
        """The data schema of notebook 04 for these months (``validation.churn_schema``)."""
        return churn_schema(start=self.start, periods=self.months, freq="MS")

    def month_label(self, month: int) -> str:
        """The calendar month of ``month`` as ``YYYY-MM``, e.g. ``"2025-09"`` for month 8."""
        month = _whole(month, "month", 0)
        return (pd.Timestamp(self.start) + pd.DateOffset(months=month)).strftime("%Y-%m")

    def as_params(self) -> dict[str, Any]:
        """The fields as MLflow parameters (``scenario.<field>``)."""
        return {f"scenario.{k}": v for k, v in vars(self).items()}


def cycle_config(seed: int = 42) -> TrainConfig:
    """The model the cycle retrains: a logistic regression without ``region``.

    Introduced in notebook 10. Region has no effect on churn (notebook 04); a model fitted on
    a few thousand customers still picks up noise from it, which the invariance test of the
    gate (notebook 07) rejects. Leaving a useless input out is the cure (Sculley et al. call
    such inputs underutilized data dependencies).
    """
    # deferred: utils.training loads scikit-learn: +187 ms to import cycle
    from utils.training import TrainConfig

    return TrainConfig(
        "logistic_regression",
        seed=_whole(seed, "seed", 0),
        categorical=("contract", "plan", "payment_method"),
    )


# --------------------------------------------------------------------------- policies


TriggerRule = Callable[[MonitorReport], bool]


@dataclass(frozen=True)
class Policy:
    """When to retrain: never, every ``every`` months, or when the monitor asks (notebook 10).

    Build one with :func:`never`, :func:`scheduled` or :func:`drift_triggered`.

    Attributes:
        name: a short name, used in run and model names (lowercase letters, digits, ``-``).
        kind: ``"never"``, ``"schedule"`` or ``"trigger"``.
        every: months between retrainings (``"schedule"`` only).
        thresholds: the monitor's alert rules (default :class:`utils.monitoring.Thresholds`).
        rule: for ``"trigger"``: a function of the month's
            :class:`utils.monitoring.MonitorReport` that returns True to retrain (default: the
            report's own ``retrain``, i.e. any alert in ``thresholds.retrain_on``).
    """

    name: str
    kind: PolicyKind
    every: int | None = None
    thresholds: Thresholds | None = None
    rule: TriggerRule | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise ValueError(
                f"A policy's name must use lowercase letters, digits and '-', e.g. "
                f"'drift-triggered', got {self.name!r}."
            )
        if self.kind not in POLICY_KINDS:
            raise ValueError(f"kind must be one of {POLICY_KINDS}, got {self.kind!r}.")
        if self.kind == "schedule":
            _whole(self.every, "every", 1)
        elif self.every is not None:
            raise ValueError(f"every is for schedules only, not for a {self.kind!r} policy.")
        if self.thresholds is not None and not isinstance(self.thresholds, Thresholds):
            raise TypeError(
                f"thresholds must be a monitoring.Thresholds, got {type(self.thresholds).__name__}."
            )
        if self.rule is not None:
            if self.kind != "trigger":
                raise ValueError("rule is for a 'trigger' policy only.")
            if not callable(self.rule):
                raise TypeError("rule must be a function that takes a MonitorReport.")

    @property
    def label(self) -> str:
        """A description for tables and legends, e.g. ``"every 3 months"``."""
        if self.kind == "never":
            return "never retrain"
        if self.kind == "schedule":
            return "every month" if self.every == 1 else f"every {self.every} months"
        return "on a monitoring alert" if self.rule is None else "on a custom trigger rule"

    def decide(self, month: int, report: MonitorReport, first_model_month: int) -> str | None:
        """Why to retrain at the end of ``month``, or None to keep the champion.

        ``first_model_month`` is the month the first model was built (schedules count from it).

        Raises:
            TypeError: the rule returned something other than True or False.
        """
        if self.kind == "never":
            return None
        if self.kind == "schedule":
            assert self.every is not None
            due = (month - first_model_month) % self.every == 0
            return f"schedule: every {self.every} months" if due else None
        if self.rule is None:
            return _reasons(report) if report.retrain else None
        decision = self.rule(report)
        if not isinstance(decision, bool | np.bool_):
            raise TypeError(
                f"The trigger rule returned {decision!r}; it must return True (retrain) or False."
            )
        if not decision:
            return None
        return "custom rule: " + (_reasons(report) or "no alert")


def _reasons(report: MonitorReport) -> str:
    """The report's alerts as one line; the monitor's periods are months here."""
    return "; ".join(r.replace(" in week ", " in month ") for r in report.reasons)


def never() -> Policy:
    """Never retrain: the model of month 0 serves forever (maturity level 0; notebook 10)."""
    return Policy("never", "never")


def scheduled(every: int = 3, name: str | None = None) -> Policy:
    """Retrain every ``every`` months, whatever the monitor says (notebook 10).

    The default name is ``"monthly"`` for ``every=1`` and ``"every-<n>-months"`` otherwise.
    """
    every = _whole(every, "every", 1)
    default = "monthly" if every == 1 else f"every-{every}-months"
    return Policy(name or default, "schedule", every=every)


def drift_triggered(
    thresholds: Thresholds | None = None, rule: TriggerRule | None = None, name: str | None = None
) -> Policy:
    """Retrain when the monitor raises an alert (drift or performance; notebook 10).

    ``thresholds`` sets the alerts (notebook 09); ``rule`` replaces the default decision (any
    alert named in ``thresholds.retrain_on``) by a function of the month's report.
    """
    default = "drift-triggered" if rule is None else "custom-trigger"
    return Policy(name or default, "trigger", thresholds=thresholds, rule=rule)


def schedule_months(scenario: Scenario, every: int) -> list[int]:
    """The months at whose end :func:`scheduled` retrains in ``scenario`` (notebook 10).

    The first model is built at the end of the last history month; the schedule counts from
    there: ``history_months - 1 + every``, ``+ 2 * every``, ... up to the last month.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}.")
    every = _whole(every, "every", 1)
    first = scenario.history_months - 1
    return [m for m in scenario.production if (m - first) % every == 0]


# --------------------------------------------------------------------------- offers and labels


@dataclass(frozen=True)
class Offers:
    """Who gets the retention offer, and what the offer does to the labels (notebook 10).

    The served model flags every customer whose churn probability reaches the decision
    threshold; a flagged customer gets the offer unless they are in the **control group**, a
    random ``control_share`` of the customers kept out of offers whatever their score. A churner
    who gets the offer stays with probability ``ChurnCosts().offer_success_rate`` (notebook 04),
    so their label says "stayed": the model's own offers change the labels it learns from next,
    the *direct feedback loop* of Sculley et al. (2015). The customers who got no offer (the
    control group and those not flagged) keep the label they would have had anyway.

    Attributes:
        control_share: the share of customers kept out of offers at random, in [0, 1).
        learn_from: which labels the loop trains, gates and monitors on: ``"untreated"`` (the
            customers who got no offer: their labels are what happens without one) or ``"all"``
            (every label as observed, the offers' effect included).
    """

    control_share: float = 0.05
    learn_from: Literal["untreated", "all"] = "untreated"

    def __post_init__(self) -> None:
        share = _amount(self.control_share, "control_share")
        if share >= 1:
            raise ValueError(f"control_share must be below 1, got {share}.")
        if self.learn_from not in ("untreated", "all"):
            raise ValueError(f"learn_from must be 'untreated' or 'all', got {self.learn_from!r}.")

    @property
    def label(self) -> str:
        """A description for tables, e.g. ``"control group 5 %, learns from untreated labels"``."""
        return f"control group {self.control_share:.0%}, learns from {self.learn_from} labels"


#: What one retraining costs, EUR: an assumption of this course, like the amounts of
#: ChurnCosts (notebook 04). About half a day of a data scientist's time to read the gate's
#: report and sign the promotion off, plus compute; change it to your own figure. It does not
#: change what the loop does, only what a policy costs in all.
RETRAIN_COST_EUR = 500.0

#: The offers of notebook 10: a control group of 5 % and the loop learns from the customers
#: who got no offer (change it with :class:`Offers`).
DEFAULT_OFFERS = Offers()


def break_even_threshold(costs: ChurnCosts | None = None) -> float:
    """The decision threshold of the cycle: ``ChurnCosts().break_even_probability()``.

    Notebook 04 derives it: an offer pays off on average for a customer whose churn probability
    is above it. Every policy of notebook 10 serves with it unless told otherwise.
    """
    return (costs or ChurnCosts()).break_even_probability()


def _draws(seed: int, month: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two uniform numbers per customer of ``month``: control group, and offer accepted.

    They depend on the seed and the month only, so every policy meets the same customers with
    the same luck (common random numbers: a difference between policies is the policies')."""
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(month, 10)))
    return rng.random(n), rng.random(n)


def _digest(*arrays: np.ndarray) -> str:
    """A short content hash of arrays (which rows the loop learns from and their labels)."""
    h = hashlib.sha1(usedforsecurity=False)
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- records


#: A model of the loop: first and last training month, and a hash of the labels it learned from
#: (with offers, two policies train on the same months with different labels).
ModelKey = tuple[int, int, str]


@dataclass(frozen=True)
class RetrainRecord:
    """One retraining of the cycle and what became of it (notebook 10).

    Attributes:
        policy: the policy's name.
        month: the month at whose end it ran (the candidate serves from ``month + 1``).
        reason: why it ran (the trigger's reason).
        train_months: first and last month of the training data.
        eval_month: the month the gate judged it on (the newest labelled month).
        validated: whether the data tests passed.
        gate_passed: whether the quality gate passed (False when validation failed).
        failed_checks: the names of the gate's checks that failed.
        candidate_roc_auc, candidate_cost_eur: the candidate on the evaluation month (cost
            per customer, EUR).
        champion_roc_auc, champion_cost_eur: the champion on the same month (NaN for the
            first model).
        version: the registered version, when it was promoted and recorded.
        run_id: its MLflow run, when recorded.
    """

    policy: str
    month: int
    reason: str
    train_months: tuple[int, int]
    eval_month: int
    validated: bool
    gate_passed: bool
    failed_checks: tuple[str, ...]
    candidate_roc_auc: float
    candidate_cost_eur: float
    champion_roc_auc: float
    champion_cost_eur: float
    version: str | None = None
    run_id: str | None = None

    @property
    def promoted(self) -> bool:
        """True when the candidate passed and became champion."""
        return self.gate_passed

    def __str__(self) -> str:
        verdict = "PROMOTED" if self.gate_passed else "rejected"
        if not self.validated:
            verdict = "stopped: data tests failed"
        version = f" as version {self.version}" if self.version else ""
        failed = f" (fails: {', '.join(self.failed_checks)})" if self.failed_checks else ""
        against = (
            "no champion yet"
            if math.isnan(self.champion_roc_auc)
            else f"champion {self.champion_roc_auc:.3f}"
        )
        return (
            f"month {self.month}: {self.policy} retrains on months {self.train_months[0]}-"
            f"{self.train_months[1]}; gate on month {self.eval_month}: ROC AUC "
            f"{self.candidate_roc_auc:.3f} vs {against} -> {verdict}{version}{failed}"
        )


@dataclass
class CycleRun:
    """The record of one policy's cycle over a stream: what :func:`run_cycle` returns.

    Introduced in notebook 10.

    Attributes:
        policy: the policy.
        scenario: the stream's scenario.
        months: one row per production month: ``month``, ``calendar`` (YYYY-MM), ``model``
            (the months the serving model was trained on), ``version`` (its registered version,
            if recorded), ``n``, ``accuracy`` and ``roc_auc`` (of the model's flags against
            whether each customer would churn without an offer), ``offers`` (customers who got
            one), ``control_flagged`` (flagged customers of the control group, who did not),
            ``cost_eur`` (the month's business cost of the decisions, ChurnCosts),
            ``cost_per_customer_eur``, ``control_cost_eur`` (what keeping the control group
            out of offers cost this month), ``churn_rate`` and ``observed_churn_rate`` (before
            and after the offers' effect), ``alert``, ``reasons``, ``retrain``, ``promoted``.
        retrains: every retraining, in order (the first model is :attr:`initial`).
        initial: the building of the first model, at the end of the last history month.
        model: the model that serves at the end.
        model_name: the registered model (None when nothing was recorded).
        execution_id: the execution's ID (in run tags and alias-move reasons).
        run_id: the policy's parent MLflow run (None when nothing was recorded).
        window: labelled months each model was trained on.
        config: the training config of every model.
        threshold: the decision threshold the models served with.
        offers: the offers' settings (None: labels as if no offer was ever made).
        retrain_cost_eur: what one retraining costs, EUR (see :data:`RETRAIN_COST_EUR`).
    """

    policy: Policy
    scenario: Scenario
    months: pd.DataFrame
    retrains: list[RetrainRecord]
    initial: RetrainRecord
    model: Any = field(repr=False)
    model_name: str | None = None
    execution_id: str | None = None
    run_id: str | None = None
    window: int = 2
    config: Any = field(default=None, repr=False)
    threshold: float = 1 / 3
    offers: Offers | None = None
    retrain_cost_eur: float = 0.0
    _cache: Any = field(default=None, repr=False, compare=False)

    @property
    def n_retrains(self) -> int:
        """Retrainings after the first model (each ran the gate)."""
        return len(self.retrains)

    @property
    def n_promotions(self) -> int:
        """Retrainings whose candidate passed the gate and became champion."""
        return sum(r.gate_passed for r in self.retrains)

    @property
    def promoted_versions(self) -> list[str]:
        """Registered versions that became champion, the first model's included, in order."""
        records = [self.initial, *self.retrains]
        return [r.version for r in records if r.gate_passed and r.version is not None]

    @property
    def business_cost_eur(self) -> float:
        """The business cost of the decisions of all production months, EUR."""
        return float(self.months["cost_eur"].sum())

    @property
    def retraining_cost_eur(self) -> float:
        """What the retrainings cost: their number times :attr:`retrain_cost_eur`."""
        return self.n_retrains * self.retrain_cost_eur

    @property
    def total_cost_eur(self) -> float:
        """Business cost plus retraining cost, EUR."""
        return self.business_cost_eur + self.retraining_cost_eur

    @property
    def alert_months(self) -> list[int]:
        """Months whose monitoring raised an alert."""
        return [int(m) for m in self.months.loc[self.months["alert"], "month"]]

    def after(self, month: int) -> pd.DataFrame:
        """The rows of :attr:`months` from ``month`` on."""
        return self.months[self.months["month"] >= month]

    def __str__(self) -> str:
        return (
            f"{self.policy.name} ({self.policy.label}): {self.n_retrains} retrainings, "
            f"{self.n_promotions} promoted; cost {self.total_cost_eur:,.0f} EUR over "
            f"{len(self.months)} months ({self.retraining_cost_eur:,.0f} of it retraining); "
            f"mean accuracy {self.months['accuracy'].mean():.3f}"
        )


# --------------------------------------------------------------------------- shared work


class _Cache:
    """Work that does not depend on the policy, done once for all policies of a stream: a model
    trained on the same rows and labels, a model's scores on a month, a month's serving, a
    month's rows of the stream, a candidate's model tests on the same evaluation rows."""

    def __init__(self) -> None:
        self.data: pd.DataFrame | None = None  # the stream whose rows ``months`` holds
        self.months: dict[int, pd.DataFrame] = {}
        self.tests: dict[tuple[Any, ...], list[Any]] = {}
        self.schemas: dict[Scenario, pa.DataFrameSchema] = {}
        self.models: dict[ModelKey, TrainResult] = {}
        self.baselines: dict[ModelKey, Any] = {}
        self.scores: dict[tuple[ModelKey, int], np.ndarray] = {}
        self.serving: dict[tuple[Any, ...], _Served] = {}
        self.monitors: dict[tuple[Any, ...], Monitor] = {}
        self.checks: dict[tuple[Any, ...], MonitorReport] = {}
        self.gates: dict[tuple[Any, ...], Any] = {}
        self.validations: dict[tuple[Any, ...], Any] = {}
        self.logged: dict[ModelKey, Any] = {}  # ModelInfo of logged models


@dataclass(frozen=True)
class _Served:
    """One month served: the metrics, and the labels the loop may learn from later."""

    metrics: dict[str, float]
    learn: np.ndarray  # which customers' labels the loop uses
    observed: np.ndarray  # their labels as observed, the offers' effect included


@dataclass(frozen=True)
class _Fitted:
    """A model fitted as :func:`utils.training.train` fits it, without its metrics."""

    model: Any


def _training_result() -> type:
    # deferred: utils.training loads scikit-learn: +187 ms to import cycle
    from utils.training import TrainResult

    return TrainResult


def _months(data: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    period = data["period"]
    return data[(period >= first) & (period <= last)]


def _check_data(data: object, scenario: Scenario) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    missing = [c for c in [*_FEATURES, CHURN_TARGET, "period"] if c not in data.columns]
    if missing:
        raise ValueError(f"data lacks the column(s) {missing}; use scenario.data().")
    present = set(int(p) for p in data["period"].unique())
    needed = set(range(scenario.months))
    if not needed <= present:
        raise ValueError(
            f"data lacks the month(s) {sorted(needed - present)} of the scenario; use "
            "scenario.data()."
        )
    return data


# --------------------------------------------------------------------------- the loop's stages


class _Loop:
    """One policy's loop over a stream; each method is one stage of the cycle (notebook 10).

    ``labels[m]`` holds, for every month served so far, which customers' labels the loop may
    learn from and what those labels say (the offers changed some of them)."""

    def __init__(
        self, policy: Policy, scenario: Scenario, cache: _Cache, settings: _Settings
    ) -> None:
        self.policy, self.scenario, self.cache = policy, scenario, cache
        self.data, self.config, self.window = settings.data, settings.config, settings.window
        self.threshold, self.offers = settings.threshold, settings.offers
        self.settings = settings
        self.recording = False  # set by the recorder: keep training's whole result
        if scenario not in cache.schemas:  # built once per stream (it takes about 30 ms)
            cache.schemas[scenario] = scenario.schema()
        self.schema = cache.schemas[scenario]
        self.costs = ChurnCosts()
        if cache.data is not self.data:  # the rows of each month, selected once per stream
            cache.data, cache.months = self.data, {}
        self.labels: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for month in range(scenario.history_months):  # history: no model, so no offers
            y = self.month(month)[CHURN_TARGET].to_numpy()
            self.labels[month] = (np.ones(len(y), dtype=bool), y)

    # -- the labelled rows the loop sees

    def month(self, month: int) -> pd.DataFrame:
        """The rows of ``month`` in the stream (selected once per stream, for every policy)."""
        if month not in self.cache.months:
            self.cache.months[month] = _months(self.data, month, month)
        return self.cache.months[month]

    def _learned(self, month: int, served_by: ModelKey | None) -> tuple[np.ndarray, np.ndarray]:
        """Which customers of ``month`` the loop learns from, and their observed labels."""
        learn, observed = self.labels[month]
        if served_by is not None and self.offers and self.offers.learn_from == "untreated":
            flagged = self.scores(served_by, month) >= self.threshold
            control = _draws(self.scenario.seed, month, len(flagged))[0]
            learn = learn & ~(flagged & (control >= self.offers.control_share))
        return learn, observed

    def digest(self, first: int, last: int, served_by: ModelKey | None = None) -> str:
        """The hash of :meth:`labelled`, without building its rows (to look shared work up)."""
        return _digest(*(a for m in range(first, last + 1) for a in self._learned(m, served_by)))

    def labelled(
        self, first: int, last: int, served_by: ModelKey | None = None
    ) -> tuple[pd.DataFrame, str]:
        """Months ``first..last`` as the loop sees them: the rows it may learn from, with their
        observed labels; and a hash of those rows and labels (to share work between policies).

        ``served_by``: keep only the customers that this model would not have made an offer
        either (a monitor's reference must leave out the customers its checks will miss)."""
        frames, parts = [], []
        for month in range(first, last + 1):
            learn, observed = self._learned(month, served_by)
            rows = self.month(month)
            frames.append(rows[learn].assign(**{CHURN_TARGET: observed[learn]}))
            parts += [learn, observed]
        return pd.concat(frames), _digest(*parts)

    def scores(self, key: ModelKey, month: int) -> np.ndarray:
        """The churn probabilities of model ``key`` for the customers of ``month``."""
        if (key, month) not in self.cache.scores:
            rows = self.month(month)
            probabilities = self.cache.models[key].model.predict_proba(rows[_FEATURES])
            self.cache.scores[(key, month)] = np.asarray(probabilities)[:, 1]
        return self.cache.scores[(key, month)]

    # -- 1. serve

    def serve(self, key: ModelKey, month: int) -> dict[str, float]:
        """The champion flags customers; flagged ones outside the control group get the offer;
        a churner who got it stays with the offer's success rate. Returns the month's metrics
        and records the labels the loop will learn from."""
        cache_key = (key, month, self.threshold, self.offers)
        if cache_key not in self.cache.serving:
            y = self.month(month)[CHURN_TARGET].to_numpy() == 1
            self.cache.serving[cache_key] = self._offers(y, self.scores(key, month), month)
        served = self.cache.serving[cache_key]
        self.labels[month] = (served.learn, served.observed)
        return served.metrics

    def _offers(self, churns: np.ndarray, scores: np.ndarray, month: int) -> _Served:
        from sklearn.metrics import roc_auc_score

        flagged = scores >= self.threshold
        in_control, accepts = _draws(self.scenario.seed, month, len(churns))
        offers = self.offers
        control = in_control < offers.control_share if offers else np.zeros(len(churns), bool)
        treated = flagged & ~control
        stays = treated & churns & (accepts < self.costs.offer_success_rate)
        observed = (churns & ~stays) if offers else churns
        learn = ~treated if offers and offers.learn_from == "untreated" else np.ones_like(churns)

        def cost(offered: np.ndarray) -> float:
            tp, fp = int(np.sum(offered & churns)), int(np.sum(offered & ~churns))
            fn, tn = int(np.sum(~offered & churns)), int(np.sum(~offered & ~churns))
            return self.costs.cost(tp, fp, fn, tn)

        n = len(churns)
        metrics = {
            "n": float(n),
            "accuracy": float(np.mean(flagged == churns)),
            "roc_auc": float(roc_auc_score(churns, scores)) if 0 < churns.sum() < n else math.nan,
            "offers": float(treated.sum()),
            "control_flagged": float((flagged & control).sum()),
            "business_cost_eur": cost(treated),
            "cost_per_customer_eur": cost(treated) / n,
            "control_cost_eur": cost(treated) - cost(flagged),
            "churn_rate": float(churns.mean()),
            "observed_churn_rate": float(observed.mean()),
        }
        return _Served(metrics, learn.astype(bool), observed.astype(int))

    # -- 2. monitor

    def monitor(self, key: ModelKey, month: int) -> MonitorReport:
        """The month's inputs and predictions against the champion's reference, and the
        performance on last month's labelled customers (notebook 09's Monitor)."""
        baseline_hash = self.digest(key[1] + 1, key[1] + 1, served_by=key)
        monitor_key = (key, baseline_hash, self.policy.thresholds, self.threshold)
        if monitor_key not in self.cache.monitors:
            baseline, _ = self.labelled(key[1] + 1, key[1] + 1, served_by=key)
            # Reference: the months the model was built from; its reference performance is
            # measured on its evaluation month, which it never saw.
            self.cache.monitors[monitor_key] = Monitor(
                _months(self.data, key[0], key[1] + 1),
                self.cache.models[key].model,
                thresholds=self.policy.thresholds,
                decision_threshold=self.threshold,
                baseline=baseline,
            )
        previous = month - LABEL_DELAY_MONTHS
        check_key = (monitor_key, month, self.digest(previous, previous))
        if check_key not in self.cache.checks:
            learn = self.labels[previous][0]
            self.cache.checks[check_key] = self.cache.monitors[monitor_key].check(
                self.month(month),
                week=month,
                labelled=self.labelled(previous, previous)[0],
                labelled_week=previous,
                scores=self.scores(key, month),
                labelled_scores=self.scores(key, previous)[learn],
            )
        return self.cache.checks[check_key]

    # -- 4. retrain, 5. validate, 6. gate

    def retrain(
        self, month: int, reason: str, champion: ModelKey | None
    ) -> tuple[RetrainRecord, ModelKey]:
        """Train on the ``window`` months before the newest labelled one; validate; gate."""
        eval_month = month - LABEL_DELAY_MONTHS  # the newest month whose labels are known
        months = (max(0, eval_month - self.window), eval_month - 1)
        eval_hash = self.digest(eval_month, eval_month)
        key: ModelKey = (*months, self.digest(*months))
        rows = _Rows(self, months, eval_month)  # built only if some work is not shared yet
        if not self.validate(key, rows, eval_hash):
            nan = math.nan
            record = RetrainRecord(
                self.policy.name,
                month,
                reason,
                months,
                eval_month,
                False,
                False,
                ("data tests",),
                nan,
                nan,
                nan,
                nan,
            )
            return record, key
        if self.untrained(key):
            self.train(key, rows.train)
        decision = self.gate(key, champion, rows, (eval_month, eval_hash))
        metrics, nan = decision.metrics, math.nan
        champ = "champion" in metrics.index
        record = RetrainRecord(
            policy=self.policy.name,
            month=month,
            reason=reason,
            train_months=months,
            eval_month=eval_month,
            validated=True,
            gate_passed=bool(decision.passed),
            failed_checks=tuple(c.name for c in decision.failed),
            candidate_roc_auc=float(metrics.loc["candidate", "roc_auc"]),
            candidate_cost_eur=float(metrics.loc["candidate", "cost_per_customer_eur"]),
            champion_roc_auc=float(metrics.loc["champion", "roc_auc"]) if champ else nan,
            champion_cost_eur=(
                float(metrics.loc["champion", "cost_per_customer_eur"]) if champ else nan
            ),
        )
        return record, key

    def validate(self, key: ModelKey, rows: _Rows, eval_hash: str) -> bool:
        """The data tests of notebooks 04 and 07 (schema, leakage, time order)."""
        # deferred: utils.delivery and what it imports: +80 ms to import cycle
        from utils.delivery import validate_data

        if (key, eval_hash) not in self.cache.validations:
            result = validate_data(rows.train, rows.eval, self.schema)
            self.cache.validations[(key, eval_hash)] = result
        return bool(self.cache.validations[(key, eval_hash)].passed)

    def untrained(self, key: ModelKey) -> bool:
        """Whether :meth:`train` has work left for ``key`` (in this run's mode of recording)."""
        return self._model_missing(key) or key not in self.cache.baselines

    def _model_missing(self, key: ModelKey) -> bool:
        """No model for ``key`` yet, or a recorded run needs training's whole result where
        only the fitted model was kept."""
        known = self.cache.models.get(key)
        return known is None or (self.recording and not isinstance(known, _training_result()))

    def train(self, key: ModelKey, rows: pd.DataFrame) -> Any:
        """The candidate (and a baseline that predicts the base rate), once per rows and labels.

        A recorded run keeps :func:`utils.training.train`'s whole result (metrics, fingerprints
        for the lineage tags); otherwise only the fitted model, the same one, is kept."""
        from threadpoolctl import threadpool_limits

        # deferred: utils.training loads scikit-learn: +187 ms to import cycle
        from utils.training import TrainConfig, build_pipeline, split, train

        fitted = None
        if self._model_missing(key):
            if self.recording:
                self.cache.models[key] = train(self.config, rows, threshold=self.threshold)
            else:  # what train() does, without scoring the model twice
                fitted, _ = split(rows, self.config)
                with threadpool_limits(limits=1):
                    model = build_pipeline(self.config).fit(
                        fitted[list(self.config.features)], fitted[CHURN_TARGET]
                    )
                self.cache.models[key] = _Fitted(model)
        if key not in self.cache.baselines:
            # The baseline that predicts the base rate of the same training split (the gate
            # scores it); the split depends on the rows, the seed and the test share only.
            dummy = TrainConfig("dummy", seed=self.config.seed)
            if fitted is None or dummy.test_size != self.config.test_size:
                fitted, _ = split(rows, dummy)
            self.cache.baselines[key] = build_pipeline(dummy).fit(
                fitted[list(dummy.features)], fitted[CHURN_TARGET]
            )
        return self.cache.models[key]

    def gate(
        self, key: ModelKey, champion: ModelKey | None, rows: _Rows, evaluation: tuple[int, str]
    ) -> Any:
        """Notebook 07's quality gate: the candidate against the baseline and the champion.

        The candidate's model tests (notebook 07's default ``tests``) depend on the candidate
        and the evaluation rows only: run once, they serve every champion it is judged against."""
        gate_key = (key, champion, evaluation, self.threshold)
        if gate_key not in self.cache.gates:
            candidate, X = self.cache.models[key].model, rows.eval[_FEATURES]
            if (key, evaluation) not in self.cache.tests:
                self.cache.tests[(key, evaluation)] = model_tests(candidate, X)
            self.cache.gates[gate_key] = quality_gate(
                candidate,
                X,
                rows.eval[CHURN_TARGET],
                baseline=self.cache.baselines[key],
                threshold=self.threshold,
                champion=None if champion is None else self.cache.models[champion].model,
                name=f"model of months {key[0]}-{key[1]}",
                tests=self.cache.tests[(key, evaluation)],
            )
        return self.cache.gates[gate_key]

    # -- the record of one month

    def row(
        self,
        month: int,
        key: ModelKey,
        version: str | None,
        served: dict[str, float],
        report: MonitorReport,
        reason: str | None,
    ) -> dict[str, Any]:
        """One row of :attr:`CycleRun.months`."""
        columns = (
            "n",
            "accuracy",
            "roc_auc",
            "offers",
            "control_flagged",
            "cost_per_customer_eur",
            "control_cost_eur",
            "churn_rate",
            "observed_churn_rate",
        )
        return {
            "month": month,
            "calendar": self.scenario.month_label(month),
            "model": f"{key[0]}-{key[1]}",
            "version": version,
            **{c: served[c] for c in columns},
            "cost_eur": served["business_cost_eur"],
            "alert": bool(report.reasons),
            "reasons": _reasons(report),
            "retrain": reason is not None,
            "promoted": False,
        }


class _Rows:
    """The training and evaluation rows of one retraining, built on first use: a retraining
    whose validation, model and gate were already done for another policy needs neither."""

    def __init__(self, loop: _Loop, months: tuple[int, int], eval_month: int) -> None:
        self.loop, self.months, self.eval_month = loop, months, eval_month

    @cached_property
    def train(self) -> pd.DataFrame:
        return self.loop.labelled(*self.months)[0]

    @cached_property
    def eval(self) -> pd.DataFrame:
        return self.loop.labelled(self.eval_month, self.eval_month)[0]


class _Recorder:
    """Records a cycle in MLflow and the registry as it runs (only with a model name)."""

    def __init__(
        self, model_name: str, execution_id: str, loop: _Loop, initial_model_uri: str | None
    ) -> None:
        import mlflow

        self.mlflow, self.registry = mlflow, registry
        self.model_name, self.execution_id = model_name, execution_id
        self.policy, self.scenario = loop.policy, loop.scenario
        self.cache, self.data = loop.cache, loop.data
        self.initial_model_uri = initial_model_uri
        loop.recording = True
        policy, scenario = loop.policy, loop.scenario
        self.code = registry.code_version()
        self.parent = mlflow.start_run(
            run_name=f"policy-{policy.name}",
            tags={EXECUTION_TAG: execution_id, "policy": policy.name},
        )
        params: dict[str, Any] = {"policy": policy.name, "policy.kind": policy.kind}
        if policy.every is not None:
            params["policy.every_months"] = policy.every
        params.update(scenario.as_params())
        params.update(_run_params(loop.settings))
        mlflow.log_params(params)

    def _log_model(self, key: ModelKey) -> Any:
        # deferred: utils.experiments loads scikit-learn: +230 ms to import cycle
        from utils import experiments

        if key not in self.cache.logged:
            rows = _months(self.data, key[1] + 1, key[1] + 1)
            self.cache.logged[key] = tracking.log_sklearn_model(
                self.cache.models[key].model,
                input_example=experiments.as_model_input(rows[_FEATURES].head(3)),
                pyfunc_predict_fn="predict_proba",
            )
        return self.cache.logged[key]

    def _register(self, record: RetrainRecord, key: ModelKey, model: Any) -> str:
        label = self.scenario.month_label(record.month)
        version = self.registry.register(
            model,
            self.model_name,
            description=(
                f"{self.policy.name}: trained on months {key[0]}-{key[1]}, promoted at the end "
                f"of month {record.month} ({label})"
            ),
            tags={"policy": self.policy.name, EXECUTION_TAG: self.execution_id},
        ).version
        gate = "the first model"
        if not math.isnan(record.champion_roc_auc):
            gate = (
                f"ROC AUC {record.candidate_roc_auc:.3f} vs champion {record.champion_roc_auc:.3f}"
            )
        self.registry.promote(
            self.model_name,
            version,
            reason=(
                f"month {record.month} ({label}): {record.reason[:200]}; passed the gate ({gate}) "
                f"[execution {self.execution_id}]"
            ),
        )
        return str(version)

    def retrain(self, record: RetrainRecord, key: ModelKey, first: bool) -> RetrainRecord:
        """Log the retraining's run (nested in the policy's run); register and promote it if it
        passed. The first model, when already logged by :func:`run_policies`, is only
        registered and promoted (its run is ``initial-model``)."""
        from mlflow.entities import Metric, Param, RunTag

        if first and self.initial_model_uri is not None:
            model = self.cache.logged.get(key, self.initial_model_uri)
            return replace(record, version=self._register(record, key, model))
        mlflow = self.mlflow
        kind = "first-model" if first else "retrain"
        run_name = f"{self.policy.name}-{kind}-month-{record.month}"
        with mlflow.start_run(run_name=run_name, nested=True) as run:
            metrics = {
                "gate_passed": float(record.gate_passed),
                "validated": float(record.validated),
                "candidate_roc_auc": record.candidate_roc_auc,
                "candidate_cost_per_customer_eur": record.candidate_cost_eur,
                "champion_roc_auc": record.champion_roc_auc,
                "champion_cost_per_customer_eur": record.champion_cost_eur,
            }
            metrics = {k: v for k, v in metrics.items() if not math.isnan(v)}
            params = {
                "month": record.month,
                "calendar_month": self.scenario.month_label(record.month),
                "train_months": f"{record.train_months[0]}-{record.train_months[1]}",
                "eval_month": record.eval_month,
            }
            tags = {
                EXECUTION_TAG: self.execution_id,
                "policy": self.policy.name,
                "reason": record.reason[:5000],
                "gate": "passed" if record.gate_passed else "rejected",
                "failed_checks": ", ".join(record.failed_checks) or "none",
                "code_version": self.code,
            }
            if record.validated:
                result = self.cache.models[key]
                tags["data_fingerprint"] = result.data_fingerprint
                tags["train_fingerprint"] = result.train_fingerprint
            self.mlflow.MlflowClient().log_batch(
                run.info.run_id,
                metrics=[Metric(k, float(v), 0, 0) for k, v in metrics.items()],
                params=[Param(k, str(v)) for k, v in params.items()],
                tags=[RunTag(k, str(v)) for k, v in tags.items()],
            )
            version = None
            if record.gate_passed:
                version = self._register(record, key, self._log_model(key))
        return replace(record, version=version, run_id=run.info.run_id)

    def finish(self, run: CycleRun) -> str:
        from mlflow.entities import Metric

        mlflow = self.mlflow
        run_id = self.parent.info.run_id
        metrics: list[Metric] = []
        months = run.months
        for row in months.itertuples():
            for name in ("accuracy", "roc_auc", "cost_eur", "cost_per_customer_eur", "offers"):
                metrics.append(Metric(name, float(getattr(row, name)), 0, int(row.month)))
            metrics.append(Metric("alert", float(row.alert), 0, int(row.month)))
            metrics.append(Metric("retrained", float(row.retrain), 0, int(row.month)))
            metrics.append(Metric("promoted", float(row.promoted), 0, int(row.month)))
        drift = self.scenario.drift_start
        after = months[months["month"] >= drift]
        totals = {
            "business_cost_eur": run.business_cost_eur,
            "retraining_cost_eur": run.retraining_cost_eur,
            "total_cost_eur": run.total_cost_eur,
            "control_cost_eur": float(months["control_cost_eur"].sum()),
            "cost_after_drift_eur": float(after["cost_eur"].sum()),
            "mean_accuracy": float(months["accuracy"].mean()),
            "accuracy_after_drift": float(after["accuracy"].mean()),
            "n_retrains": float(run.n_retrains),
            "n_promotions": float(run.n_promotions),
            "n_alert_months": float(months["alert"].sum()),
        }
        metrics += [Metric(k, v, 0, 0) for k, v in totals.items()]
        client = mlflow.MlflowClient()
        for chunk in range(0, len(metrics), 900):  # the server takes 1000 per request
            client.log_batch(run_id, metrics=metrics[chunk : chunk + 900])
        mlflow.end_run()
        return run_id

    def abort(self) -> None:
        self.mlflow.end_run(status="FAILED")


# --------------------------------------------------------------------------- running the cycle


@dataclass(frozen=True)
class _Settings:
    """The checked arguments of :func:`run_cycle` that every policy of a stream shares."""

    data: pd.DataFrame = field(repr=False)
    config: TrainConfig
    window: int
    threshold: float
    offers: Offers | None
    retrain_cost_eur: float


def _settings(
    scenario: Scenario,
    data: object,
    config: object,
    window: object,
    threshold: object,
    offers: object,
    retrain_cost_eur: object,
) -> _Settings:
    """Check the arguments every policy shares, before anything runs."""
    # deferred: utils.training loads scikit-learn: +187 ms to import cycle
    from utils.training import TrainConfig

    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a cycle.Scenario, got {type(scenario).__name__}.")
    window = _whole(window, "window", 1)
    if window > scenario.history_months - 1:
        raise ValueError(
            f"window ({window} months) does not fit in the {scenario.history_months} history "
            f"months: the first model needs {window} months to train on and one to be judged "
            f"on. Use window <= {scenario.history_months - 1}."
        )
    config = cycle_config(scenario.seed) if config is None else config
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a training.TrainConfig, got {type(config).__name__}.")
    threshold = break_even_threshold() if threshold is None else _amount(threshold, "threshold")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be a probability between 0 and 1, got {threshold}.")
    if offers is not None and not isinstance(offers, Offers):
        raise TypeError(f"offers must be a cycle.Offers or None, got {type(offers).__name__}.")
    data = scenario.data() if data is None else _check_data(data, scenario)
    cost = _amount(retrain_cost_eur, "retrain_cost_eur")
    return _Settings(data, config, window, threshold, offers, cost)


def run_cycle(
    policy: Policy,
    scenario: Scenario,
    *,
    data: pd.DataFrame | None = None,
    config: TrainConfig | None = None,
    window: int = 2,
    threshold: float | None = None,
    offers: Offers | None = DEFAULT_OFFERS,
    retrain_cost_eur: float = RETRAIN_COST_EUR,
    model_name: str | None = None,
    execution_id: str | None = None,
    initial_model_uri: str | None = None,
    on_month: Callable[[str], None] | None = None,
    reuse: CycleRun | None = None,
    _cache: _Cache | None = None,
) -> CycleRun:
    """Run the cycle of one policy over the production months of ``scenario`` (notebook 10).

    At the end of the last history month the first model is built. Then, every production
    month, the stages of :class:`_Loop`: **serve** (the champion flags customers; offers go to
    the flagged ones outside the control group), **monitor**, **trigger** (the policy decides),
    **retrain** on the ``window`` months before the newest labelled one, **validate**, **gate**
    against the champion on that newest month, and **promote**: the candidate serves from the
    next month.

    Args:
        policy, scenario: when to retrain, and the stream (``data``: ``scenario.data()``).
        config, window: the model to train (default :func:`cycle_config`) and its months.
        threshold: the decision threshold (default :func:`break_even_threshold`).
        offers: control group and labels to learn from (:data:`DEFAULT_OFFERS`); None draws
            the labels as if no offer was ever made.
        retrain_cost_eur: the price of one retraining (:data:`RETRAIN_COST_EUR`).
        model_name: record in MLflow and the registry under this registered model (a parent
            run, a nested run per retraining, a version and alias move per promotion);
            ``execution_id`` tags them, ``initial_model_uri`` is the first model logged already.
        on_month: called with a status line after every month (for a progress bar).
        reuse: an earlier run of the same scenario, window and config whose work to reuse.
    Raises TypeError or ValueError on bad arguments, before anything runs.
    """
    settings = _settings(scenario, data, config, window, threshold, offers, retrain_cost_eur)
    cache = _run_checks(policy, scenario, settings, model_name, on_month, reuse, _cache)
    loop = _Loop(policy, scenario, cache, settings)
    recorder = None
    if model_name is not None:
        if execution_id is None:
            # deferred: utils.experiments loads scikit-learn: +230 ms to import cycle
            from utils.experiments import new_execution_id

            execution_id = new_execution_id()
        recorder = _Recorder(model_name, execution_id, loop, initial_model_uri)
    try:
        run = _run_months(loop, recorder, on_month)
        run = replace(run, model_name=model_name, execution_id=execution_id)
        if recorder is not None:
            run.run_id = recorder.finish(run)
    except BaseException:
        if recorder is not None:
            recorder.abort()
        raise
    return run


def _run_checks(policy: object, scenario: Scenario, settings: _Settings, model_name: object,
                on_month: object, reuse: object, cache: _Cache | None) -> _Cache:  # fmt: skip
    """Check the arguments of one policy's run; return the cache of shared work to use."""
    if not isinstance(policy, Policy):
        raise TypeError(
            f"policy must be a Policy (cycle.never(), cycle.scheduled(3), "
            f"cycle.drift_triggered()), got {type(policy).__name__}."
        )
    if model_name is not None and (not isinstance(model_name, str) or not model_name):
        raise TypeError("model_name must be a registered model's name (tracking.model_name).")
    if on_month is not None and not callable(on_month):
        raise TypeError("on_month must be a function that takes a status line, or None.")
    if reuse is None:
        return _Cache() if cache is None else cache
    if not isinstance(reuse, CycleRun):
        raise TypeError(f"reuse must be a CycleRun, got {type(reuse).__name__}.")
    if (reuse.scenario, reuse.window, reuse.config) != (scenario, settings.window, settings.config):
        raise ValueError(
            "reuse must come from a run of the same scenario, window and config: its "
            "models would not be the ones this run trains."
        )
    return reuse._cache


def _run_params(settings: _Settings) -> dict[str, Any]:
    """The decision rule, the offers and the retraining cost as MLflow parameters."""
    offers = settings.offers
    return {
        "decision_threshold": round(settings.threshold, 6),
        "offers.control_share": None if offers is None else offers.control_share,
        "offers.learn_from": None if offers is None else offers.learn_from,
        "retrain_cost_eur": settings.retrain_cost_eur,
    }


def _run_months(
    loop: _Loop, recorder: _Recorder | None, on_month: Callable[[str], None] | None
) -> CycleRun:
    """The loop itself: the first model, then serve, monitor, trigger and retrain every month."""
    policy, scenario = loop.policy, loop.scenario
    first_month = scenario.history_months - 1
    initial, champion = loop.retrain(
        first_month + LABEL_DELAY_MONTHS, "no model yet: build the first one", None
    )
    initial = replace(initial, month=first_month)
    if not initial.gate_passed:
        raise RuntimeError(f"The first model did not pass the gate: {initial}")
    if recorder is not None:
        initial = recorder.retrain(initial, champion, first=True)
    version = initial.version
    rows: list[dict[str, Any]] = []
    retrains: list[RetrainRecord] = []
    for month in scenario.production:
        served = loop.serve(champion, month)  # 1. serve
        report = loop.monitor(champion, month)  # 2. monitor
        reason = policy.decide(month, report, first_month)  # 3. trigger
        row = loop.row(month, champion, version, served, report, reason)
        status = f"{policy.name}, month {month} ({row['calendar']}): "
        status += "alert" if report.reasons else "no alert"
        if reason is not None:  # 4.-6. retrain, validate, gate
            record, key = loop.retrain(month, reason, champion)
            if recorder is not None:  # 7. promote: register, move the alias
                record = recorder.retrain(record, key, first=False)
            retrains.append(record)
            row["promoted"] = record.gate_passed
            if record.gate_passed:
                champion, version = key, record.version
            status += " -> retrain -> " + ("promoted" if record.gate_passed else "gate rejected it")
        rows.append(row)
        if on_month is not None:
            on_month(status)
    return CycleRun(
        policy=policy,
        scenario=scenario,
        months=pd.DataFrame(rows),
        retrains=retrains,
        initial=initial,
        model=loop.cache.models[champion].model,
        window=loop.window,
        config=loop.config,
        threshold=loop.threshold,
        offers=loop.offers,
        retrain_cost_eur=loop.settings.retrain_cost_eur,
        _cache=loop.cache,
    )


def run_policies(
    policies: Sequence[Policy],
    scenario: Scenario,
    *,
    data: pd.DataFrame | None = None,
    config: TrainConfig | None = None,
    window: int = 2,
    threshold: float | None = None,
    offers: Offers | None = DEFAULT_OFFERS,
    retrain_cost_eur: float = RETRAIN_COST_EUR,
    model_names: Mapping[str, str] | None = None,
    execution_id: str | None = None,
    progress: bool | None = None,
) -> dict[str, CycleRun]:
    """Run several policies on the same stream; return ``{policy name: CycleRun}`` (notebook 10).

    Work that does not depend on the policy (a model trained on the same rows and labels, a
    model's scores on a month) is done once. With ``model_names`` (``{policy name: registered
    model}``) every policy is recorded (see :func:`run_cycle`); the first model is logged once
    (run ``initial-model``) and registered in every model. ``progress``: None shows a bar in a
    notebook (a line per month elsewhere), True always a bar, False nothing. Raises TypeError
    or ValueError on bad arguments or two policies with the same name.
    """
    # deferred: utils.experiments loads scikit-learn: +230 ms to import cycle
    from utils.experiments import Progress, new_execution_id

    names = _policy_names(policies)
    settings = _settings(scenario, data, config, window, threshold, offers, retrain_cost_eur)
    if model_names is not None:
        if not isinstance(model_names, Mapping) or set(model_names) != set(names):
            raise ValueError(
                f"model_names must map every policy name {names} to a registered model name."
            )
    cache = _Cache()
    execution_id = execution_id or new_execution_id()
    initial_uri = None
    if model_names is not None:
        initial_uri = _log_initial_model(cache, scenario, settings, execution_id)
    bar = None
    if progress is not False:  # None: a bar in a notebook, a line per month elsewhere
        bar = Progress(len(policies) * len(scenario.production), "cycle", widget=progress)
    runs: dict[str, CycleRun] = {}
    for policy in policies:
        runs[policy.name] = run_cycle(
            policy,
            scenario,
            data=settings.data,
            config=settings.config,
            window=settings.window,
            threshold=settings.threshold,
            offers=settings.offers,
            retrain_cost_eur=settings.retrain_cost_eur,
            model_name=None if model_names is None else model_names[policy.name],
            execution_id=execution_id,
            initial_model_uri=initial_uri,
            on_month=None if bar is None else bar.step,
            _cache=cache,
        )
    if bar is not None:
        bar.done(f"{len(policies)} policies x {len(scenario.production)} months")
    return runs


def _policy_names(policies: object) -> list[str]:
    if isinstance(policies, Policy) or not isinstance(policies, Sequence) or not policies:
        raise TypeError("policies must be a non-empty list of Policy objects.")
    if not all(isinstance(p, Policy) for p in policies):
        raise TypeError("policies must hold Policy objects only.")
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise ValueError(f"Every policy needs its own name; got {names}.")
    return names


def _log_initial_model(
    cache: _Cache, scenario: Scenario, settings: _Settings, execution_id: str
) -> str:
    """Log the first model once (run ``initial-model``); return its ``models:/m-...`` URI."""
    import mlflow

    # deferred: utils.experiments loads scikit-learn: +230 ms to import cycle
    from utils import experiments

    loop = _Loop(never(), scenario, cache, settings)
    loop.recording = True
    eval_month = scenario.history_months - 1
    months = (max(0, eval_month - settings.window), eval_month - 1)
    rows, digest = loop.labelled(*months)
    key: ModelKey = (*months, digest)
    result = loop.train(key, rows)
    with mlflow.start_run(run_name="initial-model", tags={EXECUTION_TAG: execution_id}):
        mlflow.log_params({**settings.config.as_params(), "train_months": f"{key[0]}-{key[1]}"})
        mlflow.log_metrics({k: float(v) for k, v in result.metrics.items()})
        mlflow.set_tags(registry.lineage_tags(result))
        example = _months(settings.data, eval_month, eval_month)[_FEATURES].head(3)
        info = tracking.log_sklearn_model(
            result.model,
            input_example=experiments.as_model_input(example),
            pyfunc_predict_fn="predict_proba",
        )
    cache.logged[key] = info
    return str(info.model_uri)


# --------------------------------------------------------------------------- over many seeds


def sweep_seeds(
    policies: Sequence[Policy],
    seeds: Sequence[int],
    scenario: Scenario | None = None,
    *,
    threshold: float | None = None,
    offers: Offers | None = DEFAULT_OFFERS,
    workers: int = 1,
    progress: bool | None = None,
    cache: bool = True,
) -> pd.DataFrame:
    """Run the policies on the same stream with other seeds; one row per seed and policy.

    Introduced in notebook 10. The stream of each seed is ``scenario`` (default
    :class:`Scenario`) with that seed; work the policies share (the stream, the first model, a
    model trained on the same rows and labels) is done once per seed. Nothing is recorded in
    MLflow. Columns: ``seed``, ``policy``, ``retrains``, ``promotions``,
    ``business_cost_eur``, ``control_cost_eur``, ``accuracy_after_drift``, ``first_alert``
    (month of the first alert, NaN if none). Price the retrainings with :func:`seed_table`.
    ``workers`` > 1 runs the seeds in that many processes (the result is the same).

    With ``cache`` (the default) each seed's rows are kept in the state folder
    (``cycle-seeds/``), under a key made of the policies, the stream, the threshold, the offers,
    the code version of ``utils`` (:func:`utils.registry.code_version`) and the versions of
    NumPy, pandas, scikit-learn and SciPy: running the same sweep again (a rerun of notebook 10)
    reads them instead of recomputing, and any change to one of those computes afresh. A policy
    with a ``rule`` function is never cached (its text does not say what it does).
    """
    # deferred: utils.experiments loads scikit-learn: +230 ms to import cycle
    from utils.experiments import Progress

    _policy_names(policies)
    if isinstance(seeds, str) or not isinstance(seeds, Sequence | range) or not seeds:
        raise TypeError("seeds must be a non-empty list of seeds, e.g. range(10).")
    base = Scenario() if scenario is None else scenario
    if not isinstance(base, Scenario):
        raise TypeError(f"scenario must be a cycle.Scenario, got {type(base).__name__}.")
    streams = [replace(base, seed=_whole(seed, "seed", 0)) for seed in seeds]
    jobs = [(tuple(policies), stream, threshold, offers) for stream in streams]
    bar = None if progress is False else Progress(len(seeds), "seeds", widget=progress)
    use_cache = cache and all(getattr(p, "rule", None) is None for p in policies)
    files = [_sweep_cache_file(job) for job in jobs] if use_cache else [None] * len(jobs)
    found: dict[int, pd.DataFrame] = {}
    for i, file in enumerate(files):
        if file is not None and file.is_file():
            try:
                found[i] = pd.read_json(io.StringIO(file.read_text()), orient="table")
            except ValueError:
                file.unlink(missing_ok=True)  # a damaged entry is computed again
    todo = [i for i in range(len(jobs)) if i not in found]
    workers = _whole(workers, "workers", 1)
    pool = None
    if workers == 1 or len(todo) < 2:
        results = map(_sweep_one, [jobs[i] for i in todo])
    else:  # processes of their own ("spawn": safe in a notebook's kernel)
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(min(workers, len(todo)), mp_context=context)
        results = pool.map(_sweep_one, [jobs[i] for i in todo])
    try:
        for i in found:
            if bar is not None:
                bar.step(f"seed {streams[i].seed} (kept from an earlier run)")
        for i, result in zip(todo, results, strict=True):
            found[i] = result
            if files[i] is not None:
                files[i].parent.mkdir(parents=True, exist_ok=True)
                tmp = files[i].with_suffix(".tmp")
                tmp.write_text(result.to_json(orient="table", index=False, double_precision=15))
                tmp.replace(files[i])
            if bar is not None:
                bar.step(f"seed {streams[i].seed}")
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if bar is not None:
        bar.done(f"{len(seeds)} seeds x {len(policies)} policies")
    return pd.concat([found[i] for i in range(len(jobs))], ignore_index=True)


#: The folder of the state folder where :func:`sweep_seeds` keeps each seed's rows.
SWEEP_CACHE = "cycle-seeds"


def _sweep_cache_file(job: tuple[Any, ...]) -> Path:
    """Where one seed's rows of :func:`sweep_seeds` are kept, named by what decides them."""
    from importlib.metadata import version

    policies, stream, threshold, offers = job
    parts = [repr(policies), repr(stream), repr(threshold), repr(offers), code_version()]
    parts += [f"{p}={version(p)}" for p in ("numpy", "pandas", "scikit-learn", "scipy")]
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]
    return state_dir() / SWEEP_CACHE / f"seed-{stream.seed}-{key}.json"


def _sweep_one(job: tuple[Any, ...]) -> pd.DataFrame:
    """One seed of :func:`sweep_seeds`: every policy on that seed's stream."""
    policies, stream, threshold, offers = job
    runs = run_policies(list(policies), stream, threshold=threshold, offers=offers, progress=False)
    return seed_rows(runs)


def seed_rows(runs: Mapping[str, CycleRun]) -> pd.DataFrame:
    """The rows of :func:`sweep_seeds` for runs of one stream, e.g. a recorded walk-through.

    Introduced in notebook 10, which adds the recorded runs of seed 42 to the sweep's seeds.
    """
    items = list(runs.values()) if isinstance(runs, Mapping) else None
    if not items or not all(isinstance(r, CycleRun) for r in items):
        raise TypeError("runs must be the {name: CycleRun} dict that run_policies returned.")
    rows = []
    for run in items:
        after = run.after(run.scenario.drift_start)
        alerts = run.alert_months
        rows.append(
            {
                "seed": run.scenario.seed,
                "policy": run.policy.name,
                "retrains": run.n_retrains,
                "promotions": run.n_promotions,
                "business_cost_eur": run.business_cost_eur,
                "control_cost_eur": float(run.months["control_cost_eur"].sum()),
                "accuracy_after_drift": float(after["accuracy"].mean()),
                "first_alert": float(min(alerts)) if alerts else math.nan,
            }
        )
    return pd.DataFrame(rows)


def seed_table(
    sweep: pd.DataFrame, retrain_cost_eur: float = RETRAIN_COST_EUR, against: str = "never"
) -> pd.DataFrame:
    """What each policy saves against ``against`` on every seed, retrainings priced (EUR).

    Introduced in notebook 10. Rows: seeds; columns: policies (``against`` left out). A saving
    is ``against``'s total cost minus the policy's, where a total cost is the business cost plus
    ``retrains * retrain_cost_eur``. Positive: the policy is cheaper than ``against``.
    """
    cost = _amount(retrain_cost_eur, "retrain_cost_eur")
    if not isinstance(sweep, pd.DataFrame) or "business_cost_eur" not in sweep.columns:
        raise TypeError("sweep must be the table that cycle.sweep_seeds returned.")
    total = sweep.assign(total=sweep["business_cost_eur"] + sweep["retrains"] * cost)
    wide = total.pivot(index="seed", columns="policy", values="total")
    if against not in wide.columns:
        raise ValueError(f"No policy {against!r} in the sweep; it has {list(wide.columns)}.")
    order = [p for p in dict.fromkeys(sweep["policy"]) if p != against]
    return wide[order].rsub(wide[against], axis=0)


def wins(sweep: pd.DataFrame, retrain_cost_eur: float = RETRAIN_COST_EUR) -> pd.Series:
    """On how many seeds each policy has the lowest total cost (notebook 10).

    A seed where two policies tie to the euro counts for both."""
    savings = seed_table(sweep, retrain_cost_eur)
    savings.insert(0, "never", 0.0)
    best = savings.max(axis=1)
    return (savings >= best.to_numpy()[:, None] - 0.5).sum().rename("cheapest on seeds")


# --------------------------------------------------------------------------- reading back


def registry_promotions(model_name: str, execution_id: str) -> list[AliasMove]:
    """The ``champion`` moves of one execution, read from the registry's history (notebook 10).

    :func:`run_cycle` ends the reason of every promotion with ``[execution <id>]``.

    Raises:
        ValueError: no such registered model; an empty execution ID.
    """
    if not isinstance(execution_id, str) or not execution_id.strip():
        raise ValueError("execution_id must be the non-empty ID the cycle was run with.")
    marker = f"[execution {execution_id}]"
    return [m for m in registry.history(model_name, "champion") if m.reason.endswith(marker)]


def compare_policies(runs: Mapping[str, CycleRun] | Sequence[CycleRun]) -> pd.DataFrame:
    """One row per policy: retrainings, promotions, costs and accuracy (notebook 10).

    Columns: ``policy`` (its description), ``retrains``, ``promotions``, ``rejected``,
    ``business_cost_eur`` (the decisions' cost), ``retraining_cost_eur``, ``total_cost_eur``
    (the two together), ``saving_vs_first_eur`` (the first run's total minus this one's, e.g.
    against never retraining), ``control_cost_eur`` (what the control group cost),
    ``mean_accuracy``, ``accuracy_before_drift``, ``accuracy_after_drift``. Indexed by policy
    name. All runs must share one scenario.

    Raises:
        TypeError, ValueError: no runs, or runs of different scenarios.
    """
    items = list(runs.values()) if isinstance(runs, Mapping) else list(runs)
    if not items or not all(isinstance(r, CycleRun) for r in items):
        raise TypeError("Give the CycleRun objects that run_cycle or run_policies returned.")
    scenario = items[0].scenario
    if any(r.scenario != scenario for r in items):
        raise ValueError("Compare policies on the same stream: the runs have different scenarios.")
    drift = scenario.drift_start
    first_cost = items[0].total_cost_eur
    rows = []
    for run in items:
        months = run.months
        before, after = months[months["month"] < drift], months[months["month"] >= drift]
        rows.append(
            {
                "name": run.policy.name,
                "policy": run.policy.label,
                "retrains": run.n_retrains,
                "promotions": run.n_promotions,
                "rejected": run.n_retrains - run.n_promotions,
                "business_cost_eur": run.business_cost_eur,
                "retraining_cost_eur": run.retraining_cost_eur,
                "total_cost_eur": run.total_cost_eur,
                "saving_vs_first_eur": first_cost - run.total_cost_eur,
                "control_cost_eur": float(months["control_cost_eur"].sum()),
                "mean_accuracy": float(months["accuracy"].mean()),
                "accuracy_before_drift": float(before["accuracy"].mean())
                if len(before)
                else math.nan,
                "accuracy_after_drift": float(after["accuracy"].mean()) if len(after) else math.nan,
            }
        )
    return pd.DataFrame(rows).set_index("name")


# --------------------------------------------------------------------------- figures


def policies_figure(
    runs: Mapping[str, CycleRun] | Sequence[CycleRun], *, title: str | None = None
) -> CourseFigure:
    """Accuracy, business cost and cumulative saving per month, one line per policy.

    Introduced in notebook 10 (and its slides). Top: accuracy of each month's decisions, with
    every retraining marked (a filled triangle when the candidate was promoted, an open one
    when the gate rejected it), at the month it serves from. Middle: the month's business cost
    (thousand EUR). Bottom: the cumulative saving of business cost against the first run given
    (EUR; retrainings not priced). A dotted line marks the first month with drift. Returns a new
    figure.
    """
    # deferred: utils.figures loads matplotlib: +252 ms to import cycle
    from utils.figures import CourseFigure

    items = list(runs.values()) if isinstance(runs, Mapping) else list(runs)
    if not items or not all(isinstance(r, CycleRun) for r in items):
        raise TypeError("Give the CycleRun objects that run_cycle or run_policies returned.")
    fig = CourseFigure(figsize=(11.0, 8.2), facecolor="white")
    ax_acc, ax_cost, ax_save = fig.subplots(3, 1, sharex=True)
    reference = items[0].months.set_index("month")["cost_eur"]
    for i, run in enumerate(items):
        months = run.months
        colour = _PALETTE[i % len(_PALETTE)]
        style = "--" if run.policy.rule is not None else "-"
        label = f"{run.policy.name} ({run.policy.label}): {run.n_retrains} retrainings"
        ax_acc.plot(months["month"], months["accuracy"], style, marker="o", ms=3.5,
                    color=colour, label=label)  # fmt: skip
        ax_cost.plot(months["month"], months["cost_eur"] / 1000, style, marker="o", ms=3.5,
                     color=colour)  # fmt: skip
        saving = (reference - months.set_index("month")["cost_eur"]).cumsum()
        ax_save.plot(saving.index, saving.to_numpy(), style, marker="o", ms=3.5, color=colour)
        accuracy = months.set_index("month")["accuracy"]
        for record in run.retrains:
            serves_from = record.month + 1
            y = accuracy.get(serves_from, accuracy.iloc[-1])
            x = serves_from if serves_from in accuracy.index else accuracy.index[-1] + 0.3
            ax_acc.scatter([x], [y], marker="^", s=110, zorder=5, color=colour,
                           facecolors=colour if record.gate_passed else "white")  # fmt: skip
    _finish_policies_figure(fig, (ax_acc, ax_cost, ax_save), items)
    fig.suptitle(
        title or f"{len(items)} retraining policies on the same stream",
        fontsize=12,
        fontweight="bold",
    )
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    return fig


#: Colours of the policies, in the order given (colour-blind safe, Okabe and Ito).
_PALETTE = ("#7f7f7f", "#0072b2", "#009e73", "#d55e00", "#cc79a7", "#e69f00", "#56b4e9")


def _finish_policies_figure(fig: Any, axes: tuple[Any, ...], items: list[CycleRun]) -> None:
    """Legend, drift line, labels and ticks of :func:`policies_figure`."""
    from matplotlib.lines import Line2D

    ax_acc, ax_cost, ax_save = axes
    scenario = items[0].scenario
    drift = scenario.drift_start
    handles, labels = ax_acc.get_legend_handles_labels()
    handles += [
        Line2D([], [], marker="^", color="black", linestyle="", markersize=8),
        Line2D([], [], marker="^", color="black", markerfacecolor="white", linestyle="",
               markersize=8),
        Line2D([], [], color="black", linestyle=":"),
    ]  # fmt: skip
    labels += [
        "retrained and promoted (serves from this month)",
        "retrained, rejected by the gate",
        f"drift starts (month {drift}, {scenario.month_label(drift)})",
    ]
    for ax in axes:
        ax.axvline(drift - 0.5, color="black", linestyle=":", linewidth=1.2)
        ax.grid(alpha=0.3)
    ax_save.axhline(0, color="#7f7f7f", linewidth=1)
    ax_acc.set_ylabel("accuracy\n(share of customers)")
    ax_cost.set_ylabel("business cost\n(thousand EUR)")
    ax_save.set_ylabel(f"saved vs\n{items[0].policy.name} (EUR)")
    months = items[0].months
    ax_save.set_xticks(months["month"], [f"{m}\n{c[2:]}" for m, c in zip(months["month"],
                       months["calendar"], strict=True)], fontsize=8)  # fmt: skip
    ax_save.set_xlabel("production month (number, and year-month)")
    ax_acc.set_title("Accuracy of each month's decisions", fontsize=10)
    ax_cost.set_title("Business cost of each month's decisions (ChurnCosts)", fontsize=10)
    ax_save.set_title(
        f"Cumulative saving of business cost against '{items[0].policy.name}' (EUR, "
        "retrainings not priced)",
        fontsize=10,
    )
    fig.legend(handles, labels, fontsize=8.5, loc="lower center", ncol=2, frameon=False)


def seeds_figure(
    sweep: pd.DataFrame, retrain_cost_eur: float = RETRAIN_COST_EUR, *, title: str | None = None
) -> CourseFigure:
    """The spread over seeds: each policy's saving against never retraining, and its retrainings.

    Introduced in notebook 10. Left: one dot per seed (the saving, retrainings priced at
    ``retrain_cost_eur``), the median as a bar; right: retrainings per seed. Returns a new
    figure.
    """
    # deferred: utils.figures loads matplotlib: +252 ms to import cycle
    from utils.figures import CourseFigure

    savings = seed_table(sweep, retrain_cost_eur)
    retrains = sweep.pivot(index="seed", columns="policy", values="retrains")[savings.columns]
    fig = CourseFigure(figsize=(11.0, 4.4), facecolor="white")
    ax_save, ax_count = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    rng = np.random.default_rng(0)  # horizontal jitter only, so that dots do not hide
    for i, name in enumerate(savings.columns):
        jitter = rng.uniform(-0.12, 0.12, len(savings))
        ax_save.scatter(i + jitter, savings[name] / 1000, s=28, alpha=0.8, color="#0072b2")
        ax_save.hlines(savings[name].median() / 1000, i - 0.3, i + 0.3, color="#d55e00", lw=2.5)
        ax_count.scatter(i + jitter, retrains[name], s=28, alpha=0.8, color="#0072b2")
    ax_save.axhline(0, color="#7f7f7f", linewidth=1)
    for ax in (ax_save, ax_count):
        ax.set_xticks(range(len(savings.columns)), list(savings.columns))
        ax.set_xlabel("policy")
        ax.grid(alpha=0.3, axis="y")
    ax_save.set_ylabel("saving against never retraining\n(thousand EUR, retrainings priced)")
    ax_save.set_title(
        f"Saving per seed (dots) and median (bar), {retrain_cost_eur:,.0f} EUR a retraining",
        fontsize=10,
    )
    ax_count.set_ylabel("retrainings (count)")
    ax_count.set_title("Retrainings per seed", fontsize=10)
    fig.suptitle(
        title or f"The same policies on {len(savings)} seeds of the stream",
        fontsize=12,
        fontweight="bold",
    )
    fig.tight_layout()
    return fig


_LOOP_STEPS: tuple[tuple[str, str], ...] = (
    ("serve", "serve\n(champion)"),
    ("monitor", "monitor\n(drift, labels)"),
    ("trigger", "trigger\n(policy)"),
    ("retrain", "retrain on\nrecent data"),
    ("validate", "validate\ndata"),
    ("gate", "gate vs\nchampion"),
    ("promote", "promote\n(alias moves)"),
)


def cycle_figure(run: CycleRun | None = None, *, title: str | None = None) -> CourseFigure:
    """Draw the loop of notebook 10 as a circle of steps; with a run, count what each did.

    Introduced in notebook 10 (and its slides): serve -> monitor -> trigger -> retrain ->
    validate -> gate -> promote -> serve. With ``run``, each step is annotated with how often
    it ran or decided (months served, alerts, retrainings, validations, gate passes, promotions).
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    from utils.figures import CourseFigure  # deferred: matplotlib, +252 ms to import cycle

    if run is not None and not isinstance(run, CycleRun):
        raise TypeError(f"run must be a CycleRun or None, got {type(run).__name__}.")
    counts: dict[str, str] = {}
    if run is not None:
        n = len(run.months)
        counts = {
            "serve": f"{n} months",
            "monitor": f"{len(run.alert_months)} months alerted",
            "trigger": f"{run.n_retrains} retrainings",
            "retrain": f"{run.n_retrains} candidates",
            "validate": f"{sum(r.validated for r in run.retrains)} passed",
            "gate": f"{run.n_promotions} passed, {run.n_retrains - run.n_promotions} rejected",
            "promote": f"{run.n_promotions} promotions",
        }
    fig = CourseFigure(figsize=(7.0, 5.6), facecolor="white")
    ax = fig.add_axes((0.0, 0.0, 1.0, 0.9))
    ax.set_xlim(-1.55, 1.55)
    ax.set_ylim(-1.3, 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    k = len(_LOOP_STEPS)
    angles = [math.pi / 2 - 2 * math.pi * i / k for i in range(k)]
    points = [(math.cos(a), math.sin(a)) for a in angles]
    w, h = 0.62, 0.34
    boxes: list[Any] = []
    for (key, text), (x, y) in zip(_LOOP_STEPS, points, strict=True):
        highlight = key in ("trigger", "gate")
        box = FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.0,rounding_size=0.06",
            facecolor="#fde2cf" if highlight else "#dbe9f6",
            edgecolor="#d55e00" if highlight else "#4a7ab0", linewidth=1.5,
        )  # fmt: skip
        box.set_gid(f"step:{key}")
        ax.add_patch(box)
        ax.text(x, y, text, ha="center", va="center", fontsize=9)
        if key in counts:
            ax.text(x, y - h / 2 - 0.08, counts[key], ha="center", va="center", fontsize=8,
                    color="#333333", style="italic")  # fmt: skip
        boxes.append(box)
    for i in range(k):  # arrows from box to box, clipped at the boxes' edges
        ax.add_patch(
            FancyArrowPatch(
                points[i],
                points[(i + 1) % k],
                patchA=boxes[i],
                patchB=boxes[(i + 1) % k],
                shrinkA=3,
                shrinkB=3,
                arrowstyle="-|>",
                mutation_scale=14,
                color="#555555",
                linewidth=1.4,
            )
        )
    ax.text(0, 0.12, "every month,\nby itself", ha="center", va="center", fontsize=11,
            fontweight="bold", color="#333333")  # fmt: skip
    ax.text(0, -0.28, "no alert, or the gate says no:\nthe champion keeps serving", ha="center",
            va="center", fontsize=8.5, color="#555555")  # fmt: skip
    if title is None:
        title = "The full cycle, automated"
        if run is not None:
            title += f": {run.policy.name}"
    fig.suptitle(title, fontsize=12, fontweight="bold")
    return fig


# --------------------------------------------------------------------------- maturity levels

#: Google Cloud's MLOps maturity levels ("MLOps: Continuous delivery and automation pipelines
#: in machine learning"): name and characteristics, as the guide lists them.
MATURITY_LEVELS: dict[int, tuple[str, tuple[str, ...]]] = {
    0: (
        "manual process",
        (
            "script- and notebook-driven, every step run by hand",
            "ML separate from operations: data scientists hand a model to engineers",
            "rare releases",
            "no CI, no CD",
            "deployment means a prediction service",
            "no active monitoring",
        ),
    ),
    1: (
        "ML pipeline automation",
        (
            "continuous training of the model on new data",
            "the same pipeline in experimentation and production",
            "modular components",
            "data and model validation",
            "metadata management",
            "pipeline triggers",
            "continuous delivery of models",
        ),
    ),
    2: (
        "CI/CD pipeline automation",
        (
            "level 1, plus CI/CD of the pipeline itself",
            "source control, test and build, deployment",
            "model registry, feature store, metadata store, orchestrator",
            "CI tests: training converges, a model can overfit a few records, no NaNs, "
            "components produce the expected artifacts",
        ),
    ),
}


#: What Google Cloud's level 2 asks for, what this course has of it, and what level 2 would add
#: (notebook 10). The course runs level 1: its CI tests the code on every change, but builds
#: and deploys no pipeline.
LEVEL_2_ADDS: tuple[tuple[str, str, str], ...] = (
    ("source control", "yes: the pipeline's code is in git", "nothing"),
    (
        "test",
        "yes: CI runs the unit tests and executes the notebooks on every change",
        "tests of the pipeline's components: training converges, a model can overfit a few "
        "records, no NaNs, each component produces the expected artifacts",
    ),
    (
        "build",
        "no: the pipeline is Python modules a notebook imports",
        "CI builds the components (packages, container images) with a version each",
    ),
    (
        "deployment",
        "no: the loop runs inside this notebook, over simulated months",
        "CD deploys the built pipeline to a test, then the production environment",
    ),
    (
        "orchestrator",
        "no: a Python loop",
        "a scheduler that runs the deployed pipeline on a real calendar and on triggers",
    ),
    ("model registry, metadata store", "yes: the MLflow registry and tracking server", "nothing"),
    ("feature store", "no", "one store of features, the same for training and serving"),
)


def maturity_table(ran: Mapping[int, str] | None = None) -> pd.DataFrame:
    """The maturity levels as a table, with what the course ran at each level (notebook 10).

    Columns: ``name``, ``characteristics`` (Google Cloud's list, joined) and, with ``ran``
    (``{level: text}``), ``in this course``. Indexed by level.
    """
    if ran is not None and not isinstance(ran, Mapping):
        raise TypeError("ran must be a dict {level: what the course ran at that level}.")
    if ran is not None:
        unknown = sorted(set(ran) - set(MATURITY_LEVELS))
        if unknown:
            raise ValueError(f"Unknown maturity level(s) {unknown}; the levels are 0, 1 and 2.")
    rows = []
    for level, (name, items) in MATURITY_LEVELS.items():
        row = {"level": level, "name": name, "characteristics": "; ".join(items)}
        if ran is not None:
            row["in this course"] = ran.get(level, "")
        rows.append(row)
    return pd.DataFrame(rows).set_index("level")
