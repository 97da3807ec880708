"""Monitoring: what the service sees and does, and alerts when inputs drift or actions spike.

Component "Monitoring" of Sculley et al. (2015), Figure 1. The paper's advice for a changing
world: watch the inputs (here the population stability index of every feature against the
training data), the predictions, and the actions taken (an action limit stops the service from
acting on an absurd batch). Introduced in notebook 02 (``02_hidden_technical_debt``).

The drift statistic is the course's one PSI, :func:`utils.monitoring.psi`, and its alert level
is the rule of thumb for a major change, :data:`utils.monitoring.PSI_MAJOR` (0.25). This monitor
is smaller than notebook 09's :class:`utils.monitoring.Monitor` on purpose: it alerts on the PSI
alone, without a statistical test, so it uses the "major" band (with 10 bins the PSI of a batch
of 50 rows is about 0.18 by chance alone, above the "moderate" 0.1). Missing values never reach
it: data verification rejects such a batch first, and the PSI refuses them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from utils.monitoring import PSI_MAJOR, psi


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
        psi_alert: a feature whose PSI reaches this raises a ``drift`` alert.
    """

    def __init__(self, reference: pd.DataFrame, psi_alert: float = PSI_MAJOR) -> None:
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
                Alert(number, "drift", f"{name}: PSI {value:.2f} >= {self.psi_alert:g}")
                for name, value in drift.items()
                if value >= self.psi_alert
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
