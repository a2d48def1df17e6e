"""Shared machinery of the causal structure learners (scikit-learn estimator contract).

Every learner: ``__init__`` stores keyword arguments only; ``fit(adata, prior=None, labels=None) -> self``;
fitted state ends in ``_``; ``predict_scores() -> EdgeScores``; ``device="auto"`` picks CUDA when present.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from anndata import AnnData
from sklearn.base import BaseEstimator

from ...datasets.validate import CONTROL, PERTURBATION_KEY, split_targets, validate_perturbation_data
from ...errors import DataValidationError, NotFittedError
from ...types.graph import EdgeLabels, EdgeScores

logger = logging.getLogger(__name__)

#: Weight of a given prior in the final ranking of learners that can only blend it in (correlation, PC, GES, BOSS):
#: ``(1 - w) * rank(data scores) + w * prior``. One default for all of them, so passing ``prior=`` is never
#: silently ignored; 0 turns the prior off.
PRIOR_BLEND = 0.3


class BaseLearner(BaseEstimator):  # type: ignore[misc]
    """Base class: input validation, prior/label alignment, and the fitted-state check."""

    #: Largest number of genes the method handles (None: no limit).
    max_genes: int | None = None
    #: Whether the method uses ``labels`` (supervised) or ignores them.
    uses_labels: bool = False

    # ------------------------------------------------------------------ helpers for subclasses
    def _prepare(self, adata: AnnData, prior: EdgeScores | None, labels: EdgeLabels | None) -> None:
        """Validate inputs and set ``genes_``, ``n_genes_``, ``prior_`` (dense p x p or None), ``labels_``."""
        if not isinstance(adata, AnnData):
            raise DataValidationError(
                f"fit() expects an AnnData (samples x genes), got {type(adata).__name__}."
            )
        validate_perturbation_data(adata, require_control=False, inplace=False)
        if adata.n_obs < 3:
            raise DataValidationError(f"Need at least 3 samples to learn a graph, got {adata.n_obs}.")
        if adata.n_vars < 2:
            raise DataValidationError(f"Need at least 2 genes to learn a graph, got {adata.n_vars}.")
        constant = _constant_genes(adata)
        if constant:
            raise DataValidationError(
                f"{len(constant)} genes never vary (e.g. {constant[:5]}); a constant gene carries no information "
                "about edges: drop them first, e.g. adata[:, adata.X.std(0) > 0]."
            )
        genes = [str(g) for g in adata.var_names]
        if self.max_genes is not None and len(genes) > self.max_genes:
            raise DataValidationError(
                f"{type(self).__name__} handles at most {self.max_genes} genes (max_genes), got {len(genes)}. "
                "Select genes first (e.g. highly variable or perturbed ones) or use the 'supervised' or 'deep' learner."
            )
        self.genes_ = genes
        self.n_genes_ = len(genes)
        self.prior_ = None
        if prior is not None:
            if not isinstance(prior, EdgeScores):
                raise DataValidationError(f"prior must be EdgeScores, got {type(prior).__name__}.")
            overlap = len(set(prior.genes) & set(genes))
            if overlap == 0:
                raise DataValidationError(
                    f"The prior shares no genes with the data (prior: {prior.genes[:5]}..., data: {genes[:5]}...)."
                )
            v = prior.reindex(genes, fill=0.0).values
            v = np.nan_to_num(v, nan=0.0)
            lo, hi = float(v.min()), float(v.max())
            self.prior_ = (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)
        self.labels_ = labels
        if labels is not None and not isinstance(labels, EdgeLabels):
            raise DataValidationError(f"labels must be EdgeLabels, got {type(labels).__name__}.")

    @staticmethod
    def _matrix(adata: AnnData, max_samples: int | None = None, seed: int = 0) -> np.ndarray:
        x = adata.X
        idx = None
        if max_samples is not None and adata.n_obs > max_samples:
            idx = np.sort(np.random.default_rng(seed).choice(adata.n_obs, max_samples, replace=False))
            x = x[idx]
        x = x.toarray() if sp.issparse(x) else np.asarray(x)
        x = np.asarray(x, dtype=np.float64)
        if not np.isfinite(x).all():
            raise DataValidationError("Expression matrix has NaN/inf values; impute or drop them first.")
        return x

    @staticmethod
    def _subsample(adata: AnnData, max_samples: int | None, seed: int = 0) -> AnnData:
        """At most ``max_samples`` rows: a quarter reserved for controls (the reference of every shift), the rest
        for perturbed samples, so intervention statistics survive the subsampling."""
        if max_samples is None or adata.n_obs <= max_samples:
            return adata
        rng = np.random.default_rng(seed)
        pert = (adata.obs[PERTURBATION_KEY].astype(str) != CONTROL).to_numpy()
        perturbed, controls = np.flatnonzero(pert), np.flatnonzero(~pert)
        n_ctrl = min(len(controls), max(max_samples // 4, max_samples - len(perturbed)))
        n_pert = min(len(perturbed), max_samples - n_ctrl)
        keep = np.concatenate(
            [rng.choice(perturbed, n_pert, replace=False), rng.choice(controls, n_ctrl, replace=False)]
        )
        return adata[np.sort(keep)]

    @staticmethod
    def _standardize(x: np.ndarray) -> np.ndarray:
        sd = x.std(0)
        return (x - x.mean(0)) / np.where(sd > 0, sd, 1.0)

    def _label_matrix(self) -> np.ndarray:
        """``p x p`` matrix of 1/0 labels, NaN = unlabelled (diagonal always NaN)."""
        p = self.n_genes_
        out = np.full((p, p), np.nan)
        if self.labels_ is not None:
            flat, y = self.labels_.aligned(self.genes_, exclude_diagonal=True)
            out.ravel()[flat] = y
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "scores_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(adata) first.")

    def predict_scores(self) -> EdgeScores:
        """Scores for every ordered pair of the fitted genes (higher = more likely an edge)."""
        self._check_fitted()
        v = np.array(self.scores_, dtype=np.float64)
        np.fill_diagonal(v, 0.0)
        return EdgeScores(
            v, list(self.genes_), name=getattr(self, "name", type(self).__name__), meta=self._meta()
        )

    def _meta(self) -> dict[str, Any]:
        return {"params": {k: (v if isinstance(v, (int, float, str, bool, type(None))) else repr(v))
                           for k, v in self.get_params().items()}}  # fmt: skip

    def fit_predict(
        self, adata: AnnData, prior: EdgeScores | None = None, labels: EdgeLabels | None = None
    ) -> EdgeScores:
        return self.fit(adata, prior=prior, labels=labels).predict_scores()  # type: ignore[no-any-return, attr-defined]


def _constant_genes(adata: AnnData) -> list[str]:
    """Genes with one value in every sample (not checked for backed data, which is read in blocks)."""
    if getattr(adata, "isbacked", False):
        return []
    x = adata.X
    if sp.issparse(x):
        x = sp.csc_matrix(x)
        lo = np.asarray(x.min(axis=0).todense()).ravel()
        hi = np.asarray(x.max(axis=0).todense()).ravel()
    else:
        arr = np.asarray(x)
        with warnings.catch_warnings():  # all-NaN genes are reported by the NaN check, not here
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = np.nanmin(arr, axis=0), np.nanmax(arr, axis=0)
    return [str(g) for g, a, b in zip(adata.var_names, lo, hi) if a == b]


def intervention_rows(adata: AnnData, genes: list[str]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Control rows and, per measured gene index, the rows where that gene (alone) is intervened on.

    Rows of combinations (``"A+B"``) are left out here, because a shift under a combination cannot be attributed
    to one source; :func:`intervened_mask` covers them (a combination still sets each of its targets).
    """
    pert = adata.obs[PERTURBATION_KEY].astype(str).to_numpy()
    gidx = {g: i for i, g in enumerate(genes)}
    ctrl = np.flatnonzero(pert == CONTROL)
    by_gene: dict[int, list[int]] = {}
    n_combo = 0
    for r, label in enumerate(pert):
        t = split_targets(label)
        if len(t) == 1 and t[0] in gidx:
            by_gene.setdefault(gidx[t[0]], []).append(r)
        elif len(t) > 1 and any(x in gidx for x in t):
            n_combo += 1
    if n_combo:
        logger.info(
            "%d rows perturb several measured genes at once: not used for single-source shift features",
            n_combo,
        )
    return ctrl, {k: np.asarray(v) for k, v in by_gene.items()}


def intervened_mask(adata: AnnData, genes: list[str]) -> np.ndarray:
    """``(n_obs, n_genes)`` booleans: True where the row's perturbation sets that gene (single targets and every
    target of a combination such as ``"A+B"``)."""
    pert = adata.obs[PERTURBATION_KEY].astype(str).to_numpy()
    gidx = {g: i for i, g in enumerate(genes)}
    out = np.zeros((len(pert), len(genes)), dtype=bool)
    for r, label in enumerate(pert):
        for t in split_targets(label):
            if t in gidx:
                out[r, gidx[t]] = True
    return out


def robust_scale(ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column median and IQR / 1.349 (a standard deviation for normal data; the sd where the IQR is 0) of
    reference samples: the scale of the robust z of Kemmeren et al. (2014)."""
    med = np.median(ref, 0)
    q75, q25 = np.percentile(ref, [75, 25], axis=0)
    scale = (q75 - q25) / 1.349
    return med, np.where(scale > 1e-9, scale, np.maximum(ref.std(0), 1e-9))


def intervention_shift(x: np.ndarray, ctrl: np.ndarray, by_gene: dict[int, np.ndarray]) -> np.ndarray:
    """``p x p`` standardised shift of gene j under intervention on gene i vs controls (NaN where i is not intervened).

    One sample per intervention (e.g. a deletion profile): the robust z of Kemmeren et al.,
    ``(x_j - median(control x_j)) / (IQR(control x_j) / 1.349)``. Several samples (e.g. single cells): a Welch-type
    statistic of the means, ``(mean - mean(control)) / sqrt(var/n + var(control)/n_control)``, because medians of
    sparse counts hardly move. With no controls, all other rows serve as the reference.
    """
    p = x.shape[1]
    out = np.full((p, p), np.nan)
    if not by_gene:
        return out
    genes = list(by_gene)
    out[genes] = group_shifts(x, ctrl, [by_gene[i] for i in genes])
    return out


def group_shifts(x: np.ndarray, ctrl: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """``len(groups) x p`` standardised shift of every gene under each group of perturbed rows (one perturbation's
    samples), by the statistic of :func:`intervention_shift`; ``ctrl`` holds the control rows' indices.

    Example:
        >>> x = np.vstack([np.random.default_rng(0).normal(size=(20, 3)), [[0.0, 9.0, 0.0]]])
        >>> bool(group_shifts(x, np.arange(20), [np.array([20])])[0, 1] > 5)
        True
    """
    p = x.shape[1]
    out = np.full((len(groups), p), np.nan)
    ref = x[ctrl] if len(ctrl) >= 3 else x
    med, scale = robust_scale(ref)
    mean_c, var_c, n_c = ref.mean(0), ref.var(0), len(ref)
    for k, rows in enumerate(groups):
        if len(rows) == 1:
            out[k] = (x[rows[0]] - med) / scale
        elif len(rows) > 1:
            g = x[rows]
            se = np.sqrt(g.var(0, ddof=1) / len(rows) + var_c / n_c)
            out[k] = (g.mean(0) - mean_c) / np.maximum(se, 1e-9)
    return out
