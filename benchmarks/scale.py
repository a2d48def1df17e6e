"""Scaling the pairwise learners: local vs Ray (1 and 2 workers) on simulated data of p genes.

One table: fit wall time, the pair-scoring part, peak memory of the driver and of a worker, and whether the scores
are identical to the local run (they must be: the pair blocks are independent and the models are fitted once).
Then the measured per-block cost, the figure the README's sizing for p = 20,000 is derived from.

    python benchmarks/scale.py [--sizes 1000 5000] [--workers 1 2] [--methods supervised]

The trivial baseline here is the local executor itself (the reference for time and for the scores). Ray on a
2-core machine cannot show a large speed-up: what matters is that the scores are identical and the overhead small.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from aitia.executor import Executor


def _peak_rss_mb(_: int) -> float:
    """Peak resident memory of the process this runs in (MB): a Ray worker when run as a task."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Timed(Executor):
    """Hands the work to another executor and times it (the pair-scoring part of a fit)."""

    def __init__(self, inner: Executor) -> None:
        self.inner, self.seconds, self.tasks = inner, 0.0, 0
        self.name, self.workers = inner.name, inner.workers

    def map(self, fn, items, shared=None, description="", progress=False):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = self.inner.map(fn, items, shared=shared, description=description, progress=progress)
        self.seconds += time.perf_counter() - t0
        self.tasks += len(items)
        return out


def _simulated(p: int, seed: int = 0):
    from aitia.causal.simulate import simulate_nb

    n_pert = max(10, p // 10)
    cells = min(60_000, 5000 + n_pert * (100 if p <= 1000 else 40))
    sim = simulate_nb(
        n_genes=p, n_cells=cells, n_perturbations=n_pert, control_fraction=5000 / cells, seed=seed
    )
    return sim.adata if hasattr(sim, "adata") else sim[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--methods", nargs="+", default=["supervised"])
    args = ap.parse_args()

    from aitia.causal import learners
    from aitia.executor import LocalExecutor, RayExecutor

    print("| p | method | executor | fit (s) | pair scoring (s) | blocks | s / block | driver peak (MB) | "
          "worker peak (MB) | identical to local |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    per_block: list[float] = []
    for p in args.sizes:
        adata = _simulated(p)
        for method in args.methods:
            reference = None
            # local with the default threads (AITIA_N_JOBS, one), local with every core, then Ray workers (one
            # thread each)
            runs: list[tuple[str, object, int | None]] = [("local", LocalExecutor(), None),
                                                          ("local, n_jobs=0 (every core)", LocalExecutor(), 0)]  # fmt: skip
            runs += [(f"ray, {w} worker{'s' if w > 1 else ''}", w, None) for w in args.workers]
            for label, spec, n_jobs in runs:
                ex = (
                    spec
                    if isinstance(spec, LocalExecutor)
                    else RayExecutor(num_cpus=int(spec), workers=int(spec))
                )
                timed = _Timed(ex)
                t0 = time.perf_counter()
                kw = {} if n_jobs is None else {"n_jobs": n_jobs}
                scores = learners.get(method, executor=timed, **kw).fit(adata).predict_scores()
                fit_s = time.perf_counter() - t0
                timings = {"scoring": timed.seconds, "blocks": timed.tasks}
                worker = (
                    max(ex.map(_peak_rss_mb, list(range(ex.workers))))
                    if label.startswith("ray")
                    else float("nan")
                )
                driver = _peak_rss_mb(0)
                if reference is None:
                    reference = scores.values
                    same = "(reference)"
                else:
                    diff = float(np.max(np.abs(reference - scores.values)))
                    # a different thread count sums gradient-boosting histograms in another order: a refit, not
                    # the same model, so its scores differ slightly; Ray runs score the same model and must match
                    same = "yes" if diff == 0 else f"no (max diff {diff:.1e})"
                ex.close()
                blocks = int(timings.get("blocks", 0))
                spb = timings.get("scoring", float("nan")) / max(blocks, 1)
                if label == "local":
                    per_block.append(spb)  # one thread, like one Ray worker
                print(f"| {p} | {method} | {label} | {fit_s:.1f} | {timings.get('scoring', float('nan')):.1f} | "
                      f"{blocks} | {spb:.2f} | {driver:.0f} | {worker:.0f} | {same} |", flush=True)  # fmt: skip
    print(
        f"\nLocal cost per block of 262,144 pairs (one thread, AITIA_N_JOBS=1, as in a Ray worker): {', '.join(f'{x:.2f} s' for x in per_block)}. "
        "Sizing for p genes: p*(p-1)/262,144 blocks; hours = blocks * s_per_block / workers / 3600."
    )


if __name__ == "__main__":
    main()
