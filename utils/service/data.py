"""Data collection: weekly customer batches, landed as files and read back with their types.

Component "Data collection" of Sculley et al. (2015), Figure 1. The source system is simulated by
:func:`utils.datasets.make_churn` (the course scenario); the service lands one CSV file per week
in a folder (its small "warehouse") and reads batches back, validated and with the types the
rest of the service expects. Introduced in notebook 02 (``02_hidden_technical_debt``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from utils.datasets import CHURN_CATEGORIES, CHURN_TARGET, make_churn
from utils.service.config import ServiceConfig
from utils.service.validation import SCHEMA, require_valid

_BATCH = re.compile(r"^week_(\d{3})\.csv$")


def collect(
    config: ServiceConfig,
    weeks: Iterable[int],
    covariate_drift: float = 0.0,
    concept_drift: float = 0.0,
    drift_start: int = 0,
) -> pd.DataFrame:
    """Pull the customers of the given weeks from the (simulated) source system.

    Introduced in notebook 02 (``02_hidden_technical_debt``). Week ``k`` holds
    ``config.n_per_period`` customers; the same week and seed always give the same customers.

    Args:
        config: gives the seed and the batch size.
        weeks: week numbers, each >= 0.
        covariate_drift, concept_drift, drift_start: passed to
            :func:`utils.datasets.make_churn`, to simulate a changing world.

    Raises:
        ValueError: no weeks, or a negative week.
    """
    weeks = sorted(set(int(w) for w in weeks))
    if not weeks or weeks[0] < 0:
        raise ValueError(f"weeks must be week numbers >= 0, got {weeks}.")
    frame = make_churn(
        n_per_period=config.n_per_period,
        periods=weeks[-1] + 1,
        seed=config.seed,
        covariate_drift=covariate_drift,
        concept_drift=concept_drift,
        drift_start=min(drift_start, weeks[-1] + 1),
    )
    return frame[frame["period"].isin(weeks)].reset_index(drop=True)


def land_batches(frame: pd.DataFrame, folder: str | Path) -> list[Path]:
    """Write one CSV file per week (``week_NNN.csv``) into ``folder``; return the paths.

    An existing file of the same week is replaced. Introduced in notebook 02.

    Raises:
        ValueError: ``frame`` has no ``period`` column.
    """
    if "period" not in frame.columns:
        raise ValueError("land_batches needs the 'period' column to know each row's week.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for week, batch in frame.groupby("period", sort=True):
        path = folder / f"week_{int(week):03d}.csv"
        batch.to_csv(path, index=False)
        paths.append(path)
    return paths


def available_weeks(folder: str | Path) -> list[int]:
    """The week numbers that have a batch file in ``folder`` (sorted). Introduced in notebook 02."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = (_BATCH.match(p.name) for p in folder.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


def coerce(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a validated batch the service's types: whole numbers as int64, categories with the
    fixed levels of the scenario, ids as strings. Introduced in notebook 02.

    Raises:
        ValueError: a categorical column holds a level the scenario does not know.
    """
    out = frame.copy()
    for name, rule in SCHEMA.items():
        if name not in out.columns:
            continue
        if rule.kind == "int":
            out[name] = out[name].astype("int64")
        elif rule.kind == "float":
            out[name] = out[name].astype("float64")
        elif rule.kind == "category":
            values = out[name].astype(str)
            unknown = sorted(set(values) - set(CHURN_CATEGORIES[name]))
            if unknown:
                raise ValueError(f"{name}: unknown level(s) {unknown}; validate the batch first.")
            out[name] = pd.Categorical(values, categories=CHURN_CATEGORIES[name])
        else:
            out[name] = out[name].astype(str)
    if CHURN_TARGET in out.columns:
        out[CHURN_TARGET] = out[CHURN_TARGET].astype("int64")
    if "timestamp" in out.columns:
        out["timestamp"] = pd.to_datetime(out["timestamp"])
    return out


def read_batches(folder: str | Path, weeks: Iterable[int]) -> pd.DataFrame:
    """Read the given weeks' files from ``folder``, validate them and return one typed frame.

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Raises:
        FileNotFoundError: a week has no file (the message lists the weeks that do).
        DataValidationError: a batch breaks the schema (a ValueError listing the problems).
    """
    folder = Path(folder)
    frames = []
    for week in sorted(set(weeks)):
        path = folder / f"week_{week:03d}.csv"
        if not path.is_file():
            raise FileNotFoundError(
                f"No batch for week {week} in {folder}; available: {available_weeks(folder)}."
            )
        raw = pd.read_csv(path, dtype={"customer_id": str})
        frames.append(coerce(require_valid(raw, require_label=True)))
    if not frames:
        raise ValueError("read_batches needs at least one week.")
    return pd.concat(frames, ignore_index=True)
