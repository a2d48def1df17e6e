"""Evaluation entry point: ground truth from interventions and every metric (re-exported).

Example:
    >>> from aitia import datasets
    >>> from aitia.causal.evaluate import interventional_truth, edge_metrics
    >>> from aitia.causal.baselines import correlation_scores
    >>> ad = datasets.load("sachs")
    >>> round(edge_metrics(correlation_scores(ad), datasets.ground_truth("sachs")).auroc, 2) > 0.5
    True
"""

from __future__ import annotations

from .metrics import (
    Calibration,
    CausalBenchStatistics,
    EdgeMetrics,
    GraphMetrics,
    ancestral_metrics,
    ancestral_scores,
    as_labels,
    calibration,
    causalbench_statistics,
    edge_metrics,
    graph_metrics,
    scored_pairs,
    shd,
)
from .truth import InterventionalTruth, dataset_truth, dataset_truths, interventional_truth, truth_settings

__all__ = [
    "Calibration",
    "CausalBenchStatistics",
    "EdgeMetrics",
    "GraphMetrics",
    "InterventionalTruth",
    "ancestral_metrics",
    "ancestral_scores",
    "as_labels",
    "calibration",
    "causalbench_statistics",
    "dataset_truth",
    "dataset_truths",
    "edge_metrics",
    "graph_metrics",
    "interventional_truth",
    "scored_pairs",
    "shd",
    "truth_settings",
]
