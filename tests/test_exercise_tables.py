"""Every exercise has an adversarial table with all four kinds of case (tests/adversarial.py)."""

from __future__ import annotations

import importlib

import pytest
from adversarial import KINDS, Table

from utils import checks

EXERCISES = [e.id for e in checks.exercises()]

# Exercises whose table is not written yet. The list only shrinks: an exercise listed here that
# has a complete table fails, so it cannot stay listed by mistake.
NOT_YET_TABLED: set[str] = {
    "05.1",
    "05.2",
    "05.3",
    "06.1",
    "06.2",
    "06.3",
    "07.1",
    "07.2",
    "07.3",
    "08.1",
    "08.2",
    "08.3",
}


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
    complete = table is not None and table.kinds() >= set(KINDS)
    if exercise in NOT_YET_TABLED:
        assert not complete, f"{exercise} has a complete table: take it off NOT_YET_TABLED"
        return
    assert table is not None, f"exercise {exercise} has no adversarial table (tests/adversarial.py)"
    missing = set(KINDS) - table.kinds()
    assert not missing, f"the table of {exercise} has no {sorted(missing)} case"
