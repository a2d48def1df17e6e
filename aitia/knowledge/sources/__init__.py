"""Online sources, all opt-in (nothing here runs unless a user asks): PubMed E-utilities and Europe PMC for
abstracts, OmniPath for current signalling and TF priors. One polite HTTP client (rate limit, retries with backoff,
an on-disk cache, timeouts) serves them all; tests replay recorded responses from a local server.

Example:
    >>> from aitia.knowledge.sources import PubMed   # doctest: +SKIP
    >>> docs = PubMed().documents("MAP2K1 AND MAPK1", max_results=20)   # doctest: +SKIP
"""

from __future__ import annotations

from .europepmc import EuropePMC
from .http import ConnectorError, PoliteClient
from .omnipath import download_omnipath
from .pubmed import PubMed

__all__ = ["ConnectorError", "EuropePMC", "PoliteClient", "PubMed", "download_omnipath"]
