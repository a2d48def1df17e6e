"""Exceptions a user (or an LLM calling a tool) can fix; each message says how."""

from __future__ import annotations


class AitiaError(Exception):
    """Base class of every error aitia raises on purpose."""


class DataValidationError(AitiaError, ValueError):
    """Perturbation data, a table or a file does not follow the expected layout."""


class UnknownDatasetError(AitiaError, KeyError):
    """A dataset name is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class UnknownGeneError(AitiaError, KeyError):
    """A gene symbol could not be resolved or is not measured."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NotFittedError(AitiaError, AttributeError):
    """An estimator was used before ``fit``."""
