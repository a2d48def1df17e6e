"""Run a function in a fresh process and report wall time and peak resident memory (table helpers)."""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from typing import Any


def _child(fn: Callable[..., dict[str, Any]], kwargs: dict[str, Any], q: Any) -> None:
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    try:
        out = fn(**kwargs)
    except BaseException as exc:  # report instead of leaving the parent waiting
        q.put({"error": f"{type(exc).__name__}: {exc}"})
        raise
    out["time_s"] = time.perf_counter() - t0
    out["peak_mem_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["baseline_mem_mb"] = base / 1024
    q.put(out)


def measure(fn: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    """Call ``fn(**kwargs)`` in a spawned process; return its dict plus time_s and peak_mem_mb."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, kwargs, q))
    p.start()
    while True:
        try:
            out = q.get(timeout=5)
            break
        except Exception:
            if not p.is_alive():
                raise RuntimeError(
                    f"worker died with exit code {p.exitcode} (killed or out of memory)"
                ) from None
    p.join()
    if "error" in out:
        raise RuntimeError(out["error"])
    return out


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    # every key of every row is a column (rows may carry extra fields, e.g. a learner's chosen settings); a row
    # without one leaves its cell empty instead of shifting the cells after it
    columns = list(dict.fromkeys(k for r in rows for k in r))
    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            *["" if c not in r else f"{r[c]:,.3g}" if isinstance(r[c], float) else str(r[c]) for c in columns]
        )
    Console(width=160).print(table)
