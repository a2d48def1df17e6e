"""Experiment choice: which perturbations to run next. A registry like the learners' (``get(name)``,
``available()``), always benchmarked against ``random`` (``benchmarks/acquisition.py``). It lives in ``causal``
(pure scoring over edge-score matrices) so the ``suggest_experiments`` tool and the loop share it.

Every strategy ranks candidate perturbations from the current edge scores of several sources (learners and the
prior, rank-normalised to [0, 1] and read as edge probabilities):

* ``random``: the baseline.
* ``disagreement``: where the sources disagree (std of their ranks) plus the consensus's uncertainty p(1 - p) over
  the candidate's outgoing edges (the loop's original rule).
* ``uncertainty``: only the consensus's uncertainty p(1 - p).
* ``information_gain``: expected entropy removed by revealing the candidate's row, counting its direct targets and,
  discounted, what they reach (interventional truth is ancestral).
* ``degree``: the most connected candidates in the prior first (a common heuristic).

A batch of several picks adds a diversity term: a candidate whose outgoing profile resembles one already picked is
penalised.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> mats = [rng.random((4, 4)) for _ in range(3)]
    >>> [p.perturbation for p in get("information_gain").rank(mats, ["A", "B", "C", "D"], ["B", "C"], k=1)]
    ['C']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..registry import create


class Pick(BaseModel):
    """One chosen perturbation and why."""

    model_config = ConfigDict(extra="forbid")

    perturbation: str = Field(description="Gene to perturb next.")
    score: float = Field(description="The strategy's value for it (higher first).")
    reason: str = Field(description="What the value is made of.")


class Strategy:
    """Base class: ``value(...)`` per candidate; ``rank(...)`` picks ``k`` with a diversity penalty."""

    name = "base"

    def __init__(self, diversity: float = 0.5, seed: int = 0) -> None:
        self.diversity = diversity
        self.seed = seed

    def value(self, probs: np.ndarray, stack: np.ndarray, idx: list[int], prior: np.ndarray | None) -> tuple[np.ndarray, list[str]]:  # fmt: skip  # pragma: no cover
        raise NotImplementedError

    def rank(self, mats: Sequence[np.ndarray], genes: Sequence[str], candidates: Sequence[str], k: int = 1,
             prior: np.ndarray | None = None) -> list[Pick]:  # fmt: skip
        """The ``k`` best candidates (fewer if fewer remain), best first."""
        # imported here, not with the module: LoopConfig reads DEFAULT_STRATEGY without loading the learners
        from .learners.correlation import rank01

        gidx = {g: i for i, g in enumerate(genes)}
        cands = [c for c in candidates if c in gidx]
        if not cands:
            return []
        idx = [gidx[c] for c in cands]
        stack = (
            np.stack([rank01(np.nan_to_num(np.asarray(m, dtype=float))) for m in mats])
            if len(mats)
            else np.zeros((1, len(genes), len(genes)))
        )
        probs = stack.mean(0)
        values, reasons = self.value(probs, stack, idx, prior)
        picks: list[Pick] = []
        chosen: list[int] = []
        profiles = probs[idx]
        norms = np.linalg.norm(profiles - profiles.mean(1, keepdims=True), axis=1) + 1e-12
        adjusted = np.asarray(values, dtype=float).copy()
        # equal values are broken by a seeded random order, never by the candidates' order: a list sorted by name
        # or by a network generator's numbering (DREAM4's first genes are its hubs) would otherwise decide the pick
        tiebreak = np.random.default_rng([self.seed, len(cands)]).random(len(cands))
        for _ in range(min(k, len(cands))):
            if chosen:
                centred = profiles - profiles.mean(1, keepdims=True)
                sim = np.max([(centred @ centred[c]) / (norms * norms[c]) for c in chosen], axis=0)
                adjusted = np.asarray(values, dtype=float) - self.diversity * np.clip(sim, 0, None) * np.ptp(
                    values
                )
            order = [i for i in np.lexsort((tiebreak, -np.round(adjusted, 10))) if i not in chosen]
            best = order[0]
            chosen.append(best)
            picks.append(
                Pick(perturbation=cands[best], score=round(float(values[best]), 4), reason=reasons[best])
            )
        return picks


def _offdiag_mean(m: np.ndarray, i: int) -> float:
    mask = np.arange(m.shape[1]) != i
    return float(m[i, mask].mean())


class RandomStrategy(Strategy):
    name = "random"

    def value(self, probs, stack, idx, prior):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(self.seed)
        return rng.random(len(idx)), ["random order (the baseline)"] * len(idx)


class DisagreementStrategy(Strategy):
    name = "disagreement"

    def value(self, probs, stack, idx, prior):  # type: ignore[no-untyped-def]
        dis = stack.std(0) if len(stack) > 1 else np.zeros_like(probs)
        unc = probs * (1 - probs)
        vals, why = [], []
        for i in idx:
            d, u = _offdiag_mean(dis, i), _offdiag_mean(unc, i)
            vals.append(d + u)
            why.append(f"disagreement {d:.3f} + uncertainty {u:.3f} over {probs.shape[1] - 1} targets")
        return np.array(vals), why


class UncertaintyStrategy(Strategy):
    name = "uncertainty"

    def value(self, probs, stack, idx, prior):  # type: ignore[no-untyped-def]
        unc = probs * (1 - probs)
        vals = np.array([_offdiag_mean(unc, i) for i in idx])
        return vals, [f"consensus uncertainty {v:.3f}" for v in vals]


class InformationGainStrategy(Strategy):
    """Entropy of the candidate's outgoing edge probabilities, plus half that of two-step reach."""

    name = "information_gain"

    def value(self, probs, stack, idx, prior):  # type: ignore[no-untyped-def]
        p = np.clip(probs, 1e-6, 1 - 1e-6)
        ent = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
        np.fill_diagonal(ent, 0.0)
        reach = np.clip(probs @ probs / max(probs.shape[0], 1), 1e-6, 1 - 1e-6)
        ent2 = -(reach * np.log2(reach) + (1 - reach) * np.log2(1 - reach))
        np.fill_diagonal(ent2, 0.0)
        vals, why = [], []
        for i in idx:
            a, b = float(ent[i].sum()), float(ent2[i].sum())
            vals.append(a + 0.5 * b)
            why.append(f"expected information {a:.2f} bits (direct) + {0.5 * b:.2f} (two-step)")
        return np.array(vals), why


class DegreeStrategy(Strategy):
    name = "degree"

    def value(self, probs, stack, idx, prior):  # type: ignore[no-untyped-def]
        src = prior if prior is not None else probs
        deg = np.nan_to_num(np.asarray(src, dtype=float)).sum(1)
        vals = np.array([deg[i] for i in idx])
        label = "prior" if prior is not None else "consensus"
        return vals, [f"{label} out-degree {v:.2f}" for v in vals]


_REGISTRY: dict[str, type[Strategy]] = {
    "random": RandomStrategy,
    "disagreement": DisagreementStrategy,
    "uncertainty": UncertaintyStrategy,
    "information_gain": InformationGainStrategy,
    "degree": DegreeStrategy,
}


#: The strategy the loop and the ``suggest_experiments`` tool use unless told otherwise: in
#: ``benchmarks/acquisition.py`` it is never significantly worse than random, and with a learner that learns from the
#: revealed rows it beats random on sachs (fixed evaluation pool); ``disagreement``, the loop's first rule, is the
#: worst on sachs.
DEFAULT_STRATEGY = "information_gain"


def available() -> list[str]:
    """Names of the acquisition strategies."""
    return list(_REGISTRY)


def register(name: str, cls: type[Strategy]) -> None:
    """Register a strategy class under ``name`` (e.g. ``llm_rerank``, which lives above this layer)."""
    _REGISTRY[name] = cls


def get(name: str, **kwargs: Any) -> Strategy:
    """A new strategy by name (``diversity``, ``seed``)."""
    return create(_REGISTRY, name, "Acquisition strategy", **kwargs)  # type: ignore[no-any-return]
