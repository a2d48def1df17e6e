"""Simulators of perturbation experiments with a known causal graph.

* :func:`simulate_nb` - a multiplicative-effect structural causal model with negative-binomial counts, after
  CausalRegNet (Kovacevic et al. 2024): a child's mean is its baseline mean times a calibrated sigmoid of its
  weighted, mean-normalised parents, ``mu_j = b_j * s_c * 2 * sigmoid(sum_i w_ij (x_i / (s_c b_i) - 1))``, so that at
  baseline parent levels the child sits at its baseline; knockouts fix a target's mean to 0, knockdowns scale it.
* :func:`simulate_linear_gaussian` - a linear-Gaussian SCM with the same perturbation design.

Both sample genes in topological generations (one sparse matrix product per generation, vectorised over cells)
and return ``(AnnData, CausalGraph)``; the graph's edges carry ``weight`` and ``sign``.

Example:
    >>> adata, graph = simulate_nb(n_genes=20, n_cells=500, n_perturbations=5, seed=1)
    >>> adata.n_vars, graph.number_of_nodes()
    (20, 20)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from ..datasets.registry import IN_SILICO
from ..datasets.validate import CONTROL
from ..errors import DataValidationError
from ..types.graph import CausalGraph

logger = logging.getLogger(__name__)

GraphKind = Literal["erdos_renyi", "scale_free"]
PerturbationKind = Literal["knockout", "knockdown"]


def random_dag(
    n_genes: int,
    kind: GraphKind = "erdos_renyi",
    expected_degree: float = 2.0,
    weight_range: tuple[float, float] = (0.5, 2.0),
    frac_negative: float = 0.3,
    seed: int = 0,
    gene_prefix: str = "G",
) -> CausalGraph:
    """A random DAG with signed weights on its edges.

    Args:
        n_genes: nodes.
        kind: ``erdos_renyi`` (each pair in a random order is an edge with probability degree / (p - 1))
            or ``scale_free`` (Barabasi-Albert preferential attachment, oriented old -> new so hubs are regulators).
        expected_degree: expected number of parents + children per node.
        weight_range: |weight| drawn uniformly from this range.
        frac_negative: fraction of repressive (negative) edges.
        seed: random seed.
        gene_prefix: node names are ``f"{gene_prefix}{i}"``.

    Example:
        >>> g = random_dag(50, "scale_free", seed=0)
        >>> nx.is_directed_acyclic_graph(g)
        True
    """
    if n_genes < 2:
        raise DataValidationError(f"A DAG needs at least 2 genes, got {n_genes}.")
    rng = np.random.default_rng(seed)
    names = [f"{gene_prefix}{i}" for i in range(n_genes)]
    order = rng.permutation(n_genes)
    if kind == "erdos_renyi":
        n_edges = rng.binomial(n_genes * (n_genes - 1) // 2, min(1.0, expected_degree / (n_genes - 1)))
        # sample pairs (a < b in the causal order) without materialising all p^2 pairs
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < n_edges:
            a = rng.integers(0, n_genes, size=2 * (n_edges - len(pairs)) + 8)
            b = rng.integers(0, n_genes, size=a.size)
            for u, v in zip(a, b):
                if u != v:
                    pairs.add((min(u, v), max(u, v)))
                    if len(pairs) >= n_edges:
                        break
        edges = [(order[u], order[v]) for u, v in pairs]
    elif kind == "scale_free":
        m = max(1, int(round(expected_degree / 2)))
        ba = nx.barabasi_albert_graph(n_genes, m, seed=int(seed))
        edges = [(order[min(u, v)], order[max(u, v)]) for u, v in ba.edges]
    else:
        raise DataValidationError(f"Graph kind {kind!r} not recognised. Options: erdos_renyi, scale_free.")
    g = CausalGraph(name=f"{kind}-{n_genes}")
    g.add_nodes_from(names)
    lo, hi = weight_range
    for u, v in edges:
        w = rng.uniform(lo, hi) * (-1.0 if rng.random() < frac_negative else 1.0)
        g.add_edge(
            names[u],
            names[v],
            weight=float(w),
            sign=int(np.sign(w)),
            score=1.0,
            sources=["simulator"],
            evidence=[],
        )
    return g


def _weights(
    graph: nx.DiGraph, genes: list[str], rng: np.random.Generator, default: tuple[float, float]
) -> sp.csc_matrix:
    idx = {g: i for i, g in enumerate(genes)}
    rows, cols, vals = [], [], []
    for a, b, d in graph.edges(data=True):
        w = d.get("weight")
        if w is None:
            w = rng.uniform(*default) * (d.get("sign", 1) or 1)
        rows.append(idx[a])
        cols.append(idx[b])
        vals.append(float(w))
    p = len(genes)
    return sp.csc_matrix((vals, (rows, cols)), shape=(p, p), dtype=np.float32)


def _design(
    genes: list[str],
    graph: nx.DiGraph,
    n_cells: int,
    n_perturbations: int,
    targets: Sequence[str] | None,
    control_fraction: float,
    n_contexts: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per cell: context index and target index (-1 = control)."""
    if not 0 < control_fraction < 1:
        raise DataValidationError(f"control_fraction must be in (0, 1), got {control_fraction}.")
    if targets is None:
        n_perturbations = min(n_perturbations, len(genes))
        # prefer genes with children so that perturbations have visible effects
        with_children = [g for g in genes if graph.out_degree(g) > 0]
        others = [g for g in genes if graph.out_degree(g) == 0]
        pool = list(rng.permutation(with_children)) + list(rng.permutation(others))
        targets = [str(t) for t in pool[:n_perturbations]]
    else:
        unknown = [t for t in targets if t not in set(genes)]
        if unknown:
            raise DataValidationError(f"Perturbation targets not in the graph: {unknown[:10]}.")
        targets = list(targets)
    context = np.repeat(np.arange(n_contexts), int(np.ceil(n_cells / n_contexts)))[:n_cells]
    target = np.full(n_cells, -1, dtype=np.int64)
    for c in range(n_contexts):
        cells = np.flatnonzero(context == c)
        n_ctrl = int(round(len(cells) * control_fraction))
        perturbed = cells[n_ctrl:]
        if len(targets):
            target[perturbed] = np.arange(len(perturbed)) % len(targets)
    gidx = {g: i for i, g in enumerate(genes)}
    target = np.where(target >= 0, np.array([gidx[t] for t in targets] + [0])[target], -1)
    return context, target, targets


def _check_graph(graph: nx.DiGraph) -> list[str]:
    if not nx.is_directed_acyclic_graph(graph):
        cycle = nx.find_cycle(graph)
        raise DataValidationError(f"The graph must be acyclic; found a cycle {cycle[:5]}.")
    return [str(n) for n in graph.nodes]


def simulate_nb(
    graph: nx.DiGraph | None = None,
    n_genes: int = 100,
    n_cells: int = 5000,
    n_perturbations: int = 20,
    targets: Sequence[str] | None = None,
    perturbation: PerturbationKind = "knockdown",
    knockdown_factor: float = 0.2,
    control_fraction: float = 0.2,
    n_contexts: int = 1,
    context_mean_sd: float = 0.3,
    context_dispersion_sd: float = 0.2,
    context_weight_change: float = 0.1,
    graph_kind: GraphKind = "erdos_renyi",
    expected_degree: float = 2.0,
    mean_log_baseline: float = 1.5,
    sd_log_baseline: float = 1.0,
    dispersion: float = 2.0,
    size_factor_sd: float = 0.2,
    seed: int = 0,
) -> tuple[AnnData, CausalGraph]:
    """Single-cell counts from a multiplicative negative-binomial SCM (CausalRegNet-style).

    Args:
        graph: a DAG over gene names (edge attribute ``weight`` optional); default: :func:`random_dag`.
        n_genes, graph_kind, expected_degree: the random DAG when ``graph`` is None.
        n_cells: total cells over all contexts.
        n_perturbations: number of distinct single-gene perturbations (ignored when ``targets`` is given).
        targets: genes to perturb.
        perturbation: ``knockdown`` (mean scaled by ``knockdown_factor``) or ``knockout`` (mean fixed to 0).
        control_fraction: fraction of each context's cells left unperturbed (``"control"``).
        n_contexts: cell lines / conditions sharing the graph; each differs in baseline means (log-normal noise with
            sd ``context_mean_sd``), dispersions (sd ``context_dispersion_sd``) and a fraction
            ``context_weight_change`` of edge weights (redrawn).
        mean_log_baseline, sd_log_baseline: log-normal baseline means (counts per cell).
        dispersion: NB size parameter (larger = closer to Poisson); varies per gene.
        size_factor_sd: per-cell library size variation (log scale).
        seed: random seed.

    Returns:
        ``(adata, graph)``: counts in ``X`` (sparse CSR, float32), ``obs`` with perturbation, context and
        intervention_type; ``var["baseline_mean"]``; the true graph with weights (of context 0).
    """
    rng = np.random.default_rng(seed)
    if graph is None:
        graph = random_dag(n_genes, graph_kind, expected_degree, seed=seed)
    genes = _check_graph(graph)
    if perturbation not in ("knockdown", "knockout"):
        raise DataValidationError(
            f"perturbation {perturbation!r} not recognised. Options: knockdown, knockout."
        )
    factor = 0.0 if perturbation == "knockout" else float(knockdown_factor)
    p = len(genes)
    gidx = {g: i for i, g in enumerate(genes)}
    w0 = _weights(graph, genes, rng, (0.5, 2.0))
    generations = [np.array(sorted(gidx[g] for g in gen)) for gen in nx.topological_generations(graph)]
    base = np.exp(rng.normal(mean_log_baseline, sd_log_baseline, p)).astype(np.float32)
    theta = (dispersion * np.exp(rng.normal(0, 0.3, p))).astype(np.float32)
    context, target, target_names = _design(
        genes, graph, n_cells, n_perturbations, targets, control_fraction, n_contexts, rng
    )
    size = np.exp(rng.normal(0, size_factor_sd, n_cells)).astype(np.float32)

    counts = np.zeros((n_cells, p), dtype=np.float32)
    for c in range(n_contexts):
        cells = np.flatnonzero(context == c)
        if c == 0:
            b_c, th_c, w_c = base, theta, w0
        else:
            b_c = (base * np.exp(rng.normal(0, context_mean_sd, p))).astype(np.float32)
            th_c = (theta * np.exp(rng.normal(0, context_dispersion_sd, p))).astype(np.float32)
            w_c = w0.copy()
            change = rng.random(w_c.nnz) < context_weight_change
            w_c.data[change] = (rng.uniform(0.5, 2.0, change.sum()) * np.sign(w_c.data[change])).astype(
                np.float32
            )
        counts[cells] = _sample_nb_context(
            b_c, th_c, w_c, generations, size[cells], target[cells], factor, rng
        )
    obs = pd.DataFrame(
        {
            "perturbation": np.where(
                target >= 0, np.asarray(genes, dtype=object)[np.maximum(target, 0)], CONTROL
            ),
            "context": np.array([f"ctx{c}" for c in range(n_contexts)])[context],
            "intervention_type": np.where(target >= 0, perturbation, CONTROL),
            "size_factor": size,
        },
        index=[f"cell{i}" for i in range(n_cells)],
    )
    var = pd.DataFrame({"baseline_mean": base, "dispersion": theta}, index=genes)
    adata = AnnData(sp.csr_matrix(counts), obs=obs, var=var)
    adata.uns["aitia"] = {
        "dataset": "simulated-nb",
        "organism": IN_SILICO,
        "simulator": "multiplicative negative-binomial SCM (CausalRegNet-style)",
        "seed": seed,
        "perturbation": perturbation,
        "knockdown_factor": factor,
        "targets": target_names,
        "n_edges": graph.number_of_edges(),
    }
    true = CausalGraph(graph) if not isinstance(graph, CausalGraph) else graph
    return adata, true


def _sample_nb_context(
    b: np.ndarray,
    theta: np.ndarray,
    w: sp.csc_matrix,
    generations: list[np.ndarray],
    size: np.ndarray,
    target: np.ndarray,
    factor: float,
    rng: np.random.Generator,
) -> np.ndarray:
    n, p = len(size), len(b)
    # column-major: each gene's cells are contiguous, so gathering a generation's parents is cheap
    x = np.zeros((n, p), dtype=np.float32, order="F")
    ratio = np.zeros(
        (n, p), dtype=np.float32, order="F"
    )  # x / (s * b) - 1, the mean-normalised parent signal
    perturbed_cells = {int(t): np.flatnonzero(target == t) for t in np.unique(target[target >= 0])}
    for gen in generations:
        sub = w[:, gen]  # parents x children (csc)
        parents = np.unique(sub.indices)
        if len(parents):
            z = ratio[:, parents] @ sub[parents].toarray()
        else:
            z = np.zeros((n, len(gen)), np.float32)
        mu = b[gen][None, :] * size[:, None] * (2.0 / (1.0 + np.exp(-z)))
        for k, gene in enumerate(gen):
            cells = perturbed_cells.get(int(gene))
            if cells is not None:
                mu[cells, k] *= factor
        th = theta[gen][None, :]
        prob = th / (th + mu)
        xs = rng.negative_binomial(np.broadcast_to(th, mu.shape), prob).astype(np.float32)
        x[:, gen] = xs
        ratio[:, gen] = np.minimum(xs / (size[:, None] * b[gen][None, :]) - 1.0, 10.0)
    return x


def simulate_linear_gaussian(
    graph: nx.DiGraph | None = None,
    n_genes: int = 50,
    n_cells: int = 2000,
    n_perturbations: int = 10,
    targets: Sequence[str] | None = None,
    perturbation: PerturbationKind = "knockout",
    knockdown_factor: float = 0.2,
    control_fraction: float = 0.3,
    n_contexts: int = 1,
    graph_kind: GraphKind = "erdos_renyi",
    expected_degree: float = 2.0,
    noise_sd: tuple[float, float] = (0.5, 1.5),
    seed: int = 0,
) -> tuple[AnnData, CausalGraph]:
    """A linear-Gaussian SCM ``x_j = c_j + sum_i w_ij x_i + e_j``; knockout = do(x_j = 0), knockdown scales x_j.

    Example:
        >>> ad, g = simulate_linear_gaussian(n_genes=10, n_cells=300, seed=0)
        >>> ad.X.shape
        (300, 10)
    """
    rng = np.random.default_rng(seed)
    if graph is None:
        graph = random_dag(n_genes, graph_kind, expected_degree, seed=seed)
    genes = _check_graph(graph)
    factor = 0.0 if perturbation == "knockout" else float(knockdown_factor)
    p = len(genes)
    gidx = {g: i for i, g in enumerate(genes)}
    w = _weights(graph, genes, rng, (0.5, 2.0))
    wt = w.T.tocsr()
    generations = [np.array(sorted(gidx[g] for g in gen)) for gen in nx.topological_generations(graph)]
    sd = rng.uniform(*noise_sd, p).astype(np.float32)
    # intercepts keep means away from 0, so a knockout (x = 0) shifts its target and descendants
    offset = np.repeat(rng.uniform(1.0, 3.0, (1, p)), n_contexts, axis=0).astype(np.float32)
    offset[1:] += rng.normal(0, 1.0, (n_contexts - 1, p)).astype(np.float32)
    context, target, target_names = _design(
        genes, graph, n_cells, n_perturbations, targets, control_fraction, n_contexts, rng
    )
    x = np.zeros((n_cells, p), np.float32)
    for gen in generations:
        sub = wt[gen]
        mean = np.asarray((sub @ x.T).T) if sub.nnz else 0.0
        xs = mean + offset[context][:, gen] + rng.normal(0, 1, (n_cells, len(gen))) * sd[gen]
        for k, gene in enumerate(gen):
            xs[target == gene, k] *= factor
        x[:, gen] = xs
    obs = pd.DataFrame(
        {
            "perturbation": np.where(
                target >= 0, np.asarray(genes, dtype=object)[np.maximum(target, 0)], CONTROL
            ),
            "context": np.array([f"ctx{c}" for c in range(n_contexts)])[context],
            "intervention_type": np.where(target >= 0, perturbation, CONTROL),
        },
        index=[f"cell{i}" for i in range(n_cells)],
    )
    adata = AnnData(x, obs=obs, var=pd.DataFrame({"noise_sd": sd}, index=genes))
    adata.uns["aitia"] = {"dataset": "simulated-linear-gaussian", "organism": IN_SILICO, "seed": seed,
                          "targets": target_names}  # fmt: skip
    return adata, (graph if isinstance(graph, CausalGraph) else CausalGraph(graph))
