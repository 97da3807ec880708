"""Exercise checks of notebooks 02 onwards, one module per notebook (``nbNN.py``).

Each module registers its checks with :func:`utils.checks.register`; :func:`utils.checks.check`
imports the module of a notebook the first time one of its exercises is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from utils.checks import INCORRECT, Status, course_calls

__all__ = ["rule_calls", "rule_over_cases"]


def rule_calls(rule: Callable[..., Any], arguments: Sequence[Any], *functions: Any) -> bool:
    """Whether a student's ``rule``, run on one case's ``arguments``, runs any of the course's
    ``functions`` however it reaches them (:func:`~utils.checks.course_calls`: a lambda,
    ``functools.partial``, a name imported earlier, a copy of the code). Its errors are left
    to :func:`rule_over_cases` to report. Used by the rule exercises of notebooks 08 and 10.
    """
    with course_calls(*functions) as ran:
        try:
            rule(*arguments)
        except Exception:  # noqa: BLE001, S110 - the student's errors are reported by the cases
            pass
    return bool(ran)


def rule_over_cases(
    rule: Callable[..., Any],
    cases: Iterable[tuple[str, Sequence[Any], bool]],
    crashed: Callable[[str, Sequence[Any], Exception], str],
    wrong: Callable[[str, Sequence[Any], bool], str],
    meanings: tuple[str, str],
) -> tuple[Status, str] | None:
    """Run a student's yes/no ``rule`` on each ``(description, arguments, expected)`` case.

    Returns the first problem as ``(INCORRECT, message)``, or None when every decision is right:
    ``crashed(description, arguments, error)`` words a crash, ``wrong(description, arguments,
    expected)`` a wrong decision, and ``meanings`` says what True and False mean (a decision
    that is not a bool names them). Used by the rule exercises of notebooks 08 and 10.
    """
    for description, arguments, expected in cases:
        try:
            decision = rule(*arguments)
        except Exception as error:  # noqa: BLE001 - any error in student code is reported
            return INCORRECT, crashed(description, arguments, error)
        if not isinstance(decision, bool | np.bool_):
            return INCORRECT, (
                f"Your rule returned {decision!r} for '{description}': return True "
                f"({meanings[0]}) or False ({meanings[1]})."
            )
        if bool(decision) != expected:
            return INCORRECT, wrong(description, arguments, expected)
    return None
