"""Process management: the training job, step by step, timed, with a quality gate at the end.

Component "Process management tools" of Sculley et al. (2015), Figure 1. One function,
:func:`run_training`, reads the landed batches, verifies them, builds the features, trains and
evaluates the model, and decides whether it may be deployed. Every step is recorded, so a failed
or slow run says where. Introduced in notebook 02 (``02_hidden_technical_debt``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from utils.datasets import CHURN_TARGET, fingerprint
from utils.service.config import ServiceConfig
from utils.service.data import read_batches
from utils.service.evaluation import score
from utils.service.features import build_features
from utils.service.model import ChurnModel
from utils.service.resources import check_memory, limit_threads


@dataclass(frozen=True)
class Step:
    """One step of a training run: its name, how long it took (s) and what it found."""

    name: str
    seconds: float
    detail: str


@dataclass
class TrainingRun:
    """What :func:`run_training` returns. Introduced in notebook 02.

    Attributes:
        config: the configuration of the run.
        model: the fitted :class:`~utils.service.model.ChurnModel`.
        metrics: test metrics from :func:`~utils.service.evaluation.score`.
        passed_gate: True if the test ROC AUC reached ``config.min_roc_auc``.
        reference: the training feature table (the monitor compares live inputs with it).
        data_fingerprint: content hash of the data read (:func:`utils.datasets.fingerprint`).
        steps: the steps, in order, with their durations.
    """

    config: ServiceConfig
    model: ChurnModel
    metrics: dict[str, float]
    passed_gate: bool
    reference: pd.DataFrame
    data_fingerprint: str
    steps: list[Step] = field(default_factory=list)

    def step_table(self) -> pd.DataFrame:
        """The steps as a table: step, seconds, detail."""
        return pd.DataFrame([vars(s) for s in self.steps]).rename(columns={"name": "step"})


def run_training(
    config: ServiceConfig,
    warehouse: str | Path,
    on_step: Callable[[Step], None] | None = None,
) -> TrainingRun:
    """Train the service's model on the landed weeks and gate it on its test ROC AUC.

    Weeks ``0 .. train_periods - 1`` train the model, the next ``test_periods`` weeks test it
    (a split by time: the model is judged on weeks it has not seen, as in production).
    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Args:
        config: the service configuration.
        warehouse: the folder written by :func:`utils.service.data.land_batches`.
        on_step: called with each :class:`Step` as it finishes (e.g. to show progress).

    Raises:
        FileNotFoundError: a week is missing from the warehouse.
        DataValidationError: a batch breaks the schema.
        ValueError: the data exceed the memory budget.
    """
    steps: list[Step] = []

    def record(name: str, started: float, detail: str) -> None:
        step = Step(name, time.perf_counter() - started, detail)
        steps.append(step)
        if on_step is not None:
            on_step(step)

    weeks = range(config.train_periods + config.test_periods)
    started = time.perf_counter()
    data = read_batches(warehouse, weeks)
    record("read and verify", started, f"{len(data)} rows from {len(weeks)} weekly batches")

    started = time.perf_counter()
    size = check_memory(data, config.memory_budget_mb)
    features = build_features(data, config)
    record("features", started, f"{features.shape[1]} features, {size:.1f} MB in memory")

    is_train = data["period"] < config.train_periods
    X_train, y_train = features[is_train], data.loc[is_train, CHURN_TARGET]
    X_test, y_test = features[~is_train], data.loc[~is_train, CHURN_TARGET]
    started = time.perf_counter()
    with limit_threads(config.max_threads):
        model = ChurnModel(config.model, seed=config.seed).fit(X_train, y_train)
        proba = model.predict_proba(X_test)
    record("train", started, f"{config.model} on {len(X_train)} rows")

    started = time.perf_counter()
    metrics = score(y_test, proba, config.threshold)
    passed = metrics["roc_auc"] >= config.min_roc_auc
    verdict = "passed" if passed else "FAILED"
    detail = f"test ROC AUC {metrics['roc_auc']:.3f} vs gate {config.min_roc_auc}: {verdict}"
    record("evaluate and gate", started, detail)
    return TrainingRun(
        config=config,
        model=model,
        metrics=metrics,
        passed_gate=passed,
        reference=X_train.reset_index(drop=True),
        data_fingerprint=fingerprint(data),
        steps=steps,
    )
