"""Expression-level scorecard for predicted perturbation effects, for data with measured expression.

Beside the label metrics (per-gene AUROC), a predictor of effect sizes is judged the way recent benchmarks do:

* ``l2_ratio``: L2 error on the most variable genes (top 1,000 by the variance of the observed effects over the
  scored perturbations) divided by the error of the training-mean baseline (Ahlmann-Eltze et al. 2025: < 1 beats
  the mean, which many deep models do not);
* ``deg_weighted_mae``: mean absolute error weighted by the observed |effect| (errors on strongly changed genes count
  most), as a ratio to the same baseline;
* ``de_overlap``: of each perturbation's observed DE genes, the share found among its top predicted |effects| (as
  many as there are DE genes; Virtual Cell Challenge-style);
* ``discrimination``: for each perturbation, the share of other scored perturbations whose observed profile is closer
  to its prediction than its own (0 = always recognised, 0.5 = chance; VCC's perturbation discrimination);
* with a split-half ceiling (:func:`split_half_effects`), ``gap_closed``: the share of the gap between the mean
  baseline and the reproducibility of the data itself that the predictor closes.

Example:
    >>> from aitia.causal.simulate import simulate_nb
    >>> from aitia.causal.effects import effects_from_adata
    >>> from aitia.causal import perturbation as P
    >>> adata, _ = simulate_nb(n_genes=30, n_cells=3000, n_perturbations=10, seed=0)   # doctest: +SKIP
    >>> eff = effects_from_adata(adata)                                                # doctest: +SKIP
    >>> train, q = P.split(eff, "unseen_perturbation")                                 # doctest: +SKIP
    >>> card = expression_scorecard(P.get("linear").fit(train).predict(q), eff, train) # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ...errors import DataValidationError
from ...types.effects import EffectTable


class ExpressionScorecard(BaseModel):
    """Effect-size metrics of one set of predictions (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    l2_ratio: float = Field(
        description="L2 error on the top-variance genes / the training-mean baseline's (< 1 wins)."
    )
    deg_weighted_mae_ratio: float = Field(description="|effect|-weighted MAE / the baseline's (< 1 wins).")
    mae: float = Field(description="Mean absolute error on the top-variance genes.")
    mae_baseline: float = Field(description="The training-mean baseline's MAE on the same genes.")
    de_overlap: float = Field(
        description="Share of observed DE genes among the top predicted |effects| (0-1)."
    )
    discrimination: float = Field(description="Normalised rank of the true profile (0 best, 0.5 chance).")
    gap_closed: float | None = Field(
        default=None,
        description="Share of the baseline-to-reproducibility gap closed (needs a split-half ceiling).",
    )
    ceiling_l2_ratio: float | None = Field(
        default=None, description="l2_ratio of one data half predicting the other."
    )
    n_pairs: int = Field(description="(context, perturbation) pairs scored.")
    n_genes: int = Field(description="Genes in the L2 and MAE.")


def _aligned(pred: EffectTable, truth: EffectTable, train: EffectTable) -> tuple[np.ndarray, ...]:
    """Predicted, observed and baseline rows for the pairs of ``pred`` that ``truth`` measured, plus DE labels."""
    tr = truth.reindex(pred.contexts, pred.perturbations, pred.genes)
    base_ctx = np.nan_to_num(
        train.reindex(pred.contexts, train.perturbations, pred.genes).context_mean("effect")
    )
    base_all = np.nan_to_num(
        train.reindex(train.contexts, train.perturbations, pred.genes).overall_mean("effect")
    )
    c_idx, p_idx = pred.pair_positions
    rows_p, rows_t, rows_l, rows_b = [], [], [], []
    for r, (c, p) in enumerate(zip(c_idx, p_idx)):
        te, tl = tr.row(c, p)
        if np.isnan(te).all():
            continue
        seen = pred.contexts[c] in train.contexts
        rows_p.append(pred.effect_rows[r])
        rows_t.append(te)
        rows_l.append(tl)
        rows_b.append(base_ctx[c] if seen and np.abs(base_ctx[c]).sum() > 0 else base_all)
    if len(rows_p) < 2:
        raise DataValidationError("The scorecard needs at least two predicted pairs that the truth measured.")
    return np.stack(rows_p), np.stack(rows_t), np.stack(rows_l), np.stack(rows_b)


def expression_scorecard(pred: EffectTable, truth: EffectTable, train: EffectTable, top_genes: int = 1000,
                         ceiling: tuple[EffectTable, EffectTable] | None = None) -> ExpressionScorecard:  # fmt: skip
    """Score predicted effects against observed ones (see the module docstring).

    Args:
        pred: predictions (``predictor.predict(queries)``).
        truth: the observed EffectTable (with effects, not labels only).
        train: the table the predictor was fitted on (its per-context mean is the baseline).
        top_genes: genes in the L2 / MAE (largest variance of the observed effects over the scored pairs).
        ceiling: two EffectTables from disjoint halves of the samples (:func:`split_half_effects`).
    """
    if not truth.effects_known:
        raise DataValidationError(
            "The expression scorecard needs measured effects; this truth has labels only."
        )
    P_, T, L, B = _aligned(pred, truth, train)
    ok = ~np.isnan(T)
    var = np.nanvar(np.where(ok, T, np.nan), axis=0)
    genes = np.argsort(-np.nan_to_num(var, nan=-1.0))[: min(top_genes, T.shape[1])]
    t, p, b, m = np.nan_to_num(T[:, genes]), P_[:, genes], B[:, genes], ok[:, genes]

    def l2(x: np.ndarray) -> float:
        return float(np.mean(np.sqrt(((x - t) ** 2 * m).sum(1))))

    w = np.abs(t) * m
    wsum = max(float(w.sum()), 1e-12)
    mae = float((np.abs(p - t) * m).sum() / max(m.sum(), 1))
    mae_b = float((np.abs(b - t) * m).sum() / max(m.sum(), 1))
    overlaps = []
    for k in range(len(T)):
        de = np.flatnonzero((L[k] == 1) & ok[k])
        if len(de):
            top = np.argsort(-np.abs(np.nan_to_num(P_[k])))[: len(de)]
            overlaps.append(len(set(top) & set(de)) / len(de))
    d = np.sqrt(((p[:, None, :] - t[None, :, :]) ** 2 * m[None, :, :]).sum(-1))  # prediction k vs observed j
    ranks = [(d[k] < d[k, k]).sum() / (len(T) - 1) for k in range(len(T))]
    ratio = l2(p) / max(l2(b), 1e-12)
    out: dict[str, Any] = {
        "l2_ratio": ratio, "deg_weighted_mae_ratio": float((np.abs(p - t) * w).sum() / wsum) /
        max(float((np.abs(b - t) * w).sum() / wsum), 1e-12),
        "mae": mae, "mae_baseline": mae_b, "de_overlap": float(np.mean(overlaps)) if overlaps else float("nan"),
        "discrimination": float(np.mean(ranks)), "n_pairs": len(T), "n_genes": len(genes),
    }  # fmt: skip
    if ceiling is not None:
        half_a, half_b = ceiling
        # a technical duplicate: half A's effects predict half B's, against half A's own training-mean baseline,
        # so prediction, baseline and target all carry half-sized noise
        train_a = half_a.reindex(train.contexts, train.perturbations, train.genes).subset(train.observed)
        ce = expression_scorecard(_as_prediction(half_a, pred), half_b, train_a, top_genes=top_genes)
        out["ceiling_l2_ratio"] = ce.l2_ratio
        gap = 1.0 - ce.l2_ratio
        out["gap_closed"] = float((1.0 - ratio) / gap) if gap > 1e-9 else None
    return ExpressionScorecard(**out)


def _as_prediction(half: EffectTable, like: EffectTable) -> EffectTable:
    """One data half's effects on the pairs of ``like``, shaped as a prediction."""
    return half.reindex(like.contexts, like.perturbations, like.genes)


def split_half_effects(adata: Any, seed: int = 0, **effect_kw: Any) -> tuple[EffectTable, EffectTable]:
    """Effect tables of two random halves of every (context, perturbation) group and of the controls: how well one
    half predicts the other is the data's own reproducibility, the ceiling a predictor can approach."""
    from ..effects import effects_from_adata

    rng = np.random.default_rng(seed)
    keys = adata.obs["context"].astype(str) + "\x00" + adata.obs["perturbation"].astype(str)
    half = np.zeros(adata.n_obs, dtype=bool)
    for idx in keys.groupby(keys, observed=True).indices.values():
        pick = rng.permutation(idx)[: len(idx) // 2]
        half[pick] = True
    return effects_from_adata(adata[half].copy(), **effect_kw), effects_from_adata(
        adata[~half].copy(), **effect_kw
    )
