"""Run one notebook as *Restart Kernel and Run All* does, and print how long it took.

Used by ``benchmarks/run.py`` (``make bench``) in a process of its own. The clock starts when
the kernel is launched and stops when the last cell has finished and the kernel has shut down;
the imports of this runner (nbclient, about 1.5 s) and of a command-line tool such as
``jupyter nbconvert`` (about 3 s more) are outside it, because a student in JupyterLab does not
pay them.

Usage: ``python benchmarks/run_all.py NOTEBOOK``. The last line of the output is
``run-all-seconds <seconds>``; the exit code is 1 when a cell raised (its error is printed).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

RESULT_PREFIX = "run-all-seconds"


def main(argv: list[str] | None = None) -> int:
    """Execute the notebook named in ``argv``; print the run-all time on the last line."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python benchmarks/run_all.py NOTEBOOK", file=sys.stderr)
        return 2
    path = Path(args[0]).resolve()
    if not path.is_file():
        print(f"No notebook at {path}.", file=sys.stderr)
        return 2
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    begun = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        print(str(error)[-2000:])
        return 1
    print(f"{RESULT_PREFIX} {time.perf_counter() - begun:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
