"""The instructor's class progress page (``utils.classroom.progress_page``) in a real browser.

A page built from a made-up class (solved, tried and not attempted cells) is served from
127.0.0.1 and opened in headless Chromium with the browser journey's script
(``tests/e2e/journey.mjs``, mode ``page``). The page must load with no request to another host
(it has no external assets), every cell must show its count or symbol as text (not colour
alone), and the text of every kind of cell must keep a contrast of at least 4.5:1 with its
background (WCAG 2.1, level AA for normal text), which is what a reader sees in grey.
``MLOPS_E2E_UPDATE_DOCS=1`` also writes ``docs/screenshots/class-progress.png``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from pathlib import Path

import pytest
from test_e2e import (
    DOCS_SCREENSHOTS,
    JOURNEY_SCRIPT,
    SCREENSHOTS,
    TIMEOUTS_MS,
    _browser_tools,
    _optimised_png,
    _run_journey_script,
)

from utils import classroom
from utils.progress import Outcome

MIN_CONTRAST = 4.5  # WCAG 2.1 success criterion 1.4.3 (contrast, minimum), normal text


def _outcome(exercise: str, attempts: int, solved: bool) -> Outcome:
    at = "2026-01-12T10:00:00"
    return Outcome(
        exercise, "correct" if solved else "incorrect", attempts, at, at, at if solved else None
    )


def made_up_class() -> classroom.ClassProgress:
    """Five students and four exercises: every kind of cell, and shades of wrong answers."""
    exercises = ["05.1", "05.2", "06.1", "06.2"]
    plan = {  # exercise: (attempts, solved), missing = not attempted
        "alice": {"05.1": (1, True), "05.2": (2, True), "06.1": (1, True), "06.2": (3, True)},
        "bob": {"05.1": (2, True), "05.2": (1, False), "06.1": (4, False)},
        "chen": {"05.1": (1, True), "05.2": (6, False)},
        "dana": {"05.1": (3, False)},
        "emil": {},
    }
    students = {
        name: {e: _outcome(e, a, s) for e, (a, s) in cells.items()} for name, cells in plan.items()
    }
    return classroom.ClassProgress(exercises, students)


def _luminance(rgb: list[float]) -> float:
    """Relative luminance of an sRGB colour (WCAG 2.1)."""

    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: list[float], b: list[float]) -> float:
    """WCAG contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_is_the_wcag_ratio():
    assert contrast([0, 0, 0], [255, 255, 255]) == pytest.approx(21.0)
    assert contrast([119, 119, 119], [255, 255, 255]) == pytest.approx(4.48, abs=0.01)
    assert contrast([10, 20, 30], [10, 20, 30]) == 1.0


def test_made_up_class_has_every_kind_of_cell():
    report = made_up_class()
    labels = {o.label for s in report.students.values() for o in s.values()}
    assert labels == {"solved", "tried"}
    assert any(len(s) < len(report.exercises) for s in report.students.values())


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        pass


@pytest.mark.browser
def test_class_progress_page_is_offline_and_readable_in_grey(tmp_path):
    node, chromium = _browser_tools()
    site = tmp_path / "site"
    site.mkdir()
    report = made_up_class()
    classroom.progress_page(report, site / classroom.PROGRESS_PAGE)
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{classroom.PROGRESS_PAGE}"
    config = {
        "mode": "page",
        "page": url,
        "screenshots": str(SCREENSHOTS / "progress-page"),
        "profile": str(tmp_path / "browser-profile"),
        "timeouts": TIMEOUTS_MS,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    try:
        _run_journey_script(
            [node, str(JOURNEY_SCRIPT), str(tmp_path / "config.json"), str(tmp_path / "r.json")],
            {**os.environ, "CHROMIUM": chromium},
            tmp_path / "browser.log",
        )
    finally:
        server.shutdown()
        server.server_close()
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["error"] is None, result["error"]
    page = result["page"]
    assert page["error"] is None, page["error"]
    # Offline: nothing but the page itself (and the browser's own favicon request) was asked for.
    assert result["outsideRequests"] == []
    origin = url.rsplit("/", 1)[0]
    assert page["requests"] and all(r.startswith(origin + "/") for r in page["requests"])

    cells = {c["className"]: [] for c in page["cells"]}
    for cell in page["cells"]:
        cells[cell["className"]].append(cell)
    # Students x exercises cells, plus one "solved" count per student.
    n = len(report.students)
    assert len(page["cells"]) == n * (len(report.exercises) + 1)
    solved = sum(1 for s in report.students.values() for o in s.values() if o.solved)
    tried = sum(1 for s in report.students.values() for o in s.values() if not o.solved)
    assert (len(cells["ok"]), len(cells["bad"])) == (solved, tried)
    assert len(cells["none"]) == n * len(report.exercises) - solved - tried
    # Every cell says what it is in text: a symbol and the count, or the not-attempted dot.
    for cell in cells["ok"]:
        assert cell["text"].startswith("\u2714") and cell["text"].split()[-1].isdigit(), cell
    for cell in cells["bad"]:
        assert cell["text"].startswith("\u2718") and cell["text"].split()[-1].isdigit(), cell
    for cell in cells["none"]:
        assert cell["text"] == "\u00b7", cell
    # Readable in grey: every cell's text against its own background, at least 4.5:1.
    low = [
        (c["className"], c["text"], round(contrast(c["color"], c["background"]), 2))
        for c in page["cells"]
        if contrast(c["color"], c["background"]) < MIN_CONTRAST
    ]
    assert low == [], f"text with a contrast under {MIN_CONTRAST}:1: {low}"
    # The three kinds of cells also differ in grey, not only in colour.
    greys = {k: round(_luminance(v[0]["background"]), 2) for k, v in cells.items() if k != ""}
    assert len(set(greys.values())) == len(greys), greys

    if os.environ.get("MLOPS_E2E_UPDATE_DOCS") == "1":
        _optimised_png(Path(page["shot"]), DOCS_SCREENSHOTS / "class-progress.png")
