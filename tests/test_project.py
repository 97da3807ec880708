"""Project hygiene: dependencies agree, the lock is complete, notebooks are committed clean."""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PLATFORMS = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"},
    "macos": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"},
    "windows": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _direct_requirements() -> list[Requirement]:
    project = _pyproject()["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():  # dev, classroom
        reqs += [Requirement(r) for r in extra]
    return reqs


def _lock(name: str = "requirements.lock") -> list[tuple[str, Version, Marker | None]]:
    pins = []
    for raw in (ROOT / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        spec = list(req.specifier)
        assert len(spec) == 1 and spec[0].operator == "==", f"not an exact pin: {raw!r}"
        pins.append((canonicalize_name(req.name), Version(spec[0].version), req.marker))
    return pins


def test_pyproject_has_lower_bounds_only() -> None:
    assert _pyproject()["project"]["requires-python"] == ">=3.11"
    for req in _direct_requirements():
        ops = {s.operator for s in req.specifier}
        assert ops == {">="}, f"{req}: pyproject.toml takes lower bounds only (>=)"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize("python", ["3.11.0", "3.11.9", "3.12.4", "3.13.1"])
def test_lock_pins_every_dependency_within_its_bounds(platform: str, python: str) -> None:
    short = ".".join(python.split(".")[:2])
    env = {**PLATFORMS[platform], "python_version": short, "python_full_version": python}
    active = {}
    for name, version, marker in _lock():
        if marker is None or marker.evaluate(env):
            assert name not in active, f"{name} pinned twice for {platform}/{python}"
            active[name] = version
    for req in _direct_requirements():
        name = canonicalize_name(req.name)
        assert name in active, f"{req.name} is missing from requirements.lock ({platform})"
        assert req.specifier.contains(active[name], prereleases=True), (
            f"requirements.lock pins {name}=={active[name]}, outside pyproject's {req.specifier}"
        )


def test_lock_pins_the_installed_versions() -> None:
    from importlib.metadata import version

    from packaging.markers import default_environment

    env = default_environment()
    # `make` installs from LOCK and exports it as MLOPS_LOCK_FILE: the weekly upgrade job
    # installs the newest allowed versions from another file, and compares with that one.
    lock = os.environ.get("MLOPS_LOCK_FILE") or "requirements.lock"  # relative to ROOT, or absolute
    for name, pinned, marker in _lock(lock):
        if marker is None or marker.evaluate(env):
            assert Version(version(name)) == pinned, f"{name}: installed {version(name)}"


def test_environment_yml_agrees_with_pyproject() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", dep)
        assert match, dep
        conda[canonicalize_name(match[1])] = match[2].replace(" ", "")
    assert conda.pop("python") == ">=3.11"
    conda.pop("pip", None)
    wanted = {canonicalize_name(r.name): str(r.specifier) for r in _direct_requirements()}
    assert conda == wanted, "environment.yml and pyproject.toml list different dependencies"
    assert pip == ["-e .[dev,classroom]"], "environment.yml installs the course package with pip"


# Where the course's own code runs: what it imports must be in [project].dependencies (a
# student installs the course without extras). utils.classroom may use the classroom extra too.
# Everything else (tests, benchmarks, conftest.py) may use any extra.
RUNTIME_DIRS = ("utils/", "notebooks/", "slides/")
EXTRA_FOR = {"utils/classroom.py": "classroom", "utils/classroom_server.py": "classroom"}
# Modules of the project itself, imported by their file name: utils, the test and benchmark
# helpers, slides/build.py, and the files notebooks write with %%writefile (e.g. coursework.py).
OWN_MODULES = {"utils", "tests", "conftest"}
# Import names whose distribution is named otherwise, for a module that is not installed here
# (packages_distributions() knows only installed distributions; other names are their own).
DISTRIBUTION_OF = {"PIL": "pillow", "yaml": "pyyaml", "sklearn": "scikit-learn"}
DISTRIBUTION_OF |= {"IPython": "ipython", "flask_wtf": "flask-wtf"}
# Declared but never imported, each for a reason.
NOT_IMPORTED = {
    "jupyterlab": "the student's front end (make lab)",
    "jupyterlab-rise": "live slides in JupyterLab",
    "pytest-xdist": "a pytest plugin (-n in make test)",
    "nbval": "a pytest plugin (--nbval-lax in make test)",
    "ruff": "the linter, a command",
    "nbstripout": "a pre-commit hook, a command",
    "pre-commit": "the git hooks, a command",
    "psycopg": "MLflow's PostgreSQL store loads it (class server; utils.classroom checks it)",
    "flask-wtf": "MLflow's authentication app loads it (class server; utils.classroom checks it)",
}


def _declared() -> dict[str, set[str]]:
    """Each declared distribution (canonical name) with its groups: 'dependencies' or extras."""
    project = _pyproject()["project"]
    groups = {"dependencies": project["dependencies"], **project["optional-dependencies"]}
    declared: dict[str, set[str]] = {}
    for group, reqs in groups.items():
        for req in reqs:
            declared.setdefault(canonicalize_name(Requirement(req).name), set()).add(group)
    return declared


def _code_cells(nb: Path) -> list[tuple[str, str]]:
    """Each code cell of a notebook as (first line, Python): line magics and shell escapes
    left out, and cell magics too, except %%writefile, whose body is a Python file of the course."""
    cells = []
    for cell in json.loads(nb.read_text())["cells"]:
        lines = "".join(cell["source"]).splitlines() if cell["cell_type"] == "code" else []
        first = lines[0].strip() if lines else ""
        if first.startswith("%%") and not first.startswith("%%writefile"):
            continue
        python = "\n".join(x for x in lines if not x.lstrip().startswith(("%", "!")))
        cells.append((first, python))
    return cells


@functools.cache  # parsed once (0.5 s) for both tests below
def _imports() -> dict[str, set[str]]:
    """Third-party top-level modules imported anywhere in the project, with their files."""
    sources = [
        p for d in ("utils", "tests", "benchmarks", "slides") for p in (ROOT / d).rglob("*.py")
    ]
    sources = [p for p in sources if "node_modules" not in p.parts] + [ROOT / "conftest.py"]
    own = OWN_MODULES | {p.stem for p in sources}
    texts = [(p, p.read_text()) for p in sources]
    for nb in [*NOTEBOOKS, *sorted((ROOT / "slides").glob("*.ipynb"))]:
        for first, python in _code_cells(nb):
            texts.append((nb, python))
            own |= set(re.findall(r"^%%writefile\s.*?(\w+)\.py\W*$", first))
    found: dict[str, set[str]] = {}
    for path, text in texts:
        for node in ast.walk(ast.parse(text, str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return {m: files for m, files in found.items() if m not in sys.stdlib_module_names | own}


def _allowed_groups(file: str, declared: dict[str, set[str]]) -> set[str]:
    """The pyproject groups a file may import from (see RUNTIME_DIRS)."""
    if file.startswith(RUNTIME_DIRS):
        return {"dependencies", EXTRA_FOR.get(file, "dependencies")}
    return set().union(*declared.values())


def _distributions(module: str, providers: dict[str, list[str]]) -> set[str]:
    """The distributions that provide an import name (canonical names)."""
    names = providers.get(module) or [DISTRIBUTION_OF.get(module, module)]
    return {canonicalize_name(n) for n in names}


def test_every_import_is_declared() -> None:
    from importlib.metadata import packages_distributions

    declared, providers = _declared(), packages_distributions()
    missing = []
    for module, files in sorted(_imports().items()):
        dists = _distributions(module, providers)
        for file in sorted(files):
            allowed = _allowed_groups(file, declared)
            if not any(declared.get(d, set()) & allowed for d in dists):
                missing.append(
                    f"{module} ({', '.join(sorted(dists))}) imported by {file}, "
                    f"not declared in {' or '.join(sorted(allowed))}"
                )
    assert not missing, "pyproject.toml must declare:\n" + "\n".join(missing)


def test_every_declared_package_is_imported_or_says_why_not() -> None:
    from importlib.metadata import packages_distributions

    providers = packages_distributions()
    imported = set().union(*(_distributions(m, providers) for m in _imports()))
    declared = set(_declared())
    unused = sorted(declared - imported - set(NOT_IMPORTED))
    assert not unused, (
        f"declared but never imported (import them, or say why in NOT_IMPORTED): {unused}"
    )
    assert set(NOT_IMPORTED) <= declared, "NOT_IMPORTED names a package pyproject does not declare"
    stale = sorted(set(NOT_IMPORTED) & imported)
    assert not stale, f"imported after all, take them out of NOT_IMPORTED: {stale}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_clean(path: Path) -> None:
    nb = json.loads(path.read_text())
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)
    assert nb["metadata"]["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: a cell has stored outputs"
            assert cell.get("execution_count") is None, f"{path.name}: execution counts"
        if "solution" in cell.get("metadata", {}).get("tags", []):
            assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True


def test_notebook_numbers_are_a_sequence() -> None:
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(len(numbers))), numbers


MAX_NOTEBOOK_CELLS = 60  # a lesson a student reads in one sitting; split or cut, do not merge


def test_notebooks_have_at_most_60_cells() -> None:
    counts = {p.name: len(json.loads(p.read_text())["cells"]) for p in NOTEBOOKS}
    over = {name: n for name, n in counts.items() if n > MAX_NOTEBOOK_CELLS}
    assert not over, "; ".join(
        f"{name} has {n} cells, at most {MAX_NOTEBOOK_CELLS} allowed" for name, n in over.items()
    )


def test_readme_course_map_lists_every_notebook() -> None:
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme, f"README's course map misses {path.name}"


def _project_files() -> list[Path]:
    skip = {".venv", ".git", "node_modules", "_build", ".course", "__pycache__", ".pytest_cache"}
    skip |= {".ruff_cache", ".ipynb_checkpoints"}
    files = []
    # os.walk, told not to enter the skipped folders: ROOT.rglob("*") listed every file of
    # .venv (tens of thousands) only to leave them out.
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = sorted(d for d in subfolders if d not in skip)
        files += [
            Path(folder, name)
            for name in sorted(names)
            if name not in skip
            and Path(name).suffix in {".py", ".ipynb", ".md", ".toml", ".yml", ".yaml", ".cfg", ""}
            and Path(folder, name).is_file()
        ]
    return files


# Where a path may point outside the repository: the system's own folders and this Python.
SYSTEM_PREFIXES = tuple(
    Path(p).resolve()
    for p in (
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib64",
        "/etc",
        "/opt",
        "/var",
        "/tmp",
        "/dev",
        "/proc",
        "/sys",
        "/srv",
        "/run",
        tempfile.gettempdir(),
        sys.prefix,
        sys.base_prefix,
    )
)
RELATIVE_UP = re.compile(r"(?<![\w.])((?:\.\./)+[\w.-]*)")
ABSOLUTE = re.compile(r"(?<![\w.:/~-])(/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+)")


def _outside(path: Path) -> bool:
    resolved = path.resolve()
    return resolved != ROOT and ROOT not in resolved.parents


def test_nothing_reads_outside_the_repository() -> None:
    """No file names a path above the repository, or an existing folder of this machine
    outside it and outside the system's own folders: people who use the course have only
    the repository. (The test names no machine's folders: it looks at what exists here.)"""
    offenders = []
    for path in _project_files():
        text = path.read_text("utf-8", errors="replace")
        for match in RELATIVE_UP.findall(text):
            # Notebooks run in their folder, and Markdown links are relative to their file;
            # other files may be run from the repository root as well.
            bases = [path.parent] if path.suffix in {".md", ".ipynb"} else [path.parent, ROOT]
            if any(_outside(base / match) for base in bases):
                offenders.append(f"{path.relative_to(ROOT)}: {match}")
        for match in ABSOLUTE.findall(text):
            target = Path(match)
            try:
                exists = target.exists()
            except OSError:  # a name too long to be a path
                exists = False
            if not exists or not _outside(target):
                continue
            resolved = target.resolve()
            if not any(resolved == p or p in resolved.parents for p in SYSTEM_PREFIXES):
                offenders.append(f"{path.relative_to(ROOT)}: {match}")
    assert offenders == []


def test_the_outside_guard_finds_what_it_should(tmp_path: Path) -> None:
    parent, up = ROOT.parent, ".." + "/"  # split, so that this file does not match itself
    assert RELATIVE_UP.findall(f"open('{up}notes.md')") == [f"{up}notes.md"]
    assert _outside(ROOT / f"{up}notes.md") and not _outside(ROOT / f"tests/{up}utils")
    assert ABSOLUTE.findall(f"read {parent}/x.txt") == [f"{parent}/x.txt"]
    assert ABSOLUTE.findall("https://example.org/a/b and /predict") == []


def test_public_utils_functions_have_docstrings_and_type_hints() -> None:
    problems = []
    for path in sorted((ROOT / "utils").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                if not ast.get_docstring(node):
                    problems.append(f"{path.name}:{node.name} has no docstring")
                if isinstance(node, ast.FunctionDef):
                    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                    if node.returns is None or any(a.annotation is None for a in args):
                        problems.append(f"{path.name}:{node.name} lacks type hints")
    assert problems == []


@pytest.mark.slow
def test_importing_utils_has_no_side_effects() -> None:
    import subprocess
    import sys

    code = (
        "import sys, utils, utils.tracking, utils.datasets, utils.training, utils.checks;"
        "heavy = {'mlflow', 'sklearn', 'matplotlib'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    # Importing the course modules may import scikit-learn for training, but never starts
    # servers or imports MLflow (2-6 s) until a function needs it.
    assert "mlflow" not in out.stdout
