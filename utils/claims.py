"""Numbers in the text that the code backs: the course's claims convention.

A number a student or lecturer reads in a notebook's or deck's markdown is one of three kinds:

* **printed**: a code cell prints it from a variable, and the prose does not repeat it;
* **asserted**: the prose writes it as a link to a claim, ``[0.66](#claim:candidate-auc)``, and a
  code cell of the same notebook or deck checks it against the computation with
  ``stated("candidate-auc", auc, "0.66")``, which fails when the two disagree;
* **cited**: a fact from the literature or the lecture, with its source in the same sentence
  (``Sculley et al. (2015)``, ``(Breck et al., 2017)``, ``*Title*, NeurIPS 2015``, ``the
  lecture``); a quotation (``>`` lines) counts as one sentence with the line after it.

Everything else with a digit in it must be **structure**, by the rule :func:`unmarked_numbers`
applies (notebook, deck, section and exercise numbers, inline code, link targets, numeric
literals of a ``python`` block, versions of named software, dates, and small counts spelled out
in words). CONTRIBUTING.md explains the convention; ``python -m utils.claims FILE...`` lists the
numbers of a notebook that are none of these, and ``tests/test_claims.py`` fails on any of them.

``stated`` is the run-time half: the stated text's own precision is the tolerance (``"0.66"``
holds for 0.655 to 0.665, ``"11,660"`` for 11,659.5 to 11,660.5) unless ``tol`` says otherwise,
so a maintainer who rounds differently in the prose must change the call too.
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

__all__ = [
    "ClaimMismatch",
    "Number",
    "stated",
    "parse_stated",
    "claim_links",
    "stated_calls",
    "unmarked_numbers",
    "main",
]

CLAIM_LINK = re.compile(r"\[([^\]\n]*?)\]\(#claim:([a-z0-9][a-z0-9-]*)\)")
"""A claim in markdown: the link text is the number as the prose writes it."""


class ClaimMismatch(AssertionError):
    """The number the text states is not what the code computed."""


def parse_stated(text: str) -> tuple[float, float]:
    """The value of a number as the prose writes it, and half a unit of its last digit.

    ``"0.66"`` gives (0.66, 0.005); ``"11,660"`` gives (11660, 0.5); ``"-3.0"`` gives (-3, 0.05).
    A trailing ``%`` or unit is not allowed: the link text is the number alone.

    Raises:
        ValueError: the text is not a plain decimal number.
    """
    cleaned = text.strip().replace(",", "").replace("\u2212", "-")
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?", cleaned):
        raise ValueError(
            f"{text!r} is not a plain number: a claim's link text is the number alone, with "
            "its unit outside the link, e.g. [11,660](#claim:saving) EUR."
        )
    try:
        value = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern above rules it out
        raise ValueError(f"{text!r} is not a number") from None
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return float(value), 0.5 * 10.0**exponent


def stated(claim_id: str, value: object, text: str, *, tol: float | None = None) -> None:
    """Check that the number the prose states (``text``) is what the code computed (``value``).

    The prose links the number to this call with ``[text](#claim:claim_id)``;
    ``tests/test_claims.py`` checks that the link text and ``text`` are the same string.

    Args:
        claim_id: the name after ``#claim:`` in the markdown.
        value: the computed number (anything ``float()`` accepts).
        text: the number exactly as the prose writes it, e.g. ``"0.66"`` or ``"520,620"``.
        tol: the largest difference allowed; by default half a unit of the last digit of
            ``text`` (the prose's own rounding). Give it when the prose says "about".

    Raises:
        ClaimMismatch: the value is further from the stated number than ``tol``, or not a
            number; the message says what to change.
    """
    number, rounding = parse_stated(text)
    allowed = rounding if tol is None else float(tol)
    try:
        computed = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ClaimMismatch(
            f"Claim {claim_id!r}: the text states {text}, but the code gave {value!r}, "
            "which is not a number."
        ) from None
    # A little slack for binary floating point: 0.665 must count as "0.66 or 0.67".
    if math.isnan(computed) or abs(computed - number) > allowed * (1 + 1e-9) + 1e-12:
        raise ClaimMismatch(
            f"Claim {claim_id!r}: the text states {text} (allowed ±{allowed:g}), but this run "
            f"computed {computed:.6g}. If the computation is right, change the number in the "
            f"text and in this stated(...) call together; if not, find what changed."
        )


# ------------------------------------------------------------------------------------------
# The static half: which numbers of a notebook's markdown are neither claims nor structure
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A number found in the text of a notebook."""

    path: str
    cell: int  # index of the cell in the notebook
    text: str  # the number as written
    context: str  # the line around it

    def __str__(self) -> str:
        return f"{self.path}, cell {self.cell}: {self.text!r} in: {self.context.strip()[:140]}"


NUMBER_WORDS = (
    "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|"
    "thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion"
)
_NUMBER = re.compile(
    rf"(?<![\w.])(?:\d[\d,]*(?:\.\d+)?|\.\d+|(?:{NUMBER_WORDS})(?:-\w+)?)(?![\w])",
    re.IGNORECASE,
)

# Structure: the rule, in the order it is applied. Each pattern removes text that is not a claim.
_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_IMAGE_OR_LINK_TARGET = re.compile(r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_URL = re.compile(r"https?://\S+")
_HEADING_NUMBER = re.compile(r"^(#{1,6}\s+)(?:\d+(?:\.\d+)*\.?|\d\d\s*·)", re.M)
_REFERENCES = re.compile(
    r"\b(?:notebooks?|decks?|exercises?|sections?|steps?|parts?|figure|table|chapter|slides?)"
    r"\s+\d+(?:\.\d+)*(?:\s*(?:,|-|–|and|or|to)\s*\d+(?:\.\d+)*)*",
    re.IGNORECASE,
)
_NOTEBOOK_ID = re.compile(
    r"(?<![\w.,])(?:0\d|1[01])(?:\.\d)?(?=\s*·|_[a-z])"  # 08 · Title, 08_continuous_delivery
    r"|(?<![\w.,])0\d(?:\.\d)?(?![\w.,]\d)"  # 04, 07.2: zero-padded, as every notebook
    r"|(?<![\w.,])(?:0\d|1[01])\.\d(?![\w.,]\d)"  # exercise ids 10.2, 11.1
    r"|(?<=\()(?:1[01])(?=\))"  # (10), (11)
)
_MATH = re.compile(r"\$[^$\n]+\$")
_SOFTWARE_VERSION = re.compile(
    r"\b(?:MLflow|Python|scikit-learn|sklearn|pandas|NumPy|numpy|JupyterLab|Jupyter|RISE|"
    r"PostgreSQL|Chromium|pytest|nbval|Node(?:\.js)?|uv|pip|Docker|Kubeflow|Airflow|DVC|"
    r"Spark|Ubuntu|macOS|Windows|HTTP|IPv|Level|level|MLOps level)\s*v?\d+(?:\.\d+)*(?:\+)?"
)
_DATE = re.compile(
    r"\b(?:(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\s+)?(?:1[89]|20)\d\d(?:s|/\d{2,4})?\b"
)
_CITATION_SENTENCE = re.compile(
    r"et al\b|\(\s*(?:[A-Z][\w'.-]*\s*(?:,|and|&)?\s*)+,?\s*(?:1[89]|20)\d\d[a-z]?\s*[),;:]"
    r"|\b[A-Z][\w'-]+\s+\((?:1[89]|20)\d\d\)|\b(?:NeurIPS|NIPS|ICML|KDD|IEEE|ACL|SIGMOD|VLDB|"
    r"arXiv|O'Reilly|Google Cloud|DTU)\b|\b[Tt]he lecture\b"
)


def _python_block_prose(code: str) -> str:
    """The strings and comments of a python block (prose); its numeric literals are code."""
    parts = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type in (tokenize.STRING, tokenize.COMMENT):
                parts.append(token.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code
    return "\n".join(parts)


def _sentences(text: str) -> Iterator[str]:
    """Sentences, list items and table rows of markdown: the scope of a citation."""
    protected = re.sub(r"^(\s*)\d+\.(?=\s)", r"\1", text, flags=re.M)  # list numbering
    protected = re.sub(r"\bet al\.", "et al", protected)
    # A quotation and the line that names its source are one unit; a quotation whose last
    # line names its source ends at the blank line after it.
    protected = re.sub(r"((?:^>.*\n)+)\s*\n(?=\S)", _join_quote_and_source, protected, flags=re.M)
    protected = re.sub(r"\b(e\.g|i\.e|p|pp|vs|cf|Fig|No)\.", r"\1", protected)
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.|\|)\s)", protected):
        yield from re.split(r"(?<=[.!?])\s+(?=[A-Z*_(\[])", block)


def _join_quote_and_source(match: re.Match[str]) -> str:
    """A quotation and the paragraph after it, joined unless the quotation cites itself."""
    quote = match.group(1)
    last_line = quote.rstrip("\n").rsplit("\n", 1)[-1]
    return match.group(0) if _CITATION_SENTENCE.search(last_line) else quote


def markdown_prose(source: str) -> Iterator[str]:
    """The sentences of a markdown cell that can hold claims, with structure taken out.

    Claim links are kept (:func:`unmarked_numbers` skips them); everything the structure rule
    names is removed: HTML comments and tags, inline code, link and image targets, URLs, the
    numeric literals of ``python`` blocks, heading numbers, references to notebooks, decks,
    sections and exercises, versions of named software, and dates.
    """
    text = _HTML_COMMENT.sub(" ", source)

    def fence(match: re.Match[str]) -> str:
        language = match.group(1).lower()
        body = match.group(2)
        return "\n" + (_python_block_prose(body) if language in ("python", "py") else body) + "\n"

    text = _FENCE.sub(fence, text)
    text = _INLINE_CODE.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _IMAGE_OR_LINK_TARGET.sub(lambda m: "]" + _claim_target(m.group(0)), text)
    text = _HTML_TAG.sub(" ", text)
    text = _HEADING_NUMBER.sub(r"\1", text)
    for sentence in _sentences(text):
        if _CITATION_SENTENCE.search(sentence):
            continue  # a cited fact: its source is in the same sentence
        sentence = _MATH.sub(_math_without_integers, sentence)
        sentence = _REFERENCES.sub(" ", sentence)
        sentence = _NOTEBOOK_ID.sub(" ", sentence)
        sentence = _SOFTWARE_VERSION.sub(" ", sentence)
        sentence = _DATE.sub(" ", sentence)
        yield sentence


def _math_without_integers(match: re.Match[str]) -> str:
    """A formula's integers (``$t-1$``) are structure; a decimal in it is a claim."""
    return re.sub(r"(?<![\d.])\d+(?![\d.])", " ", match.group(0))


def _claim_target(target: str) -> str:
    """Keep ``(#claim:id)`` link targets, drop all others."""
    match = re.match(r"\]\((#claim:[a-z0-9-]+)\)", target)
    return f"({match.group(1)})" if match else " "


def claim_links(source: str) -> list[tuple[str, str]]:
    """``(claim_id, text)`` of every claim link in a markdown cell."""
    return [(m.group(2), m.group(1)) for m in CLAIM_LINK.finditer(source)]


def unmarked_numbers(path: str | Path) -> list[Number]:
    """The numbers of a notebook's markdown that are neither claim links, cited nor structure."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    found = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        for sentence in markdown_prose(source):
            bare = CLAIM_LINK.sub(" ", sentence)
            for match in _NUMBER.finditer(bare):
                word = match.group(0)
                if word[0].isalpha() and not re.match(NUMBER_WORDS, word, re.I):
                    continue
                line = next((x for x in bare.splitlines() if word in x), bare)
                found.append(Number(str(path), index, word, line))
    return found


def stated_calls(code: str) -> list[tuple[str, str]]:
    """``(claim_id, text)`` of every ``stated("id", value, "text")`` call in a code cell.

    Only calls with the id and the text as string literals count: the static test matches them
    with the prose, so they must be readable without running the code.
    """
    import ast

    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name != "stated" or len(node.args) < 3:
            continue
        first, third = node.args[0], node.args[2]
        if isinstance(first, ast.Constant) and isinstance(third, ast.Constant):
            calls.append((str(first.value), str(third.value)))
    return calls


def notebook_claims(
    path: str | Path,
) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """The claim links of a notebook's markdown and the ``stated`` calls of its code cells.

    Returns:
        ``(links, calls)``, each a list of ``(cell index, claim_id, text)``.
    """
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    links, calls = [], []
    for index, cell in enumerate(notebook["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            links += [(index, cid, text) for cid, text in claim_links(source)]
        elif cell["cell_type"] == "code":
            calls += [(index, cid, text) for cid, text in stated_calls(source)]
    return links, calls


def claim_problems(path: str | Path) -> list[str]:
    """Everything wrong with a notebook's claims, one message each; empty when all is well."""
    problems = [
        f"{n}: a number that is not printed, asserted or cited, and not structure "
        "(see 'Numbers in the text' in CONTRIBUTING.md)"
        for n in unmarked_numbers(path)
    ]
    links, calls = notebook_claims(path)
    asserted: dict[str, set[str]] = {}
    for _, cid, text in calls:
        asserted.setdefault(cid, set()).add(text)
    linked: dict[str, set[str]] = {}
    for cell, cid, text in links:
        linked.setdefault(cid, set()).add(text)
        try:
            parse_stated(text)
        except ValueError as error:
            problems.append(f"{path}, cell {cell}: claim {cid!r}: {error}")
            continue
        if cid not in asserted:
            problems.append(
                f"{path}, cell {cell}: claim {cid!r} ({text}) has no stated({cid!r}, ..., "
                f"{text!r}) in a code cell of the same notebook"
            )
        elif text not in asserted[cid]:
            problems.append(
                f"{path}, cell {cell}: the text states {text} for claim {cid!r}, the code "
                f"asserts {sorted(asserted[cid])}: change them together"
            )
    for cell, cid, text in calls:
        if cid not in linked:
            problems.append(
                f"{path}, cell {cell}: stated({cid!r}, ..., {text!r}) asserts a claim no "
                f"markdown cell makes; link the number with [{text}](#claim:{cid})"
            )
    return problems


def main(argv: Iterable[str] | None = None) -> int:
    """``python -m utils.claims FILE...``: list the claim problems of notebooks and decks."""
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("usage: python -m utils.claims NOTEBOOK.ipynb ...", file=sys.stderr)
        return 2
    count = 0
    for path in paths:
        for problem in claim_problems(path):
            print(problem)
            count += 1
    print(f"{count} problem(s) in {len(paths)} file(s)", file=sys.stderr)
    return 1 if count else 0


if __name__ == "__main__":
    raise SystemExit(main())
