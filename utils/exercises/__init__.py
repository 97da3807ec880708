"""Exercise checks of notebooks 02 onwards, one module per notebook (``nbNN.py``).

Each module registers its checks with :func:`utils.checks.register`; :func:`utils.checks.check`
imports the module of a notebook the first time one of its exercises is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from utils.checks import INCORRECT, Status

__all__ = ["rule_over_cases"]


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
