"""Ensembles of learners and the prior: rank averaging or a stacked model trained on the labelled pairs.

Each member's scores are kept (``members_``) so the evidence record can say which source supported an edge.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from anndata import AnnData
from sklearn.base import clone

from ...errors import DataValidationError
from ...types.graph import EdgeLabels, EdgeScores
from .base import BaseLearner
from .correlation import rank01

logger = logging.getLogger(__name__)


class EnsembleLearner(BaseLearner):
    """Combine several learners (names or instances) and the prior.

    Args:
        learners: member learners (registry names or unfitted instances).
        method: ``rank`` (mean of rank-normalised scores, optionally weighted) or ``stacked`` (logistic regression on
            the members' rank scores, trained on the labelled pairs; falls back to ``rank`` without labels).
        include_prior: use the prior as one more member.
        weights: optional weights per member for ``rank`` (prior last).

    Example:
        >>> from aitia.causal.simulate import simulate_linear_gaussian
        >>> ad, g = simulate_linear_gaussian(n_genes=8, n_cells=300, seed=0)
        >>> e = EnsembleLearner(learners=("correlation", "partial_correlation")).fit(ad)
        >>> sorted(e.members_)
        ['correlation', 'partial_correlation']
    """

    name = "ensemble"
    uses_labels = True

    def __init__(self, learners: Sequence[Any] = ("correlation", "partial_correlation", "supervised"),
                 method: str = "stacked", include_prior: bool = True, weights: Sequence[float] | None = None) -> None:  # fmt: skip
        self.learners = learners
        self.method = method
        self.include_prior = include_prior
        self.weights = weights

    def fit(
        self, adata: AnnData, prior: EdgeScores | None = None, labels: EdgeLabels | None = None
    ) -> EnsembleLearner:
        from . import get

        if self.method not in ("rank", "stacked"):
            raise DataValidationError(f"method {self.method!r} not recognised. Options: rank, stacked.")
        if not self.learners:
            raise DataValidationError("An ensemble needs at least one learner.")
        self._prepare(adata, prior, labels)
        members: dict[str, EdgeScores] = {}
        for spec in self.learners:
            est = get(spec) if isinstance(spec, str) else clone(spec)
            name = spec if isinstance(spec, str) else getattr(est, "name", type(est).__name__)
            try:
                members[name] = est.fit(adata, prior=prior, labels=labels).predict_scores()
            except DataValidationError as exc:
                logger.warning("ensemble member %s skipped: %s", name, exc)
        if self.include_prior and self.prior_ is not None:
            members["prior"] = EdgeScores(self.prior_, self.genes_, name="prior")
        if not members:
            raise DataValidationError("No ensemble member could be fitted on these data.")
        self.members_ = members
        ranks = np.stack([rank01(np.nan_to_num(m.values)) for m in members.values()])  # k x p x p
        method = self.method
        y = self._label_matrix()
        if method == "stacked" and (np.isnan(y).all() or np.nanmin(y) == np.nanmax(y)):
            logger.info("stacked ensemble without usable labels: using rank averaging")
            method = "rank"
        if method == "rank":
            w = np.asarray(self.weights if self.weights is not None else np.ones(len(members)), float)
            if len(w) != len(members):
                raise DataValidationError(f"{len(w)} weights for {len(members)} members ({list(members)}).")
            w = w / w.sum()
            scores = np.tensordot(w, ranks, axes=1)
            self.weights_ = dict(zip(members, w.tolist()))
        else:
            from sklearn.linear_model import LogisticRegression

            src, tgt = np.nonzero(~np.isnan(y))
            keep = src != tgt
            src, tgt = src[keep], tgt[keep]
            model = LogisticRegression(C=1.0, class_weight="balanced").fit(ranks[:, src, tgt].T, y[src, tgt])
            k, p = ranks.shape[0], ranks.shape[1]
            scores = model.predict_proba(ranks.reshape(k, -1).T)[:, 1].reshape(p, p)
            self.weights_ = dict(zip(members, model.coef_[0].tolist()))
            self.stacker_ = model
        self.method_ = method
        self.scores_ = scores
        return self

    def contributions(self, source: str, target: str) -> dict[str, float]:
        """Each member's rank score (0-1) for source -> target, for the evidence record."""
        self._check_fitted()
        out = {}
        for name, m in self.members_.items():
            r = rank01(np.nan_to_num(m.values))
            out[name] = float(r[m.index[source], m.index[target]])
        return out

    def predict_scores(self) -> EdgeScores:
        s = super().predict_scores()
        s.meta["weights"] = dict(self.weights_)
        s.meta["method"] = self.method_
        return s
