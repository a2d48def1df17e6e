import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from anndata import AnnData
from scipy import stats

from aitia.causal.evaluate import interventional_truth
from aitia.errors import DataValidationError


def _toy(n_ctrl=60, n_pert=40, effect=2.0, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n_ctrl + 2 * n_pert, 3))
    if ties:
        x = np.round(x)  # heavy ties, like counts
    x[n_ctrl : n_ctrl + n_pert, 1] += effect  # A shifts B
    pert = ["control"] * n_ctrl + ["A"] * n_pert + ["C"] * n_pert
    obs = pd.DataFrame({"perturbation": pert}, index=[f"c{i}" for i in range(len(pert))])
    return AnnData(x, obs=obs, var=pd.DataFrame(index=["A", "B", "C"]))


@pytest.mark.parametrize("ties", [False, True])
def test_mannwhitney_matches_scipy(ties):
    ad = _toy(ties=ties)
    t = interventional_truth(ad, progress=False)
    x = ad.X
    ref = stats.mannwhitneyu(x[60:100], x[:60], axis=0)
    row = list(t.groups.source).index("A")
    np.testing.assert_allclose(t.pvalue[row], ref.pvalue, rtol=1e-4, atol=1e-12)
    assert t.labels.values[t.labels.sources.index("A"), 1] == 1
    assert t.labels.values[t.labels.sources.index("C"), 1] == 0


def test_ttest_matches_scipy():
    ad = _toy()
    t = interventional_truth(ad, method="ttest", correction="none", progress=False)
    ref = stats.ttest_ind(ad.X[60:100], ad.X[:60], equal_var=False, axis=0)
    np.testing.assert_allclose(t.pvalue[0], ref.pvalue, rtol=1e-4)
    np.testing.assert_allclose(t.qvalue[0], t.pvalue[0])


def test_bh_is_applied():
    t = interventional_truth(_toy(effect=0.3, seed=2), progress=False)
    p = t.pvalue.ravel().astype(float)
    np.testing.assert_allclose(t.qvalue.ravel(), stats.false_discovery_control(p), rtol=1e-5)


def test_effect_and_wasserstein_hand_computed():
    ad = _toy(effect=3.0)
    t = interventional_truth(ad, progress=False)
    row = list(t.groups.source).index("A")
    assert t.effect[row, 1] == pytest.approx(ad.X[60:100, 1].mean() - ad.X[:60, 1].mean(), rel=1e-5)
    w_ref = stats.wasserstein_distance(ad.X[60:100, 1], ad.X[:60, 1])
    assert t.wasserstein[row, 1] == pytest.approx(w_ref, rel=0.05)


def test_sparse_input_and_robust_z():
    ad = _toy()
    ad.X = sp.csr_matrix(np.abs(ad.X))
    t = interventional_truth(ad, method="robust_z", z_threshold=1.0, progress=False)
    assert t.params["method"] == "robust_z"
    assert t.labels.values.shape == (2, 3)


def test_simulated_descendants_recovered(small_nb):
    adata, graph = small_nb
    t = interventional_truth(adata, progress=False)
    desc = {(a, b) for a in graph.nodes for b in nx.descendants(graph, a)}
    labs = t.labels.to_frame()
    labs = labs[labs.source != labs.target]
    hits = labs[labs.label == 1]
    precision = np.mean([(a, b) in desc for a, b in zip(hits.source, hits.target)])
    # children expressed well enough to be measurable in ~150 cells
    base = dict(zip(adata.var_names, adata.var.baseline_mean))
    children = {(a, b) for a, b in graph.edges if a in set(t.labels.sources) and base[b] > 3}
    recall_children = np.mean([(a, b) in set(zip(hits.source, hits.target)) for a, b in children])
    assert precision > 0.7
    assert recall_children > 0.6


def test_errors():
    ad = _toy()
    with pytest.raises(DataValidationError, match="not recognised"):
        interventional_truth(ad, method="ks")
    with pytest.raises(DataValidationError, match="No testable"):
        interventional_truth(ad, min_cells=1000, progress=False)
    ad.obs["perturbation"] = ["A+C"] * ad.n_obs
    with pytest.raises(DataValidationError, match="No control"):
        interventional_truth(ad)


def test_lookup_and_frame():
    t = interventional_truth(_toy(), progress=False)
    row = t.lookup("A", "B")
    assert len(row) == 1 and row.qvalue.iloc[0] < 0.05
    assert set(t.to_frame(significant_only=True).label) == {1}
