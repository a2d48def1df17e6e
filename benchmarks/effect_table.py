"""Memory of a sparse multi-line screen: row storage vs the dense contexts x perturbations x genes arrays.

A synthetic label table shaped like a four-cell-line PerturbQA screen (4 lines x 2,556 perturbations x 10,632
genes; each line perturbs its own quarter of the genes and has labels for 2% of the readouts, i.e. ~0.5% of the
dense cube filled). Each row of the table runs in its own process, so peak memory is the step's own. The baseline
is the dense layout the table used before (two float32 cubes), measured by materialising ``effect`` and ``label``.

    python benchmarks/effect_table.py [--contexts 4] [--perturbations 2556] [--genes 10632] [--fill 0.02]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def _frame(contexts: int, perturbations: int, genes: int, fill: float, seed: int = 0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    gene_names = [f"G{i}" for i in range(genes)]
    pert_names = [f"G{i}" for i in rng.choice(genes, perturbations, replace=False)]
    parts = []
    for c in range(contexts):
        perts = np.asarray(pert_names)[
            np.arange(perturbations) % contexts == c
        ]  # each line its own perturbations
        n = max(1, int(fill * genes))
        for p in perts:
            g = rng.choice(genes, n, replace=False)
            parts.append(pd.DataFrame({"context": f"line{c}", "perturbation": p,
                                       "gene": np.asarray(gene_names)[g], "label": (rng.random(n) < 0.1).astype(int)}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _step(step: str, args: argparse.Namespace) -> dict:
    from aitia.causal import perturbation as P
    from aitia.types.effects import EffectTable
    from aitia.types.features import GeneFeatures

    df = _frame(args.contexts, args.perturbations, args.genes, args.fill)
    t0 = time.perf_counter()
    table = EffectTable.from_frame(df)
    out = {"step": step, "cells": int(np.prod(table.shape)), "filled": len(df) / float(np.prod(table.shape)),
           "stored_mb": table.nbytes / 1e6, "build_s": time.perf_counter() - t0}  # fmt: skip
    t0 = time.perf_counter()
    if step == "dense arrays (before)":
        e, lab = table.effect, table.label
        out["extra_mb"] = (e.nbytes + lab.nbytes) / 1e6
    elif step in ("mean", "knn", "knn, power and shrinkage fixed"):
        train, queries = P.split(table, "unseen_perturbation", seed=0)
        rng = np.random.default_rng(0)
        feats = GeneFeatures(list(table.genes), rng.standard_normal((len(table.genes), 32)).astype(np.float32),
                             sources=["random"])  # fmt: skip
        kw = {"power": 4.0, "shrinkage": 1.0} if "fixed" in step else {}
        est = P.get(step.split(",")[0], **kw).fit(train, features=feats if step.startswith("knn") else None)
        est.predict(queries.head(200))
    out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", type=int, default=4)
    ap.add_argument("--perturbations", type=int, default=2556)
    ap.add_argument("--genes", type=int, default=10632)
    ap.add_argument("--fill", type=float, default=0.02, help="labelled readouts per perturbation (fraction)")
    ap.add_argument("--step", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, args)))
        return
    print("| step | cube cells | filled | stored rows (MB) | extra (MB) | time (s) | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|")
    for step in (
        "table only (rows)",
        "dense arrays (before)",
        "mean",
        "knn",
        "knn, power and shrinkage fixed",
    ):
        cmd = [sys.executable, __file__, "--step", step, "--contexts", str(args.contexts), "--perturbations",
               str(args.perturbations), "--genes", str(args.genes), "--fill", str(args.fill)]  # fmt: skip
        r = json.loads(
            subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        )
        extra = f"{r['extra_mb']:.0f}" if "extra_mb" in r else ""
        print(f"| {step} | {r['cells']:,} | {r['filled']:.2%} | {r['stored_mb']:.0f} | {extra} | {r['seconds']:.1f} | "
              f"{r['peak_mb']:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
