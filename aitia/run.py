"""A run directory: ``config.json``, append-only ``trace.jsonl``, ``state.json`` (for resuming), graphs, reports.

Every agent step, tool call, prompt, retrieved document, LLM reply and metric is one JSON line in ``trace.jsonl``,
so a run can be replayed and audited. Large objects live in memory behind run-scoped handles (``scores:3``).

Example:
    >>> import tempfile
    >>> run = Run.create(tempfile.mkdtemp(), {"dataset": "sachs"})
    >>> run.log("note", text="hello")["type"]
    'note'
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import AitiaError


def write_atomic(path: str | Path, text: str) -> Path:
    """Write a file so that a reader (or a kill) sees the old content or the new, never half of it:
    a temporary file in the same directory, flushed to disk, then renamed over the target.

    Example:
        >>> import tempfile, pathlib
        >>> write_atomic(pathlib.Path(tempfile.mkdtemp()) / "a.json", "{}").read_text()
        '{}'
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class Run:
    """A run's directory, trace and handle store."""

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.config = config
        self.objects: dict[str, Any] = {}
        self._counter = itertools.count(1)
        (self.path / "graphs").mkdir(parents=True, exist_ok=True)
        # event ids continue across resumes, so every id in a report names exactly one line of the trace
        self._event_counter = itertools.count(len(self.events()) + 1)

    @classmethod
    def create(cls, path: str | Path, config: dict[str, Any]) -> Run:
        """Start a run (or reopen one with the same config, to resume it)."""
        path = Path(path).expanduser()
        if path.exists() and not path.is_dir():
            raise AitiaError(f"{path} exists and is not a directory; choose another --out.")
        cfg_path = path / "config.json"
        wanted = json.loads(json.dumps(config, default=str))
        if cfg_path.exists():
            old = cls._read_config(path, wanted)
            if old != wanted:
                raise AitiaError(
                    f"{path} holds a run with a different configuration; choose another --out or delete it."
                )
            run = cls(path, old)
            run.log("resume")
            return run
        path.mkdir(parents=True, exist_ok=True)
        write_atomic(cfg_path, json.dumps(config, indent=1, default=str))
        run = cls(path, config)
        run.log("start", config=config)
        return run

    @classmethod
    def _read_config(cls, path: Path, wanted: dict[str, Any] | None = None) -> dict[str, Any]:
        """config.json; a torn one is restored from the trace's start event when that matches ``wanted``."""
        cfg_path = path / "config.json"
        try:
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
            if isinstance(cfg, dict):
                return cfg
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass
        start = next((e for e in cls._trace_events(path / "trace.jsonl") if e.get("type") == "start"), None)
        if (
            start is not None
            and isinstance(start.get("config"), dict)
            and (wanted is None or start["config"] == wanted)
        ):
            write_atomic(cfg_path, json.dumps(start["config"], indent=1, default=str))
            return dict(start["config"])
        raise AitiaError(
            f"{cfg_path} is unreadable (cut by a kill?) and the trace does not hold the same configuration; "
            "choose another --out or delete the directory."
        )

    @classmethod
    def open(cls, path: str | Path) -> Run:
        """Reopen an existing run directory (to read or re-render it)."""
        path = Path(path).expanduser()
        if not (path / "config.json").exists():
            raise AitiaError(f"{path} is not a run directory (no config.json).")
        return cls(path, cls._read_config(path))

    # ------------------------------------------------------------------ exclusive use
    @property
    def lock_path(self) -> Path:
        return self.path / "run.lock"

    @contextmanager
    def exclusive(self) -> Iterator[Run]:
        """Hold the run directory for this process: a second process on it fails fast, naming the holder.

        A lock left by a process that no longer runs on this host is taken over (and logged).
        """
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        for _ in range(2):
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._lock_holder()
                if holder.get("host") == me["host"] and not _pid_alive(int(holder.get("pid", -1))):
                    self.lock_path.unlink(missing_ok=True)
                    self.log("stale_lock_removed", holder=holder)
                    continue
                since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(holder.get("since", 0))))
                raise AitiaError(
                    f"{self.path} is in use by process {holder.get('pid')} on {holder.get('host')} (since {since}); "
                    f"wait for it, or delete {self.lock_path} if that process is gone."
                ) from None
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            break
        try:
            yield self
        finally:
            self.lock_path.unlink(missing_ok=True)

    def _lock_holder(self) -> dict[str, Any]:
        try:
            data = json.loads(self.lock_path.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, json.JSONDecodeError):
            return {}

    # ------------------------------------------------------------------ trace
    @property
    def trace_path(self) -> Path:
        return self.path / "trace.jsonl"

    def log(self, type: str, **data: Any) -> dict[str, Any]:
        """Append one event to the trace (flushed immediately, so a killed run keeps everything up to there).

        Returns:
            The event, with its run-unique ``id`` (``e1``, ``e2``, ...) that reports cite.
        """
        event = {"id": f"e{next(self._event_counter)}", "time": time.time(), "type": type, **data}
        if self._torn_tail():  # a kill cut the last line: never glue this event onto it
            with open(self.trace_path, "a", encoding="utf-8") as fh:
                fh.write("\n")
        with open(self.trace_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(event, default=str) + "\n")
        return event

    def event(self, event_id: str) -> dict[str, Any]:
        """The trace event with this id (what a report claim cites)."""
        for e in self.events():
            if e.get("id") == event_id:
                return e
        raise AitiaError(f"No event {event_id!r} in {self.trace_path}.")

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """The trace's events (of one type), in order; a line cut by a kill is skipped."""
        return [e for e in self._trace_events(self.trace_path) if type is None or e.get("type") == type]

    @staticmethod
    def _trace_events(path: Path) -> list[dict[str, Any]]:
        if not path.exists():
            return []
        out = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                e = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a kill: skip it
                continue
            if isinstance(e, dict):
                out.append(e)
        return out

    def _torn_tail(self) -> bool:
        try:
            with open(self.trace_path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                return fh.read(1) != b"\n"
        except (FileNotFoundError, OSError):  # missing or empty
            return False

    # ------------------------------------------------------------------ state (resume)
    def load_state(self) -> dict[str, Any]:
        """The saved loop state (empty for a new run)."""
        p = self.path / "state.json"
        if not p.exists():
            return {}
        try:
            state = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise AitiaError(
                f"{p} is unreadable ({exc.__class__.__name__}); delete it to restart the rounds."
            ) from exc
        return state if isinstance(state, dict) else {}

    def save_state(self, state: dict[str, Any]) -> None:
        """Save the loop state atomically."""
        write_atomic(self.path / "state.json", json.dumps(state, indent=1, default=str))

    # ------------------------------------------------------------------ handles
    def put(self, obj: Any, kind: str) -> str:
        """Store a large object and return its handle, e.g. ``scores:2``."""
        handle = f"{kind}:{next(self._counter)}"
        self.objects[handle] = obj
        return handle

    def get(self, handle: str, kind: str | None = None) -> Any:
        if handle not in self.objects:
            known = [h for h in self.objects if kind is None or h.startswith(kind)]
            raise AitiaError(
                f"Unknown handle {handle!r}. Known{' ' + kind if kind else ''} handles: {known[:10]}."
            )
        return self.objects[handle]
