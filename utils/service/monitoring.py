"""Monitoring: what the service sees and does, and alerts when inputs drift or actions spike.

Component "Monitoring" of Sculley et al. (2015), Figure 1. The paper's advice for a changing
world: watch the inputs (here the population stability index of every feature against the
training data), the predictions, and the actions taken (an action limit stops the service from
acting on an absurd batch). Introduced in notebook 02 (``02_hidden_technical_debt``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd


def psi(
    reference: pd.Series | np.ndarray, current: pd.Series | np.ndarray, bins: int = 10
) -> float:
    """Population stability index of ``current`` against ``reference`` (0 = same distribution).

    Numbers are binned at the reference's deciles (``bins`` quantiles), categories by level;
    ``PSI = sum((c - r) * ln(c / r))`` over the bins' shares ``r`` and ``c``. A common rule of
    thumb reads below 0.1 as stable and above 0.2 as a shift worth a look. Introduced in
    notebook 02 (``02_hidden_technical_debt``).

    Raises:
        ValueError: an input is empty, or ``bins`` < 2.
    """
    ref, cur = pd.Series(reference).dropna(), pd.Series(current).dropna()
    if ref.empty or cur.empty:
        raise ValueError("psi needs non-empty reference and current values.")
    if bins < 2:
        raise ValueError(f"bins must be >= 2, got {bins}.")
    if pd.api.types.is_numeric_dtype(ref) and not pd.api.types.is_bool_dtype(ref):
        edges = np.unique(np.quantile(ref.to_numpy(float), np.linspace(0, 1, bins + 1)[1:-1]))
        ref_counts = np.bincount(
            np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1
        )
        cur_counts = np.bincount(
            np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1
        )
    else:
        levels = sorted(set(ref.astype(str)) | set(cur.astype(str)))
        ref_counts = ref.astype(str).value_counts().reindex(levels, fill_value=0).to_numpy()
        cur_counts = cur.astype(str).value_counts().reindex(levels, fill_value=0).to_numpy()
    r = np.clip(ref_counts / ref_counts.sum(), 1e-4, None)
    c = np.clip(cur_counts / cur_counts.sum(), 1e-4, None)
    return float(np.sum((c - r) * np.log(c / r)))


@dataclass(frozen=True)
class Alert:
    """One alert: the batch number that raised it, its kind and a readable message."""

    batch: int
    kind: str
    message: str


class Monitor:
    """Collects what the service sees per batch and raises alerts. Safe to share between threads.

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Args:
        reference: the training feature table (``TrainingRun.reference``).
        psi_alert: a feature whose PSI exceeds this raises a ``drift`` alert.
    """

    def __init__(self, reference: pd.DataFrame, psi_alert: float = 0.2) -> None:
        if not isinstance(reference, pd.DataFrame) or reference.empty:
            raise ValueError("Monitor needs the (non-empty) training feature table as reference.")
        self.reference = reference
        self.psi_alert = float(psi_alert)
        self.batches: list[dict[str, float]] = []
        self.alerts: list[Alert] = []
        self._lock = threading.Lock()

    def drift(self, features: pd.DataFrame) -> pd.Series:
        """PSI of every reference feature in ``features`` against the reference (a Series)."""
        values = {c: psi(self.reference[c], features[c]) for c in self.reference.columns}
        return pd.Series(values, name="psi")

    def observe(
        self,
        features: pd.DataFrame,
        proba: np.ndarray,
        offers: int,
        latency_s: float,
        check_drift: bool = True,
    ) -> list[Alert]:
        """Record one scored batch; return the alerts it raised (also kept in ``alerts``).

        Args:
            features: the batch's feature table.
            proba: the churn probabilities the model gave.
            offers: how many retention offers the service actually made for this batch.
            latency_s: time to answer the request, in seconds.
            check_drift: compare the batch with the reference (skip it for tiny batches,
                whose statistics say little).
        """
        drift = self.drift(features) if check_drift else pd.Series(dtype=float)
        with self._lock:
            number = len(self.batches)
            self.batches.append(
                {
                    "rows": float(len(features)),
                    "latency_ms": 1000.0 * latency_s,
                    "mean_predicted": float(np.mean(proba)),
                    "offers": float(offers),
                    "max_psi": float(drift.max()) if len(drift) else float("nan"),
                }
            )
            new = [
                Alert(number, "drift", f"{name}: PSI {value:.2f} > {self.psi_alert:g}")
                for name, value in drift.items()
                if value > self.psi_alert
            ]
            self.alerts.extend(new)
        return new

    def alert(self, kind: str, message: str) -> Alert:
        """Raise an alert that is not about drift (e.g. an action limit hit); return it."""
        with self._lock:
            alert = Alert(max(len(self.batches) - 1, 0), kind, message)
            self.alerts.append(alert)
        return alert

    def summary(self) -> dict[str, float]:
        """Totals over all batches: batches, rows, offers, mean latency (ms), mean predicted
        churn probability (weighted by rows), and the number of alerts."""
        with self._lock:
            table = pd.DataFrame(self.batches)
            alerts = len(self.alerts)
        if table.empty:
            return {"batches": 0.0, "rows": 0.0, "offers": 0.0, "alerts": float(alerts)}
        rows = table["rows"].sum()
        return {
            "batches": float(len(table)),
            "rows": float(rows),
            "offers": float(table["offers"].sum()),
            "mean_latency_ms": float(table["latency_ms"].mean()),
            "mean_predicted": float((table["mean_predicted"] * table["rows"]).sum() / rows),
            "alerts": float(alerts),
        }
