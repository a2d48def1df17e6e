"""Gene resolver and dictionary gene-mention tagger.

:class:`GeneResolver` maps symbols, aliases, previous symbols, Entrez and Ensembl ids to approved HGNC symbols;
protein families and complexes to their members through FamPlex ("ERK" -> MAPK1, MAPK3); and yeast systematic /
standard names through SGD. Ambiguity is reported (``ambiguous=True`` with every candidate), never guessed.

:class:`GeneTagger` finds gene mentions in text with a dictionary built from the same tables.

Example:
    >>> r = get_resolver()
    >>> r.resolve("ERK").symbols
    ['MAPK1', 'MAPK3']
    >>> r.resolve("p53").symbols
    ['TP53']
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import UnknownGeneError
from .resources import knowledge_path

logger = logging.getLogger(__name__)

Organism = Literal["human", "yeast", "any"]
MatchKind = Literal[
    "symbol",
    "entrez",
    "ensembl",
    "family",
    "grounding",
    "previous",
    "alias",
    "name",
    "yeast",
    "non-gene",
    "none",
]

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta", "θ": "theta",
    "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma",
    "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}  # fmt: skip
_GREEK_RE = re.compile("|".join(GREEK))
_SEP_RE = re.compile(r"[\s\-_/.,'()]+")
#: Numbered members written together: MEK1/2, ERK1/2, AKT1/2/3 (not letters: PKC-alpha/beta).
_NUMBERED_MEMBERS = re.compile(r"^(?P<stem>[A-Za-z][A-Za-z-]*?)(?P<numbers>\d{1,2}(?:/\d{1,2})+)$")
#: phospho forms: "Akt_pT308", "mTOR_pS2448", "EGFR-pY1068", "Akt S473" (suffix); "p-ERK", "phospho-Akt", "pAkt" (prefix)
_PHOSPHO_SUFFIX = re.compile(r"^(?P<core>.+?)(?:(?:[_\-.\s]p?|p)[STY]\d{1,4})+$")
_PHOSPHO_PREFIX = re.compile(r"^(?:(?:phospho|p)[\-_\s]+|p(?=[A-Z]))(?P<core>.+)$")
_YEAST_ORF = re.compile(r"^Y[A-P][LR]\d{3}[WC](-[A-Z])?$", re.IGNORECASE)


def normalize(text: str) -> str:
    """Matching key: Greek letters spelled out, lower case, separators removed.

    Example:
        >>> normalize("NF-κB"), normalize("IL 6"), normalize("TNF-alpha")
        ('nfkappab', 'il6', 'tnfalpha')
    """
    text = _GREEK_RE.sub(lambda m: GREEK[m.group(0)], text)
    return _SEP_RE.sub("", text.lower())


class GeneResolution(BaseModel):
    """The result of resolving one name or identifier."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(description="The text resolved.")
    symbols: list[str] = Field(
        description="Approved symbols (HGNC, or SGD standard/systematic names for yeast)."
    )
    match: MatchKind = Field(description="How the query matched.")
    family: str | None = Field(
        default=None, description="FamPlex family/complex id when the query names one."
    )
    ambiguous: bool = Field(default=False, description="True when the query maps to several unrelated genes.")
    organism: str = Field(default="human", description="human or yeast.")
    note: str = Field(default="", description="Why, for non-genes and ambiguity.")

    @property
    def resolved(self) -> bool:
        return bool(self.symbols)


@dataclass
class _Hgnc:
    symbol: str
    name: str
    entrez: str
    ensembl: str
    uniprot: str


class GeneResolver:
    """Resolve gene names and identifiers (HGNC, FamPlex, SGD tables shipped with aitia).

    Args:
        load_yeast: also load the SGD yeast table (about 0.3 s).
    """

    def __init__(self, load_yeast: bool = True) -> None:
        self.hgnc: dict[str, _Hgnc] = {}
        self._upper: dict[str, str] = {}
        self._entrez: dict[str, str] = {}
        self._ensembl: dict[str, str] = {}
        self._uniprot: dict[str, str] = {}
        self._alias: dict[str, set[str]] = defaultdict(set)
        self._previous: dict[str, set[str]] = defaultdict(set)
        self._names: dict[str, str] = {}
        self.families: dict[str, list[str]] = {}
        self._family_upper: dict[str, str] = {}
        self._grounding: dict[str, tuple[str, str]] = {}
        self._grounding_upper: dict[str, tuple[str, str]] = {}
        self.yeast: dict[str, str] = {}  # systematic ORF -> standard name (or ORF)
        self.yeast_description: dict[str, str] = {}  # systematic ORF -> SGD one-line description
        self._yeast_lookup: dict[str, set[str]] = defaultdict(set)  # upper name/alias -> ORFs
        self._load_hgnc()
        self._load_famplex()
        if load_yeast:
            self._load_sgd()

    # ------------------------------------------------------------------ loading
    def _load_hgnc(self) -> None:
        with gzip.open(knowledge_path("hgnc", "hgnc_entries.tsv.gz"), "rt", encoding="utf-8") as fh:
            reader = csv.reader(fh, delimiter="\t")
            header = next(reader)
            col = {h: i for i, h in enumerate(header)}
            for row in reader:
                if row[col["Status"]] != "Approved":
                    continue
                sym = row[col["Approved symbol"]]
                entry = _Hgnc(
                    sym,
                    row[col["Approved name"]],
                    row[col["NCBI Gene ID(supplied by NCBI)"]],
                    row[col["Ensembl gene ID"]],
                    row[col["UniProt ID(supplied by UniProt)"]],
                )
                self.hgnc[sym] = entry
                self._upper.setdefault(sym.upper(), sym)
                if entry.entrez:
                    self._entrez[entry.entrez] = sym
                if entry.ensembl:
                    self._ensembl[entry.ensembl] = sym
                for up in entry.uniprot.split(", "):
                    if up:
                        self._uniprot[up] = sym
                for a in _split(row[col["Alias symbols"]]):
                    self._alias[a.upper()].add(sym)
                for p in _split(row[col["Previous symbols"]]):
                    self._previous[p.upper()].add(sym)
                if entry.name:
                    self._names.setdefault(normalize(entry.name), sym)

    def _load_famplex(self) -> None:
        members: dict[str, set[str]] = defaultdict(set)
        children: dict[str, set[str]] = defaultdict(set)
        text = knowledge_path("famplex", "relations.csv").read_text(encoding="utf-8")
        for row in csv.reader(io.StringIO(text)):
            if len(row) < 5 or row[3] != "FPLX":
                continue
            ns, name, _rel, _, fam = (c.strip() for c in row[:5])
            if ns == "HGNC" and name in self.hgnc:
                members[fam].add(name)
            elif ns == "FPLX":
                children[fam].add(name)

        def expand(fam: str, seen: frozenset[str] = frozenset()) -> set[str]:
            out = set(members.get(fam, ()))
            for child in children.get(fam, ()):
                if child not in seen:
                    out |= expand(child, seen | {fam})
            return out

        entities = knowledge_path("famplex", "entities.csv").read_text(encoding="utf-8").split()
        for fam in {*entities, *members, *children}:
            genes = sorted(expand(fam))
            if genes:
                self.families[fam] = genes
                self._family_upper.setdefault(fam.upper(), fam)
        text = knowledge_path("famplex", "grounding_map.csv").read_text(encoding="utf-8")
        for row in csv.reader(io.StringIO(text)):
            if len(row) < 3 or not row[0]:
                continue
            surface = row[0].strip()
            ground = _pick_grounding(row[1:])
            if ground is None:
                continue
            self._grounding[surface] = ground
            self._grounding_upper.setdefault(surface.upper(), ground)

    def _load_sgd(self) -> None:
        with gzip.open(knowledge_path("sgd", "SGD_features.tab.gz"), "rt", encoding="utf-8") as fh:
            for row in csv.reader(fh, delimiter="\t"):
                if len(row) < 6 or row[1] != "ORF":
                    continue
                orf, std = row[3], row[4]
                self.yeast[orf] = std or orf
                if len(row) > 15 and row[15]:
                    self.yeast_description[orf] = row[15]
                self._yeast_lookup[orf.upper()].add(orf)
                if std:
                    self._yeast_lookup[std.upper()].add(orf)
                for alias in row[5].split("|"):
                    if alias:
                        self._yeast_lookup[alias.upper()].add(orf)

    # ------------------------------------------------------------------ resolving
    def _ground(self, ground: tuple[str, str], query: str, kind: MatchKind) -> GeneResolution | None:
        ns, ident = ground
        if ns == "FPLX" and ident in self.families:
            return GeneResolution(query=query, symbols=self.families[ident], match="family", family=ident)
        if ns == "HGNC" and ident in self.hgnc:
            return GeneResolution(query=query, symbols=[ident], match=kind)
        if ns == "UP" and ident in self._uniprot:
            return GeneResolution(query=query, symbols=[self._uniprot[ident]], match=kind)
        if ns in ("CHEBI", "PUBCHEM", "HMDB", "MESH", "GO", "CHEMBL"):
            return GeneResolution(
                query=query, symbols=[], match="non-gene", note=f"{query!r} names a {ns} entity, not a gene."
            )
        return None

    def resolve(self, query: str, organism: Organism = "human") -> GeneResolution:
        """Resolve one symbol, alias, previous symbol, family, Entrez/Ensembl id or yeast name.

        Example:
            >>> get_resolver().resolve("Raf").symbols
            ['ARAF', 'BRAF', 'RAF1']
            >>> get_resolver().resolve("YKR021W", organism="yeast").symbols
            ['ALY1']
        """
        q = query.strip()
        if not q:
            return GeneResolution(query=query, symbols=[], match="none", note="empty query")
        up = q.upper()
        if organism in ("yeast",) or (organism == "any" and _YEAST_ORF.match(q)):
            hit = self._resolve_yeast(q)
            if hit is not None or organism == "yeast":
                return hit or GeneResolution(query=q, symbols=[], match="none", organism="yeast")
        if q in self.hgnc:
            return GeneResolution(query=q, symbols=[q], match="symbol")
        if q.isdigit() and q in self._entrez:
            return GeneResolution(query=q, symbols=[self._entrez[q]], match="entrez")
        if up.startswith("ENSG") and up.split(".")[0] in self._ensembl:
            return GeneResolution(query=q, symbols=[self._ensembl[up.split(".")[0]]], match="ensembl")
        if q in self.families:
            return GeneResolution(query=q, symbols=self.families[q], match="family", family=q)
        for table in (self._grounding, self._grounding_upper):
            key = q if table is self._grounding else up
            if key in table:
                hit = self._ground(table[key], q, "grounding")
                if hit is not None:
                    return hit
        if up in self._family_upper:
            fam = self._family_upper[up]
            return GeneResolution(query=q, symbols=self.families[fam], match="family", family=fam)
        if up in self._upper:
            return GeneResolution(query=q, symbols=[self._upper[up]], match="symbol")
        # single letters ('B') are aliases of something; never resolve them
        for kind, synonyms in (("previous", self._previous), ("alias", self._alias)):
            if up in synonyms and len(q) > 1:
                syms = sorted(synonyms[up])
                note = f"{q!r} is a {kind} symbol of {len(syms)} genes" if len(syms) > 1 else ""
                return GeneResolution(query=q, symbols=syms, match=kind, ambiguous=len(syms) > 1, note=note)  # type: ignore[arg-type]
        key = normalize(q)
        if key in self._names:
            return GeneResolution(query=q, symbols=[self._names[key]], match="name")
        if organism == "any":
            hit = self._resolve_yeast(q)
            if hit is not None:
                return hit
        m = _NUMBERED_MEMBERS.match(q)  # "MEK1/2", "ERK1/2", "AKT1/2/3": the members a paper lumps together
        if m:
            parts = [self.resolve(m.group("stem") + n, organism) for n in m.group("numbers").split("/")]
            if all(len(p.symbols) == 1 for p in parts):
                members = list(dict.fromkeys(p.symbols[0] for p in parts))
                return GeneResolution(query=q, symbols=members, match="family",
                                      note=f"{q!r} read as {' and '.join(members)}")  # fmt: skip
        for pattern in (_PHOSPHO_SUFFIX, _PHOSPHO_PREFIX):  # a measured phospho form names its protein
            m = pattern.match(q)
            if m and m.group("core") != q:
                core = self.resolve(m.group("core"), organism)
                if core.symbols:
                    return core.model_copy(
                        update={"query": q, "note": f"{q!r} read as the protein {m.group('core')!r}"}
                    )
        return GeneResolution(
            query=q, symbols=[], match="none", note=f"{q!r} is not a known gene name or id."
        )

    def yeast_line(self, name: str) -> str:
        """A yeast gene's SGD line, "ERG11 (YHR007C): Lanosterol 14-alpha-demethylase; ..." ("" when the name is
        unknown, ambiguous or undescribed).

        Example:
            >>> get_resolver().yeast_line("YLR357W")[:30]
            'RSC2 (YLR357W): Component of t'
        """
        orfs = sorted(self._yeast_lookup.get(name.upper(), ()))
        if len(orfs) != 1 or orfs[0] not in self.yeast_description:
            return ""
        return f"{self.yeast[orfs[0]]} ({orfs[0]}): {self.yeast_description[orfs[0]]}"

    def _resolve_yeast(self, q: str) -> GeneResolution | None:
        orfs = sorted(self._yeast_lookup.get(q.upper(), ()))
        if not orfs and len(q) > 3 and q[-1] == "p" and q[0].isupper():
            # the protein of a yeast gene: Ste5p (STE5)
            orfs = sorted(self._yeast_lookup.get(q[:-1].upper(), ()))
        if not orfs:
            return None
        names = [self.yeast[o] for o in orfs]
        return GeneResolution(
            query=q, symbols=names, match="yeast", organism="yeast", ambiguous=len(orfs) > 1,
            note=f"systematic: {', '.join(orfs)}",
        )  # fmt: skip

    def resolve_many(self, queries: Iterable[str], organism: Organism = "human") -> list[GeneResolution]:
        """Resolve several names."""
        return [self.resolve(q, organism) for q in queries]

    def resolve_one(self, query: str, organism: Organism = "human") -> str:
        """Resolve to exactly one gene or raise :class:`UnknownGeneError` with the options in the message.

        Example:
            >>> get_resolver().resolve_one("p53")
            'TP53'
        """
        res = self.resolve(query, organism)
        if len(res.symbols) == 1:
            return res.symbols[0]
        if res.match == "family":
            raise UnknownGeneError(
                f"{query!r} is a protein family ({res.family}); did you mean {_or_list(res.symbols)}?"
            )
        if res.ambiguous:
            raise UnknownGeneError(
                f"{query!r} is ambiguous ({res.note}); did you mean {_or_list(res.symbols)}?"
            )
        if res.match == "non-gene":
            raise UnknownGeneError(res.note)
        close = self.suggest(query)
        hint = f" Did you mean {_or_list(close)}?" if close else ""
        raise UnknownGeneError(f"Unknown gene {query!r}.{hint}")

    def suggest(self, query: str, n: int = 3) -> list[str]:
        """Approved symbols spelled like ``query`` (a typo, swapped digits): the "did you mean" list.

        Example:
            >>> get_resolver().suggest("TP35")[0]
            'TP53'
        """
        up = query.strip().upper()
        key = sorted(up)  # swapped characters first (TP35 -> TP53), then close spellings
        swapped = [c for c in self._upper if c != up and len(c) == len(up) and sorted(c) == key]
        close = difflib.get_close_matches(up, list(self._upper), n=n, cutoff=0.8)
        return list(dict.fromkeys(self._upper[c] for c in [*swapped, *close]))[:n]

    def entrez(self, symbol: str) -> str | None:
        """Entrez (NCBI Gene) id of an approved symbol."""
        e = self.hgnc.get(symbol)
        return e.entrez if e and e.entrez else None

    def symbol_for_entrez(self, entrez: str) -> str | None:
        return self._entrez.get(str(entrez))

    # ------------------------------------------------------------------ dictionary for the tagger
    def surface_forms(self) -> Iterable[tuple[str, str, tuple[str, ...], str]]:
        """Yield (surface, kind, symbols, family) for every dictionary entry."""
        for sym, e in self.hgnc.items():
            yield sym, "symbol", (sym,), ""
            if e.name and (len(e.name.split()) >= 2 or len(e.name) >= 5):
                yield e.name, "name", (sym,), ""
        for a, syms in self._alias.items():
            yield a, "alias", tuple(sorted(syms)), ""
        for p, syms in self._previous.items():
            yield p, "previous", tuple(sorted(syms)), ""
        for fam, members in self.families.items():
            yield fam, "family", tuple(members), fam
        for surface, ground in self._grounding.items():
            res = self._ground(ground, surface, "grounding")
            if res is not None and res.symbols:
                yield surface, res.match, tuple(res.symbols), res.family or ""


def _split(cell: str) -> list[str]:
    return [c.strip() for c in cell.split(",") if c.strip()]


def _pick_grounding(cells: list[str]) -> tuple[str, str] | None:
    pairs = [
        (cells[i].strip(), cells[i + 1].strip()) for i in range(0, len(cells) - 1, 2) if cells[i].strip()
    ]
    for preferred in ("FPLX", "HGNC", "UP"):
        for ns, ident in pairs:
            if ns == preferred:
                return ns, ident
    return pairs[0] if pairs else None


def _or_list(items: list[str], limit: int = 6) -> str:
    items = items[:limit]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


@lru_cache(maxsize=1)
def get_resolver() -> GeneResolver:
    """The process-wide resolver (tables load once, about 1 s)."""
    return GeneResolver()


# ============================================================================ tagger
class GeneMention(BaseModel):
    """A gene mention found in text."""

    model_config = ConfigDict(extra="forbid")

    start: int
    end: int
    text: str
    symbols: list[str] = Field(description="Resolved approved symbols (several for a family or ambiguity).")
    kind: str = Field(description="symbol, alias, previous, name, family, grounding.")
    family: str | None = None
    ambiguous: bool = False


_TOKEN = re.compile(r"[A-Za-z0-9\u0370-\u03ff]+")
_GAP = re.compile(r"[ \-/.]{1,2}")
_CUE_WORDS = {
    "gene", "genes", "protein", "proteins", "expression", "mrna", "kinase", "receptor", "levels", "level",
    "knockdown", "knockout", "deficient", "mutant", "mutation", "mutations", "promoter", "transcription",
    "phosphorylation", "activity", "signaling", "signalling", "pathway", "inhibitor", "variant", "variants",
    "polymorphism", "allele", "encoding", "encodes", "sirna", "overexpression", "factor", "subunit", "isoform",
}  # fmt: skip
#: Frequent English and biomedical words that are also gene aliases; tagged only with context support.
_STOP = {
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "for", "from", "had", "has", "have", "he", "her",
    "his", "in", "is", "it", "its", "may", "no", "not", "of", "on", "or", "our", "she", "so", "that", "the", "their",
    "then", "these", "this", "to", "two", "up", "was", "we", "were", "which", "with", "all", "also", "cell", "cells",
    "type", "impact", "set", "max", "rest", "cat", "ace", "gap", "camp", "large", "net", "end", "top", "mass",
    "fat", "wars", "arms", "spring", "bad", "bid", "car", "cap", "pan", "tip", "age", "ii", "iii", "iv", "vi", "hr",
    "pc", "ct", "mri", "ms", "hd", "ad", "pd", "copd", "sd", "ci", "rr", "dm", "ra", "ca", "md", "et",
    "al", "ng", "ml", "mg", "kg", "nm", "mm", "min", "h", "s", "p", "c", "t", "b", "d", "e", "f", "g", "k", "l",
    "m", "n", "r", "v", "x", "y", "z", "id", "ids", "ip", "ph", "dna", "rna", "atp", "adp", "gtp", "nad", "nadh",
    "ros", "co", "lps", "il", "dc", "nk", "sc", "ic", "ec", "via", "per", "act", "cd", "hla", "mhc", "tnf",
    "icu", "bmi", "lv", "ef", "ecg", "ekg", "bp", "hiv", "hbv", "hcv", "cmv", "ebv", "sars", "mers", "covid",
    "pcr", "elisa", "gwas", "snp", "snps", "cnv", "ptsd", "adhd", "asd", "als", "sle", "ibd", "uc", "cf", "dmd",
    "aml", "cml", "cll", "nsclc", "hcc", "crc", "rcc", "gbm", "tb", "mi", "chd", "cad", "ckd", "aki",
}  # fmt: skip


@dataclass
class _Entry:
    symbols: tuple[str, ...]
    kind: str
    family: str
    surface: str
    ambiguous: bool


_KIND_RANK = {"symbol": 0, "family": 1, "grounding": 2, "name": 3, "previous": 4, "alias": 5}


class GeneTagger:
    """Dictionary gene-mention tagger over HGNC symbols, aliases, previous symbols, names and FamPlex.

    Matching is case-insensitive on keys where Greek letters are spelled out and separators removed, so
    "NF-κB", "NFkappaB" and "NF kappa B" match alike. Handles plurals ("ERKs") and phospho prefixes
    ("p-ERK", "phospho-Akt", "pERK"). Symbols or aliases that are common words ("CAT", "SET") or all-lower-case
    surface forms of short symbols are tagged only when the context supports a gene reading.

    Example:
        >>> [m.symbols for m in get_tagger().tag("Phospho-ERK levels rose after TP53 knockdown.")]
        [['MAPK1', 'MAPK3'], ['TP53']]
    """

    max_tokens = 8

    def __init__(self, resolver: GeneResolver | None = None, common_words: Iterable[str] = ()) -> None:
        self.resolver = resolver or get_resolver()
        self.common = set(_STOP) | {w.lower() for w in common_words}
        self.english = _english_words()
        # English words that actually occur in lower case in biomedical prose ('set', 'impact'), not rare
        # dictionary entries that happen to spell a gene symbol ('myc')
        self.common_english = (self.english & self.common) | set(_STOP)
        self.entries: dict[str, _Entry] = {}
        for surface, kind, symbols, family in self.resolver.surface_forms():
            key = normalize(surface)
            if len(key) < 2 or key.isdigit():
                continue
            new = _Entry(symbols, kind, family, surface, len(symbols) > 1 and kind in ("alias", "previous"))
            old = self.entries.get(key)
            if old is None or _KIND_RANK.get(kind, 9) < _KIND_RANK.get(old.kind, 9):
                self.entries[key] = new
            elif (
                old.kind in ("alias", "previous") and kind in ("alias", "previous") and old.symbols != symbols
            ):
                merged = tuple(sorted(set(old.symbols) | set(symbols)))
                self.entries[key] = _Entry(merged, old.kind, "", old.surface, True)

    def _accept(self, surface: str, entry: _Entry, text: str, start: int, end: int) -> bool:
        key = normalize(surface)
        has_digit = any(c.isdigit() for c in surface)
        lower_surface = surface == surface.lower()
        words = re.findall(r"[A-Za-z]+", surface)
        if entry.kind in ("name", "grounding") and " " in surface and len(surface) > 6:
            return not all(w.lower() in self.english for w in words) or self._context_supports(
                text, start, end
            )
        if " " in surface and any(w.lower() in self.english or w.lower() in self.common for w in words):
            return False  # 'In a', 'and 1': English words glued into an alias
        if lower_surface and not has_digit:
            # lower-case words are genes only as names/aliases that are not English ('insulin', 'psoriasin')
            return len(key) >= 4 and key not in self.english and key not in self.common
        if surface.lower() in self.common_english or (len(key) <= 2 and not has_digit):
            return self._context_supports(text, start, end)
        return True

    def _context_supports(self, text: str, start: int, end: int) -> bool:
        window = text[max(0, start - 40) : end + 40].lower()
        words = set(re.findall(r"[a-z]+", window))
        paren = text[max(0, start - 1) : start] == "(" and text[end : end + 1] == ")"
        return bool(words & _CUE_WORDS) or paren

    def tag(self, text: str) -> list[GeneMention]:
        """Gene mentions in ``text``, longest match first, left to right."""
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        not_genes = self._non_gene_abbreviations(text)
        mentions: list[GeneMention] = []
        i = 0
        while i < len(tokens):
            found = None
            for n in range(min(self.max_tokens, len(tokens) - i), 0, -1):
                s, e = tokens[i][0], tokens[i + n - 1][1]
                gap_ok = all(
                    _GAP.fullmatch(text[tokens[k][1] : tokens[k + 1][0]]) is not None
                    for k in range(i, i + n - 1)
                )
                if not gap_ok:
                    continue
                surface = text[s:e]
                hit = self._lookup(surface)
                if (
                    hit is not None
                    and surface.rstrip("s") not in not_genes
                    and self._accept(hit[0], hit[1], text, s, e)
                ):
                    found = (n, s, e, hit)
                    break
            if found is None:
                i += 1
                continue
            n, s, e, (matched, entry) = found
            mentions.append(
                GeneMention(
                    start=s, end=e, text=text[s:e], symbols=list(entry.symbols), kind=entry.kind,
                    family=entry.family or None, ambiguous=entry.ambiguous,
                )
            )  # fmt: skip
            i += n
        return mentions

    _ABBR = re.compile(r"\(([A-Za-z][A-Za-z0-9\-]{1,9}?)s?\)")
    _GENE_WORDS = re.compile(
        r"(ase|ases|in|ins|receptor|receptors|factor|factors|protein|proteins|gene|channel|transporter|ligand|"
        r"hormone|kinase|antigen|globulin|peptide|subunit|symporter|exchanger)$"
    )

    def _non_gene_abbreviations(self, text: str) -> set[str]:
        """Abbreviations defined in the text by a long form that is not a gene ('cystic fibrosis (CF)')."""
        out: set[str] = set()
        for m in self._ABBR.finditer(text):
            abbr = m.group(1)
            if not any(c.isupper() for c in abbr):
                continue
            before = re.findall(r"[A-Za-z0-9\u0370-\u03ff\-]+", text[max(0, m.start() - 120) : m.start()])
            first = abbr[0].lower()
            long_form = None
            for k in range(1, min(len(abbr) + 4, len(before)) + 1):
                if before[-k][:1].lower() == first:
                    long_form = before[-k:]
                    break
            if not long_form:
                continue
            phrase = " ".join(long_form)
            last = long_form[-1].lower()
            if normalize(phrase) in self.entries or self._GENE_WORDS.search(last):
                continue
            out.add(abbr)
        return out

    def _lookup(self, surface: str) -> tuple[str, _Entry] | None:
        key = normalize(surface)
        entry = self.entries.get(key)
        if entry is not None:
            return surface, entry
        # phospho prefixes: "pERK", "p-ERK" (already joined by normalize), "phospho-Akt"
        for prefix in ("phospho", "p"):
            if key.startswith(prefix) and len(key) > len(prefix) + 1:
                rest_surface = surface[len(prefix) :].lstrip("-")
                if prefix == "p" and not (rest_surface[:1].isupper()):
                    continue
                entry = self.entries.get(key[len(prefix) :])
                if entry is not None and entry.kind in ("symbol", "family", "grounding"):
                    return rest_surface, entry
        if key.endswith("s") and len(key) > 3 and surface[-1] == "s":
            entry = self.entries.get(key[:-1])
            upper_stem = surface[:-1].upper() == surface[:-1]
            if entry is not None and (
                (upper_stem and entry.kind in ("symbol", "family", "grounding", "alias"))
                or (entry.kind in ("name", "grounding", "family") and len(key) > 6)
            ):
                return surface[:-1], entry
        return None

    def genes_in(self, text: str) -> list[str]:
        """Distinct resolved symbols mentioned in ``text`` (families expanded)."""
        out: dict[str, None] = {}
        for m in self.tag(text):
            for s in m.symbols:
                out[s] = None
        return list(out)


@lru_cache(maxsize=1)
def get_tagger() -> GeneTagger:
    """The process-wide tagger (dictionary builds once, a few seconds)."""
    return GeneTagger(get_resolver(), common_words=_corpus_common_words())


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    """Lower-case English words (GCIDE dictionary from the english-words package)."""
    try:
        from english_words import get_english_words_set
    except ImportError:  # pragma: no cover - a declared dependency
        logger.warning("english-words is not installed; the tagger uses its small stop list only")
        return frozenset(_STOP)
    return frozenset(get_english_words_set(["gcide"], lower=True, alpha=True)) | frozenset(_STOP)


@lru_cache(maxsize=1)
def _corpus_common_words() -> frozenset[str]:
    """Words that occur often in lower case in the shipped abstracts: English, not gene symbols."""
    counts: Counter[str] = Counter()
    try:
        with gzip.open(knowledge_path("biored", "Train.PubTator.gz"), "rt", encoding="utf-8") as fh:
            for line in fh:
                if "|t|" in line[:20] or "|a|" in line[:20]:
                    counts.update(w for w in re.findall(r"\b[a-z]{2,}\b", line.split("|", 2)[2]))
    except FileNotFoundError:  # pragma: no cover - package data always shipped
        return frozenset()
    return frozenset(w for w, c in counts.items() if c >= 3)


def resolver_organism(organism: str) -> Organism:
    """The resolver's organism for an organism as the registry or the data write it ("S. cerevisiae" -> yeast).

    Example:
        >>> resolver_organism("S. cerevisiae"), resolver_organism("human"), resolver_organism("in silico")
        ('yeast', 'human', 'human')
    """
    return "yeast" if any(w in organism.lower() for w in ("yeast", "cerevisiae")) else "human"


def guess_organism(genes: Sequence[str]) -> str:
    """``yeast`` when most names are yeast genes (SGD systematic or standard names) that are not human symbols,
    else ``human``: the organism whose gene descriptions and priors user data get.

    Example:
        >>> guess_organism(["YLR357W", "ERG11", "SPO11"]), guess_organism(["MAPK1", "TP53"])
        ('yeast', 'human')
    """
    r = get_resolver()
    yeast = sum(bool(r.yeast_line(str(g))) and not r.resolve(str(g)).symbols for g in genes)
    return "yeast" if len(genes) and yeast > len(genes) / 2 else "human"
