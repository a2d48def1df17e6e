"""Compute resources of the estimators: the thread counts of torch and of native OpenMP / BLAS pools (gradient
boosting, linear algebra), set explicitly and restored afterwards. Default threads oversubscribe a busy machine: on
these 2 cores with one core busy elsewhere, a `supervised` fit at p = 200 took 4.1 s with OpenMP's default threads
and 1.9 s with one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..config import resolve_n_jobs


@contextmanager
def native_threads(n_jobs: int | None) -> Iterator[int]:
    """Run the block with OpenMP and BLAS pools limited to ``resolve_n_jobs(n_jobs)`` threads (threadpoolctl).

    Example:
        >>> with native_threads(1) as n:
        ...     n
        1
    """
    from threadpoolctl import threadpool_limits

    n = resolve_n_jobs(n_jobs)
    with threadpool_limits(n):
        yield n


@contextmanager
def torch_threads(n_jobs: int | None) -> Iterator[int]:
    """Run the block with ``torch.set_num_threads(resolve_n_jobs(n_jobs))`` (native pools limited likewise); restore
    the previous counts after.

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
        with native_threads(n):
            yield n
    finally:
        torch.set_num_threads(previous)
