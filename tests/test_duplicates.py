"""The repeated-code check finds repeats and only repeats (make lint runs it on the
repository itself)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from utils import duplicates

BODY = """
    total = 0
    for item in items:
        if item.weight > limit:
            total += item.weight * factor
        elif item.weight < 0:
            raise ValueError(item)
    return round(total, digits)
"""


def _write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_a_repeated_body_is_found_in_two_files_and_in_one(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.py", f"def weigh(items, limit, factor, digits):{BODY}")
    second = _write(
        tmp_path,
        "b.py",
        f"# another module\ndef total(items, limit, factor, digits):  # same body{BODY}",
    )
    (repeat,) = duplicates.find_repeats([first, second])
    assert repeat.lines == 7
    assert repeat.first[1:] == (2, 8) and repeat.second[1:] == (3, 9)
    assert "7 lines repeated" in str(repeat)
    assert duplicates.main([str(first), str(second)]) == 1
    assert duplicates.main([str(first)]) == 0
    # Twice in the same file, with other code between: found too.
    both = _write(
        tmp_path,
        "c.py",
        f"def one(items, limit, factor, digits):{BODY}\n"
        f"x = 1\n\ndef two(items, limit, factor, digits):{BODY}",
    )
    assert len(duplicates.find_repeats([both])) == 1
    # Five lines in common are not a repeat.
    short = "\n".join(BODY.splitlines()[:6]) + "\n            pass\n    return total\n"
    other = _write(tmp_path, "d.py", f"def five(items, limit, factor, digits):{short}")
    assert duplicates.find_repeats([first, other]) == []


def test_what_is_not_significant(tmp_path: Path) -> None:
    source = '''
        """A module."""
        import os
        from pathlib import Path

        CASES = [
            ("no champion", 0.70, 45.0, None, True),
            ("cheaper", 0.80, 41.0, 41.5, True),
            ("same", 0.80, 41.5, 41.5, False),
        ]


        def f(a: int,
              b: str) -> int:
            """Docs."""
            # a comment
            return a  # trailing
        '''
    lines = duplicates.significant_lines(textwrap.dedent(source))
    assert lines == [(6, "CASES = ["), (17, "return a")]
    # An f-string is code, a plain string is data.
    assert duplicates.significant_lines('x = [\n    f"{a}",\n    "b",\n]\n') == [
        (1, "x = ["),
        (2, 'f"{a}",'),
    ]
