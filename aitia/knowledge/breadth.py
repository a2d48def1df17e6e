"""Expression breadth: how many transcripts a gene's loss is likely to change, from its description alone.

Deleting or knocking down gene-expression machinery (transcription factors and co-regulators, chromatin remodelling
and histone-modifying complexes, RNA polymerase II, Mediator and elongation factors, mRNA processing, export and
decay) changes many transcripts; most other deletions change few (Kemmeren et al., Cell 2014: the responsive
deletions are enriched for chromatin and transcription regulators; Replogle et al., Cell 2022, for CRISPRi in human
cells). The score is the cosine similarity of a gene's description embedding (:func:`gene_description`: HGNC name,
FamPlex families and NCBI summary for human genes, the SGD line for yeast; offline MiniLM) to the nearest of a fixed
set of descriptions of that machinery, :data:`BREADTH_PROTOTYPES`. It is a zero-shot prior written once from the
biology above, not fitted to any data set.

Example:
    >>> s = expression_breadth(["RSC2", "SPO11"], organism="yeast")
    >>> bool(s["RSC2"] > s["SPO11"])  # chromatin remodeller vs meiosis-specific nuclease
    True
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from ..types.graph import EdgeScores

logger = logging.getLogger(__name__)

#: Descriptions of gene-expression machinery: a gene whose description is close to one of these is expected to
#: change many transcripts when lost.
BREADTH_PROTOTYPES = (
    "Transcription factor; regulates transcription of many genes",
    "Component of a chromatin remodeling or histone modification complex",
    "Subunit of RNA polymerase II, Mediator or a transcription elongation complex",
    "Involved in mRNA processing, export or decay",
)


def expression_breadth(
    genes: Sequence[str], organism: str = "human", embedding: str | None = None
) -> pd.Series:
    """Similarity of each gene's description to :data:`BREADTH_PROTOTYPES` (NaN: no description).

    Args:
        genes: gene names (human symbols, or yeast standard / systematic names with ``organism="yeast"``).
        organism: ``human`` or ``yeast`` (a registry organism such as "S. cerevisiae" is understood).
        embedding: embedding spec (default ``AITIA_EMBEDDING``, offline MiniLM).
    """
    from .gene_features import text_features
    from .genes import resolver_organism

    organism = resolver_organism(organism)

    feats = text_features(genes, embedding=embedding, organism=organism)
    protos = _prototype_vectors(str(feats.meta.get("embedding")))
    v = np.asarray(feats.values, dtype=np.float64)
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    score = (v @ protos.T).max(axis=1)
    assert feats.present is not None
    score[~feats.present] = np.nan
    missing = int((~feats.present).sum())
    if missing:
        logger.info("expression breadth: %d of %d genes have no description", missing, len(genes))
    return pd.Series(score, index=[str(g) for g in genes], name="expression breadth")


@lru_cache(maxsize=4)
def _prototype_vectors(spec: str) -> np.ndarray:
    """Unit embeddings of :data:`BREADTH_PROTOTYPES` (computed once per embedding: no model load per call)."""
    from .embeddings import make_embedding

    protos = np.asarray(make_embedding(spec)(list(BREADTH_PROTOTYPES)), dtype=np.float64)
    return protos / np.linalg.norm(protos, axis=1, keepdims=True)


def breadth_prior(genes: Sequence[str], organism: str = "human", embedding: str | None = None) -> EdgeScores:
    """A source-level prior: row ``i`` holds gene ``i``'s breadth percentile among ``genes`` (no description: the
    median), the diagonal 0. It says which perturbations should change many genes, not which genes; learners that
    read row means (:class:`~aitia.causal.learners.propensity.PropensityLearner`) use it.

    Example:
        >>> p = breadth_prior(["RSC2", "SPO11", "YKR021W"], organism="yeast")
        >>> p.values.shape, p.name
        ((3, 3), 'expression breadth')
    """
    s = expression_breadth(genes, organism=organism, embedding=embedding)
    pct = s.rank(pct=True).fillna(0.5).to_numpy()
    v = np.tile(pct[:, None], (1, len(s)))
    np.fill_diagonal(v, 0.0)
    return EdgeScores(
        v, list(s.index), name="expression breadth", meta={"prototypes": list(BREADTH_PROTOTYPES)}
    )
