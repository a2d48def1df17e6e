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

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataValidationError

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
    def effects_known(self) -> bool:
        """False for a table built from labels alone (its effects are placeholders)."""
        return bool(self.meta.get("effects_known", True))

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
        # a label-only table keeps finite zero effects (masks follow the labels) and says so: predictors that
        # regress on effects refuse it instead of predicting 0/0
        return cls(
            contexts,
            perts,
            genes,
            eff,
            lab,
            meta={"source": "frame", "effects_known": "effect" in df.columns},
        )

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
