"""Repeated code in the course's Python files: ``make lint`` fails on a new repeat.

A repeat is a run of at least :data:`MIN_LINES` consecutive significant lines that appears
twice, in two files or in one. Lines are compared with their indentation stripped, and these
lines are not significant (they are skipped, so they neither make nor break a run):

* blank lines, comments, docstrings, ``import`` lines and the signatures of functions (two
  functions may take the same parameters: pylint's duplicate-code checker skips them too);
* lines without a letter or a digit (closing brackets);
* data lines: lines made only of literals (strings other than f-strings, numbers, ``True``,
  ``False``, ``None``) and punctuation, such as the rows of a table of cases or a dict of
  settings. A table is
  data, written once where it is used; two tables that agree are a matter for a test.

A repeat that must stay says why, in :data:`ALLOWED`, under the two functions it joins.

``python -m utils.duplicates [PATH ...]`` lists the repeats in the given files and folders
(default: ``utils`` and ``benchmarks``) and exits 1 if there is one.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import tokenize
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ALLOWED", "MIN_LINES", "Repeat", "find_repeats", "significant_lines"]

ROOT = Path(__file__).resolve().parent.parent
#: The shortest run of significant lines that counts as a repeat (pylint's duplicate-code
#: checker uses the same unit; its default is 4).
MIN_LINES = 6
#: Repeats that stay, with the reason, by the two functions they join (``file::function``,
#: in sorted order; ``file::`` for code outside a function).
ALLOWED: dict[tuple[str, str], str] = {
    ("utils/classroom.py::status", "utils/classroom.py::status"): (
        "each outcome of the class server's status names every field of ClassServer, so "
        "that one reads what a caller gets without following a helper"
    ),
}

_DATA_TOKENS = {tokenize.STRING, tokenize.NUMBER, tokenize.OP, tokenize.NL, tokenize.NEWLINE}
_DATA_NAMES = {"True", "False", "None"}


@dataclass(frozen=True)
class Repeat:
    """Two places with the same run of significant lines (line numbers from 1, inclusive)."""

    first: tuple[str, int, int]
    second: tuple[str, int, int]
    lines: int

    def __str__(self) -> str:
        (a, a1, a2), (b, b1, b2) = self.first, self.second
        return f"{a}:{a1}-{a2} and {b}:{b1}-{b2}: {self.lines} lines repeated"


def _skipped_lines(source: str) -> set[int]:
    """Line numbers of docstrings, imports and function signatures."""
    skipped: set[int] = set()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skipped.update(range(node.lineno, node.body[0].lineno))
        if isinstance(node, ast.Import | ast.ImportFrom):
            skipped.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            first = body[0]
            skipped.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return skipped


def _is_data(line: str) -> bool:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False  # part of a longer string or bracket: judge it as code
    for token in tokens:
        if token.type in _DATA_TOKENS - {tokenize.STRING} or token.type == tokenize.ENDMARKER:
            continue
        if token.type == tokenize.NAME and token.string in _DATA_NAMES:
            continue
        if (
            token.type == tokenize.STRING
            and "f" not in token.string.split("'")[0].split('"')[0].lower()
        ):
            continue
        return False
    return True


def significant_lines(source: str) -> list[tuple[int, str]]:
    """The significant lines of a Python source, as (line number, stripped text)."""
    skipped = _skipped_lines(source)
    comments = {
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    result = []
    for number, raw in enumerate(source.splitlines(), start=1):
        text = raw.strip()
        if number in skipped or not any(c.isalnum() for c in text):
            continue
        if text.startswith("#") or (number in comments and text.startswith("#")):
            continue
        if "#" in text and number in comments:
            text = text[: text.index("#")].rstrip()  # a trailing comment is not code
        if _is_data(text):
            continue
        result.append((number, text))
    return result


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def _name(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def _functions(source: str) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of every function, innermost last."""
    return [
        (node.lineno, node.end_lineno or node.lineno, node.name)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def _where(name: str, functions: list[tuple[int, int, str]], line: int) -> str:
    inside = [f for f in functions if f[0] <= line <= f[1]]
    return f"{name}::{max(inside)[2] if inside else ''}"


def find_repeats(paths: list[Path], min_lines: int = MIN_LINES) -> list[Repeat]:
    """Every repeat of at least ``min_lines`` significant lines in ``paths`` (files or
    folders), each run reported once at its full length, :data:`ALLOWED` ones left out."""
    sources = {_name(p): p.read_text(encoding="utf-8") for p in _files(paths)}
    lines = {name: significant_lines(source) for name, source in sources.items()}
    functions = {name: _functions(source) for name, source in sources.items()}
    windows: dict[tuple[str, ...], list[tuple[str, int]]] = defaultdict(list)
    for name, numbered in lines.items():
        texts = [text for _, text in numbered]
        for i in range(len(texts) - min_lines + 1):
            windows[tuple(texts[i : i + min_lines])].append((name, i))
    # Pairs of window starts that match, grown into runs: (a, i) ~ (b, j) and (a, i+1) ~ ...
    pairs: set[tuple[str, int, str, int]] = set()
    for places in windows.values():
        for k, (a, i) in enumerate(places):
            for b, j in places[k + 1 :]:
                if (a, i) != (b, j):
                    pairs.add((a, i, b, j))
    repeats = []
    for a, i, b, j in sorted(pairs):
        if (a, i - 1, b, j - 1) in pairs:
            continue  # inside a run that starts earlier
        if a == b and j < i + min_lines:
            continue  # a run that overlaps itself (repeated lines in a row)
        length = min_lines
        while (a, i + length - min_lines + 1, b, j + length - min_lines + 1) in pairs:
            length += 1
        first, second = lines[a], lines[b]
        joined = sorted(
            (_where(a, functions[a], first[i][0]), _where(b, functions[b], second[j][0]))
        )
        if tuple(joined) in ALLOWED:
            continue
        repeats.append(
            Repeat(
                (a, first[i][0], first[i + length - 1][0]),
                (b, second[j][0], second[j + length - 1][0]),
                length,
            )
        )
    return repeats


def main(argv: list[str] | None = None) -> int:
    """List the repeats in the given paths (default ``utils`` and ``benchmarks``); exit 1 if
    there is one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders")
    args = parser.parse_args(argv)
    paths = args.paths or [ROOT / "utils", ROOT / "benchmarks"]
    repeats = find_repeats(paths)
    for repeat in repeats:
        print(repeat)
    if repeats:
        print(
            f"{len(repeats)} repeat(s) of {MIN_LINES} or more lines: move the code into one "
            "function, or give the reason it must stay in utils.duplicates.ALLOWED.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
