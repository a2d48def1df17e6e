"""A small disk cache for results that are slow to rebuild and fully determined by their inputs (the combined
curated priors, the interventional truth of a dataset): pickles under ``$AITIA_HOME/cache/<namespace>/``, keyed by
a hash of everything the result depends on plus the aitia version, written atomically; a damaged entry is rebuilt.

Example:
    >>> cached("example", {"x": 1}, lambda: 2 + 2)
    4
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


def fingerprint(*parts: Any) -> str:
    """A stable hash of JSON-able parts, bytes and numpy arrays (by content)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, (bytes, bytearray, memoryview)):
            h.update(bytes(part))
        elif hasattr(part, "tobytes") and hasattr(part, "dtype"):  # numpy arrays
            h.update(str((part.dtype, part.shape)).encode())
            h.update(part.tobytes())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()


def file_stamp(path: str | Path) -> list[Any]:
    """What identifies a file's version cheaply: path, size and modification time (missing: None)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return [str(p), None]
    return [str(p), st.st_size, st.st_mtime_ns]


def cached(namespace: str, key: Any, compute: Callable[[], T], enabled: bool = True) -> T:
    """``compute()``, or its pickled result from an earlier call with the same ``key``.

    Args:
        namespace: sub-folder of the cache (one kind of result).
        key: everything the result depends on (JSON-able; arrays by content via :func:`fingerprint`), including
            the :func:`file_stamp` of the code that computes it, so an edited module never reads a stale entry.
        compute: builds the result.
        enabled: False skips the cache (``AITIA_DISK_CACHE=false`` does so everywhere).
    """
    from importlib.metadata import PackageNotFoundError, version

    from .config import get_settings

    try:
        __version__ = version("aitia")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        __version__ = "source"

    s = get_settings()
    if not (enabled and s.disk_cache):
        return compute()
    folder = s.cache_dir / namespace
    path = folder / f"{fingerprint(key, __version__)}.pkl"
    if path.exists():
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)  # type: ignore[no-any-return]
        except Exception as exc:  # noqa: BLE001 - a torn or stale entry is rebuilt, never fatal
            logger.info("cache entry %s unreadable (%s); rebuilding", path, type(exc).__name__)
    value = compute()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only or full disk only costs the speed-up
        logger.info("could not write cache entry %s (%s)", path, exc)
    return value
