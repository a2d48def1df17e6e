"""EffectTable: what perturbations do to genes, per context - the object perturbation predictors read and write.

The contract is the long table ``context, perturbation, gene, effect, label`` (effect = log fold change or z,
label = differentially expressed 0/1). Internally the table is held as dense ``contexts x perturbations x genes``
arrays (NaN = not measured), which keeps millions of entries cheap; :meth:`EffectTable.to_frame` gives the long form.

Example:
    >>> import pandas as pd
    >>> t = EffectTable.from_frame(pd.DataFrame({"perturbation": ["A", "A"], "gene": ["A", "B"],
    ...                                          "effect": [-2.0, 0.5], "label": [1, 0]}))
    >>> t.shape, t.to_frame().shape
    ((1, 1, 2), (2, 5))
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from ..datasets.validate import CONTEXT_KEY, CONTROL, PERTURBATION_KEY, validate_perturbation_data
from ..errors import DataValidationError, UnknownGeneError

logger = logging.getLogger(__name__)

COLUMNS = ("context", "perturbation", "gene", "effect", "label")


@dataclass
class EffectTable:
    """Effects of perturbations on genes in contexts.

    Attributes:
        contexts, perturbations, genes: the index of each axis.
        effect: ``(C, P, G)`` float32, NaN = not measured.
        label: ``(C, P, G)`` float32 in [0, 1] (observed 0/1 or predicted probability), NaN = unknown.
        meta: provenance.
    """

    contexts: list[str]
    perturbations: list[str]
    genes: list[str]
    effect: np.ndarray
    label: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, axis in (
            ("contexts", self.contexts),
            ("perturbations", self.perturbations),
            ("genes", self.genes),
        ):
            if len(set(axis)) != len(axis):
                raise DataValidationError(f"Duplicated {name} in EffectTable.")
        shape = (len(self.contexts), len(self.perturbations), len(self.genes))
        self.effect = np.asarray(self.effect, dtype=np.float32)
        self.label = np.asarray(self.label, dtype=np.float32)
        if self.effect.shape != shape or self.label.shape != shape:
            raise DataValidationError(
                f"effect/label must have shape {shape}, got {self.effect.shape}/{self.label.shape}."
            )
        if np.isinf(self.effect).any():
            raise DataValidationError("Effects contain inf.")

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.effect.shape  # type: ignore[return-value]

    @property
    def observed(self) -> np.ndarray:
        """``(C, P)`` mask of (context, perturbation) pairs with any measured gene."""
        return ~np.isnan(self.effect).all(axis=2)

    def pairs(self) -> pd.DataFrame:
        """Observed (context, perturbation) pairs."""
        c, p = np.nonzero(self.observed)
        return pd.DataFrame(
            {"context": np.asarray(self.contexts)[c], "perturbation": np.asarray(self.perturbations)[p]}
        )

    # ------------------------------------------------------------------ long form
    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, default_context: str = "default", label_threshold: float | None = None
    ) -> EffectTable:
        """Build from a long table. Column aliases: pert/perturbation, gene/target, cell_line/context.

        Either ``effect`` or ``label`` may be missing (the other is required); with ``label_threshold`` a missing
        label is derived as ``|effect| >= threshold``.

        Raises:
            DataValidationError: missing columns, duplicated (context, perturbation, gene) keys, non-numeric values.
        """
        df = frame.rename(columns={c: c.strip().lower() for c in frame.columns})
        df = df.rename(columns={k: v for k, v in {"pert": "perturbation", "target": "gene", "cell_line": "context",
                                                   "condition": "context", "lfc": "effect", "logfc": "effect",
                                                   "de": "label"}.items() if k in df.columns and v not in df.columns})  # fmt: skip
        missing = {"perturbation", "gene"} - set(df.columns)
        if missing:
            raise DataValidationError(
                f"Effect table lacks columns {sorted(missing)}; has {list(frame.columns)}."
            )
        if "effect" not in df.columns and "label" not in df.columns:
            raise DataValidationError("Effect table needs an 'effect' column, a 'label' column, or both.")
        if "context" not in df.columns:
            df["context"] = default_context
        for col in ("context", "perturbation", "gene"):
            df[col] = df[col].astype(str)
        dup = df.duplicated(["context", "perturbation", "gene"])
        if dup.any():
            ex = df.loc[dup, ["context", "perturbation", "gene"]].head(3).values.tolist()
            raise DataValidationError(
                f"{int(dup.sum())} duplicated (context, perturbation, gene) keys, e.g. {ex}."
            )
        for col in ("effect", "label"):
            if col in df.columns:
                vals = pd.to_numeric(df[col], errors="coerce")
                bad = vals.isna() & df[col].notna()
                if bad.any():
                    raise DataValidationError(
                        f"Column {col!r} has non-numeric values, e.g. {df.loc[bad, col].head(3).tolist()}."
                    )
                df[col] = vals
        if "label" in df.columns and not df["label"].dropna().isin([0, 1]).all():
            raise DataValidationError("Labels must be 0 or 1.")
        contexts = list(dict.fromkeys(df["context"]))
        perts = list(dict.fromkeys(df["perturbation"]))
        genes = list(dict.fromkeys(df["gene"]))
        ci = df["context"].map({c: i for i, c in enumerate(contexts)}).to_numpy()
        pi = df["perturbation"].map({p: i for i, p in enumerate(perts)}).to_numpy()
        gi = df["gene"].map({g: i for i, g in enumerate(genes)}).to_numpy()
        shape = (len(contexts), len(perts), len(genes))
        eff = np.full(shape, np.nan, np.float32)
        lab = np.full(shape, np.nan, np.float32)
        if "effect" in df.columns:
            eff[ci, pi, gi] = df["effect"].to_numpy(np.float32)
        if "label" in df.columns:
            lab[ci, pi, gi] = df["label"].to_numpy(np.float32)
        elif label_threshold is not None:
            lab[ci, pi, gi] = (np.abs(df["effect"].to_numpy()) >= label_threshold).astype(np.float32)
        if "effect" not in df.columns:
            eff[ci, pi, gi] = 0.0  # labels only: effects unknown, kept finite so masks follow the labels
        return cls(contexts, perts, genes, eff, lab, meta={"source": "frame"})

    def to_frame(self, dropna: bool = True) -> pd.DataFrame:
        """The long table ``context, perturbation, gene, effect, label``."""
        c, p, g = np.nonzero(~np.isnan(self.effect)) if dropna else np.indices(self.shape).reshape(3, -1)
        return pd.DataFrame(
            {
                "context": np.asarray(self.contexts, dtype=object)[c],
                "perturbation": np.asarray(self.perturbations, dtype=object)[p],
                "gene": np.asarray(self.genes, dtype=object)[g],
                "effect": self.effect[c, p, g],
                "label": self.label[c, p, g],
            }
        )

    @classmethod
    def read(cls, path: str | Path, **kw: Any) -> EffectTable:
        """Read a long CSV/TSV/parquet (e.g. a published DE label table with columns pert, gene, label)."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"No effect table at {path}.")
        try:
            if path.suffix == ".parquet":
                df = pd.read_parquet(path)
            else:
                df = pd.read_csv(path, sep="\t" if path.suffix in (".tsv", ".txt") else ",")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise DataValidationError(f"Could not parse {path}: {exc}") from exc
        return cls.from_frame(df, **kw)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        self.to_frame().to_csv(path, index=False)
        return path

    # ------------------------------------------------------------------ selection
    def subset(self, keep: np.ndarray) -> EffectTable:
        """A copy where only (context, perturbation) pairs with ``keep[c, p]`` stay observed."""
        eff = np.where(keep[:, :, None], self.effect, np.nan)
        lab = np.where(keep[:, :, None], self.label, np.nan)
        return EffectTable(self.contexts, self.perturbations, self.genes, eff, lab, meta=dict(self.meta))

    def reindex(
        self, contexts: Sequence[str], perturbations: Sequence[str], genes: Sequence[str]
    ) -> EffectTable:
        """Same data on other axes (missing entries NaN)."""
        out_e = np.full((len(contexts), len(perturbations), len(genes)), np.nan, np.float32)
        out_l = out_e.copy()
        ci = [(i, self.contexts.index(c)) for i, c in enumerate(contexts) if c in self.contexts]
        pi = [
            (i, self.perturbations.index(p)) for i, p in enumerate(perturbations) if p in self.perturbations
        ]
        gi = [(i, self.genes.index(g)) for i, g in enumerate(genes) if g in self.genes]
        if ci and pi and gi:
            a, b = zip(*ci)
            c_, d = zip(*pi)
            e, f = zip(*gi)
            out_e[np.ix_(a, c_, e)] = self.effect[np.ix_(b, d, f)]
            out_l[np.ix_(a, c_, e)] = self.label[np.ix_(b, d, f)]
        return EffectTable(
            list(contexts), list(perturbations), list(genes), out_e, out_l, meta=dict(self.meta)
        )


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

    validate_perturbation_data(adata, require_control=reference == "control")
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


def effects_for_dataset(name: str, **kw: Any) -> EffectTable:
    """EffectTable of a built-in dataset: DREAM4 (contexts knockout / knockdown vs wild type), kemmeren-mrcl
    (deletions vs wild type, robust z, |z| >= 5 as in the MRCL labels), sachs (inhibitors/activators per stimulus)."""
    from .. import datasets

    if name.startswith("dream4"):
        adata = datasets.load(name, parts=("wildtype", "knockouts", "knockdowns", "multifactorial"))
        # the single wild-type sample cannot define spread: z against all samples of the network
        adata.obs["context"] = adata.obs["intervention_type"].replace({"control": "knockout"}).astype(str)
        parts = []
        for ctx in ("knockout", "knockdown"):
            sub = adata[
                adata.obs["intervention_type"].isin([ctx, "multifactorial", "control"]).to_numpy()
            ].copy()
            sub.obs["context"] = ctx
            parts.append(effects_from_adata(sub, method="robust_z", reference="all", z_threshold=kw.get("z_threshold", 3.0),
                                            normalize="none"))  # fmt: skip
        return _stack(parts, name)
    if name == "kemmeren-mrcl":
        adata = datasets.load(name, instance=kw.get("instance", 0))
        return effects_from_adata(
            adata, method="robust_z", z_threshold=kw.get("z_threshold", 5.0), normalize="none"
        )
    adata = datasets.load(name)
    return effects_from_adata(adata, normalize="none" if name == "sachs" else "auto")


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
