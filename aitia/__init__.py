"""aitia: from literature to validated causal gene networks.

Importing :mod:`aitia` is light: heavy dependencies (torch, chromadb, langchain, sentence-transformers)
load on first use. Subpackages are imported lazily through module ``__getattr__``.

Example:
    >>> import aitia
    >>> adata = aitia.datasets.load("sachs")
    >>> adata.n_vars
    11
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_SUBMODULES = {
    "config",
    "datasets",
    "causal",
    "knowledge",
    "tools",
    "orchestrator",
    "errors",
    "cli",
    "types",
    "run",
}

if TYPE_CHECKING:  # pragma: no cover
    from . import causal as causal
    from . import config as config
    from . import datasets as datasets
    from . import errors as errors


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "Settings":
        from .config import Settings

        return Settings
    raise AttributeError(f"module 'aitia' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*_SUBMODULES, "Settings", "__version__"])
