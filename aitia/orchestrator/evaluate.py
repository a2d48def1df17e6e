"""Evaluation of hypotheses: against interventional truth (direct and ancestral), calibration, and the gain when
the hypotheses are used as a prior by a learner.

Example:
    >>> from aitia import datasets
    >>> from aitia.knowledge.hypotheses import HypothesisGenerator
    >>> hs = HypothesisGenerator(backend="none").generate(["Raf", "Mek", "Erk"])   # doctest: +SKIP
    >>> evaluate_hypotheses(hs, {"consensus": datasets.ground_truth("sachs")}).metrics["consensus"].auroc  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import Any

import networkx as nx
import numpy as np
from anndata import AnnData
from pydantic import BaseModel, ConfigDict, Field

from ..causal.evaluate import calibration, edge_metrics
from ..causal.metrics import Calibration, EdgeMetrics
from ..errors import DataValidationError
from ..knowledge.hypotheses import HypothesisSet
from ..types.graph import CausalGraph, EdgeScores

logger = logging.getLogger(__name__)


class PriorGain(BaseModel):
    """AUROC of one learner without and with the hypotheses as its prior, against one truth."""

    model_config = ConfigDict(extra="forbid")

    without: float = Field(description="AUROC of the learner alone.")
    with_hypotheses: float = Field(description="AUROC of the learner with the hypotheses as prior.")


class ControlScore(BaseModel):
    """A control's AUROC over several seeds."""

    model_config = ConfigDict(extra="forbid")

    mean: float = Field(description="Mean AUROC over seeds.")
    sd: float = Field(description="Standard deviation over seeds.")
    seeds: int = Field(description="Number of seeds.")


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
    shuffled_names: dict[str, ControlScore] = Field(
        default_factory=dict,
        description="Control that must fail: the same scores with gene names permuted, per truth (~0.5 expected; "
        "higher means the score leaks something other than knowledge about the named genes).",
    )
    prior_gain: dict[str, dict[str, PriorGain]] = Field(
        default_factory=dict,
        description="Per learner, per truth: AUROC without and with the hypotheses as prior.",
    )


#: Learners of the prior-gain experiment: those that need no labels (a supervised learner trained on interventional
#: labels would be scored against the truth its labels come from).
PRIOR_GAIN_LEARNERS = ("correlation", "partial_correlation", "pc", "ges", "notears")


def evaluate_hypotheses(
    hypotheses: HypothesisSet,
    truths: dict[str, Any],
    adata: AnnData | None = None,
    learners: tuple[str, ...] = PRIOR_GAIN_LEARNERS,
    labels: Any = None,
    control_seeds: int = 20,
) -> HypothesisEvaluation:
    """Metrics of the hypothesis probabilities against each truth, a shuffled-name control, calibration, and the
    prior gain of every learner (with vs without the hypotheses as prior, same seed).

    Args:
        hypotheses: the hypotheses (their genes define the score matrix).
        truths: name -> gold graph, EdgeLabels or InterventionalTruth.
        adata: data for the prior-gain experiment (same gene names as the hypotheses).
        learners: learners used with and without the hypotheses as prior (those that refuse the data are skipped).
        labels: labels passed to learners that use them.
        control_seeds: permutations of the gene names for the shuffled-name control.
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
    out = HypothesisEvaluation(
        metrics=metrics, calibration=calib, shuffled_names=_shuffled(scores, truths, control_seeds)
    )
    if adata is not None:
        from ..causal import learners as L
        from ..errors import AitiaError

        for learner in learners:
            try:
                est = L.get(learner)
                lab = labels if est.uses_labels else None
                base = L.get(learner).fit(adata, labels=lab).predict_scores()
                with_prior = L.get(learner).fit(adata, prior=scores, labels=lab).predict_scores()
            except AitiaError as exc:  # e.g. too many genes for pc / ges
                logger.info("prior gain: %s skipped (%s)", learner, exc)
                continue
            out.prior_gain[learner] = {
                name: PriorGain(
                    without=edge_metrics(base, t).auroc, with_hypotheses=edge_metrics(with_prior, t).auroc
                )
                for name, t in truths.items()
            }
    return out


def _shuffled(scores: EdgeScores, truths: dict[str, Any], seeds: int) -> dict[str, ControlScore]:
    """AUROC of the scores with their gene names permuted (the scores no longer refer to the genes they name)."""
    out: dict[str, ControlScore] = {}
    for name, truth in truths.items():
        values = []
        for seed in range(seeds):
            perm = np.random.default_rng(seed).permutation(len(scores.genes))
            shuffled = EdgeScores(scores.values, [scores.genes[i] for i in perm], name="shuffled-names")
            values.append(edge_metrics(shuffled, truth).auroc)
        out[name] = ControlScore(mean=float(np.nanmean(values)), sd=float(np.nanstd(values)), seeds=seeds)
    return out
