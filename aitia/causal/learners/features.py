"""Pairwise features shared by the supervised and deep learners, computed in blocks of source genes.

All statistics that need p x p matrices are computed once (matrix products), so features for any block of pairs
are gathered without touching the data again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from anndata import AnnData

from .base import intervention_rows, intervention_shift

FEATURE_NAMES = [
    "corr", "abs_corr", "abs_corr_rank_row", "abs_corr_rank_col", "partial_corr",
    "asym_ij", "asym_ji", "asym_diff",
    "shift_ij", "abs_shift_ij", "has_shift_ij", "shift_ji", "abs_shift_ji", "has_shift_ji",
    "prior_ij", "prior_ji", "hub_i", "hub_j", "skew_i", "skew_j", "zero_frac_i", "zero_frac_j",
]  # fmt: skip
#: pseudo-count of the smoothed label rates (shrinks a row or column with few labels to the overall rate)
_RATE_PSEUDO = 2.0


@dataclass
class PairStatistics:
    """p x p (float32) statistics from which pair features are gathered."""

    corr: np.ndarray
    abs_rank_row: np.ndarray
    abs_rank_col: np.ndarray
    partial: np.ndarray
    asym: np.ndarray
    shift: np.ndarray
    prior: np.ndarray
    hub: np.ndarray
    skew: np.ndarray
    zero_frac: np.ndarray
    labels: np.ndarray | None = None

    def set_labels(self, y: np.ndarray) -> None:
        """The training label matrix (p x p, NaN = unlabelled), from which the label-structure features come:
        how often a target responds to any source (``target_rate``) and how often a source affects any target
        (``source_rate``), each leaving out the pair's own label, so no training pair sees its answer."""
        self.labels = y

    @classmethod
    def compute(
        cls,
        adata: AnnData,
        x: np.ndarray,
        genes: list[str],
        prior: np.ndarray | None,
        use_interventions: bool = True,
        partial_max_genes: int = 3000,
    ) -> PairStatistics:
        """``x``: samples x genes (raw scale; standardised here)."""
        n, p = x.shape
        zero_frac = (x == 0).mean(0).astype(np.float32)
        sd = x.std(0)
        z = ((x - x.mean(0)) / np.where(sd > 0, sd, 1.0)).astype(np.float32)
        corr = (z.T @ z) / n
        np.fill_diagonal(corr, 0.0)
        a = np.abs(corr)
        rank_row = a.argsort(1).argsort(1).astype(np.float32) / max(p - 1, 1)
        rank_col = a.argsort(0).argsort(0).astype(np.float32) / max(p - 1, 1)
        # non-Gaussian regression asymmetry: |E[x_i^2 r_j|i]| with r_j|i = x_j - c_ij x_i (large when i causes j
        # non-linearly or with non-Gaussian noise)
        m21 = ((z * z).T @ z) / n  # E[x_i^2 x_j]
        m3 = (z**3).mean(0)
        asym = np.abs(m21 - corr * m3[:, None]).astype(np.float32)
        partial = np.zeros((p, p), np.float32)
        if p <= partial_max_genes and n > 2:
            from .correlation import shrunk_precision

            prec = shrunk_precision(z.astype(np.float64))
            d = np.sqrt(np.clip(np.diag(prec), 1e-12, None))
            partial = (-prec / np.outer(d, d)).astype(np.float32)
            np.fill_diagonal(partial, 0.0)
        shift = np.full((p, p), np.nan, np.float32)
        if use_interventions and adata.n_obs == n:
            ctrl, by_gene = intervention_rows(adata, genes)
            shift = intervention_shift(x, ctrl, by_gene).astype(np.float32)
        skew = (z**3).mean(0).astype(np.float32)
        return cls(
            corr=corr.astype(np.float32), abs_rank_row=rank_row, abs_rank_col=rank_col, partial=partial, asym=asym,
            shift=shift, prior=(prior if prior is not None else np.zeros((p, p))).astype(np.float32),
            hub=a.mean(1).astype(np.float32), skew=skew, zero_frac=zero_frac,
        )  # fmt: skip

    def features(self, src: np.ndarray, tgt: np.ndarray) -> np.ndarray:
        """Feature rows (len(src), len(FEATURE_NAMES)) for pairs src[k] -> tgt[k]."""
        c = self.corr[src, tgt]
        s_ij = self.shift[src, tgt]
        s_ji = self.shift[tgt, src]
        has_ij = ~np.isnan(s_ij)
        has_ji = ~np.isnan(s_ji)
        s_ij = np.nan_to_num(s_ij)
        s_ji = np.nan_to_num(s_ji)
        a_ij, a_ji = self.asym[src, tgt], self.asym[tgt, src]
        cols = [
            c, np.abs(c), self.abs_rank_row[src, tgt], self.abs_rank_col[src, tgt], self.partial[src, tgt],
            a_ij, a_ji, a_ij - a_ji,
            s_ij, np.abs(s_ij), has_ij, s_ji, np.abs(s_ji), has_ji,
            self.prior[src, tgt], self.prior[tgt, src], self.hub[src], self.hub[tgt], self.skew[src], self.skew[tgt],
            self.zero_frac[src], self.zero_frac[tgt],
        ]  # fmt: skip
        return np.stack([np.asarray(v, dtype=np.float32) for v in cols], axis=1)

    def label_rates(self, src: np.ndarray, tgt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Leave-one-out, smoothed positive rates of each pair's target column and source row."""
        if self.labels is None:
            z = np.zeros(len(src), np.float32)
            return z, z
        y = self.labels.copy()
        np.fill_diagonal(y, np.nan)  # self-edges say nothing about other targets
        known = ~np.isnan(y)
        pos = np.where(known, y, 0.0)
        base = pos.sum() / max(known.sum(), 1)
        own_known = known[src, tgt]
        own = np.where(own_known, pos[src, tgt], 0.0)
        col_pos, col_n = pos.sum(0)[tgt] - own, known.sum(0)[tgt] - own_known
        row_pos, row_n = pos.sum(1)[src] - own, known.sum(1)[src] - own_known
        target_rate = (col_pos + _RATE_PSEUDO * base) / (col_n + _RATE_PSEUDO)
        source_rate = (row_pos + _RATE_PSEUDO * base) / (row_n + _RATE_PSEUDO)
        return target_rate.astype(np.float32), source_rate.astype(np.float32)


def all_pairs_blocks(p: int, block_pairs: int = 262_144):
    """Yield (src, tgt) index arrays covering every off-diagonal ordered pair, row blocks of sources."""
    rows_per_block = max(1, block_pairs // max(p, 1))
    for start in range(0, p, rows_per_block):
        src_rows = np.arange(start, min(p, start + rows_per_block))
        src = np.repeat(src_rows, p)
        tgt = np.tile(np.arange(p), len(src_rows))
        keep = src != tgt
        yield src[keep], tgt[keep]


def derive_labels(
    stats: PairStatistics, prior: np.ndarray | None, z_threshold: float = 3.0, seed: int = 0
) -> np.ndarray:
    """Training labels when none are given: intervention shifts (|z| >= threshold) for intervened sources, else
    curated prior edges as positives with random non-prior pairs as negatives. NaN = unlabelled."""
    p = stats.corr.shape[0]
    y = np.full((p, p), np.nan)
    has = ~np.isnan(stats.shift)
    if has.any():
        y[has] = (np.abs(stats.shift[has]) >= z_threshold).astype(float)
    elif prior is not None and (prior > 0).any():
        rng = np.random.default_rng(seed)
        pos = prior >= 0.5
        y[pos] = 1.0
        n_neg = min(int(pos.sum()) * 5, p * p - int(pos.sum()))
        cand = np.flatnonzero(~pos.ravel() & (prior.ravel() == 0))
        y.ravel()[rng.choice(cand, min(n_neg, len(cand)), replace=False)] = 0.0
    np.fill_diagonal(y, np.nan)
    return y


def training_pairs(
    y: np.ndarray, max_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labelled off-diagonal pairs of a p x p label matrix (NaN = unlabelled), subsampled to ``max_pairs``.

    Raises:
        DataValidationError: no labelled pairs, or only one class.
    """
    from ...errors import DataValidationError

    src, tgt = np.nonzero(~np.isnan(y))
    keep = src != tgt
    src, tgt = src[keep], tgt[keep]
    if len(src) == 0:
        raise DataValidationError(
            "No training labels: pass labels=EdgeLabels, a prior, or data with single-gene interventions."
        )
    yy = y[src, tgt]
    if yy.min() == yy.max():
        raise DataValidationError(f"Training labels are all {int(yy[0])}; need both edges and non-edges.")
    if len(src) > max_pairs:
        pick = rng.choice(len(src), max_pairs, replace=False)
        src, tgt, yy = src[pick], tgt[pick], yy[pick]
    return src, tgt, yy


_FWD = [FEATURE_NAMES.index(c) for c in ("shift_ij", "abs_shift_ij", "has_shift_ij")]
_REV = [FEATURE_NAMES.index(c) for c in ("shift_ji", "abs_shift_ji", "has_shift_ji")]


def mask_shift(X: np.ndarray, forward: bool = True, reverse: bool = False) -> np.ndarray:
    """A copy of feature rows with the intervention-shift features set to 'not measured'."""
    out = X.copy()
    if forward:
        out[:, _FWD] = 0.0
    if reverse:
        out[:, _REV] = 0.0
    return out
