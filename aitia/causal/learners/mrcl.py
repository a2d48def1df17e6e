"""Causal learning via manifold regularization (Hill, Oates, Blythe & Mukherjee, JMLR 2019).

Each ordered pair (i, j) is represented by the 2-D histogram of the standardised pair (x_i, x_j) (30 x 30 bins on
[-3, 3]^2), reduced by PCA. An RBF kernel (bandwidth from nearest-neighbour distances) defines both the hypothesis
space and a graph over pairs, whose normalised Laplacian regularises a least-squares fit to the labelled pairs
(Laplacian-regularised least squares, Belkin et al. 2006). Unlabelled pairs then get scores that vary smoothly along
the manifold of pair distributions. Every pair's features are held in memory: the method is for tens of genes.
"""

from __future__ import annotations

import logging

import numpy as np
from anndata import AnnData

from ...errors import DataValidationError
from ...types.graph import EdgeLabels, EdgeScores
from .base import BaseLearner

logger = logging.getLogger(__name__)


def pair_histograms(
    z: np.ndarray, bins: int = 30, lim: float = 3.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised 2-D histograms of every ordered pair: returns (features, src, tgt)."""
    n, p = z.shape
    b = np.clip(((z + lim) / (2 * lim) * bins).astype(int), 0, bins - 1)
    src, tgt = np.nonzero(~np.eye(p, dtype=bool))
    feats = np.zeros((len(src), bins * bins), dtype=np.float32)
    for k in range(len(src)):
        idx = b[:, src[k]] * bins + b[:, tgt[k]]
        feats[k] = np.bincount(idx, minlength=bins * bins)
    feats /= n
    return feats, src, tgt


class MRCLLearner(BaseLearner):
    """Manifold-regularised causal learning on pair histograms.

    Args:
        bins: histogram bins per axis.
        n_components: PCA components.
        n_neighbors: k for the nearest-neighbour kernel bandwidth.
        gamma_a: ambient (RKHS norm) regularisation, or ``"cv"``: chosen from (1e-3, 1e-2, 1e-1) by 3-fold
            cross-validated AUROC on the labelled pairs.
        gamma_i: intrinsic (Laplacian) regularisation.
        prior_weight: blend of the final ranking with the prior.
        max_samples: rows used for the pair histograms (random subsample above this; None: all).
        random_state: seed (PCA, subsampling).
    """

    name = "mrcl"
    uses_labels = True
    max_genes = 60

    def __init__(self, bins: int = 30, n_components: int = 30, n_neighbors: int = 10, gamma_a: float | str = "cv",
                 gamma_i: float = 1e3, prior_weight: float = 0.0, max_samples: int | None = 5000,
                 random_state: int = 0) -> None:  # fmt: skip
        self.bins = bins
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.gamma_a = gamma_a
        self.gamma_i = gamma_i
        self.prior_weight = prior_weight
        self.max_samples = max_samples
        self.random_state = random_state

    def fit(
        self, adata: AnnData, prior: EdgeScores | None = None, labels: EdgeLabels | None = None
    ) -> MRCLLearner:
        from scipy.spatial.distance import cdist
        from sklearn.decomposition import PCA

        self._prepare(adata, prior, labels)
        y_mat = self._label_matrix()
        if labels is None and self.prior_ is not None:
            y_mat = np.where(self.prior_ >= 0.5, 1.0, np.nan)
            y_mat[np.isnan(y_mat) & (self.prior_ == 0)] = 0.0
            np.fill_diagonal(y_mat, np.nan)
        if np.isnan(y_mat).all():
            raise DataValidationError(
                "MRCL is semi-supervised: pass labels=EdgeLabels (or a prior to derive them)."
            )
        z = self._standardize(self._matrix(adata, max_samples=self.max_samples, seed=self.random_state))
        feats, src, tgt = pair_histograms(z, self.bins)
        k = min(self.n_components, feats.shape[1], len(feats) - 1)
        emb = PCA(n_components=k, random_state=self.random_state).fit_transform(feats)
        d2 = cdist(emb, emb, "sqeuclidean")
        knn = np.sort(np.sqrt(d2), axis=1)[:, min(self.n_neighbors, len(emb) - 1)]
        sigma = float(np.median(knn)) or 1.0
        K = np.exp(-d2 / (2 * sigma**2))
        W = K.copy()
        np.fill_diagonal(W, 0.0)
        deg = W.sum(1)
        dinv = 1.0 / np.sqrt(np.maximum(deg, 1e-12))
        L = np.eye(len(W)) - dinv[:, None] * W * dinv[None, :]
        y = y_mat[src, tgt]
        lab = ~np.isnan(y)
        LK = L @ K
        if self.gamma_a == "cv":
            gamma_a = self._select_gamma_a(K, LK, y, lab)
        else:
            gamma_a = float(self.gamma_a)
        self.gamma_a_ = gamma_a
        f = self._laprls(K, LK, y, lab, gamma_a)
        scores = np.zeros((self.n_genes_, self.n_genes_))
        scores[src, tgt] = f
        self.decision_ = scores.copy()
        if self.prior_ is not None and self.prior_weight > 0:
            from .correlation import rank01

            scores = (1 - self.prior_weight) * rank01(scores) + self.prior_weight * self.prior_
        self.scores_ = scores
        self.bandwidth_ = sigma
        return self

    def _laprls(
        self, K: np.ndarray, LK: np.ndarray, y: np.ndarray, lab: np.ndarray, gamma_a: float
    ) -> np.ndarray:
        """Laplacian-regularised least squares (Belkin, Niyogi & Sindhwani 2006): returns f on every pair."""
        n, n_l = len(y), max(int(lab.sum()), 1)
        yl = np.where(lab, 2 * np.nan_to_num(y) - 1, 0.0)
        A = lab[:, None] * K + gamma_a * n_l * np.eye(n) + (self.gamma_i * n_l / n**2) * LK
        return K @ np.linalg.solve(A, yl)

    def _select_gamma_a(self, K: np.ndarray, LK: np.ndarray, y: np.ndarray, lab: np.ndarray) -> float:
        from sklearn.metrics import roc_auc_score

        rng = np.random.default_rng(self.random_state)
        idx = np.flatnonzero(lab)
        folds = rng.permutation(len(idx)) % 3
        best, best_auc = 1e-2, -1.0
        for g in (1e-3, 1e-2, 1e-1):
            aucs = []
            for k in range(3):
                held = idx[folds == k]
                train = lab.copy()
                train[held] = False
                yh = y[held]
                if yh.min() == yh.max():
                    continue
                aucs.append(roc_auc_score(yh, self._laprls(K, LK, y, train, g)[held]))
            if aucs and np.mean(aucs) > best_auc:
                best, best_auc = g, float(np.mean(aucs))
        return best
