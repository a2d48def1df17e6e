"""Splits and metrics for perturbation-effect prediction.

Splits: ``unseen_perturbation`` (held-out perturbations within every context), ``unseen_pair`` (held-out
(context, perturbation) pairs whose perturbation was seen in another context), ``leave_one_context_out``.
Metrics: per-gene AUROC of the DE label over perturbations, then averaged (the PerturbQA protocol, Wu et al.
ICLR 2025); direction accuracy on DE pairs; Pearson correlation of predicted vs observed effects on each
perturbation's top DE genes.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ...errors import DataValidationError
from ...types.effects import EffectTable

logger = logging.getLogger(__name__)

Split = Literal["unseen_perturbation", "unseen_pair", "leave_one_context_out"]
SPLITS = ("unseen_perturbation", "unseen_pair", "leave_one_context_out")


class PerturbationMetrics(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_gene_auroc: float = Field(
        description="Mean over genes of the AUROC across test perturbations (PerturbQA)."
    )
    n_genes_scored: int = Field(description="Genes with both DE and non-DE test perturbations.")
    direction_accuracy: float = Field(
        description="Fraction of observed DE pairs whose effect sign is predicted."
    )
    top_de_pearson: float = Field(
        description="Mean Pearson r of predicted vs observed effects on top DE genes."
    )
    n_test_pairs: int


def split(effects: EffectTable, kind: Split, test_fraction: float = 0.25, context: str | None = None,
          seed: int = 0) -> tuple[EffectTable, pd.DataFrame]:  # fmt: skip
    """(training EffectTable, test queries)."""
    obs = effects.observed
    rng = np.random.default_rng(seed)
    C, P = obs.shape
    test = np.zeros_like(obs)
    if kind == "unseen_perturbation":
        perts = np.flatnonzero(obs.any(0))
        n = max(1, int(round(len(perts) * test_fraction)))
        held = rng.choice(perts, n, replace=False)
        test[:, held] = obs[:, held]
    elif kind == "unseen_pair":
        shared = np.flatnonzero(obs.sum(0) >= 2)
        if len(shared) == 0:
            raise DataValidationError("unseen_pair needs perturbations measured in at least two contexts.")
        for p in shared:
            if rng.random() < test_fraction * 2:
                c = rng.choice(np.flatnonzero(obs[:, p]))
                test[c, p] = True
        if not test.any():
            p = rng.choice(shared)
            test[rng.choice(np.flatnonzero(obs[:, p])), p] = True
    elif kind == "leave_one_context_out":
        if C < 2:
            raise DataValidationError("leave_one_context_out needs at least two contexts.")
        c = effects.contexts.index(context) if context else int(rng.integers(C))
        test[c] = obs[c]
    else:
        raise DataValidationError(f"Split {kind!r} not recognised. Options: {', '.join(SPLITS)}.")
    train = effects.subset(obs & ~test)
    ci, pi = np.nonzero(test)
    q = pd.DataFrame(
        {"context": np.asarray(effects.contexts)[ci], "perturbation": np.asarray(effects.perturbations)[pi]}
    )
    return train, q


def per_gene_auroc(scores: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
    """Mean over genes (columns) of the AUROC of ``scores`` for ``labels`` across perturbations (rows).

    NaN labels or scores are left out; genes without both classes are skipped (the count says how many were
    scored). Mann-Whitney with average ranks for ties, vectorised over genes (equal to scikit-learn's AUROC).

    Example:
        >>> s = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.3]])
        >>> y = np.array([[1, 0], [0, 1], [0, 0]])
        >>> per_gene_auroc(s, y)
        (1.0, 2)
    """
    from scipy.stats import rankdata

    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    ok = ~np.isnan(y) & ~np.isnan(s)
    ranks = rankdata(np.where(ok, s, np.nan), axis=0, nan_policy="omit")
    pos = ok & (y == 1)
    n1 = pos.sum(0)
    n0 = (ok & (y != 1)).sum(0)
    both = (n1 > 0) & (n0 > 0)
    if not both.any():
        return float("nan"), 0
    r1 = np.where(pos, ranks, 0.0).sum(0)
    auc = (r1[both] - n1[both] * (n1[both] + 1) / 2) / (n1[both] * n0[both])
    return float(auc.mean()), int(both.sum())


def per_gene_auroc_pairs(scores: np.ndarray, labels: np.ndarray, genes: np.ndarray) -> tuple[float, int]:
    """:func:`per_gene_auroc` of measured pairs given as flat arrays (score, label, gene index of each pair): the
    same value without dense perturbation x gene matrices, whose entries are mostly unmeasured in a label table.

    Example:
        >>> per_gene_auroc_pairs(np.array([0.9, 0.2, 0.1, 0.1, 0.8, 0.3]), np.array([1, 0, 0, 0, 1, 0]),
        ...                      np.array([0, 0, 0, 1, 1, 1]))
        (1.0, 2)
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64) == 1
    g = np.asarray(genes, dtype=np.int64)
    if len(s) == 0:
        return float("nan"), 0
    order = np.lexsort((s, g))
    s, y, g = s[order], y[order], g[order]
    n = len(s)
    new_gene = np.r_[True, g[1:] != g[:-1]]
    new_tie = new_gene | np.r_[True, s[1:] != s[:-1]]
    gene_start = np.maximum.accumulate(np.where(new_gene, np.arange(n), 0))
    tie_id = np.cumsum(new_tie) - 1
    tie_start = np.flatnonzero(new_tie)
    tie_end = np.r_[tie_start[1:], n] - 1  # last position of each tie group
    ranks = (tie_start[tie_id] + tie_end[tie_id]) / 2.0 - gene_start + 1.0  # average rank within the gene
    size = int(g.max()) + 1
    n1 = np.bincount(g, weights=y, minlength=size)
    n0 = np.bincount(g, weights=~y, minlength=size)
    r1 = np.bincount(g, weights=np.where(y, ranks, 0.0), minlength=size)
    both = (n1 > 0) & (n0 > 0)
    if not both.any():
        return float("nan"), 0
    auc = (r1[both] - n1[both] * (n1[both] + 1) / 2) / (n1[both] * n0[both])
    return float(auc.mean()), int(both.sum())


def evaluate_predictions(pred: EffectTable, truth: EffectTable, top_k: int = 20) -> PerturbationMetrics:
    """Compare predicted and observed effects on the (context, perturbation) pairs of ``pred``."""
    q = pred.pairs()
    if q.empty:
        raise DataValidationError("No predictions to evaluate.")
    n_nan = int(np.isnan(pred.label_rows).sum())
    if n_nan:
        raise DataValidationError(
            f"Predictions hold {n_nan} NaN labels; metrics refuse them (fix the predictor)."
        )
    tr = truth.reindex(pred.contexts, pred.perturbations, pred.genes)
    rows_p, rows_t = [], []
    for ctx, pert in zip(q["context"], q["perturbation"]):
        c, p = pred.contexts.index(ctx), pred.perturbations.index(pert)
        rows_p.append(pred.row(c, p))
        rows_t.append(tr.row(c, p))
    pe = np.stack([r[0] for r in rows_p])
    pl = np.stack([r[1] for r in rows_p])
    te = np.stack([r[0] for r in rows_t])
    tl = np.stack([r[1] for r in rows_t])
    auroc, n_genes = per_gene_auroc(pl, tl)
    de = tl == 1
    direction = float(np.mean(np.sign(pe[de]) == np.sign(te[de]))) if de.any() else float("nan")
    rs = []
    for k in range(len(te)):
        ok = ~np.isnan(te[k])
        if ok.sum() < 3:
            continue
        order = np.argsort(-np.abs(np.where(ok, te[k], 0)))[: min(top_k, int(ok.sum()))]
        a, b = pe[k, order], te[k, order]
        if np.std(a) > 0 and np.std(b) > 0:
            rs.append(float(np.corrcoef(a, b)[0, 1]))
    return PerturbationMetrics(
        per_gene_auroc=auroc,
        n_genes_scored=n_genes,
        direction_accuracy=direction,
        top_de_pearson=float(np.mean(rs)) if rs else float("nan"),
        n_test_pairs=len(q),
    )


def drop_heldout_rows(adata, queries: pd.DataFrame, effects: EffectTable, by_context: bool = True):
    """``adata`` without the samples of held-out (context, perturbation) pairs.

    The effect table's contexts are matched to ``obs["context"]`` or, failing that, ``obs["intervention_type"]``
    (DREAM4's knockout / knockdown contexts); when neither matches, every sample of a held-out perturbation is dropped.
    """
    obs = adata.obs
    pert = obs["perturbation"].astype(str).to_numpy()
    col = None
    if by_context:
        for c in ("context", "intervention_type"):
            if c in obs.columns and set(effects.contexts) <= set(obs[c].astype(str)):
                col = c
                break
    if col is None:
        drop = np.isin(pert, list(set(queries["perturbation"])))
    else:
        ctx = obs[col].astype(str).to_numpy()
        held = set(zip(queries["context"], queries["perturbation"]))
        drop = np.array([(c, p) in held for c, p in zip(ctx, pert)])
    return adata[~drop].copy()


def evaluate_predictor(predictor, effects: EffectTable, kind: Split, adata=None, prior=None, seed: int = 0,
                       features=None, **split_kw) -> PerturbationMetrics:  # fmt: skip
    """Split, fit on the training part, predict the held-out queries and score them.

    Rows of ``adata`` perturbing any held-out perturbation are dropped before fitting, so a predictor that learns
    from the raw data (e.g. ``graph`` with a learner) cannot see the held-out experiments.
    """
    train, queries = split(effects, kind, seed=seed, **split_kw)
    if adata is not None:
        adata = drop_heldout_rows(adata, queries, effects, by_context=kind != "unseen_perturbation")
    predictor.fit(train, adata=adata, prior=prior, features=features)
    return evaluate_predictions(predictor.predict(queries), effects)
