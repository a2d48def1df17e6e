"""Label-matrix structure: some perturbations change many genes, some genes respond to almost anything.

In a perturbation screen the label matrix (source i perturbed -> target j changed) is far from random: its rows and
columns have very different rates. This learner scores a pair by a rank-one model of those rates,
``P(i -> j) = s_i * r_j / base``: ``r_j`` is how often target ``j`` responds among the revealed labels, ``s_i`` how
often perturbing ``i`` changed anything, each smoothed towards the overall rate ``base`` with ``pseudo`` pseudo-labels.
A source with no revealed row (the usual held-out case) has only its prior mean, and that is where knowledge enters:
with a ``prior``, each source's prior mean is ``base`` scaled by its percentile among the prior's row means:
``base * (1 + prior_strength * (percentile - 0.5))``, so the source knowledge calls broadest is expected to change
up to 3x as many genes as the narrowest at the default strength. :func:`aitia.knowledge.breadth.breadth_prior` gives
such a prior from gene descriptions alone. Targets are ranked the same way by their responsiveness in the data
(``use_data``): the mean robust |z| (median and IQR of the control samples, capped at 10 IQRs) of each gene over every
perturbed sample but its own perturbation (perturbations of genes outside the measured set count too). A few binary
labels per target are a noisy rate; the continuous shifts of the same interventions are not. Without interventions
in the data, the prior's column means rank targets.

Revealed labels are returned as they are (1 or 0); label rows of sources outside the measured genes (deletions of
other genes in a training screen) count towards the targets' rates. Perturbations in the data without a revealed
label row (``use_unlabelled``; e.g. a screen's deletions of genes outside the network, whose labels nobody gave)
count too: their labels are derived from the data, |shift| above the threshold under which the *revealed* rows' data
agree best with their labels (Cohen's kappa), so derived and given labels mean the same thing; when no revealed row
has data, above the quantile that gives the derived labels the revealed labels' positive rate. Without labels at
all, they are derived from the data's interventions as in
:class:`~aitia.causal.learners.supervised.SupervisedLearner`.

Example:
    >>> import numpy as np
    >>> from aitia import datasets
    >>> ad = datasets.load("kemmeren-mrcl", instance=0)
    >>> lab = datasets.ground_truth("kemmeren-mrcl", "train", instance=0)
    >>> PropensityLearner().fit(ad, labels=lab).predict_scores().values.shape
    (50, 50)
"""

from __future__ import annotations

import warnings

import numpy as np
from anndata import AnnData
from scipy.stats import rankdata

from ...errors import DataValidationError
from ...types.graph import EdgeLabels, EdgeScores
from .base import BaseLearner, robust_scale


class PropensityLearner(BaseLearner):
    """Row x column rates of the revealed label matrix, with prior knowledge for rows and columns never revealed.

    Args:
        pseudo: pseudo-labels pulling each row and column rate towards its prior mean.
        prior_strength: how far the prior's percentile moves a gene's prior mean (0 ignores the prior; 1: from
            0.5x to 1.5x the overall rate).
        use_data: rank the targets' prior means by their responsiveness to the data's interventions.
        z_threshold: |z| above which a measured shift counts as an effect when labels are derived from the data
            (and for unlabelled perturbations when no revealed label says how rare an effect is).
        use_unlabelled: count the perturbations in the data that have no revealed label row towards the rates,
            with labels derived from their shifts (see above).
    """

    name = "propensity"
    uses_labels = True

    def __init__(self, pseudo: float = 2.0, prior_strength: float = 1.0, use_data: bool = True,
                 z_threshold: float = 3.0, use_unlabelled: bool = True) -> None:  # fmt: skip
        self.pseudo = pseudo
        self.use_unlabelled = use_unlabelled
        self.prior_strength = prior_strength
        self.use_data = use_data
        self.z_threshold = z_threshold

    def fit(
        self, adata: AnnData, prior: EdgeScores | None = None, labels: EdgeLabels | None = None
    ) -> PropensityLearner:
        self._prepare(adata, prior, labels)
        self._x: np.ndarray | None = None
        if not 0 <= self.prior_strength <= 2:
            raise DataValidationError(f"prior_strength must be within [0, 2], got {self.prior_strength}.")
        if not self.pseudo > 0:
            raise DataValidationError(
                f"pseudo must be > 0 (pseudo-labels per row and column), got {self.pseudo}."
            )
        y = self._label_matrix() if labels is not None else self._derived_labels(adata)
        known = ~np.isnan(y)
        extra_pos, extra_known = self._outside_rows(labels)
        self.unlabelled_threshold_: float | None = None
        row_pos, row_known = np.zeros(self.n_genes_), np.zeros(self.n_genes_)
        if labels is not None and self.use_unlabelled:
            row_pos, row_known, col_pos, col_known = self._unlabelled_rows(adata, labels)
            extra_pos, extra_known = extra_pos + col_pos, extra_known + col_known
        if not known.any() and not extra_known.any():
            raise DataValidationError(
                "The propensity learner needs revealed labels (labels=...) or interventions in the data."
            )
        pos = np.where(known, y, 0.0)
        # the overall rate, smoothed by half a positive, so revealed rows without a single positive (a narrow first
        # experiment) still leave the prior's and the data's ranking in place instead of scoring every pair 0
        base = float((pos.sum() + extra_pos.sum() + 0.5) / (known.sum() + extra_known.sum() + 1.0))
        self.target_responsiveness_ = self._responsiveness(adata) if self.use_data else None
        row_mean, col_mean = self._prior_means(base)
        self.source_rate_ = (pos.sum(1) + row_pos + self.pseudo * row_mean) / (
            known.sum(1) + row_known + self.pseudo
        )
        self.target_rate_ = (pos.sum(0) + extra_pos + self.pseudo * col_mean) / (
            known.sum(0) + extra_known + self.pseudo
        )
        est = np.clip(np.outer(self.source_rate_, self.target_rate_) / max(base, 1e-12), 0.0, 1.0)
        self.base_rate_ = base
        self.scores_ = np.where(known, y, est)
        self._x = None  # the dense data matrix is not kept with the fitted learner
        return self

    def _data(self, adata: AnnData) -> np.ndarray:
        """The data matrix, made dense once per fit (responsiveness and unlabelled perturbations both read it)."""
        x = getattr(self, "_x", None)
        if x is None:
            x = self._x = self._matrix(adata)
        return x

    def _prior_means(self, base: float) -> tuple[np.ndarray, np.ndarray]:
        p = self.n_genes_
        flat = np.full(p, base)
        rows, cols = None, self.target_responsiveness_
        if self.prior_ is not None:
            v = np.array(self.prior_, dtype=np.float64)
            np.fill_diagonal(v, np.nan)
            with np.errstate(invalid="ignore"):
                rows = np.nanmean(v, axis=1)
                cols = np.nanmean(v, axis=0) if cols is None else cols

        def scaled(means: np.ndarray | None) -> np.ndarray:
            if means is None or self.prior_strength == 0:
                return flat
            percentile = (rankdata(means) - 0.5) / len(means)  # ties share a percentile; all tied: 0.5
            return base * (1 + self.prior_strength * (percentile - 0.5))

        return scaled(rows), scaled(cols)

    def _responsiveness(self, adata: AnnData) -> np.ndarray | None:
        """Mean robust |z| of each gene over every perturbed sample (also those perturbing unmeasured genes; a
        gene's own perturbation left out); None without enough controls or perturbed samples."""
        from ...datasets.validate import CONTROL, PERTURBATION_KEY, split_targets

        pert = adata.obs[PERTURBATION_KEY].astype(str).to_numpy()
        ctrl = pert == CONTROL
        if ctrl.sum() < 3 or ctrl.all():
            return None
        x = self._data(adata)
        med, scale = robust_scale(x[ctrl])
        rows = np.flatnonzero(~ctrl)
        z = np.minimum(np.abs(x[rows] - med) / scale, 10.0 * 1.349)  # capped at 10 IQRs
        gidx = {g: i for i, g in enumerate(self.genes_)}
        for r, label in enumerate(pert[rows]):
            for t in split_targets(label):
                if t in gidx:
                    z[r, gidx[t]] = np.nan  # a gene's own perturbation is not a response
        with warnings.catch_warnings():  # a gene measured only under its own perturbation has no response
            warnings.simplefilter("ignore", RuntimeWarning)
            resp = np.nanmean(z, axis=0)
        return None if np.isnan(resp).all() else np.nan_to_num(resp, nan=float(np.nanmean(resp)))

    def _outside_rows(self, labels: EdgeLabels | None) -> tuple[np.ndarray, np.ndarray]:
        """Positives and labelled pairs per measured target from label rows whose source is not a measured gene
        (e.g. deletions of other genes in a training screen): they say which targets respond, not which sources."""
        p = self.n_genes_
        if labels is None:
            return np.zeros(p), np.zeros(p)
        genes = set(self.genes_)
        rows = [i for i, s in enumerate(labels.sources) if s not in genes]
        cols = {t: j for j, t in enumerate(labels.targets)}
        if not rows:
            return np.zeros(p), np.zeros(p)
        v = np.full((len(rows), p), np.nan)
        for k, g in enumerate(self.genes_):
            if g in cols:
                v[:, k] = labels.values[rows, cols[g]]
        known = ~np.isnan(v)
        return np.where(known, v, 0.0).sum(0), known.sum(0).astype(float)

    def _unlabelled_rows(
        self, adata: AnnData, labels: EdgeLabels
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Derived labels of the perturbations in the data that have no revealed label row: positives and labelled
        pairs per measured source (its own row, if it is a measured gene) and per target. The |shift| threshold is
        the one under which the revealed rows' own shifts agree best with their labels."""
        from sklearn.metrics import cohen_kappa_score

        from ...datasets.validate import (
            CONTROL,
            INTERVENTION_KEY,
            NON_NODE_INTERVENTIONS,
            PERTURBATION_KEY,
            split_targets,
        )
        from .base import group_shifts

        p = self.n_genes_
        zeros = (np.zeros(p), np.zeros(p), np.zeros(p), np.zeros(p))
        pert = adata.obs[PERTURBATION_KEY].astype(str).to_numpy()
        ctrl = np.flatnonzero(pert == CONTROL)
        itype = (
            adata.obs[INTERVENTION_KEY].astype(str).to_numpy()
            if INTERVENTION_KEY in adata.obs
            else np.full(len(pert), "")
        )
        # multifactorial rows and stimuli have no source gene
        non_node = set(pert[np.isin(itype, list(NON_NODE_INTERVENTIONS))])
        names = [n for n in dict.fromkeys(pert) if n != CONTROL and n not in non_node]
        if len(ctrl) < 3 or not names:
            return zeros
        labelled = {s: k for k, s in enumerate(labels.sources) if (~np.isnan(labels.values[k])).any()}
        cols = {t: j for j, t in enumerate(labels.targets)}
        gidx = {g: i for i, g in enumerate(self.genes_)}
        shift = np.abs(group_shifts(self._data(adata), ctrl, [np.flatnonzero(pert == n) for n in names]))
        for k, n in enumerate(names):  # a gene's own perturbation is not a response
            shift[k, [gidx[t] for t in split_targets(n) if t in gidx]] = np.nan
        given, derived = [], []
        for k, n in enumerate(names):
            if n in labelled:
                row = np.array(
                    [labels.values[labelled[n], cols[g]] if g in cols else np.nan for g in self.genes_]
                )
                ok = ~np.isnan(row) & ~np.isnan(shift[k])
                given.append((row[ok], shift[k][ok]))
            else:
                derived.append(k)
        if not derived:
            return zeros
        y_given = np.concatenate([g[0] for g in given]) if given else np.array([])
        d = shift[derived]
        # a gene's own perturbation is not a response here either
        off_diagonal = labels.values.astype(np.float64)
        for k, src in enumerate(labels.sources):
            if src in cols:
                off_diagonal[k, cols[src]] = np.nan
        known_given = ~np.isnan(off_diagonal)
        given_rate = float(np.nanmean(off_diagonal)) if known_given.any() else float("nan")
        # revealed rows with data: the threshold where their shifts agree best with their labels
        if len(np.unique(y_given)) == 2:
            z_given = np.concatenate([g[1] for g in given])
            grid = np.unique(np.quantile(z_given, np.linspace(0.02, 0.995, 80)))
            kappa = [cohen_kappa_score(y_given, z_given >= t) for t in grid]
            threshold = float(grid[int(np.argmax(kappa))])
        elif 0 < given_rate < 1 and np.isfinite(d).any():  # none: derive as many effects as the labels have
            threshold = float(np.nanquantile(d, 1.0 - given_rate))
        else:
            threshold = self.z_threshold
        self.unlabelled_threshold_ = threshold
        known = ~np.isnan(d)
        hit = np.where(known, d >= threshold, False).astype(float)
        row_pos, row_known = np.zeros(p), np.zeros(p)
        for r, k in enumerate(derived):
            if names[k] in gidx:  # a measured gene's own row
                row_pos[gidx[names[k]]] += hit[r].sum()
                row_known[gidx[names[k]]] += known[r].sum()
        return row_pos, row_known, hit.sum(0), known.sum(0).astype(float)

    def _derived_labels(self, adata: AnnData) -> np.ndarray:
        from .features import PairStatistics, derive_labels

        x = self._matrix(adata)
        stats = PairStatistics.compute(adata, x, self.genes_, self.prior_, True)
        return np.asarray(derive_labels(stats, self.prior_, self.z_threshold), dtype=np.float64)
