"""Interventional-truth benchmark: time and peak memory of the streaming tests at Perturb-seq scale.

Target (issue 2): 2,000 perturbations x 8,000 genes with ~100 cells per perturbation, holding at most one
perturbation's cells (plus the controls) dense at a time. Baseline in the same run: scipy.stats.mannwhitneyu
(vectorised over genes) on the first perturbations, extrapolated per perturbation.

    python benchmarks/truth.py                  # 2,000 x 8,000 (about 200k cells)
    python benchmarks/truth.py --quick          # 200 x 2,000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure, print_table  # noqa: E402


def _data(n_pert: int, n_genes: int, cells_per: int, n_ctrl: int):
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
    from anndata import AnnData

    rng = np.random.default_rng(0)
    n = n_ctrl + n_pert * cells_per
    mean = np.exp(rng.normal(-2.5, 1.5, n_genes))  # typical single-cell sparsity (~15% non-zero)
    blocks = []
    for start in range(0, n, 5_000):  # build sparse counts in blocks to keep the generator's memory small
        m = min(5_000, n - start)
        blocks.append(sp.csr_matrix(rng.poisson(mean, (m, n_genes)).astype(np.float32)))
    x = sp.vstack(blocks).tocsr()
    genes = [f"g{i}" for i in range(n_genes)]
    pert = ["control"] * n_ctrl + [genes[i % n_genes] for i in range(n_pert) for _ in range(cells_per)]
    obs = pd.DataFrame({"perturbation": pert}, index=[f"c{i}" for i in range(n)])
    return AnnData(x, obs=obs, var=pd.DataFrame(index=genes))


def run_aitia(n_pert: int, n_genes: int, cells_per: int, n_ctrl: int) -> dict:
    import time

    from aitia.causal.evaluate import interventional_truth

    adata = _data(n_pert, n_genes, cells_per, n_ctrl)
    t0 = time.perf_counter()
    truth = interventional_truth(adata, progress=False)
    return {"test_s": time.perf_counter() - t0, "significant": int(truth.labels.n_positive)}


def run_scipy(n_pert: int, n_genes: int, cells_per: int, n_ctrl: int, n_sample: int = 10) -> dict:
    import time

    from scipy import stats

    adata = _data(n_pert, n_genes, cells_per, n_ctrl)
    ctrl = adata.X[:n_ctrl].toarray()
    t0 = time.perf_counter()
    for k in range(n_sample):
        rows = slice(n_ctrl + k * cells_per, n_ctrl + (k + 1) * cells_per)
        stats.mannwhitneyu(adata.X[rows].toarray(), ctrl, axis=0)
    per = (time.perf_counter() - t0) / n_sample
    return {"test_s": per * n_pert, "significant": -1, "note": f"extrapolated from {n_sample}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n_pert, n_genes, cells_per, n_ctrl = (200, 2000, 100, 5000) if args.quick else (2000, 8000, 100, 10_000)
    rows = []
    for name, fn in (
        ("aitia interventional_truth", run_aitia),
        ("scipy mannwhitneyu per perturbation", run_scipy),
    ):
        r = measure(fn, n_pert=n_pert, n_genes=n_genes, cells_per=cells_per, n_ctrl=n_ctrl)
        rows.append(
            {
                "method": name,
                "perturbations": n_pert,
                "genes": n_genes,
                "cells": n_ctrl + n_pert * cells_per,
                "test_time_s": r["test_s"],
                "process_peak_mem_mb": r["peak_mem_mb"],
                "note": r.get("note", "measured"),
            }
        )
    print_table("interventional truth benchmark (Mann-Whitney, BH)", rows)


if __name__ == "__main__":
    main()
