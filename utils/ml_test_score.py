"""The ML Test Score: a rubric of 28 tests for the production readiness of an ML system.

Introduced in notebook 07 (testing ML systems). The rubric is from E. Breck, S. Cai, E. Nielsen,
M. Salib and D. Sculley, *The ML Test Score: A Rubric for ML Production Readiness and Technical
Debt Reduction*, IEEE International Conference on Big Data, 2017. It lists 28 tests in four
sections of seven: tests of the **data** (features and data), of the **model** (model
development), of the **infrastructure**, and of the **monitoring** of a model in use.

Scoring, as in the 2017 paper (an earlier workshop version of 2016 scored differently; the
course uses the 2017 one):

* a test done **by hand**, with its results documented and shared, earns half a point;
* a test that runs **automatically** and repeatedly earns one point;
* a **section score** is the sum of the points of its seven tests (0 to 7);
* the **final score** is the *minimum* of the four section scores: a system is only as ready
  as its weakest section.

The paper reads the final score in bands: 0, (0, 1], (1, 2], (2, 3], (3, 5] and above 5. A
score of 0 means the system is more a research project than a production system; above 5 is
exceptional; the bands in between are rising levels of readiness (:data:`BANDS`).

:func:`score` computes the score of a set of answers; :class:`SelfAssessment` is an interactive
form (ipywidgets) that scores as you choose; :data:`COURSE_ASSESSMENT` is the course's own,
justified assessment of its pipeline.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    import pandas as pd

    from utils.figures import CourseFigure

__all__ = [
    "ASSESSMENT_RULES",
    "AUTOMATED",
    "BANDS",
    "COURSE_ASSESSMENT",
    "LEVELS",
    "MANUAL",
    "NOT_DONE",
    "RUBRIC",
    "SECTIONS",
    "Band",
    "RubricTest",
    "ScoreReport",
    "SelfAssessment",
    "band_for",
    "course_answers",
    "rubric_table",
    "score",
    "score_figure",
]

#: A test that is not done (0 points).
NOT_DONE = "not done"
#: A test done by hand, with its results documented and shared (half a point).
MANUAL = "manual"
#: A test that runs automatically and repeatedly (one point).
AUTOMATED = "automated"
#: Points per level, as in the 2017 paper.
LEVELS: dict[str, float] = {NOT_DONE: 0.0, MANUAL: 0.5, AUTOMATED: 1.0}

#: The four sections of the rubric, in the paper's order, with the prefix of their test ids.
SECTIONS: dict[str, str] = {
    "Data": "Data",
    "Model": "Model",
    "Infrastructure": "Infra",
    "Monitoring": "Monitor",
}


@dataclass(frozen=True)
class RubricTest:
    """One of the 28 tests of the ML Test Score (notebook 07).

    Attributes:
        id: e.g. ``"Data 1"`` or ``"Infra 4"`` (section prefix and number, as in the paper).
        section: ``"Data"``, ``"Model"``, ``"Infrastructure"`` or ``"Monitoring"``.
        number: 1 to 7 within the section.
        title: the test, in short.
        meaning: what it asks, in the course's words.
    """

    id: str
    section: str
    number: int
    title: str
    meaning: str


_TESTS: dict[str, list[tuple[str, str]]] = {
    "Data": [
        (
            "Feature expectations are captured in a schema",
            "Expected ranges, types and values of every feature are written down and checked.",
        ),
        (
            "All features are beneficial",
            "Each feature is known to help the model enough to be worth keeping.",
        ),
        (
            "No feature's cost is too much",
            "What a feature costs (latency, compute, maintenance) is weighed against its benefit.",
        ),
        (
            "Features adhere to meta-level requirements",
            "Rules about which data may be used (e.g. no identifiers, no forbidden sources) hold.",
        ),
        (
            "The data pipeline has appropriate privacy controls",
            "Personal data is protected, and access to it is controlled, all along the pipeline.",
        ),
        (
            "New features can be added quickly",
            "Adding a feature and trying it out takes days, not months.",
        ),
        (
            "All input feature code is tested",
            "The code that creates the features has unit tests.",
        ),
    ],
    "Model": [
        (
            "Model specs are reviewed and submitted",
            "Model and training configuration live in version control and changes are reviewed.",
        ),
        (
            "Offline and online metrics correlate",
            "Better scores on held-out data go with better results for the users and business.",
        ),
        (
            "All hyperparameters have been tuned",
            "Every hyperparameter was searched, not left at a default without a reason.",
        ),
        (
            "The impact of model staleness is known",
            "It is measured how fast the model gets worse when it is not retrained.",
        ),
        (
            "A simpler model is not better",
            "The model is compared with a simple baseline and beats it.",
        ),
        (
            "Model quality is sufficient on all important data slices",
            "Quality is checked per slice (e.g. per country or product), not only on average.",
        ),
        (
            "The model has been tested for considerations of inclusion",
            "The model is checked for unfair behaviour towards groups of people.",
        ),
    ],
    "Infrastructure": [
        (
            "Training is reproducible",
            "Training twice on the same data gives the same (or an equivalent) model.",
        ),
        (
            "Model specs are unit tested",
            "The code that builds and trains the model has unit tests.",
        ),
        (
            "The ML pipeline is integration tested",
            "The whole pipeline, from data to a served model, runs in an automated test.",
        ),
        (
            "Model quality is validated before attempting to serve it",
            "A new model must pass quality checks before it may serve.",
        ),
        (
            "The model allows debugging",
            "One can follow the model's computation for a single example, step by step.",
        ),
        (
            "Models are canaried before serving",
            "A new model first serves a small share of the traffic, which is watched.",
        ),
        (
            "Serving models can be rolled back",
            "Going back to the previous model is quick, safe and practised.",
        ),
    ],
    "Monitoring": [
        (
            "Dependency changes result in notification",
            "Changes in the data sources and systems the model depends on are announced.",
        ),
        (
            "Data invariants hold in training and serving inputs",
            "The schema of the data is checked on the inputs the model serves, with alerts.",
        ),
        (
            "Training and serving are not skewed",
            "A feature computed for training and for serving has the same value.",
        ),
        (
            "Models are not too stale",
            "The age of the model in use is watched, and it is retrained in time.",
        ),
        (
            "Models are numerically stable",
            "NaNs, infinities and other numerical trouble in training or serving raise alerts.",
        ),
        (
            "Computing performance has not regressed",
            "Training speed, serving latency, throughput and memory are watched.",
        ),
        (
            "Prediction quality has not regressed",
            "The quality of the served predictions is measured and alerts fire when it drops.",
        ),
    ],
}

#: The 28 tests, section by section, in the paper's order.
RUBRIC: tuple[RubricTest, ...] = tuple(
    RubricTest(f"{SECTIONS[section]} {i}", section, i, title, meaning)
    for section, tests in _TESTS.items()
    for i, (title, meaning) in enumerate(tests, start=1)
)
_BY_ID: dict[str, RubricTest] = {test.id: test for test in RUBRIC}


def rubric_table() -> pd.DataFrame:
    """The 28 tests as a table: ``id`` (index), ``section``, ``test`` and ``meaning``.

    Introduced in notebook 07.
    """
    import pandas as pd

    rows = [
        {"id": t.id, "section": t.section, "test": t.title, "meaning": t.meaning} for t in RUBRIC
    ]
    return pd.DataFrame(rows).set_index("id")


# --------------------------------------------------------------------------- bands


@dataclass(frozen=True)
class Band:
    """A band of final scores and how the course reads it (notebook 07).

    A score ``s`` is in the band when ``lower < s <= upper``; the first band is the score 0
    alone (``lower = upper = 0``) and the last has ``upper = inf``.

    Attributes:
        lower, upper: the band's limits.
        label: the band as an interval, e.g. ``"(2, 3]"``.
        meaning: how to read it.
    """

    lower: float
    upper: float
    label: str
    meaning: str

    def contains(self, value: float) -> bool:
        """True when the final score ``value`` falls in this band."""
        if self.upper == 0:
            return value == 0
        return self.lower < value <= self.upper


_MIDDLE = (
    "a rising level of production readiness, step {k} of the 4 steps between 0 and exceptional"
)

#: The bands of the 2017 paper. The wording of the first and the last follows the paper; the
#: middle bands are described only as rising levels of readiness.
BANDS: tuple[Band, ...] = (
    Band(0.0, 0.0, "0", "more a research project than a production system"),
    Band(0.0, 1.0, "(0, 1]", _MIDDLE.format(k=1)),
    Band(1.0, 2.0, "(1, 2]", _MIDDLE.format(k=2)),
    Band(2.0, 3.0, "(2, 3]", _MIDDLE.format(k=3)),
    Band(3.0, 5.0, "(3, 5]", _MIDDLE.format(k=4)),
    Band(5.0, math.inf, "> 5", "exceptional production readiness"),
)


def band_for(final: float) -> Band:
    """The band of a final score (notebook 07).

    Raises:
        TypeError: ``final`` is not a number.
        ValueError: ``final`` is negative, above 7 (the most a section can score) or NaN.
    """
    if isinstance(final, bool) or not isinstance(final, numbers.Real):
        raise TypeError(f"final must be a number between 0 and 7, got {final!r}.")
    value = float(final)
    if not 0.0 <= value <= 7.0:
        raise ValueError(f"A final ML Test Score is between 0 and 7, got {final!r}.")
    return next(band for band in BANDS if band.contains(value))


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class ScoreReport:
    """The ML Test Score of one set of answers: what :func:`score` returns (notebook 07).

    Attributes:
        answers: the level of each of the 28 tests (missing answers are ``"not done"``).
        points: the points of each test (0, 0.5 or 1).
        sections: the score of each section (sum of its points, 0 to 7).
        final: the final score, the minimum of the section scores.
        band: the band of the final score.
    """

    answers: dict[str, str]
    points: dict[str, float]
    sections: dict[str, float]
    final: float
    band: Band

    @property
    def weakest(self) -> list[str]:
        """The sections whose score is the final score (the ones to improve first)."""
        return [name for name, value in self.sections.items() if value == self.final]

    def __str__(self) -> str:
        parts = ", ".join(f"{name} {value:g}" for name, value in self.sections.items())
        return (
            f"ML Test Score: {parts} -> final score {self.final:g} (the minimum; weakest: "
            f"{', '.join(self.weakest)}). Band {self.band.label}: {self.band.meaning}."
        )


def _check_answers(answers: object) -> dict[str, str]:
    if not isinstance(answers, Mapping):
        raise TypeError(
            "answers must be a dict of test id -> level, e.g. {'Data 1': 'automated', "
            f"'Infra 1': 'manual'}}; got {type(answers).__name__}."
        )
    full = dict.fromkeys(_BY_ID, NOT_DONE)
    for key, level in answers.items():
        if key not in _BY_ID:
            raise ValueError(
                f"{key!r} is not a test of the ML Test Score. Ids look like 'Data 1', "
                "'Model 7', 'Infra 3' or 'Monitor 2' (see ml_test_score.rubric_table())."
            )
        if not isinstance(level, str) or level not in LEVELS:
            raise ValueError(f"The level of {key!r} must be one of {list(LEVELS)}, got {level!r}.")
        full[key] = level
    return full


def score(answers: Mapping[str, str]) -> ScoreReport:
    """Score a pipeline on the ML Test Score (2017 scoring).

    Introduced in notebook 07. Half a point for a test done by hand with documented results,
    one point for an automated, repeated test; a section's score is the sum over its seven
    tests; the final score is the minimum over the four sections.

    Args:
        answers: ``{test id: level}`` with levels ``"not done"``, ``"manual"`` or
            ``"automated"``; tests left out count as not done.

    Returns:
        A :class:`ScoreReport`.

    Raises:
        TypeError: ``answers`` is not a dict.
        ValueError: an unknown test id or level (the message lists the valid ones).
    """
    full = _check_answers(answers)
    points = {key: LEVELS[level] for key, level in full.items()}
    sections = {
        section: sum(points[t.id] for t in RUBRIC if t.section == section) for section in SECTIONS
    }
    final = min(sections.values())
    return ScoreReport(full, points, sections, final, band_for(final))


# --------------------------------------------------------------------------- the course


#: How :data:`COURSE_ASSESSMENT` reads the paper's two levels for this course. Each note says
#: which of these its level rests on.
ASSESSMENT_RULES: dict[str, str] = {
    AUTOMATED: (
        "the check is code that runs by itself, again and again, on the system it tests: on "
        "every change in CI (make test runs every test and notebook), or in every run of the "
        "delivery pipeline of notebook 08"
    ),
    MANUAL: (
        "it was done once, by a person or by a notebook a person runs, and its results are "
        "written down (in a notebook or a tracked run); a monitor run on simulated weeks "
        "counts here too, a lenient reading of our own"
    ),
    NOT_DONE: "neither",
}

#: The course's own pipeline (notebooks 03-10), assessed as the paper scores: test id ->
#: (level, what the level rests on). See :data:`ASSESSMENT_RULES`.
COURSE_ASSESSMENT: dict[str, tuple[str, str]] = {
    "Data 1": (
        AUTOMATED,
        "08's pipeline checks every batch against notebook 04's schema before training",
    ),
    "Data 2": (
        NOT_DONE,
        "region has no effect on churn, yet it is still a model input; no feature is ablated",
    ),
    "Data 3": (NOT_DONE, "no one has measured what a feature costs to compute or maintain"),
    "Data 4": (
        MANUAL,
        "the design document of notebook 04 lists the inputs; check_design rejects ids as inputs",
    ),
    "Data 5": (NOT_DONE, "the data are simulated; the pipeline has no privacy controls"),
    "Data 6": (NOT_DONE, "never measured how long it takes to add a new feature"),
    "Data 7": (AUTOMATED, "make_churn and the preprocessing have unit tests that CI runs"),
    "Model 1": (
        MANUAL,
        "TrainConfig is in git and logged with every run (05); reviews are by people",
    ),
    "Model 2": (
        NOT_DONE,
        "no online metrics: a simulation (09) compares test metrics with those of later weeks",
    ),
    "Model 3": (MANUAL, "a small sweep in notebook 05, documented in the tracked runs"),
    "Model 4": (
        MANUAL,
        "notebook 10 measures never, scheduled and drift-triggered retraining over months",
    ),
    "Model 5": (
        MANUAL,
        "07 pits the forest against a logistic regression once; a dummy baseline is not that test",
    ),
    "Model 6": (NOT_DONE, "quality is only measured on all customers, never per slice"),
    "Model 7": (NOT_DONE, "no analysis of fairness towards groups of customers"),
    "Infra 1": (
        AUTOMATED,
        "CI runs every notebook twice and requires identical metrics (same seed, same data)",
    ),
    "Infra 2": (AUTOMATED, "TrainConfig, build_pipeline and train have unit tests in CI"),
    "Infra 3": (AUTOMATED, "CI executes the notebooks end to end, the pipeline of 08 included"),
    "Infra 4": (AUTOMATED, "the gate (07) is a stage of 08's pipeline, before any promotion"),
    "Infra 5": (
        MANUAL,
        "any version loads from the registry with its lineage and can be probed row by row (06)",
    ),
    "Infra 6": (
        MANUAL,
        "08 serves and smoke-tests a candidate before promotion; a canary split is shown once by "
        "hand",
    ),
    "Infra 7": (
        AUTOMATED,
        "registry.rollback moves the alias back; notebook 06 rolls back and CI runs it",
    ),
    "Monitor 1": (NOT_DONE, "nothing announces changes in the data source or the packages"),
    "Monitor 2": (
        MANUAL,
        "simulated weeks are checked against the schema (09); no served input is checked",
    ),
    "Monitor 3": (
        NOT_DONE,
        "the pipeline bundles its preprocessing, but no check compares the served features",
    ),
    "Monitor 4": (
        MANUAL,
        "scheduled retraining runs in a simulation (10); nothing watches a served model's age",
    ),
    "Monitor 5": (NOT_DONE, "no alert on NaN or infinite predictions in serving"),
    "Monitor 6": (NOT_DONE, "serving latency, throughput and memory are not watched"),
    "Monitor 7": (
        MANUAL,
        "09 alerts when quality drops in simulated weeks; no served model is watched",
    ),
}


def course_answers() -> dict[str, str]:
    """The levels of :data:`COURSE_ASSESSMENT` as plain answers for :func:`score`
    (notebook 07)."""
    return {key: level for key, (level, _) in COURSE_ASSESSMENT.items()}


# --------------------------------------------------------------------------- the form


class SelfAssessment:
    """An interactive ML Test Score form: one dropdown per test, grouped by section.

    Introduced in notebook 07. The 28 dropdowns (not done / manual / automated) sit in tabs,
    one per section, whose titles show the section scores; above them a summary shows the
    section scores, the final score and its band, updated live as answers change. Display it
    as the last expression of a cell, or with ``display(form.widget)``.

    Args:
        answers: initial levels (``{test id: level}``); tests left out start as not done.
        notes: a one-line justification per test id, shown under the test.
        title: a heading shown above the summary.
        height: the height of a section's panel as a CSS length (e.g. ``"220px"``), with a
            scroll bar inside; default: tall enough for its seven tests.

    Raises:
        TypeError, ValueError: as :func:`score`, for bad ``answers``; ``notes`` for unknown ids.
    """

    def __init__(
        self,
        answers: Mapping[str, str] | None = None,
        notes: Mapping[str, str] | None = None,
        title: str = "ML Test Score",
        height: str | None = None,
    ) -> None:
        import ipywidgets as widgets

        initial = _check_answers({} if answers is None else answers)
        notes = dict(notes or {})
        unknown = sorted(set(notes) - set(_BY_ID))
        if unknown:
            raise ValueError(f"notes name unknown test ids {unknown}; ids look like 'Data 1'.")
        if not isinstance(title, str):
            raise TypeError(f"title must be a string, got {title!r}.")
        if height is not None and (not isinstance(height, str) or not height.strip()):
            raise TypeError(f"height must be a CSS length such as '220px' or None, got {height!r}.")
        self.title = title
        self.dropdowns: dict[str, Any] = {}
        panels = []
        for section in SECTIONS:
            rows = []
            for test in (t for t in RUBRIC if t.section == section):
                dropdown = widgets.Dropdown(
                    options=list(LEVELS),
                    value=initial[test.id],
                    layout=widgets.Layout(width="140px", flex="0 0 auto"),
                )
                dropdown.observe(self._update, names="value")
                self.dropdowns[test.id] = dropdown
                note = notes.get(test.id, test.meaning)
                text = (
                    f"<b>{html.escape(test.id)}</b> {html.escape(test.title)}<br>"
                    f"<span style='color:#555;font-size:0.9em'>{html.escape(note)}</span>"
                )
                label = widgets.HTML(text, layout=widgets.Layout(width="auto"))
                rows.append(widgets.HBox([dropdown, label], layout=widgets.Layout(flex="0 0 auto")))
            layout = widgets.Layout(height=height, overflow="auto") if height else widgets.Layout()
            panels.append(widgets.VBox(rows, layout=layout))
        self.tabs = widgets.Tab(children=panels)
        self.summary = widgets.HTML()
        self.widget = widgets.VBox([self.summary, self.tabs])
        self._update()

    @property
    def answers(self) -> dict[str, str]:
        """The current level of every test."""
        return {key: dropdown.value for key, dropdown in self.dropdowns.items()}

    def set(self, test_id: str, level: str) -> None:
        """Set one answer, as choosing it in the dropdown would (the summary updates).

        Raises:
            ValueError: unknown test id or level.
        """
        _check_answers({test_id: level})
        self.dropdowns[test_id].value = level

    def report(self) -> ScoreReport:
        """The score of the current answers."""
        return score(self.answers)

    def _update(self, change: object = None) -> None:
        report = self.report()
        for i, section in enumerate(SECTIONS):
            self.tabs.set_title(i, f"{SECTIONS[section]}: {report.sections[section]:g}/7")
        cells = "".join(
            f"<td style='padding:2px 10px'>{html.escape(name)}<br><b>{value:g}</b></td>"
            for name, value in report.sections.items()
        )
        self.summary.value = (
            f"<b>{html.escape(self.title)}</b>"
            f"<table><tr>{cells}<td style='padding:2px 10px'>final score (minimum)<br>"
            f"<b style='font-size:1.2em'>{report.final:g}</b></td></tr></table>"
            f"Band <b>{html.escape(report.band.label)}</b>: {html.escape(report.band.meaning)}."
            f" Weakest: {html.escape(', '.join(report.weakest))}."
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


# --------------------------------------------------------------------------- figure


def score_figure(report: ScoreReport, title: str | None = None) -> CourseFigure:
    """Bar chart of the four section scores with the final score (their minimum) as a line.

    Introduced in notebook 07 (and its slides).

    Raises:
        TypeError: ``report`` is not a :class:`ScoreReport`.
    """
    # deferred: utils.figures loads matplotlib: +660 ms to import ml_test_score
    from utils.figures import CourseFigure

    if not isinstance(report, ScoreReport):
        raise TypeError(f"report must be what ml_test_score.score returns, got {report!r}.")
    fig = CourseFigure(figsize=(7.0, 3.6), facecolor="white")
    ax = fig.add_axes((0.1, 0.14, 0.86, 0.68))
    names = list(report.sections)
    values = [report.sections[name] for name in names]
    colours = ["#d55e00" if value == report.final else "#4a7ab0" for value in values]
    bars = ax.bar(names, values, color=colours, width=0.6)
    for bar, value in zip(bars, values, strict=True):
        ax.text(
            bar.get_x() + bar.get_width() / 2,
            value + 0.12,
            f"{value:g}",
            ha="center",
            va="bottom",
            fontsize=10,
        )
    ax.axhline(report.final, color="#d55e00", linestyle="--", linewidth=1.5)
    ax.set_title(
        f"final score = minimum of the sections = {report.final:g} (dashed line), "
        f"band {report.band.label}",
        fontsize=9.5,
        color="#8a3c00",
    )
    ax.set_ylim(0, 7.6)
    ax.set_ylabel("section score (points, 0 to 7)")
    ax.set_xlabel("section of the ML Test Score (Breck et al., 2017)")
    ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(
        title
        or f"ML Test Score by section: final score {report.final:g}, band {report.band.label}",
        fontsize=11,
        fontweight="bold",
    )
    return fig
