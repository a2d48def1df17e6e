"""Offline (no-LLM) hypotheses on sachs: how much do curated priors and paths say about the graph?

One table: each knowledge source scored against the three reference graphs and the interventional truth, beside a
random baseline and a shuffled-name control (both mean ± sd over seeds), then the prior gain of every label-free
learner. The consensus graph is itself literature-derived, so knowledge scoring well against it is expected; the
interventional truth is the data's own answer.

    python benchmarks/hypotheses.py [--seeds 20] [--store DIR]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--seeds", type=int, default=20, help="seeds of the random baseline and the shuffled control"
    )
    ap.add_argument("--store", default=None, help="a built literature store to add passages (default: none)")
    args = ap.parse_args()

    from aitia import datasets
    from aitia.causal.baselines import random_scores
    from aitia.causal.evaluate import dataset_truths, edge_metrics
    from aitia.knowledge.hypotheses import HypothesisGenerator
    from aitia.knowledge.store import built_store
    from aitia.orchestrator.evaluate import evaluate_hypotheses

    adata = datasets.load("sachs")
    genes = [str(g) for g in adata.var_names]
    truths = dataset_truths("sachs", adata)
    store = built_store(args.store) if args.store else None
    variants = [
        ("TF priors (trrust+collectri), direct", "trrust+collectri", 1),
        ("signaling (open), direct", "signaling", 1),
        ("signaling-nc, direct", "signaling-nc", 1),
        ("default priors, direct", "default", 1),
        (
            "default without messengers (the previous default), + paths <= 3",
            "trrust+collectri+signaling+signaling-nc",
            3,
        ),
        ("default priors, + paths <= 3", "default", 3),
    ]
    rand = {
        t: [edge_metrics(random_scores(genes, seed=s), truth).auroc for s in range(args.seeds)]
        for t, truth in truths.items()
    }
    header = ["knowledge", "consensus", "bnlearn", "tetrad", "interventional"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    # how fragile each AUROC is: the interventional truth of sachs is nearly all positive (every intervention shifts
    # almost every protein in thousands of cells), so its AUROC rests on its few negative pairs
    counts = {t: edge_metrics(random_scores(genes, seed=0), truth) for t, truth in truths.items()}
    print("| labelled pairs (positive / negative) | " + " | ".join(
        f"{counts[t].n_positive} / {counts[t].n_pairs - counts[t].n_positive}" for t in header[1:5]) + " |")  # fmt: skip
    print("| random scores (baseline) | " + " | ".join(
        f"{np.mean(rand[t]):.3f} ± {np.std(rand[t]):.3f}" for t in header[1:5]) + " |")  # fmt: skip
    last = None
    timings: list[str] = []
    for label, prior, steps in variants:
        t0 = time.perf_counter()
        hs = HypothesisGenerator(backend="none", prior=prior, store=store, rag=store is not None,
                                 max_path_steps=steps).generate(genes)  # fmt: skip
        seconds = time.perf_counter() - t0
        ev = evaluate_hypotheses(hs, truths, control_seeds=args.seeds)
        print(f"| {label} | " + " | ".join(f"{ev.metrics[t].auroc:.3f}" for t in header[1:5]) + " |")
        timings.append(f"{label}: {seconds:.1f} s")
        last = (label, hs, ev)
    assert last is not None
    label, hs, ev = last
    print(f"| shuffled-name control of '{label}' (must be ~0.5) | " + " | ".join(
        f"{ev.shuffled_names[t].mean:.3f} ± {ev.shuffled_names[t].sd:.3f}" for t in header[1:5]) + " |")  # fmt: skip
    print()
    gain = evaluate_hypotheses(hs, truths, adata=adata, control_seeds=1).prior_gain
    print(f"Prior gain with '{label}' (AUROC without -> with the hypotheses as prior; same seed):")
    print("| learner | " + " | ".join(header[1:5]) + " |")
    print("|" + "---|" * 5)
    for learner, by_truth in gain.items():
        print(f"| {learner} | " + " | ".join(
            f"{by_truth[t].without:.3f} -> {by_truth[t].with_hypotheses:.3f}" for t in header[1:5]) + " |")  # fmt: skip
    print("\nHypothesis generation time: " + "; ".join(timings))


if __name__ == "__main__":
    main()
