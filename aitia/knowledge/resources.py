"""Paths of the knowledge files shipped as package data (``aitia/knowledge/files``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def knowledge_path(*parts: str) -> Path:
    """Path of a shipped knowledge file (gene tables, literature, curated priors)."""
    return Path(str(resources.files("aitia.knowledge").joinpath("files", *parts)))
