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

import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from utils.datasets import CHURN_FEATURES, CHURN_TARGET, ChurnCosts, make_churn
from utils.monitoring import Monitor, MonitorReport, Thresholds

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    import pandera.pandas as pa

    from utils.figures import CourseFigure
    from utils.registry import AliasMove
    from utils.training import TrainConfig, TrainResult

__all__ = [
    "LABEL_DELAY_MONTHS",
    "MATURITY_LEVELS",
    "POLICY_KINDS",
    "CycleRun",
    "Policy",
    "RetrainRecord",
    "Scenario",
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
        from utils.validation import churn_schema

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
            return f"every {self.every} months"
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


def scheduled(every: int = 3) -> Policy:
    """Retrain every ``every`` months, whatever the monitor says (notebook 10)."""
    return Policy("scheduled", "schedule", every=_whole(every, "every", 1))


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


# --------------------------------------------------------------------------- records


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
            (the month the serving model was built), ``version`` (its registered version, if
            recorded), ``n``, ``accuracy``, ``roc_auc``, ``cost_eur`` (the month's business
            cost of the model's decisions), ``cost_per_customer_eur``, ``alert`` (the monitor
            raised one), ``reasons``, ``retrain`` (a retraining ran at the end of the month),
            ``promoted``.
        retrains: every retraining, in order (the first model is :attr:`initial`).
        initial: the building of the first model, at the end of the last history month.
        model: the model that serves at the end.
        model_name: the registered model (None when nothing was recorded).
        execution_id: the execution's ID (in run tags and alias-move reasons).
        run_id: the policy's parent MLflow run (None when nothing was recorded).
        window: labelled months each model was trained on.
        config: the training config of every model.
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
    def total_cost_eur(self) -> float:
        """The business cost of all production months, EUR."""
        return float(self.months["cost_eur"].sum())

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
            f"{len(self.months)} months; mean accuracy {self.months['accuracy'].mean():.3f}"
        )


# --------------------------------------------------------------------------- the loop


class _Cache:
    """Work that does not depend on the policy: models trained on the same months, and a
    model's scores on a month, are computed once for all policies."""

    def __init__(self) -> None:
        self.models: dict[tuple[int, int], TrainResult] = {}
        self.baselines: dict[tuple[int, int], Any] = {}
        self.serving: dict[tuple[tuple[int, int], int], dict[str, float]] = {}
        self.scores: dict[tuple[tuple[int, int], int], np.ndarray] = {}
        self.monitors: dict[tuple[tuple[int, int], Thresholds | None], Monitor] = {}
        self.checks: dict[tuple[tuple[int, int], int, Thresholds | None], MonitorReport] = {}
        self.gates: dict[tuple[tuple[int, int], tuple[int, int] | None, int], Any] = {}
        self.validations: dict[tuple[int, int], Any] = {}
        self.logged: dict[tuple[int, int], Any] = {}  # ModelInfo of logged models


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


def _scores(cache: _Cache, key: tuple[int, int], data: pd.DataFrame, month: int) -> np.ndarray:
    """The churn probabilities of model ``key`` for the customers of ``month`` (computed once)."""
    if (key, month) not in cache.scores:
        rows = _months(data, month, month)
        cache.scores[(key, month)] = np.asarray(
            cache.models[key].model.predict_proba(rows[_FEATURES])
        )[:, 1]
    return cache.scores[(key, month)]


def _serve(cache: _Cache, key: tuple[int, int], data: pd.DataFrame, month: int) -> dict[str, float]:
    """Accuracy, ROC AUC and business cost of model ``key``'s decisions on ``month``."""
    from sklearn.metrics import roc_auc_score

    if (key, month) not in cache.serving:
        y = _months(data, month, month)[CHURN_TARGET].to_numpy()
        scores = _scores(cache, key, data, month)
        flagged = scores >= 0.5
        tp = int(np.sum(flagged & (y == 1)))
        fp = int(np.sum(flagged & (y == 0)))
        fn = int(np.sum(~flagged & (y == 1)))
        tn = int(np.sum(~flagged & (y == 0)))
        cost = ChurnCosts().cost(tp, fp, fn, tn)
        cache.serving[(key, month)] = {
            "n": float(len(y)),
            "accuracy": (tp + tn) / len(y),
            "roc_auc": float(roc_auc_score(y, scores)) if 0 < y.sum() < len(y) else math.nan,
            "business_cost_eur": cost,
            "cost_per_customer_eur": cost / len(y),
        }
    return cache.serving[(key, month)]


def _train(
    cache: _Cache, key: tuple[int, int], data: pd.DataFrame, config: TrainConfig
) -> TrainResult:
    from utils.training import TrainConfig, train

    if key not in cache.models:
        rows = _months(data, *key)
        cache.models[key] = train(config, rows)
        cache.baselines[key] = train(TrainConfig("dummy", seed=config.seed), rows).model
    return cache.models[key]


def _monitor(
    cache: _Cache, key: tuple[int, int], data: pd.DataFrame, thresholds: Thresholds | None
) -> Monitor:
    # Reference: the months the model was built from (training and evaluation month); its
    # reference performance is measured on the evaluation month, which it never saw.
    if (key, thresholds) not in cache.monitors:
        reference = _months(data, key[0], key[1] + 1)
        cache.monitors[(key, thresholds)] = Monitor(
            reference,
            cache.models[key].model,
            thresholds=thresholds,
            baseline=_months(data, key[1] + 1, key[1] + 1),
        )
    return cache.monitors[(key, thresholds)]


def _retrain(
    cache: _Cache,
    data: pd.DataFrame,
    *,
    policy: Policy,
    month: int,
    reason: str,
    window: int,
    config: TrainConfig,
    schema: pa.DataFrameSchema,
    champion: tuple[int, int] | None,
) -> tuple[RetrainRecord, tuple[int, int]]:
    """Train on the ``window`` months before the newest labelled one; validate; gate."""
    from utils.delivery import validate_data
    from utils.ml_testing import quality_gate

    eval_month = month - LABEL_DELAY_MONTHS  # the newest month whose labels are known
    key = (max(0, eval_month - window), eval_month - 1)
    train_rows = _months(data, *key)
    eval_rows = _months(data, eval_month, eval_month)
    if key not in cache.validations:
        cache.validations[key] = validate_data(train_rows, eval_rows, schema)
    validation = cache.validations[key]
    nan = math.nan
    if not validation.passed:
        record = RetrainRecord(
            policy.name, month, reason, key, eval_month, False, False, ("data tests",),
            nan, nan, nan, nan,
        )  # fmt: skip
        return record, key
    result = _train(cache, key, data, config)
    gate_key = (key, champion, eval_month)
    if gate_key not in cache.gates:
        cache.gates[gate_key] = quality_gate(
            result.model,
            eval_rows[_FEATURES],
            eval_rows[CHURN_TARGET],
            baseline=cache.baselines[key],
            champion=None if champion is None else cache.models[champion].model,
            name=f"model of months {key[0]}-{key[1]}",
        )
    decision = cache.gates[gate_key]
    metrics = decision.metrics
    has_champion = "champion" in metrics.index
    record = RetrainRecord(
        policy=policy.name,
        month=month,
        reason=reason,
        train_months=key,
        eval_month=eval_month,
        validated=True,
        gate_passed=bool(decision.passed),
        failed_checks=tuple(c.name for c in decision.failed),
        candidate_roc_auc=float(metrics.loc["candidate", "roc_auc"]),
        candidate_cost_eur=float(metrics.loc["candidate", "cost_per_customer_eur"]),
        champion_roc_auc=float(metrics.loc["champion", "roc_auc"]) if has_champion else nan,
        champion_cost_eur=(
            float(metrics.loc["champion", "cost_per_customer_eur"]) if has_champion else nan
        ),
    )
    return record, key


class _Recorder:
    """Records a cycle in MLflow and the registry as it runs (only with a model name)."""

    def __init__(
        self,
        model_name: str,
        execution_id: str,
        policy: Policy,
        scenario: Scenario,
        cache: _Cache,
        data: pd.DataFrame,
        initial_model_uri: str | None,
    ) -> None:
        import mlflow

        from utils import registry

        self.mlflow = mlflow
        self.registry = registry
        self.model_name = model_name
        self.execution_id = execution_id
        self.policy = policy
        self.scenario = scenario
        self.cache = cache
        self.data = data
        self.initial_model_uri = initial_model_uri
        self.code = registry.code_version()
        self.parent = mlflow.start_run(
            run_name=f"policy-{policy.name}",
            tags={EXECUTION_TAG: execution_id, "policy": policy.name},
        )
        params: dict[str, Any] = {"policy": policy.name, "policy.kind": policy.kind}
        if policy.every is not None:
            params["policy.every_months"] = policy.every
        params.update(scenario.as_params())
        mlflow.log_params(params)

    def _log_model(self, key: tuple[int, int]) -> Any:
        from utils import experiments, tracking

        if key not in self.cache.logged:
            rows = _months(self.data, key[1] + 1, key[1] + 1)
            self.cache.logged[key] = tracking.log_sklearn_model(
                self.cache.models[key].model,
                input_example=experiments.as_model_input(rows[_FEATURES].head(3)),
                pyfunc_predict_fn="predict_proba",
            )
        return self.cache.logged[key]

    def _register(self, record: RetrainRecord, key: tuple[int, int], model: Any) -> str:
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

    def retrain(self, record: RetrainRecord, key: tuple[int, int], first: bool) -> RetrainRecord:
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

    def finish(self, months: pd.DataFrame, retrains: Sequence[RetrainRecord]) -> str:
        from mlflow.entities import Metric

        mlflow = self.mlflow
        run_id = self.parent.info.run_id
        metrics: list[Metric] = []
        for row in months.itertuples():
            for name in ("accuracy", "roc_auc", "cost_eur", "cost_per_customer_eur"):
                metrics.append(Metric(name, float(getattr(row, name)), 0, int(row.month)))
            metrics.append(Metric("alert", float(row.alert), 0, int(row.month)))
            metrics.append(Metric("retrained", float(row.retrain), 0, int(row.month)))
            metrics.append(Metric("promoted", float(row.promoted), 0, int(row.month)))
        drift = self.scenario.drift_start
        after = months[months["month"] >= drift]
        totals = {
            "total_cost_eur": float(months["cost_eur"].sum()),
            "cost_after_drift_eur": float(after["cost_eur"].sum()),
            "mean_accuracy": float(months["accuracy"].mean()),
            "accuracy_after_drift": float(after["accuracy"].mean()),
            "n_retrains": float(len(retrains)),
            "n_promotions": float(sum(r.gate_passed for r in retrains)),
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


def run_cycle(
    policy: Policy,
    scenario: Scenario,
    *,
    data: pd.DataFrame | None = None,
    config: TrainConfig | None = None,
    window: int = 2,
    model_name: str | None = None,
    execution_id: str | None = None,
    initial_model_uri: str | None = None,
    on_month: Callable[[str], None] | None = None,
    reuse: CycleRun | None = None,
    _cache: _Cache | None = None,
) -> CycleRun:
    """Run the cycle of one policy over the production months of ``scenario``.

    Introduced in notebook 10. At the end of the last history month the first model is built
    (retrain, validate, gate against a baseline, promote). Then, for every production month:
    the champion serves the month's customers (its accuracy and business cost are measured on
    their labels); the monitor checks the month's inputs and last month's labels; the policy
    decides; a retraining trains on the ``window`` months before the newest labelled month,
    validates the data, runs the gate against the champion on that newest month, and a
    candidate that passes serves from the next month on, with a new monitor.

    Args:
        policy: when to retrain (:func:`never`, :func:`scheduled`, :func:`drift_triggered`).
        scenario: the stream.
        data: ``scenario.data()``, if already made.
        config: the model to train (default :func:`cycle_config` with the scenario's seed).
        window: labelled months each model is trained on.
        model_name: record in MLflow and the registry under this registered model (a parent
            run in the active experiment, a nested run per retraining, a version and an alias
            move per promotion); None records nothing.
        execution_id: tags every run and every alias move (default a new one).
        initial_model_uri: a logged model (``models:/m-...``) of the first model, to register
            instead of logging it again (see :func:`run_policies`).
        on_month: called with a status line after every month (for a progress bar).
        reuse: an earlier run of the same scenario, window and config: the models it trained
            and the scores it computed are reused (the result is the same, only faster).

    Raises:
        TypeError, ValueError: bad arguments, before anything runs.
    """
    from utils.training import TrainConfig

    if not isinstance(policy, Policy):
        raise TypeError(
            f"policy must be a Policy (cycle.never(), cycle.scheduled(3), "
            f"cycle.drift_triggered()), got {type(policy).__name__}."
        )
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
    if model_name is not None and (not isinstance(model_name, str) or not model_name):
        raise TypeError("model_name must be a registered model's name (tracking.model_name).")
    if on_month is not None and not callable(on_month):
        raise TypeError("on_month must be a function that takes a status line, or None.")
    if reuse is not None:
        if not isinstance(reuse, CycleRun):
            raise TypeError(f"reuse must be a CycleRun, got {type(reuse).__name__}.")
        if (reuse.scenario, reuse.window, reuse.config) != (scenario, window, config):
            raise ValueError(
                "reuse must come from a run of the same scenario, window and config: its "
                "models would not be the ones this run trains."
            )
        _cache = reuse._cache
    data = scenario.data() if data is None else _check_data(data, scenario)
    cache = _Cache() if _cache is None else _cache
    schema = scenario.schema()
    if model_name is not None and execution_id is None:
        from utils.experiments import new_execution_id

        execution_id = new_execution_id()

    recorder = None
    if model_name is not None:
        assert execution_id is not None
        recorder = _Recorder(
            model_name, execution_id, policy, scenario, cache, data, initial_model_uri
        )
    try:
        first_month = scenario.history_months - 1
        initial, champion = _retrain(
            cache,
            data,
            policy=policy,
            month=first_month + LABEL_DELAY_MONTHS,
            reason="no model yet: build the first one",
            window=window,
            config=config,
            schema=schema,
            champion=None,
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
            served = _serve(cache, champion, data, month)
            monitor = _monitor(cache, champion, data, policy.thresholds)
            check_key = (champion, month, policy.thresholds)
            if check_key not in cache.checks:
                previous = month - LABEL_DELAY_MONTHS
                cache.checks[check_key] = monitor.check(
                    _months(data, month, month),
                    week=month,
                    labelled=_months(data, previous, previous),
                    labelled_week=previous,
                    scores=_scores(cache, champion, data, month),
                    labelled_scores=_scores(cache, champion, data, previous),
                )
            report = cache.checks[check_key]
            reason = policy.decide(month, report, first_month)
            row = {
                "month": month,
                "calendar": scenario.month_label(month),
                "model": f"{champion[0]}-{champion[1]}",
                "version": version,
                "n": int(served["n"]),
                "accuracy": served["accuracy"],
                "roc_auc": served["roc_auc"],
                "cost_eur": served["business_cost_eur"],
                "cost_per_customer_eur": served["cost_per_customer_eur"],
                "alert": bool(report.reasons),
                "reasons": _reasons(report),
                "retrain": reason is not None,
                "promoted": False,
            }
            status = f"{policy.name}, month {month} ({row['calendar']}): "
            status += "alert" if report.reasons else "no alert"
            if reason is not None:
                record, key = _retrain(
                    cache,
                    data,
                    policy=policy,
                    month=month,
                    reason=reason,
                    window=window,
                    config=config,
                    schema=schema,
                    champion=champion,
                )
                if recorder is not None:
                    record = recorder.retrain(record, key, first=False)
                retrains.append(record)
                row["promoted"] = record.gate_passed
                if record.gate_passed:
                    champion, version = key, record.version
                    status += " -> retrain -> gate passed -> promoted"
                else:
                    status += " -> retrain -> gate rejected it"
            rows.append(row)
            if on_month is not None:
                on_month(status)
        months = pd.DataFrame(rows)
        run_id = recorder.finish(months, retrains) if recorder is not None else None
    except BaseException:
        if recorder is not None:
            recorder.abort()
        raise
    return CycleRun(
        policy=policy,
        scenario=scenario,
        months=months,
        retrains=retrains,
        initial=initial,
        model=cache.models[champion].model,
        model_name=model_name,
        execution_id=execution_id,
        run_id=run_id,
        window=window,
        config=config,
        _cache=cache,
    )


def run_policies(
    policies: Sequence[Policy],
    scenario: Scenario,
    *,
    data: pd.DataFrame | None = None,
    config: TrainConfig | None = None,
    window: int = 2,
    model_names: Mapping[str, str] | None = None,
    execution_id: str | None = None,
    progress: bool | None = None,
) -> dict[str, CycleRun]:
    """Run several policies on the same stream; return ``{policy name: CycleRun}``.

    Introduced in notebook 10. Work that does not depend on the policy (a model trained on the
    same months, a model's scores on a month) is done once. With ``model_names`` (``{policy
    name: registered model}``) every policy is recorded (see :func:`run_cycle`); the first
    model is logged once, in a run named ``initial-model``, and registered in every model.
    ``progress``: None shows a bar that moves every month in a notebook (a line per month
    elsewhere), True always a bar, False nothing.

    Raises:
        TypeError, ValueError: bad arguments; two policies with the same name.
    """
    from utils.experiments import Progress, new_execution_id

    if isinstance(policies, Policy) or not isinstance(policies, Sequence) or not policies:
        raise TypeError("policies must be a non-empty list of Policy objects.")
    names = [p.name if isinstance(p, Policy) else None for p in policies]
    if None in names:
        raise TypeError("policies must hold Policy objects only.")
    if len(set(names)) != len(names):
        raise ValueError(f"Every policy needs its own name; got {names}.")
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a cycle.Scenario, got {type(scenario).__name__}.")
    if model_names is not None:
        if not isinstance(model_names, Mapping) or set(model_names) != set(names):
            raise ValueError(
                f"model_names must map every policy name {names} to a registered model name."
            )
    data = scenario.data() if data is None else _check_data(data, scenario)
    config = cycle_config(scenario.seed) if config is None else config
    cache = _Cache()
    execution_id = execution_id or new_execution_id()
    initial_uri = None
    if model_names is not None:
        initial_uri = _log_initial_model(cache, data, scenario, config, window, execution_id)
    bar = None
    if progress is not False:  # None: a bar in a notebook, a line per month elsewhere
        bar = Progress(len(policies) * len(scenario.production), "cycle", widget=progress)
    runs: dict[str, CycleRun] = {}
    for policy in policies:
        runs[policy.name] = run_cycle(
            policy,
            scenario,
            data=data,
            config=config,
            window=window,
            model_name=None if model_names is None else model_names[policy.name],
            execution_id=execution_id,
            initial_model_uri=initial_uri,
            on_month=None if bar is None else bar.step,
            _cache=cache,
        )
    if bar is not None:
        bar.done(f"{len(policies)} policies x {len(scenario.production)} months")
    return runs


def _log_initial_model(
    cache: _Cache,
    data: pd.DataFrame,
    scenario: Scenario,
    config: TrainConfig,
    window: int,
    execution_id: str,
) -> str:
    """Log the first model once (run ``initial-model``); return its ``models:/m-...`` URI."""
    import mlflow

    from utils import experiments, registry, tracking

    eval_month = scenario.history_months - 1
    key = (max(0, eval_month - window), eval_month - 1)
    result = _train(cache, key, data, config)
    with mlflow.start_run(run_name="initial-model", tags={EXECUTION_TAG: execution_id}):
        mlflow.log_params({**config.as_params(), "train_months": f"{key[0]}-{key[1]}"})
        mlflow.log_metrics({k: float(v) for k, v in result.metrics.items()})
        mlflow.set_tags(registry.lineage_tags(result))
        rows = _months(data, eval_month, eval_month)
        info = tracking.log_sklearn_model(
            result.model,
            input_example=experiments.as_model_input(rows[_FEATURES].head(3)),
            pyfunc_predict_fn="predict_proba",
        )
    cache.logged[key] = info
    return str(info.model_uri)


# --------------------------------------------------------------------------- reading back


def registry_promotions(model_name: str, execution_id: str) -> list[AliasMove]:
    """The ``champion`` moves of one execution, read from the registry's history (notebook 10).

    :func:`run_cycle` ends the reason of every promotion with ``[execution <id>]``.

    Raises:
        ValueError: no such registered model; an empty execution ID.
    """
    from utils import registry

    if not isinstance(execution_id, str) or not execution_id.strip():
        raise ValueError("execution_id must be the non-empty ID the cycle was run with.")
    marker = f"[execution {execution_id}]"
    return [m for m in registry.history(model_name, "champion") if m.reason.endswith(marker)]


def compare_policies(runs: Mapping[str, CycleRun] | Sequence[CycleRun]) -> pd.DataFrame:
    """One row per policy: retrainings, promotions, business cost and accuracy (notebook 10).

    Columns: ``policy`` (its description), ``retrains``, ``promotions``, ``rejected``,
    ``total_cost_eur``, ``cost_after_drift_eur``, ``saving_vs_first_eur`` (against the first
    run given, e.g. never retrain), ``mean_accuracy``, ``accuracy_before_drift``,
    ``accuracy_after_drift``. Indexed by policy name. All runs must share one scenario.

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
        before = months[months["month"] < drift]
        after = months[months["month"] >= drift]
        rows.append(
            {
                "name": run.policy.name,
                "policy": run.policy.label,
                "retrains": run.n_retrains,
                "promotions": run.n_promotions,
                "rejected": run.n_retrains - run.n_promotions,
                "total_cost_eur": run.total_cost_eur,
                "cost_after_drift_eur": float(after["cost_eur"].sum()),
                "saving_vs_first_eur": first_cost - run.total_cost_eur,
                "mean_accuracy": float(months["accuracy"].mean()),
                "accuracy_before_drift": float(before["accuracy"].mean())
                if len(before)
                else math.nan,
                "accuracy_after_drift": float(after["accuracy"].mean()) if len(after) else math.nan,
            }
        )
    return pd.DataFrame(rows).set_index("name")


# --------------------------------------------------------------------------- figures

_COLOURS = {"never": "#7f7f7f", "schedule": "#0072b2", "trigger": "#d55e00"}


def policies_figure(
    runs: Mapping[str, CycleRun] | Sequence[CycleRun], *, title: str | None = None
) -> CourseFigure:
    """Accuracy, business cost and cumulative saving per month, one line per policy.

    Introduced in notebook 10 (and its slides). Top: accuracy of each month's decisions, with
    every retraining marked (a filled triangle when the candidate was promoted, an open one
    when the gate rejected it), at the month it serves from. Middle: the month's business cost
    (thousand EUR). Bottom: the cumulative saving against the first run given (EUR). A dashed
    line marks the first month with drift. Returns a new figure.
    """
    from utils.figures import CourseFigure

    items = list(runs.values()) if isinstance(runs, Mapping) else list(runs)
    if not items or not all(isinstance(r, CycleRun) for r in items):
        raise TypeError("Give the CycleRun objects that run_cycle or run_policies returned.")
    scenario = items[0].scenario
    fig = CourseFigure(figsize=(11.0, 8.2), facecolor="white")
    ax_acc, ax_cost, ax_save = fig.subplots(3, 1, sharex=True)
    reference = items[0].months.set_index("month")["cost_eur"]
    for run in items:
        months = run.months
        colour = _COLOURS.get(run.policy.kind, "#009e73")
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
    from matplotlib.lines import Line2D

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
    for ax in (ax_acc, ax_cost, ax_save):
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
    ax_save.set_title(f"Cumulative saving against '{items[0].policy.name}' (EUR)", fontsize=10)
    fig.legend(handles, labels, fontsize=8.5, loc="lower center", ncol=2, frameon=False)
    fig.suptitle(
        title or "Three retraining policies on the same stream", fontsize=12, fontweight="bold"
    )
    fig.tight_layout(rect=(0, 0.09, 1, 1))
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

    from utils.figures import CourseFigure

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
