"""Baselines: the training mean, and the linear model of Ahlmann-Eltze, Huber & Anders (2025)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...types.effects import EffectTable
from .base import BasePredictor, gene_index, quiet_nanmedian, target_of, top_svd


class MeanPredictor(BasePredictor):
    """The training mean effect (and DE frequency) per gene, per context when the context was seen.

    This is the baseline that deep perturbation models often fail to beat on effect correlation; on per-gene AUROC it
    scores 0.5 by construction (it predicts the same thing for every perturbation).
    """

    name = "mean"

    def _fit(self, effects: EffectTable, adata: Any) -> None:
        self.table_contexts_ = list(effects.contexts)
        self.ctx_mean_ = np.nan_to_num(effects.context_mean("effect"))
        self.ctx_freq_ = np.nan_to_num(effects.context_mean("label"))
        self.all_mean_ = np.nan_to_num(effects.overall_mean("effect"))
        self.all_freq_ = np.nan_to_num(effects.overall_mean("label"))

    def _predict(self, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        eff = np.empty((len(q), len(self.genes_)), np.float32)
        lab = np.empty_like(eff)
        for k, ctx in enumerate(q["context"]):
            if ctx in self.contexts_:
                c = self.table_contexts_.index(ctx)
                eff[k], lab[k] = self.ctx_mean_[c], self.ctx_freq_[c]
            else:
                eff[k], lab[k] = self.all_mean_, self.all_freq_
        return eff, lab


class LinearPredictor(BasePredictor):
    """Linear baseline after Ahlmann-Eltze et al. (2025): ``Y ~ G W P^T + b``.

    Gene embeddings ``G`` are the top principal components of the training effect matrix (genes x perturbations),
    perturbation embeddings ``P`` are the rows of ``G`` for the perturbed genes, and ``W`` is a ridge map.
    A perturbation whose target is not a measured gene gets the mean prediction.

    Args:
        n_components: embedding size.
        ridge: ridge penalty.
    """

    needs_effects = True
    places_by_target = True
    name = "linear"

    def __init__(self, n_components: int = 10, ridge: float = 0.1) -> None:
        self.n_components = n_components
        self.ridge = ridge

    def _fit(self, effects: EffectTable, adata: Any) -> None:
        # pool contexts: each (context, perturbation) is one column; context offsets are kept separately
        c, p = effects.pair_positions
        Y = np.nan_to_num(effects.effect_rows).T  # genes x observed pairs
        self.table_contexts_ = list(effects.contexts)
        self.ctx_bias_ = np.nan_to_num(effects.context_mean("effect"))  # C x G
        bias = self.ctx_bias_[c].T
        Yc = Y - bias
        k = int(min(self.n_components, min(Yc.shape) - 1)) or 1
        U, S, _ = top_svd(Yc, k)
        G = U[:, :k] * S[:k] / np.sqrt(max(Yc.shape[1], 1))  # genes x k
        gidx = gene_index(self.genes_)
        P = np.stack([self._pert_embedding(effects.perturbations[j], G, gidx) for j in p])  # pairs x k
        lam = self.ridge
        A = np.linalg.solve(G.T @ G + lam * np.eye(k), G.T)  # k x genes
        B = np.linalg.solve(P.T @ P + lam * np.eye(k), P.T)  # k x pairs
        self.W_ = A @ Yc @ B.T  # k x k
        self.G_ = G
        self.gidx_ = gidx
        resid = Yc - G @ self.W_ @ P.T
        self.noise_sd_ = float(np.std(resid)) or 1.0
        self.label_scale_ = _label_scale(effects)

    @staticmethod
    def _pert_embedding(pert: str, G: np.ndarray, gidx: dict[str, int]) -> np.ndarray:
        rows = [gidx[t] for t in target_of(pert) if t in gidx]
        return G[rows].sum(0) if rows else np.zeros(G.shape[1])

    def _predict(self, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        eff = np.empty((len(q), len(self.genes_)), np.float32)
        for k, (ctx, pert) in enumerate(zip(q["context"], q["perturbation"])):
            seen = [self.table_contexts_.index(c) for c in self.contexts_]
            bias = (
                self.ctx_bias_[self.table_contexts_.index(ctx)]
                if ctx in self.contexts_
                else self.ctx_bias_[seen].mean(0)
            )
            eff[k] = bias + self.G_ @ self.W_ @ self._pert_embedding(pert, self.G_, self.gidx_)
        return eff, _label_from_effect(eff, self.label_scale_)


def _label_scale(effects: EffectTable) -> np.ndarray:
    """Per gene: the |effect| at which DE labels switch on in training (for turning effects into probabilities)."""
    e, lab = np.abs(effects.effect_rows), effects.label_rows
    pos = np.where(lab == 1, e, np.nan)
    scale = quiet_nanmedian(pos, axis=0)
    fallback = (
        quiet_nanmedian(pos)
        if np.isfinite(pos).any()
        else (float(np.nanstd(e)) if np.isfinite(e).any() else 1.0)
    )
    return np.where(np.isfinite(scale) & (scale > 0), scale, fallback).astype(np.float32)


def _label_from_effect(eff: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """DE probability from |effect| relative to each gene's typical DE magnitude (logistic)."""
    return (1.0 / (1.0 + np.exp(-4.0 * (np.abs(eff) / scale - 0.5)))).astype(np.float32)
