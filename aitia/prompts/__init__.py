"""Prompt templates as package data, versioned by file name (``<name>_v<N>.md``).

Example:
    >>> p = load_prompt("pairwise")
    >>> p.id
    'pairwise_v1'
    >>> "TP53" in p.render(source="TP53", target="CDKN1A", context="", passages="", descriptions="", reasoning="")
    True
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..errors import AitiaError


@dataclass(frozen=True)
class Prompt:
    id: str
    template: str

    @property
    def fields(self) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(self.template) if f}

    def render(self, **values: str) -> str:
        missing = self.fields - set(values)
        if missing:
            raise AitiaError(f"Prompt {self.id} needs values for {sorted(missing)}.")
        return self.template.format(**{k: values[k] for k in self.fields})

    @staticmethod
    def hash(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def available() -> list[str]:
    return sorted(p.name[:-3] for p in resources.files(__name__).iterdir() if p.name.endswith(".md"))


@lru_cache(maxsize=64)
def load_prompt(name: str, version: int | None = None) -> Prompt:
    """The latest (or the given) version of a prompt."""
    versions = sorted(
        (int(m.group(1)), f) for f in available() if (m := re.fullmatch(rf"{re.escape(name)}_v(\d+)", f))
    )
    if not versions:
        raise AitiaError(f"No prompt named {name!r}. Available: {', '.join(available())}.")
    chosen = [f for v, f in versions if version is None or v == version]
    if not chosen:
        raise AitiaError(f"Prompt {name!r} has no version {version}; versions: {[v for v, _ in versions]}.")
    pid = chosen[-1]
    return Prompt(pid, resources.files(__name__).joinpath(f"{pid}.md").read_text(encoding="utf-8"))
