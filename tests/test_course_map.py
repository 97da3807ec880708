"""The README's study times follow the stated rule, and no notebook is longer than a lesson."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from utils import course_map

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_TIMES = course_map.study_times()


def test_the_readme_gives_every_notebook_the_study_time_of_the_rule() -> None:
    computed = {n: t.minutes for n, t in course_map.study_times().items()}
    assert len(computed) == 12
    assert course_map.readme_times(README) == computed, (
        "run `python -m utils.course_map` and copy its study times into the README's course map"
    )
    assert course_map.main(["--check", str(README)]) == 0


@pytest.mark.parametrize("number", [f"{n:02d}" for n in range(12)])
def test_no_notebook_needs_more_than_a_lesson(number: str) -> None:
    time = _TIMES[number]
    assert time.exercises >= 2 if number == "00" else time.exercises >= 3
    assert time.minutes <= course_map.MAX_MINUTES, (
        f"notebook {number} needs about {time.minutes} min "
        f"({time.words} words, {time.exercises} exercises): cut it or split it"
    )


def test_the_rule_counts_words_and_exercises_and_rounds_up(tmp_path: Path) -> None:
    def cell(kind: str, text: str, tags: list[str] | None = None) -> dict:
        return {"cell_type": kind, "metadata": {"tags": tags or []}, "source": text}

    nb = {
        "cells": [
            cell("markdown", " ".join(["word"] * 300)),
            cell("code", "x = 1  # three more words"),
            cell("code", " ".join(["secret"] * 5000), ["solution"]),
        ]
    }
    path = tmp_path / "07_demo.ipynb"
    path.write_text(json.dumps(nb))
    time = course_map.study_time(path)
    # The solution's words are not read: 300 + 5 words, one exercise.
    assert (time.words, time.exercises) == (305, 1)
    # 305 / 200 = 1.5 min of reading + 10 min of exercise = 11.5, rounded up to 15.
    assert time.minutes == 15


def test_a_readme_that_disagrees_is_named_with_the_fix(tmp_path: Path, capsys) -> None:
    wrong = README.read_text(encoding="utf-8").replace("| about ", "| about 1", 1)
    path = tmp_path / "README.md"
    path.write_text(wrong, encoding="utf-8")
    assert course_map.main(["--check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "00: README says about 1" in err and "Study time" in err


def test_a_broken_notebook_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "03_broken.ipynb"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="03_broken.ipynb: not a readable notebook"):
        course_map.study_time(path)
