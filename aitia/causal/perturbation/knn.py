"""Perturbation kNN: an unseen perturbation does what the most similar measured perturbations did.

Similarity comes from gene features of the perturbed genes: knowledge features (``fit(..., features=...)``, e.g.
:func:`aitia.knowledge.gene_features.gene_features` over gene descriptions and curated networks), else expression
principal components when ``adata`` is given, else the rows of the prior graph. When the perturbation was measured
in another context, that measurement is its nearest neighbour (transfer across cell lines). Strong simple
baselines like this one match many published perturbation models on label benchmarks, so it is always worth
running beside them.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...errors import DataValidationError
from ...types.effects import EffectTable
from ...types.features import GeneFeatures
from .base import BasePredictor, quiet_nanmean, target_of

logger = logging.getLogger(__name__)


class KNNPredictor(BasePredictor):
    """Similarity-weighted average of the nearest training perturbations' effects and DE labels.

    Args:
        k: neighbours per query.
        power: weights are ``similarity ** power`` (higher: trust the closest more).
        self_weight: weight of the same perturbation measured in other contexts (1 = as a perfect neighbour;
            0 ignores it).
        n_components: expression principal components used when no features are given.
    """

    name = "knn"

    def __init__(
        self, k: int = 20, power: float = 2.0, self_weight: float = 1.0, n_components: int = 32
    ) -> None:
        self.k = k
        self.power = power
        self.self_weight = self_weight
        self.n_components = n_components

    def _fit(self, effects: EffectTable, adata: Any) -> None:
        feats = (
            self.features_ or _expression_features(adata, self.n_components) or _prior_features(self.prior_)
        )
        if feats is None:
            raise DataValidationError(
                "The knn predictor needs gene features: pass fit(..., features=gene_features(genes)), "
                "expression data (adata=...) or a prior."
            )
        self.feature_sources_ = list(feats.sources)
        feats = feats.normalized()
        self.table_contexts_ = list(effects.contexts)
        self.perturbations_ = list(effects.perturbations)
        self.train_vectors_, self.train_present_ = _perturbation_vectors(self.perturbations_, feats)
        self.feature_lookup_ = feats
        self.table_ = effects  # rows of observed pairs only: no dense C x P x G copy
        self.observed_ = effects.observed
        self.freq_ = np.nan_to_num(effects.overall_mean("label"))
        self.mean_ = np.nan_to_num(effects.overall_mean("effect"))
        self.n_fallback_ = 0

    def _predict(self, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        g = len(self.genes_)
        eff = np.tile(self.mean_, (len(q), 1)).astype(np.float32)
        lab = np.tile(self.freq_, (len(q), 1)).astype(np.float32)
        vecs, present = _perturbation_vectors(list(q["perturbation"]), self.feature_lookup_)
        pidx = {p: i for i, p in enumerate(self.perturbations_)}
        for k, (ctx, pert) in enumerate(zip(q["context"], q["perturbation"])):
            c = self.table_contexts_.index(ctx) if ctx in self.table_contexts_ else None
            cands = (
                np.flatnonzero(self.observed_[c]) if c is not None else np.flatnonzero(self.observed_.any(0))
            )
            cands = cands[(cands != pidx.get(pert, -1)) & self.train_present_[cands]]
            w_e, w_l = np.zeros(g), np.zeros(g)
            s_e, s_l = np.zeros(g), np.zeros(g)
            if present[k] and len(cands):
                sims = self.train_vectors_[cands] @ vecs[k]
                top = cands[np.argsort(-sims)[: self.k]]
                weights = np.clip(self.train_vectors_[top] @ vecs[k], 0, None) ** self.power
                for j, w in zip(top, weights):
                    e_row, l_row = self._rows(c, j)
                    _accumulate(w, e_row, l_row, s_e, w_e, s_l, w_l)
            if self.self_weight > 0 and pert in pidx:  # the same perturbation in other contexts
                j = pidx[pert]
                others = [int(i) for i in np.flatnonzero(self.observed_[:, j]) if i != c]
                if others:
                    e_row, l_row = self._mean_rows(others, j)
                    _accumulate(self.self_weight, e_row, l_row, s_e, w_e, s_l, w_l)
            if not (w_l > 0).any() and not (w_e > 0).any():
                self.n_fallback_ += 1
                continue
            eff[k] = np.where(w_e > 0, s_e / np.maximum(w_e, 1e-12), eff[k])
            lab[k] = np.where(w_l > 0, s_l / np.maximum(w_l, 1e-12), lab[k])
        return eff, lab

    def _rows(self, c: int | None, j: int) -> tuple[np.ndarray, np.ndarray]:
        if c is not None:
            return self.table_.row(c, j)
        return self._mean_rows([int(i) for i in np.flatnonzero(self.observed_[:, j])], j)

    def _mean_rows(self, contexts: list[int], j: int) -> tuple[np.ndarray, np.ndarray]:
        rows = [self.table_.row(i, j) for i in contexts]
        return (quiet_nanmean(np.stack([r[0] for r in rows]), axis=0),
                quiet_nanmean(np.stack([r[1] for r in rows]), axis=0))  # fmt: skip


def _accumulate(w: float, e_row: np.ndarray, l_row: np.ndarray, s_e: np.ndarray, w_e: np.ndarray, s_l: np.ndarray,
                w_l: np.ndarray) -> None:  # fmt: skip
    ok_e, ok_l = ~np.isnan(e_row), ~np.isnan(l_row)
    s_e[ok_e] += w * e_row[ok_e]
    w_e[ok_e] += w
    s_l[ok_l] += w * l_row[ok_l]
    w_l[ok_l] += w


def _perturbation_vectors(perturbations: list[str], feats: GeneFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of perturbations (mean of their targets' features) and whether any target had features."""
    idx = {g: i for i, g in enumerate(feats.genes)}
    assert feats.present is not None
    out = np.zeros((len(perturbations), feats.dim), np.float32)
    present = np.zeros(len(perturbations), bool)
    for k, p in enumerate(perturbations):
        rows = [idx[t] for t in target_of(p) if t in idx and feats.present[idx[t]]]
        if rows:
            v = feats.values[rows].mean(0)
            n = np.linalg.norm(v)
            if n > 0:
                out[k], present[k] = v / n, True
    return out, present


def _expression_features(adata: Any, n_components: int) -> GeneFeatures | None:
    """Gene loadings of the top principal components of (log-normalised) expression."""
    if adata is None or adata.n_vars < 3:
        return None
    import scipy.sparse as sp
    from sklearn.decomposition import TruncatedSVD

    x = adata.X
    rng = np.random.default_rng(0)
    if adata.n_obs > 20_000:
        x = x[np.sort(rng.choice(adata.n_obs, 20_000, replace=False))]
    x = x.toarray() if sp.issparse(x) else np.asarray(x, dtype=np.float64)
    if x.min() >= 0 and x.max() > 50:  # counts: log-normalise
        x = np.log1p(x / np.maximum(x.sum(1, keepdims=True), 1) * 1e4)
    x = x - x.mean(0)
    k = max(1, min(n_components, min(x.shape) - 1))
    svd = TruncatedSVD(k, random_state=0).fit(x)
    loadings = (svd.components_.T * svd.singular_values_).astype(np.float32)
    return GeneFeatures([str(g) for g in adata.var_names], loadings, ["expression-pcs"])


def _prior_features(prior: Any) -> GeneFeatures | None:
    """Each gene's outgoing and incoming prior scores, side by side."""
    if prior is None:
        return None
    v = np.nan_to_num(np.asarray(prior.values, dtype=np.float32))
    return GeneFeatures(list(prior.genes), np.hstack([v, v.T]), ["prior-graph"])
