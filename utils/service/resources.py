"""Machine resource management: threads, memory and batch sizes of the service's jobs.

Component "Machine resource management" of Sculley et al. (2015), Figure 1. On a shared 2-core
laptop, or a shared server, a job that takes every core or all the memory slows or kills its
neighbours; these helpers keep the service's jobs within stated limits. Introduced in notebook 02
(``02_hidden_technical_debt``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pandas as pd
from threadpoolctl import threadpool_limits


@contextlib.contextmanager
def limit_threads(max_threads: int) -> Iterator[None]:
    """Within the ``with`` block, native code (BLAS, OpenMP) uses at most ``max_threads``.

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Raises:
        ValueError: ``max_threads`` is not a positive integer.
    """
    if isinstance(max_threads, bool) or not isinstance(max_threads, int) or max_threads < 1:
        raise ValueError(f"max_threads must be a positive integer, got {max_threads!r}.")
    with threadpool_limits(limits=max_threads):
        yield


def frame_megabytes(frame: pd.DataFrame) -> float:
    """Memory a DataFrame holds, in MB (10^6 bytes), strings included. Introduced in notebook 02."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame_megabytes expects a DataFrame, got {type(frame).__name__}.")
    return float(frame.memory_usage(deep=True).sum()) / 1e6


def check_memory(frame: pd.DataFrame, budget_mb: float) -> float:
    """Return the frame's size in MB if it fits ``budget_mb``, else raise.

    Introduced in notebook 02 (``02_hidden_technical_debt``).

    Raises:
        ValueError: the frame is larger than the budget (the message says what to do).
    """
    size = frame_megabytes(frame)
    if size > budget_mb:
        raise ValueError(
            f"The data takes {size:.1f} MB, more than the budget of {budget_mb:g} MB: "
            "process it in chunks, or raise memory_budget_mb in the configuration."
        )
    return size


def chunks(n_rows: int, size: int) -> Iterator[slice]:
    """Slices that cover ``range(n_rows)`` in pieces of at most ``size`` rows.

    Introduced in notebook 02 (``02_hidden_technical_debt``), to score large batches piecewise.

    Raises:
        ValueError: ``n_rows`` < 0 or ``size`` < 1.
    """
    if n_rows < 0 or size < 1:
        raise ValueError(f"need n_rows >= 0 and size >= 1, got n_rows={n_rows}, size={size}.")
    for start in range(0, n_rows, size):
        yield slice(start, min(start + size, n_rows))
