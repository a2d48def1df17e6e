"""A NOTEARS-style continuous optimiser in torch (Zheng et al. 2018) whose L1 penalty is lowered on prior edges.

Interventional rows are handled as in interventional NOTEARS variants: when fitting gene j's equation, rows where j
itself was intervened on are masked out (its value there is set by the experiment, not by its parents).
"""

from __future__ import annotations

import logging

import numpy as np
from anndata import AnnData

from ...config import resolve_device
from ...types.graph import EdgeLabels, EdgeScores
from .._compute import torch_threads
from .base import BaseLearner, intervened_mask

logger = logging.getLogger(__name__)


class NotearsLearner(BaseLearner):
    """Linear NOTEARS with an augmented Lagrangian on h(W) = tr(exp(W * W)) - p.

    Args:
        lambda1: L1 penalty.
        prior_discount: penalty on edge i->j is ``lambda1 * (1 - prior_discount * prior_ij)``.
        max_iter: outer augmented-Lagrangian iterations.
        inner_steps: Adam steps per outer iteration.
        lr: Adam learning rate.
        h_tol: acyclicity tolerance.
        device: ``auto``, ``cpu`` or ``cuda``; None: ``AITIA_DEVICE``.
        n_jobs: CPU threads for torch (None: ``AITIA_N_JOBS``).
        max_samples: rows used (controls and intervened rows both kept; None: all).
        random_state: seed.
    """

    name = "notears"
    max_genes = 300

    def __init__(self, lambda1: float = 0.05, prior_discount: float = 0.8, max_iter: int = 8, inner_steps: int = 150,
                 lr: float = 0.05, h_tol: float = 1e-6, device: str | None = None, n_jobs: int | None = None, max_samples: int | None = 20_000, random_state: int = 0) -> None:  # fmt: skip
        self.lambda1 = lambda1
        self.prior_discount = prior_discount
        self.max_iter = max_iter
        self.inner_steps = inner_steps
        self.lr = lr
        self.h_tol = h_tol
        self.device = device
        self.n_jobs = n_jobs
        self.max_samples = max_samples
        self.random_state = random_state

    def fit(
        self, adata: AnnData, prior: EdgeScores | None = None, labels: EdgeLabels | None = None
    ) -> NotearsLearner:
        with torch_threads(self.n_jobs):
            return self._fit_torch(adata, prior, labels)

    def _fit_torch(
        self, adata: AnnData, prior: EdgeScores | None, labels: EdgeLabels | None
    ) -> NotearsLearner:
        import torch

        self._prepare(adata, prior, labels)
        torch.manual_seed(self.random_state)
        dev = torch.device(resolve_device(self.device))
        # subsample rows with their labels, so the intervention mask below stays aligned with the kept rows
        sub = self._subsample(adata, self.max_samples, self.random_state)
        x = self._matrix(sub)
        # centre and scale by one global factor: per-gene standardisation would erase the variance ordering that
        # identifies directions in equal-noise linear models
        x = (x - x.mean(0)) / max(float(x.std()), 1e-12)
        n, p = x.shape
        # an intervened gene's own value is set by the experiment, not by its parents: leave it out of the loss
        # (every target of a combination too)
        mask = 1.0 - intervened_mask(sub, self.genes_).astype(np.float64)
        X = torch.tensor(x, dtype=torch.float32, device=dev)
        M = torch.tensor(mask, dtype=torch.float32, device=dev)
        pen = np.full((p, p), self.lambda1)
        if self.prior_ is not None:
            pen = self.lambda1 * (1 - self.prior_discount * self.prior_)
        P = torch.tensor(pen, dtype=torch.float32, device=dev)
        W = torch.zeros((p, p), device=dev, requires_grad=True)
        eye = torch.eye(p, device=dev)
        rho, alpha, h_prev = 1.0, 0.0, np.inf
        for _ in range(self.max_iter):
            opt = torch.optim.Adam([W], lr=self.lr)
            for _ in range(self.inner_steps):
                opt.zero_grad()
                Wm = W * (1 - eye)
                resid = (X - X @ Wm) * M
                loss = 0.5 / n * (resid**2).sum()
                h = torch.trace(torch.matrix_exp(Wm * Wm)) - p
                obj = loss + 0.5 * rho * h * h + alpha * h + (P * Wm.abs()).sum()
                obj.backward()
                opt.step()
            with torch.no_grad():
                h_val = float(torch.trace(torch.matrix_exp((W * (1 - eye)) ** 2)) - p)
            if h_val > 0.25 * h_prev:
                rho = min(rho * 10, 1e8)
            alpha += rho * h_val
            h_prev = h_val
            if h_val <= self.h_tol:
                break
        w = (W * (1 - eye)).detach().cpu().numpy()
        self.weights_ = w
        self.h_ = h_prev
        self.scores_ = np.abs(w)
        return self
