"""Evaluation of hypotheses: against interventional truth (direct and ancestral), calibration, and the gain when
the hypotheses are used as a prior by a learner.

Example:
    >>> from aitia import datasets
    >>> from aitia.knowledge.hypotheses import HypothesisGenerator
    >>> hs = HypothesisGenerator(backend="none").generate(["Raf", "Mek", "Erk"])   # doctest: +SKIP
    >>> evaluate_hypotheses(hs, {"consensus": datasets.ground_truth("sachs")}).metrics["consensus"].auroc  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import networkx as nx
from anndata import AnnData
from pydantic import BaseModel, ConfigDict, Field

from ..causal.evaluate import calibration, edge_metrics
from ..causal.metrics import Calibration, EdgeMetrics
from ..errors import DataValidationError
from ..knowledge.hypotheses import HypothesisSet
from ..types.graph import CausalGraph


class PriorGain(BaseModel):
    """AUROC of one learner without and with the hypotheses as its prior, against one truth."""

    model_config = ConfigDict(extra="forbid")

    without: float = Field(description="AUROC of the learner alone.")
    with_hypotheses: float = Field(description="AUROC of the learner with the hypotheses as prior.")


class HypothesisEvaluation(BaseModel):
    """How good a set of hypotheses is, by truth."""

    model_config = ConfigDict(extra="forbid")

    metrics: dict[str, EdgeMetrics] = Field(
        description="Edge metrics of the hypothesis probabilities per truth; graph truths are also scored "
        "ancestrally (their transitive closure) under '<name>-ancestral'."
    )
    calibration: dict[str, Calibration] = Field(
        default_factory=dict,
        description="Calibration of the probabilities per truth (where both classes occur).",
    )
    learner: str | None = Field(default=None, description="Learner of the prior-gain experiment.")
    prior_gain: dict[str, PriorGain] = Field(
        default_factory=dict, description="Per truth: the learner's AUROC without and with the hypotheses."
    )


def evaluate_hypotheses(
    hypotheses: HypothesisSet,
    truths: dict[str, Any],
    adata: AnnData | None = None,
    learner: str = "correlation",
    labels: Any = None,
) -> HypothesisEvaluation:
    """Metrics of the hypothesis probabilities against each truth, calibration, and prior gain.

    Args:
        hypotheses: the hypotheses (their genes define the score matrix).
        truths: name -> gold graph, EdgeLabels or InterventionalTruth.
        adata: data for the prior-gain experiment (same gene names as the hypotheses).
        learner: the learner used with and without the hypotheses as prior.
        labels: labels passed to the learner.
    """
    scores = hypotheses.to_scores()
    metrics: dict[str, EdgeMetrics] = {}
    calib: dict[str, Calibration] = {}
    for name, truth in truths.items():
        metrics[name] = edge_metrics(scores, truth)
        try:
            calib[name] = calibration(scores, truth)
        except DataValidationError:  # calibration needs both classes among the scored pairs
            pass
        if isinstance(truth, nx.DiGraph):
            metrics[f"{name}-ancestral"] = edge_metrics(scores, CausalGraph(truth).ancestral_closure())
    out = HypothesisEvaluation(metrics=metrics, calibration=calib)
    if adata is not None:
        from ..causal import learners

        base = learners.get(learner).fit(adata, labels=labels).predict_scores()
        with_prior = learners.get(learner).fit(adata, prior=scores, labels=labels).predict_scores()
        out.learner = learner
        out.prior_gain = {
            name: PriorGain(
                without=edge_metrics(base, truth).auroc, with_hypotheses=edge_metrics(with_prior, truth).auroc
            )
            for name, truth in truths.items()
        }
    return out
