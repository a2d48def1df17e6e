"""Building EffectTables (:mod:`aitia.types.effects`) from perturbation data: per context and perturbation against
that context's controls, with the rules of the dataset the data came from.

Example:
    >>> from aitia import datasets
    >>> effects_from_adata(datasets.load("dream4-10-1"), method="robust_z", reference="all").shape
    (1, 10, 10)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from anndata import AnnData

from .. import datasets
from ..datasets.validate import CONTEXT_KEY, CONTROL, PERTURBATION_KEY, validate_perturbation_data
from ..errors import DataValidationError, UnknownGeneError
from ..types.effects import EffectTable

logger = logging.getLogger(__name__)


def _log_normalize(x: np.ndarray) -> np.ndarray:
    total = x.sum(1, keepdims=True)
    return np.log1p(x / np.maximum(total, 1e-12) * 1e4)


def effects_from_adata(
    adata: AnnData,
    method: str = "mannwhitney",
    alpha: float = 0.05,
    min_cells: int | None = None,
    normalize: str = "auto",
    reference: str = "control",
    z_threshold: float = 3.0,
) -> EffectTable:
    """Per context and perturbation vs that context's controls: effect (log fold change on log-normalised counts,
    or mean difference on already-transformed data), and a DE label from the test (q <= alpha, or |robust z| >=
    ``z_threshold`` for ``method="robust_z"``).

    Args:
        normalize: ``auto`` log-normalises (counts per 10k, log1p) when the data look like counts; ``log`` always;
            ``none`` never.
    """
    from .truth import interventional_truth

    adata = validate_perturbation_data(adata, require_control=reference == "control", inplace=False)
    x = adata.X
    sample = x[: min(adata.n_obs, 500)]
    sample = sample.toarray() if sp.issparse(sample) else np.asarray(sample)
    looks_counts = bool((sample >= 0).all() and np.allclose(sample, np.round(sample)) and sample.max() > 1)
    if normalize == "log" or (normalize == "auto" and looks_counts):
        dense = x.toarray() if sp.issparse(x) else np.asarray(x, dtype=np.float64)
        adata = AnnData(_log_normalize(dense).astype(np.float32), obs=adata.obs.copy(), var=adata.var.copy(),
                        uns=dict(adata.uns))  # fmt: skip
    contexts = list(dict.fromkeys(adata.obs[CONTEXT_KEY].astype(str)))
    genes = [str(g) for g in adata.var_names]
    per_ctx = []
    for ctx in contexts:
        in_ctx = (adata.obs[CONTEXT_KEY].astype(str) == ctx).to_numpy()
        if reference == "control" and not (adata.obs.loc[in_ctx, PERTURBATION_KEY] == CONTROL).any():
            # no controls of its own (e.g. sachs' unstimulated PMA/b2cAMP cells): compare with every control
            logger.info("context %r has no controls; using the controls of all contexts", ctx)
            in_ctx = in_ctx | (adata.obs[PERTURBATION_KEY] == CONTROL).to_numpy()
        sub = adata[in_ctx].copy()
        sub.obs[CONTEXT_KEY] = ctx
        if not (sub.obs[PERTURBATION_KEY] != CONTROL).any():
            continue  # a context of controls only
        try:
            t = interventional_truth(sub, method=method, alpha=alpha, min_cells=min_cells, reference=reference,  # type: ignore[arg-type]
                                     z_threshold=z_threshold, progress=False)  # fmt: skip
        except DataValidationError as exc:
            logger.info("context %r skipped: %s", ctx, exc)
            continue
        per_ctx.append((ctx, t))
    if not per_ctx:
        raise DataValidationError("No context had testable perturbations and controls.")
    perts = list(dict.fromkeys(p for _, t in per_ctx for p in t.groups["perturbation"]))
    eff = np.full((len(per_ctx), len(perts), len(genes)), np.nan, np.float32)
    lab = eff.copy()
    for c, (_, t) in enumerate(per_ctx):
        labels = t._group_labels()
        for g_row, p in enumerate(t.groups["perturbation"]):
            k = perts.index(p)
            eff[c, k] = t.effect[g_row] if method != "robust_z" else t.statistic[g_row]
            lab[c, k] = labels[g_row]
    return EffectTable([c for c, _ in per_ctx], perts, genes, eff, lab,
                       meta={"source": (adata.uns.get("aitia") or {}).get("dataset", "adata"), "method": method})  # fmt: skip


def effects_for_dataset(name: str, **load_options: Any) -> EffectTable:
    """EffectTable of a built-in dataset, built as its registry entry says (:class:`aitia.datasets.EffectSettings`).

    Args:
        name: a built-in dataset.
        **load_options: passed to ``datasets.load`` (e.g. ``instance=3``), over the entry's own options.

    Example:
        >>> effects_for_dataset("dream4-10-1").contexts
        ['knockout', 'knockdown']
    """
    rule = datasets.rules(name).effects
    return dataset_effects(datasets.load(name, **(rule.load_options | load_options)))


def dataset_effects(adata: AnnData) -> EffectTable:
    """EffectTable of perturbation data, built with the rules of the dataset it was loaded from (defaults for
    user data; see :func:`aitia.datasets.rules_for`).

    Example:
        >>> from aitia import datasets
        >>> dataset_effects(datasets.load("dream4-10-1")).contexts
        ['knockout', 'knockdown']
    """
    rule = datasets.rules_for(adata).effects
    if not rule.contexts_from_intervention_types:
        return effects_from_adata(adata, **rule.effect_kwargs())
    itype = adata.obs["intervention_type"].astype(str)
    parts = []
    for ctx in rule.contexts_from_intervention_types:
        sub = adata[itype.isin([ctx, *rule.shared_intervention_types]).to_numpy()].copy()
        sub.obs[CONTEXT_KEY] = ctx
        parts.append(effects_from_adata(sub, **rule.effect_kwargs()))
    return _stack(parts, datasets.dataset_name(adata) or "adata")


def _stack(tables: list[EffectTable], source: str) -> EffectTable:
    perts = list(dict.fromkeys(p for t in tables for p in t.perturbations))
    genes = tables[0].genes
    ctxs = [c for t in tables for c in t.contexts]
    eff = np.full((len(ctxs), len(perts), len(genes)), np.nan, np.float32)
    lab = eff.copy()
    c0 = 0
    for t in tables:
        r = t.reindex(t.contexts, perts, genes)
        eff[c0 : c0 + len(t.contexts)] = r.effect
        lab[c0 : c0 + len(t.contexts)] = r.label
        c0 += len(t.contexts)
    return EffectTable(ctxs, perts, genes, eff, lab, meta={"source": source})


def require_genes(table: EffectTable, genes: Sequence[str]) -> None:
    unknown = [g for g in genes if g not in set(table.genes)]
    if unknown:
        raise UnknownGeneError(
            f"Genes not in the effect table: {unknown[:10]} (table has {len(table.genes)} genes)."
        )
