"""How long each notebook takes to study, by a stated rule, for the README's course map.

A student reads the notebook's text and code (every cell but the hidden solutions) at
:data:`READING_WORDS_PER_MINUTE` and spends :data:`EXERCISE_MINUTES` on each exercise (an
exercise is a cell tagged ``solution``: every exercise has exactly one). The total is rounded up
to :data:`ROUND_TO` minutes, since a lesson plan is made of such blocks. The rule is crude on
purpose: it is the same for every notebook, so it shows which one is long, and it moves when
the text does, which a typed-in figure would not.

``python -m utils.course_map`` prints the table; ``python -m utils.course_map --check
README.md`` says whether the README's course map gives the same times (``tests/
test_course_map.py`` runs that check, and the cap :data:`MAX_MINUTES` per notebook).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "EXERCISE_MINUTES",
    "MAX_MINUTES",
    "READING_WORDS_PER_MINUTE",
    "ROUND_TO",
    "StudyTime",
    "readme_times",
    "study_time",
    "study_times",
]

READING_WORDS_PER_MINUTE = 200
EXERCISE_MINUTES = 10
ROUND_TO = 5
MAX_MINUTES = 75

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

_WORD = re.compile(r"[A-Za-z0-9_'’-]+")
# A course-map row: | 05 | [`notebooks/05_...`](...) | what you do | about 45 min |
_ROW = re.compile(r"^\|\s*(\d\d)\s*\|.*\|\s*about (\d+) min\s*\|\s*$")


@dataclass(frozen=True)
class StudyTime:
    """The study time of one notebook and what it is made of."""

    notebook: str
    words: int
    exercises: int

    @property
    def reading_minutes(self) -> float:
        return self.words / READING_WORDS_PER_MINUTE

    @property
    def minutes(self) -> int:
        raw = self.reading_minutes + EXERCISE_MINUTES * self.exercises
        return ROUND_TO * math.ceil(raw / ROUND_TO)


def study_time(path: str | Path) -> StudyTime:
    """Count the words a student reads and the exercises they do in one notebook."""
    path = Path(path)
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path}: not a readable notebook ({error})") from None
    words = exercises = 0
    for cell in cells:
        if "solution" in cell.get("metadata", {}).get("tags", []):
            exercises += 1
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        words += len(_WORD.findall(text))
    return StudyTime(path.stem, words, exercises)


def study_times(folder: Path = NOTEBOOKS) -> dict[str, StudyTime]:
    """The study time of every notebook, keyed by its two-digit number."""
    return {p.name[:2]: study_time(p) for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))}


def readme_times(readme: str | Path) -> dict[str, int]:
    """The minutes the README's course map states, keyed by notebook number."""
    text = Path(readme).read_text(encoding="utf-8")
    return {m[1]: int(m[2]) for line in text.splitlines() if (m := _ROW.match(line))}


def _table(times: dict[str, StudyTime]) -> str:
    lines = ["| # | words | exercises | study time |", "|---|---:|---:|---:|"]
    lines += [
        f"| {n} | {t.words:,} | {t.exercises} | about {t.minutes} min |" for n, t in times.items()
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the study times; with ``--check README``, exit 1 if the README states others."""
    parser = argparse.ArgumentParser(prog="python -m utils.course_map", description=__doc__)
    parser.add_argument("--check", metavar="README", help="compare with this README's course map")
    args = parser.parse_args(argv)
    times = study_times()
    print(_table(times))
    if not args.check:
        return 0
    stated = readme_times(args.check)
    wrong = [
        f"{n}: README says about {stated.get(n)} min, the rule gives {t.minutes}"
        for n, t in times.items()
        if stated.get(n) != t.minutes
    ]
    for line in wrong:
        print(line, file=sys.stderr)
    if wrong:
        print(
            f"Update the 'Study time' column of {args.check} to the table above.", file=sys.stderr
        )
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
