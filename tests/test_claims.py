"""Every number in the text of a notebook or deck is printed, asserted or cited (utils/claims.py).

The static half runs here: an unmarked number, a claim link without its ``stated(...)`` call, or
a text that differs from the call's fails, naming the file, cell and number. The run-time half
is each ``stated(...)`` call, which runs when nbval executes the notebook and when the decks are
built (``make test``). CONTRIBUTING.md ("Numbers in the text") states the rule.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from utils import claims
from utils.claims import ClaimMismatch, parse_stated, stated
from utils.paths import repo_root

ROOT = repo_root()
FILES = sorted(
    [p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")]
    + [p.relative_to(ROOT).as_posix() for p in (ROOT / "slides").glob("[0-9][0-9]_*.ipynb")]
)


def test_every_notebook_and_deck_is_checked() -> None:
    assert len(FILES) == 24


@pytest.mark.parametrize("path", FILES)
def test_every_number_in_the_text_is_printed_asserted_or_cited(path: str) -> None:
    problems = claims.claim_problems(ROOT / path)
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------------
# The rule, on small notebooks written here
# ------------------------------------------------------------------------------------------


def _notebook(tmp_path: Path, *cells: tuple[str, str]) -> Path:
    path = tmp_path / "nb.ipynb"
    path.write_text(
        json.dumps(
            {
                "cells": [
                    {"cell_type": kind, "metadata": {}, "source": source}
                    | ({"outputs": [], "execution_count": None} if kind == "code" else {})
                    for kind, source in cells
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
    )
    return path


def _unmarked(tmp_path: Path, markdown: str) -> list[str]:
    return [n.text for n in claims.unmarked_numbers(_notebook(tmp_path, ("markdown", markdown)))]


@pytest.mark.parametrize(
    "markdown",
    [
        "# 08 · Continuous delivery\n\n## 3. Train the candidate",
        "As notebook 05 showed, and sections 5, 7 and 8 repeat; exercise 07.2 asks it. (04)",
        "Sculley et al. (2015) estimate at most 5 % ML code.",
        "A rubric of 28 tests (Breck et al., 2017).",
        "D. Sculley et al., *Hidden Technical Debt in Machine Learning Systems*, NeurIPS 2015.",
        "The lecture dates DevOps to the late 1980s; it is 2 words here, says the lecture.",
        "> losing $465 million in 45 minutes\n\nSculley et al. (2015) quote it.",
        "Run `mlflow server --port 5000` and open [the UI](http://127.0.0.1:5000/#/models).",
        "Aliases replaced stages in MLflow 2.9; the course needs Python 3.11.",
        "Data from January 2026, the months of 2025.",
        "1. first\n2. second\n\nthree policies, two servers.",
        "At month $t-1$ the loop trains on $t-3$ to $t-2$.",
        "```python\nrun(n_estimators=200)  # a parameter, not a claim\n```",
        "The candidate's ROC AUC is [0.66](#claim:candidate-auc).",
        '<img src="figure-12.png" width="600">',
    ],
)
def test_structure_and_marked_numbers_pass(tmp_path: Path, markdown: str) -> None:
    assert _unmarked(tmp_path, markdown) == []


@pytest.mark.parametrize(
    ("markdown", "numbers"),
    [
        ("The candidate's ROC AUC is 0.66 against the champion's 0.83.", ["0.66", "0.83"]),
        ("The trigger saves 11,660 EUR.", ["11,660"]),
        ("It is thirty times less.", ["thirty"]),
        ("We simulate 14 weeks of 1,000 customers.", ["14", "1,000"]),
        ('```\n200  {"predictions": [[0.917, 0.083]]}\n```', ["200", "0.917", "0.083"]),
        (
            '```python\nregistry.promote(m, 2, reason="ROC AUC 0.844 against 0.837")\n```',
            [
                "0.844",
                "0.837",
            ],
        ),
        ("At month $t-1$ the p-value is $p < 0.005$.", ["0.005"]),
        ("28 of 28 runs are identical.", ["28", "28"]),
    ],
)
def test_claims_without_a_mark_are_found(tmp_path: Path, markdown: str, numbers: list[str]) -> None:
    assert _unmarked(tmp_path, markdown) == numbers


def test_a_paragraph_after_a_quote_that_cites_itself_is_checked(tmp_path: Path) -> None:
    markdown = (
        "## The paper\n\n"
        "> Only a small fraction of real-world ML systems is composed of the ML code.\n"
        "> <small>(Sculley et al., 2015)</small>\n\n"
        "The demo runs 8 servers."
    )
    assert _unmarked(tmp_path, markdown) == ["8"]


def test_a_claim_link_needs_its_stated_call_with_the_same_text(tmp_path: Path) -> None:
    text = ("markdown", "ROC AUC [0.66](#claim:candidate-auc) and [8](#claim:drop) points.")
    good = _notebook(
        tmp_path,
        text,
        ("code", 'stated("candidate-auc", auc, "0.66")\nclaims.stated("drop", d, "8", tol=1)'),
    )
    assert claims.claim_problems(good) == []

    changed_text = _notebook(tmp_path, text, ("code", 'stated("candidate-auc", auc, "0.67")'))
    problems = "\n".join(claims.claim_problems(changed_text))
    assert "the text states 0.66 for claim 'candidate-auc'" in problems
    assert "claim 'drop' (8) has no stated('drop'" in problems

    orphan = _notebook(tmp_path, ("markdown", "no claims"), ("code", 'stated("x", 1, "1")'))
    assert "asserts a claim no markdown cell makes" in "\n".join(claims.claim_problems(orphan))

    unit_inside = _notebook(
        tmp_path, ("markdown", "[11,660 EUR](#claim:s)"), ("code", 'stated("s", v, "11,660 EUR")')
    )
    assert "is not a plain number" in "\n".join(claims.claim_problems(unit_inside))


# ------------------------------------------------------------------------------------------
# stated: the run-time half
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "rounding"),
    [("0.66", 0.66, 0.005), ("11,660", 11660, 0.5), ("-3.0", -3.0, 0.05), ("8", 8, 0.5)],
)
def test_parse_stated_reads_the_texts_precision(text: str, value: float, rounding: float) -> None:
    parsed, half_unit = parse_stated(text)
    assert parsed == value and math.isclose(half_unit, rounding)


@pytest.mark.parametrize("text", ["", "0.66 EUR", "8 %", "about 3", "1e3", "0,66.1.2"])
def test_parse_stated_refuses_what_is_not_a_plain_number(text: str) -> None:
    with pytest.raises(ValueError, match="not a plain number"):
        parse_stated(text)


@pytest.mark.parametrize(
    ("value", "text", "tol"),
    [(0.655, "0.66", None), (0.6649, "0.66", None), (11660.4, "11,660", None), (7.2, "8", 1)],
)
def test_stated_accepts_the_computation_the_text_rounds(value, text, tol) -> None:  # noqa: ANN001
    stated("x", value, text, tol=tol)


@pytest.mark.parametrize(
    ("value", "text", "tol"),
    [
        (0.671, "0.66", None),
        (0.83, "0.66", None),
        (11661.0, "11,660", None),
        (6.9, "8", 1),
        (float("nan"), "0.66", None),
        ("0.66", "0.66", None),
        (None, "0.66", None),
    ],
)
def test_stated_fails_when_text_and_computation_disagree(value, text, tol) -> None:  # noqa: ANN001
    if isinstance(value, str):  # a string that reads as the number is accepted: float() takes it
        stated("x", value, text, tol=tol)
        return
    with pytest.raises(ClaimMismatch, match="Claim 'x': the text states"):
        stated("x", value, text, tol=tol)


def test_stated_names_the_fix() -> None:
    with pytest.raises(ClaimMismatch, match=r"change the number in the text and in this"):
        stated("candidate-auc", 0.71, "0.66")


def test_command_line_lists_problems_and_exits_non_zero(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    path = _notebook(tmp_path, ("markdown", "It saves 11,660 EUR."))
    assert claims.main([str(path)]) == 1
    assert "'11,660'" in capsys.readouterr().out
    clean = _notebook(tmp_path, ("markdown", "No numbers here."))
    assert claims.main([str(clean)]) == 0
