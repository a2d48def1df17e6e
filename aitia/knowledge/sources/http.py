"""A polite HTTP client for public APIs: a minimum interval between requests (the service's documented rate),
retries with exponential backoff on 429 / 5xx / timeouts / refused connections, an on-disk response cache (so an
interrupted download resumes where it stopped) and one clear error when a service stays unreachable."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from ...errors import AitiaError

logger = logging.getLogger(__name__)


class ConnectorError(AitiaError):
    """An online source failed (unreachable, refused, timed out, or answered something unreadable)."""


class PoliteClient:
    """GET with a rate limit, retries and a cache.

    Args:
        name: service name, for messages and the cache folder.
        requests_per_second: the service's documented limit (PubMed: 3 without an API key, 10 with one).
        retries: attempts after the first on 429 / 5xx / timeouts / connection errors.
        backoff_s: first backoff; doubles each retry (a ``Retry-After`` header wins).
        timeout_s: per-request timeout.
        cache_dir: where responses are kept (None: no cache).
    """

    def __init__(self, name: str, requests_per_second: float = 3.0, retries: int = 3, backoff_s: float = 0.5,
                 timeout_s: float = 30.0, cache_dir: Path | None = None) -> None:  # fmt: skip
        self.name = name
        self.min_interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.cache_dir = cache_dir
        self.requests = 0
        self.cache_hits = 0
        self._last = 0.0
        self._lock = threading.Lock()

    def _cache_path(self, url: str, params: dict[str, Any]) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(json.dumps([url, sorted(params.items())], default=str).encode()).hexdigest()
        return self.cache_dir / self.name / f"{key[:2]}" / f"{key}.body"

    def get(
        self, url: str, params: dict[str, Any] | None = None, secret_params: dict[str, Any] | None = None
    ) -> str:
        """The response text of ``GET url?params`` (``secret_params``, e.g. an API key, are sent but never cached
        or logged)."""
        import httpx

        params = {k: v for k, v in (params or {}).items() if v is not None}
        cache = self._cache_path(url, params)
        if cache is not None and cache.exists():
            self.cache_hits += 1
            return cache.read_text(encoding="utf-8")
        wait = self.backoff_s
        last_error = ""
        for attempt in range(self.retries + 1):
            with self._lock:  # the rate limit holds across threads
                pause = self._last + self.min_interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                self._last = time.monotonic()
            try:
                self.requests += 1
                resp = httpx.get(url, params={**params, **(secret_params or {})}, timeout=self.timeout_s)
            except httpx.HTTPError as exc:  # timeouts, refused connections, DNS failures
                last_error = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code == 200:
                    text = resp.text
                    if cache is not None:
                        cache.parent.mkdir(parents=True, exist_ok=True)
                        tmp = cache.with_suffix(".tmp")
                        tmp.write_text(text, encoding="utf-8")
                        tmp.replace(cache)
                    return text
                last_error = f"HTTP {resp.status_code}"
                if resp.status_code not in (429, 500, 502, 503, 504):
                    break  # 4xx other than 429: retrying will not help
                retry_after = resp.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    wait = max(wait, float(retry_after))
            if attempt < self.retries:
                logger.info("%s: %s; retrying in %.1fs", self.name, last_error, wait)
                time.sleep(wait)
                wait *= 2
        raise ConnectorError(f"{self.name} at {url} failed after {self.retries + 1} attempts: {last_error}.")
