"""Evaluation of hypotheses: against interventional truth (direct and ancestral), calibration, and the gain when
the hypotheses are used as a prior by a learner."""

from __future__ import annotations

from typing import Any

import networkx as nx
from anndata import AnnData

from ..causal.evaluate import calibration, edge_metrics
from ..knowledge.hypotheses import HypothesisSet
from ..types.graph import CausalGraph


def evaluate_hypotheses(
    hypotheses: HypothesisSet,
    truths: dict[str, Any],
    adata: AnnData | None = None,
    learner: str = "correlation",
    labels: Any = None,
) -> dict[str, Any]:
    """Metrics of the hypothesis probabilities against each truth, calibration, and prior gain.

    Args:
        hypotheses: the hypotheses (their genes define the score matrix).
        truths: name -> gold graph, EdgeLabels or InterventionalTruth. A graph is also scored ancestrally
            (its transitive closure) under ``<name>-ancestral``.
        adata: data for the prior-gain experiment (same gene names as the hypotheses).
        learner: the learner used with and without the hypotheses as prior.
        labels: labels passed to the learner.
    """
    scores = hypotheses.to_scores()
    out: dict[str, Any] = {"metrics": {}, "calibration": {}}
    for name, truth in truths.items():
        out["metrics"][name] = edge_metrics(scores, truth).model_dump()
        try:
            out["calibration"][name] = calibration(scores, truth).model_dump()
        except Exception:  # noqa: BLE001 - calibration needs both classes and probabilities
            pass
        if isinstance(truth, nx.DiGraph):
            closure = CausalGraph(truth).ancestral_closure()
            out["metrics"][f"{name}-ancestral"] = edge_metrics(scores, closure).model_dump()
    if adata is not None:
        from ..causal import learners

        gain = {}
        base = learners.get(learner).fit(adata, labels=labels).predict_scores()
        with_prior = learners.get(learner).fit(adata, prior=scores, labels=labels).predict_scores()
        for name, truth in truths.items():
            gain[name] = {
                "without": edge_metrics(base, truth).auroc,
                "with_hypotheses": edge_metrics(with_prior, truth).auroc,
            }
        out["prior_gain"] = {"learner": learner, **gain}
    return out
