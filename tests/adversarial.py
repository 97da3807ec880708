"""Adversarial tables for exercise checks: what every check must accept and refuse.

Each ``tests/test_exercises_nbNN.py`` (``tests/test_checks.py`` for notebooks 00 and 01) defines
``TABLES``, one :class:`Table` per exercise, and runs them with
``test_adversarial = adversarial.parametrize(TABLES)`` plus a ``context`` fixture when its checks
need one. ``tests/test_exercise_tables.py`` fails for an exercise without a table, or a table
missing one of the four kinds of case:

* ``reference``: the notebook's own solution;
* ``alternative``: a correct answer written another way (another algorithm, API, data type or
  valid format);
* ``wrong``: a typical mistake, with a phrase the hint must contain that names the problem;
* ``cheat``: the cheapest way to pass without doing the exercise (a constant, a public value of
  the course, the course's own function, a value read from a notebook variable where the
  exercise asks for the server or registry), with the phrase its hint must contain.

Every table also gets robustness probes (:data:`PROBES`): NaN, a string, a wrong type, an empty
container and a function that raises. On each, the check must answer (incorrect, or not
attempted), never raise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from utils import checks
from utils.checks import CORRECT, INCORRECT, NOT_ATTEMPTED

KINDS = ("reference", "alternative", "wrong", "cheat")


@dataclass(frozen=True)
class Case:
    """One answer to one exercise, and what its check must say about it.

    Attributes:
        kind: one of :data:`KINDS`.
        label: what the answer is, in a few words (shown as the test id).
        answer: the answer, or a zero-argument callable that builds it from the context when
            ``lazy`` is set (for answers that need a server or the context to exist first).
        hint: for ``wrong`` and ``cheat``: a phrase the check's message must contain.
        lazy: ``answer`` is ``lambda context: answer`` and is called with the context dict.
    """

    kind: str
    label: str
    answer: Any
    hint: str = ""
    lazy: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind in ("wrong", "cheat") and not self.hint:
            raise ValueError(f"a {self.kind} case needs the hint phrase its message must contain")


@dataclass(frozen=True)
class Table:
    """The adversarial table of one exercise.

    Attributes:
        exercise: its id, e.g. ``"08.1"``.
        cases: the answers; at least one of each kind.
        context: the name of a pytest fixture giving the check's keyword arguments (a dict),
            or None when the check needs none.
    """

    exercise: str
    cases: list[Case] = field(default_factory=list)
    context: str | None = None

    def kinds(self) -> set[str]:
        return {case.kind for case in self.cases}


def _raises(*args: object, **kwargs: object) -> object:
    raise RuntimeError("a student's function that raises")


PROBES: list[tuple[str, object]] = [
    ("NaN", math.nan),
    ("a string", "I think it is 0.5"),
    ("an int", 7),
    ("a bool", True),
    ("an empty list", []),
    ("an empty dict", {}),
    ("a function that raises", _raises),
    ("a function of no arguments", lambda: 0.5),
]


def _context(request: pytest.FixtureRequest, table: Table) -> dict[str, Any]:
    return dict(request.getfixturevalue(table.context)) if table.context else {}


def parametrize(tables: list[Table]) -> Callable[..., None]:
    """A test function that runs every case and every probe of ``tables``."""
    params = []
    for table in tables:
        for case in table.cases:
            params.append(
                pytest.param(table, case, id=f"{table.exercise}-{case.kind}-{case.label}")
            )
        for label, probe in PROBES:
            params.append(
                pytest.param(
                    table,
                    Case("wrong", label, probe, hint="?"),
                    id=f"{table.exercise}-probe-{label}",
                )
            )

    @pytest.mark.parametrize(("table", "case"), params)
    def test_adversarial(table: Table, case: Case, request: pytest.FixtureRequest) -> None:
        context = _context(request, table)
        answer = case.answer(context) if case.lazy else case.answer
        result = checks.check(table.exercise, answer, **context)
        if case.hint == "?":  # a robustness probe: any answer but "correct", and no exception
            assert result.status in (INCORRECT, NOT_ATTEMPTED), result
            assert result.message, result
            return
        if case.kind in ("reference", "alternative"):
            assert result.status == CORRECT, f"{case.label}: {result}"
        else:
            assert result.status == INCORRECT, f"{case.label}: {result}"
            assert case.hint.lower() in result.message.lower(), (
                f"{case.label}: the hint should say {case.hint!r}; it says: {result.message}"
            )

    return test_adversarial
