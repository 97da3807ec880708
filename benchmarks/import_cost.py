"""What each import of a ``utils`` module kept inside a function would cost at the top.

For every import of a ``utils`` module inside a function of ``utils``
(:func:`utils.depgraph.function_imports`), the cost of moving it to the top of its module: a
fresh interpreter imports the importing module, then a forked copy of it imports the other
module and times that (the modules it loads that were not loaded already); the least of
``--repeat`` forks is printed. A *cycle* means the imported module already reaches the importing
one through top-level imports, so moving it up would make them import each other. The last
column is the ``# deferred:`` reason written beside the import, if any.

``--modules`` prints instead the cold import time of each module named (``--modules
utils.checks,utils.registry``), the least of ``--repeat`` fresh interpreters.

Usage: ``python benchmarks/import_cost.py [--repeat 3] [--modules utils.x,utils.y]``
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils import depgraph  # noqa: E402  (the repository root first, as when installed)


def _fork_import(target: str) -> float:
    """Seconds a forked copy of this process takes to import ``target``."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: import, report, leave without running any exit handler
        os.close(read)
        start = time.perf_counter()
        importlib.import_module(target)
        os.write(write, repr(time.perf_counter() - start).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    return float(text)


def _measure_in_host(host: str, targets: list[str], repeat: int) -> None:
    """Run in a fresh interpreter: import ``host``, print ``target seconds`` per target."""
    importlib.import_module(host)
    for target in targets:
        print(target, min(_fork_import(target) for _ in range(repeat)))


def _costs(host: str, targets: list[str], repeat: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--host", host, "--targets", ",".join(targets)]
    output = subprocess.run(
        [*command, "--repeat", str(repeat)], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    return {
        name: float(seconds) for name, seconds in (line.split() for line in output.splitlines())
    }


def _cycle(g: depgraph.Graph, host: str, target: str) -> bool:
    """True when ``target`` already imports ``host`` (through top-level imports)."""
    a, b = host.split(".")[1], target.split(".")[1]  # the graph's nodes: utils.<node>[...]
    todo, seen = [b], {b}
    while todo:
        current = todo.pop()
        if current == a:
            return True
        for x, y in g.top:
            if x == current and y not in seen:
                seen.add(y)
                todo.append(y)
    return False


def table(repeat: int) -> list[str]:
    """The lines of the table: one per import of a ``utils`` module inside a function."""
    found = depgraph.function_imports()
    g = depgraph.graph()
    costs: dict[tuple[str, str], float] = {}
    for host in sorted({f.module for f in found}):
        targets = sorted({f.target for f in found if f.module == host})
        for target, seconds in _costs(host, targets, repeat).items():
            costs[host, target] = seconds
    lines = [
        "| module:line | imports | cost ms | cycle | deferred because |",
        "|---|---|---|---|---|",
    ]
    for f in found:
        where = f"{f.path.relative_to(ROOT)}:{f.line}"
        cycle = "yes" if _cycle(g, f.module, f.target) else "no"
        ms = 1000 * costs[f.module, f.target]
        lines.append(f"| {where} | {f.target} | {ms:.1f} | {cycle} | {f.reason or '-'} |")
    return lines


def cold(modules: list[str], repeat: int) -> list[str]:
    """The cold import time of each module, in fresh interpreters."""
    lines = []
    for module in modules:
        code = (
            f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        )
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                ).stdout
            )
            for _ in range(repeat)
        ]
        lines.append(f"{module}: {1000 * min(runs):.0f} ms cold import (least of {repeat})")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the table (or, with ``--modules``, the cold import times)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="forks or runs per figure")
    parser.add_argument("--modules", help="comma-separated modules: print their cold import time")
    parser.add_argument("--host", help=argparse.SUPPRESS)
    parser.add_argument("--targets", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.host:
        _measure_in_host(args.host, args.targets.split(","), args.repeat)
        return 0
    lines = cold(args.modules.split(","), args.repeat) if args.modules else table(args.repeat)
    print("\n".join(lines))
    print(f"load average {os.getloadavg()[0]:.2f} (other programs slow every figure)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
