"""Context-transfer prediction of perturbation effects, after C3TL (Scholkemper & Mukherjee, 2025).

A light torch model of the effect tensor ``context x perturbation x gene`` with the invariances of the setting:

* the same perturbation acts alike across contexts up to a context-specific scaling:
  ``Y[c, p, :] = exp(a_c + s_p) * ((U_p * M_c) @ V^T) + B_c``;
* contexts resemble each other as their shared perturbations do: the context modulation ``M_c`` and scale ``a_c``
  are learned from the perturbations a context shares with the others; an unseen context takes the average;
* perturbation embeddings are built from gene embeddings of the target and, through a prior network (curated or
  literature), of its neighbours: ``U_p = V[t(p)] W_t + mean(V[N(t(p))]) W_n + R_p`` with a free residual ``R_p`` for
  perturbations seen in training, so unseen perturbations are predicted from who they are and whom they regulate.

A second head predicts DE probabilities from the same embeddings. Full-batch Adam on the observed entries.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...config import resolve_device
from ...types.effects import EffectTable
from .._compute import torch_threads
from .base import BasePredictor, gene_index, quiet_nanmean, target_of, top_svd

logger = logging.getLogger(__name__)


class ContextTransferPredictor(BasePredictor):
    """Low-rank, context-modulated, prior-informed model of the effect tensor.

    Args:
        rank: embedding size.
        epochs: full-batch optimisation steps.
        lr: Adam learning rate.
        weight_decay: L2 on all parameters.
        label_weight: weight of the DE-label loss relative to the effect loss.
        pathway_decay: L2 on the target/prior pathway weights (Wt, Wn).
        residual_dropout: fraction of training perturbations whose free residual embedding is dropped each step, so
            the target/prior pathway (the only one available for unseen perturbations) must carry the signal.
        prior_top_k: prior neighbours per gene used in perturbation embeddings.
        device: ``auto``, ``cpu`` or ``cuda``; None: ``AITIA_DEVICE``.
        n_jobs: CPU threads for torch (None: ``AITIA_N_JOBS``).
        random_state: seed.
    """

    needs_effects = True
    places_by_target = True
    name = "context_transfer"

    def __init__(self, rank: int = 16, epochs: int = 400, lr: float = 0.03, weight_decay: float = 1e-4,
                 pathway_decay: float = 0.5, label_weight: float = 1.0, residual_dropout: float = 0.5, prior_top_k: int = 10, device: str | None = None, n_jobs: int | None = None, random_state: int = 0) -> None:  # fmt: skip
        self.rank = rank
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.pathway_decay = pathway_decay
        self.label_weight = label_weight
        self.residual_dropout = residual_dropout
        self.prior_top_k = prior_top_k
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _neighbours(self) -> np.ndarray:
        """(G, G) row-normalised neighbour matrix from the prior (downstream genes), zeros without a prior."""
        G = len(self.genes_)
        N = np.zeros((G, G), np.float32)
        if self.prior_ is None:
            return N
        A = np.nan_to_num(self.prior_.reindex(self.genes_, 0.0).values).astype(np.float32)
        np.fill_diagonal(A, 0)
        k = min(self.prior_top_k, G - 1)
        if k <= 0:
            return N
        thresh = -np.partition(-A, k - 1, axis=1)[:, k - 1 : k]
        A = np.where((A >= thresh) & (A > 0), A, 0.0)
        s = A.sum(1, keepdims=True)
        return np.where(s > 0, A / np.where(s > 0, s, 1), 0.0).astype(np.float32)

    def _fit(self, effects: EffectTable, adata: Any) -> None:
        with torch_threads(self.n_jobs):
            self._fit_torch(effects, adata)

    def _fit_torch(self, effects: EffectTable, adata: Any) -> None:
        import torch

        torch.manual_seed(self.random_state)
        dev = torch.device(resolve_device(self.device))
        C, P, G = effects.shape
        k = self.rank
        gidx = gene_index(self.genes_)
        self.gidx_ = gidx
        self.perts_ = list(effects.perturbations)
        # target indicator T (P x G) maps perturbations to their target genes
        T = np.zeros((P, G), np.float32)
        for p, pert in enumerate(effects.perturbations):
            for t in target_of(pert):
                if t in gidx:
                    T[p, gidx[t]] = 1.0
        N = self._neighbours()
        Y = effects.effect
        mask = ~np.isnan(Y)
        lab = effects.label
        lmask = ~np.isnan(lab)
        B0 = np.nan_to_num(quiet_nanmean(Y, axis=1))
        self.table_contexts_ = list(effects.contexts)
        pooled = np.nan_to_num(Y - B0[:, None, :]).reshape(C * P, G)
        _, S, Vt = top_svd(pooled, k)
        kk = min(k, len(S))
        V0 = np.zeros((G, k), np.float32)
        V0[:, :kk] = Vt[:kk].T * np.sqrt(S[:kk] / max(np.sqrt(C * P), 1))

        tens = lambda a: torch.tensor(a, dtype=torch.float32, device=dev)  # noqa: E731
        self.scale_y_ = float(np.nanstd(Y)) or 1.0
        Yt, Mt = tens(np.nan_to_num(Y) / self.scale_y_), tens(mask)
        Lt, LMt = tens(np.nan_to_num(lab)), tens(lmask)
        Tt, Nt = tens(T), tens(N)
        params = {
            "V": torch.nn.Parameter(tens(V0)),
            "V2": torch.nn.Parameter(tens(V0.copy())),
            "Wt": torch.nn.Parameter(torch.eye(k, device=dev)),
            "Wn": torch.nn.Parameter(torch.zeros(k, k, device=dev)),
            "R": torch.nn.Parameter(torch.zeros(P, k, device=dev)),
            "M": torch.nn.Parameter(torch.ones(C, k, device=dev)),
            "a": torch.nn.Parameter(torch.zeros(C, device=dev)),
            "s": torch.nn.Parameter(torch.zeros(P, device=dev)),
            "B": torch.nn.Parameter(tens(B0 / self.scale_y_)),
            "b2": torch.nn.Parameter(torch.full((C, G), -2.0, device=dev)),
            # direct use of the prior: effects/DE odds of the target's prior neighbours (1 and 2 hops)
            "g": torch.nn.Parameter(torch.zeros(2, device=dev)),
            "d": torch.nn.Parameter(torch.zeros(2, G, device=dev)),
        }
        self.N2_ = None
        # the target/prior pathway (Wt, Wn) is what unseen perturbations rely on: keep it simple with a stronger penalty
        pathway = [params["Wt"], params["Wn"]]
        rest = [v for k_, v in params.items() if k_ not in ("Wt", "Wn")]
        opt = torch.optim.Adam(
            [{"params": rest, "weight_decay": self.weight_decay},
             {"params": pathway, "weight_decay": self.pathway_decay}], lr=self.lr,
        )  # fmt: skip
        n_obs = max(float(Mt.sum()), 1.0)
        n_lab = max(float(LMt.sum()), 1.0)
        pos = float(np.nansum(lab == 1))
        pos_weight = torch.tensor(max(1.0, (n_lab - pos) / max(pos, 1.0)) ** 0.5, device=dev)
        bce = torch.nn.BCEWithLogitsLoss(reduction="none", pos_weight=pos_weight)
        self.loss_history_: list[float] = []
        NNt = Nt @ Nt  # two-step prior paths: once per fit, not once per query (genes^3)
        TN = torch.stack([Tt @ Nt, Tt @ NNt]) if N.any() else None
        TN = TN / TN.amax(dim=(1, 2), keepdim=True).clamp_min(1e-6) if TN is not None else None
        for step in range(self.epochs):
            opt.zero_grad()
            keep = (torch.rand(P, 1, device=dev) >= self.residual_dropout).float()
            U = self._embed(params, Tt, Nt, params["R"] * keep)  # P x k
            Yhat, logits = self._forward(params, U, range(C), params["s"] * keep[:, 0], TN)
            loss = (((Yhat - Yt) ** 2) * Mt).sum() / n_obs
            loss = loss + self.label_weight * (bce(logits, Lt) * LMt).sum() / n_lab
            loss.backward()
            opt.step()
            if step % 50 == 0 or step == self.epochs - 1:
                self.loss_history_.append(float(loss.detach()))
        self.params_ = {k_: v.detach().cpu() for k_, v in params.items()}
        self.T_, self.N_, self.NN_ = Tt.cpu(), Nt.cpu(), NNt.cpu()
        self.has_prior_ = TN is not None
        self.tn_scale_ = (
            torch.stack([Tt @ Nt, Tt @ NNt]).amax(dim=(1, 2)).clamp_min(1e-6).cpu()
            if TN is not None
            else None
        )

    @staticmethod
    def _embed(params: dict, T: Any, N: Any, R: Any) -> Any:
        V = params["V"]
        tv = T @ V
        nv = T @ (N @ V)
        return tv @ params["Wt"] + nv @ params["Wn"] + R

    @staticmethod
    def _forward(params: dict, U: Any, ctx: Any, s: Any = None, TN: Any = None) -> tuple[Any, Any]:
        """Effects and DE logits; ``TN`` = (2, P, G) prior reach of each perturbation's target (1 and 2 hops)."""
        import torch

        idx = list(ctx)
        M = params["M"][idx]  # C x k
        scale = torch.exp(params["a"][idx][:, None] + (params["s"] if s is None else s)[None, :])  # C x P
        core = torch.einsum("pk,ck,gk->cpg", U, M, params["V"])
        if TN is not None:
            core = core + torch.einsum("hpg,hg->pg", TN, params["d"])[None]
        Yhat = scale[:, :, None] * core + params["B"][idx][:, None, :]
        logits = torch.einsum("pk,ck,gk->cpg", U, M, params["V2"]) + params["b2"][idx][:, None, :]
        if TN is not None:
            logits = logits + torch.einsum("hpg,h->pg", TN, params["g"])[None]
        return Yhat, logits

    def _predict(self, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        import torch

        p_ = self.params_
        G = len(self.genes_)
        eff = np.zeros((len(q), G), np.float32)
        lab = np.zeros((len(q), G), np.float32)
        with torch.no_grad():
            for k_, (ctx, pert) in enumerate(zip(q["context"], q["perturbation"])):
                T = torch.zeros(1, G)
                for t in target_of(pert):
                    if t in self.gidx_:
                        T[0, self.gidx_[t]] = 1.0
                if pert in self.perts_:
                    j = self.perts_.index(pert)
                    R, s = p_["R"][j : j + 1], p_["s"][j : j + 1]
                else:
                    R, s = torch.zeros(1, p_["R"].shape[1]), torch.zeros(1)
                U = self._embed(p_, T, self.N_, R)
                TN = None
                if self.has_prior_ and self.tn_scale_ is not None:
                    TN = torch.stack([T @ self.N_, T @ self.NN_]) / self.tn_scale_[:, None, None]
                if ctx in self.contexts_:
                    Yhat, logits = self._forward(p_, U, [self.table_contexts_.index(ctx)], s, TN)
                else:  # unseen context: average the parameters of the contexts seen in training
                    seen = [self.table_contexts_.index(c) for c in self.contexts_]
                    avg = {key: (val[seen].mean(0, keepdim=True) if key in ("M", "a", "B", "b2") else val)
                           for key, val in p_.items()}  # fmt: skip
                    Yhat, logits = self._forward(avg, U, [0], s, TN)
                eff[k_] = Yhat[0, 0].numpy() * self.scale_y_
                lab[k_] = torch.sigmoid(logits[0, 0]).numpy()
        return eff, lab
