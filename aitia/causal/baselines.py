"""Trivial score baselines every method must beat: |correlation| and random.

Example:
    >>> from aitia import datasets
    >>> correlation_scores(datasets.load("sachs")).values.shape
    (11, 11)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from anndata import AnnData

from ..types.graph import EdgeLabels, EdgeScores


def _dense(adata: AnnData) -> np.ndarray:
    x = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    return np.asarray(x, dtype=np.float64)


def correlation_scores(adata: AnnData, method: str = "pearson") -> EdgeScores:
    """|Pearson| (or |Spearman| with ``method="spearman"``) correlation over all samples; symmetric."""
    x = _dense(adata)
    if method == "spearman":
        from scipy.stats import rankdata

        x = rankdata(x, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.corrcoef(x, rowvar=False)
    c = np.abs(np.nan_to_num(c))
    np.fill_diagonal(c, 0.0)
    return EdgeScores(c, list(map(str, adata.var_names)), name=f"abs-{method}-correlation")


def random_scores(genes: list[str], seed: int = 0) -> EdgeScores:
    """Uniform random scores (the chance baseline)."""
    rng = np.random.default_rng(seed)
    v = rng.random((len(genes), len(genes)))
    np.fill_diagonal(v, 0.0)
    return EdgeScores(v, list(genes), name="random")


def label_propensity_scores(labels: EdgeLabels, genes: list[str], pseudo: float = 2.0) -> EdgeScores:
    """A reference that knows nothing about the data: score every pair i -> j by how often target j responds
    among the revealed labels (smoothed towards the overall rate). Some genes respond to almost any perturbation;
    a learner that cannot beat this has not learned about the pairs.

    Example:
        >>> import numpy as np
        >>> lab = EdgeLabels(np.array([[np.nan, 1.0, 0.0]]), ["A"], ["A", "B", "C"])
        >>> s = label_propensity_scores(lab, ["A", "B", "C"])
        >>> s["A", "B"] > s["A", "C"]
        True
    """
    flat, y = labels.aligned(genes, exclude_diagonal=True)
    p = len(genes)
    mat = np.full((p, p), np.nan)
    mat.ravel()[flat] = y
    known = ~np.isnan(mat)
    pos = np.where(known, mat, 0.0)
    base = pos.sum() / max(known.sum(), 1)
    rate = (pos.sum(0) + pseudo * base) / (known.sum(0) + pseudo)
    v = np.tile(rate, (p, 1))
    np.fill_diagonal(v, 0.0)
    return EdgeScores(v, list(genes), name="label propensity")
