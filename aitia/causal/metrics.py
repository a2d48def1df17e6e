"""Metrics for edge scores and graphs against labels, gold graphs or interventional truth.

Example:
    >>> import numpy as np
    >>> from aitia.types.graph import EdgeScores, CausalGraph
    >>> s = EdgeScores(np.array([[0, .9, .2], [.1, 0, .8], [.3, .4, 0]]), ["A", "B", "C"])
    >>> m = edge_metrics(s, CausalGraph.from_edges([("A", "B"), ("B", "C")]))
    >>> m.auroc
    1.0
"""

from __future__ import annotations

import logging
from typing import Any, TypeAlias

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sklearn.metrics import average_precision_score, roc_auc_score

from ..errors import DataValidationError
from ..types.graph import CausalGraph, EdgeLabels, EdgeScores
from .truth import InterventionalTruth

logger = logging.getLogger(__name__)

Truth: TypeAlias = "EdgeLabels | nx.DiGraph | InterventionalTruth"


class EdgeMetrics(BaseModel):
    """Ranking metrics of edge scores against known labels."""

    model_config = ConfigDict(extra="forbid")

    auroc: float = Field(description="Area under the ROC curve (0.5 = random).")
    auprc: float = Field(description="Average precision (area under the precision-recall curve).")
    auprc_random: float = Field(description="AUPRC of a random ranking = fraction of positives.")
    auprc_ratio: float = Field(description="AUPRC / AUPRC of a random ranking.")
    precision_at_k: float = Field(description="Precision of the k top-scored labelled pairs.")
    k: int = Field(description="k used for precision@k (default: number of positives).")
    n_pairs: int = Field(description="Labelled pairs evaluated.")
    n_positive: int = Field(description="Positive pairs among them.")
    n_unscored: int = Field(description="Labelled pairs outside the scores' genes (dropped).")


class GraphMetrics(BaseModel):
    """Agreement of a selected edge set with a true graph."""

    model_config = ConfigDict(extra="forbid")

    precision: float
    recall: float
    f1: float
    shd: int = Field(description="Structural Hamming distance: additions + deletions + reversals.")
    n_predicted: int
    n_true: int


class CausalBenchStatistics(BaseModel):
    """The CausalBench statistical evaluation of a predicted edge set (Chevalley et al. 2025)."""

    model_config = ConfigDict(extra="forbid")

    mean_wasserstein: float = Field(
        description="Mean Wasserstein distance of predicted edges A->B (higher better)."
    )
    true_positive_rate: float = Field(
        description="Fraction of evaluable predicted edges with a significant shift."
    )
    false_omission_rate: float = Field(
        description="Fraction of sampled non-edges that show a significant shift."
    )
    n_evaluable: int = Field(description="Predicted edges whose source was intervened on.")
    n_negatives: int = Field(description="Non-edges sampled for the false omission rate.")


class Calibration(BaseModel):
    """Calibration of probabilities against labels."""

    model_config = ConfigDict(extra="forbid")

    brier: float
    ece: float = Field(description="Expected calibration error over equal-width bins.")
    bin_mean_predicted: list[float]
    bin_fraction_positive: list[float]
    bin_count: list[int]


def as_labels(truth: Truth, genes: list[str] | None = None) -> EdgeLabels:
    """Turn a gold graph, EdgeLabels or InterventionalTruth into EdgeLabels."""
    if isinstance(truth, EdgeLabels):
        return truth
    if isinstance(truth, InterventionalTruth):
        return truth.labels
    if isinstance(truth, nx.DiGraph):
        return EdgeLabels.from_graph(truth, genes=genes)
    raise DataValidationError(
        f"Truth must be EdgeLabels, a graph or InterventionalTruth, not {type(truth).__name__}."
    )


def scored_pairs(
    scores: EdgeScores, truth: Truth, exclude_diagonal: bool = True
) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores and labels of every labelled pair that the scores cover; NaN scores rank lowest."""
    labels = as_labels(truth, genes=scores.genes if isinstance(truth, nx.DiGraph) else None)
    flat, y = labels.aligned(scores.genes, exclude_diagonal=exclude_diagonal)
    total = int((~np.isnan(labels.values)).sum())
    if exclude_diagonal:
        common = set(labels.sources) & set(labels.targets)
        s_idx = {s: i for i, s in enumerate(labels.sources)}
        t_idx = {t: j for j, t in enumerate(labels.targets)}
        total -= sum(1 for g in common if not np.isnan(labels.values[s_idx[g], t_idx[g]]))
    s = scores.values.ravel()[flat]
    if np.isnan(s).any():
        low = np.nanmin(s) - 1.0 if (~np.isnan(s)).any() else 0.0
        s = np.where(np.isnan(s), low, s)
    return s, y, total - len(y)


def edge_metrics(
    scores: EdgeScores, truth: Truth, k: int | None = None, exclude_diagonal: bool = True
) -> EdgeMetrics:
    """AUROC, AUPRC (and ratio to random) and precision@k of ``scores`` on the labelled pairs of ``truth``.

    Args:
        scores: edge scores.
        truth: EdgeLabels, a gold graph (all ordered pairs over the scores' genes) or InterventionalTruth.
        k: precision@k cut-off (default: number of positives).
        exclude_diagonal: ignore i -> i pairs (e.g. a knocked-out gene's own expression).
    """
    s, y, n_unscored = scored_pairs(scores, truth, exclude_diagonal)
    n_pos = int(y.sum())
    if len(y) == 0:
        raise DataValidationError("No labelled pairs overlap the scored genes; check gene names match.")
    if n_pos == 0 or n_pos == len(y):
        logger.warning("Only one class among %d labelled pairs; AUROC/AUPRC undefined", len(y))
        auroc = auprc = float("nan")
    else:
        auroc = float(roc_auc_score(y, s))
        auprc = float(average_precision_score(y, s))
    prev = n_pos / len(y)
    k = int(k if k is not None else max(n_pos, 1))
    order = np.argsort(-s, kind="stable")[:k]
    return EdgeMetrics(
        auroc=auroc,
        auprc=auprc,
        auprc_random=prev,
        auprc_ratio=auprc / prev if prev > 0 else float("nan"),
        precision_at_k=float(y[order].mean()) if len(order) else float("nan"),
        k=k,
        n_pairs=len(y),
        n_positive=n_pos,
        n_unscored=n_unscored,
    )


def _edge_state(g: nx.DiGraph, a: Any, b: Any) -> int:
    return int(g.has_edge(a, b)) + 2 * int(g.has_edge(b, a))


def shd(predicted: nx.DiGraph, true: nx.DiGraph) -> int:
    """Structural Hamming distance: unordered pairs whose edge state differs (a reversal counts once).

    Example:
        >>> shd(CausalGraph.from_edges([("A", "B")]), CausalGraph.from_edges([("B", "A"), ("B", "C")]))
        2
    """
    pairs = {frozenset(e) for e in predicted.edges if e[0] != e[1]} | {
        frozenset(e) for e in true.edges if e[0] != e[1]
    }
    total = 0
    for pair in pairs:
        a, b = sorted(pair)
        total += _edge_state(predicted, a, b) != _edge_state(true, a, b)
    return total


def graph_metrics(predicted: nx.DiGraph, true: nx.DiGraph) -> GraphMetrics:
    """Precision, recall, F1 of directed edges and SHD."""
    pe = {(a, b) for a, b in predicted.edges if a != b}
    te = {(a, b) for a, b in true.edges if a != b}
    tp = len(pe & te)
    precision = tp / len(pe) if pe else 0.0
    recall = tp / len(te) if te else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return GraphMetrics(
        precision=precision,
        recall=recall,
        f1=f1,
        shd=shd(predicted, true),
        n_predicted=len(pe),
        n_true=len(te),
    )


def causalbench_statistics(
    predicted: nx.DiGraph | list[tuple[str, str]],
    truth: InterventionalTruth,
    n_negatives: int = 500,
    seed: int = 0,
) -> CausalBenchStatistics:
    """Mean Wasserstein distance of predicted edges and false omission rate over sampled non-edges.

    For a predicted edge A -> B with A intervened on, the Wasserstein distance between B's distribution under
    the intervention and under control measures the edge's effect; the false omission rate is the fraction of
    randomly sampled non-predicted pairs (A intervened on) whose shift is significant.
    """
    edges = list(predicted.edges) if isinstance(predicted, nx.DiGraph) else list(predicted)
    gidx = {g: j for j, g in enumerate(truth.genes)}
    srcs = truth.groups["source"].to_numpy()
    group_labels = truth._group_labels()
    # per (source, target): max Wasserstein and any-significant over the source's groups
    src_rows: dict[str, np.ndarray] = {s: np.flatnonzero(srcs == s) for s in dict.fromkeys(srcs)}

    def pair_stats(a: str, b: str) -> tuple[float, bool] | None:
        if a not in src_rows or b not in gidx or a == b:
            return None
        rows = src_rows[a]
        j = gidx[b]
        return float(np.nanmax(truth.wasserstein[rows, j])), bool(group_labels[rows, j].any())

    evaluable = [r for r in (pair_stats(a, b) for a, b in edges) if r is not None]
    pred = set(edges)
    rng = np.random.default_rng(seed)
    sources = list(src_rows)
    negatives: list[bool] = []
    attempts = 0
    seen: set[tuple[str, str]] = set()
    while len(negatives) < n_negatives and attempts < 20 * n_negatives and sources:
        attempts += 1
        a = sources[rng.integers(len(sources))]
        b = truth.genes[rng.integers(len(truth.genes))]
        if (a, b) in pred or (a, b) in seen:
            continue
        r = pair_stats(a, b)
        if r is None:
            continue
        seen.add((a, b))
        negatives.append(r[1])
    return CausalBenchStatistics(
        mean_wasserstein=float(np.mean([w for w, _ in evaluable])) if evaluable else float("nan"),
        true_positive_rate=float(np.mean([s for _, s in evaluable])) if evaluable else float("nan"),
        false_omission_rate=float(np.mean(negatives)) if negatives else float("nan"),
        n_evaluable=len(evaluable),
        n_negatives=len(negatives),
    )


def calibration(
    scores: EdgeScores, truth: Truth, n_bins: int = 10, exclude_diagonal: bool = True
) -> Calibration:
    """Brier score and expected calibration error of probabilities in [0, 1]."""
    p, y, _ = scored_pairs(scores, truth, exclude_diagonal)
    if len(p) == 0:
        raise DataValidationError("No labelled pairs overlap the scored genes.")
    if (p < 0).any() or (p > 1).any():
        raise DataValidationError("Calibration needs probabilities in [0, 1]; these scores are not.")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    mean_p = np.bincount(bins, weights=p, minlength=n_bins) / np.maximum(count, 1)
    frac = np.bincount(bins, weights=y, minlength=n_bins) / np.maximum(count, 1)
    ece = float(np.sum(count / len(p) * np.abs(mean_p - frac)))
    return Calibration(
        brier=float(np.mean((p - y) ** 2)),
        ece=ece,
        bin_mean_predicted=mean_p.tolist(),
        bin_fraction_positive=frac.tolist(),
        bin_count=count.astype(int).tolist(),
    )


def ancestral_scores(graph: nx.DiGraph, genes: list[str] | None = None) -> EdgeScores:
    """0/1 scores of the transitive closure of a direct graph (for comparison with ancestral truth)."""
    cg = graph if isinstance(graph, CausalGraph) else CausalGraph(graph)
    closure = cg.ancestral_closure()
    genes = genes if genes is not None else [str(n) for n in graph.nodes]
    out = closure.to_scores(genes)
    out.values = (out.values > 0).astype(float)
    return out


def ancestral_metrics(graph: nx.DiGraph, truth: Truth, genes: list[str] | None = None) -> GraphMetrics:
    """Precision/recall of the transitive closure of ``graph`` against ancestral (e.g. interventional) truth.

    Only labelled pairs count: a pair unlabelled in ``truth`` is neither a hit nor a miss.
    """
    labels = as_labels(truth, genes)
    closure = CausalGraph(graph).ancestral_closure()
    s_idx = {s: i for i, s in enumerate(labels.sources)}
    t_idx = {t: j for j, t in enumerate(labels.targets)}
    pred, true = set(), set()
    for a in labels.sources:
        for b in labels.targets:
            if a == b:
                continue
            v = labels.values[s_idx[a], t_idx[b]]
            if np.isnan(v):
                continue
            if closure.has_edge(a, b):
                pred.add((a, b))
            if v == 1:
                true.add((a, b))
    tp = len(pred & true)
    precision = tp / len(pred) if pred else 0.0
    recall = tp / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    pg, tg = nx.DiGraph(list(pred)), nx.DiGraph(list(true))
    return GraphMetrics(
        precision=precision, recall=recall, f1=f1, shd=shd(pg, tg), n_predicted=len(pred), n_true=len(true)
    )
