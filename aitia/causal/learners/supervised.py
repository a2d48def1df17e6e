"""Supervised ancestral learning (after Noe, Ruano, Mukherjee et al. 2019): a classifier on pairwise features.

Features per ordered pair (see :mod:`.features`): correlation and its row/column ranks, partial correlation,
non-Gaussian regression asymmetry, shifts of the target under interventions on the source (and vice versa),
prior scores and marginal statistics. A gradient-boosted classifier is trained on the labelled pairs
(interventional labels and/or a prior) and scores every pair, streaming pairs in blocks so thousands of genes fit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from anndata import AnnData

from ...config import resolve_n_jobs
from ...executor import Executor
from ...types.graph import EdgeLabels, EdgeScores
from .._compute import native_threads
from .base import BaseLearner
from .features import (
    FEATURE_NAMES,
    PairStatistics,
    derive_labels,
    mask_shift,
    training_pairs,
)

logger = logging.getLogger(__name__)


class SupervisedLearner(BaseLearner):
    """Gradient-boosted classifier over pairwise features.

    Args:
        use_interventions: include intervention-shift features (and derive labels from them when none are given).
        use_label_structure: combine the classifier with the structure of the label matrix: how often the target
            responds and the source acts among the training labels (leave-one-out; some genes respond to almost
            any deletion). A logistic model stacks logit(out-of-fold classifier score), logit(target rate) and
            logit(source rate), so three numbers, not the boosted trees, decide how much each is worth. Off by
            default: it helps when the evaluation labels are of the same kind as the training labels (Kemmeren:
            0.600 -> 0.653) and hurts when they are not (DREAM4, ancestral labels vs a direct-edge gold: 0.517 -> 0.452).
        stack_folds: folds for the out-of-fold scores of that stack.
        max_train_pairs: labelled pairs sampled for training.
        max_samples: rows used for the statistics (subsampled above this).
        max_iter, learning_rate, max_leaf_nodes: HistGradientBoostingClassifier settings.
        z_threshold: |robust z| defining derived labels.
        block_pairs: pairs scored per block (one executor task).
        executor: where the blocks are scored: ``local``, ``ray`` or an Executor (None: ``AITIA_EXECUTOR``);
            the scores are identical across executors.
        random_state: seed.
        n_jobs: OpenMP / BLAS threads of the gradient boosting and the statistics, here and in each executor task
            (None: ``AITIA_N_JOBS``, one by default; 0: every core).
    """

    name = "supervised"
    uses_labels = True

    def __init__(self, use_interventions: bool = True, use_label_structure: bool = False, stack_folds: int = 3,
                 max_train_pairs: int = 200_000, max_samples: int = 20_000,
                 max_iter: int = 200, learning_rate: float = 0.08, max_leaf_nodes: int = 31, z_threshold: float = 3.0,
                 block_pairs: int = 262_144, progress: bool = False, random_state: int = 0,
                 executor: str | Executor | None = None, n_jobs: int | None = None) -> None:  # fmt: skip
        self.use_interventions = use_interventions
        self.use_label_structure = use_label_structure
        self.stack_folds = stack_folds
        self.max_train_pairs = max_train_pairs
        self.max_samples = max_samples
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.z_threshold = z_threshold
        self.block_pairs = block_pairs
        self.progress = progress
        self.random_state = random_state
        self.executor = executor
        self.n_jobs = n_jobs

    def fit(
        self, adata: AnnData, prior: EdgeScores | None = None, labels: EdgeLabels | None = None
    ) -> SupervisedLearner:
        with native_threads(self.n_jobs):
            return self._fit(adata, prior, labels)

    def _fit(self, adata: AnnData, prior: EdgeScores | None, labels: EdgeLabels | None) -> SupervisedLearner:
        from sklearn.base import clone
        from sklearn.ensemble import HistGradientBoostingClassifier

        self._prepare(adata, prior, labels)
        adata = self._subsample(adata, self.max_samples, self.random_state)
        x = self._matrix(adata)
        stats = PairStatistics.compute(adata, x, self.genes_, self.prior_, self.use_interventions)
        y = (
            self._label_matrix()
            if labels is not None
            else derive_labels(stats, self.prior_, self.z_threshold)
        )
        stats.set_labels(y)
        src, tgt, yy_f = training_pairs(y, self.max_train_pairs, np.random.default_rng(self.random_state))
        yy = yy_f.astype(int)
        clf = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
            class_weight="balanced", random_state=self.random_state, early_stopping=False,
        )  # fmt: skip
        X = stats.features(src, tgt)
        has_shift = X[:, FEATURE_NAMES.index("has_shift_ij")] > 0
        # Shift features exist only where the source was intervened on. Pairs whose source was never perturbed are
        # scored by a second model trained with the shifts hidden, so neither regime is extrapolated into the other.
        stack = self.use_label_structure
        self.stack_ = self._fit_stack(clf, X, yy, stats, src, tgt) if stack else None
        clf.fit(X, yy)
        self.observational_classifier_ = None
        self.observational_stack_ = None
        if has_shift.any():
            X_obs = mask_shift(X, forward=True, reverse=False)
            obs_clf = clone(clf).fit(X_obs, yy)
            self.observational_classifier_ = obs_clf
            # the second model's scores have their own scale: they get their own stack
            self.observational_stack_ = (
                self._fit_stack(clone(clf), X_obs, yy, stats, src, tgt) if stack else None
            )
        self.classifier_ = clf
        self.n_train_pairs_ = len(yy)
        from ...executor import get_executor

        rows_per_block = max(1, self.block_pairs // max(self.n_genes_, 1))
        blocks = [
            (a, min(self.n_genes_, a + rows_per_block)) for a in range(0, self.n_genes_, rows_per_block)
        ]
        models = _BlockModels(clf, self.stack_, self.observational_classifier_, self.observational_stack_)
        ex = get_executor(self.executor)
        try:
            parts = ex.map(_score_rows, blocks, shared={"stats": stats, "models": models, "p": self.n_genes_,
                                                        "n_jobs": resolve_n_jobs(self.n_jobs)},
                           description="supervised: scoring pairs", progress=self.progress)  # fmt: skip
        finally:
            if not isinstance(self.executor, Executor):
                ex.close()
        scores = np.concatenate(parts, axis=0) if parts else np.zeros((0, 0), dtype=np.float32)
        self.scores_ = scores
        return self

    def _fit_stack(self, clf: Any, X: np.ndarray, yy: np.ndarray, stats: PairStatistics, src: np.ndarray,
                   tgt: np.ndarray) -> Any:  # fmt: skip
        """Logistic stack of out-of-fold classifier scores and the leave-one-out label rates (None when the
        labels are too few for folds)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        n_min = int(min(np.bincount(yy, minlength=2)))
        folds = min(self.stack_folds, n_min)
        if folds < 2:
            return None
        cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        oof = cross_val_predict(clf, X, yy, cv=cv, method="predict_proba")[:, 1]
        return LogisticRegression(C=1.0).fit(_stack_features(oof, *stats.label_rates(src, tgt)), yy)

    @property
    def feature_names_(self) -> list[str]:
        return list(FEATURE_NAMES)


@dataclass
class _BlockModels:
    """The fitted models a pair block is scored with (sent to workers once)."""

    clf: Any
    stack: Any
    observational: Any
    observational_stack: Any


def _score_rows(rows: tuple[int, int], stats: PairStatistics, models: _BlockModels, p: int, n_jobs: int = 1) -> np.ndarray:  # fmt: skip
    """Scores of every pair whose source is in ``rows`` (a task of the executor): a (rows x p) block, diagonal 0."""
    with native_threads(n_jobs):
        return _score_block(rows, stats, models, p)


def _score_block(rows: tuple[int, int], stats: PairStatistics, models: _BlockModels, p: int) -> np.ndarray:
    src_rows = np.arange(*rows)
    s = np.repeat(src_rows, p)
    t = np.tile(np.arange(p), len(src_rows))
    keep = s != t
    s, t = s[keep], t[keep]
    F = stats.features(s, t)
    out = models.clf.predict_proba(F)[:, 1]
    missing = F[:, FEATURE_NAMES.index("has_shift_ij")] == 0
    if models.stack is not None:
        out = models.stack.predict_proba(_stack_features(out, *stats.label_rates(s, t)))[:, 1]
    if models.observational is not None and missing.any():
        obs = models.observational.predict_proba(F[missing])[:, 1]
        if models.observational_stack is not None:
            obs = models.observational_stack.predict_proba(
                _stack_features(obs, *stats.label_rates(s[missing], t[missing]))
            )[:, 1]
        out[missing] = obs
    block = np.zeros((len(src_rows), p), dtype=np.float32)
    block[s - rows[0], t] = out
    return block


def _stack_features(score: np.ndarray, target_rate: np.ndarray, source_rate: np.ndarray) -> np.ndarray:
    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-4, 1 - 1e-4)
        return np.log(p / (1 - p))

    return np.c_[logit(score), logit(target_rate), logit(source_rate)]
