"""Causal graph types, evaluation against interventional data, simulators, learners and predictors."""

from __future__ import annotations

from ..types.graph import CausalGraph, EdgeLabels, EdgeScores

__all__ = ["CausalGraph", "EdgeLabels", "EdgeScores"]
