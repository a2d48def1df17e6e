"""Expression-level scorecard of the perturbation predictors on data with measured expression.

One table: per data set and split, each predictor's L2 ratio to the training-mean baseline (top-variance genes),
|effect|-weighted MAE ratio, DE-set overlap, perturbation discrimination (0 best, 0.5 chance) and, where cells allow
a split-half technical duplicate, its L2 ratio and the share of the baseline-to-duplicate gap closed. In the same
run: the `mean` predictor (the baseline itself: ratios 1.0) and a control that must fail (the `graph` predictions
assigned to the wrong perturbations: discrimination ~0.5, DE overlap near the mean's).

    python benchmarks/expression_scorecard.py
"""

from __future__ import annotations

import numpy as np


def _rows(name, adata, effects, prior, splits, halves):
    from aitia.causal import perturbation as P
    from aitia.causal.perturbation.evaluate import drop_heldout_rows
    from aitia.causal.perturbation.scorecard import expression_scorecard

    out = []
    for split in splits:
        train, q = P.split(effects, split, seed=0)
        ad = drop_heldout_rows(adata, q, effects, by_context=split != "unseen_perturbation")
        preds = {}
        for method in ("mean", "linear", "graph", "context_transfer"):
            preds[method] = P.get(method).fit(train, adata=ad, prior=prior).predict(q)
        shuffled = preds["graph"].reindex(
            preds["graph"].contexts, preds["graph"].perturbations, preds["graph"].genes
        )
        order = np.random.default_rng(0).permutation(len(shuffled.effect_rows))
        shuffled.effect_rows = shuffled.effect_rows[order]
        shuffled.label_rows = shuffled.label_rows[order]
        preds["graph, predictions shuffled across perturbations (control)"] = shuffled
        for method, pred in preds.items():
            c = expression_scorecard(pred, effects, train, ceiling=halves)
            out.append((name, split, method, c))
    return out


def main() -> None:
    from aitia import datasets
    from aitia.causal.effects import effects_for_dataset, effects_from_adata
    from aitia.causal.perturbation.scorecard import split_half_effects
    from aitia.causal.simulate import simulate_nb

    rows = []
    adata, graph = simulate_nb(n_genes=100, n_cells=12_000, n_perturbations=50, n_contexts=2, seed=3)
    rows += _rows("simulated NB p=100 (prior: true graph)", adata, effects_from_adata(adata),
                  graph.to_scores(list(adata.var_names)), ("unseen_perturbation", "unseen_pair"),
                  split_half_effects(adata))  # fmt: skip
    d4 = datasets.load("dream4-100-1")
    rows += _rows("dream4-100-1 (no prior)", d4, effects_for_dataset("dream4-100-1"), None, ("unseen_perturbation",),
                  None)  # fmt: skip
    print("| data | split | predictor | L2 ratio | weighted MAE ratio | DE overlap | discrimination | duplicate L2 "
          "ratio | gap closed |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for name, split, method, c in rows:
        dup = f"{c.ceiling_l2_ratio:.3f}" if c.ceiling_l2_ratio is not None else ""
        gap = f"{c.gap_closed:.0%}" if c.gap_closed is not None else ("undefined" if dup else "")
        print(f"| {name} | {split} | {method} | {c.l2_ratio:.3f} | {c.deg_weighted_mae_ratio:.3f} | "
              f"{c.de_overlap:.3f} | {c.discrimination:.3f} | {dup} | {gap} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
