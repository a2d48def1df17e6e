"""Deep causal structure learning after Lagemann et al. (Nature Machine Intelligence 2023, "D2C"-style).

For each ordered pair (i, j): a density image (2-D histogram of the standardised pair) goes through a small CNN;
a graph neural network over a gene graph (the prior when given, else a k-nearest-neighbour |correlation| graph)
embeds both genes in their neighbourhood; an MLP joins the image embedding, both node embeddings and a few scalar
pair statistics (prior, intervention shifts) into an edge probability. Trained on labelled pairs; predicts every
pair by streaming: images are built on the fly per batch from binned data, never p^2 at once. Mixed precision on GPU.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from anndata import AnnData

from ...config import resolve_device
from ...errors import DataValidationError
from ...types.graph import EdgeLabels, EdgeScores
from .._compute import torch_threads
from .base import BaseLearner
from .features import PairStatistics, all_pairs_blocks, derive_labels, training_pairs

logger = logging.getLogger(__name__)

_SCALARS = ("prior_ij", "prior_ji", "shift_ij", "has_shift_ij", "shift_ji", "has_shift_ji", "corr", "abs_corr_rank_row",
            "abs_corr_rank_col", "asym_diff")  # fmt: skip


def _build_model(bins: int, node_in: int, hidden: int, n_scalars: int) -> Any:
    import torch
    from torch import nn

    class PairCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(
                nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(16 * (bins // 4) ** 2, hidden), nn.ReLU(),
            )  # fmt: skip

        def forward(self, img: torch.Tensor) -> torch.Tensor:
            return self.net(img)

    class GCN(nn.Module):
        """Two graph-convolution layers, H' = relu(A_hat H W), over the whole gene graph."""

        def __init__(self) -> None:
            super().__init__()
            self.l1 = nn.Linear(node_in, hidden)
            self.l2 = nn.Linear(hidden, hidden)

        def forward(self, a_hat: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
            h = torch.relu(torch.sparse.mm(a_hat, self.l1(h)))
            return torch.relu(torch.sparse.mm(a_hat, self.l2(h)))

    class EdgeModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cnn = PairCNN()
            self.gnn = GCN()
            self.head = nn.Sequential(
                nn.Linear(hidden * 4 + n_scalars, hidden), nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, 1)
            )

        def forward(self, img: torch.Tensor, nodes: torch.Tensor, i: torch.Tensor, j: torch.Tensor,
                    scalars: torch.Tensor) -> torch.Tensor:  # fmt: skip
            hi, hj = nodes[i], nodes[j]
            z = torch.cat([self.cnn(img), hi, hj, hi * hj, scalars], dim=1)
            return self.head(z).squeeze(1)

    return EdgeModel()


class DeepLearner(BaseLearner):
    """CNN on pair density images + GNN on a gene graph + MLP, trained on labelled pairs.

    Args:
        bins: image size (bins x bins, multiple of 4).
        hidden: width of every embedding.
        graph_neighbors: k of the data-derived kNN graph (|correlation|).
        prior_graph_weight: weight of the prior's graph against the kNN graph in the GNN's gene graph (1: the prior
            alone, the behaviour before this option; 0: the data alone); without a prior, the kNN graph.
        epochs: passes over the training pairs (at least ``min_steps`` optimiser steps in total).
        min_steps: minimum optimiser steps, so small label sets are still trained properly.
        batch_size: pairs per batch.
        lr: AdamW learning rate.
        max_train_pairs: labelled pairs sampled for training.
        max_samples: rows used for images and statistics.
        use_interventions: intervention-shift scalars (and labels derived from them when none are given).
        device: ``auto``, ``cpu`` or ``cuda``; None: ``AITIA_DEVICE``; mixed precision is used on CUDA.
        n_jobs: CPU threads for torch (None: ``AITIA_N_JOBS``).
        progress: progress bars.
        random_state: seed.
    """

    name = "deep"
    uses_labels = True

    def __init__(self, bins: int = 16, hidden: int = 32, graph_neighbors: int = 10, prior_graph_weight: float = 0.5,
                 epochs: int = 6,
                 min_steps: int = 400, batch_size: int = 1024, lr: float = 3e-3, max_train_pairs: int = 100_000, max_samples: int = 2000,
                 use_interventions: bool = True, z_threshold: float = 3.0, device: str | None = None, n_jobs: int | None = None, progress: bool = False,
                 random_state: int = 0) -> None:  # fmt: skip
        self.bins = bins
        self.hidden = hidden
        self.graph_neighbors = graph_neighbors
        self.prior_graph_weight = prior_graph_weight
        self.epochs = epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.lr = lr
        self.max_train_pairs = max_train_pairs
        self.max_samples = max_samples
        self.use_interventions = use_interventions
        self.z_threshold = z_threshold
        self.device = device
        self.n_jobs = n_jobs
        self.progress = progress
        self.random_state = random_state

    # ------------------------------------------------------------------ pieces
    def _images(self, codes: Any, i: Any, j: Any) -> Any:
        """(B, 1, bins, bins) density images built from per-sample bin codes (n x p) for pairs i -> j."""
        import torch

        b = self.bins
        idx = (codes[:, i] * b + codes[:, j]).T  # B x n
        hist = torch.zeros((idx.shape[0], b * b), device=codes.device)
        hist.scatter_add_(1, idx, torch.ones_like(idx, dtype=hist.dtype))
        hist /= codes.shape[0]
        return hist.view(-1, 1, b, b)

    def _graph(self, stats: PairStatistics) -> tuple[Any, np.ndarray]:
        """Normalised adjacency (torch sparse) and node input features."""
        import torch

        p = self.n_genes_
        k = min(self.graph_neighbors, p - 1)
        nn_idx = np.argpartition(-np.abs(stats.corr), k, axis=1)[:, :k]
        a = np.zeros((p, p), np.float32)
        a[np.repeat(np.arange(p), k), nn_idx.ravel()] = 1.0
        a = np.maximum(a, a.T)
        # the prior's edges are mixed in, not replacing the data's
        if self.prior_ is not None and (self.prior_ > 0).any():
            w = self.prior_graph_weight
            a = w * ((self.prior_ + self.prior_.T) > 0).astype(np.float32) + (1.0 - w) * a
        a += np.eye(p, dtype=np.float32)
        d = 1.0 / np.sqrt(a.sum(1))
        rows, cols = np.nonzero(a)
        vals = (d[rows] * d[cols]).astype(np.float32)
        a_hat = torch.sparse_coo_tensor(
            torch.tensor(np.vstack([rows, cols])), torch.tensor(vals), (p, p), check_invariants=False
        ).coalesce()
        deg = (a.sum(1) - 1) / max(p - 1, 1)
        shift_out = np.nan_to_num(np.abs(stats.shift)).mean(1)
        shift_in = np.nan_to_num(np.abs(stats.shift)).mean(0)
        feats = np.stack([stats.hub, stats.skew, stats.zero_frac, deg, shift_out, shift_in,
                          (~np.isnan(stats.shift)).any(1).astype(np.float32)], axis=1).astype(np.float32)  # fmt: skip
        feats = (feats - feats.mean(0)) / (feats.std(0) + 1e-6)
        return a_hat, feats

    def _scalars(self, stats: PairStatistics, src: np.ndarray, tgt: np.ndarray) -> np.ndarray:
        from .features import FEATURE_NAMES

        f = stats.features(src, tgt)
        cols = [FEATURE_NAMES.index(c) for c in _SCALARS]
        out = f[:, cols]
        out[:, 2] = np.clip(out[:, 2], -10, 10) / 5
        out[:, 4] = np.clip(out[:, 4], -10, 10) / 5
        return out

    def _train(self, scal_np: np.ndarray, src: np.ndarray, tgt: np.ndarray, yy: np.ndarray, codes_t: Any,
               a_hat: Any, node_x: Any, dev: Any, use_amp: bool) -> tuple[Any, list[float]]:  # fmt: skip
        """Train one edge model on the labelled pairs; returns it in eval mode and its loss per epoch."""
        import torch
        from rich.progress import Progress

        torch.manual_seed(self.random_state)
        scal_train = torch.tensor(scal_np, device=dev)
        model = _build_model(self.bins, node_x.shape[1], self.hidden, len(_SCALARS)).to(dev)
        opt = torch.optim.AdamW(model.parameters(), lr=self.lr, weight_decay=1e-4)
        pos_weight = torch.tensor((1 - yy.mean()) / max(yy.mean(), 1e-6), device=dev)
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
        src_t, tgt_t, y_t = (torch.tensor(v, device=dev) for v in (src, tgt, yy))
        batch_size = int(min(self.batch_size, max(32, len(src) // 8)))
        n_batches = int(np.ceil(len(src) / batch_size))
        epochs = max(self.epochs, int(np.ceil(self.min_steps / n_batches)))
        history: list[float] = []
        model.train()
        with Progress(transient=True, disable=not self.progress) as bar:
            task = bar.add_task("deep: training", total=epochs * n_batches)
            for _ in range(epochs):
                order = torch.randperm(len(src), device=dev)
                total = 0.0
                for b in range(n_batches):
                    sel = order[b * batch_size : (b + 1) * batch_size]
                    i, j = src_t[sel], tgt_t[sel]
                    with torch.autocast(device_type=dev.type, enabled=use_amp):
                        nodes = model.gnn(a_hat, node_x)
                        logits = model(self._images(codes_t, i, j), nodes, i, j, scal_train[sel])
                        loss = loss_fn(logits.float(), y_t[sel])
                    opt.zero_grad()
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                    total += float(loss.detach())
                    bar.advance(task)
                history.append(total / n_batches)
        model.eval()
        return model, history

    # ------------------------------------------------------------------ fit
    def fit(
        self, adata: AnnData, prior: EdgeScores | None = None, labels: EdgeLabels | None = None
    ) -> DeepLearner:
        with torch_threads(self.n_jobs):
            return self._fit_torch(adata, prior, labels)

    def _fit_torch(self, adata: AnnData, prior: EdgeScores | None, labels: EdgeLabels | None) -> DeepLearner:
        import torch

        if self.bins % 4:
            raise DataValidationError(f"bins must be a multiple of 4, got {self.bins}.")
        if not 0.0 <= self.prior_graph_weight <= 1.0:
            raise DataValidationError(
                f"prior_graph_weight must lie in [0, 1], got {self.prior_graph_weight}."
            )
        self._prepare(adata, prior, labels)
        torch.manual_seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        dev = torch.device(resolve_device(self.device))
        use_amp = dev.type == "cuda"
        x_all = self._matrix(adata)
        stats = PairStatistics.compute(adata, x_all, self.genes_, self.prior_, self.use_interventions)
        x = (
            x_all
            if len(x_all) <= self.max_samples
            else x_all[rng.choice(len(x_all), self.max_samples, replace=False)]
        )
        z = self._standardize(x)
        codes = np.clip(((z + 3) / 6 * self.bins).astype(np.int64), 0, self.bins - 1)
        codes_t = torch.tensor(codes, device=dev)
        del x_all

        y = (
            self._label_matrix()
            if labels is not None
            else derive_labels(stats, self.prior_, self.z_threshold)
        )
        src, tgt, yy_f = training_pairs(y, self.max_train_pairs, rng)
        yy = yy_f.astype(np.float32)

        a_hat, node_feats = self._graph(stats)
        a_hat, node_x = a_hat.to(dev), torch.tensor(node_feats, device=dev)
        scal_np = self._scalars(stats, src, tgt)
        has_shift = scal_np[:, 3] > 0  # has_shift_ij
        model, self.loss_history_ = self._train(scal_np, src, tgt, yy, codes_t, a_hat, node_x, dev, use_amp)
        self.obs_loss_history_: list[float] = []
        # Pairs whose source was never perturbed have no shift scalars: score them with a model trained with the
        # shifts hidden, rather than extrapolating the first model outside what it saw.
        obs_model = None
        unperturbed = np.isnan(stats.shift).all(axis=1)
        if has_shift.any() and unperturbed.any():
            hidden = scal_np.copy()
            hidden[:, 2:4] = 0.0
            obs_model, self.obs_loss_history_ = self._train(
                hidden, src, tgt, yy, codes_t, a_hat, node_x, dev, use_amp
            )

        from rich.progress import Progress

        scores = np.zeros((self.n_genes_, self.n_genes_), dtype=np.float32)
        blocks = list(all_pairs_blocks(self.n_genes_, block_pairs=max(self.batch_size * 16, 65_536)))
        with torch.no_grad(), Progress(transient=True, disable=not self.progress) as bar:
            task = bar.add_task("deep: scoring pairs", total=len(blocks))
            with torch.autocast(device_type=dev.type, enabled=use_amp):
                nodes = model.gnn(a_hat, node_x)
                obs_nodes = obs_model.gnn(a_hat, node_x) if obs_model is not None else None
            for s_np, t_np in blocks:
                scal_block = self._scalars(stats, s_np, t_np)
                scal = torch.tensor(scal_block, device=dev)
                no_shift = torch.tensor(scal_block[:, 3] == 0, device=dev)
                s_t, t_t = torch.tensor(s_np, device=dev), torch.tensor(t_np, device=dev)
                out = []
                for b in range(0, len(s_np), self.batch_size * 4):
                    sl = slice(b, b + self.batch_size * 4)
                    img = self._images(codes_t, s_t[sl], t_t[sl])
                    with torch.autocast(device_type=dev.type, enabled=use_amp):
                        logit = model(img, nodes, s_t[sl], t_t[sl], scal[sl]).float()
                        if obs_model is not None and bool(no_shift[sl].any()):
                            obs_logit = obs_model(img, obs_nodes, s_t[sl], t_t[sl], scal[sl]).float()
                            logit = torch.where(no_shift[sl], obs_logit, logit)
                    out.append(torch.sigmoid(logit).cpu().numpy())
                scores[s_np, t_np] = np.concatenate(out)
                bar.advance(task)
        self.model_ = model.cpu()
        self.observational_model_ = obs_model.cpu() if obs_model is not None else None
        self.scores_ = scores
        self.device_ = str(dev)
        return self
