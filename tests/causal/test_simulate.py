import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from aitia.causal.simulate import random_dag, simulate_linear_gaussian, simulate_nb
from aitia.errors import DataValidationError
from aitia.types.graph import CausalGraph


@pytest.mark.parametrize("kind", ["erdos_renyi", "scale_free"])
def test_random_dag(kind):
    g = random_dag(200, kind, expected_degree=2.0, seed=1)
    assert nx.is_directed_acyclic_graph(g)
    assert 100 < g.number_of_edges() < 320
    signs = {d["sign"] for _, _, d in g.edges(data=True)}
    assert signs == {1, -1}
    if kind == "scale_free":
        outdeg = sorted((d for _, d in g.out_degree()), reverse=True)
        assert outdeg[0] >= 8  # hubs


def test_nb_layout_and_baseline(small_nb):
    adata, graph = small_nb
    assert sp.issparse(adata.X) and adata.shape == (5000, 30)
    x = adata.X.toarray()
    assert (x >= 0).all() and np.allclose(x, np.round(x))
    ctrl = x[(adata.obs.perturbation == "control").to_numpy()]
    roots = [i for i, g in enumerate(adata.var_names) if graph.in_degree(g) == 0]
    # roots sit at their baseline mean (size factors average ~1)
    ratio = ctrl[:, roots].mean(0) / adata.var.baseline_mean.to_numpy()[roots]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.15)


def test_nb_recovers_known_effects():
    """Knocking down a parent moves each child in the direction of the edge weight's sign."""
    g = CausalGraph.from_edges(
        [("P", "UP", {"weight": 2.0}), ("P", "DOWN", {"weight": -2.0})], nodes=["P", "UP", "DOWN", "FREE"]
    )
    adata, _ = simulate_nb(g, n_cells=4000, targets=["P"], knockdown_factor=0.1, control_fraction=0.5, seed=0)
    x = adata.X.toarray()
    kd = (adata.obs.perturbation == "P").to_numpy()
    ctrl = ~kd
    mean = lambda m, j: x[m, list(adata.var_names).index(j)].mean()  # noqa: E731
    assert mean(kd, "P") < 0.2 * mean(ctrl, "P")
    assert mean(kd, "UP") < 0.6 * mean(ctrl, "UP")
    assert mean(kd, "DOWN") > 1.3 * mean(ctrl, "DOWN")
    assert mean(kd, "FREE") == pytest.approx(mean(ctrl, "FREE"), rel=0.15)


def test_knockout_zeroes_target():
    adata, graph = simulate_nb(n_genes=20, n_cells=600, n_perturbations=4, perturbation="knockout", seed=2)
    for t in adata.uns["aitia"]["targets"]:
        rows = (adata.obs.perturbation == t).to_numpy()
        assert adata[rows, t].X.sum() == 0


def test_contexts_share_graph_but_differ():
    adata, _ = simulate_nb(n_genes=40, n_cells=3000, n_perturbations=5, n_contexts=3, seed=4)
    assert set(adata.obs.context) == {"ctx0", "ctx1", "ctx2"}
    x = adata.X.toarray()
    means = [
        x[(adata.obs.context == c).to_numpy() & (adata.obs.perturbation == "control").to_numpy()].mean(0)
        for c in ("ctx0", "ctx1")
    ]
    assert not np.allclose(means[0], means[1], rtol=0.05)
    assert set(adata.obs.perturbation[adata.obs.context == "ctx1"]) == set(
        adata.obs.perturbation[adata.obs.context == "ctx0"]
    )


def test_linear_gaussian_knockout():
    g = CausalGraph.from_edges([("A", "B", {"weight": 1.5})])
    adata, _ = simulate_linear_gaussian(g, n_cells=2000, targets=["A"], seed=0)
    x = np.asarray(adata.X)
    ko = (adata.obs.perturbation == "A").to_numpy()
    assert np.allclose(x[ko, 0], 0)
    # B's mean drops by weight * mean(A) under do(A = 0)
    drop = x[~ko, 1].mean() - x[ko, 1].mean()
    assert drop == pytest.approx(1.5 * x[~ko, 0].mean(), rel=0.15)


def test_seed_determinism_and_errors():
    a1, _ = simulate_nb(n_genes=10, n_cells=200, seed=5)
    a2, _ = simulate_nb(n_genes=10, n_cells=200, seed=5)
    assert (a1.X != a2.X).nnz == 0
    cyc = CausalGraph.from_edges([("A", "B"), ("B", "A")])
    with pytest.raises(DataValidationError, match="acyclic"):
        simulate_nb(cyc)
    with pytest.raises(DataValidationError, match="not in the graph"):
        simulate_nb(n_genes=5, targets=["Q"])
