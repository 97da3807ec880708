"""Which module of ``utils`` imports which: the dependency graph drawn in CONTRIBUTING.md.

The graph is read from the source, never typed: an edge ``a --> b`` means that module ``a``
imports module ``b`` of ``utils``, at the top of the file (a solid arrow) or only inside a
function (a dotted arrow ``-.->``, an import paid for when that function runs). Imports for
type hints only (under ``if TYPE_CHECKING:``) are not edges. A package (``utils/exercises``,
``utils/service``) is one node: the imports between its own modules are not drawn.

The modules are listed by layer: layer 0 imports no other module of ``utils``, and every
module sits one layer above the highest module it imports. An import inside a function may
point upwards when it closes a cycle (:func:`upward`: ``checks`` loads the exercise modules
that register their checks with it); any other cycle is an error.

``python -m utils.depgraph`` prints the section; ``python -m utils.depgraph --check
CONTRIBUTING.md`` says whether the file holds the same one between its markers, and
``--write CONTRIBUTING.md`` puts it there (``tests/test_depgraph.py`` runs the check).

A module of ``utils`` imports its siblings at the top. One import stays inside a function only
with a ``# deferred: <reason>`` comment on its line or the line above, the reason being what
``python benchmarks/import_cost.py`` measured (a heavy library the importing module would load
otherwise, or an import cycle): :func:`function_imports` lists them, and
``tests/test_depgraph.py`` fails on one without a reason.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BEGIN",
    "DEFERRED",
    "END",
    "FunctionImport",
    "Graph",
    "function_imports",
    "graph",
    "layers",
    "render",
    "replace_section",
    "upward",
]

ROOT = Path(__file__).resolve().parent.parent
UTILS = ROOT / "utils"
#: The markers around the generated section in CONTRIBUTING.md.
BEGIN = "<!-- depgraph: begin (python -m utils.depgraph --write CONTRIBUTING.md) -->"
END = "<!-- depgraph: end -->"


@dataclass(frozen=True)
class Graph:
    """The modules of ``utils`` and their imports of each other."""

    modules: tuple[str, ...]
    #: (importer, imported) pairs with a top-level import
    top: frozenset[tuple[str, str]]
    #: (importer, imported) pairs imported only inside functions
    lazy: frozenset[tuple[str, str]]

    def imports(self, module: str) -> set[str]:
        """The modules ``module`` imports, at the top or inside a function."""
        return {b for a, b in self.top | self.lazy if a == module}


def _node(dotted: str) -> str | None:
    """The node of a dotted module name inside ``utils``, or None outside it."""
    parts = dotted.split(".")
    if parts[0] != "utils" or len(parts) < 2:
        return None
    return parts[1]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_names(node: ast.AST, package: str | None) -> list[str]:
    """The dotted names of the modules an import statement loads (``[]`` for any other node).

    ``from utils import tracking`` and ``from . import nb04`` load ``utils.tracking`` and
    ``utils.exercises.nb04``; ``from utils.training import split`` loads ``utils.training``.
    """
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module
    if node.level and package is not None:
        parent = package if node.level == 1 else "utils"
        base = f"{parent}.{node.module}" if node.module else None
        if base is None:
            return [f"{parent}.{alias.name}" for alias in node.names]
    if base == "utils":
        return [f"utils.{alias.name}" for alias in node.names]
    return [base] if base else []


def _imports(tree: ast.Module, package: str | None) -> dict[str, bool]:
    """The ``utils`` nodes a file imports, each mapped to True when one import is top-level."""
    found: dict[str, bool] = {}

    def visit(node: ast.AST, top: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, top)
            return
        for name in _import_names(node, package):
            target = _node(name)
            if target is not None:
                found[target] = found.get(target, False) or top
        nested = top and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, nested)

    for statement in tree.body:
        visit(statement, True)
    return found


def graph(utils: Path = UTILS) -> Graph:
    """Read the imports of every module of ``utils`` (``__init__`` and ``__main__`` included)."""
    top: set[tuple[str, str]] = set()
    lazy: set[tuple[str, str]] = set()
    modules: set[str] = set()
    for path in sorted(utils.rglob("*.py")):
        relative = path.relative_to(utils)
        if relative.parts[0] == "__init__.py":
            continue  # the package itself: a docstring and a version
        node = relative.parts[0].removesuffix(".py")
        modules.add(node)
        package = f"utils.{node}" if len(relative.parts) > 1 else None
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target, is_top in _imports(tree, package).items():
            if target != node:
                (top if is_top else lazy).add((node, target))
    lazy -= top
    return Graph(tuple(sorted(modules)), frozenset(top), frozenset(lazy))


#: The comment that keeps an import of a ``utils`` module inside a function, on its line or
#: the line above, followed by the measured reason (``benchmarks/import_cost.py``).
DEFERRED = "# deferred:"


@dataclass(frozen=True)
class FunctionImport:
    """One module of ``utils`` imported inside a function."""

    path: Path
    line: int
    #: the importing module and the imported one, dotted (``utils.cycle``, ``utils.figures``)
    module: str
    target: str
    #: the text after :data:`DEFERRED` on the import's line or the line above, else None
    reason: str | None


def _deferred(lines: list[str], line: int) -> str | None:
    """The reason on the import's line, or on a comment line just above it."""
    above = lines[line - 2].strip() if line > 1 else ""
    for text in (lines[line - 1], above if above.startswith(DEFERRED) else ""):
        if DEFERRED in text:
            return text.split(DEFERRED, 1)[1].strip()
    return None


def function_imports(utils: Path = UTILS) -> list[FunctionImport]:
    """Every import of a ``utils`` module inside a function body of ``utils``, in file order."""
    found: list[FunctionImport] = []
    for path in sorted(utils.rglob("*.py")):
        relative = path.relative_to(utils).with_suffix("")
        module = ".".join(("utils", *relative.parts)).removesuffix(".__init__")
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        package = None if package == "utils" else package
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        stack: list[tuple[ast.AST, bool]] = [(ast.parse(source, filename=str(path)), False)]
        while stack:
            node, inside = stack.pop()
            if inside and isinstance(node, ast.Import | ast.ImportFrom):
                reason = _deferred(lines, node.lineno)
                for name in _import_names(node, package):
                    if _node(name) is not None:
                        found.append(FunctionImport(path, node.lineno, module, name, reason))
            inside = inside or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            stack.extend((child, inside) for child in ast.iter_child_nodes(node))
    return sorted(found, key=lambda f: (str(f.path), f.line, f.target))


def _reaches(edges: set[tuple[str, str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        current = todo.pop()
        for a, b in edges:
            if a == current and b not in seen:
                if b == goal:
                    return True
                seen.add(b)
                todo.append(b)
    return False


def upward(g: Graph) -> set[tuple[str, str]]:
    """The imports inside functions that close a cycle: a module loading, when it runs, the
    modules that import it (``checks`` loads the exercise modules registered against it).
    They point up the layers and do not count for them."""
    edges = set(g.top | g.lazy)
    return {(a, b) for a, b in g.lazy if _reaches(edges, b, a)}


def layers(g: Graph) -> list[list[str]]:
    """The modules by layer (see the module's docstring), without the :func:`upward` imports.

    Raises:
        ValueError: the imports form a cycle of their own (named in the message).
    """
    edges = (g.top | g.lazy) - upward(g)
    level: dict[str, int] = {}
    visiting: list[str] = []

    def depth(module: str) -> int:
        if module in level:
            return level[module]
        if module in visiting:
            cycle = [*visiting[visiting.index(module) :], module]
            raise ValueError(f"utils imports in a cycle: {' -> '.join(cycle)}")
        visiting.append(module)
        below = [b for a, b in edges if a == module and b in g.modules]
        result = 1 + max((depth(m) for m in below), default=-1)
        visiting.pop()
        level[module] = result
        return result

    for module in g.modules:
        depth(module)
    return [sorted(m for m in g.modules if level[m] == n) for n in range(max(level.values()) + 1)]


def render(g: Graph | None = None) -> str:
    """The section for CONTRIBUTING.md: the layers as text, then the graph in Mermaid."""
    g = g or graph()
    lines = [BEGIN, "", "| layer | modules of `utils` |", "|---|---|"]
    for n, modules in enumerate(layers(g)):
        lines.append(f"| {n} | {', '.join(f'`{m}`' for m in modules)} |")
    for a, b in sorted(upward(g)):
        lines += ["", f"`{a}` imports `{b}` inside a function, upwards: `{b}` imports `{a}`."]
    lines += ["", "```mermaid", "flowchart BT"]
    if "__main__" in g.modules:
        lines.append('    main["__main__"]')
    for a, b in sorted(g.top | g.lazy):
        arrow = "-->" if (a, b) in g.top else "-.->"
        lines.append(f"    {_mermaid_id(a)} {arrow} {_mermaid_id(b)}")
    lines += ["```", "", END]
    return "\n".join(lines)


def _mermaid_id(module: str) -> str:
    # "__main__" is not a valid bare Mermaid id: the node "main" is labelled with it.
    return "main" if module == "__main__" else module


def replace_section(text: str, section: str) -> str:
    """``text`` with the part from :data:`BEGIN` to :data:`END` replaced by ``section``.

    Raises:
        ValueError: the markers are missing or out of order.
    """
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < start:
        raise ValueError(
            f"The file has no section between {BEGIN!r} and {END!r}: add the two lines where "
            "the dependency graph belongs, then run with --write."
        )
    return text[:start] + section + text[stop + len(END) :]


def main(argv: list[str] | None = None) -> int:
    """Print the section; ``--check FILE`` exits 1 if FILE holds another, ``--write FILE``
    puts it there."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--check", type=Path, help="exit 1 if FILE's section differs")
    what.add_argument("--write", type=Path, help="write the section into FILE")
    args = parser.parse_args(argv)
    section = render()
    if args.check is None and args.write is None:
        print(section)
        return 0
    path = args.check or args.write
    text = path.read_text(encoding="utf-8")
    wanted = replace_section(text, section)
    if args.write is not None:
        path.write_text(wanted, encoding="utf-8")
        return 0
    if wanted != text:
        print(
            f"{path}: the dependency graph of utils differs from the imports. Run "
            f"`python -m utils.depgraph --write {path}` and commit the result.",
            file=sys.stderr,
        )
        return 1
    print(f"{path}: the dependency graph of utils matches the imports.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
