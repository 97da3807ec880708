"""Choosing a stack of tools with the lecture's 4Cs: a weighted decision matrix, and measurements.

Introduced in notebook 11 (``11_choosing_your_stack``). The lecture (N. Skafte Detlefsen, *What is
Machine Learning Operations?*, DTU 02476, 2024) asks us to pick a *stack* of tools, one for each
job in the lifecycle, and to weigh every choice on four criteria, the **4Cs**: Cost, Coverage,
Complexity and Community. This module holds the machinery of that choice:

* a **decision matrix**: a table with one row per (stage, tool, criterion) and its score from 0
  (worst for the team) to :data:`SCALE` (best), where every score says whether it is an
  *illustrative* judgement (:data:`ILLUSTRATIVE`) or *measured* (:data:`MEASURED`), and why;
  :func:`default_matrix` gives the course's illustrative defaults, :func:`set_score` and
  :func:`add_tool` change it, :func:`check_matrix` validates it;
* **weights** for the four criteria (:func:`check_weights`), a **weighted score** per tool
  (:func:`weighted_scores`: the weighted mean of its four scores) and a **ranking** per stage
  (:func:`ranking`, :func:`winners`);
* a **chart** of the ranking (:func:`ranking_figure`) and a **widget** with one slider per weight
  (:class:`DecisionWidget`), which calls :func:`weighted_scores` and nothing else;
* a timer that logs the same runs several times and gives the seconds per run of each repeat
  (:func:`seconds_per_run`), a rule for turning a measured time per use into a Cost score
  (:func:`cost_score_from_seconds`), and a counter of the lines of code of functions
  (:func:`code_lines`). The line count is a measurement to show *beside* the matrix, not a
  Complexity score: Complexity asks how hard a tool is to learn, set up, run and maintain, and
  the code we write for it is only part of that;
* what a measurement does to the decision: the leader of a job, ties shown (:func:`leaders`),
  the leaders for every value a measured score could take (:func:`decisions_by_score`), and the
  weight at which two tools swap places (:func:`flip_weight`).

"Higher is better for the team" on every criterion, as in :func:`utils.figures.four_c_radar`:
a high Cost score means *cheap*, a high Complexity score means *simple*.

Importing this module has no side effects; matplotlib and ipywidgets are imported by the
functions that draw.
"""

from __future__ import annotations

import inspect
import math
import numbers
import textwrap
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

import pandas as pd

__all__ = [
    "BASES",
    "COLUMNS",
    "CRITERIA",
    "DEFAULT_CANDIDATES",
    "EQUAL_WEIGHTS",
    "ILLUSTRATIVE",
    "MEASURED",
    "SCALE",
    "STAGES",
    "DecisionWidget",
    "add_tool",
    "check_matrix",
    "check_weights",
    "code_lines",
    "cost_score_from_seconds",
    "decisions_by_score",
    "default_matrix",
    "flip_weight",
    "leaders",
    "ranking",
    "ranking_figure",
    "seconds_per_run",
    "set_score",
    "weighted_scores",
    "winners",
]

#: The lecture's four criteria, in its order (the same tuple as ``utils.figures.FOUR_CS``).
CRITERIA: tuple[str, ...] = ("Cost", "Coverage", "Complexity", "Community")
#: The best possible score; 0 is the worst.
SCALE: float = 5.0
#: A score that is a judgement: a default for you to change.
ILLUSTRATIVE = "illustrative"
#: A score computed from a measurement made in the notebook (its note says how).
MEASURED = "measured"
BASES: tuple[str, ...] = (ILLUSTRATIVE, MEASURED)
#: The columns of a decision matrix, one row per (stage, tool, criterion).
COLUMNS: tuple[str, ...] = ("stage", "tool", "criterion", "score", "basis", "note")
#: Every criterion counts the same.
EQUAL_WEIGHTS: dict[str, float] = {criterion: 1.0 for criterion in CRITERIA}

#: The jobs of the lifecycle the default matrix covers, with the lifecycle stage each belongs to
#: (the keys of ``utils.figures.lifecycle_diagram``).
STAGES: dict[str, str] = {
    "experiment tracking": "model",
    "data versioning": "data",
    "orchestration": "deploy",
    "serving": "deploy",
    "monitoring": "monitor",
}

#: The illustrative defaults: stage -> tool -> ((Cost, Coverage, Complexity, Community), why).
#: These are judgements, not measurements: change them to fit your team.
DEFAULT_CANDIDATES: dict[str, dict[str, tuple[tuple[int, int, int, int], str]]] = {
    "experiment tracking": {
        "MLflow (self-hosted)": (
            (4, 4, 3, 5),
            "open source; you run a server; tracking, registry and serving in one tool",
        ),
        "Weights & Biases (hosted)": (
            (2, 4, 4, 4),
            "hosted: nothing to run, but an account, a network connection and a pricing plan",
        ),
        "JSON-lines file (hand-rolled)": (
            (5, 1, 3, 1),
            "free and yours: it does exactly what you write, and nobody else maintains it",
        ),
    },
    "data versioning": {
        "DVC": (
            (4, 4, 3, 4),
            "versions data files and pipelines next to the code in git; a tool to learn",
        ),
        "Git LFS": (
            (3, 2, 4, 4),
            "large files in git; storage on a git host; no notion of pipelines",
        ),
        "Content fingerprint (hand-rolled)": (
            (5, 2, 4, 1),
            "a hash of the data in the run's tags (notebook 04); storing the data is up to you",
        ),
    },
    "orchestration": {
        "Python script + cron": (
            (5, 2, 5, 3),
            "nothing new to run; no retries, no history, no view of what ran",
        ),
        "Airflow": (
            (2, 5, 2, 5),
            "scheduler, database and workers to run; broad coverage; widely used",
        ),
        "Prefect": (
            (4, 4, 4, 4),
            "pipelines as decorated Python functions; a server for the history and the UI",
        ),
    },
    "serving": {
        "MLflow model server": (
            (4, 3, 4, 4),
            "one command serves a registered model over REST; part of MLflow",
        ),
        "BentoML": (
            (4, 4, 3, 3),
            "packages and serves models; another framework to learn",
        ),
        "FastAPI app (hand-written)": (
            (5, 2, 2, 4),
            "a web framework: loading, validation and the API are yours to write",
        ),
    },
    "monitoring": {
        "Evidently": (
            (4, 4, 3, 3),
            "drift and quality reports for ML; its API changed between versions",
        ),
        "Prometheus + Grafana": (
            (3, 3, 2, 5),
            "metrics and dashboards for any service; the ML statistics are yours to compute",
        ),
        "Drift statistics (hand-rolled)": (
            (5, 2, 4, 1),
            "a few statistics per feature, as in notebook 09; alerts and dashboards are extra",
        ),
    },
}


# --------------------------------------------------------------------------- validation


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{what} must be a non-empty string, got {value!r}.")
    return value.strip()


def _check_score(value: object, where: str) -> float:
    if not _is_number(value):
        raise TypeError(
            f"The score of {where} must be a number from 0 to {SCALE:g}, got {value!r}."
        )
    score = float(value)  # type: ignore[arg-type]
    if not math.isfinite(score) or not 0 <= score <= SCALE:
        raise ValueError(
            f"The score of {where} is {value!r}: scores run from 0 (worst for the team) to "
            f"{SCALE:g} (best). Pick a value in that range."
        )
    return score


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Validate weights for the 4Cs and return them as floats, in the order of :data:`CRITERIA`.

    Introduced in notebook 11. A weight says how much a criterion counts: only the ratios
    matter (weights 2, 2, 1, 1 rank exactly like 4, 4, 2, 2), because :func:`weighted_scores`
    divides by their sum. A weight of 0 leaves a criterion out.

    Raises:
        TypeError: ``weights`` is not a mapping, or a weight is not a number.
        ValueError: a criterion is missing or unknown, a weight is negative or not finite, or
            every weight is 0.
    """
    if not isinstance(weights, Mapping):
        raise TypeError(
            f"weights must be a dict of criterion -> weight, e.g. {EQUAL_WEIGHTS}, "
            f"got a {type(weights).__name__}."
        )
    missing = [c for c in CRITERIA if c not in weights]
    unknown = [c for c in weights if c not in CRITERIA]
    if missing or unknown:
        raise ValueError(
            f"weights must give exactly the four criteria {list(CRITERIA)} (spelt like that); "
            f"missing {missing}, unknown {unknown}."
        )
    checked: dict[str, float] = {}
    for criterion in CRITERIA:
        value = weights[criterion]
        if not _is_number(value):
            raise TypeError(f"The weight of {criterion} must be a number, got {value!r}.")
        weight = float(value)
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(
                f"The weight of {criterion} is {value!r}: a weight must be 0 or more "
                "(0 leaves the criterion out)."
            )
        checked[criterion] = weight
    if sum(checked.values()) == 0:
        raise ValueError(
            "Every weight is 0, so no criterion counts and nothing can be ranked: "
            "give at least one criterion a weight above 0."
        )
    return checked


def check_matrix(matrix: pd.DataFrame) -> pd.DataFrame:
    """Validate a decision matrix; return a clean copy with the columns of :data:`COLUMNS`.

    Introduced in notebook 11. A matrix has one row per (stage, tool, criterion); every tool
    of a stage is scored on all four criteria, each score is from 0 to :data:`SCALE`, and its
    basis is :data:`ILLUSTRATIVE` or :data:`MEASURED`.

    Raises:
        TypeError: ``matrix`` is not a DataFrame, or a score is not a number.
        ValueError: a column is missing, a criterion or basis is unknown, a score is out of
            range, a (stage, tool, criterion) appears twice, or a tool misses a criterion.
    """
    if not isinstance(matrix, pd.DataFrame):
        raise TypeError(
            f"matrix must be a pandas DataFrame (see stack.default_matrix()), "
            f"got a {type(matrix).__name__}."
        )
    missing = [c for c in COLUMNS if c not in matrix.columns]
    if missing:
        raise ValueError(
            f"The matrix misses the columns {missing}; a matrix has the columns {list(COLUMNS)}."
        )
    if matrix.empty:
        raise ValueError("The matrix is empty: it needs at least one tool with four scores.")
    clean = matrix[list(COLUMNS)].copy().reset_index(drop=True)
    for column in ("stage", "tool", "criterion", "basis"):
        for value in clean[column]:
            _check_name(value, f"Every {column} in the matrix")
    clean["note"] = clean["note"].fillna("").astype(str)
    unknown = sorted(set(clean["criterion"]) - set(CRITERIA))
    if unknown:
        raise ValueError(f"Unknown criteria {unknown}: the 4Cs are {list(CRITERIA)}.")
    bad_basis = sorted(set(clean["basis"]) - set(BASES))
    if bad_basis:
        raise ValueError(f"Unknown basis {bad_basis}: a score is one of {list(BASES)}.")
    scores = []
    for row in clean.itertuples(index=False):
        scores.append(_check_score(row.score, f"{row.tool!r} on {row.criterion} ({row.stage})"))
    clean["score"] = pd.Series(scores, dtype="float64")
    keys = ["stage", "tool", "criterion"]
    duplicated = clean[clean.duplicated(keys, keep=False)]
    if not duplicated.empty:
        first = duplicated.iloc[0]
        raise ValueError(
            f"{first['tool']!r} ({first['stage']}) is scored twice on {first['criterion']}: "
            "keep one row per stage, tool and criterion (use set_score to change a score)."
        )
    for (stage, tool), group in clean.groupby(["stage", "tool"], sort=False):
        lacking = [c for c in CRITERIA if c not in set(group["criterion"])]
        if lacking:
            raise ValueError(f"{tool!r} ({stage}) has no score for {lacking}: score all 4Cs.")
    return clean


# --------------------------------------------------------------------------- building a matrix


def _rows(
    stage: str, tool: str, scores: Mapping[str, float], basis: str, note: str
) -> list[dict[str, Any]]:
    return [
        {
            "stage": stage,
            "tool": tool,
            "criterion": criterion,
            "score": scores[criterion],
            "basis": basis,
            "note": note,
        }
        for criterion in CRITERIA
    ]


def default_matrix() -> pd.DataFrame:
    """The course's decision matrix: three candidate tools for each of five jobs.

    Introduced in notebook 11. Every score is an **illustrative** judgement (basis
    :data:`ILLUSTRATIVE`), a starting point for you to change, not a measurement. The note of
    each row says what the judgement rests on. The tools and scores are those of
    :data:`DEFAULT_CANDIDATES`; the stages are those of :data:`STAGES`.
    """
    rows: list[dict[str, Any]] = []
    for stage, tools in DEFAULT_CANDIDATES.items():
        for tool, (values, why) in tools.items():
            scores = dict(zip(CRITERIA, values, strict=True))
            rows.extend(_rows(stage, tool, scores, ILLUSTRATIVE, why))
    return check_matrix(pd.DataFrame(rows, columns=list(COLUMNS)))


def set_score(
    matrix: pd.DataFrame,
    stage: str,
    tool: str,
    criterion: str,
    score: float,
    *,
    basis: str = MEASURED,
    note: str = "",
) -> pd.DataFrame:
    """Return a copy of ``matrix`` with one score replaced (the matrix itself is not changed).

    Introduced in notebook 11, where measured scores replace illustrative ones. A measured
    score needs a ``note`` saying how it was measured.

    Raises:
        ValueError: the stage, tool or criterion is not in the matrix, the score is out of
            range, the basis is unknown, or a measured score has no note.
    """
    clean = check_matrix(matrix)
    for value, what in ((stage, "stage"), (tool, "tool"), (criterion, "criterion")):
        _check_name(value, what)
    if basis not in BASES:
        raise ValueError(f"basis must be one of {list(BASES)}, got {basis!r}.")
    if not isinstance(note, str):
        raise TypeError(f"note must be a string, got {note!r}.")
    if basis == MEASURED and not note.strip():
        raise ValueError("A measured score needs a note saying how it was measured.")
    if criterion not in CRITERIA:
        raise ValueError(f"Unknown criterion {criterion!r}: the 4Cs are {list(CRITERIA)}.")
    if stage not in set(clean["stage"]):
        raise ValueError(f"No stage {stage!r} in the matrix; it has {sorted(set(clean['stage']))}.")
    in_stage = clean[clean["stage"] == stage]
    if tool not in set(in_stage["tool"]):
        raise ValueError(
            f"No tool {tool!r} in stage {stage!r}; it has {list(dict.fromkeys(in_stage['tool']))}. "
            "Use add_tool to add a new one."
        )
    value = _check_score(score, f"{tool!r} on {criterion} ({stage})")
    where = (clean["stage"] == stage) & (clean["tool"] == tool) & (clean["criterion"] == criterion)
    clean.loc[where, ["score", "basis", "note"]] = [value, basis, note]
    return clean


def add_tool(
    matrix: pd.DataFrame,
    stage: str,
    tool: str,
    scores: Mapping[str, float],
    *,
    note: str = "",
    basis: str = ILLUSTRATIVE,
) -> pd.DataFrame:
    """Return a copy of ``matrix`` with one more tool (in a stage that exists, or a new stage).

    Introduced in notebook 11: score the tool your team is looking at on all four criteria.

    Raises:
        ValueError: the tool is already in that stage, ``scores`` do not give exactly the
            four criteria, a score is out of range, or the basis is unknown.
    """
    clean = check_matrix(matrix)
    stage, tool = _check_name(stage, "stage"), _check_name(tool, "tool")
    if basis not in BASES:
        raise ValueError(f"basis must be one of {list(BASES)}, got {basis!r}.")
    if not isinstance(scores, Mapping) or set(scores) != set(CRITERIA):
        raise ValueError(
            f"scores must give exactly the four criteria {list(CRITERIA)}, got {scores!r}."
        )
    exists = (clean["stage"] == stage) & (clean["tool"] == tool)
    if exists.any():
        raise ValueError(f"{tool!r} is already in stage {stage!r}; use set_score to change it.")
    added = pd.DataFrame(_rows(stage, tool, scores, basis, note), columns=list(COLUMNS))
    return check_matrix(pd.concat([clean, added], ignore_index=True))


# --------------------------------------------------------------------------- weighing


def weighted_scores(matrix: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Score every tool with ``weights`` and rank the tools of each stage.

    Introduced in notebook 11. The weighted score of a tool is the weighted mean of its four
    scores, so it stays on the 0 to :data:`SCALE` scale::

        weighted = sum(weight[c] * score[c] for c in CRITERIA) / sum(weights)

    Returns:
        One row per (stage, tool), stages in the order they first appear in the matrix and
        tools best first: the columns ``stage``, ``tool``, the four criteria, ``weighted``,
        ``rank`` (1 is best; equal scores share a rank) and ``measured`` (the criteria whose
        score was measured, comma-separated, or empty).

    Raises:
        TypeError, ValueError: as :func:`check_matrix` and :func:`check_weights`.
    """
    clean = check_matrix(matrix)
    checked = check_weights(weights)
    wide = clean.pivot_table(
        index=["stage", "tool"], columns="criterion", values="score", sort=False
    ).reset_index()
    wide.columns.name = None
    total = sum(checked.values())
    wide["weighted"] = sum(checked[c] * wide[c] for c in CRITERIA) / total
    measured = (
        clean[clean["basis"] == MEASURED]
        .groupby(["stage", "tool"], sort=False)["criterion"]
        .agg(lambda cs: ", ".join(c for c in CRITERIA if c in set(cs)))
    )
    wide["measured"] = [
        measured.get((s, t), "") for s, t in zip(wide["stage"], wide["tool"], strict=True)
    ]
    stage_order = {stage: i for i, stage in enumerate(dict.fromkeys(clean["stage"]))}
    tool_order = {
        key: i
        for i, key in enumerate(dict.fromkeys(zip(clean["stage"], clean["tool"], strict=True)))
    }
    # Round before ranking, so that sums that differ only by floating-point error tie.
    wide["_key"] = wide["weighted"].round(9)
    wide["rank"] = (
        wide.groupby("stage", sort=False)["_key"].rank(method="min", ascending=False).astype(int)
    )
    wide["_stage"] = wide["stage"].map(stage_order)
    wide["_tool"] = [tool_order[(s, t)] for s, t in zip(wide["stage"], wide["tool"], strict=True)]
    wide = wide.sort_values(["_stage", "rank", "_tool"], kind="stable")
    columns = ["stage", "tool", *CRITERIA, "weighted", "rank", "measured"]
    return wide[columns].reset_index(drop=True)


def ranking(matrix: pd.DataFrame, weights: Mapping[str, float]) -> dict[str, list[str]]:
    """Stage -> its tools, best first, under ``weights`` (notebook 11).

    Tools with equal weighted scores keep the order in which the matrix lists them.
    """
    table = weighted_scores(matrix, weights)
    return {stage: list(group["tool"]) for stage, group in table.groupby("stage", sort=False)}


def leaders(matrix: pd.DataFrame, weights: Mapping[str, float], stage: str) -> str:
    """The tool ranked first in ``stage`` under ``weights``; tools that tie joined by " = ".

    Introduced in notebook 11, where a tie is a result worth showing (the measurement does not
    separate two tools), unlike :func:`winners`, which picks the first of them.

    Raises:
        ValueError: ``stage`` is not in the matrix; TypeError, ValueError: as
            :func:`weighted_scores`.
    """
    table = weighted_scores(matrix, weights)
    first = table[(table["stage"] == stage) & (table["rank"] == 1)]["tool"]
    if first.empty:
        raise ValueError(f"No stage {stage!r} in the matrix.")
    return " = ".join(first)


def winners(matrix: pd.DataFrame, weights: Mapping[str, float]) -> dict[str, str]:
    """Stage -> the best tool under ``weights``: your stack (notebook 11).

    When two tools tie for first place, the one the matrix lists first is returned;
    :func:`weighted_scores` shows the tie (both have rank 1).
    """
    return {stage: tools[0] for stage, tools in ranking(matrix, weights).items()}


# --------------------------------------------------------------------------- measurements


def cost_score_from_seconds(seconds: float) -> int:
    """Turn a measured time per use of a tool into a Cost score, one point per factor of ten.

    Introduced in notebook 11. The rule: under 0.01 s scores 5, under 0.1 s scores 4, under 1 s
    scores 3, under 10 s scores 2, and 10 s or more scores 1. A factor of ten is a change a
    user notices; differences within a factor of ten are noise on a busy machine.

    Raises:
        TypeError: ``seconds`` is not a number.
        ValueError: ``seconds`` is negative or not finite.
    """
    if not _is_number(seconds):
        raise TypeError(f"seconds must be a number, got {seconds!r}.")
    value = float(seconds)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"seconds must be a finite time of 0 or more, got {seconds!r}.")
    for score, limit in ((5, 0.01), (4, 0.1), (3, 1.0), (2, 10.0)):
        if value < limit:
            return score
    return 1


def code_lines(*functions: Callable[..., Any] | ModuleType, with_callees: bool = False) -> int:
    """Count the logical lines of code of functions (their ``def`` line included) or modules.

    Introduced in notebook 11, to measure how much code each way of doing a job needs, the
    course's own code a way relies on included: pass the module (e.g. ``utils.tracking``), or
    its public functions with ``with_callees=True``, which also counts every function of the same
    module that they call, directly or through each other, once each (e.g. the private helpers
    behind ``tracking.start``), and nothing else of the module. Counts as
    :func:`utils.debt.count_logical_lines` does (notebook 02): every statement once, however
    many physical lines it spans; no comments, docstrings or blank lines. Works for functions
    defined in a notebook cell.

    Raises:
        ValueError: no function given.
        TypeError: an argument is not a Python function, or its source cannot be read.
    """
    # deferred: utils.debt loads utils.service and scikit-learn: +783 ms to import stack
    from utils.debt import count_logical_lines

    if not functions:
        raise ValueError("Give at least one function, e.g. code_lines(log_run, best_run).")
    for function in functions:
        if not (inspect.isfunction(function) or inspect.ismodule(function)):
            raise TypeError(
                f"code_lines counts Python functions (defined with def) and modules, "
                f"got {function!r}."
            )
    counted: list[Callable[..., Any] | ModuleType] = list(functions)
    if with_callees:
        counted = list(dict.fromkeys(_with_callees(functions)))
    total = 0
    for function in counted:
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError) as error:
            raise TypeError(
                f"The source of {function.__name__} cannot be read ({error}); define it in a "
                "file or a notebook cell."
            ) from None
        total += count_logical_lines(textwrap.dedent(source))
    return total


def _names_used(code: Any) -> set[str]:
    """The global names a code object uses, its nested functions and comprehensions included."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if inspect.iscode(constant):
            names |= _names_used(constant)
    return names


def _with_callees(
    functions: Sequence[Callable[..., Any] | ModuleType],
) -> list[Callable[..., Any] | ModuleType]:
    """The functions, and every function of their own module they call, transitively."""
    found: list[Callable[..., Any] | ModuleType] = []
    todo = list(functions)
    while todo:
        function = todo.pop(0)
        if any(function is seen for seen in found):
            continue
        found.append(function)
        if inspect.ismodule(function):
            continue
        module = inspect.getmodule(function)
        for name in sorted(_names_used(function.__code__)):
            called = getattr(module, name, None)
            if inspect.isfunction(called) and called.__module__ == function.__module__:
                todo.append(called)
    return found


def seconds_per_run(
    log_run: Callable[[str, dict[str, Any], dict[str, float]], Any],
    runs: Sequence[tuple[str, dict[str, Any], dict[str, float]]],
    *,
    repeats: int = 3,
    finish: Callable[[], Any] | None = None,
) -> list[float]:
    """Log ``runs`` ``repeats`` times; return the seconds per logged run of each repeat.

    Introduced in notebook 11 to compare ways of logging the same runs. Each repeat calls
    ``log_run(name, params, metrics)`` for every run, then ``finish()`` if given (for example to
    wait until asynchronously logged data is written), and divides the time of the whole repeat
    by the number of runs: a way that returns at once and does its work later is charged for
    that work. The caller reports the spread over the repeats, not one repeat's value.

    Raises:
        ValueError: no runs, or ``repeats`` is below 1.
        TypeError: ``log_run`` or ``finish`` is not callable.
    """
    if not callable(log_run) or (finish is not None and not callable(finish)):
        raise TypeError("log_run (and finish, if given) must be functions.")
    if not runs:
        raise ValueError("Give at least one run to log.")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a whole number of 1 or more, got {repeats!r}.")
    per_run = []
    for _ in range(repeats):
        start = time.perf_counter()
        for name, params, metrics in runs:
            log_run(name, params, metrics)
        if finish is not None:
            finish()
        per_run.append((time.perf_counter() - start) / len(runs))
    return per_run


def decisions_by_score(
    matrix: pd.DataFrame,
    stage: str,
    tool: str,
    criterion: str,
    teams: Mapping[str, Mapping[str, float]],
    scores: Iterable[float] = (1, 2, 3, 4, 5),
) -> pd.DataFrame:
    """The winner of ``stage`` for each team if ``tool`` scored each of ``scores`` on ``criterion``.

    Introduced in notebook 11, to show whether a measured score can change the decision, and at
    which score it does: one row per score (the index), one column per team (its weights).
    Every other score of the matrix is kept. A cell names the tool ranked first; tools that
    tie for first place are joined by ``" = "``, in the order :func:`weighted_scores` gives.

    Raises:
        ValueError, TypeError: as :func:`set_score` and :func:`check_weights`.
    """
    if not isinstance(teams, Mapping) or not teams:
        raise ValueError("teams must be a dict of team name -> weights, with at least one team.")
    rows = {}
    for score in scores:
        changed = set_score(
            matrix, stage, tool, criterion, score, basis=ILLUSTRATIVE, note="what if"
        )
        rows[score] = {name: leaders(changed, w, stage) for name, w in teams.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = f"{criterion} of {tool}"
    return table


def flip_weight(
    matrix: pd.DataFrame,
    stage: str,
    challenger: str,
    incumbent: str,
    criterion: str,
    weights: Mapping[str, float],
) -> float | None:
    """The weight of ``criterion`` at which ``challenger`` and ``incumbent`` tie, or None.

    Introduced in notebook 11. The other three weights stay as in ``weights`` (the weight given
    for ``criterion`` itself is ignored). The weighted scores of the two tools differ by
    ``sum(w[c] * d[c]) / sum(w)`` with ``d = challenger - incumbent`` per criterion, so they
    tie where ``w[criterion] = -sum(w[c] * d[c] for the others) / d[criterion]``. Past that
    weight the tool that is better on ``criterion`` is ahead. None means that no weight of 0
    or more changes which of the two is ahead (for example when both have the same score on
    ``criterion``).

    Raises:
        ValueError: a tool is not in ``stage``, the two tools are the same, or the criterion
            is unknown; TypeError, ValueError: as :func:`check_weights`.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"Unknown criterion {criterion!r}: the 4Cs are {list(CRITERIA)}.")
    if challenger == incumbent:
        raise ValueError("Give two different tools.")
    table = weighted_scores(matrix, {**dict(weights), criterion: 1.0})
    rows = table[table["stage"] == stage].set_index("tool")
    for tool in (challenger, incumbent):
        if tool not in rows.index:
            raise ValueError(f"No tool {tool!r} in stage {stage!r}; it has {list(rows.index)}.")
    checked = check_weights({**dict(weights), criterion: 1.0})
    difference = {c: rows.loc[challenger, c] - rows.loc[incumbent, c] for c in CRITERIA}
    rest = sum(checked[c] * difference[c] for c in CRITERIA if c != criterion)
    if difference[criterion] == 0:
        return None
    tie = -rest / difference[criterion]
    return float(tie) if tie >= 0 else None


# --------------------------------------------------------------------------- the chart


def _format_weights(weights: Mapping[str, float]) -> str:
    return ", ".join(f"{c} {weights[c]:g}" for c in CRITERIA)


def ranking_figure(
    table: pd.DataFrame, weights: Mapping[str, float], title: str | None = None
) -> Any:
    """Draw the ranking of :func:`weighted_scores`: one panel of bars per stage, best on top.

    Introduced in notebook 11. The winner of each stage is orange; tools with measured scores
    are hatched. The last panel shows the weights.

    Args:
        table: what :func:`weighted_scores` returned.
        weights: the weights that produced ``table`` (shown in the last panel).
        title: the figure's title (a default names the weights).

    Returns:
        A ``utils.figures.CourseFigure`` (12 x 6.4 inches).

    Raises:
        ValueError: ``table`` lacks the columns of :func:`weighted_scores`, or has more than
            five stages.
    """
    from matplotlib.patches import Patch

    # deferred: utils.figures loads matplotlib: +310 ms to import stack
    from utils.figures import CourseFigure

    checked = check_weights(weights)
    needed = ["stage", "tool", "weighted", "rank", "measured"]
    if not isinstance(table, pd.DataFrame) or any(c not in table.columns for c in needed):
        raise ValueError(f"table must be what weighted_scores() returns (columns {needed}).")
    stages = list(dict.fromkeys(table["stage"]))
    if not 1 <= len(stages) <= 5:
        raise ValueError(f"ranking_figure draws 1 to 5 stages, got {len(stages)}.")
    fig = CourseFigure(figsize=(12, 6.4), facecolor="white")
    axes = fig.subplots(2, 3)
    fig.subplots_adjust(left=0.15, right=0.98, top=0.87, bottom=0.16, wspace=0.95, hspace=0.62)
    fig.suptitle(
        title or f"Weighted 4C score per job (weights: {_format_weights(checked)})",
        fontsize=13,
        fontweight="bold",
    )
    flat = list(axes.flat)
    for ax, stage in zip(flat, stages, strict=False):
        rows = table[table["stage"] == stage].iloc[::-1]  # barh draws bottom up: best on top
        colours = ["#d55e00" if r == 1 else "#4a7ab0" for r in rows["rank"]]
        hatches = ["//" if m else "" for m in rows["measured"]]
        bars = ax.barh(range(len(rows)), rows["weighted"], color=colours, edgecolor="#222222")
        for bar, hatch in zip(bars, hatches, strict=True):
            bar.set_hatch(hatch)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(
            [textwrap.fill(t, 18, break_on_hyphens=False) for t in rows["tool"]], fontsize=9
        )
        for y, value in enumerate(rows["weighted"]):
            ax.text(value + 0.08, y, f"{value:.2f}", va="center", fontsize=9)
        ax.set_xlim(0, SCALE + 0.9)
        ax.set_xticks(range(int(SCALE) + 1))
        ax.set_title(stage, fontsize=11)
        ax.set_xlabel(f"weighted score (0-{SCALE:g} points)", fontsize=9)
    for ax in flat[len(stages) : -1]:
        ax.axis("off")
    ax = flat[-1]
    ax.barh(range(len(CRITERIA))[::-1], [checked[c] for c in CRITERIA], color="#009e73")
    ax.set_yticks(range(len(CRITERIA))[::-1])
    ax.set_yticklabels(CRITERIA, fontsize=9)
    ax.set_xlim(0, max(checked.values()) * 1.15)
    ax.set_title("your weights", fontsize=11)
    ax.set_xlabel("weight (only ratios matter)", fontsize=9)
    fig.legend(
        handles=[
            Patch(facecolor="#d55e00", edgecolor="#222222", label="best in its job"),
            Patch(facecolor="#4a7ab0", edgecolor="#222222", label="other candidates"),
            Patch(facecolor="white", edgecolor="#222222", hatch="//", label="has measured scores"),
        ],
        loc="lower center",
        ncol=3,
        fontsize=9,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    return fig


# --------------------------------------------------------------------------- the widget


class DecisionWidget:
    """Sliders for the four weights, and the ranking they give, redrawn as you move them.

    Introduced in notebook 11. Display it as the last expression of a cell. Every change of a
    slider calls :func:`weighted_scores` with the matrix and the new weights (nothing else:
    the widget computes nothing of its own); :attr:`table` holds the latest result and
    :meth:`set_weights` moves the sliders from code.

    Args:
        matrix: a decision matrix (see :func:`check_matrix`).
        weights: the starting weights (default: all equal).
    """

    def __init__(self, matrix: pd.DataFrame, weights: Mapping[str, float] | None = None) -> None:
        import ipywidgets as widgets

        self.matrix = check_matrix(matrix)
        start = check_weights(EQUAL_WEIGHTS if weights is None else weights)
        if any(value > SCALE for value in start.values()):
            raise ValueError(f"The sliders run from 0 to {SCALE:g}; scale your weights down.")
        self.sliders = {
            c: widgets.FloatSlider(
                value=start[c],
                min=0.0,
                max=SCALE,
                step=0.5,
                description=c,
                continuous_update=False,
                layout=widgets.Layout(width="300px"),
            )
            for c in CRITERIA
        }
        self._quiet = False
        self.message = widgets.HTML()
        # The chart is a PNG in an Image widget (not a figure displayed into an Output widget,
        # which headless runners such as nbclient wait on for a minute).
        self.chart = widgets.Image(format="png", layout=widgets.Layout(width="960px"))
        for slider in self.sliders.values():
            slider.observe(self._update, names="value")
        self.widget = widgets.VBox(
            [
                widgets.HTML("<b>How much does each criterion count for your team?</b>"),
                widgets.HBox(list(self.sliders.values())[:2]),
                widgets.HBox(list(self.sliders.values())[2:]),
                self.message,
                self.chart,
            ]
        )
        self.table: pd.DataFrame = weighted_scores(self.matrix, start)
        self._update()

    @property
    def weights(self) -> dict[str, float]:
        """The weights the sliders show now."""
        return {c: float(self.sliders[c].value) for c in CRITERIA}

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Move the sliders to ``weights`` (checked like :func:`check_weights`)."""
        checked = check_weights(weights)
        if any(value > SCALE for value in checked.values()):
            raise ValueError(f"The sliders run from 0 to {SCALE:g}; scale your weights down.")
        self._quiet = True  # one redraw at the end, not one per slider
        try:
            for criterion, value in checked.items():
                self.sliders[criterion].value = value
        finally:
            self._quiet = False
        self._update()

    def _update(self, change: object = None) -> None:
        import io

        if self._quiet:
            return
        weights = self.weights
        try:
            self.table = weighted_scores(self.matrix, weights)
        except ValueError as error:  # e.g. every slider at 0
            self.message.value = f'<span style="color: #b35900;">{error}</span>'
            return
        best = winners(self.matrix, weights)
        self.message.value = "Your stack: " + "; ".join(f"{s}: <b>{t}</b>" for s, t in best.items())
        buffer = io.BytesIO()
        ranking_figure(self.table, weights).savefig(buffer, format="png", dpi=100)
        self.chart.value = buffer.getvalue()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
