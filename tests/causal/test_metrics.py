import numpy as np
import pytest

from aitia import datasets
from aitia.causal.baselines import correlation_scores, random_scores
from aitia.causal.evaluate import (
    ancestral_metrics,
    ancestral_scores,
    calibration,
    causalbench_statistics,
    edge_metrics,
    graph_metrics,
    interventional_truth,
    shd,
)
from aitia.errors import DataValidationError
from aitia.types.graph import CausalGraph, EdgeLabels, EdgeScores


def test_auroc_auprc_hand_computed():
    # labelled pairs: scores .9(+) .8(-) .7(+) .1(-)  -> AUROC = 3/4, AP = (1/1 + 2/3)/2
    s = EdgeScores(np.array([[0, 0.9, 0.8], [0.7, 0, 0.1], [np.nan, np.nan, 0]]), ["A", "B", "C"])
    lab = EdgeLabels(
        np.array([[np.nan, 1, 0], [1, np.nan, 0], [np.nan] * 3]), ["A", "B", "C"], ["A", "B", "C"]
    )
    m = edge_metrics(s, lab)
    assert m.auroc == pytest.approx(0.75)
    assert m.auprc == pytest.approx((1 + 2 / 3) / 2)
    assert m.auprc_random == pytest.approx(0.5) and m.auprc_ratio == pytest.approx(1 + 2 / 3)
    assert m.precision_at_k == pytest.approx(0.5) and m.k == 2
    assert m.n_pairs == 4


def test_gold_graph_truth_excludes_diagonal():
    s = EdgeScores(np.array([[5, 1, 0], [0, 5, 1], [0, 0, 5.0]]), ["A", "B", "C"])
    m = edge_metrics(s, CausalGraph.from_edges([("A", "B"), ("B", "C")]))
    assert m.auroc == 1.0 and m.n_pairs == 6


def test_shd_and_graph_metrics():
    true = CausalGraph.from_edges([("A", "B"), ("B", "C"), ("C", "D")])
    pred = CausalGraph.from_edges([("B", "A"), ("B", "C"), ("A", "D")])
    assert shd(pred, true) == 3  # reversal A-B, missing C-D, extra A-D
    gm = graph_metrics(pred, true)
    assert gm.precision == pytest.approx(1 / 3) and gm.recall == pytest.approx(1 / 3)


def test_calibration_hand_computed():
    s = EdgeScores(np.array([[0, 0.9], [0.1, 0]]), ["A", "B"])
    lab = EdgeLabels(np.array([[np.nan, 1], [1, np.nan]]), ["A", "B"], ["A", "B"])
    c = calibration(s, lab, n_bins=10)
    assert c.brier == pytest.approx((0.1**2 + 0.9**2) / 2)
    assert c.ece == pytest.approx(0.5 * 0.1 + 0.5 * 0.9)
    with pytest.raises(DataValidationError, match="probabilities"):
        calibration(EdgeScores(np.array([[0, 2.0], [0, 0]]), ["A", "B"]), lab)


def test_ancestral():
    g = CausalGraph.from_edges([("A", "B"), ("B", "C")])
    assert ancestral_scores(g)["A", "C"] == 1.0
    lab = EdgeLabels(np.array([[np.nan, 1, 1], [0, np.nan, 1]]), ["A", "B"], ["A", "B", "C"])
    m = ancestral_metrics(g, lab)
    assert m.precision == 1.0 and m.recall == 1.0


def test_sachs_correlation_beats_random_on_average(sachs):
    cons = datasets.ground_truth("sachs", "consensus")
    corr = edge_metrics(correlation_scores(sachs), cons).auroc
    rand = np.mean(
        [edge_metrics(random_scores(list(sachs.var_names), seed=s), cons).auroc for s in range(30)]
    )
    assert corr > rand
    assert 0.4 < rand < 0.6


def test_causalbench_statistics(small_nb):
    adata, graph = small_nb
    truth = interventional_truth(adata, progress=False)
    true_stats = causalbench_statistics(graph, truth, n_negatives=200)
    rng = np.random.default_rng(0)
    genes = list(adata.var_names)
    fake = [(genes[i], genes[j]) for i, j in rng.integers(0, len(genes), (60, 2)) if i != j]
    fake_stats = causalbench_statistics(fake, truth, n_negatives=200)
    assert true_stats.n_evaluable > 0
    assert true_stats.mean_wasserstein > fake_stats.mean_wasserstein
    assert true_stats.true_positive_rate > fake_stats.true_positive_rate
    assert 0 <= true_stats.false_omission_rate <= 1


def test_no_overlap_is_clear():
    s = EdgeScores(np.zeros((2, 2)), ["A", "B"])
    lab = EdgeLabels(np.array([[1.0]]), ["X"], ["Y"])
    with pytest.raises(DataValidationError, match="gene names"):
        edge_metrics(s, lab)
