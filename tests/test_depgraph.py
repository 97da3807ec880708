"""CONTRIBUTING.md draws the imports between the modules of utils as they are."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from utils import depgraph

ROOT = Path(__file__).resolve().parent.parent
CONTRIBUTING = ROOT / "CONTRIBUTING.md"


def test_contributing_draws_the_imports_of_utils() -> None:
    assert depgraph.main(["--check", str(CONTRIBUTING)]) == 0, (
        "run `python -m utils.depgraph --write CONTRIBUTING.md` and commit the result"
    )


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    utils = tmp_path / "utils"
    for name, source in files.items():
        path = utils / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return utils


def test_the_graph_tells_top_level_lazy_and_type_only_imports_apart(tmp_path: Path) -> None:
    utils = _package(
        tmp_path,
        {
            "__init__.py": '"""The package."""\n',
            "paths.py": "import os\n",
            "tracking.py": "from utils.paths import state_dir\n",
            "lab.py": """
                from typing import TYPE_CHECKING
                from utils import paths, tracking
                if TYPE_CHECKING:
                    from utils import delivery
                def run():
                    import utils.delivery
            """,
            "delivery.py": """
                import utils.tracking
                def later():
                    from utils.paths import state_dir
                    from utils import tracking
            """,
            "checks.py": """
                def load(n):
                    from utils.exercises import nb03
            """,
            "exercises/__init__.py": "",
            "exercises/nb03.py": "from utils.checks import register\nfrom . import nb04\n",
            "exercises/nb04.py": "from ..checks import register\n",
        },
    )
    g = depgraph.graph(utils)
    assert g.modules == ("checks", "delivery", "exercises", "lab", "paths", "tracking")
    assert g.top == {
        ("tracking", "paths"),
        ("lab", "paths"),
        ("lab", "tracking"),
        ("delivery", "tracking"),
        ("exercises", "checks"),
    }
    # lab imports delivery in a function only (the TYPE_CHECKING import is not an edge);
    # delivery's lazy import of tracking is already a top-level one.
    assert g.lazy == {("lab", "delivery"), ("delivery", "paths"), ("checks", "exercises")}
    assert depgraph.upward(g) == {("checks", "exercises")}
    assert depgraph.layers(g) == [
        ["checks", "paths"],
        ["exercises", "tracking"],
        ["delivery"],
        ["lab"],
    ]
    section = depgraph.render(g)
    assert "    lab -.-> delivery" in section and "    lab --> tracking" in section
    assert (
        "| 0 | `checks`, `paths` |" in section and "`checks` imports `exercises` inside" in section
    )


@pytest.mark.slow
def test_a_new_import_makes_the_check_fail(tmp_path: Path) -> None:
    text = f"# Contributing\n\n{depgraph.render()}\n\n## Next\n"
    drawn = tmp_path / "CONTRIBUTING.md"
    drawn.write_text(text)
    assert depgraph.main(["--check", str(drawn)]) == 0
    # An edge the imports do not have (or lack): the check names the command that fixes it.
    drawn.write_text(text.replace("    tracking --> processes\n", ""))
    assert depgraph.main(["--check", str(drawn)]) == 1
    assert depgraph.main(["--write", str(drawn)]) == 0
    assert drawn.read_text() == text
    drawn.write_text("# Contributing\n")
    with pytest.raises(ValueError, match="no section between"):
        depgraph.main(["--check", str(drawn)])


def test_a_cycle_of_top_level_imports_is_an_error(tmp_path: Path) -> None:
    utils = _package(
        tmp_path,
        {
            "a.py": "from utils import b\n",
            "b.py": "from utils import c\n",
            "c.py": "import utils.a",
        },
    )
    with pytest.raises(ValueError, match="cycle: a -> b -> c -> a"):
        depgraph.layers(depgraph.graph(utils))


def test_every_import_of_utils_inside_a_function_says_why() -> None:
    # A sibling import belongs at the top of its module; one kept inside a function says why,
    # with the cost `python benchmarks/import_cost.py` measured (or the cycle it avoids).
    unexplained = [
        f"{f.path.relative_to(ROOT)}:{f.line} imports {f.target}"
        for f in depgraph.function_imports()
        if not f.reason
    ]
    assert not unexplained, (
        f"move these imports to the top of their module, or put `{depgraph.DEFERRED} <the "
        f"measured reason>` on the line or the line above: {unexplained}"
    )


def test_function_imports_finds_the_unexplained_ones(tmp_path: Path) -> None:
    utils = _package(
        tmp_path,
        {
            "__init__.py": "",
            "paths.py": "import os\n",
            "lab.py": """
                from utils import paths
                def run():
                    import json
                    from utils import tracking, paths
                    def inner():
                        # deferred: utils.delivery loads a server, +2 s
                        import utils.delivery
                    return lambda: __import__("os")
                class Lab:
                    def start(self):
                        from utils.figures import CourseFigure  # deferred: matplotlib
                        from utils.stack import ranking_figure
            """,
            "exercises/__init__.py": "",
            "exercises/nb03.py": "def f():\n    from . import nb04\n    from ..checks import x\n",
        },
    )
    found = [
        (f.path.relative_to(utils).as_posix(), f.line, f.module, f.target, f.reason)
        for f in depgraph.function_imports(utils)
    ]
    assert found == [
        ("exercises/nb03.py", 2, "utils.exercises.nb03", "utils.exercises.nb04", None),
        ("exercises/nb03.py", 3, "utils.exercises.nb03", "utils.checks", None),
        ("lab.py", 5, "utils.lab", "utils.paths", None),
        ("lab.py", 5, "utils.lab", "utils.tracking", None),
        ("lab.py", 8, "utils.lab", "utils.delivery", "utils.delivery loads a server, +2 s"),
        ("lab.py", 12, "utils.lab", "utils.figures", "matplotlib"),
        # the comment ending the line above explains that line only
        ("lab.py", 13, "utils.lab", "utils.stack", None),
    ]
