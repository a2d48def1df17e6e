"""Perturbation-effect predictors: what does perturbing A do to every gene, in contexts never measured together?

Example:
    >>> from aitia.causal import perturbation
    >>> perturbation.available()
    ['mean', 'linear', 'graph', 'context_transfer', 'ensemble', 'knn']
"""

from __future__ import annotations

from typing import Any

from ...registry import create
from .base import BasePredictor, as_queries
from .context_transfer import ContextTransferPredictor
from .ensemble import EnsemblePredictor
from .evaluate import (
    SPLITS,
    PerturbationMetrics,
    evaluate_predictions,
    evaluate_predictor,
    per_gene_auroc,
    split,
)
from .graph_predictor import GraphPredictor
from .knn import KNNPredictor
from .scorecard import ExpressionScorecard, expression_scorecard, split_half_effects
from .simple import LinearPredictor, MeanPredictor

_REGISTRY: dict[str, type[BasePredictor]] = {
    "mean": MeanPredictor,
    "linear": LinearPredictor,
    "graph": GraphPredictor,
    "context_transfer": ContextTransferPredictor,
    "ensemble": EnsemblePredictor,
    "knn": KNNPredictor,
}


def available() -> list[str]:
    return list(_REGISTRY)


def get(name: str, **kwargs: Any) -> BasePredictor:
    """A new predictor by name."""
    return create(_REGISTRY, name, "Predictor", **kwargs)  # type: ignore[no-any-return]


__all__ = [
    "SPLITS",
    "ExpressionScorecard",
    "expression_scorecard",
    "split_half_effects",
    "BasePredictor",
    "ContextTransferPredictor",
    "EnsemblePredictor",
    "GraphPredictor",
    "KNNPredictor",
    "LinearPredictor",
    "MeanPredictor",
    "PerturbationMetrics",
    "as_queries",
    "available",
    "evaluate_predictions",
    "evaluate_predictor",
    "get",
    "per_gene_auroc",
    "split",
]
