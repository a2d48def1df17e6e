"""The literature store: an embedded chromadb collection of sentence chunks with gene and year metadata.

Example:
    >>> from aitia.knowledge.documents import Document
    >>> store = LiteratureStore("/tmp/aitia-doc-store")                      # doctest: +SKIP
    >>> store.add_documents([Document(id="d1", text="TP53 activates CDKN1A.")])  # doctest: +SKIP
    >>> store.search("p21 induction", genes=["TP53"])[0].doc_id               # doctest: +SKIP
    'd1'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import AitiaError, DataValidationError
from .documents import Chunk, Document, chunk_document, read_documents

logger = logging.getLogger(__name__)


class SearchHit(BaseModel):
    """One retrieved chunk with its provenance."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str
    chunk_id: str
    text: str
    start: int = Field(description="Start of the chunk in the document's text (title + body).")
    end: int
    score: float = Field(description="Cosine similarity to the query (1 = identical).")
    title: str = ""
    year: int | None = None
    source: str = ""
    genes: list[str] = Field(default_factory=list)


class IngestReport(BaseModel):
    """What an ingest did."""

    model_config = ConfigDict(extra="forbid")

    documents: int
    chunks_total: int
    chunks_added: int
    chunks_skipped: int = Field(description="Already in the store (idempotent re-ingest).")
    seconds: float

    @property
    def chunks_per_s(self) -> float:
        return self.chunks_added / self.seconds if self.seconds else 0.0


class LiteratureStore:
    """Persistent chromadb store of literature chunks.

    A team shares one store through a chroma server (``chroma run --path DIR --port 8000``): pass ``url`` or set
    ``AITIA_STORE_URL=http://host:8000``; ingest, search and reopen work the same, with the same embedding functions.

    Args:
        path: store directory (default ``$AITIA_HOME/store``); ignored when a server URL is used.
        collection: collection name.
        embedding: a chromadb embedding function (default from ``AITIA_EMBEDDING``: the offline MiniLM model).
        tag_genes: tag gene mentions of each chunk and store the resolved symbols (used by gene filters).
        url: a chroma server, ``http(s)://host:port`` (default: ``AITIA_STORE_URL`` when no path is given).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        collection: str = "literature",
        embedding: Any = None,
        tag_genes: bool = True,
        url: str | None = None,
    ) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        from ..config import get_settings
        from .embeddings import make_embedding

        url = url or (get_settings().store_url if path is None else None)
        self.url = url
        self.tag_genes = tag_genes
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if url:
            self.path = Path(url)
            self._client = _http_client(url, chroma_settings)
        else:
            self.path = Path(path).expanduser() if path else get_settings().store_dir
            self.path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(self.path), settings=chroma_settings)
        if embedding is None:
            # reopen with the embedding function the store was built with (persisted by name in its config)
            existing = {c.name for c in self._client.list_collections()}
            if collection in existing:
                persisted = self._client.get_collection(collection).configuration.get("embedding_function")
                if persisted is not None and getattr(persisted, "name", lambda: "")().startswith("aitia-"):
                    embedding = persisted
        self.embedding = embedding if embedding is not None else make_embedding()
        try:
            self._col = self._client.get_or_create_collection(
                collection,
                embedding_function=self.embedding,  # type: ignore[arg-type]
                metadata={"hnsw:space": "cosine"},
            )
        except ValueError as exc:  # a different embedding function than the store was built with
            raise AitiaError(
                f"Store {self.location} was built with another embedding function: {exc}"
            ) from exc

    def version_stamp(self) -> list[Any] | None:
        """What identifies this store's current contents cheaply (directory, collection, chunk count, the sqlite
        file's size and modification time, embedding), for caches of results computed from it; None for a server
        store, whose changes cannot be seen from here."""
        if self.url:
            return None
        from ..cache import file_stamp

        name = getattr(self.embedding, "name", None)
        return [str(self.path), self._col.name, self.count(), file_stamp(self.path / "chroma.sqlite3"),
                name() if callable(name) else type(self.embedding).__name__]  # fmt: skip

    @property
    def location(self) -> str:
        """The store directory, or the server URL."""
        return self.url or str(self.path)

    # ------------------------------------------------------------------ ingest
    def count(self) -> int:
        """Number of chunks in the store."""
        return int(self._col.count())

    def ingest(self, paths: Sequence[str | Path], format: str = "auto", **kw: Any) -> IngestReport:
        """Read files/folders in any supported format and add their documents."""
        docs: list[Document] = []
        for p in paths:
            docs.extend(read_documents(p, format))
        return self.add_documents(docs, **kw)

    def add_documents(
        self,
        documents: Iterable[Document],
        batch_size: int = 128,
        max_chars: int = 700,
        progress: bool = True,
        embeddings: dict[str, np.ndarray] | None = None,
    ) -> IngestReport:
        """Chunk, tag, embed and add documents; chunks already present are skipped (content-hash ids).

        An interrupted ingest resumes without duplicates: run it again with the same documents.

        Args:
            documents: the documents.
            batch_size: chunks embedded and written per batch.
            max_chars: maximum chunk length (whole sentences).
            progress: show a progress bar.
            embeddings: precomputed vectors by chunk id (benchmarks); others are embedded.
        """
        t0 = time.perf_counter()
        docs = list(documents)
        chunks: list[tuple[Chunk, Document]] = []
        seen: set[str] = set()
        for d in docs:
            for c in chunk_document(d, max_chars=max_chars):
                if c.id not in seen:
                    seen.add(c.id)
                    chunks.append((c, d))
        tagger = None
        if self.tag_genes:
            from .genes import get_tagger

            tagger = get_tagger()
        added = skipped = 0
        from rich.progress import Progress

        with Progress(transient=True, disable=not progress) as bar:
            task = bar.add_task("ingest", total=len(chunks))
            for b in range(0, len(chunks), batch_size):
                batch = chunks[b : b + batch_size]
                ids = [c.id for c, _ in batch]
                existing = set(self._col.get(ids=ids, include=[])["ids"])
                new = [(c, d) for c, d in batch if c.id not in existing]
                skipped += len(batch) - len(new)
                if new:
                    metas = [self._metadata(c, d, tagger) for c, d in new]
                    kwargs: dict[str, Any] = {
                        "ids": [c.id for c, _ in new],
                        "documents": [c.text for c, _ in new],
                        "metadatas": metas,
                    }
                    if embeddings is not None and all(c.id in embeddings for c, _ in new):
                        kwargs["embeddings"] = [embeddings[c.id] for c, _ in new]
                    self._col.add(**kwargs)
                    added += len(new)
                bar.advance(task, len(batch))
        return IngestReport(
            documents=len(docs),
            chunks_total=len(chunks),
            chunks_added=added,
            chunks_skipped=skipped,
            seconds=time.perf_counter() - t0,
        )

    @staticmethod
    def _metadata(chunk: Chunk, doc: Document, tagger: Any) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "doc_id": doc.id,
            "chunk_index": chunk.index,
            "start": chunk.start,
            "end": chunk.end,
            "title": doc.title[:500],
            "year": int(doc.year) if doc.year else 0,
            "source": doc.source,
        }
        if tagger is not None:
            genes = tagger.genes_in(chunk.text)
            if doc.source == "ncbi-gene" and doc.title:
                genes = list(dict.fromkeys([doc.title.split(":")[0], *genes]))
            if genes:
                meta["genes"] = genes[:64]
        return meta

    # ------------------------------------------------------------------ retrieval
    def search(
        self,
        query: str,
        k: int = 5,
        genes: Sequence[str] | None = None,
        gene_mode: Literal["any", "all"] = "any",
        year_max: int | None = None,
        include_undated: bool = False,
        source: str | Sequence[str] | None = None,
        mmr: bool = False,
        fetch_k: int | None = None,
        mmr_lambda: float = 0.5,
    ) -> list[SearchHit]:
        """Semantic top-k chunks, optionally filtered and diversified.

        Args:
            query: natural-language query.
            k: number of hits.
            genes: keep chunks mentioning these (resolved) symbols: ``any`` of them or ``all``.
            year_max: keep documents published in or before this year (controls leakage in evaluations).
            include_undated: with ``year_max``, also keep documents without a year.
            source: keep chunks from these corpora.
            mmr: maximal marginal relevance: trade similarity for diversity among ``fetch_k`` candidates.
            fetch_k: candidates for MMR (default ``4 * k``).
            mmr_lambda: 1 = pure similarity, 0 = pure diversity.
        """
        if not query.strip():
            raise DataValidationError("Empty query.")
        if k < 1:
            raise DataValidationError(f"k must be >= 1, got {k}.")
        where = self._where(genes, gene_mode, year_max, include_undated, source)
        n = self.count()
        if n == 0:
            return []
        n_fetch = min(n, (fetch_k or 4 * k) if mmr else k)
        include = ["documents", "metadatas", "distances"] + (["embeddings"] if mmr else [])
        res = self._col.query(query_texts=[query], n_results=n_fetch, where=where, include=include)  # type: ignore[arg-type]
        ids = res["ids"][0]
        if not ids:
            if year_max is not None and not include_undated and not self._has_dated_documents():
                raise DataValidationError(
                    "This store holds no publication years (the shipped BioRED and gene-summary corpora are "
                    "undated), so year_max filters out everything: drop it, or pass include_undated=True."
                )
            return []
        docs = res["documents"][0]  # type: ignore[index]
        metas = res["metadatas"][0]  # type: ignore[index]
        sims = 1.0 - np.asarray(res["distances"][0], dtype=float)  # type: ignore[index]
        order = list(range(len(ids)))
        if mmr:
            emb = np.asarray(res["embeddings"][0], dtype=float)  # type: ignore[index]
            order = _mmr(sims, emb, k, mmr_lambda)
        hits = []
        for i in order[:k]:
            m: dict[str, Any] = dict(metas[i] or {})
            year = int(m.get("year") or 0)
            hits.append(
                SearchHit(
                    doc_id=str(m.get("doc_id", "")),
                    chunk_id=ids[i],
                    text=docs[i] or "",
                    start=int(m.get("start", 0)),
                    end=int(m.get("end", 0)),
                    score=float(sims[i]),
                    title=str(m.get("title", "")),
                    year=year or None,
                    source=str(m.get("source", "")),
                    genes=list(m.get("genes") or []),
                )
            )
        return hits

    def _has_dated_documents(self) -> bool:
        return bool(self._col.get(where={"year": {"$gt": 0}}, limit=1, include=[])["ids"])  # type: ignore[dict-item]

    @staticmethod
    def _where(
        genes: Sequence[str] | None,
        gene_mode: str,
        year_max: int | None,
        include_undated: bool,
        source: str | Sequence[str] | None,
    ) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if genes:
            gclauses = [{"genes": {"$contains": g}} for g in genes]
            if len(gclauses) == 1:
                clauses.append(gclauses[0])
            else:
                clauses.append({"$and" if gene_mode == "all" else "$or": gclauses})
        if year_max is not None:
            if include_undated:
                clauses.append({"$or": [{"year": {"$lte": int(year_max)}}, {"year": 0}]})
            else:
                clauses.append({"$and": [{"year": {"$lte": int(year_max)}}, {"year": {"$gt": 0}}]})
        if source:
            srcs = [source] if isinstance(source, str) else list(source)
            clauses.append({"source": {"$in": srcs}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def get_document_chunks(self, doc_id: str) -> list[SearchHit]:
        """All chunks of one document, in order."""
        res = self._col.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])  # type: ignore[list-item]
        rows: list[tuple[str, str, dict[str, Any]]] = [
            (i, t or "", dict(m or {}))
            for i, t, m in zip(res["ids"], res["documents"], res["metadatas"])  # type: ignore[arg-type]
        ]
        hits = [
            SearchHit(
                doc_id=doc_id,
                chunk_id=i,
                text=t,
                start=int(m["start"]),
                end=int(m["end"]),
                score=1.0,
                title=str(m.get("title", "")),
                year=int(m.get("year") or 0) or None,
                source=str(m.get("source", "")),
                genes=list(m.get("genes") or []),
            )  # fmt: skip
            for i, t, m in rows
        ]
        return sorted(hits, key=lambda h: h.start)


def _mmr(sims: np.ndarray, emb: np.ndarray, k: int, lam: float) -> list[int]:
    emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    chosen: list[int] = []
    candidates = list(range(len(sims)))
    while candidates and len(chosen) < k:
        if chosen:
            redundancy = (emb[candidates] @ emb[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(candidates))
        score = lam * sims[candidates] - (1 - lam) * redundancy
        best = candidates[int(np.argmax(score))]
        chosen.append(best)
        candidates.remove(best)
    return chosen


def default_corpus() -> list[Document]:
    """The shipped corpora: BioRED abstracts (600) and NCBI gene summaries (about 2,600)."""
    from .resources import knowledge_path

    docs: list[Document] = []
    for split in ("Train", "Dev", "Test"):
        docs.extend(
            read_documents(knowledge_path("biored", f"{split}.PubTator.gz"), "pubtator", source="biored")
        )
    docs.extend(
        read_documents(knowledge_path("ncbi_gene_summaries", "gene_info_by_entrez.json.gz"), "gene-summary")
    )
    return docs


def _http_client(url: str, settings: Any) -> Any:
    """A chromadb HttpClient for ``http(s)://host:port``; an unreachable server is one clear error."""
    from urllib.parse import urlparse

    import chromadb

    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise AitiaError(f"AITIA_STORE_URL must look like http://host:port, got {url!r}.")
    port = u.port or (443 if u.scheme == "https" else 8000)
    try:
        client = chromadb.HttpClient(host=u.hostname, port=port, ssl=u.scheme == "https", settings=settings)
        client.heartbeat()
    except Exception as exc:  # noqa: BLE001 - chromadb raises several kinds for a dead server
        raise AitiaError(
            f"Could not reach the chroma server at {url} ({type(exc).__name__}: {' '.join(str(exc).split())[:120]}); "
            "start it with `chroma run --path DIR --port PORT` or unset AITIA_STORE_URL."
        ) from None
    return client


def open_store(path: str | Path | None = None, embedding: str | None = None) -> LiteratureStore:
    """The literature store at ``path`` (default ``$AITIA_HOME/store``), created if missing.

    Args:
        path: store directory.
        embedding: ``minilm`` (default) | ``hashing`` | ``openai:<model>``.
    """
    from .embeddings import make_embedding

    return LiteratureStore(path, embedding=make_embedding(embedding) if embedding else None)


def built_store(path: str | Path | None = None, enabled: bool = True) -> LiteratureStore | None:
    """The literature store at ``path`` if one has been built (``aitia ingest``), else None: commands that can
    work without literature use this, so they never create an empty store as a side effect."""
    from ..config import get_settings

    if not enabled:
        return None
    if path is None and get_settings().store_url:  # a shared server: built when its collection has chunks
        server = LiteratureStore()
        return server if server.count() else None
    store_dir = Path(path).expanduser() if path else get_settings().store_dir
    return open_store(store_dir) if (store_dir / "chroma.sqlite3").exists() else None
