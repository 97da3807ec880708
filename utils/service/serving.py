"""Serving infrastructure: the model bundle on disk, JSON requests in, decisions out, over HTTP.

Component "Serving infrastructure" of Sculley et al. (2015), Figure 1. A request is a JSON object
``{"customers": [{...}, ...]}`` with the raw customer columns; the answer gives each customer's
churn probability and whether to send a retention offer. On the way the batch is verified
against the schema, typed, turned into features by the same code as in training, scored in
chunks, checked against the action limit and recorded by the monitor.

Introduced in notebook 02 (``02_hidden_technical_debt``).
"""

from __future__ import annotations

import json
import pickle
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from utils.service.config import ServiceConfig
from utils.service.data import coerce
from utils.service.features import DERIVED_FEATURES, build_features
from utils.service.model import ChurnModel
from utils.service.monitoring import Monitor
from utils.service.pipeline import TrainingRun
from utils.service.resources import chunks, limit_threads
from utils.service.validation import DataValidationError, validate

_INPUT_COLUMNS = ("customer_id",)


@dataclass
class ModelBundle:
    """Everything serving needs, saved as one file: the model, its config, the training
    features (for monitoring), its test metrics and a version string. Introduced in notebook 02."""

    config: ServiceConfig
    model: ChurnModel
    reference: pd.DataFrame
    metrics: dict[str, float]
    version: str


def bundle_from_run(run: TrainingRun) -> ModelBundle:
    """Package a training run for serving; only a run that passed its quality gate may be served.

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Raises:
        ValueError: the run failed its gate.
    """
    if not run.passed_gate:
        raise ValueError(
            f"This model failed its quality gate (test ROC AUC {run.metrics['roc_auc']:.3f} < "
            f"{run.config.min_roc_auc}); it may not be served."
        )
    version = f"{run.config.model}-{run.data_fingerprint[:8]}"
    return ModelBundle(run.config, run.model, run.reference, dict(run.metrics), version)


def save_bundle(bundle: ModelBundle, path: str | Path) -> Path:
    """Write the bundle to ``path`` (a pickle file) and return the path. Introduced in notebook 02.

    Only load bundles you wrote yourself: unpickling runs code from the file.
    """
    if not isinstance(bundle, ModelBundle):
        raise TypeError(f"save_bundle expects a ModelBundle, got {type(bundle).__name__}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(bundle))
    return path


def load_bundle(path: str | Path) -> ModelBundle:
    """Read a bundle written by :func:`save_bundle`. Introduced in notebook 02.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file does not hold a ModelBundle.
    """
    bundle = pickle.loads(Path(path).read_bytes())
    if not isinstance(bundle, ModelBundle):
        raise ValueError(f"{path} holds a {type(bundle).__name__}, not a ModelBundle.")
    return bundle


def to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-friendly dicts (plain str, int and float values), e.g. for a request body.

    Introduced in notebook 02 (``02_hidden_technical_debt``).
    """
    text = frame.to_json(orient="records", date_format="iso")
    return json.loads(text)


class ChurnService:
    """The prediction service: validated JSON in, probabilities and offer decisions out.

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Args:
        bundle: the model bundle to serve.
        monitor: where to record batches and alerts (default: a new one on the bundle's
            reference data).
    """

    def __init__(self, bundle: ModelBundle, monitor: Monitor | None = None) -> None:
        if not isinstance(bundle, ModelBundle):
            raise TypeError(f"ChurnService needs a ModelBundle, got {type(bundle).__name__}.")
        self.bundle = bundle
        self.config = bundle.config
        self.monitor = monitor or Monitor(bundle.reference, bundle.config.drift_psi_alert)

    def _columns(self) -> list[str]:
        needed = set(self.config.numeric) | set(self.config.categorical)
        for name in self.config.derived:
            needed |= set(DERIVED_FEATURES[name][1])
        return [*_INPUT_COLUMNS, *sorted(needed)]

    def predict(self, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Score a batch of customers given as dicts of raw columns.

        Returns:
            ``model_version``, ``threshold``, ``action_limit_hit`` (True when more than
            ``max_offer_rate`` of the batch would get an offer: then nobody gets one; checked
            for batches of at least ``min_batch_for_checks`` customers),
            ``predictions`` (``customer_id``, ``churn_probability``, ``offer`` per customer)
            and ``alerts`` (messages raised by this batch).

        Raises:
            ValueError: the batch is empty or larger than ``max_batch_rows``.
            DataValidationError: the batch breaks the schema (every problem is listed).
        """
        started = time.perf_counter()
        if isinstance(records, Mapping) or not isinstance(records, Sequence) or not records:
            raise ValueError("Send a non-empty list of customers (dicts of column -> value).")
        if len(records) > self.config.max_batch_rows:
            raise ValueError(
                f"{len(records)} customers in one request; the limit is "
                f"{self.config.max_batch_rows}. Split the batch."
            )
        columns = self._columns()
        frame = pd.DataFrame.from_records(list(records))
        report = validate(frame, columns)
        if not report.ok:
            raise DataValidationError(report.problems)
        features = build_features(coerce(frame[columns]), self.config)
        proba = np.empty(len(features))
        with limit_threads(self.config.max_threads):
            for part in chunks(len(features), self.config.max_batch_rows):
                proba[part] = self.bundle.model.predict_proba(features.iloc[part])
        offer = proba >= self.config.threshold
        would_offer = float(offer.mean())
        checked = len(features) >= self.config.min_batch_for_checks
        limit_hit = checked and would_offer > self.config.max_offer_rate
        if limit_hit:
            offer[:] = False
        latency = time.perf_counter() - started
        alerts = self.monitor.observe(features, proba, int(offer.sum()), latency, checked)
        if limit_hit:
            message = (
                f"{would_offer:.1%} of the batch would get an offer (limit "
                f"{self.config.max_offer_rate:.0%}): no offers sent"
            )
            alerts.append(self.monitor.alert("action limit", message))
        return {
            "model_version": self.bundle.version,
            "threshold": self.config.threshold,
            "action_limit_hit": limit_hit,
            "predictions": [
                {"customer_id": str(c), "churn_probability": round(float(p), 4), "offer": bool(o)}
                for c, p, o in zip(frame["customer_id"], proba, offer, strict=True)
            ],
            "alerts": [a.message for a in alerts],
        }

    def handle(self, method: str, path: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
        """Answer one HTTP request: ``GET /health``, ``GET /metrics`` or ``POST /predict``.

        Returns ``(status code, JSON-able dict)``; errors become 400 (bad JSON), 404, 405,
        413 (too many rows) or 422 (the batch broke the schema) with an ``error`` message.
        """
        routes = {"/health": "GET", "/metrics": "GET", "/predict": "POST"}
        if path not in routes:
            return 404, {"error": f"No route {path}; try {sorted(routes)}."}
        if method != routes[path]:
            return 405, {"error": f"{path} takes {routes[path]}, not {method}."}
        if path == "/health":
            return 200, {"status": "ok", "model_version": self.bundle.version}
        if path == "/metrics":
            alerts = [vars(a) for a in self.monitor.alerts]
            return 200, {"summary": self.monitor.summary(), "alerts": alerts}
        try:
            payload = json.loads(body or b"null")
        except json.JSONDecodeError as error:
            return 400, {"error": f"The body is not valid JSON: {error}"}
        if not isinstance(payload, dict) or "customers" not in payload:
            return 400, {"error": 'Send a JSON object {"customers": [{...}, ...]}.'}
        try:
            return 200, self.predict(payload["customers"])
        except DataValidationError as error:
            return 422, {"error": "The batch broke the schema.", "problems": error.problems}
        except ValueError as error:
            status = 413 if "limit is" in str(error) else 400
            return status, {"error": str(error)}


class ServiceServer:
    """A running HTTP server for a :class:`ChurnService` on a local port (see :func:`serve`).

    Use it as a context manager, or call :meth:`stop`. Introduced in notebook 02.
    """

    def __init__(self, service: ChurnService, host: str = "127.0.0.1", port: int = 0) -> None:
        outer = service

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, body = outer.handle(method, self.path, self.rfile.read(length))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 -- the name http.server calls
                self._answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._answer("POST")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # the monitor keeps the service's log; no lines on stderr

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServiceServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(service: ChurnService, host: str = "127.0.0.1", port: int = 0) -> ServiceServer:
    """Serve ``service`` over HTTP in a background thread; port 0 picks a free port.

    Introduced in notebook 02 (``02_hidden_technical_debt``)::

        with serving.serve(service) as server:
            urllib.request.urlopen(server.url + "/health")

    Raises:
        OSError: the port is taken.
    """
    if not isinstance(service, ChurnService):
        raise TypeError(f"serve expects a ChurnService, got {type(service).__name__}.")
    return ServiceServer(service, host, port)
