"""One round of the loop on sachs with every acquisition strategy: wall time against the issue's target (< 2 min for
all strategies together, 5 seeds, 2 cores).

Each strategy runs ``aitia loop --dataset sachs --rounds 1 --seeds 5`` in-process (round 0 and round 1: hypotheses,
the default learners on 5 replicates of the active and of the random arm, the perturbation predictor, the report),
in a fresh run directory, one after another in one process (the first run pays the imports and the disk caches'
misses; they are printed separately). Printed: seconds per strategy, learner fits done and reused (arms that revealed
the same perturbations share one fit), peak memory, the machine's load average at the start (other work on the 2
cores slows every figure).

    python benchmarks/loop_round.py [--dataset sachs] [--seeds 5] [--rounds 1] [--strategies ...]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="sachs")
    ap.add_argument("--seeds", type=int, default=5, help="replicates of both arms (the loop's --seeds)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--strategies", nargs="+", default=None, help="default: every registered strategy")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    load = os.getloadavg()[0]
    t_import = time.perf_counter()
    from aitia.causal.acquisition import available
    from aitia.orchestrator import rerank  # noqa: F401 - llm_rerank joins the registry
    from aitia.orchestrator.loop import LoopConfig, run_loop
    from aitia.run import Run

    t_import = time.perf_counter() - t_import
    print(f"load average at start: {load:.2f}; imports {t_import:.1f} s")
    print("| strategy | wall (s) | learner fits | fits reused | peak RSS so far (MB) |")
    print("|---|---|---|---|---|")
    total = 0.0
    for strategy in args.strategies or available():
        with tempfile.TemporaryDirectory() as tmp:
            cfg = LoopConfig(dataset=args.dataset, rounds=args.rounds, seeds=args.seeds, acquisition=strategy)
            t0 = time.perf_counter()
            run_loop(cfg, f"{tmp}/run")
            wall = time.perf_counter() - t0
            events = list(Run.open(f"{tmp}/run").events())
        fits = sum(1 for e in events if e.get("type") == "learner_fit")
        reused = sum(1 for e in events if e.get("type") == "learner_fit_reused")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        total += wall
        print(f"| {strategy} | {wall:.1f} | {fits} | {reused} | {peak:.0f} |", flush=True)
    print(f"| **all strategies** | **{total:.1f}** | | | |")
    print(f"Target: < 120 s for all strategies ({args.seeds} seeds, {args.rounds} round): "
          f"{'met' if total < 120 else 'not met'}.")  # fmt: skip


if __name__ == "__main__":
    main()
