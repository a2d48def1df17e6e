"""Reader of the PubTator format (title/abstract lines, entity lines, relation lines), as used by BioRED.

Example:
    >>> docs = read_pubtator(knowledge_path("biored", "Test.PubTator.gz"))
    >>> len(docs), docs[0].pmid
    (100, '15485686')
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataValidationError
from .resources import knowledge_path

__all__ = [
    "PubTatorDocument",
    "PubTatorEntity",
    "PubTatorRelation",
    "read_pubtator",
    "biored",
    "knowledge_path",
]


@dataclass
class PubTatorEntity:
    start: int
    end: int
    text: str
    type: str
    ids: list[str]


@dataclass
class PubTatorRelation:
    type: str
    id1: str
    id2: str
    novelty: str = ""


@dataclass
class PubTatorDocument:
    pmid: str
    title: str
    abstract: str
    entities: list[PubTatorEntity] = field(default_factory=list)
    relations: list[PubTatorRelation] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Title and abstract joined by a space (the offsets of entities refer to this text)."""
        return f"{self.title} {self.abstract}"

    def genes(self) -> list[PubTatorEntity]:
        return [e for e in self.entities if e.type == "GeneOrGeneProduct"]


def read_pubtator(path: str | Path) -> list[PubTatorDocument]:
    """Parse a PubTator file (plain or .gz)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No PubTator file at {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    docs: dict[str, PubTatorDocument] = {}
    order: list[str] = []
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        for n, raw in enumerate(fh, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            if "|t|" in line[:30] or "|a|" in line[:30]:
                pmid, tag, content = line.split("|", 2)
                doc = docs.get(pmid)
                if doc is None:
                    doc = docs[pmid] = PubTatorDocument(pmid, "", "")
                    order.append(pmid)
                if tag == "t":
                    doc.title = content
                else:
                    doc.abstract = content
                continue
            parts = line.split("\t")
            pmid = parts[0]
            if pmid not in docs:
                raise DataValidationError(f"{path}:{n}: annotation for unknown document {pmid!r}.")
            if len(parts) >= 6 and parts[1].isdigit() and parts[2].isdigit():
                ids = [i for chunk in parts[5].replace(";", ",").split(",") if (i := chunk.strip())]
                docs[pmid].entities.append(
                    PubTatorEntity(int(parts[1]), int(parts[2]), parts[3], parts[4], ids)
                )
            elif len(parts) >= 4:
                docs[pmid].relations.append(
                    PubTatorRelation(parts[1], parts[2], parts[3], parts[4] if len(parts) > 4 else "")
                )
            else:
                raise DataValidationError(f"{path}:{n}: not a PubTator line: {line[:80]!r}")
    return [docs[p] for p in order]


def biored(split: str = "Test") -> list[PubTatorDocument]:
    """The BioRED corpus shipped with aitia (``Train``, ``Dev`` or ``Test``)."""
    if split not in ("Train", "Dev", "Test"):
        raise DataValidationError(f"BioRED split {split!r} not recognised. Options: Train, Dev, Test.")
    return read_pubtator(knowledge_path("biored", f"{split}.PubTator.gz"))
