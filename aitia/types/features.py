"""GeneFeatures: a vector per gene (from text, curated networks or expression) that predictors use when a gene's
own data are missing, e.g. to find the training perturbations most like an unseen one.

Example:
    >>> import numpy as np
    >>> f = GeneFeatures(["A", "B"], np.eye(2), sources=["toy"])
    >>> f.reindex(["B", "C"]).values.tolist(), f.reindex(["B", "C"]).present.tolist()
    ([[0.0, 1.0], [0.0, 0.0]], [True, False])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DataValidationError


@dataclass
class GeneFeatures:
    """Rows of ``values`` are the features of ``genes``; ``present`` marks genes that have real features (a
    reindexed gene without any gets zeros and ``present=False``). ``block_sizes`` gives the columns of each source,
    in order (default: one block), so a predictor can weigh the sources against each other."""

    genes: list[str]
    values: np.ndarray
    sources: list[str] = field(default_factory=list)
    present: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    block_sizes: list[int] | None = None

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float32)
        if self.values.ndim != 2 or self.values.shape[0] != len(self.genes):
            raise DataValidationError(
                f"GeneFeatures needs one row per gene: {len(self.genes)} genes, values {self.values.shape}."
            )
        if len(set(self.genes)) != len(self.genes):
            raise DataValidationError("GeneFeatures has duplicated gene names.")
        if self.present is None:
            self.present = np.ones(len(self.genes), dtype=bool)
        if self.block_sizes is None:
            self.block_sizes = [self.dim]
        if sum(self.block_sizes) != self.dim or min(self.block_sizes, default=0) < 1:
            raise DataValidationError(
                f"GeneFeatures block sizes {self.block_sizes} must be positive and add up to {self.dim} columns."
            )

    @property
    def block_widths(self) -> list[int]:
        """Columns of each source's block, in order (one block unless sources were concatenated)."""
        return list(self.block_sizes) if self.block_sizes else [self.dim]

    def blocks(self) -> list[np.ndarray]:
        """``values`` split into its sources' column blocks."""
        return np.split(self.values, np.cumsum(self.block_widths)[:-1], axis=1)

    @property
    def dim(self) -> int:
        return int(self.values.shape[1])

    def reindex(self, genes: Sequence[str]) -> GeneFeatures:
        """Features of ``genes`` in that order (zeros, ``present=False``, for unknown genes)."""
        idx = {g: i for i, g in enumerate(self.genes)}
        rows = np.array([idx.get(str(g), -1) for g in genes])
        vals = np.zeros((len(rows), self.dim), np.float32)
        ok = rows >= 0
        vals[ok] = self.values[rows[ok]]
        assert self.present is not None
        present = np.zeros(len(rows), dtype=bool)
        present[ok] = self.present[rows[ok]]
        return GeneFeatures([str(g) for g in genes], vals, list(self.sources), present, dict(self.meta),
                            self.block_widths)  # fmt: skip

    def normalized(self) -> GeneFeatures:
        """Rows scaled to unit length (cosine similarity becomes a dot product)."""
        norm = np.linalg.norm(self.values, axis=1, keepdims=True)
        return GeneFeatures(list(self.genes), self.values / np.where(norm > 0, norm, 1.0), list(self.sources),
                            self.present.copy() if self.present is not None else None, dict(self.meta),
                            self.block_widths)  # fmt: skip

    def concat(self, other: GeneFeatures) -> GeneFeatures:
        """Side-by-side blocks over the union of genes (each block normalised first, so neither dominates)."""
        genes = list(dict.fromkeys([*self.genes, *other.genes]))
        a, b = self.normalized().reindex(genes), other.normalized().reindex(genes)
        assert a.present is not None and b.present is not None
        return GeneFeatures(genes, np.hstack([a.values, b.values]), [*self.sources, *other.sources],
                            a.present | b.present, {**self.meta, **other.meta},
                            [*a.block_widths, *b.block_widths])  # fmt: skip

    def shuffled(self, seed: int = 0) -> GeneFeatures:
        """The same rows under permuted gene names: the control that must fail."""
        perm = np.random.default_rng(seed).permutation(len(self.genes))
        assert self.present is not None
        return GeneFeatures([self.genes[i] for i in perm], self.values.copy(), [f"{s} (shuffled)" for s in self.sources],
                            self.present.copy(), dict(self.meta), self.block_widths)  # fmt: skip
