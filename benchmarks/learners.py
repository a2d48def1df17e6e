"""Causal structure learners on real and simulated data: one table of dataset x method -> AUROC, AUPRC, time, memory.

Suites (run all by default, or pick with --suite):
  kemmeren   25 MRCL instances; train on the revealed 20% labels, score the held-out 80% (diagonal excluded); the
             data hold no deletion row of a held-out source; 3 seeds; baselines: label propensity, random; controls
             that must fail: supervised trained on permuted revealed labels, propensity with the breadth prior on
             permuted gene names.
  kemmeren-unlabelled
             the published protocol also gives deletion rows nobody labelled (200 non-node deletions, not shipped);
             emulated: per instance and seed, 20 random held-out deletions enter as unlabelled data rows and AUROC is
             scored on the other 20 held-out sources only; 3 seeds (which 20); baseline: label propensity on the
             same pairs; control that must fail: the unlabelled rows' gene columns permuted; ":row-wise" rows drop
             the revealed deletions from the data too (the published row-wise protocol).
  sachs      vs the 18-edge consensus graph (unsupervised, or trained on labels derived from the interventions)
             and, for unsupervised methods, vs the interventional truth.
  dream4     5 networks of 100 genes; knockout-derived labels for genes G1..G50 (their knockouts/knockdowns kept),
             knockouts/knockdowns of G51..G100 removed from the data; scored against the gold graph on sources G51..G100.
  simulated  negative-binomial SCM at p = 100, 1,000 (and 5,000 with --large); 10% of genes perturbed; labels derived
             from the interventions; scored against the true graph on pairs whose source was NOT perturbed.
  priors     simulated p = 100: no prior, noisy prior (30% of true edges replaced by random non-edges), true prior.
Each (dataset, method) runs in a fresh process so peak memory is its own.

    python benchmarks/learners.py [--suite kemmeren kemmeren-unlabelled sachs dream4 simulated priors] [--large] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure, print_table  # noqa: E402

NO_INT = {"use_interventions": False}


def _learner(method: str, device: str, small: bool = False):
    from aitia.causal import learners

    name, _, variant = method.partition(":")
    kw = dict(NO_INT) if "no-int" in variant else {}
    if "struct" in variant:
        kw["use_label_structure"] = True
    if variant == "paper":
        kw["settings"] = "paper"
    if name in ("deep", "notears"):
        kw["device"] = device
    if name == "ensemble":
        kw["learners"] = (
            ("correlation", "mrcl", "supervised", "deep") if small else ("correlation", "supervised", "deep")
        )
    return learners.get(name, **kw)


def run_kemmeren(method: str, device: str = "cpu", seeds: int = 3) -> dict:
    """Mean AUROC over the 25 leak-free instances (the default load has no deletion row of a held-out source),
    per seed; ``auroc`` is the mean over seeds, ``sd_seeds`` the seed-to-seed sd, ``sd_inst`` the sd over instances.
    Baselines: ``label-propensity`` (how often the target responds among the revealed labels) and ``random``."""
    from aitia import datasets
    from aitia.causal.baselines import label_propensity_scores, random_scores
    from aitia.causal.evaluate import edge_metrics
    from aitia.knowledge.breadth import breadth_prior
    from aitia.types.graph import EdgeScores

    per_seed, per_inst, ap = [], [], []
    deterministic = method in ("label-propensity", "correlation", "partial_correlation", "pc", "propensity",
                               "propensity:labels-only", "propensity+breadth")  # fmt: skip
    for seed in range(1 if deterministic else seeds):
        au = []
        for i in range(25):
            adata = datasets.load("kemmeren-mrcl", instance=i)
            genes = list(adata.var_names)
            train = datasets.ground_truth("kemmeren-mrcl", "train", instance=i)
            test = datasets.ground_truth("kemmeren-mrcl", "test", instance=i)
            if method == "label-propensity":
                scores = label_propensity_scores(train, genes)
            elif method == "random":
                scores = random_scores(genes, seed=1000 * seed + i)
            elif method.startswith(
                "propensity"
            ):  # label structure, with gene-description knowledge of sources
                prior = None
                if "breadth" in method:
                    prior = breadth_prior(genes, organism=datasets.info("kemmeren-mrcl").organism)
                    if (
                        "shuffled" in method
                    ):  # the control that must fail: knowledge attached to the wrong genes
                        perm = np.random.default_rng(1000 * seed + i).permutation(len(genes))
                        prior = EdgeScores(prior.values, [genes[k] for k in perm], name="shuffled breadth")
                est = _learner("propensity", device)
                est.set_params(use_data="labels-only" not in method)
                scores = est.fit(adata, labels=train, prior=prior).predict_scores()
            else:
                est = _learner(method.replace(":shuffled-labels", ""), device, small=True)
                if "random_state" in est.get_params():
                    est.set_params(random_state=seed)
                labels = train
                if method.endswith(
                    ":shuffled-labels"
                ):  # the control that must fail: revealed labels permuted
                    vals = train.values.copy()
                    known = ~np.isnan(vals)
                    vals[known] = np.random.default_rng(seed).permutation(vals[known])
                    labels = type(train)(vals, train.sources, train.targets, provenance="shuffled")
                scores = est.fit(adata, labels=labels).predict_scores()
            m = edge_metrics(scores, test)
            au.append(m.auroc)
            ap.append(m.auprc)
        per_seed.append(float(np.mean(au)))
        per_inst.append(float(np.std(au)))
    return _seed_summary(per_seed, per_inst, ap)


def run_kemmeren_unlabelled(method: str, device: str = "cpu", seeds: int = 3, n_unlabelled: int = 20) -> dict:
    """Kemmeren with unlabelled deletion rows (emulating the published protocol's non-node training deletions):
    per instance and seed, ``n_unlabelled`` held-out deletions enter the data without labels; AUROC on the other
    held-out sources. Methods: ``label-propensity``, ``propensity+breadth:ignore-unlabelled``,
    ``propensity+breadth``, the control ``propensity+breadth:shuffled-unlabelled``, and the ``:row-wise`` variants
    (no revealed deletion in the data)."""
    from aitia import datasets
    from aitia.causal.baselines import label_propensity_scores
    from aitia.causal.evaluate import edge_metrics
    from aitia.datasets.builtin import kemmeren_unlabelled_split
    from aitia.knowledge.breadth import breadth_prior

    per_seed, per_inst, ap, thresholds = [], [], [], []
    for seed in range(seeds):
        au = []
        for i in range(25):
            # ":row-wise": the published row-wise protocol, no revealed deletion in the data
            adata, train, scored, extra = kemmeren_unlabelled_split(
                i, n_unlabelled, seed, with_revealed=":row-wise" not in method
            )
            genes = [str(g) for g in adata.var_names]
            # the control that must fail: shifts on the wrong genes
            if method.endswith(":shuffled-unlabelled"):
                rows = np.isin(adata.obs["perturbation"].astype(str).to_numpy(), extra)
                x = np.asarray(adata.X).copy()
                x[rows] = x[rows][:, np.random.default_rng([seed, i]).permutation(len(genes))]
                adata.X = x
            if method == "label-propensity":
                scores = label_propensity_scores(train, genes)
            else:
                prior = breadth_prior(genes, organism=datasets.info("kemmeren-mrcl").organism)
                est = _learner("propensity", device)
                est.set_params(use_unlabelled="ignore-unlabelled" not in method)
                scores = est.fit(adata, labels=train, prior=prior).predict_scores()
                if est.unlabelled_threshold_ is not None:
                    thresholds.append(est.unlabelled_threshold_)
            m = edge_metrics(scores, scored)
            au.append(m.auroc)
            ap.append(m.auprc)
        per_seed.append(float(np.nanmean(au)))
        per_inst.append(float(np.nanstd(au)))
    out = _seed_summary(per_seed, per_inst, ap)
    if thresholds:  # where the unlabelled rows' |z| threshold landed (sd units; the labels are 5 IQR = 6.7)
        out["threshold"] = (
            f"{np.mean(thresholds):.1f} [{np.percentile(thresholds, 10):.1f}, {np.percentile(thresholds, 90):.1f}]"
        )
    return out


def _seed_summary(per_seed: list[float], per_inst: list[float], ap: list[float]) -> dict:
    """Mean AUROC over seeds, mean AUPRC, the seed-to-seed sd and the mean sd over instances."""
    return {"auroc": float(np.mean(per_seed)), "auprc": float(np.nanmean(ap)), "sd_seeds": float(np.std(per_seed)),
            "sd_inst": float(np.mean(per_inst)), "seeds": len(per_seed)}  # fmt: skip


def run_sachs(method: str, device: str = "cpu") -> dict:
    from aitia import datasets
    from aitia.causal.evaluate import dataset_truth, edge_metrics

    adata = datasets.load("sachs")
    truth = dataset_truth(adata)
    est = _learner(method, device, small=True)
    labels = truth.labels if est.uses_labels else None
    scores = est.fit(adata, labels=labels).predict_scores()
    cons = edge_metrics(scores, datasets.ground_truth("sachs", "consensus"))
    out = {"auroc": cons.auroc, "auprc": cons.auprc}
    if not est.uses_labels:
        out["auroc_vs_interventional"] = edge_metrics(scores, truth).auroc
    return out


def run_dream4(method: str, device: str = "cpu") -> dict:
    from aitia import datasets
    from aitia.causal.evaluate import dataset_truth, edge_metrics
    from aitia.types.graph import EdgeLabels

    au, ap = [], []
    for net in range(1, 6):
        adata = datasets.load(f"dream4-100-{net}")
        genes = list(adata.var_names)
        train_src, test_src = set(genes[:50]), genes[50:]
        drop = adata.obs["perturbation"].isin(test_src).to_numpy()
        data = adata[~drop].copy()
        truth = dataset_truth(data)  # the dataset's own rule: robust z against all samples
        lab = truth.labels
        keep = np.array([s in train_src for s in lab.sources])
        labels = EdgeLabels(lab.values[keep], [s for s in lab.sources if s in train_src], lab.targets)
        est = _learner(method, device)
        scores = est.fit(data, labels=labels if est.uses_labels else None).predict_scores()
        gold = EdgeLabels.from_graph(datasets.ground_truth(f"dream4-100-{net}"), genes)
        rows = [genes.index(s) for s in test_src]
        test = EdgeLabels(gold.values[rows], test_src, genes)
        m = edge_metrics(scores, test)
        au.append(m.auroc)
        ap.append(m.auprc)
    return {"auroc": float(np.mean(au)), "auprc": float(np.mean(ap)), "auroc_sd": float(np.std(au))}


def _simulated(p: int, seed: int = 0):
    from aitia.causal.simulate import simulate_nb

    n_pert = max(10, p // 10)
    cells = min(60_000, 5000 + n_pert * (100 if p <= 1000 else 40))
    return simulate_nb(
        n_genes=p, n_cells=cells, n_perturbations=n_pert, control_fraction=5000 / cells, seed=seed
    )


def _eval_unperturbed_sources(scores, adata, graph):
    from aitia.causal.evaluate import edge_metrics
    from aitia.types.graph import EdgeLabels

    genes = list(adata.var_names)
    perturbed = set(adata.uns["aitia"]["targets"])
    free = [g for g in genes if g not in perturbed]
    gold = EdgeLabels.from_graph(graph, genes)
    test = EdgeLabels(gold.values[[genes.index(g) for g in free]], free, genes)
    return edge_metrics(scores, test)


def run_simulated(method: str, p: int = 100, device: str = "cpu") -> dict:
    adata, graph = _simulated(p)
    t0 = time.perf_counter()
    est = _learner(method, device)
    if hasattr(est, "progress"):
        est.set_params(progress=False)
    scores = (
        est.fit(adata).predict_scores()
        if est.uses_labels or method.startswith(("correlation", "partial"))
        else est.fit(adata).predict_scores()
    )
    fit_s = time.perf_counter() - t0
    m = _eval_unperturbed_sources(scores, adata, graph)
    return {"auroc": m.auroc, "auprc": m.auprc, "fit_predict_s": fit_s, "cells": adata.n_obs}


def run_priors(method: str, prior_kind: str, device: str = "cpu") -> dict:
    from aitia.types.graph import CausalGraph

    adata, graph = _simulated(100, seed=1)
    genes = list(adata.var_names)
    rng = np.random.default_rng(0)
    prior = None
    if prior_kind != "none":
        edges = list(graph.edges)
        if prior_kind == "noisy":
            noisy = []
            existing = set(edges)
            for e in edges:
                if rng.random() < 0.3:
                    while True:
                        a, b = rng.choice(genes, 2, replace=False)
                        if (a, b) not in existing:
                            noisy.append((a, b))
                            existing.add((a, b))
                            break
                else:
                    noisy.append(e)
            edges = noisy
        prior = CausalGraph.from_edges(edges, nodes=genes).to_scores(genes)
    est = _learner(method, device)
    if method == "correlation":
        est.set_params(prior_weight=0.5)
    scores = est.fit(adata, prior=prior).predict_scores()
    m = _eval_unperturbed_sources(scores, adata, graph)
    return {"auroc": m.auroc, "auprc": m.auprc}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", nargs="+", default=["kemmeren", "sachs", "dream4", "simulated", "priors"])
    ap.add_argument("--large", action="store_true", help="also p = 5,000 in the simulated suite")
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=None, help="simulated sizes (default 100 1000 [5000])"
    )
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--methods", nargs="+", default=None, help="only these methods (e.g. supervised deep)")
    args = ap.parse_args()
    rows = []

    def add(dataset: str, method: str, fn, **kw) -> None:
        if args.methods and method not in args.methods:
            return
        try:
            r = measure(fn, method=method, device=args.device, **kw)
        except Exception as exc:  # noqa: BLE001 - a failing method is reported, not fatal
            rows.append({"dataset": dataset, "method": method, "auroc": float("nan"), "auprc": float("nan"),
                         "extra": f"failed: {exc}"[:60], "time_s": float("nan"), "peak_mem_mb": float("nan")})  # fmt: skip
            print(f"{dataset} {method}: failed: {exc}", flush=True)
            return
        extra = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()
                          if k not in ("auroc", "auprc", "time_s", "peak_mem_mb", "baseline_mem_mb"))  # fmt: skip
        rows.append({"dataset": dataset, "method": method, "auroc": r["auroc"], "auprc": r["auprc"], "extra": extra,
                     "time_s": r["time_s"], "peak_mem_mb": r["peak_mem_mb"]})  # fmt: skip
        print(f"{dataset:28s} {method:22s} AUROC {r['auroc']:.3f} AUPRC {r['auprc']:.3f} {r['time_s']:.1f}s "
              f"{r['peak_mem_mb']:.0f}MB {extra}", flush=True)  # fmt: skip

    if "kemmeren" in args.suite:
        for m in ["label-propensity", "random", "propensity:labels-only", "propensity", "propensity+breadth",
                  "propensity+breadth:shuffled-names", "correlation", "partial_correlation", "pc", "boss", "notears", "mrcl", "mrcl:paper",
                  "supervised:no-int", "supervised", "supervised:struct", "supervised:shuffled-labels", "deep:no-int",
                  "deep", "ensemble"]:  # fmt: skip
            add("kemmeren-mrcl (25 inst.)", m, run_kemmeren)
    if "kemmeren-unlabelled" in args.suite:
        for m in ["label-propensity", "propensity+breadth:ignore-unlabelled", "propensity+breadth",
                  "propensity+breadth:shuffled-unlabelled", "propensity+breadth:row-wise,ignore-unlabelled",
                  "propensity+breadth:row-wise"]:  # fmt: skip
            add("kemmeren-mrcl, 20 unlabelled deletions", m, run_kemmeren_unlabelled)
    if "sachs" in args.suite:
        for m in [
            "correlation",
            "partial_correlation",
            "pc",
            "ges",
            "boss",
            "notears",
            "mrcl",
            "supervised",
            "deep",
            "ensemble",
        ]:
            add("sachs vs consensus", m, run_sachs)
    if "dream4" in args.suite:
        for m in ["correlation", "partial_correlation", "boss", "notears", "supervised", "deep", "ensemble"]:
            add("dream4-100 (5 nets)", m, run_dream4)
    if "simulated" in args.suite:
        sizes = args.sizes or ([100, 1000, 5000] if args.large else [100, 1000])
        for p in sizes:
            methods = ["correlation", "supervised", "deep"] + (
                ["pc", "notears", "partial_correlation"] if p <= 100 else []
            )
            for m in methods:
                add(f"simulated NB p={p}", m, run_simulated, p=p)
    if "priors" in args.suite:
        for kind in ("none", "noisy", "true"):
            for m in ("correlation", "supervised", "deep"):
                add(f"simulated p=100, prior={kind}", m, run_priors, prior_kind=kind)
    print_table("causal structure learners (AUROC/AUPRC; time and peak memory per process)", rows)


if __name__ == "__main__":
    main()
