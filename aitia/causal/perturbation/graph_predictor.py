"""Propagate a perturbation through a causal graph: every learner is also a perturbation predictor."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...errors import DataValidationError
from ...types.effects import EffectTable
from ...types.graph import CausalGraph, EdgeScores
from .base import BasePredictor, gene_index, quiet_nanmean, target_of
from .simple import _label_scale

logger = logging.getLogger(__name__)


class GraphPredictor(BasePredictor):
    """Effects of perturbing A = decayed sum over directed paths from A in a graph.

    ``reach = sum_{h=1..max_hops} decay^(h-1) A^h`` with ``A`` the (top-k per gene, max-normalised) edge scores; the
    DE probability of gene g is ``reach[a, g]`` (scaled to [0, 1]), the effect ``sign * reach * typical |effect|``
    where the sign comes from signed edges (a CausalGraph's ``sign``, or ``EdgeScores.signs`` of a ``prior`` /
    ``graph``: curated priors and signed hypotheses carry them) or, without signs, from the direction gene g usually moves when DE in the
    training data (the perturbation type - knockdown, activation - fixes the overall direction).

    Args:
        graph: a CausalGraph or EdgeScores; default: the ``prior`` passed to fit, else ``learner`` fitted on ``adata``.
        learner: registry name of a structure learner used when no graph/prior is given (needs ``adata``).
        decay: weight of each further hop.
        max_hops: path length cut-off.
        top_k: edges kept per source gene.
    """

    places_by_target = True
    uses_signs = True
    name = "graph"

    def __init__(self, graph: Any = None, learner: str = "supervised", decay: float = 0.5, max_hops: int = 3,
                 top_k: int = 20) -> None:  # fmt: skip
        self.graph = graph
        self.learner = learner
        self.decay = decay
        self.max_hops = max_hops
        self.top_k = top_k

    def _edge_matrix(self, adata: Any) -> tuple[np.ndarray, np.ndarray | None, str]:
        genes = self.genes_
        if isinstance(self.graph, CausalGraph):
            s = self.graph.to_scores(genes)
            sign = np.zeros_like(s.values)
            idx = gene_index(genes)
            for a, b, d in self.graph.edges(data=True):
                if a in idx and b in idx:
                    sign[idx[a], idx[b]] = d.get("sign", 0) or 0
            return s.values, (sign if np.abs(sign).sum() else None), f"graph:{self.graph.name or 'given'}"
        if isinstance(self.graph, EdgeScores):
            g = self.graph.reindex(genes, 0.0)
            return np.nan_to_num(g.values), _signs(g), f"scores:{self.graph.name}"
        if self.graph is not None:
            raise DataValidationError(
                f"graph must be a CausalGraph or EdgeScores, got {type(self.graph).__name__}."
            )
        if self.prior_ is not None:
            pr = self.prior_.reindex(genes, 0.0)
            return np.nan_to_num(pr.values), _signs(pr), f"prior:{self.prior_.name}"
        if adata is not None:
            from .. import learners

            scores = learners.get(self.learner).fit(
                adata[:, genes] if list(adata.var_names) != genes else adata
            )
            return (
                np.nan_to_num(scores.predict_scores().reindex(genes, 0.0).values),
                None,
                f"learner:{self.learner}",
            )
        raise DataValidationError(
            "GraphPredictor needs a graph: pass graph=..., a prior to fit(), or adata so a learner can infer one."
        )

    def _fit(self, effects: EffectTable, adata: Any) -> None:
        A, sign, source = self._edge_matrix(adata)
        A = np.clip(A, 0, None)
        np.fill_diagonal(A, 0)
        if self.top_k and self.top_k < A.shape[1]:
            thresh = -np.partition(-A, self.top_k - 1, axis=1)[:, self.top_k - 1 : self.top_k]
            A = np.where(A >= thresh, A, 0.0)
        if A.max() > 0:
            A = A / A.max()
        signed = A * sign if sign is not None else A
        reach = np.zeros_like(A)
        power = np.eye(len(A))
        for h in range(self.max_hops):
            power = power @ signed
            reach += self.decay**h * power
        self.reach_ = reach
        self.source_ = source
        self.signed_ = sign is not None
        e, lab = effects.effect_rows, effects.label_rows
        de_dir = quiet_nanmean(np.where(lab == 1, np.sign(e), np.nan), axis=0)
        # self-effect of a perturbation on its own target (e.g. knockdown: strongly negative)
        gidx = gene_index(self.genes_)
        _, pair_p = effects.pair_positions
        own = [e[r, gidx[t]] for r, p in enumerate(pair_p) for t in target_of(effects.perturbations[p])
               if t in gidx and not np.isnan(e[r, gidx[t]])]  # fmt: skip
        self.direction_ = np.nan_to_num(de_dir, nan=-1.0)
        self.self_effect_ = float(np.median(own)) if own else 0.0
        self.scale_ = _label_scale(effects)
        self.gidx_ = gidx

    def _predict(self, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        G = len(self.genes_)
        eff = np.zeros((len(q), G), np.float32)
        lab = np.zeros((len(q), G), np.float32)
        for k, pert in enumerate(q["perturbation"]):
            rows = [self.gidx_[t] for t in target_of(pert) if t in self.gidx_]
            if not rows:
                continue
            r = self.reach_[rows].sum(0)
            mag = np.abs(r)
            lab[k] = np.clip(mag / (mag.max() or 1.0), 0, 1)
            direction = np.sign(r) * np.sign(self.self_effect_ or -1) if self.signed_ else self.direction_
            eff[k] = direction * lab[k] * self.scale_
            for t in rows:
                eff[k, t] = self.self_effect_
                lab[k, t] = 1.0
        return eff, lab


def _signs(scores: EdgeScores) -> np.ndarray | None:
    """The scores' edge signs as floats, or None when they carry none (then the data's usual direction is used)."""
    return scores.signs.astype(np.float64) if scores.signs is not None and scores.signs.any() else None
