"""Where independent pieces of work run: in this process (``local``, the default) or as tasks on a Ray cluster
(``ray``). One small interface, :meth:`Executor.map`, used where work splits naturally (pair blocks of the
``supervised`` learner, benchmark sweeps). Large inputs are passed once as ``shared`` (Ray: put into the object store
once, not shipped per task); results come back in input order, so both executors give identical results.

Settings: ``AITIA_EXECUTOR`` (``local`` | ``ray``), ``AITIA_RAY_ADDRESS`` (a cluster to join, e.g.
``ray://head:10001`` or ``auto``; unset: a local Ray instance is started), ``AITIA_EXECUTOR_WORKERS`` (tasks in
flight; 0 = as many as the cluster has CPUs).

Example:
    >>> ex = get_executor("local")
    >>> ex.map(_double, [1, 2, 3])
    [2, 4, 6]
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .errors import AitiaError

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _double(x: int) -> int:  # the module example's task (tasks must be importable functions)
    return 2 * x


class Executor(ABC):
    """Runs ``fn(item, **shared)`` for every item and returns the results in input order."""

    name: str = "executor"
    workers: int = 1

    @abstractmethod
    def map(self, fn: Callable[..., T], items: Sequence[Any], shared: Mapping[str, Any] | None = None,
            description: str = "", progress: bool = False) -> list[T]:  # fmt: skip
        """Apply ``fn`` to each item; ``shared`` keyword arguments are the same for every call (sent once)."""

    def close(self) -> None:  # noqa: B027 - optional hook: most executors hold nothing
        """Release what the executor started (nothing for ``local``)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _progress(items: Sequence[Any], description: str, progress: bool) -> Any:
    from rich.progress import track

    return track(items, description=description or "tasks", disable=not progress, transient=True)


class LocalExecutor(Executor):
    """This process: a plain loop (``workers=1``) or a thread pool (numpy / scikit-learn release the GIL).

    Args:
        workers: threads; 1 runs the tasks one after another in this thread.
    """

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise AitiaError(f"workers must be >= 1, got {workers}.")
        self.workers = workers

    def map(self, fn: Callable[..., T], items: Sequence[Any], shared: Mapping[str, Any] | None = None,
            description: str = "", progress: bool = False) -> list[T]:  # fmt: skip
        kw = dict(shared or {})
        if self.workers == 1:
            return [fn(item, **kw) for item in _progress(items, description, progress)]
        with ThreadPoolExecutor(self.workers) as pool:
            futures = [pool.submit(fn, item, **kw) for item in items]
            return [f.result() for f in _progress(futures, description, progress)]


class RayExecutor(Executor):
    """Tasks on a Ray cluster: joins ``address`` or starts a local instance; ``shared`` goes through the object
    store once; at most ``workers`` tasks are in flight.

    Args:
        address: cluster address (``auto``, ``ray://host:10001``); None starts a local instance.
        workers: tasks in flight (0: the cluster's CPU count).
        num_cpus: CPUs of a local instance this executor starts (None: Ray's default, all cores).
        cpus_per_task: CPUs each task reserves.
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int = 0, num_cpus: int | None = None,
                 cpus_per_task: float = 1.0) -> None:  # fmt: skip
        try:
            import ray
        except ImportError:
            raise AitiaError(
                "The ray executor needs Ray: pip install 'aitia[ray]' (or pip install ray), or use AITIA_EXECUTOR=local."
            ) from None
        self._started = False
        if not ray.is_initialized():
            _check_reachable(address)  # Ray itself waits minutes on a dead address
            try:
                ray.init(address=address, num_cpus=num_cpus if address is None else None, include_dashboard=False,
                         log_to_driver=False, ignore_reinit_error=True)  # fmt: skip
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise AitiaError(
                    f"Could not reach the Ray cluster at {address!r} ({type(exc).__name__}: {exc}); "
                    "check AITIA_RAY_ADDRESS or use AITIA_EXECUTOR=local."
                ) from None
            self._started = address is None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = workers if workers > 0 else max(1, int(cpus // cpus_per_task))
        self.cpus_per_task = cpus_per_task

    def map(self, fn: Callable[..., T], items: Sequence[Any], shared: Mapping[str, Any] | None = None,
            description: str = "", progress: bool = False) -> list[T]:  # fmt: skip
        import ray
        from rich.progress import Progress

        refs = {k: ray.put(v) for k, v in (shared or {}).items()}  # once, not per task
        task: Any = ray.remote(num_cpus=self.cpus_per_task)(_apply)
        results: dict[int, Any] = {}
        pending: dict[Any, int] = {}
        queue = list(enumerate(items))
        with Progress(transient=True, disable=not progress) as bar:
            tid = bar.add_task(description or "ray tasks", total=len(queue))
            while queue or pending:
                while queue and len(pending) < self.workers:
                    i, item = queue.pop(0)
                    pending[task.remote(fn, item, **refs)] = i
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    results[pending.pop(ref)] = ray.get(ref)
                    bar.advance(tid)
        return [results[i] for i in range(len(items))]

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


def _check_reachable(address: str | None, timeout_s: float = 3.0) -> None:
    """Fail fast, in one line, when a ``host:port`` (or ``ray://host:port``) address does not answer."""
    import re
    import socket

    m = re.fullmatch(r"(?:ray://)?(?P<host>[^:/]+):(?P<port>\d+)", address or "")
    if m is None:
        return
    try:
        with socket.create_connection((m.group("host"), int(m.group("port"))), timeout=timeout_s):
            pass
    except OSError as exc:
        raise AitiaError(
            f"Could not reach the Ray cluster at {address!r} ({exc}); check AITIA_RAY_ADDRESS / --ray, or use "
            "AITIA_EXECUTOR=local."
        ) from None


def _apply(fn: Callable[..., T], item: Any, **shared: Any) -> T:
    return fn(item, **shared)


def get_executor(name: str | Executor | None = None, address: str | None = None,
                 workers: int | None = None) -> Executor:  # fmt: skip
    """The executor named (or ``AITIA_EXECUTOR``), configured from the settings.

    Args:
        name: ``local`` or ``ray`` (an Executor is returned as is); None: ``AITIA_EXECUTOR``.
        address: Ray cluster address (None: ``AITIA_RAY_ADDRESS``; unset: start a local instance).
        workers: tasks in flight (None: ``AITIA_EXECUTOR_WORKERS``).
    """
    if isinstance(name, Executor):
        return name
    from .config import get_settings

    s = get_settings()
    name = name or s.executor
    n = s.executor_workers if workers is None else workers
    if name == "local":
        return LocalExecutor(max(1, n))
    if name == "ray":
        return RayExecutor(address=address or s.ray_address, workers=n)
    raise AitiaError(f"Executor {name!r} not recognised. Options: local, ray.")
