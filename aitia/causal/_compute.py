"""Compute resources of the torch estimators: the thread count, set explicitly and restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..config import resolve_n_jobs


@contextmanager
def torch_threads(n_jobs: int | None) -> Iterator[int]:
    """Run the block with ``torch.set_num_threads(resolve_n_jobs(n_jobs))``; restore the previous count after.

    Example:
        >>> with torch_threads(1) as n:   # doctest: +SKIP
        ...     n
        1
    """
    import torch

    previous = torch.get_num_threads()
    n = resolve_n_jobs(n_jobs)
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(previous)
