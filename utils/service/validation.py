"""Data verification: check every batch against a schema before it is used.

Component "Data verification" of Sculley et al. (2015), Figure 1. A batch that breaks the schema
is rejected with a list of every problem found, instead of flowing silently into training or
into a prediction. Introduced in notebook 02 (``02_hidden_technical_debt``).

The allowed ranges are the course's one set, :data:`utils.validation.CHURN_LIMITS` (each with
its unit and reason). The checks stay small and pandas-only on purpose: the service is a
standalone example whose every line notebook 02 counts, while notebook 04 teaches the full
pandera schema (:func:`utils.validation.churn_schema`) on the same ranges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from utils.datasets import CHURN_CATEGORIES, CHURN_TARGET
from utils.validation import CHURN_LIMITS


@dataclass(frozen=True)
class ColumnRule:
    """What one column must hold: kind (``"int"``, ``"float"``, ``"category"``, ``"id"``),
    an allowed range for numbers, allowed levels for categories."""

    kind: str
    low: float = -math.inf
    high: float = math.inf
    levels: tuple[str, ...] = ()


#: The service's schema: what the raw customer columns must hold (ranges: ``CHURN_LIMITS``).
SCHEMA: dict[str, ColumnRule] = {
    "customer_id": ColumnRule("id"),
    **{  # whole-number columns have whole-number limits in CHURN_LIMITS (0, not 0.0)
        name: ColumnRule("float" if isinstance(low, float) else "int", low, high)
        for name, (low, high, _) in CHURN_LIMITS.items()
    },
    **{name: ColumnRule("category", levels=levels) for name, levels in CHURN_CATEGORIES.items()},
}
LABEL_RULE = ColumnRule("int", 0, 1)


class DataValidationError(ValueError):
    """A batch broke the schema; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"The batch was rejected, {len(self.problems)} problem(s): " + "; ".join(self.problems)
        )


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of :func:`validate`: the number of rows checked and the problems found."""

    n_rows: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def _check_column(name: str, values: pd.Series, rule: ColumnRule) -> list[str]:
    problems = []
    n_missing = int(values.isna().sum())
    if n_missing:
        problems.append(f"{name}: {n_missing} missing value(s)")
    present = values.dropna()
    if rule.kind in ("int", "float"):
        if not pd.api.types.is_numeric_dtype(present) or pd.api.types.is_bool_dtype(present):
            return problems + [f"{name}: expected numbers, got dtype {values.dtype}"]
        if rule.kind == "int" and not (present == present.round()).all():
            problems.append(f"{name}: expected whole numbers")
        outside = present[(present < rule.low) | (present > rule.high)]
        if len(outside):
            problems.append(
                f"{name}: {len(outside)} value(s) outside [{rule.low:g}, {rule.high:g}], "
                f"e.g. {outside.tolist()[0]!r}"
            )
    elif rule.kind == "category":
        unknown = sorted(set(present.astype(str)) - set(rule.levels))
        if unknown:
            problems.append(f"{name}: unknown level(s) {unknown}; allowed {list(rule.levels)}")
    elif rule.kind == "id":
        duplicated = present[present.duplicated()]
        if len(duplicated):
            problems.append(
                f"{name}: {len(duplicated)} duplicate id(s), e.g. {duplicated.tolist()[0]!r}"
            )
    return problems


def validate(
    frame: pd.DataFrame, columns: Sequence[str] | None = None, require_label: bool = False
) -> ValidationReport:
    """Check a batch against :data:`SCHEMA` and report every problem (it never raises on data).

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Args:
        frame: the batch.
        columns: the schema columns to check (default: all of :data:`SCHEMA`).
        require_label: also require the label column ``churned`` with values 0 or 1.

    Raises:
        TypeError: ``frame`` is not a DataFrame.
        ValueError: ``columns`` names a column the schema does not know.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"validate expects a DataFrame, got {type(frame).__name__}.")
    columns = list(SCHEMA) if columns is None else list(columns)
    unknown = [c for c in columns if c not in SCHEMA]
    if unknown:
        raise ValueError(f"The schema has no column(s) {unknown}; it knows {list(SCHEMA)}.")
    rules = {c: SCHEMA[c] for c in columns}
    if require_label:
        rules[CHURN_TARGET] = LABEL_RULE
    problems = [] if len(frame) else ["the batch is empty"]
    for name, rule in rules.items():
        if name not in frame.columns:
            problems.append(f"{name}: column missing")
        else:
            problems.extend(_check_column(name, frame[name], rule))
    return ValidationReport(len(frame), tuple(problems))


def require_valid(
    frame: pd.DataFrame, columns: Sequence[str] | None = None, require_label: bool = False
) -> pd.DataFrame:
    """Return ``frame`` unchanged if it passes :func:`validate`, else raise.

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Raises:
        DataValidationError: (a ValueError) listing every problem found.
    """
    report = validate(frame, columns, require_label)
    if not report.ok:
        raise DataValidationError(report.problems)
    return frame
