"""Knowledge layer: gene resolver and tagger, literature store, curated priors, evidence extraction, hypothesis
generation and the LLM backends it uses.

Heavy parts (chromadb, the embedding model) load on first use of :class:`LiteratureStore`.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

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
    "HypothesisGenerator": ".hypotheses",
    "Hypothesis": ".hypotheses",
    "HypothesisSet": ".hypotheses",
    "get_backend": ".llm",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
