"""Knowledge layer: gene resolver and tagger, literature store, curated priors, evidence extraction.

Heavy parts (chromadb, the embedding model) load on first use of :class:`LiteratureStore`.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "GeneResolver": ".genes",
    "GeneResolution": ".genes",
    "GeneTagger": ".genes",
    "GeneMention": ".genes",
    "get_resolver": ".genes",
    "get_tagger": ".genes",
    "LiteratureStore": ".store",
    "SearchHit": ".store",
    "PriorNetwork": ".priors",
    "load_prior": ".priors",
    "extract_claims": ".evidence",
    "evidence_for": ".evidence",
    "Claim": ".evidence",
    "EvidenceSummary": ".evidence",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'aitia.knowledge' has no attribute {name!r}")
