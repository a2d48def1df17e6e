"""PubMed through NCBI E-utilities: esearch for PMIDs, efetch for titles, abstracts, journals and years.

Documented limits: 3 requests/s without an API key, 10 with one (``AITIA_NCBI_API_KEY``); batches of 200 PMIDs per
efetch. Responses are cached under ``$AITIA_HOME/cache/http``, so a rerun resumes an interrupted download.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence

from ...config import get_settings
from ..documents import Document
from .http import ConnectorError, PoliteClient


class PubMed:
    """Search PubMed and fetch abstracts as :class:`~aitia.knowledge.documents.Document`.

    Args:
        base_url: E-utilities base (default ``AITIA_PUBMED_URL``).
        api_key: NCBI API key (default ``AITIA_NCBI_API_KEY``); raises the rate limit to 10/s.
        batch_size: PMIDs per efetch request (NCBI recommends at most 200).
    """

    def __init__(
        self, base_url: str | None = None, api_key: str | None = None, batch_size: int = 200
    ) -> None:
        s = get_settings()
        self.base_url = (base_url or s.pubmed_url).rstrip("/")
        self.api_key = api_key or s.ncbi_api_key
        self.batch_size = batch_size
        self.client = PoliteClient("pubmed", requests_per_second=10.0 if self.api_key else 3.0,
                                   cache_dir=s.cache_dir / "http")  # fmt: skip

    def _get(self, tool: str, params: dict[str, object]) -> str:
        secret = {"api_key": self.api_key} if self.api_key else None
        return self.client.get(f"{self.base_url}/{tool}", {**params, "tool": "aitia"}, secret_params=secret)

    def search(self, query: str, max_results: int = 100) -> list[str]:
        """PMIDs matching a PubMed query (most relevant first)."""
        text = self._get("esearch.fcgi", {"db": "pubmed", "term": query, "retmax": max_results,
                                          "retmode": "json", "sort": "relevance"})  # fmt: skip
        try:
            return [str(x) for x in json.loads(text)["esearchresult"]["idlist"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConnectorError(f"PubMed esearch answered something unreadable: {text[:120]!r}") from exc

    def fetch(self, pmids: Sequence[str]) -> Iterator[Document]:
        """Documents for PMIDs (records without an abstract are skipped)."""
        for start in range(0, len(pmids), self.batch_size):
            batch = [str(p) for p in pmids[start : start + self.batch_size]]
            text = self._get("efetch.fcgi", {"db": "pubmed", "id": ",".join(batch), "retmode": "xml"})
            yield from parse_pubmed_xml(text)

    def documents(self, query: str, max_results: int = 100) -> list[Document]:
        """Search, then fetch every hit's abstract."""
        return list(self.fetch(self.search(query, max_results)))


def parse_pubmed_xml(text: str) -> Iterator[Document]:
    """Documents from an efetch ``PubmedArticleSet``."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ConnectorError(f"PubMed efetch answered something that is not XML: {exc}") from exc
    for art in root.iter("PubmedArticle"):
        pmid = art.findtext(".//MedlineCitation/PMID") or ""
        title_node = art.find(".//ArticleTitle")
        title = "".join(title_node.itertext()).strip() if title_node is not None else ""
        parts = []
        for node in art.findall(".//Abstract/AbstractText"):
            label = node.get("Label")
            body = "".join(node.itertext()).strip()
            parts.append(f"{label}: {body}" if label else body)
        abstract = " ".join(p for p in parts if p)
        if not pmid or not abstract:
            continue
        year_text = art.findtext(".//JournalIssue/PubDate/Year") or art.findtext(".//ArticleDate/Year") or ""
        yield Document(id=f"PMID:{pmid}", title=title, text=abstract, year=int(year_text) if year_text.isdigit() else None,
                       journal=art.findtext(".//Journal/Title") or "", source="pubmed")  # fmt: skip
