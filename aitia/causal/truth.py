"""Ground truth from interventions: does intervening on A shift B versus control?

The test streams over (context, perturbation, intervention type) groups: only the controls of one context and
the cells of one group are in memory at a time, so it scales to thousands of perturbations x thousands of genes.

Example:
    >>> from aitia import datasets
    >>> truth = interventional_truth(datasets.load("sachs"), progress=False)
    >>> bool(truth.labels.values[truth.labels.sources.index("Mek"), truth.labels.targets.index("Erk")])
    True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData
from scipy import stats

from .. import datasets
from ..datasets.validate import (
    CONTEXT_KEY,
    CONTROL,
    INTERVENTION_KEY,
    NON_NODE_INTERVENTIONS,
    PERTURBATION_KEY,
    split_targets,
    validate_perturbation_data,
)
from ..errors import DataValidationError
from ..executor import Executor, get_executor
from ..types.graph import EdgeLabels

logger = logging.getLogger(__name__)

Method = Literal["mannwhitney", "ttest", "robust_z"]
_N_QUANTILES = 100


@dataclass
class InterventionalTruth:
    """Per-group test statistics and the edge labels they imply.

    Attributes:
        labels: EdgeLabels; rows = intervened genes, columns = measured genes. A gene intervened in several
            groups (e.g. inhibited and activated) is labelled 1 if any group shifts the target.
        groups: one row per tested group: source, perturbation, context, intervention_type, n_cells, n_control.
        effect: ``(n_groups, n_genes)`` mean(group) - mean(control), in the data's units (log data: log fold change).
        statistic: z of the Mann-Whitney U, Welch t, or robust z = (median(group) - median(ctrl)) / IQR(ctrl).
        pvalue, qvalue: two-sided p and (BH-corrected over all tests) q.
        wasserstein: 1-D Wasserstein-1 distance between group and control distributions per gene.
        genes: measured genes (columns).
        params: the arguments used.
    """

    labels: EdgeLabels
    groups: pd.DataFrame
    effect: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    qvalue: np.ndarray
    wasserstein: np.ndarray
    genes: list[str]
    params: dict[str, Any] = field(default_factory=dict)

    def to_frame(self, significant_only: bool = False) -> pd.DataFrame:
        """Long table: one row per (group, gene) with every statistic and the label."""
        n_g, n_v = self.effect.shape
        gi = np.repeat(np.arange(n_g), n_v)
        vi = np.tile(np.arange(n_v), n_g)
        df = pd.DataFrame(
            {
                "source": self.groups["source"].to_numpy()[gi],
                "context": self.groups["context"].to_numpy()[gi],
                "intervention_type": self.groups["intervention_type"].to_numpy()[gi],
                "target": np.asarray(self.genes, dtype=object)[vi],
                "effect": self.effect.ravel(),
                "statistic": self.statistic.ravel(),
                "pvalue": self.pvalue.ravel(),
                "qvalue": self.qvalue.ravel(),
                "wasserstein": self.wasserstein.ravel(),
                "label": self._group_labels().ravel().astype(int),
            }
        )
        return df[df["label"] == 1].reset_index(drop=True) if significant_only else df

    def _group_labels(self) -> np.ndarray:
        return self.significant(self.statistic, self.qvalue)

    def significant(self, statistic: Any, qvalue: Any) -> np.ndarray:
        """The labelling rule on statistics of any shape (e.g. the rows :meth:`lookup` returns): ``|z|`` at or above
        the threshold for ``robust_z``, else ``q <= alpha``."""
        if self.params.get("method") == "robust_z":
            return np.abs(np.nan_to_num(np.asarray(statistic, dtype=float))) >= self.params["z_threshold"]
        return np.nan_to_num(np.asarray(qvalue, dtype=float), nan=1.0) <= self.params["alpha"]

    def lookup(self, source: str, target: str) -> pd.DataFrame:
        """Statistics of every group intervening on ``source`` for gene ``target``."""
        if target not in self.genes:
            raise DataValidationError(f"{target!r} is not a measured gene.")
        j = self.genes.index(target)
        rows = np.flatnonzero(self.groups["source"].to_numpy() == source)
        out = self.groups.iloc[rows].copy()
        for name in ("effect", "statistic", "pvalue", "qvalue", "wasserstein"):
            out[name] = getattr(self, name)[rows, j]
        return out.reset_index(drop=True)


def truth_settings(dataset: str | AnnData) -> dict[str, Any]:
    """The interventional-truth settings of a built-in dataset (by name or loaded AnnData); defaults for user data.

    The rule lives in the dataset's registry entry (:func:`aitia.datasets.rules`).

    Example:
        >>> truth_settings("dream4-10-1")["reference"]
        'all'
    """
    rules = datasets.rules(dataset) if isinstance(dataset, str) else datasets.rules_for(dataset)
    return rules.truth.kwargs()


def dataset_truth(adata: AnnData, progress: bool = False, **overrides: Any) -> InterventionalTruth:
    """:func:`interventional_truth` with the settings of the dataset ``adata`` was loaded from.

    Example:
        >>> dataset_truth(datasets.load("dream4-10-1")).labels.n_positive > 0
        True
    """
    settings = truth_settings(adata) | overrides
    from ..cache import cached, file_stamp

    # where it runs (executor) does not change the result, so it is not part of the key
    key = ["truth", {k: v for k, v in settings.items() if k != "executor"}, _data_fingerprint(adata),
           file_stamp(__file__)]  # fmt: skip
    return cached("truth", key, lambda: interventional_truth(adata, progress=progress, **settings),
                  enabled=not adata.isbacked)  # fmt: skip


def _data_fingerprint(adata: AnnData) -> str:
    """A content hash of what the truth is computed from: the matrix, the design columns and the gene names."""
    from ..cache import fingerprint

    x = adata.X
    parts = [x.data, x.indices, x.indptr] if sp.issparse(x) else [np.ascontiguousarray(x)]
    design = [adata.obs[c].astype(str).tolist() for c in (PERTURBATION_KEY, CONTEXT_KEY, INTERVENTION_KEY)
              if c in adata.obs]  # fmt: skip
    return fingerprint(*parts, design, [str(v) for v in adata.var_names], list(adata.shape))


def dataset_truths(name: str, adata: AnnData | None = None, method: str | None = None) -> dict[str, Any]:
    """Every truth that scores a graph on a built-in dataset: its evaluation truths (never the training split) and,
    when its interventions can be tested, ``"interventional"``.

    Args:
        name: a built-in dataset.
        adata: the loaded data (default: ``datasets.load(name)``).
        method: overrides the dataset's interventional test (mannwhitney | ttest | robust_z).

    Example:
        >>> sorted(dataset_truths("dream4-10-1"))
        ['gold', 'interventional']
    """
    truths: dict[str, Any] = dict(datasets.evaluation_truths(name))
    adata = adata if adata is not None else datasets.load(name)
    try:
        overrides: dict[str, Any] = {"method": method} if method else {}
        truths["interventional"] = dataset_truth(adata, **overrides)
    except DataValidationError as exc:  # no testable interventions: the named truths still score
        logger.info("%s: no interventional truth (%s)", name, exc)
    return truths


def interventional_truth(
    adata: AnnData,
    method: Method = "mannwhitney",
    alpha: float = 0.05,
    correction: Literal["bh", "none"] = "bh",
    min_cells: int | None = None,
    z_threshold: float = 5.0,
    reference: Literal["control", "all"] = "control",
    max_control_cells: int | None = 20_000,
    seed: int = 0,
    progress: bool = True,
    executor: str | Executor | None = None,
) -> InterventionalTruth:
    """For each intervened gene A and measured gene B: does intervening on A shift B versus control?

    Args:
        adata: perturbation data (samples x genes); dense, sparse or backed.
        method: ``mannwhitney`` (rank test, default for single cells), ``ttest`` (Welch) or ``robust_z``
            (for one or few samples per perturbation, as in Kemmeren et al.: label if |z| >= ``z_threshold``).
        alpha: q-value (or p-value with ``correction="none"``) threshold for a label of 1.
        correction: ``bh`` (Benjamini-Hochberg over all tests) or ``none``.
        min_cells: groups with fewer samples are skipped (default 3 for the tests, 1 for robust_z).
        z_threshold: |robust z| threshold (robust_z only).
        reference: ``control`` compares with the controls of the group's context (all controls when the context
            has none); ``all`` compares with every other sample (for data without controls, e.g. DREAM4 knockouts).
        max_control_cells: subsample controls per context above this size (keeps memory bounded).
        seed: seed of the control subsampling.
        progress: show a progress bar.
        executor: where the per-group tests run: ``local``, ``ray`` or an Executor (None: ``AITIA_EXECUTOR``);
            the statistics are identical across executors.

    Returns:
        :class:`InterventionalTruth`.

    Raises:
        DataValidationError: unknown method, no testable groups, no controls.
    """
    if method not in ("mannwhitney", "ttest", "robust_z"):
        raise DataValidationError(f"Method {method!r} not recognised. Options: mannwhitney, ttest, robust_z.")
    if correction not in ("bh", "none"):
        raise DataValidationError(f"Correction {correction!r} not recognised. Options: bh, none.")
    if not 0 < alpha < 1:
        raise DataValidationError(f"alpha must be in (0, 1), got {alpha}.")
    adata = validate_perturbation_data(adata, require_control=reference == "control", inplace=False)
    if min_cells is None:
        min_cells = 1 if method == "robust_z" else 3
    obs = adata.obs
    genes = [str(g) for g in adata.var_names]
    n_vars = len(genes)
    rng = np.random.default_rng(seed)

    keys = obs[[CONTEXT_KEY, PERTURBATION_KEY, INTERVENTION_KEY]].astype(str)
    grouped = keys.groupby(
        [CONTEXT_KEY, PERTURBATION_KEY, INTERVENTION_KEY], sort=True, observed=True
    ).indices
    ctrl_mask = (obs[PERTURBATION_KEY] == CONTROL).to_numpy()
    plan: list[tuple[str, str, str, np.ndarray]] = []
    skipped: dict[str, int] = {"combination": 0, "non-node": 0, "too small": 0}
    for (ctx, pert, itype), idx in grouped.items():
        if pert == CONTROL:
            continue
        if itype in NON_NODE_INTERVENTIONS:
            skipped["non-node"] += 1
            continue
        if len(split_targets(pert)) != 1:
            skipped["combination"] += 1
            continue
        if len(idx) < min_cells:
            skipped["too small"] += 1
            continue
        plan.append((ctx, pert, itype, np.sort(np.asarray(idx))))
    if any(skipped.values()):
        logger.info("interventional_truth skipped groups: %s", skipped)
    if not plan:
        raise DataValidationError(
            f"No testable perturbation groups (skipped: {skipped}). Need single-target perturbations with at least "
            f"min_cells={min_cells} samples; for one sample per perturbation use method='robust_z'."
        )

    n_groups = len(plan)
    refs: dict[str, _Reference] = {}
    fallback: list[str] = []
    levels = (np.arange(_N_QUANTILES) + 0.5) / _N_QUANTILES
    if reference == "control":  # one reference per context, built once (in plan order: the same subsample)
        for ctx in dict.fromkeys(c for c, _, _, _ in plan):
            ctx_ctrl = np.flatnonzero(ctrl_mask & (obs[CONTEXT_KEY].to_numpy() == ctx))
            if len(ctx_ctrl) == 0:
                logger.info("context %r has no controls; using the controls of all contexts", ctx)
                fallback.append(ctx)
                ctx_ctrl = np.flatnonzero(ctrl_mask)
            if max_control_cells and len(ctx_ctrl) > max_control_cells:
                ctx_ctrl = np.sort(rng.choice(ctx_ctrl, max_control_cells, replace=False))
            refs[ctx] = _Reference.build(_rows(adata.X, ctx_ctrl), method, levels)
    ex = get_executor(executor)
    if ex.name != "local" and adata.isbacked:
        logger.warning(
            "backed AnnData cannot be shipped to %s workers; testing groups in this process", ex.name
        )
        ex = get_executor("local")
    try:
        tested = ex.map(_test_group, [(ctx, idx) for ctx, _, _, idx in plan],
                        shared={"x": adata.X, "refs": refs, "method": method, "levels": levels},
                        description="interventional truth", progress=progress)  # fmt: skip
    finally:
        if not isinstance(executor, Executor):
            ex.close()
    out = {k: np.stack([t[k] for t in tested]) for k in ("effect", "stat", "p", "w")}
    rows = [
        {"source": split_targets(pert)[0], "perturbation": pert, "context": ctx, "intervention_type": itype,
         "n_cells": len(idx), "n_control": t["n_control"]}
        for (ctx, pert, itype, idx), t in zip(plan, tested)
    ]  # fmt: skip
    assert len(rows) == n_groups

    pvals = out["p"].astype(np.float64)
    q = np.full_like(pvals, np.nan)
    finite = np.isfinite(pvals)
    if correction == "bh" and finite.any():
        q[finite] = stats.false_discovery_control(pvals[finite], method="bh")
    else:
        q = pvals.copy()
    groups = pd.DataFrame(rows)
    params = {
        "method": method,
        "alpha": alpha,
        "correction": correction,
        "min_cells": min_cells,
        "z_threshold": z_threshold,
        "reference": reference,
        "skipped": skipped,
        "contexts_without_controls": fallback,
    }
    result = InterventionalTruth(
        labels=EdgeLabels(np.zeros((0, 0)), [], []),
        groups=groups,
        effect=out["effect"],
        statistic=out["stat"],
        pvalue=out["p"],
        qvalue=q.astype(np.float32),
        wasserstein=out["w"],
        genes=genes,
        params=params,
    )
    group_labels = result._group_labels()
    sources = list(dict.fromkeys(groups["source"]))
    lab = np.zeros((len(sources), n_vars))
    src_index = {s: i for i, s in enumerate(sources)}
    for g, s in enumerate(groups["source"]):
        lab[src_index[s]] = np.maximum(lab[src_index[s]], group_labels[g])
    dataset = (adata.uns.get("aitia") or {}).get("dataset", "data")
    result.labels = EdgeLabels(
        lab,
        sources,
        genes,
        provenance=f"interventional truth on {dataset} ({method}, {correction}, alpha={alpha})",
    )
    return result


def _test_group(task: tuple[str, np.ndarray], x: Any, refs: dict[str, _Reference], method: str,
                levels: np.ndarray) -> dict[str, Any]:  # fmt: skip
    """Statistics of one perturbation group against its reference (an executor task; float32 rows)."""
    ctx, idx = task
    if ctx in refs:
        ref = refs[ctx]
    else:  # reference "all": every other sample
        ref = _Reference.build(_rows(x, np.setdiff1d(np.arange(x.shape[0]), idx)), method, levels)
    xg = _rows(x, idx)
    stat, p = ref.test(xg, method)
    f32 = np.float32
    return {"effect": (xg.mean(0) - ref.mean).astype(f32), "stat": np.asarray(stat, dtype=f32),
            "p": np.asarray(p, dtype=f32),
            "w": np.abs(np.quantile(xg, levels, axis=0) - ref.quantiles).mean(0).astype(f32), "n_control": ref.n}  # fmt: skip


def _rows(matrix: Any, idx: np.ndarray) -> np.ndarray:
    x = matrix[idx]
    if sp.issparse(x):
        x = x.toarray()
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise DataValidationError("Expression matrix has NaN/inf values; impute or drop them first.")
    return x


@dataclass
class _Reference:
    """Control statistics reused by every group of a context."""

    n: int
    mean: np.ndarray
    var: np.ndarray
    quantiles: np.ndarray
    median: np.ndarray
    iqr: np.ndarray
    sorted_t: Any = None  # torch tensor (genes, n) of sorted control values
    tie_term: np.ndarray | None = None

    @classmethod
    def build(cls, x: np.ndarray, method: str, levels: np.ndarray) -> _Reference:
        if len(x) == 0:
            raise DataValidationError("Empty control group: no reference samples to compare with.")
        q25, med, q75 = np.quantile(x, [0.25, 0.5, 0.75], axis=0)
        ref = cls(
            n=len(x),
            mean=x.mean(0),
            var=x.var(0, ddof=1) if len(x) > 1 else np.zeros(x.shape[1]),
            quantiles=np.quantile(x, levels, axis=0),
            median=med,
            iqr=q75 - q25,
        )
        if method == "mannwhitney":
            import torch

            s = np.sort(x, axis=0).T.copy()
            ref.sorted_t = torch.from_numpy(s)
            ref.tie_term = _tie_term_sorted(s)
        return ref

    def test(self, x: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
        if method == "mannwhitney":
            return self._mannwhitney(x)
        if method == "ttest":
            n1 = len(x)
            if n1 < 2 or self.n < 2:
                nan = np.full(x.shape[1], np.nan)
                return nan, nan
            with np.errstate(divide="ignore", invalid="ignore"):
                t, p = stats.ttest_ind_from_stats(
                    x.mean(0),
                    np.sqrt(x.var(0, ddof=1)),
                    n1,
                    self.mean,
                    np.sqrt(self.var),
                    self.n,
                    equal_var=False,
                )
            return np.nan_to_num(t, nan=0.0), np.nan_to_num(p, nan=1.0)
        # robust z (Kemmeren et al. 2014): (median(group) - median(control)) / IQR(control)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.median(x, axis=0) - self.median) / self.iqr
        z = np.where(self.iqr > 0, z, 0.0)
        p = 2 * stats.norm.sf(np.abs(z) * 1.349)  # IQR -> standard-deviation scale for a normal reference
        return z, p

    def _mannwhitney(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised two-sided Mann-Whitney U with tie correction and continuity, as scipy's asymptotic test."""
        import torch

        n1, n2 = len(x), self.n
        xs = np.sort(x, axis=0).T.copy()  # genes x n1
        xt = torch.from_numpy(xs)
        left = torch.searchsorted(self.sorted_t, xt, right=False).numpy()
        right = torch.searchsorted(self.sorted_t, xt, right=True).numpy()
        u1 = (left + 0.5 * (right - left)).sum(1)
        # tie correction over the combined sample: control ties + adjustment for values in the group
        n_genes, m = xs.shape
        starts = np.ones_like(xs, dtype=bool)
        starts[:, 1:] = xs[:, 1:] != xs[:, :-1]
        flat_starts = np.flatnonzero(starts.ravel())
        run_len = np.diff(np.r_[flat_starts, xs.size])
        # runs must not cross genes: every row starts a run, so boundaries align with rows
        c = (right - left).ravel()[flat_starts].astype(np.float64)
        pcount = run_len.astype(np.float64)
        adj = (c + pcount) ** 3 - (c + pcount) - (c**3 - c)
        assert self.tie_term is not None
        tie = self.tie_term + np.bincount(flat_starts // m, weights=adj, minlength=n_genes)
        n = n1 + n2
        mu = n1 * n2 / 2.0
        var = n1 * n2 / 12.0 * ((n + 1) - tie / (n * (n - 1)))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (u1 - mu) / np.sqrt(var)
            zc = (np.abs(u1 - mu) - 0.5) / np.sqrt(var)
        p = np.where(var > 0, 2 * stats.norm.sf(np.clip(zc, 0, None)), 1.0)
        return np.where(var > 0, z, 0.0), np.clip(p, 0, 1)


def _tie_term_sorted(s: np.ndarray) -> np.ndarray:
    """Per row of a row-wise sorted matrix: sum over tie groups of t^3 - t."""
    starts = np.ones_like(s, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    flat = np.flatnonzero(starts.ravel())
    t = np.diff(np.r_[flat, s.size]).astype(np.float64)
    return np.bincount(flat // s.shape[1], weights=t**3 - t, minlength=s.shape[0])
