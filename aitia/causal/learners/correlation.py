"""Baselines: absolute (partial) correlation, optionally blended with a prior."""

from __future__ import annotations

import numpy as np
from anndata import AnnData

from ...types.graph import EdgeLabels, EdgeScores
from .base import PRIOR_BLEND, BaseLearner


class CorrelationLearner(BaseLearner):
    """|Pearson| or |Spearman| correlation; symmetric, so it cannot orient edges.

    Args:
        method: ``pearson`` or ``spearman``.
        prior_weight: final score = (1 - w) * rank(|corr|) + w * prior (0 ignores the prior).
        max_samples: rows used (random subsample above this; None: all).

    Example:
        >>> from aitia.causal.simulate import simulate_linear_gaussian
        >>> ad, g = simulate_linear_gaussian(n_genes=8, n_cells=300, seed=0)
        >>> CorrelationLearner().fit(ad).predict_scores().values.shape
        (8, 8)
    """

    name = "correlation"

    def __init__(
        self, method: str = "pearson", prior_weight: float = PRIOR_BLEND, max_samples: int | None = 50_000
    ) -> None:
        self.method = method
        self.prior_weight = prior_weight
        self.max_samples = max_samples

    def fit(
        self, adata: AnnData, prior: EdgeScores | None = None, labels: EdgeLabels | None = None
    ) -> CorrelationLearner:
        self._prepare(adata, prior, labels)
        x = self._matrix(adata, max_samples=self.max_samples)
        if self.method == "spearman":
            from scipy.stats import rankdata

            x = rankdata(x, axis=0)
        elif self.method != "pearson":
            raise ValueError(f"method {self.method!r} not recognised. Options: pearson, spearman.")
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.abs(np.nan_to_num(np.corrcoef(x, rowvar=False)))
        self.corr_ = c
        self.scores_ = _blend(c, self.prior_, self.prior_weight)
        return self


class PartialCorrelationLearner(BaseLearner):
    """|Partial correlation| from a shrunk (Ledoit-Wolf) precision matrix; symmetric.

    Args:
        prior_weight: as in :class:`CorrelationLearner`.
        max_samples: rows used (random subsample above this; None: all).
    """

    name = "partial_correlation"
    max_genes = 5000

    def __init__(self, prior_weight: float = PRIOR_BLEND, max_samples: int | None = 50_000) -> None:
        self.prior_weight = prior_weight
        self.max_samples = max_samples

    def fit(
        self, adata: AnnData, prior: EdgeScores | None = None, labels: EdgeLabels | None = None
    ) -> PartialCorrelationLearner:
        self._prepare(adata, prior, labels)
        x = self._standardize(self._matrix(adata, max_samples=self.max_samples))
        prec = shrunk_precision(x)
        d = np.sqrt(np.clip(np.diag(prec), 1e-12, None))
        pc = np.abs(-prec / np.outer(d, d))
        self.partial_corr_ = pc
        self.scores_ = _blend(pc, self.prior_, self.prior_weight)
        return self


def shrunk_precision(z: np.ndarray, fallback_shrinkage: float = 0.2) -> np.ndarray:
    """Precision matrix of standardised data with Ledoit-Wolf shrinkage.

    Ledoit-Wolf's estimate can reach 1 (all partial correlations zero) on heavy-tailed data such as a mixture of
    wild-type and deletion profiles; above 0.9 a fixed shrinkage of ``fallback_shrinkage`` is used instead.
    """
    from sklearn.covariance import LedoitWolf, ShrunkCovariance

    lw = LedoitWolf(assume_centered=True).fit(z)
    if lw.shrinkage_ > 0.9:
        return ShrunkCovariance(shrinkage=fallback_shrinkage, assume_centered=True).fit(z).precision_  # type: ignore[no-any-return]
    return lw.precision_  # type: ignore[no-any-return]


def rank01(v: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1] (ties averaged)."""
    from scipy.stats import rankdata

    flat = rankdata(v.ravel(), method="average")
    return ((flat - 1) / max(len(flat) - 1, 1)).reshape(v.shape)


def _blend(scores: np.ndarray, prior: np.ndarray | None, weight: float) -> np.ndarray:
    s = scores.copy()
    np.fill_diagonal(s, 0.0)
    if prior is None or weight <= 0:
        return s
    return (1 - weight) * rank01(s) + weight * prior
