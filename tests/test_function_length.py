"""No function of ``utils`` grows past 60 lines of code (its docstring not counted).

A function a maintainer can read on one screen is one they can change safely. The functions
in :data:`LONGER` are longer today, each with its reason in :data:`WHY`; each may not grow, and
its entries go when it is split (the test says when an entry is stale or can be lowered). New
functions get no entry.
"""

from __future__ import annotations

import ast
from pathlib import Path

from utils.paths import repo_root

ROOT = repo_root()
CAP = 60

#: ``module:qualified.name`` -> its lines of code today, for those over :data:`CAP`.
LONGER: dict[str, int] = {
    "utils.__main__:main": 66,
    "utils.cycle:cycle_figure": 68,
    "utils.datasets:_make_period": 67,
    "utils.delivery:pipeline_figure": 77,
    "utils.exercises.nb02:_check_settings": 67,
    "utils.exercises.nb05:_check_seed_spread": 83,
    "utils.exercises.nb06:_check_champion_run": 63,
    "utils.exercises.nb11:_check_switch_weight": 67,
    "utils.figures:ml_code_box": 100,
    "utils.figures:ml_test_pyramid": 98,
    "utils.figures:mlops_phases": 65,
    "utils.ml_testing:quality_gate": 71,
    "utils.monitoring:drift_heatmap": 61,
    "utils.monitoring:monitor_stream": 87,
    "utils.monitoring:performance_figure": 82,
    "utils.registry:registry_diagram": 63,
    "utils.training:evaluate": 64,
    "utils.validation:check_design": 86,
}


# Reasons shared by several entries of LONGER.
A_FIGURE = (
    "one drawing: its boxes, arrows and labels are placed top to bottom in one coordinate"
    " system; split, each helper would need the others' coordinates"
)
A_CHECK = (
    "an exercise check: one early return per hint, in the order a student meets the "
    "mistakes; the steps share what the earlier ones found out"
)

#: Why each entry of :data:`LONGER` stays one function (a test keeps the two lists the same).
WHY: dict[str, str] = {
    "utils.__main__:main": (
        "the course's command line: one argparse parser with every subcommand's options, "
        "then one branch per subcommand; the options read best in one place"
    ),
    "utils.cycle:cycle_figure": A_FIGURE,
    "utils.datasets:_make_period": (
        "the generator of one month of customers: each column is drawn from the columns "
        "before it, so the order of the lines is the data's causal order"
    ),
    "utils.delivery:pipeline_figure": A_FIGURE,
    "utils.exercises.nb02:_check_settings": A_CHECK,
    "utils.exercises.nb05:_check_seed_spread": A_CHECK,
    "utils.exercises.nb06:_check_champion_run": A_CHECK,
    "utils.exercises.nb11:_check_switch_weight": A_CHECK,
    "utils.figures:ml_code_box": A_FIGURE,
    "utils.figures:ml_test_pyramid": A_FIGURE,
    "utils.figures:mlops_phases": A_FIGURE,
    "utils.ml_testing:quality_gate": (
        "its arguments checked, then the gate's checks in the order notebook 07 teaches "
        "them, collected into one decision"
    ),
    "utils.monitoring:drift_heatmap": A_FIGURE,
    "utils.monitoring:monitor_stream": (
        "its arguments checked, then the loop over the weeks of a stream: each week's "
        "drift, the late labels of an earlier week and one summary row"
    ),
    "utils.monitoring:performance_figure": A_FIGURE,
    "utils.registry:registry_diagram": A_FIGURE,
    "utils.training:evaluate": (
        "every metric of one evaluation from one set of confusion counts; split, the "
        "counts would be passed around or computed again"
    ),
    "utils.validation:check_design": (
        "one check per field of a design document, in the order of the document, each "
        "adding to one list of problems"
    ),
}


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the docstring to the end of the function."""
    body = node.body
    first = body[0]
    has_doc = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    start = (first.end_lineno + 1) if has_doc and len(body) > 1 else body[0].lineno
    return node.end_lineno - start + 1


def function_lengths(root: Path = ROOT / "utils") -> dict[str, int]:
    """``module:qualified.name`` -> lines of code, for every function and method under root."""
    found: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str, module: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                found[f"{module}:{name}"] = _code_lines(child)
                visit(child, f"{name}.", module)
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.", module)

    for path in sorted(root.rglob("*.py")):
        module = path.relative_to(root.parent).with_suffix("").as_posix().replace("/", ".")
        visit(ast.parse(path.read_text(encoding="utf-8")), "", module)
    return found


def test_no_function_of_utils_grows_past_the_cap() -> None:
    lengths = function_lengths()
    too_long = {name: n for name, n in lengths.items() if n > max(CAP, LONGER.get(name, CAP))}
    assert not too_long, (
        f"Functions over {CAP} lines of code (docstring not counted): {too_long}. Split them "
        "into steps with names of their own."
    )
    stale = {name: lengths.get(name) for name, n in LONGER.items() if lengths.get(name, 0) < n}
    assert not stale, f"Lower or remove these entries of LONGER (now shorter): {stale}"
    unexplained = sorted(set(LONGER) - set(WHY))
    assert not unexplained, f"Say in WHY why these stay one function: {unexplained}"
    leftover = sorted(set(WHY) - set(LONGER))
    assert not leftover, f"Remove these entries of WHY (no longer in LONGER): {leftover}"


def test_the_length_counts_code_not_the_docstring(tmp_path: Path) -> None:
    (tmp_path / "utils").mkdir()
    source = (
        'def f():\n    """Doc.\n\n    More doc.\n    """\n    a = 1\n    b = 2\n    return a + b\n'
        "\n\nclass C:\n    def g(self):\n        a = 1\n\n        return a\n"
    )
    (tmp_path / "utils" / "m.py").write_text(source, encoding="utf-8")
    assert function_lengths(tmp_path / "utils") == {"utils.m:f": 3, "utils.m:C.g": 3}


if __name__ == "__main__":  # `make lint` runs the cap as a script: no pytest start for one check
    try:
        test_no_function_of_utils_grows_past_the_cap()
    except AssertionError as err:
        raise SystemExit(str(err)) from None
    print(f"function length: every function of utils within {CAP} lines or its LONGER entry")
