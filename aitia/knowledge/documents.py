"""Documents and their chunking, plus readers for every ingest format.

Formats: PubTator (BioRED), JSONL / CSV records (``id|pmid, title, abstract|text, year, journal``), folders of
.txt/.md files, PDF (pypdf) and the NCBI gene-summary JSON.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import DataValidationError

logger = logging.getLogger(__name__)

Format = Literal["auto", "pubtator", "jsonl", "csv", "text", "pdf", "gene-summary"]
FORMATS = ("auto", "pubtator", "jsonl", "csv", "text", "pdf", "gene-summary")


class Document(BaseModel):
    """One text to ingest."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable document id, e.g. 'PMID:123' or a file name.")
    title: str = ""
    text: str = Field(description="Body text (abstract, summary, full text).")
    year: int | None = None
    journal: str = ""
    source: str = Field(default="user", description="Corpus name, e.g. 'biored', 'ncbi-gene', 'user'.")

    @property
    def full_text(self) -> str:
        return (
            f"{self.title}. {self.text}" if self.title and not self.text.startswith(self.title) else self.text
        )


class Chunk(BaseModel):
    """A span of a document's ``full_text``; ``id`` is a hash of document id and content (idempotent ingest)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'])")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) by punctuation followed by a capital letter, digit or bracket.

    Example:
        >>> t = "TP53 activates CDKN1A. MDM2 degrades TP53."
        >>> [t[s:e] for s, e in split_sentences(t)]
        ['TP53 activates CDKN1A.', 'MDM2 degrades TP53.']
    """
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text.rstrip()):
        spans.append((start, len(text.rstrip())))
    return spans


def chunk_document(doc: Document, max_chars: int = 700, overlap_sentences: int = 1) -> list[Chunk]:
    """Group sentences into chunks of at most ``max_chars`` characters, overlapping by whole sentences."""
    text = doc.full_text
    sentences = split_sentences(text)
    if not sentences:
        return []
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j = i
        while j + 1 < len(sentences) and sentences[j + 1][1] - sentences[i][0] <= max_chars:
            j += 1
        start, end = sentences[i][0], sentences[j][1]
        body = text[start:end]
        cid = hashlib.sha256(f"{doc.id}\x00{body}".encode()).hexdigest()[:32]
        chunks.append(Chunk(id=cid, doc_id=doc.id, index=len(chunks), start=start, end=end, text=body))
        if j + 1 >= len(sentences):
            break
        i = max(j + 1 - overlap_sentences, i + 1)
    return chunks


def detect_format(path: Path) -> str:
    """Guess the ingest format from a path."""
    name = path.name.lower()
    if path.is_dir():
        return "text"
    for suffix, fmt in ((".pubtator", "pubtator"), (".pubtator.gz", "pubtator"), (".jsonl", "jsonl"),
                        (".csv", "csv"), (".tsv", "csv"), (".pdf", "pdf"), (".txt", "text"), (".md", "text")):  # fmt: skip
        if name.endswith(suffix):
            return fmt
    if name.endswith(".json") or name.endswith(".json.gz"):
        return "gene-summary"
    raise DataValidationError(f"Cannot tell the format of {path}; pass --format ({', '.join(FORMATS[1:])}).")


def read_documents(path: str | Path, format: str = "auto", source: str | None = None) -> Iterator[Document]:
    """Yield the documents of one file or folder.

    Raises:
        FileNotFoundError: no such file or folder.
        DataValidationError: an unknown format, a malformed record, or a file that is not UTF-8 text.
    """
    try:
        yield from _read_documents(path, format, source)
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"{path} is not UTF-8 text (invalid byte at position {exc.start}); convert it, e.g. "
            f"`iconv -f latin1 -t utf-8`, and ingest again."
        ) from None


def _read_documents(path: str | Path, format: str = "auto", source: str | None = None) -> Iterator[Document]:
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"No such file or folder: {path}")
    fmt = detect_format(path) if format == "auto" else format
    if fmt not in FORMATS:
        raise DataValidationError(f"Format {fmt!r} not recognised. Options: {', '.join(FORMATS)}.")
    src = source or path.stem.split(".")[0]
    if fmt == "pubtator":
        from .pubtator import read_pubtator

        for d in read_pubtator(path):
            yield Document(id=f"PMID:{d.pmid}", title=d.title, text=d.abstract, source=source or "pubtator")
    elif fmt == "jsonl":
        yield from _records(_jsonl_rows(path), path, src)
    elif fmt == "csv":
        with open(path, newline="", encoding="utf-8") as fh:
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            yield from _records(csv.DictReader(fh, delimiter=sep), path, src)
    elif fmt == "text":
        files = (
            sorted(p for p in path.rglob("*") if p.suffix.lower() in (".txt", ".md"))
            if path.is_dir()
            else [path]
        )
        for f in files:
            body = f.read_text(encoding="utf-8", errors="replace").strip()
            if not body:
                continue
            first, _, rest = body.partition("\n")
            title = first.lstrip("# ").strip() if first.startswith("#") else ""
            yield Document(id=str(f.relative_to(path) if path.is_dir() else f.name), title=title,
                           text=(rest.strip() if title else body), source=src)  # fmt: skip
    elif fmt == "pdf":
        yield _read_pdf(path, src)
    elif fmt == "gene-summary":
        yield from _gene_summaries(path)


def _jsonl_rows(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataValidationError(f"{path}:{n}: invalid JSON ({exc.msg}).") from exc
            if not isinstance(row, dict):
                raise DataValidationError(f"{path}:{n}: each line must be a JSON object.")
            yield row


def _records(rows: Iterable[dict], path: Path, source: str) -> Iterator[Document]:
    for n, row in enumerate(rows, 1):
        row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        ident = row.get("id") or row.get("pmid")
        body = row.get("abstract") or row.get("text")
        if not ident or not body:
            raise DataValidationError(
                f"{path} record {n}: needs 'id' (or 'pmid') and 'abstract' (or 'text'); has {sorted(row)}."
            )
        ident = str(ident)
        if row.get("pmid") and not row.get("id"):
            ident = f"PMID:{ident}"
        year = row.get("year")
        try:
            year_int = int(float(year)) if year not in (None, "") else None
        except (TypeError, ValueError) as exc:
            raise DataValidationError(f"{path} record {n}: year {year!r} is not a number.") from exc
        yield Document(id=ident, title=str(row.get("title") or ""), text=str(body), year=year_int,
                       journal=str(row.get("journal") or ""), source=source)  # fmt: skip


def _read_pdf(path: Path, source: str) -> Document:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover
        raise DataValidationError("Reading PDF needs `pip install pypdf`.") from exc
    try:
        reader = PdfReader(str(path))
        pages = [p.extract_text() or "" for p in reader.pages]
    except (PdfReadError, OSError, ValueError) as exc:
        raise DataValidationError(f"Could not read PDF {path}: {exc}") from exc
    text = re.sub(r"\s*\n\s*", " ", " ".join(pages)).strip()
    if not text:
        raise DataValidationError(f"{path} has no extractable text (scanned PDF?).")
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else "") or ""
    return Document(id=path.name, title=str(title), text=text, source=source)


def _gene_summaries(path: Path) -> Iterator[Document]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise DataValidationError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DataValidationError(f"{path}: expected an object keyed by Entrez id.")
    for entrez, rec in data.items():
        summary = (rec or {}).get("Summary")
        symbol = (rec or {}).get("Official Symbol")
        if not summary or not symbol:
            continue
        summary = re.sub(
            r"\s*\[.*$", "", summary
        ).strip()  # drop the trailing "[provided by RefSeq ...]" stub
        aka = rec.get("Also known as", "")
        title = f"{symbol}: {rec.get('Official Full Name', '')}" + (f" (also known as {aka})" if aka else "")
        yield Document(id=f"GENE:{entrez}", title=title, text=summary, source="ncbi-gene")
