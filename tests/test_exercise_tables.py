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
    "00.1",
    "00.2",
    "01.1",
    "01.2",
    "01.3",
    "02.1",
    "02.2",
    "02.3",
    "03.1",
    "03.2",
    "03.3",
    "04.1",
    "04.2",
    "04.3",
    "04.4",
    "09.1",
    "09.2",
    "09.3",
    "10.1",
    "10.2",
    "10.3",
    "11.1",
    "11.2",
    "11.3",
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
