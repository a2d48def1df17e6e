"""EffectTable: what perturbations do to genes, per context - the object perturbation predictors read and write.

The contract is the long table ``context, perturbation, gene, effect, label`` (effect = log fold change or z,
label = differentially expressed 0/1). Internally each observed (context, perturbation) pair holds one row of genes
(NaN = not measured): a four-cell-line screen that fills 0.5% of ``contexts x perturbations x genes`` never becomes
the dense array; :meth:`EffectTable.to_frame` gives the long form.

Example:
    >>> import pandas as pd
    >>> t = EffectTable.from_frame(pd.DataFrame({"perturbation": ["A", "A"], "gene": ["A", "B"],
    ...                                          "effect": [-2.0, 0.5], "label": [1, 0]}))
    >>> t.shape, t.to_frame().shape
    ((1, 1, 2), (2, 5))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataValidationError

COLUMNS = ("context", "perturbation", "gene", "effect", "label")


class EffectTable:
    """Effects of perturbations on genes in contexts, stored by observed (context, perturbation) pair.

    Real screens fill a small part of ``contexts x perturbations`` (each cell line has its own perturbations), so
    only observed pairs hold a row: ``effect_rows`` / ``label_rows`` are ``(n_pairs, G)`` float32 in (context,
    perturbation) order and ``pair_index[c, p]`` is the row of a pair (-1: not observed). ``effect`` and ``label``
    give the dense ``(C, P, G)`` arrays (NaN = not measured) as copies for small tables and old code; methods that
    scale (``row``, ``context_mean``, ``overall_mean``, ``subset``, ``reindex``, ``to_frame``) never build them.

    Args:
        contexts, perturbations, genes: the index of each axis.
        effect: dense ``(C, P, G)`` effects (NaN = not measured); compressed on construction.
        label: dense ``(C, P, G)`` labels in [0, 1] (observed 0/1 or predicted probability), NaN = unknown.
        meta: provenance.
    """

    def __init__(self, contexts: Sequence[str], perturbations: Sequence[str], genes: Sequence[str],
                 effect: np.ndarray, label: np.ndarray, meta: dict[str, Any] | None = None) -> None:  # fmt: skip
        effect = np.asarray(effect, dtype=np.float32)
        label = np.asarray(label, dtype=np.float32)
        shape = (len(contexts), len(perturbations), len(genes))
        if effect.shape != shape or label.shape != shape:
            raise DataValidationError(
                f"effect/label must have shape {shape}, got {effect.shape}/{label.shape}."
            )
        c, p = np.nonzero(~np.isnan(effect).all(axis=2))
        self._init(contexts, perturbations, genes, c, p, effect[c, p], label[c, p], meta)

    @classmethod
    def from_rows(cls, contexts: Sequence[str], perturbations: Sequence[str], genes: Sequence[str],
                  context_index: np.ndarray, perturbation_index: np.ndarray, effect_rows: np.ndarray,
                  label_rows: np.ndarray, meta: dict[str, Any] | None = None) -> EffectTable:  # fmt: skip
        """Build from the rows of observed pairs (``context_index[i], perturbation_index[i]`` owns row ``i``)."""
        out = cls.__new__(cls)
        out._init(contexts, perturbations, genes, np.asarray(context_index, dtype=np.int64),
                  np.asarray(perturbation_index, dtype=np.int64), effect_rows, label_rows, meta)  # fmt: skip
        return out

    def _init(self, contexts: Sequence[str], perturbations: Sequence[str], genes: Sequence[str], c: np.ndarray,
              p: np.ndarray, effect_rows: Any, label_rows: Any, meta: dict[str, Any] | None) -> None:  # fmt: skip
        self.contexts, self.perturbations, self.genes = list(contexts), list(perturbations), list(genes)
        for name, axis in (
            ("contexts", self.contexts),
            ("perturbations", self.perturbations),
            ("genes", self.genes),
        ):
            if len(set(axis)) != len(axis):
                raise DataValidationError(f"Duplicated {name} in EffectTable.")
        self.meta = dict(meta or {})
        e = np.asarray(effect_rows, dtype=np.float32).reshape(len(c), len(self.genes))
        lab = np.asarray(label_rows, dtype=np.float32).reshape(len(c), len(self.genes))
        if np.isinf(e).any():
            raise DataValidationError("Effects contain inf.")
        keep = ~np.isnan(e).all(axis=1)  # a pair is observed when any gene has an effect
        c, p, e, lab = c[keep], p[keep], e[keep], lab[keep]
        order = np.lexsort(
            (p, c)
        )  # rows in (context, perturbation) order, as np.nonzero(observed) lists them
        c, p = c[order], p[order]
        self.pair_index = np.full((len(self.contexts), len(self.perturbations)), -1, dtype=np.int64)
        if len(c) and (np.bincount(c * len(self.perturbations) + p) > 1).any():
            raise DataValidationError("Duplicated (context, perturbation) rows in EffectTable.")
        self.pair_index[c, p] = np.arange(len(c))
        self.effect_rows = np.ascontiguousarray(e[order])
        self.label_rows = np.ascontiguousarray(lab[order])

    def __repr__(self) -> str:
        return (f"EffectTable({len(self.contexts)} contexts x {len(self.perturbations)} perturbations x "
                f"{len(self.genes)} genes, {len(self.effect_rows)} observed pairs)")  # fmt: skip

    @property
    def effects_known(self) -> bool:
        """False for a table built from labels alone (its effects are placeholders)."""
        return bool(self.meta.get("effects_known", True))

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.contexts), len(self.perturbations), len(self.genes))

    @property
    def nbytes(self) -> int:
        """Memory of the stored rows (the dense arrays would take ``2 * 4 * C * P * G`` bytes)."""
        return int(self.effect_rows.nbytes + self.label_rows.nbytes + self.pair_index.nbytes)

    @property
    def observed(self) -> np.ndarray:
        """``(C, P)`` mask of (context, perturbation) pairs with any measured gene."""
        return self.pair_index >= 0

    @property
    def pair_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(context index, perturbation index) of each stored row."""
        c, p = np.nonzero(self.observed)
        return c, p

    def _dense(self, rows: np.ndarray) -> np.ndarray:
        out = np.full(self.shape, np.nan, np.float32)
        c, p = self.pair_positions
        out[c, p] = rows
        return out

    @property
    def effect(self) -> np.ndarray:
        """Dense ``(C, P, G)`` effects (a copy; NaN = not measured). Prefer :meth:`row` on large tables."""
        return self._dense(self.effect_rows)

    @property
    def label(self) -> np.ndarray:
        """Dense ``(C, P, G)`` labels (a copy; NaN = unknown). Prefer :meth:`row` on large tables."""
        return self._dense(self.label_rows)

    def row(self, c: int, p: int) -> tuple[np.ndarray, np.ndarray]:
        """(effect, label) rows of one pair by index; all-NaN rows when it is not observed."""
        i = self.pair_index[c, p]
        if i < 0:
            nan = np.full(len(self.genes), np.nan, np.float32)
            return nan, nan.copy()
        return self.effect_rows[i], self.label_rows[i]

    def context_mean(self, which: str = "effect") -> np.ndarray:
        """``(C, G)`` mean over each context's observed perturbations (NaN where a context has none)."""
        rows = self.effect_rows if which == "effect" else self.label_rows
        c, _ = self.pair_positions
        out = np.full((len(self.contexts), len(self.genes)), np.nan, np.float32)
        for k in np.unique(c):
            out[k] = _nanmean(rows[c == k])
        return out

    def overall_mean(self, which: str = "effect") -> np.ndarray:
        """``(G,)`` mean over every observed pair."""
        return _nanmean(self.effect_rows if which == "effect" else self.label_rows)

    def pairs(self) -> pd.DataFrame:
        """Observed (context, perturbation) pairs."""
        c, p = self.pair_positions
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
        # one row per observed (context, perturbation) pair: a long table never becomes a dense C x P x G array
        pair = ci * len(perts) + pi
        uniq, row_of = np.unique(pair, return_inverse=True)
        eff = np.full((len(uniq), len(genes)), np.nan, np.float32)
        lab = np.full((len(uniq), len(genes)), np.nan, np.float32)
        if "effect" in df.columns:
            eff[row_of, gi] = df["effect"].to_numpy(np.float32)
        if "label" in df.columns:
            lab[row_of, gi] = df["label"].to_numpy(np.float32)
        elif label_threshold is not None:
            lab[row_of, gi] = (np.abs(df["effect"].to_numpy()) >= label_threshold).astype(np.float32)
        if "effect" not in df.columns:
            eff[row_of, gi] = 0.0  # labels only: effects unknown, kept finite so masks follow the labels
        # a label-only table keeps finite zero effects (masks follow the labels) and says so: predictors that
        # regress on effects refuse it instead of predicting 0/0
        return cls.from_rows(contexts, perts, genes, uniq // len(perts), uniq % len(perts), eff, lab,
                             meta={"source": "frame", "effects_known": "effect" in df.columns})  # fmt: skip

    def to_frame(self, dropna: bool = True) -> pd.DataFrame:
        """The long table ``context, perturbation, gene, effect, label``."""
        if not dropna:
            c, p, g = np.indices(self.shape).reshape(3, -1)
            e, lab = self.effect[c, p, g], self.label[c, p, g]
        else:
            r, g = np.nonzero(~np.isnan(self.effect_rows))
            pc, pp = self.pair_positions
            c, p = pc[r], pp[r]
            e, lab = self.effect_rows[r, g], self.label_rows[r, g]
        return pd.DataFrame(
            {
                "context": np.asarray(self.contexts, dtype=object)[c],
                "perturbation": np.asarray(self.perturbations, dtype=object)[p],
                "gene": np.asarray(self.genes, dtype=object)[g],
                "effect": e,
                "label": lab,
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
        c, p = self.pair_positions
        sel = np.asarray(keep, dtype=bool)[c, p]
        return EffectTable.from_rows(self.contexts, self.perturbations, self.genes, c[sel], p[sel],
                                     self.effect_rows[sel], self.label_rows[sel], meta=dict(self.meta))  # fmt: skip

    def reindex(
        self, contexts: Sequence[str], perturbations: Sequence[str], genes: Sequence[str]
    ) -> EffectTable:
        """Same data on other axes (missing entries NaN)."""
        cpos = {c: i for i, c in enumerate(contexts)}
        ppos = {p: i for i, p in enumerate(perturbations)}
        c, p = self.pair_positions
        new_c = np.array([cpos.get(self.contexts[i], -1) for i in c], dtype=np.int64)
        new_p = np.array([ppos.get(self.perturbations[i], -1) for i in p], dtype=np.int64)
        sel = (new_c >= 0) & (new_p >= 0)
        gpos = {g: i for i, g in enumerate(self.genes)}
        src = np.array([gpos.get(g, -1) for g in genes], dtype=np.int64)
        have = src >= 0
        eff = np.full((int(sel.sum()), len(genes)), np.nan, np.float32)
        lab = eff.copy()
        eff[:, have] = self.effect_rows[sel][:, src[have]]
        lab[:, have] = self.label_rows[sel][:, src[have]]
        return EffectTable.from_rows(list(contexts), list(perturbations), list(genes), new_c[sel], new_p[sel], eff,
                                     lab, meta=dict(self.meta))  # fmt: skip


def _nanmean(rows: np.ndarray) -> np.ndarray:
    """Column means ignoring NaN (all-NaN columns: NaN), without numpy's empty-slice warning."""
    ok = ~np.isnan(rows)
    n = ok.sum(axis=0)
    total = np.where(ok, rows, 0).sum(axis=0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / n).astype(np.float32)
