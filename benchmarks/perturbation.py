"""Perturbation-effect predictors vs the mean and linear baselines, on three splits, with time and peak memory.

Data: a simulated 4-context NB SCM (200 genes, 60 knockdowns; prior = the true graph with 30% of edges replaced by
random ones), DREAM4-100 network 1 (contexts knockout / knockdown), kemmeren-mrcl instance 0 (one context).
Metrics (PerturbQA protocol): per-gene AUROC of DE labels across held-out perturbations, direction accuracy on DE
pairs, Pearson r on each perturbation's top-20 DE genes. Plus a scale check of context_transfer on a
4 contexts x 2,000 perturbations x 5,000 genes tensor.

    python benchmarks/perturbation.py [--skip-scale] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure, print_table  # noqa: E402


def _data(name: str):
    from aitia import datasets
    from aitia.causal.effects import effects_for_dataset, effects_from_adata

    if name == "simulated":
        from aitia.causal.simulate import simulate_nb
        from aitia.types.graph import CausalGraph

        adata, graph = simulate_nb(n_genes=200, n_cells=40_000, n_perturbations=60, n_contexts=4, knockdown_factor=0.15,
                                   seed=11)  # fmt: skip
        genes = list(adata.var_names)
        rng = np.random.default_rng(0)
        edges = [
            e if rng.random() >= 0.3 else tuple(rng.choice(genes, 2, replace=False)) for e in graph.edges
        ]
        prior = CausalGraph.from_edges(edges, nodes=genes).to_scores(genes)
        return effects_from_adata(adata), adata, prior
    if name == "dream4-100-1":
        return effects_for_dataset(name), datasets.load(name), None
    return effects_for_dataset("kemmeren-mrcl"), datasets.load("kemmeren-mrcl", instance=0), None


def run(dataset: str, method: str, kind: str, device: str = "cpu") -> dict:
    from aitia.causal import perturbation as P

    effects, adata, prior = _data(dataset)
    kw = {"device": device} if method == "context_transfer" else {}
    res = []
    for seed in range(3):
        t0 = time.perf_counter()
        m = P.evaluate_predictor(P.get(method, **kw), effects, kind, adata=adata, prior=prior, seed=seed)
        res.append((m, time.perf_counter() - t0))
    return {
        "per_gene_auroc": float(np.nanmean([m.per_gene_auroc for m, _ in res])),
        "direction_acc": float(np.nanmean([m.direction_accuracy for m, _ in res])),
        "top_de_pearson": float(np.nanmean([m.top_de_pearson for m, _ in res])),
        "fit_s": float(np.mean([t for _, t in res])),
    }


def run_scale(device: str = "cpu", C: int = 4, P_: int = 2000, G: int = 5000) -> dict:
    from aitia.causal import perturbation as P
    from aitia.causal.effects import EffectTable

    rng = np.random.default_rng(0)
    k = 8
    U, V = rng.normal(size=(P_, k)), rng.normal(size=(G, k)) / np.sqrt(k)
    scale = np.exp(rng.normal(0, 0.3, (C, 1, 1)))
    eff = (scale * (U @ V.T)[None] + rng.normal(0, 0.5, (C, P_, G))).astype(np.float32)
    lab = (np.abs(eff) > 2.0).astype(np.float32)
    genes = [f"g{i}" for i in range(G)]
    table = EffectTable([f"c{c}" for c in range(C)], [genes[i] for i in range(P_)], genes, eff, lab)
    del eff, lab
    t0 = time.perf_counter()
    train, q = P.split(table, "unseen_pair", seed=0)
    est = P.get("context_transfer", epochs=200, device=device).fit(train)
    fit_s = time.perf_counter() - t0
    m = P.evaluate_predictions(est.predict(q.head(200)), table)
    return {"per_gene_auroc": m.per_gene_auroc, "direction_acc": m.direction_accuracy, "top_de_pearson": m.top_de_pearson,
            "fit_s": fit_s}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    rows = []
    plan = [("simulated", ["unseen_perturbation", "unseen_pair", "leave_one_context_out"]),
            ("dream4-100-1", ["unseen_perturbation", "unseen_pair", "leave_one_context_out"]),
            ("kemmeren-mrcl", ["unseen_perturbation"])]  # fmt: skip
    for dataset, kinds in plan:
        for kind in kinds:
            for method in ("mean", "linear", "graph", "context_transfer", "ensemble", "knn"):
                try:
                    r = measure(run, dataset=dataset, method=method, kind=kind, device=args.device)
                except Exception as exc:  # noqa: BLE001
                    print(f"{dataset} {kind} {method}: failed: {exc}", flush=True)
                    continue
                row = {"dataset": dataset, "split": kind, "method": method, **{k: r[k] for k in
                       ("per_gene_auroc", "direction_acc", "top_de_pearson", "fit_s", "peak_mem_mb")}}  # fmt: skip
                rows.append(row)
                print(row, flush=True)
    if not args.skip_scale:
        r = measure(run_scale, device=args.device)
        rows.append({"dataset": "synthetic 4x2000x5000", "split": "unseen_pair", "method": "context_transfer",
                     **{k: r[k] for k in ("per_gene_auroc", "direction_acc", "top_de_pearson", "fit_s", "peak_mem_mb")}})  # fmt: skip
    print_table("perturbation-effect prediction (mean of 3 seeds; fit_s = split+fit+predict)", rows)


if __name__ == "__main__":
    main()
