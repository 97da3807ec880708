"""A small but real churn prediction service, built to measure how much of it is ML code.

Notebook 02 (``02_hidden_technical_debt``) runs this service end to end on the course scenario
(churn of a video streaming subscription, :func:`utils.datasets.make_churn`) and then counts the
logical lines of each of its modules (:func:`utils.debt.measure_components`). Each module is one
of the components that Sculley et al. draw around the "ML code" box in Figure 1 of *Hidden
Technical Debt in Machine Learning Systems* (NeurIPS 2015):

=====================  ==============================  ==================================
module                 component (the paper's name)    what it does
=====================  ==============================  ==================================
``config.py``          Configuration                   one validated, diffable settings object
``data.py``            Data collection                 weekly batches in a folder, read back typed
``validation.py``      Data verification               schema checks that reject bad batches
``features.py``        Feature extraction              derived features, the feature list
``model.py``           ML code                         the estimator: fit and predict
``evaluation.py``      Analysis tools                  metrics, business cost, slices, reasons
``pipeline.py``        Process management tools        the training job, step by step, with a gate
``resources.py``       Machine resource management     thread limits, memory budget, chunking
``serving.py``         Serving infrastructure          model bundle, JSON requests, an HTTP server
``monitoring.py``      Monitoring                      request log, drift, prediction bias, alerts
=====================  ==============================  ==================================

Importing this package has no side effects; import the module you need, e.g.
``from utils.service import pipeline``. This ``__init__`` only lists the modules by component
(for the measurement) and is not counted as part of the service.
"""

from __future__ import annotations

from pathlib import Path

#: Module file -> the component of Sculley et al. (2015), Figure 1, that it implements.
COMPONENTS: dict[str, str] = {
    "config.py": "Configuration",
    "data.py": "Data collection",
    "validation.py": "Data verification",
    "features.py": "Feature extraction",
    "model.py": "ML code",
    "evaluation.py": "Analysis tools",
    "pipeline.py": "Process management tools",
    "resources.py": "Machine resource management",
    "serving.py": "Serving infrastructure",
    "monitoring.py": "Monitoring",
}


def component_files() -> dict[str, list[Path]]:
    """Return the service's source files grouped by component, in the order of ``COMPONENTS``.

    Introduced in notebook 02 (``02_hidden_technical_debt``), which counts their lines.

    Raises:
        FileNotFoundError: a module listed in ``COMPONENTS`` is missing (a broken install).
    """
    folder = Path(__file__).resolve().parent
    grouped: dict[str, list[Path]] = {}
    for name, component in COMPONENTS.items():
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"The service module {path} is missing; reinstall the course.")
        grouped.setdefault(component, []).append(path)
    return grouped
