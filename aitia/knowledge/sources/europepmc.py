"""Europe PMC REST search: abstracts by query (cursor paging, ``resultType=core``)."""

from __future__ import annotations

import json

from ...config import get_settings
from ..documents import Document
from .http import ConnectorError, PoliteClient


class EuropePMC:
    """Search Europe PMC and return abstracts as documents.

    Args:
        base_url: REST base (default ``AITIA_EUROPEPMC_URL``).
        page_size: results per request (the service allows up to 1,000).
    """

    def __init__(self, base_url: str | None = None, page_size: int = 100) -> None:
        s = get_settings()
        self.base_url = (base_url or s.europepmc_url).rstrip("/")
        self.page_size = page_size
        self.client = PoliteClient("europepmc", requests_per_second=5.0, cache_dir=s.cache_dir / "http")

    def documents(self, query: str, max_results: int = 100) -> list[Document]:
        """Abstracts matching ``query`` (Europe PMC syntax, e.g. ``"MAP2K1 AND MAPK1"`` or ``EXT_ID:12345``)."""
        out: list[Document] = []
        cursor = "*"
        while len(out) < max_results:
            text = self.client.get(f"{self.base_url}/search", {
                "query": query, "format": "json", "resultType": "core", "cursorMark": cursor,
                "pageSize": min(self.page_size, max_results - len(out)),
            })  # fmt: skip
            try:
                page = json.loads(text)
                results = page["resultList"]["result"]
            except (ValueError, KeyError, TypeError) as exc:
                raise ConnectorError(f"Europe PMC answered something unreadable: {text[:120]!r}") from exc
            for r in results:
                abstract = (r.get("abstractText") or "").strip()
                if not abstract:
                    continue
                ident = (
                    f"PMID:{r['pmid']}" if r.get("pmid") else f"{r.get('source', 'EPMC')}:{r.get('id', '')}"
                )
                year = str(r.get("pubYear") or "")
                out.append(Document(id=ident, title=(r.get("title") or "").strip(), text=abstract,
                                    year=int(year) if year.isdigit() else None,
                                    journal=((r.get("journalInfo") or {}).get("journal") or {}).get("title", ""),
                                    source="europepmc"))  # fmt: skip
            nxt = page.get("nextCursorMark")
            if not results or not nxt or nxt == cursor:
                break
            cursor = nxt
        return out[:max_results]
