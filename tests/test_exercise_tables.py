"""Every exercise has an adversarial table with all four kinds of case (tests/adversarial.py)."""

from __future__ import annotations

import importlib

import pytest
from adversarial import KINDS, Table

from utils import checks

EXERCISES = [e.id for e in checks.exercises()]


def _tables() -> dict[str, Table]:
    found: dict[str, Table] = {}
    modules = ["test_checks"] + [f"test_exercises_nb{n:02d}" for n in range(2, 12)]
    for name in modules:
        module = importlib.import_module(name)
        for table in getattr(module, "TABLES", []):
            assert table.exercise not in found, f"two tables for {table.exercise}"
            found[table.exercise] = table
    return found


def test_the_course_has_36_exercises() -> None:
    assert len(EXERCISES) == 36


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_exercise_has_a_complete_adversarial_table(exercise: str) -> None:
    table = _tables().get(exercise)
    assert table is not None, f"exercise {exercise} has no adversarial table (tests/adversarial.py)"
    missing = set(KINDS) - table.kinds()
    assert not missing, f"the table of {exercise} has no {sorted(missing)} case"
