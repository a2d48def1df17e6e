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
import time
from pathlib import Path
from typing import Any

from .errors import AitiaError


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
        cfg_path = path / "config.json"
        if cfg_path.exists():
            old = json.loads(cfg_path.read_text())
            if old != json.loads(json.dumps(config, default=str)):
                raise AitiaError(
                    f"{path} holds a run with a different configuration; choose another --out or delete it."
                )
            run = cls(path, old)
            run.log("resume")
            return run
        path.mkdir(parents=True, exist_ok=True)
        cfg_path.write_text(json.dumps(config, indent=1, default=str))
        run = cls(path, config)
        run.log("start", config=config)
        return run

    @classmethod
    def open(cls, path: str | Path) -> Run:
        path = Path(path).expanduser()
        if not (path / "config.json").exists():
            raise AitiaError(f"{path} is not a run directory (no config.json).")
        return cls(path, json.loads((path / "config.json").read_text()))

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
        if not self.trace_path.exists():
            return []
        out = []
        for line in self.trace_path.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a kill: ignore it
                continue
            if type is None or e.get("type") == type:
                out.append(e)
        return out

    # ------------------------------------------------------------------ state (resume)
    def load_state(self) -> dict[str, Any]:
        p = self.path / "state.json"
        return json.loads(p.read_text()) if p.exists() else {}

    def save_state(self, state: dict[str, Any]) -> None:
        p = self.path / "state.json"
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1, default=str))
        tmp.replace(p)

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
