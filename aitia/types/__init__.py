"""Shared types every layer speaks: edge scores, labels, graphs and effect tables.

Example:
    >>> from aitia.types import EdgeScores
    >>> EdgeScores.__name__
    'EdgeScores'
"""

from __future__ import annotations

from .effects import EffectTable
from .features import GeneFeatures
from .graph import CausalGraph, EdgeLabels, EdgeScores, read_edge_table

__all__ = ["CausalGraph", "EdgeLabels", "EdgeScores", "EffectTable", "GeneFeatures", "read_edge_table"]
