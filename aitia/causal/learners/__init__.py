"""Causal structure learners: scikit-learn-style estimators that take perturbation data, a prior and labels.

Example:
    >>> from aitia.causal import learners
    >>> learners.available()  # doctest: +NORMALIZE_WHITESPACE
    ['correlation', 'partial_correlation', 'pc', 'ges', 'boss', 'notears', 'mrcl', 'supervised', 'deep', 'ensemble',
     'propensity']
    >>> learners.get("correlation", method="spearman").method
    'spearman'
"""

from __future__ import annotations

from typing import Any

from ...registry import create
from .base import BaseLearner
from .causallearn_adapter import BOSSLearner, GESLearner, PCLearner, causallearn_to_scores
from .correlation import CorrelationLearner, PartialCorrelationLearner
from .deep import DeepLearner
from .ensemble import EnsembleLearner
from .mrcl import MRCLLearner
from .notears import NotearsLearner
from .propensity import PropensityLearner
from .supervised import SupervisedLearner

_REGISTRY: dict[str, type[BaseLearner]] = {
    "correlation": CorrelationLearner,
    "partial_correlation": PartialCorrelationLearner,
    "pc": PCLearner,
    "ges": GESLearner,
    "boss": BOSSLearner,
    "notears": NotearsLearner,
    "mrcl": MRCLLearner,
    "supervised": SupervisedLearner,
    "deep": DeepLearner,
    "ensemble": EnsembleLearner,
    "propensity": PropensityLearner,
}


def available() -> list[str]:
    """Registered learner names."""
    return list(_REGISTRY)


def get(name: str, **kwargs: Any) -> BaseLearner:
    """A new learner by name, with keyword arguments passed to its constructor."""
    return create(_REGISTRY, name, "Learner", **kwargs)  # type: ignore[no-any-return]


def register(name: str, cls: type[BaseLearner]) -> None:
    """Register a custom learner class under ``name``."""
    _REGISTRY[name] = cls


__all__ = [
    "BOSSLearner",
    "BaseLearner",
    "CorrelationLearner",
    "DeepLearner",
    "EnsembleLearner",
    "GESLearner",
    "MRCLLearner",
    "NotearsLearner",
    "PCLearner",
    "PartialCorrelationLearner",
    "PropensityLearner",
    "SupervisedLearner",
    "available",
    "causallearn_to_scores",
    "get",
    "register",
]
