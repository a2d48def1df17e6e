"""Base class of perturbation-effect predictors: ``fit(effects, adata=None, prior=None) -> self``,
``predict(queries) -> EffectTable``."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ...errors import DataValidationError, NotFittedError
from ...types.effects import EffectTable
from ...types.features import GeneFeatures
from ...types.graph import EdgeScores

logger = logging.getLogger(__name__)


def as_queries(queries: Any) -> pd.DataFrame:
    """Queries as a (context, perturbation) table; accepts a DataFrame, an EffectTable or (context, pert) tuples."""
    if isinstance(queries, EffectTable):
        return queries.pairs()
    if isinstance(queries, pd.DataFrame):
        if "perturbation" not in queries.columns:
            raise DataValidationError(f"Queries need a 'perturbation' column; got {list(queries.columns)}.")
        q = queries.copy()
        if "context" not in q.columns:
            q["context"] = "default"
        return q[["context", "perturbation"]].astype(str).drop_duplicates().reset_index(drop=True)
    rows = list(queries)
    if rows and isinstance(rows[0], str):
        return pd.DataFrame({"context": "default", "perturbation": rows})
    return pd.DataFrame(rows, columns=["context", "perturbation"]).astype(str)


class BasePredictor(BaseEstimator):  # type: ignore[misc]
    """Shared validation; subclasses implement ``_fit`` and ``_predict_pair(context, perturbation) -> effects``."""

    #: Whether the method regresses on effect sizes (a label-only table is refused rather than predicting 0/0).
    needs_effects: bool = False
    #: Whether a query is placed through its target gene's own column (then a target that is not a measured
    #: gene cannot be placed: such queries get the fallback prediction and are listed in ``unplaced_``).
    places_by_target: bool = False
    #: Reads the edge signs of ``prior`` (``EdgeScores.signs``: curated activation/repression, signed hypotheses).
    #: Only ``graph`` does: ``context_transfer`` and ``knn`` use the prior's magnitudes (neighbourhoods), where the
    #: learned weights carry the direction.
    uses_signs: bool = False

    def fit(self, effects: EffectTable, adata: Any = None, prior: EdgeScores | None = None,
            features: GeneFeatures | None = None) -> BasePredictor:  # fmt: skip
        """Learn from an EffectTable; ``adata`` (expression), ``prior`` (a graph) and ``features`` (gene features
        from knowledge, :class:`~aitia.types.features.GeneFeatures`) are used by the predictors that can."""
        if not isinstance(effects, EffectTable):
            raise DataValidationError(f"fit() expects an EffectTable, got {type(effects).__name__}.")
        if not effects.observed.any():
            raise DataValidationError(
                "The training EffectTable has no observed (context, perturbation) pairs."
            )
        if self.needs_effects and not effects.effects_known:
            raise DataValidationError(
                f"{type(self).__name__} learns from effect sizes, and this table has labels only; use 'knn' with "
                "gene features (fit(..., features=gene_features(genes))) or 'mean'."
            )
        self.genes_ = list(effects.genes)
        # contexts with observations (a held-out context may still be on the table's axis)
        seen_ctx = np.asarray(effects.observed.any(axis=1)).tolist()
        self.contexts_ = [c for c, seen in zip(effects.contexts, seen_ctx) if seen]
        self.train_ = effects
        self.prior_ = None
        if prior is not None:
            if not isinstance(prior, EdgeScores):
                raise DataValidationError(f"prior must be EdgeScores, got {type(prior).__name__}.")
            self.prior_ = prior
        if features is not None and not isinstance(features, GeneFeatures):
            raise DataValidationError(f"features must be GeneFeatures, got {type(features).__name__}.")
        self.features_ = features
        self._fit(effects, adata)
        return self

    def _fit(self, effects: EffectTable, adata: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(effect, label-score) arrays of shape (len(q), G)."""
        raise NotImplementedError  # pragma: no cover

    def predict(self, queries: Any) -> EffectTable:
        """Predicted effects and DE probabilities (label column) for every queried (context, perturbation)."""
        if not hasattr(
            self, "train_"
        ):  # fitted state ends in "_" (scikit-learn's check_is_fitted convention)
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(effects) first.")
        q = as_queries(queries)
        if q.empty:
            raise DataValidationError("No queries.")
        eff, lab = self._predict(q)
        if self.places_by_target:
            genes = set(self.genes_)
            self.unplaced_ = sorted(
                {p for p in q["perturbation"] if not any(t in genes for t in target_of(p))}
            )
            if self.unplaced_:
                logger.warning(
                    "%s: %d of %d queried perturbations target genes that are not measured readouts (e.g. %s); "
                    "they get the fallback prediction",
                    type(self).__name__, len(self.unplaced_), q["perturbation"].nunique(), self.unplaced_[:3],
                )  # fmt: skip
        bad = int(np.isnan(lab).sum())
        if bad:  # a bug or an input the method cannot handle: never pass NaN on as a prediction
            raise DataValidationError(f"{type(self).__name__} predicted NaN for {bad} (query, gene) labels.")
        contexts = list(dict.fromkeys(q["context"]))
        perts = list(dict.fromkeys(q["perturbation"]))
        ci = q["context"].map({c: i for i, c in enumerate(contexts)}).to_numpy()
        pi = q["perturbation"].map({p: i for i, p in enumerate(perts)}).to_numpy()
        last = (
            ~pd.Series(ci * len(perts) + pi).duplicated(keep="last").to_numpy()
        )  # a repeated query: its last row
        return EffectTable.from_rows(contexts, perts, list(self.genes_), ci[last], pi[last],
                                     np.asarray(eff)[last], np.asarray(lab)[last],
                                     meta={"predictor": type(self).__name__})  # fmt: skip


def quiet_nanmean(a: np.ndarray, axis: Any = None) -> np.ndarray:
    """nanmean without the 'mean of empty slice' warning (all-NaN slices give NaN)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)


def quiet_nanmedian(a: np.ndarray, axis: Any = None) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=axis)


def gene_index(genes: list[str]) -> dict[str, int]:
    return {g: i for i, g in enumerate(genes)}


def target_of(perturbation: str) -> list[str]:
    return [t for t in perturbation.split("+") if t and t != "control"]


def top_svd(matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top-``k`` singular triplets ``(U, S, Vt)``: randomized (seeded) for large matrices, where a full SVD of
    a genes x perturbations table costs minutes and gigabytes for the 10-16 components used; exact otherwise."""
    k = max(1, min(k, min(matrix.shape)))
    if min(matrix.shape) > 4 * k + 10:
        from sklearn.utils.extmath import randomized_svd

        return randomized_svd(matrix, n_components=k, n_iter=7, random_state=0)  # type: ignore[no-any-return]
    u, s_, vt = np.linalg.svd(matrix, full_matrices=False)
    return u[:, :k], s_[:k], vt[:k]
