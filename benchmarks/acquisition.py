"""Experiment choice vs random, over many seeds and data sets.

For each data set, seed and strategy: reveal one random intervened gene, then for R rounds fit the learners on the
controls plus the revealed interventions, score the graph, and let the strategy pick the next perturbation from the
unrevealed pool. Metric: area under the learning curve (mean AUROC over rounds 1..R) against the interventional truth
of the still-unrevealed perturbations, and against the reference graph where one exists. Reported: mean and 95% CI
over seeds, and the paired difference to `random` (same seeds, same first reveal) with a paired t-test. Control that
must fail: `information_gain` reading the score matrices under permuted gene names (it should match random).
Second objective (BioDiscoveryAgent-style): the fraction of strong effects (top 10% |effect| over candidate sources x
genes) whose perturbation has been revealed, averaged over rounds 1..R; random's expectation is revealed / pool.

Learners: |correlation| and |partial correlation| rank-averaged (fast enough for every seed; the loop's heavier
learners follow the same protocol). Data: sachs (6 intervened proteins), dream4-100 nets 1-5 (knockouts and
knockdowns of each gene as one candidate), simulated NB p=100 with 50 candidate knockdowns in 2 contexts,
kemmeren-mrcl instance 0 with all 50 deletions as the candidate pool (a deletion's row is unseen until revealed).

    python benchmarks/acquisition.py [--seeds 20] [--rounds 5] [--datasets sachs dream4 simulated kemmeren]
        [--learner correlation|propensity|supervised] [--fixed-pool 0.3] [--strategies ...] [--executor ray]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _data(name: str):
    from aitia import datasets
    from aitia.causal.evaluate import dataset_truth
    from aitia.causal.simulate import simulate_nb

    if name == "simulated":
        adata, graph = simulate_nb(n_genes=100, n_cells=12_000, n_perturbations=50, n_contexts=2, seed=3)
        return [("simulated NB p=100", adata, dataset_truth(adata), graph)]
    if name == "dream4":
        out = []
        for net in range(1, 6):
            ad = datasets.load(f"dream4-100-{net}")
            out.append(
                (f"dream4-100-{net}", ad, dataset_truth(ad), datasets.ground_truth(f"dream4-100-{net}"))
            )
        return out
    if name == "kemmeren":
        ad = datasets.load("kemmeren-mrcl", instance=0, rows="all")
        return [("kemmeren-mrcl[0]", ad, dataset_truth(ad), None)]
    ad = datasets.load("sachs")
    return [("sachs", ad, dataset_truth(ad), datasets.ground_truth("sachs"))]


def _breadth(label: str, adata):
    """The breadth prior (gene descriptions) for data of real genes (their organism from the data); None for
    in-silico networks and the simulation."""
    from aitia import datasets
    from aitia.knowledge.breadth import breadth_prior

    organism = datasets.organism_of(adata)
    if organism in (datasets.IN_SILICO, "unknown"):
        return None
    return breadth_prior([str(g) for g in adata.var_names], organism=organism)


#: arguments of the learners that learn from the revealed rows (one thread each: the sweep runs tasks side by side)
LEARNER_ARGS: dict[str, dict] = {"supervised": {"n_jobs": 1}}


def _strong_effects(truth, pool: list[str], quantile: float = 0.9) -> dict[str, int]:
    """Per candidate source: how many of its measured effects are strong (|effect| in the top 10% over every
    candidate source and gene, its own gene excluded): the discovery objective's targets."""
    eff = np.abs(np.nan_to_num(truth.effect))
    src = truth.groups["source"].to_numpy()
    per = {s: eff[src == s].max(axis=0) for s in pool}
    for s in pool:
        if s in truth.genes:
            per[s][truth.genes.index(s)] = 0.0
    cut = np.quantile(np.concatenate(list(per.values())), quantile)
    return {s: int((v >= cut).sum()) for s, v in per.items()}


def _curve(
    adata,
    truth,
    graph,
    strategy: str,
    seed: int,
    rounds: int,
    learner: str = "correlation",
    breadth=None,
    fixed_pool: float = 0.0,
) -> tuple[list[float], list[float], list[float]]:
    from aitia.causal import learners
    from aitia.causal.acquisition import get
    from aitia.causal.evaluate import edge_metrics
    from aitia.causal.learners.correlation import shrunk_precision
    from aitia.datasets.validate import split_targets
    from aitia.errors import DataValidationError
    from aitia.types import EdgeLabels, EdgeScores

    genes = [str(g) for g in adata.var_names]
    pert = adata.obs["perturbation"].astype(str).to_numpy()
    targets = [set(split_targets(p)) for p in pert]
    pool = [s for s in truth.labels.sources if s in set(genes)]
    base = np.array([not (t & set(pool)) for t in targets])  # controls and rows perturbing no candidate
    import scipy.sparse as sp

    x_all = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    x_all = np.asarray(x_all, dtype=np.float64)
    if x_all.min() >= 0 and x_all.max() > 50:  # counts: log-normalise
        x_all = np.log1p(x_all / np.maximum(x_all.sum(1, keepdims=True), 1) * 1e4)
    evaluation: set[str] = set()
    # a fixed evaluation pool, never offered: what is scored no longer depends on the picks
    if fixed_pool > 0:
        n_eval = max(2, int(round(fixed_pool * len(pool))))
        evaluation = {
            str(s) for s in np.random.default_rng(10_000 + seed).choice(pool, n_eval, replace=False)
        }
    candidates = [s for s in pool if s not in evaluation]
    rounds = min(rounds, len(candidates) - 1)
    rng = np.random.default_rng(seed)
    revealed = {str(rng.choice(candidates))}
    held_curve, gold_curve, found_curve = [], [], []
    strong = _strong_effects(truth, candidates)
    n_strong = max(sum(strong.values()), 1)
    lab = truth.labels
    for r in range(rounds + 1):
        rows = base | np.array([bool(t & revealed) for t in targets])
        x = x_all[rows]
        x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.abs(np.nan_to_num(np.corrcoef(x, rowvar=False)))
        prec = shrunk_precision(x)
        d = np.sqrt(np.clip(np.diag(prec), 1e-12, None))
        pcorr = np.abs(prec / np.outer(d, d))
        mats = [corr, pcorr]
        if learner != "correlation":  # learns from the revealed rows' labels and the data (and breadth prior)
            known = [i for i, s_ in enumerate(lab.sources) if s_ in revealed]
            rev_labels = EdgeLabels(lab.values[known], [lab.sources[i] for i in known], lab.targets)
            make = learners.get(learner, **LEARNER_ARGS.get(learner, {}))
            try:
                mats = [make.fit(adata[rows], labels=rev_labels, prior=breadth).predict_scores().values]
            except DataValidationError:  # one class revealed (a sachs row changes every protein): the
                pass  # classifier has nothing to learn yet; the round keeps the unsupervised scores
        ens = (
            EdgeScores(
                np.mean([m.argsort(axis=None).argsort().reshape(m.shape) for m in mats], axis=0), genes
            )
            if len(mats) > 1
            else EdgeScores(mats[0], genes)
        )
        held = [s for s in candidates if s not in revealed]
        scored = evaluation or set(held)
        if r > 0:
            keep = [i for i, s in enumerate(lab.sources) if s in scored]
            if keep:
                sub = EdgeLabels(lab.values[keep], [lab.sources[i] for i in keep], lab.targets)
                held_curve.append(edge_metrics(ens, sub).auroc)
            if graph is not None:
                gold_curve.append(edge_metrics(ens, graph).auroc)
            found_curve.append(sum(strong[s] for s in revealed) / n_strong)
        if r < rounds and held:
            name, _, control = strategy.partition(":")
            # the control that must fail: the strategy reads the matrices under permuted gene names
            names = (
                list(np.random.default_rng(seed + r).permutation(genes)) if control == "shuffled" else genes
            )
            pick = get(name, seed=1000 * seed + r).rank(mats, names, held, 1)[0]
            revealed.add(pick.perturbation)
    return held_curve, gold_curve, found_curve


def _sweep_task(task: tuple[str, int, int], entries: list, rounds: int, learner: str, priors: list,
                fixed_pool: float) -> tuple[float, float, float, list[float]]:  # fmt: skip
    """One (strategy, network, seed) curve of the sweep, as an executor task: its three areas under the curve and the
    held-out curve itself."""
    strategy, e, seed = task
    _label, adata, truth, graph = entries[e]
    h, g, f = _curve(adata, truth, graph, strategy, seed, min(rounds, len(truth.labels.sources) - 2), learner,
                     priors[e], fixed_pool)  # fmt: skip
    area = [float(np.nanmean(c)) if c else float("nan") for c in (h, g, f)]
    return area[0], area[1], area[2], [float(v) for v in h]


def main() -> None:
    from scipy import stats

    from aitia.causal.acquisition import available

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--datasets", nargs="+", default=["sachs", "dream4", "simulated", "kemmeren"])
    ap.add_argument("--strategies", nargs="+", default=None, help="a subset of the strategies (default: all)")
    ap.add_argument("--executor", default="local", help="local | ray (the sweep's tasks; identical results)")
    ap.add_argument("--fixed-pool", type=float, default=0.0,
                    help="score on a fixed random fraction of the candidates that is never offered (e.g. 0.3) "
                    "instead of on whatever is still unrevealed")  # fmt: skip
    ap.add_argument(
        "--learner",
        default="correlation",
        choices=["correlation", "propensity", "supervised"],
        help="correlation: |correlation| + |partial correlation| (unsupervised); propensity: learns from "
        "the revealed rows' labels and the data, with the breadth prior from gene descriptions; supervised: a "
        "classifier on pair features (correlations, shifts under the revealed interventions, the breadth prior) "
        "trained on the revealed rows' labels",
    )
    args = ap.parse_args()
    from aitia.executor import get_executor

    ex = get_executor(args.executor)
    scored = f"fixed pool ({args.fixed_pool:.0%} of candidates)" if args.fixed_pool > 0 else "held-out"
    print(
        f"| data | strategy | AULC {scored} (mean ± sd [95% CI]) | vs random (diff, paired p) | AULC vs reference "
        "| strong effects found (mean) | vs random (diff, paired p) |"
    )
    print("|---|---|---|---|---|---|---|")
    for group in args.datasets:
        t0 = time.perf_counter()
        entries = _data(group)
        priors = [
            _breadth(label, ad) if args.learner != "correlation" else None for label, ad, _, _ in entries
        ]
        # random is always run: every other row is its paired difference to random
        strategies = ["random", *[s for s in args.strategies if s != "random"]] if args.strategies else [
            *available(), "information_gain:shuffled"]  # fmt: skip
        tasks = [
            (st, e, seed) for st in strategies for e in range(len(entries)) for seed in range(args.seeds)
        ]
        aulcs = ex.map(_sweep_task, tasks, shared={"entries": entries, "rounds": args.rounds,
                                                   "learner": args.learner, "priors": priors,
                                                   "fixed_pool": args.fixed_pool},
                       description=f"{group}: strategies x nets x seeds", progress=True)  # fmt: skip
        results: dict[str, tuple[list[float], list[float], list[float]]] = {
            st: ([a[0] for (t, _, _), a in zip(tasks, aulcs) if t == st],
                 [a[1] for (t, _, _), a in zip(tasks, aulcs) if t == st],
                 [a[2] for (t, _, _), a in zip(tasks, aulcs) if t == st])
            for st in strategies
        }  # fmt: skip
        name = entries[0][0] if len(entries) == 1 else f"{group} ({len(entries)} nets)"
        rand = np.array(results["random"][0])
        rand_found = np.array(results["random"][2])
        for strategy, (h, g, f) in results.items():
            h_arr = np.array(h)
            ci = 1.96 * np.nanstd(h_arr) / np.sqrt(max(np.isfinite(h_arr).sum(), 1))
            if strategy == "random":
                diff = ""
            else:
                ok = np.isfinite(h_arr) & np.isfinite(rand)
                res = stats.ttest_rel(h_arr[ok], rand[ok])
                diff = f"{np.mean(h_arr[ok] - rand[ok]):+.3f}, p={res.pvalue:.2g}"
            gold = f"{np.nanmean(g):.3f}" if np.isfinite(np.array(g, dtype=float)).any() else ""
            f_arr = np.array(f)
            found_diff = ""
            if strategy != "random":
                res_f = stats.ttest_rel(f_arr, rand_found)
                found_diff = f"{np.mean(f_arr - rand_found):+.3f}, p={res_f.pvalue:.2g}"
            label = (
                "information_gain, gene names shuffled (control)"
                if strategy.endswith(":shuffled")
                else strategy
            )
            print(f"| {name} | {label} | {np.nanmean(h_arr):.3f} ± {np.nanstd(h_arr):.3f} [{np.nanmean(h_arr) - ci:.3f}, "
                  f"{np.nanmean(h_arr) + ci:.3f}] | {diff} | {gold} | {np.mean(f_arr):.3f} | {found_diff} |", flush=True)  # fmt: skip
        # does the learner learn from what is revealed at all? If the random arm's curve is flat or falls, the order
        # of the reveals cannot matter much, whatever the strategy
        curves = [a[3] for (t, _, _), a in zip(tasks, aulcs) if t == "random" and a[3]]
        n = min(len(c) for c in curves) if curves else 0
        by_round = np.nanmean([c[:n] for c in curves], axis=0) if n else []
        print(f"<!-- {group}: random arm, mean held-out AUROC by round 1..{n}: "
              + " ".join(f"{v:.3f}" for v in by_round) + f"; {time.perf_counter() - t0:.0f} s -->", flush=True)  # fmt: skip
    ex.close()


if __name__ == "__main__":
    main()
