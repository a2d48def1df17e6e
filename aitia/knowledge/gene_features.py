"""Gene features from knowledge, for predictors that must place a gene they have no data for.

* ``text``: the embedding of a description of the gene (offline MiniLM by default, ``AITIA_EMBEDDING`` otherwise):
  its HGNC name, its FamPlex families and, where shipped, its NCBI summary (2,581 genes have one).
* ``network``: neighbourhood profiles in the curated prior network (TF and signalling edges, undirected; one and
  two random-walk steps): genes with shared neighbours get similar vectors.

Text vectors are cached per gene under ``$AITIA_HOME/cache/gene_features``, so a second run is instant.

Example:
    >>> f = gene_features(["TP53", "MDM2", "CDKN1A"], sources=("network",))
    >>> f.values.shape[0], bool(f.present.all())
    (3, True)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..config import get_settings
from ..errors import DataValidationError
from ..types.features import GeneFeatures

logger = logging.getLogger(__name__)

SOURCES = ("text", "network")


def _cache_dir() -> Path:
    return get_settings().cache_dir / "gene_features"


def gene_description(name: str, organism: str = "human") -> str:
    """A short text about a gene: symbol, HGNC name, FamPlex families, NCBI summary; with ``organism="yeast"``,
    its SGD description (empty for unknown names).

    Example:
        >>> gene_description("MAPK1")[:45]
        'MAPK1: mitogen-activated protein kinase 1. Fa'
    """
    from .genes import get_resolver
    from .hypotheses import gene_summaries

    r = get_resolver()
    if organism == "yeast":
        return r.yeast_line(name)[:2000]
    syms = r.resolve(name).symbols[:3]
    if not syms:
        return ""
    summaries = gene_summaries()
    families = _families_of()
    parts = []
    for s in syms:
        entry = r.hgnc.get(s)
        fams = families.get(s, [])
        text = f"{s}: {entry.name if entry else s}."
        if fams:
            text += f" Families: {', '.join(fams[:4])}."
        if s in summaries:
            text += " " + summaries[s]
        parts.append(text)
    return " ".join(parts)[:2000]


@lru_cache(maxsize=1)
def _families_of() -> dict[str, list[str]]:
    """Gene symbol -> its FamPlex families (inverted once, not per gene)."""
    from .genes import get_resolver

    out: dict[str, list[str]] = {}
    for fam, members in get_resolver().families.items():
        for m in members:
            out.setdefault(m, []).append(fam)
    return {g: sorted(f) for g, f in out.items()}


def text_features(genes: Sequence[str], embedding: str | None = None, progress: bool = False,
                  organism: str = "human") -> GeneFeatures:  # fmt: skip
    """Embeddings of the genes' descriptions (:func:`gene_description`; unknown genes: ``present=False``, zeros).

    Args:
        genes: gene symbols (families and aliases are resolved; a family describes up to three members).
        embedding: ``minilm`` (default, offline) | ``hashing`` | ``openai:<model>``.
        progress: show a progress bar while embedding.
        organism: ``human`` or ``yeast`` (SGD descriptions).
    """
    from .embeddings import make_embedding

    spec = embedding or get_settings().embedding
    texts = {str(g): t for g in genes if (t := gene_description(str(g), organism))}
    cache = _cache_dir() / f"text-{spec.replace(':', '_').replace('/', '_')}.npz"
    known: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            known = dict(zip(z["keys"].tolist(), z["values"]))
    key = {g: hashlib.sha1(t.encode()).hexdigest() for g, t in texts.items()}
    todo = [g for g in texts if key[g] not in known]
    if todo:
        ef = make_embedding(spec)
        from rich.progress import track

        batch = 64
        for start in track(range(0, len(todo), batch), description="embedding gene summaries",
                           disable=not progress, transient=True):  # fmt: skip
            chunk = todo[start : start + batch]
            for g, v in zip(chunk, ef([texts[g] for g in chunk])):
                known[key[g]] = np.asarray(v, np.float32)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(cache.stem + ".tmp.npz")
        np.savez(tmp, keys=np.array(list(known)), values=np.stack(list(known.values())))
        tmp.replace(cache)
    dim = len(next(iter(known.values()))) if known else 1
    vals = np.zeros((len(genes), dim), np.float32)
    present = np.zeros(len(genes), bool)
    for i, g in enumerate(genes):
        if str(g) in key:
            vals[i], present[i] = known[key[str(g)]], True
    return GeneFeatures([str(g) for g in genes], vals, [f"text:{spec}"], present, {"embedding": spec})


def network_features(genes: Sequence[str], prior: str | None = None, two_step: float = 0.5) -> GeneFeatures:
    """Neighbourhood profiles in the curated prior network (``prior``: names joined by '+', default ``AITIA_PRIORS``).

    A gene's vector is its row of ``R + two_step * R @ R`` over every network gene, with ``R`` the one-step random
    walk on the undirected network: genes that share direct or two-step neighbours get similar vectors (cosine).
    Kept sparse-then-dense per requested gene, so no spectral step washes out the local structure. Genes not in the
    network get zeros and ``present=False``.
    """
    import scipy.sparse as sp

    from .priors import default_prior, load_prior, measured_members

    spec = prior or default_prior()
    net = load_prior(spec)
    nodes = net.genes
    idx = {n: i for i, n in enumerate(nodes)}
    r = net.edges["source"].map(idx).to_numpy()
    c = net.edges["target"].map(idx).to_numpy()
    a = sp.coo_matrix((np.ones(len(r)), (r, c)), shape=(len(nodes), len(nodes))).tocsr()
    a = ((a + a.T) > 0).astype(np.float32)
    walk = sp.diags(1.0 / np.maximum(np.asarray(a.sum(1)).ravel(), 1.0)).astype(np.float32) @ a
    members = measured_members([str(g) for g in genes])
    vals = np.zeros((len(genes), len(nodes)), np.float32)
    present = np.zeros(len(genes), bool)
    for i, g in enumerate(genes):
        rows = [idx[m] for m in members[str(g)] if m in idx]
        if rows:
            one = walk[rows]
            profile = one + two_step * (one @ walk)
            vals[i], present[i] = np.asarray(profile.mean(0)).ravel(), True
    return GeneFeatures([str(g) for g in genes], vals, [f"network:{spec}"], present, {"prior": spec})


def gene_features(
    genes: Sequence[str], sources: Sequence[str] = SOURCES, progress: bool = False
) -> GeneFeatures:
    """Knowledge features of ``genes`` from the named sources, side by side (each block unit-normalised).

    Example:
        >>> gene_features(["MAPK1", "MAPK3"], sources=("network",)).sources
        ['network:trrust+collectri+signaling+signaling-nc+messengers']
    """
    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise DataValidationError(
            f"Gene feature sources {unknown or list(sources)} not recognised. Options: {', '.join(SOURCES)}."
        )
    blocks = [
        text_features(genes, progress=progress) if s == "text" else network_features(genes) for s in sources
    ]
    out = blocks[0].normalized()
    for b in blocks[1:]:
        out = out.concat(b)
    return out
