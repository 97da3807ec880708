"""Configuration: every setting of the churn service in one validated, diffable object.

Component "Configuration" of Sculley et al. (2015), Figure 1. The paper lists what a good
configuration system makes easy: to specify a configuration as a small change from a previous
one (:meth:`ServiceConfig.replace`), to avoid manual errors (unknown or misspelt settings are
rejected, with a suggestion), to see the difference between two configurations
(:meth:`ServiceConfig.diff`), to check basic facts automatically (validation on creation) and to
keep configurations in files that are reviewed and versioned (:meth:`ServiceConfig.save`).

Introduced in notebook 02 (``02_hidden_technical_debt``).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.datasets import CHURN_CATEGORICAL, CHURN_NUMERIC
from utils.monitoring import PSI_MAJOR
from utils.service.features import DERIVED_FEATURES
from utils.service.model import MODEL_KINDS

_DEFAULT_CATEGORICAL = tuple(c for c in CHURN_CATEGORICAL if c != "region")


def _names(value: object, field: str, allowed: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"{field} must be a list of column names, got {value!r}.")
    names = tuple(value)
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"{field}: unknown column(s) {unknown}; valid: {list(allowed)}.")
    if len(set(names)) != len(names):
        raise ValueError(f"{field} lists a column twice: {list(names)}.")
    return names


def _number(value: object, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{field} must be a number, got {value!r}.")
    value = float(value)
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{field} must be between {low} and {high}, got {value}.")
    return value


def _integer(value: object, field: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{field} must be an integer, got {value!r}.")
    if value < low:
        raise ValueError(f"{field} must be >= {low}, got {value}.")
    return int(value)


@dataclass(frozen=True)
class ServiceConfig:
    """All settings of the churn service. Invalid values raise at creation, not in production.

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Attributes:
        model: the estimator, one of :data:`utils.service.model.MODEL_KINDS`.
        numeric: raw numeric columns used as features.
        categorical: categorical columns used as features (one-hot encoded). ``region`` is left
            out by default: it has no effect on churn, so it would only add a dependency.
        derived: derived features, see :data:`utils.service.features.DERIVED_FEATURES`.
        threshold: churn probability at or above which a customer gets a retention offer.
        seed: the one seed of the data and the estimator.
        n_per_period: customers per weekly batch.
        train_periods: weeks used for training; the next ``test_periods`` weeks test the model.
        test_periods: weeks used for testing.
        min_roc_auc: quality gate: a model below this test ROC AUC is not deployed.
        max_offer_rate: action limit: when a batch would send offers to more than this share of
            its customers, the service sends none and raises an alert.
        drift_psi_alert: a feature whose population stability index reaches this raises an
            alert (default: the rule of thumb for a major change, see
            :mod:`utils.service.monitoring`).
        min_batch_for_checks: the action limit and the drift check apply to batches of at least
            this many customers (the share of a tiny batch says little).
        max_threads: threads that native code may use in training and scoring.
        memory_budget_mb: largest frame (in MB) a job may hold in memory.
        max_batch_rows: largest number of rows in one request, and the chunk size when scoring.
    """

    model: str = "logistic_regression"
    numeric: tuple[str, ...] = CHURN_NUMERIC
    categorical: tuple[str, ...] = _DEFAULT_CATEGORICAL
    derived: tuple[str, ...] = ("log_usage",)
    threshold: float = 0.33
    seed: int = 0
    n_per_period: int = 1000
    train_periods: int = 8
    test_periods: int = 4
    min_roc_auc: float = 0.75
    max_offer_rate: float = 0.6
    drift_psi_alert: float = PSI_MAJOR
    min_batch_for_checks: int = 50
    max_threads: int = 1
    memory_budget_mb: float = 256.0
    max_batch_rows: int = 10_000

    def __post_init__(self) -> None:
        if self.model not in MODEL_KINDS:
            raise ValueError(f"Unknown model {self.model!r}; valid: {list(MODEL_KINDS)}.")
        fix = object.__setattr__
        fix(self, "numeric", _names(self.numeric, "numeric", CHURN_NUMERIC))
        fix(self, "categorical", _names(self.categorical, "categorical", CHURN_CATEGORICAL))
        fix(self, "derived", _names(self.derived, "derived", tuple(DERIVED_FEATURES)))
        if not (self.numeric or self.categorical or self.derived):
            raise ValueError("The service needs at least one feature.")
        for name, low, high in (
            ("threshold", 0.0, 1.0),
            ("min_roc_auc", 0.0, 1.0),
            ("max_offer_rate", 0.0, 1.0),
            ("drift_psi_alert", 0.0, math.inf),
            ("memory_budget_mb", 0.01, 1e6),
        ):
            fix(self, name, _number(getattr(self, name), name, low, high))
        for name, low in (
            ("seed", 0),
            ("n_per_period", 1),
            ("train_periods", 1),
            ("test_periods", 1),
            ("min_batch_for_checks", 1),
            ("max_threads", 1),
            ("max_batch_rows", 1),
        ):
            fix(self, name, _integer(getattr(self, name), name, low))

    @property
    def features(self) -> tuple[str, ...]:
        """Every column the model sees: numeric, derived, then categorical."""
        return self.numeric + self.derived + self.categorical

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-friendly dict (tuples become lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceConfig:
        """Build a config from a dict; settings not given keep their defaults.

        Raises:
            ValueError: a key is not a setting (the message suggests the closest one, so a
                typo such as ``"treshold"`` cannot silently fall back to the default).
            TypeError: ``data`` is not a mapping, or a value has the wrong type.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"A configuration is a dict of settings, got {type(data).__name__}.")
        known = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"Unknown setting {key!r}.{hint} Valid settings: {known}.")
        return cls(**dict(data))

    def replace(self, **changes: Any) -> ServiceConfig:
        """A new config that differs from this one only in ``changes`` (validated the same way).

        Raises:
            ValueError: a name in ``changes`` is not a setting.
        """
        return self.from_dict({**self.to_dict(), **changes})

    def diff(self, other: ServiceConfig) -> dict[str, tuple[Any, Any]]:
        """The settings that differ: name -> (value here, value in ``other``)."""
        if not isinstance(other, ServiceConfig):
            raise TypeError(f"diff compares two ServiceConfig objects, got {type(other).__name__}.")
        mine, theirs = self.to_dict(), other.to_dict()
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}

    def save(self, path: str | Path) -> Path:
        """Write the config as indented JSON (to review and version it) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> ServiceConfig:
        """Read a config written by :meth:`save` (or by hand) and validate it.

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: the file is not valid JSON or holds an invalid setting.
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error}") from None
        return cls.from_dict(data)
