"""Stacked ensemble of perturbation predictors, trained on out-of-fold predictions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from ...errors import DataValidationError
from ...types.effects import EffectTable
from .base import BasePredictor

logger = logging.getLogger(__name__)


class EnsemblePredictor(BasePredictor):
    """Stack member predictors: K folds over the training (context, perturbation) pairs give out-of-fold predictions,
    on which non-negative ridge models learn how much to trust each member: one on the effects, one on the logits
    of the members' DE probabilities (a linear stack, not a logistic regression).

    Args:
        members: registry names or unfitted predictors.
        n_folds: folds for the out-of-fold predictions.
        random_state: seed of the fold assignment.
    """

    name = "ensemble"

    def __init__(self, members: Sequence[Any] = ("mean", "linear", "context_transfer"), n_folds: int = 3,
                 random_state: int = 0) -> None:  # fmt: skip
        self.members = members
        self.n_folds = n_folds
        self.random_state = random_state

    def _make(self) -> list[tuple[str, BasePredictor]]:
        from . import get

        out = []
        for m in self.members:
            est = get(m) if isinstance(m, str) else clone(m)
            out.append((m if isinstance(m, str) else getattr(est, "name", type(est).__name__), est))
        return out

    def _fit(self, effects: EffectTable, adata: Any) -> None:
        from sklearn.linear_model import Ridge

        prior = self.prior_
        c_idx, p_idx = effects.pair_positions
        if len(c_idx) < self.n_folds * 2:
            raise DataValidationError(
                f"Too few training pairs ({len(c_idx)}) for {self.n_folds}-fold stacking."
            )
        rng = np.random.default_rng(self.random_state)
        # fold by perturbation so held-out folds mimic unseen perturbations
        perts = np.unique(p_idx)
        fold_of_pert = dict(zip(perts, rng.permutation(len(perts)) % self.n_folds))
        folds = np.array([fold_of_pert[p] for p in p_idx])
        names = [n for n, _ in self._make()]
        oof_e = np.zeros((len(c_idx), len(self.genes_), len(names)), np.float32)
        oof_l = np.zeros_like(oof_e)
        for f in range(self.n_folds):
            held = folds == f
            keep = np.zeros(effects.observed.shape, bool)
            keep[c_idx[~held], p_idx[~held]] = True
            train = effects.subset(keep)
            q = pd.DataFrame({"context": np.asarray(effects.contexts)[c_idx[held]],
                              "perturbation": np.asarray(effects.perturbations)[p_idx[held]]})  # fmt: skip
            for m, (_, est) in enumerate(self._make()):
                est.fit(train, adata=adata, prior=prior)
                e, lab = est._predict(q)
                oof_e[held, :, m], oof_l[held, :, m] = e, lab
        y_e = effects.effect_rows  # rows in the order of pair_positions
        y_l = effects.label_rows
        ok_e = ~np.isnan(y_e)
        ok_l = ~np.isnan(y_l)
        # non-negative stacking: a member can only add evidence, never flip another member's ranking
        self.effect_model_ = Ridge(alpha=1.0, fit_intercept=False, positive=True).fit(oof_e[ok_e], y_e[ok_e])
        X_l, yl = oof_l[ok_l], y_l[ok_l]
        self.label_model_: Any = None
        if len(np.unique(yl)) == 2:
            self.label_model_ = Ridge(alpha=1.0, positive=True).fit(_logit(X_l), yl)
        self.fitted_members_ = []
        for name, est in self._make():
            est.fit(effects, adata=adata, prior=prior)
            self.fitted_members_.append((name, est))
        self.weights_ = dict(zip(names, self.effect_model_.coef_.tolist()))

    def _predict(self, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        preds = [est._predict(q) for _, est in self.fitted_members_]
        E = np.stack([e for e, _ in preds], axis=-1)
        L = np.stack([lab for _, lab in preds], axis=-1)
        eff = self.effect_model_.predict(E.reshape(-1, E.shape[-1])).reshape(E.shape[:2]).astype(np.float32)
        if self.label_model_ is None:
            lab = L.mean(-1)
        else:
            lab = np.clip(self.label_model_.predict(_logit(L.reshape(-1, L.shape[-1]))), 0, 1).reshape(
                L.shape[:2]
            )
        return eff, lab.astype(np.float32)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))
