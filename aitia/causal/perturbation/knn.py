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
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ...errors import DataValidationError
from ...types.effects import EffectTable
from ...types.features import GeneFeatures
from .base import BasePredictor, quiet_nanmean, target_of
from .evaluate import per_gene_auroc_pairs

logger = logging.getLogger(__name__)


#: Candidate similarity powers and shrinkages tried by ``"auto"`` (cross-validated on training perturbations).
POWERS = (1.0, 2.0, 4.0, 8.0, 16.0)
SHRINKAGES = (0.0, 1.0, 3.0, 10.0)
#: Candidate weights of the same perturbation measured in other contexts (cross-validated when any is).
SELF_WEIGHTS = (0.0, 1.0, 10.0, 100.0)
#: Candidate weights of the first of two feature sources (e.g. text against network), cross-validated.
SOURCE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


class KNNPredictor(BasePredictor):
    """Similarity-weighted average of the most similar training perturbations' effects and DE labels.

    Each readout gene is averaged over the training perturbations that *measured* it, so a sparse label table
    (a screen where each perturbation has a few hundred readout genes) still gets a per-gene prediction; the
    average is shrunk towards the gene's training mean by ``shrinkage`` pseudo-neighbours of median weight.

    Args:
        k: neighbours per query; ``None`` (default) weighs every training perturbation by its similarity
            (kernel regression: with a high ``power`` only the closest matter, and a gene measured by few
            perturbations still has neighbours).
        power: weights are ``similarity ** power``; ``"auto"`` picks it from :data:`POWERS` by cross-validation
            over training perturbations (``cv_folds`` folds; per-gene AUROC of the labels, else the effects' MSE).
        shrinkage: weight of the gene's training mean, in median candidate weights; ``"auto"`` as ``power``.
        self_weight: weight of the same perturbation measured in other contexts, in perfect-neighbour weights (0
            ignores it); ``"auto"`` picks it from :data:`SELF_WEIGHTS` by the same cross-validation, where the
            validation perturbations are measured in another context (else 1).
        source_weights: weights of the feature sources (``GeneFeatures.sources``, e.g. text and network) in the
            similarity, a weighted sum of per-source cosines; ``None``: equal; ``"auto"``: with two sources the first
            one's weight is picked from :data:`SOURCE_WEIGHTS` by the same cross-validation (other counts: equal).
        n_components: expression principal components used when no features are given.
        cv_folds: folds of the ``"auto"`` search (at least 2 perturbations per fold, else the middle of the grid).
        seed: seed of the cross-validation folds.

    Example:
        >>> import pandas as pd
        >>> from aitia.types.effects import EffectTable
        >>> from aitia.types.features import GeneFeatures
        >>> t = EffectTable.from_frame(pd.DataFrame({"context": "c", "perturbation": ["A", "B", "A", "B"],
        ...     "gene": ["X", "X", "Y", "Y"], "label": [1, 1, 0, 0]}))
        >>> f = GeneFeatures(["A", "B", "C"], np.eye(3, dtype=np.float32) + 0.5, ["toy"])
        >>> pred = KNNPredictor(power=2.0, shrinkage=0.0).fit(t, features=f).predict([("c", "C")])
        >>> pred.label_rows.round(2).tolist()
        [[1.0, 0.0]]
    """

    name = "knn"

    def __init__(
        self,
        k: int | None = None,
        power: float | Literal["auto"] = "auto",
        shrinkage: float | Literal["auto"] = "auto",
        self_weight: float | Literal["auto"] = "auto",
        source_weights: Sequence[float] | Literal["auto"] | None = "auto",
        n_components: int = 32,
        cv_folds: int = 5,
        seed: int = 0,
    ) -> None:
        self.k = k
        self.power = power
        self.shrinkage = shrinkage
        self.self_weight = self_weight
        self.source_weights = source_weights
        self.n_components = n_components
        self.cv_folds = cv_folds
        self.seed = seed

    def _fit(self, effects: EffectTable, adata: Any) -> None:
        feats = (
            self.features_ or _expression_features(adata, self.n_components) or _prior_features(self.prior_)
        )
        if feats is None:
            raise DataValidationError(
                "The knn predictor needs gene features: pass fit(..., features=gene_features(genes)), "
                "expression data (adata=...) or a prior."
            )
        if self.k is not None and self.k < 1:
            raise DataValidationError(f"k must be a positive number of neighbours or None, got {self.k}.")
        for name in ("power", "shrinkage", "self_weight"):
            value = getattr(self, name)
            if value != "auto" and not (isinstance(value, (int, float)) and value >= 0):
                raise DataValidationError(f"{name} must be 'auto' or a number >= 0, got {value!r}.")
        self.feature_sources_ = list(feats.sources)
        self.table_contexts_ = list(effects.contexts)
        self.perturbations_ = list(effects.perturbations)
        self.feature_lookup_ = feats
        self.source_weight_grid_ = self._source_weight_grid(feats)
        self.train_blocks_ = _block_vectors(self.perturbations_, feats)
        # present when any source describes the perturbation (a source weighted 0 may leave it without neighbours)
        self.train_present_ = np.any([ok for _, ok in self.train_blocks_], axis=0)
        self.table_ = effects  # rows of observed pairs only: no dense C x P x G copy
        self.observed_ = effects.observed
        self.freq_ = _smoothed_mean(effects.label_rows)
        self.mean_ = _smoothed_mean(effects.effect_rows)
        self.labels_known_ = bool((~np.isnan(effects.label_rows)).any())
        self.cv_scores_: dict[tuple[float, ...], float] = {}
        self.power_, self.shrinkage_, self.self_weight_, weights = self._choose()
        self.source_weights_ = list(weights)
        self.train_vectors_ = _weighted(self.train_blocks_, weights)
        self.n_fallback_ = 0

    def _source_weight_grid(self, feats: GeneFeatures) -> list[tuple[float, ...]]:
        """The source weightings to try: one fixed weighting, or the :data:`SOURCE_WEIGHTS` grid for two sources."""
        n = len(feats.block_widths)
        if self.source_weights == "auto":
            return [(w, 1.0 - w) for w in SOURCE_WEIGHTS] if n == 2 else [tuple([1.0 / n] * n)]
        if self.source_weights is None:
            return [tuple([1.0 / n] * n)]
        try:
            w = [float(v) for v in self.source_weights]
        except (TypeError, ValueError):
            w = []
        if len(w) != n or min(w) < 0 or sum(w) <= 0:
            raise DataValidationError(
                f"source_weights needs 'auto', None or {n} numbers >= 0 (one per feature source: "
                f"{', '.join(feats.sources)}), not all 0; got {self.source_weights!r}."
            )
        return [tuple(v / sum(w) for v in w)]

    # ------------------------------------------------------------------ cross-validated power and shrinkage
    def _choose(self) -> tuple[float, float, float, tuple[float, ...]]:
        powers = POWERS if self.power == "auto" else (float(self.power),)
        shrinks = SHRINKAGES if self.shrinkage == "auto" else (float(self.shrinkage),)
        default_self = 1.0 if self.self_weight == "auto" else float(self.self_weight)
        multi = bool((self.observed_.sum(0) > 1).any())  # some perturbation measured in several contexts
        selfs = SELF_WEIGHTS if self.self_weight == "auto" and multi else (default_self,)
        grid = self.source_weight_grid_
        if len(powers) * len(shrinks) * len(selfs) * len(grid) == 1:
            return powers[0], shrinks[0], selfs[0], grid[0]
        rng = np.random.default_rng(self.seed)
        vectors = [_weighted(self.train_blocks_, w) for w in grid]
        totals = np.zeros((len(grid), len(powers), len(shrinks), len(selfs)))
        n_folds = 0
        transfer = False  # does any validation perturbation have a measurement in another context?
        c_of, p_of = self.table_.pair_positions
        which = self.table_.label_rows if self.labels_known_ else self.table_.effect_rows
        for c in np.unique(c_of):
            rows = np.flatnonzero((c_of == c) & self.train_present_[p_of])
            if len(rows) < 2 * max(self.cv_folds, 2):
                continue
            for val in np.array_split(rng.permutation(rows), max(self.cv_folds, 2)):
                trn = np.setdiff1d(rows, val)
                cols = np.flatnonzero((~np.isnan(which[val])).any(0))  # genes the fold can score
                truth, train_rows = which[val][:, cols], which[trn][:, cols]
                # scored on the measured (perturbation, gene) pairs only: a label table leaves most entries empty
                r_at, g_at = np.nonzero(~np.isnan(truth))
                y_at = truth[r_at, g_at]
                base = _smoothed_mean(which[trn])[cols][g_at]
                other = self._other_context_rows(p_of[val], int(c), which)[:, cols][r_at, g_at]
                other_ok = ~np.isnan(other)
                transfer = transfer or bool(other_ok.any())
                other = np.where(other_ok, other, 0.0)
                for b, vec in enumerate(vectors):
                    sims = np.clip(vec[p_of[val]] @ vec[p_of[trn]].T, 0, None)
                    for i, pw in enumerate(powers):
                        w = self._top_k(sims**pw)
                        num, den = _kernel_sums(w, train_rows)
                        num, den = num[r_at, g_at], den[r_at, g_at]
                        med = (np.median(w, axis=1) if w.shape[1] else np.zeros(len(w)))[r_at]
                        for k, sw in enumerate(selfs):
                            n_k, d_k = num + sw * other, den + sw * other_ok
                            for j, sh in enumerate(shrinks):
                                pred = _shrunk_at(med, n_k, d_k, base, sh)
                                totals[b, i, j, k] += self._fold_score(pred, y_at, g_at)
                n_folds += 1
        if n_folds == 0:  # too few perturbations to cross-validate: the middle of the grid
            logger.info("knn: too few training perturbations to cross-validate; power 4, shrinkage 1")
            return (4.0 if self.power == "auto" else float(self.power),
                    1.0 if self.shrinkage == "auto" else float(self.shrinkage), default_self,
                    grid[len(grid) // 2])  # fmt: skip
        totals /= n_folds
        if (
            not transfer
        ):  # nothing measured in another context: the self weight cannot be judged, nor does it act
            k_best = selfs.index(default_self) if default_self in selfs else 0
            totals = totals[:, :, :, k_best : k_best + 1]
            selfs = (selfs[k_best],)
        self.cv_scores_ = {
            (p, s, sw, *wt): float(totals[b, i, j, k])
            for b, wt in enumerate(grid) for i, p in enumerate(powers) for j, s in enumerate(shrinks)
            for k, sw in enumerate(selfs)
        }  # fmt: skip
        b, i, j, k = (int(v) for v in np.unravel_index(int(np.argmax(totals)), totals.shape))
        logger.info("knn: power %s, shrinkage %s, self weight %s, source weights %s (cross-validated score %.3f "
                    "over %d folds)", powers[i], shrinks[j], selfs[k], grid[b], totals[b, i, j, k], n_folds)  # fmt: skip
        return powers[i], shrinks[j], selfs[k], grid[b]

    def _other_context_rows(self, perts: np.ndarray, c: int, which: np.ndarray) -> np.ndarray:
        """Mean row of each perturbation (index; -1: not in the table) over the contexts other than ``c`` (-1: over
        every context), NaN where it has none."""
        out = np.full((len(perts), which.shape[1]), np.nan, np.float32)
        for r, j in enumerate(perts):
            if j < 0:
                continue
            idx = [int(self.table_.pair_index[i, j]) for i in np.flatnonzero(self.observed_[:, j]) if i != c]
            if idx:
                out[r] = quiet_nanmean(which[idx], axis=0)
        return out

    def _fold_score(self, pred: np.ndarray, truth: np.ndarray, genes: np.ndarray) -> float:
        """Per-gene AUROC of the labels (0.5 when no gene has both classes), else minus the effects' MSE; over
        measured pairs given as flat arrays (prediction, truth, gene index)."""
        if self.labels_known_:
            auc, n = per_gene_auroc_pairs(pred, truth, genes)
            return auc if n else 0.5
        err = (pred - truth) ** 2
        return -float(np.nanmean(err)) if np.isfinite(err).any() else 0.0

    def _top_k(self, w: np.ndarray) -> np.ndarray:
        """Keep each row's ``k`` largest weights (all when ``k`` is None or not smaller than the row)."""
        if self.k is None or self.k >= w.shape[1]:
            return w
        cut = np.argpartition(-w, self.k - 1, axis=1)[:, self.k :]
        w = w.copy()
        np.put_along_axis(w, cut, 0.0, axis=1)
        return w

    # ------------------------------------------------------------------ prediction
    def _predict(self, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        eff = np.tile(self.mean_, (len(q), 1)).astype(np.float32)
        lab = np.tile(self.freq_, (len(q), 1)).astype(np.float32)
        blocks = _block_vectors(list(q["perturbation"]), self.feature_lookup_)
        vecs = _weighted(blocks, self.source_weights_)
        present = np.linalg.norm(vecs, axis=1) > 0
        pidx = {p: i for i, p in enumerate(self.perturbations_)}
        qpert = np.array([pidx.get(p, -1) for p in q["perturbation"]])
        qctx = np.array(
            [self.table_contexts_.index(c) if c in self.table_contexts_ else -1 for c in q["context"]]
        )
        for c in np.unique(qctx):
            members = np.flatnonzero(qctx == c)
            cands, e_rows, l_rows = self._candidates(int(c))
            for chunk in np.array_split(members, max(1, len(members) // 256)):
                w = np.clip(vecs[chunk] @ self.train_vectors_[cands].T, 0, None) ** self.power_
                w[~present[chunk]] = 0.0
                w[qpert[chunk][:, None] == cands[None, :]] = 0.0  # never its own measurement in this context
                w = self._top_k(w)
                e_extra, l_extra, found = self._other_contexts(chunk, qpert, int(c))
                eff[chunk] = _kernel_average(w, e_rows, self.mean_, self.shrinkage_, e_extra)
                lab[chunk] = _kernel_average(w, l_rows, self.freq_, self.shrinkage_, l_extra)
                self.n_fallback_ += int(((w.sum(1) == 0) & ~found).sum())
        return eff, lab

    def _candidates(self, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Training perturbations (indices) and their (effect, label) rows: context ``c``'s, or pooled (-1)."""
        if c >= 0:
            cands = np.flatnonzero(self.observed_[c] & self.train_present_)
            idx = self.table_.pair_index[c, cands]
            return cands, self.table_.effect_rows[idx], self.table_.label_rows[idx]
        cands = np.flatnonzero(self.observed_.any(0) & self.train_present_)
        return (cands, self._other_context_rows(cands, -1, self.table_.effect_rows),
                self._other_context_rows(cands, -1, self.table_.label_rows))  # fmt: skip

    def _other_contexts(self, chunk: np.ndarray, qpert: np.ndarray, c: int
                        ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], np.ndarray]:  # fmt: skip
        """The same perturbation measured in other contexts, as extra (sum, weight) per query and gene, and whether
        each query has such a measurement."""
        perts = qpert[chunk]
        seen = self.observed_[:, np.maximum(perts, 0)].copy()
        if c >= 0:
            seen[c] = False
        found = (perts >= 0) & seen.any(0) & (self.self_weight_ > 0)
        extra = []
        for which in (self.table_.effect_rows, self.table_.label_rows):
            rows = self._other_context_rows(perts, c, which)
            ok = ~np.isnan(rows) & found[:, None]
            extra.append((self.self_weight_ * np.where(ok, rows, 0.0), self.self_weight_ * ok))
        return extra[0], extra[1], found


def _smoothed_mean(rows: np.ndarray, pseudo: float = 1.0) -> np.ndarray:
    """Per-gene mean over measured rows, with ``pseudo`` rows at the overall mean (a gene measured once is not
    taken at its one value; a gene never measured gets the overall mean)."""
    ok = ~np.isnan(rows)
    total = float(np.nansum(rows)) if ok.any() else 0.0
    overall = total / max(int(ok.sum()), 1)
    return ((np.nansum(rows, axis=0) + pseudo * overall) / (ok.sum(0) + pseudo)).astype(np.float32)


def _kernel_sums(w: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted sums of ``rows`` (NaN = not measured) and of the weights that saw each gene."""
    ok = ~np.isnan(rows)
    return w @ np.where(ok, rows, 0.0), w @ ok.astype(w.dtype)


def _shrunk(w: np.ndarray, num: np.ndarray, den: np.ndarray, base: np.ndarray, shrink: float) -> np.ndarray:
    """``(num + s * base) / (den + s)`` with ``s`` = ``shrink`` median weights of the query; no weight: ``base``."""
    med = np.median(w, axis=1, keepdims=True) if w.shape[1] else np.zeros((len(w), 1))
    return _shrunk_at(med, num, den, base, shrink)


def _shrunk_at(
    med: np.ndarray, num: np.ndarray, den: np.ndarray, base: np.ndarray, shrink: float
) -> np.ndarray:
    """:func:`_shrunk` with each entry's query median weight ``med`` given (broadcast; flat arrays of pairs too)."""
    s = shrink * med
    total = den + s
    out = np.where(total > 0, (num + s * base) / np.where(total > 0, total, 1.0), base)
    return out.astype(np.float32)


def _kernel_average(w: np.ndarray, rows: np.ndarray, base: np.ndarray, shrink: float,
                    extra: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:  # fmt: skip
    """Per-gene weighted mean of ``rows`` (NaN = not measured) under weights ``w`` (queries x rows), shrunk to
    ``base`` by ``shrink`` median weights; ``extra`` adds (sum, weight) from elsewhere. No weight: ``base``."""
    num, den = _kernel_sums(w, rows)
    if extra is not None:
        num = num + extra[0]
        den = den + extra[1]
    return _shrunk(w, num, den, base, shrink)


def _block_vectors(perturbations: list[str], feats: GeneFeatures) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per feature source: unit vectors of the perturbations (their genes' rows normalised within the source, then
    averaged) and whether that source describes them."""
    assert feats.present is not None
    out = []
    for values in feats.blocks():
        present = feats.present & (np.linalg.norm(values, axis=1) > 0)
        block = GeneFeatures(list(feats.genes), values, present=present).normalized()
        out.append(_perturbation_vectors(perturbations, block))
    return out


def _weighted(blocks: list[tuple[np.ndarray, np.ndarray]], weights: Sequence[float]) -> np.ndarray:
    """Side-by-side source blocks scaled by the square roots of their weights: the dot product of two rows is the
    weighted sum of the per-source cosines."""
    return np.hstack([np.sqrt(w) * v for (v, _), w in zip(blocks, weights)]).astype(np.float32)


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
