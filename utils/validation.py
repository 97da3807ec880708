"""Data validation for the churn scenario, and a one-page design of the ML-powered software.

Introduced in notebook 04 (data phase). Two parts:

* **A data schema** (:func:`churn_schema`): what a batch of churn data must look like before a
  model may learn from it or score it: column names and dtypes, ranges with units, the allowed
  levels of each category, unique customer ids, labels 0/1 and timestamps inside their period.
  It is a `pandera <https://pandera.readthedocs.io>`_ schema. :func:`validation_report` checks
  a batch against it and returns a short table (column, check, failing values, count) instead
  of a traceback; :func:`validate` raises :class:`DataValidationError` with that table, for
  pipelines that must stop on bad data (notebooks 07 and 08).
* **A design document** (:class:`DesignDoc`): the decisions of the data phase on one page
  (the decision the model supports, who consumes its predictions, inputs, output, threshold,
  metrics, failure modes). :func:`check_design` says whether it is complete and consistent
  with the data and with the business costs.

The schema only *checks*: it never converts (no coercion), because converting would hide
exactly the problems it is there to find (charges in cents still parse as numbers).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from utils.datasets import (
    CHURN_CATEGORIES,
    CHURN_FEATURES,
    CHURN_FREQUENCIES,
    CHURN_TARGET,
    ChurnCosts,
    _validate_start,
    period_bounds,
)

if TYPE_CHECKING:
    import pandera.pandas as pa

__all__ = [
    "CHURN_COLUMNS",
    "CHURN_LIMITS",
    "DESIGN_FIELDS",
    "EVALUATE_METRICS",
    "MONEY_METRICS",
    "NOT_FEATURES",
    "REPORT_COLUMNS",
    "DataValidationError",
    "DesignDoc",
    "check_design",
    "churn_schema",
    "describe_schema",
    "validate",
    "validation_report",
]

CHURN_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "timestamp",
    "period",
    *CHURN_FEATURES,
    CHURN_TARGET,
)
"""The columns of a churn batch, in the order :func:`utils.datasets.make_churn` returns them."""

NOT_FEATURES: tuple[str, ...] = ("customer_id", "timestamp", "period")
"""Columns that identify a row or place it in time: bookkeeping, never model inputs."""

CHURN_LIMITS: dict[str, tuple[float, float, str]] = {
    "tenure_months": (0, 72, "months; the service started 72 months ago"),
    "monthly_charges": (0.0, 100.0, "EUR per month; no plan with add-ons costs more than 100 EUR"),
    "usage_hours": (0.0, 720.0, "hours in the last 30 days; a 30-day window has 720 hours"),
    "support_calls": (0, 90, "contacts in the last 90 days; at most one a day is plausible"),
    "late_payments": (0, 12, "late payments in the last 12 months; one bill a month"),
}
"""Allowed range (inclusive) of each numeric feature, with its unit and the reason for it."""

_INTEGER_COLUMNS = ("period", "tenure_months", "support_calls", "late_payments", CHURN_TARGET)
_FLOAT_COLUMNS = ("monthly_charges", "usage_hours")
_ID_PATTERN = r"^C\d{7}$"

REPORT_COLUMNS: tuple[str, ...] = ("column", "check", "failing_values", "count")
"""Columns of the table :func:`validation_report` returns."""

# Readable names for pandera's built-in checks.
_BUILTIN_CHECKS = {
    "not_nullable": "no missing values",
    "field_uniqueness": "no duplicate values",
    "column_in_dataframe": "column is present",
    "column_in_schema": "no unexpected columns",
    "column_ordered": "columns in order",
}
_TIME_CHECK = "timestamp inside its period"


def _pandera() -> Any:
    """Import ``pandera.pandas`` on first use, with a clear message when it is missing."""
    try:
        import pandera.pandas as pa
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "utils.validation needs the package pandera (>= 0.35). Use the course's .venv "
            "(run `make lab`), or install it with `pip install 'pandera>=0.35'`."
        ) from None
    return pa


# The same rule as the generator's, so the schema accepts exactly the starts make_churn does.
_check_start = _validate_start


def _timestamps_inside_periods(start: pd.Timestamp, freq: str) -> Any:
    """A frame-wide check: each row's timestamp lies inside the period its ``period`` names."""

    def inside(df: pd.DataFrame) -> pd.Series:
        ok = np.ones(len(df), dtype=bool)
        if "timestamp" not in df or "period" not in df:
            return pd.Series(ok, index=df.index)  # a missing column is reported by its own check
        ts, period = df["timestamp"], df["period"]
        if not pd.api.types.is_datetime64_any_dtype(ts) or not pd.api.types.is_numeric_dtype(
            period
        ):
            return pd.Series(ok, index=df.index)  # a wrong dtype is reported by its own check
        stamps = pd.DatetimeIndex(ts)  # positions, not labels: duplicate index labels are fine
        numbers_ = period.to_numpy(dtype=float, na_value=np.nan)
        for k in np.unique(numbers_[~np.isnan(numbers_)]):
            if k != int(k) or abs(k) > 10_000:
                continue  # not a period number: the range check of `period` reports it
            rows = numbers_ == k
            begin, end = period_bounds(start, freq, int(k))
            chosen = stamps[rows]
            ok[rows] = chosen.isna() | ((chosen >= begin) & (chosen < end))
        return pd.Series(ok, index=df.index)

    return inside


def churn_schema(
    start: Any = "2025-01-06", periods: int = 12, freq: str = "W"
) -> pa.DataFrameSchema:
    """Return the pandera schema of a batch of churn data.

    Introduced in notebook 04 (data phase). Pass the same ``start``, ``periods`` and ``freq``
    as to :func:`utils.datasets.make_churn`. The schema requires:

    * exactly the columns of :data:`CHURN_COLUMNS` (any order), with no missing values;
    * dtypes: ``customer_id`` str, ``timestamp`` datetime64[ns], integer counts, float
      amounts, the four categorical features as ``category``, the label as an integer;
    * ``customer_id`` like ``C0000042`` and unique within the batch;
    * ``period`` in ``0..periods-1`` and every ``timestamp`` inside the period it names;
    * each numeric feature inside its range in :data:`CHURN_LIMITS` (units included);
    * each categorical feature one of the levels in
      :data:`utils.datasets.CHURN_CATEGORIES`;
    * ``churned`` 0 or 1.

    Args:
        start: first day of period 0 (date string, ``datetime.date`` or ``pd.Timestamp``).
        periods: number of periods a batch may span, >= 1.
        freq: ``"W"`` (weeks) or ``"MS"`` (months), as in ``make_churn``.

    Raises:
        TypeError, ValueError: an argument has the wrong type or value; the message says which.
    """
    start_ts = _check_start(start)
    if isinstance(periods, bool) or not isinstance(periods, numbers.Integral):
        raise TypeError(f"periods must be an integer, got {type(periods).__name__}.")
    if periods < 1:
        raise ValueError(f"periods must be >= 1, got {periods}.")
    if not isinstance(freq, str) or freq not in CHURN_FREQUENCIES:
        raise ValueError(f"freq must be one of {list(CHURN_FREQUENCIES)}, got {freq!r}.")
    pa = _pandera()

    def in_range(column: str) -> Any:
        low, high, unit = CHURN_LIMITS[column]
        return pa.Check.in_range(
            low, high, error=f"between {low:g} and {high:g} ({unit.split(';')[0]})"
        )

    columns: dict[str, Any] = {
        "customer_id": pa.Column(
            "str",
            pa.Check.str_matches(_ID_PATTERN, error="looks like C0000042"),
            unique=True,
        ),
        "timestamp": pa.Column("datetime64[ns]"),
        "period": pa.Column(
            "int64", pa.Check.in_range(0, periods - 1, error=f"between 0 and {periods - 1}")
        ),
    }
    for name in CHURN_FEATURES:
        if name in CHURN_LIMITS:
            dtype = "int64" if name in _INTEGER_COLUMNS else "float64"
            columns[name] = pa.Column(dtype, in_range(name))
        else:
            levels = CHURN_CATEGORIES[name]
            columns[name] = pa.Column(
                "category", pa.Check.isin(levels, error="one of: " + ", ".join(levels))
            )
    columns[CHURN_TARGET] = pa.Column("int64", pa.Check.isin([0, 1], error="0 or 1"))
    frame_check = pa.Check(
        _timestamps_inside_periods(start_ts, freq), name="timestamp_in_period", error=_TIME_CHECK
    )
    end = period_bounds(start_ts, freq, int(periods) - 1)[1]
    return pa.DataFrameSchema(
        columns,
        checks=[frame_check],
        strict=True,
        coerce=False,
        name="churn batch",
        description=(
            f"Churn data from {start_ts.date()} to {end.date()} ({periods} periods, freq={freq})"
        ),
    )


def describe_schema(schema: pa.DataFrameSchema) -> pd.DataFrame:
    """A schema as a table a person can read: one row per column (notebook 04, data phase).

    Returns:
        A frame indexed by column name, with ``dtype``, ``unique`` (no duplicates allowed),
        ``missing allowed`` and ``checks`` (the checks' descriptions, separated by ";"); checks
        of whole rows (such as "timestamp inside its period") come last, as ``(every row)``.

    Raises:
        TypeError: ``schema`` is not a pandera DataFrameSchema.
    """
    pa = _pandera()
    if not isinstance(schema, pa.DataFrameSchema):
        raise TypeError(f"schema must be a pandera DataFrameSchema, got {type(schema).__name__}.")
    rows = [
        {
            "column": name,
            "dtype": "any" if column.dtype is None else _dtype_name(column.dtype),
            "unique": bool(column.unique),
            "missing allowed": bool(column.nullable),
            "checks": "; ".join(str(check.error or check.name) for check in column.checks),
        }
        for name, column in schema.columns.items()
    ]
    if schema.checks:
        rows.append(
            {
                "column": "(every row)",
                "dtype": "",
                "unique": bool(schema.unique),
                "missing allowed": False,
                "checks": "; ".join(str(check.error or check.name) for check in schema.checks),
            }
        )
    return pd.DataFrame(rows).set_index("column")


def _format_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    try:
        if pd.isna(value):
            return "missing"
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return str(value)
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


def _examples(values: Iterable[Any], limit: int = 3) -> str:
    seen: list[str] = []
    total = 0
    for value in values:
        text = _format_value(value)
        if text not in seen:
            total += 1
            if len(seen) < limit:
                seen.append(text)
    more = ", ..." if total > limit else ""
    return ", ".join(seen) + more


def validation_report(df: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Check ``df`` against ``schema`` and return what fails, as a short table.

    Introduced in notebook 04 (data phase). Every check runs (pandera's lazy validation), so one
    call lists every problem of the batch, one row per failing (column, check):

    * ``column``: the column concerned;
    * ``check``: what the schema requires, in words (e.g. "between 0 and 100 (EUR per month)",
      "no missing values", "dtype float64");
    * ``failing_values``: up to three distinct offending values (for a wrong dtype: the dtype
      found; for a missing or unexpected column: its name);
    * ``count``: how many rows fail (all rows for a wrong dtype or a missing column).

    Returns:
        The table, with the columns of :data:`REPORT_COLUMNS`; it is **empty** when the batch
        passes every check. Rows follow the schema's column order.

    Raises:
        TypeError: ``df`` is not a DataFrame or ``schema`` is not a pandera DataFrameSchema.
    """
    pa = _pandera()
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"validation_report expects a pandas DataFrame, got {type(df).__name__}.")
    if not isinstance(schema, pa.DataFrameSchema):
        raise TypeError(
            f"schema must be a pandera DataFrameSchema (e.g. churn_schema()), "
            f"got {type(schema).__name__}."
        )
    # Check dtypes first: pandera would test every value of a wrong-dtype column one by one
    # (seconds for a few thousand rows), and a range check means nothing on the wrong dtype.
    wrong = _wrong_dtypes(df, schema)
    rows = [
        _row(name, f"dtype {_dtype_name(schema.columns[name].dtype)}", [found], len(df))
        for name, found in wrong.items()
    ]
    if wrong:
        schema = schema.update_columns({name: {"dtype": None, "checks": []} for name in wrong})
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as errors:
        rows += _rows_from_cases(errors.failure_cases, df)
    order = {name: i for i, name in enumerate(schema.columns)}
    report = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    position = pd.Series([order.get(c, len(order)) for c in report["column"]], dtype="int64")
    report = report.iloc[position.argsort(kind="stable").to_numpy()]
    return report.reset_index(drop=True).astype({"count": "int64"})


def _dtype_name(dtype: Any) -> str:
    """A dtype's name as pandas users know it (pandera calls every string dtype 'string')."""
    text = str(dtype)
    return "str" if text == "str" or text.startswith("string") else text


def _wrong_dtypes(df: pd.DataFrame, schema: Any) -> dict[str, str]:
    """Columns of ``df`` whose dtype the schema does not accept -> the dtype found."""
    from pandera.engines import pandas_engine

    wrong: dict[str, str] = {}
    for name, column in schema.columns.items():
        if name not in df.columns or column.dtype is None:
            continue
        found = df[name].dtype
        try:
            accepted = column.dtype.check(pandas_engine.Engine.dtype(found))
        except TypeError:  # a dtype pandera does not know cannot be the expected one
            accepted = False
        if not accepted:
            wrong[name] = _dtype_name(found)
    return wrong


def _rows_from_cases(cases: pd.DataFrame, df: pd.DataFrame) -> list[dict[str, Any]]:
    """Collapse pandera's failure cases (one row per failing value) to one row per check."""
    rows: list[dict[str, Any]] = []
    cases = cases.astype({"check": str})
    for check, group in cases.groupby("check", sort=False, dropna=False):
        check = str(check)
        if check == _TIME_CHECK:
            # A frame-wide check reports every column of a failing row: keep the timestamps.
            group = group[group["column"] == "timestamp"]
            rows.append(_row("timestamp", check, group["failure_case"], len(group)))
            continue
        if check in ("column_in_dataframe", "column_in_schema"):
            for name in group["failure_case"]:
                rows.append(_row(str(name), _BUILTIN_CHECKS[check], [name], len(df)))
            continue
        for column, cases_of_column in group.groupby("column", sort=False, dropna=False):
            column = str(column)
            name = _BUILTIN_CHECKS.get(check, check)
            rows.append(_row(column, name, cases_of_column["failure_case"], len(cases_of_column)))
    return rows


def _row(column: str, check: str, values: Iterable[Any], count: int) -> dict[str, Any]:
    return {"column": column, "check": check, "failing_values": _examples(values), "count": count}


class DataValidationError(ValueError):
    """A batch of data failed its schema. ``.report`` holds the table of
    :func:`validation_report`; the message shows it as text (notebook 04)."""

    def __init__(self, report: pd.DataFrame, what: str = "The batch") -> None:
        self.report = report
        lines = report.to_string(index=False)
        super().__init__(
            f"{what} failed {len(report)} check(s) of its schema; fix the data or its source "
            f"before training or scoring:\n{lines}"
        )


def validate(df: pd.DataFrame, schema: pa.DataFrameSchema, what: str = "The batch") -> pd.DataFrame:
    """Return ``df`` unchanged if it passes ``schema``; raise :class:`DataValidationError` if not.

    Introduced in notebook 04 (data phase), for pipelines that must stop on bad data.

    Args:
        df: the batch.
        schema: e.g. :func:`churn_schema`.
        what: how the error message names the batch, e.g. ``"Week 12's batch"``.

    Raises:
        DataValidationError: (a ValueError) with the report of :func:`validation_report`.
        TypeError: as :func:`validation_report`.
    """
    report = validation_report(df, schema)
    if not report.empty:
        raise DataValidationError(report, what)
    return df


# ---------------------------------------------------------------------------------------------
# A one-page design of the ML-powered software
# ---------------------------------------------------------------------------------------------

EVALUATE_METRICS: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "business_cost_eur",
    "cost_per_customer_eur",
)
"""Metric names :func:`utils.training.evaluate` computes (with costs); a design's metrics must
be among them, so that every metric in the design is measured by the course's code."""

MONEY_METRICS: tuple[str, ...] = ("business_cost_eur", "cost_per_customer_eur")
"""The metrics in EUR: a design must name at least one, since the decision is about money."""

DESIGN_FIELDS: dict[str, str] = {
    "decision": "The business decision the predictions support, and who takes it.",
    "consumers": "Who or what uses the predictions (people, teams, systems).",
    "output": "What the model returns, for whom and how often.",
    "target": "The label column the model learns to predict.",
    "inputs": "The feature columns the model reads.",
    "threshold": "Act on a customer when the predicted probability is at least this.",
    "metrics": "Offline metrics, by the names utils.training.evaluate uses.",
    "baseline": "What the model must beat to be worth deploying.",
    "failure_modes": "What can go wrong -> how it is noticed and what is done about it.",
}
"""The fields of :class:`DesignDoc` and what each one asks."""

_PLACEHOLDER_RE = re.compile(r"^\s*(\.\.\.|todo|tbd|fill in|\?+)?\s*$", re.IGNORECASE)


def _is_blank(value: Any) -> bool:
    if value is None or value is Ellipsis:
        return True
    if isinstance(value, str):
        return bool(_PLACEHOLDER_RE.match(value))
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, Mapping | list | tuple | set):
        return len(value) == 0
    return False


@dataclass
class DesignDoc:
    """The design of an ML-powered piece of software, on one page (notebook 04, data phase).

    Fill in every field (:data:`DESIGN_FIELDS` says what each asks); ``...`` marks a field
    still to fill in. :func:`check_design` lists what is missing or inconsistent, and a design
    displays as a table in a notebook. ``to_dict()`` gives a plain dict (e.g. for
    ``mlflow.log_dict``).
    """

    decision: str = ...  # type: ignore[assignment]
    consumers: list[str] = field(default_factory=list)
    output: str = ...  # type: ignore[assignment]
    target: str = ...  # type: ignore[assignment]
    inputs: list[str] = field(default_factory=list)
    threshold: float = ...  # type: ignore[assignment]
    metrics: list[str] = field(default_factory=list)
    baseline: str = ...  # type: ignore[assignment]
    failure_modes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The design as a plain dict; fields not filled in are ``None``."""
        data = asdict(self)
        return {k: (None if v is Ellipsis else v) for k, v in data.items()}

    def to_markdown(self) -> str:
        """The design as a two-column Markdown table (field, value)."""

        def cell(value: Any) -> str:
            if _is_blank(value):
                return "*(to fill in)*"
            if isinstance(value, Mapping):
                return "<br>".join(f"**{k}** → {v}" for k, v in value.items())
            if isinstance(value, list | tuple):
                return ", ".join(f"`{v}`" if " " not in str(v) else str(v) for v in value)
            if isinstance(value, float):
                return f"{value:.3g}"
            return str(value)

        lines = ["| field | design |", "|---|---|"]
        for name in DESIGN_FIELDS:
            text = cell(getattr(self, name)).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| **{name.replace('_', ' ')}** | {text} |")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def check_design(
    design: DesignDoc,
    columns: Iterable[str] = CHURN_COLUMNS,
    costs: ChurnCosts | None = None,
    tolerance: float = 0.05,
) -> list[str]:
    """List what is missing or inconsistent in a design; an empty list means it is complete.

    Introduced in notebook 04 (data phase). Checks that:

    * every field of :data:`DESIGN_FIELDS` is filled in (not ``...``, empty or "TODO");
    * the target and every input are columns of the data (``columns``), the target is not an
      input (it would leak the answer) and no input is an identifier or a time stamp
      (:data:`NOT_FEATURES`);
    * the threshold is a probability strictly between 0 and 1 and, when ``costs`` are given,
      within ``tolerance`` of their break-even probability (with calibrated probabilities the
      cheapest threshold);
    * every metric is one that :func:`utils.training.evaluate` computes, and one is in EUR
      (:data:`MONEY_METRICS`);
    * at least three failure modes, each with a non-empty answer (how it is noticed / handled).

    Args:
        design: the design to check.
        columns: the columns of the data the model will get.
        costs: the business costs; ``None`` skips the threshold-versus-costs check.
        tolerance: how far the threshold may be from the break-even probability.

    Returns:
        One sentence per problem, saying what to change.

    Raises:
        TypeError: ``design`` is not a DesignDoc, or ``costs`` is not a ChurnCosts.
    """
    if not isinstance(design, DesignDoc):
        raise TypeError(
            f"check_design expects a DesignDoc, got {type(design).__name__}; build one with "
            "DesignDoc(decision=..., ...)."
        )
    if costs is not None and not isinstance(costs, ChurnCosts):
        raise TypeError(f"costs must be a ChurnCosts or None, got {type(costs).__name__}.")
    known = [str(c) for c in columns]
    problems: list[str] = []
    for name, question in DESIGN_FIELDS.items():
        if _is_blank(getattr(design, name)):
            problems.append(f"Fill in '{name}': {question}")

    for name in ("consumers", "inputs", "metrics"):
        value = getattr(design, name)
        if not _is_blank(value) and (
            isinstance(value, str) or not all(isinstance(v, str) for v in value)
        ):
            problems.append(f"'{name}' must be a list of strings, e.g. ['a', 'b'].")
    target = design.target
    inputs = design.inputs if isinstance(design.inputs, list | tuple) else []
    if isinstance(target, str) and not _is_blank(target):
        if target not in known:
            problems.append(f"The target {target!r} is not a column of the data.")
        if target in inputs:
            problems.append(
                f"The target {target!r} is also an input: the model would read the answer "
                "(target leakage). Remove it from 'inputs'."
            )
    unknown = [c for c in inputs if isinstance(c, str) and c not in known and c != target]
    if unknown:
        problems.append(f"Inputs {unknown} are not columns of the data.")
    bookkeeping = [c for c in inputs if c in NOT_FEATURES]
    if bookkeeping:
        problems.append(
            f"Inputs {bookkeeping} identify a row or place it in time; as features they let the "
            "model memorise customers or periods it will never see again. Remove them."
        )

    threshold = design.threshold
    if not _is_blank(threshold):
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            problems.append(f"'threshold' must be a number between 0 and 1, got {threshold!r}.")
        elif not 0.0 < float(threshold) < 1.0:
            problems.append(
                f"'threshold' is a probability strictly between 0 and 1, got {threshold}."
            )
        elif costs is not None:
            best = costs.break_even_probability()
            if abs(float(threshold) - best) > tolerance:
                problems.append(
                    f"The threshold {threshold} does not match the business costs: contacting a "
                    f"customer pays off above the break-even probability {best:.2f} "
                    "(ChurnCosts.break_even_probability())."
                )

    metrics = design.metrics if isinstance(design.metrics, list | tuple) else []
    strange = [m for m in metrics if m not in EVALUATE_METRICS]
    if strange:
        problems.append(
            f"Metrics {strange} are not computed by utils.training.evaluate; use names from "
            f"{list(EVALUATE_METRICS)}."
        )
    if metrics and not any(m in MONEY_METRICS for m in metrics):
        problems.append(
            f"No metric is in money: add one of {list(MONEY_METRICS)}, the cost of the "
            "decisions the model drives."
        )

    modes = design.failure_modes
    if not _is_blank(modes):
        if not isinstance(modes, Mapping):
            problems.append("'failure_modes' must be a dict: what can go wrong -> what is done.")
        else:
            if len(modes) < 3:
                problems.append(
                    f"Only {len(modes)} failure mode(s): name at least 3 (think of the data, "
                    "the model, and the people or systems that use the predictions)."
                )
            empty = [k for k, v in modes.items() if _is_blank(v)]
            if empty:
                problems.append(
                    f"Failure modes {empty} have no answer: say how you notice each one and "
                    "what you do."
                )
    return problems
