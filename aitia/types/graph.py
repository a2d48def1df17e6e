"""The three edge objects shared by every part of aitia.

* :class:`EdgeScores` - a score for every ordered pair ``i -> j`` over one gene index (dense ``p x p``;
  NaN = not scored). Learners, predictors, hypothesis generators and priors produce it.
* :class:`EdgeLabels` - known 0/1 labels on some ordered pairs, rows = sources (e.g. intervened genes),
  columns = targets, NaN = unknown; with provenance.
* :class:`CausalGraph` - a :class:`networkx.DiGraph` of selected edges whose attributes hold ``score``,
  ``sign``, ``sources`` and ``evidence``; exports to GraphML, SIF, JSON node-link and CSV.

Example:
    >>> import numpy as np
    >>> s = EdgeScores(np.array([[0, .9], [.1, 0]]), ["A", "B"])
    >>> s.top_edges(1)[["source", "target"]].values.tolist()
    [['A', 'B']]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from ..errors import DataValidationError, UnknownGeneError

GRAPH_FORMATS = ("graphml", "sif", "json", "csv")


def _check_unique(names: Sequence[str], what: str) -> list[str]:
    names = [str(n) for n in names]
    seen: set[str] = set()
    dups = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dups:
        raise DataValidationError(f"Duplicated {what}: {dups[:10]}. Make names unique first.")
    return names


@dataclass
class EdgeScores:
    """Dense scores for ordered pairs over ``genes`` (``values[i, j]`` scores ``genes[i] -> genes[j]``).

    Attributes:
        values: ``(p, p)`` float array; higher means more likely an edge; NaN = unscored.
        genes: gene (node) names, unique.
        name: what produced the scores (learner, prior, generator).
        meta: free provenance (parameters, contributing sources).
        signs: optional ``(p, p)`` edge signs (+1 activates, -1 represses, 0 unknown), e.g. from curated priors or
            signed hypotheses; predictors that read signs (``uses_signs``) take them from here.
    """

    values: np.ndarray
    genes: list[str]
    name: str = "scores"
    meta: dict[str, Any] = field(default_factory=dict)
    signs: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.genes = _check_unique(self.genes, "genes in EdgeScores")
        self.values = np.asarray(self.values, dtype=np.float64)
        p = len(self.genes)
        if self.values.shape != (p, p):
            raise DataValidationError(
                f"EdgeScores values must be {p}x{p} for {p} genes, got {self.values.shape}."
            )
        if np.isinf(self.values).any():
            raise DataValidationError("EdgeScores contain inf; use NaN for unscored pairs.")
        if self.signs is not None:
            self.signs = np.sign(np.nan_to_num(np.asarray(self.signs, dtype=np.float64))).astype(np.int8)
            if self.signs.shape != (p, p):
                raise DataValidationError(f"EdgeScores signs must be {p}x{p}, got {self.signs.shape}.")

    @property
    def index(self) -> dict[str, int]:
        """Gene name -> position."""
        return {g: i for i, g in enumerate(self.genes)}

    def __getitem__(self, pair: tuple[str, str]) -> float:
        idx = self.index
        a, b = pair
        for g in (a, b):
            if g not in idx:
                raise UnknownGeneError(
                    f"{g!r} is not in these scores ({len(idx)} genes, e.g. {self.genes[:5]})."
                )
        return float(self.values[idx[a], idx[b]])

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        genes: Sequence[str] | None = None,
        source: str = "source",
        target: str = "target",
        score: str = "score",
        fill: float = 0.0,
        name: str = "scores",
    ) -> EdgeScores:
        """Build from a long table of (source, target, score); absent pairs get ``fill``, empty scores stay NaN."""
        missing = {source, target, score} - set(frame.columns)
        if missing:
            raise DataValidationError(
                f"Edge table lacks columns {sorted(missing)}; has {list(frame.columns)}."
            )
        if genes is None:
            genes = list(dict.fromkeys([*frame[source].astype(str), *frame[target].astype(str)]))
        genes = list(genes)
        idx = {g: i for i, g in enumerate(genes)}
        values = np.full((len(genes), len(genes)), fill, dtype=np.float64)
        src = frame[source].astype(str).map(idx)
        tgt = frame[target].astype(str).map(idx)
        keep = src.notna() & tgt.notna()
        sc = pd.to_numeric(frame[score], errors="coerce")
        bad = keep & sc.isna() & frame[score].notna()
        if bad.any():
            examples = frame.loc[bad, score].astype(str).head(3).tolist()
            raise DataValidationError(f"Column {score!r} has non-numeric values, e.g. {examples}.")
        values[src[keep].astype(int).to_numpy(), tgt[keep].astype(int).to_numpy()] = sc[keep].to_numpy()
        return cls(values, genes, name=name)

    def to_frame(self, include_diagonal: bool = False, dropna: bool = True) -> pd.DataFrame:
        """Long table with columns source, target, score (sorted by score, descending)."""
        p = len(self.genes)
        ii, jj = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
        mask = np.ones((p, p), bool) if include_diagonal else ~np.eye(p, dtype=bool)
        if dropna:
            mask &= ~np.isnan(self.values)
        g = np.asarray(self.genes, dtype=object)
        df = pd.DataFrame({"source": g[ii[mask]], "target": g[jj[mask]], "score": self.values[mask]})
        return df.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)

    def top_edges(self, k: int) -> pd.DataFrame:
        """The ``k`` highest-scoring off-diagonal pairs."""
        return self.to_frame().head(k)

    def restrict(self, genes: Sequence[str]) -> EdgeScores:
        """Scores on a subset (or reordering) of genes; unknown genes raise :class:`UnknownGeneError`."""
        idx = self.index
        unknown = [g for g in genes if g not in idx]
        if unknown:
            raise UnknownGeneError(f"Genes not in these scores: {unknown[:10]}.")
        pos = [idx[g] for g in genes]
        signs = self.signs[np.ix_(pos, pos)] if self.signs is not None else None
        return EdgeScores(
            self.values[np.ix_(pos, pos)], list(genes), name=self.name, meta=dict(self.meta), signs=signs
        )

    def reindex(self, genes: Sequence[str], fill: float = np.nan) -> EdgeScores:
        """Scores over ``genes``; pairs involving genes not scored here get ``fill``."""
        idx = self.index
        out = np.full((len(genes), len(genes)), fill, dtype=np.float64)
        here = [i for i, g in enumerate(genes) if g in idx]
        src = [idx[genes[i]] for i in here]
        out[np.ix_(here, here)] = self.values[np.ix_(src, src)]
        signs = None
        if self.signs is not None:
            signs = np.zeros((len(genes), len(genes)), dtype=np.int8)
            signs[np.ix_(here, here)] = self.signs[np.ix_(src, src)]
        return EdgeScores(out, list(genes), name=self.name, meta=dict(self.meta), signs=signs)

    def to_graph(self, threshold: float | None = None, top_k: int | None = None) -> CausalGraph:
        """Select edges by score threshold and/or top-k into a :class:`CausalGraph`."""
        df = self.to_frame()
        if threshold is not None:
            df = df[df["score"] >= threshold]
        if top_k is not None:
            df = df.head(top_k)
        g = CausalGraph()
        g.add_nodes_from(self.genes)
        idx = self.index
        for s, t, sc in df.itertuples(index=False):
            sign = int(self.signs[idx[s], idx[t]]) if self.signs is not None else 0
            g.add_edge(s, t, score=float(sc), sign=sign, sources=[self.name], evidence=[])
        return g

    def save(self, path: str | Path) -> Path:
        """Write as CSV edge list (source,target,score) including unscored pairs as empty."""
        path = Path(path)
        self.to_frame(dropna=False).to_csv(path, index=False)
        return path

    @classmethod
    def load(cls, path: str | Path, name: str | None = None) -> EdgeScores:
        """Read a CSV/TSV edge list written by :meth:`save` or by hand (source, target, score)."""
        frame = read_edge_table(path)
        if "score" not in frame.columns:
            frame["score"] = 1.0
        return cls.from_frame(frame, name=name or Path(path).stem)


@dataclass
class EdgeLabels:
    """Known 0/1 labels: ``values[i, j]`` labels ``sources[i] -> targets[j]`` (NaN = unknown).

    Example:
        >>> lab = EdgeLabels(np.array([[np.nan, 1.0], [0.0, np.nan]]), ["A", "B"], ["A", "B"])
        >>> lab.n_positive, lab.n_negative
        (1, 1)
    """

    values: np.ndarray
    sources: list[str]
    targets: list[str]
    provenance: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sources = _check_unique(self.sources, "label sources")
        self.targets = _check_unique(self.targets, "label targets")
        self.values = np.asarray(self.values, dtype=np.float64)
        if self.values.shape != (len(self.sources), len(self.targets)):
            raise DataValidationError(
                f"EdgeLabels values must be {len(self.sources)}x{len(self.targets)}, got {self.values.shape}."
            )
        ok = np.isnan(self.values) | (self.values == 0) | (self.values == 1)
        if not ok.all():
            raise DataValidationError("EdgeLabels values must be 0, 1 or NaN (unknown).")

    @property
    def n_positive(self) -> int:
        return int(np.nansum(self.values == 1))

    @property
    def n_negative(self) -> int:
        return int(np.sum(self.values == 0))

    @classmethod
    def from_graph(
        cls, graph: nx.DiGraph, genes: Sequence[str] | None = None, provenance: str = ""
    ) -> EdgeLabels:
        """All ordered pairs over ``genes`` (default: the graph's nodes); edges are 1, the rest 0."""
        genes = list(genes) if genes is not None else [str(n) for n in graph.nodes]
        idx = {g: i for i, g in enumerate(genes)}
        values = np.zeros((len(genes), len(genes)))
        for a, b in graph.edges:
            if a in idx and b in idx:
                values[idx[a], idx[b]] = 1.0
        return cls(values, genes, list(genes), provenance=provenance or getattr(graph, "name", ""))

    @classmethod
    def read(cls, path: str | Path, targets: Sequence[str] | None = None) -> EdgeLabels:
        """Labels from an edge file with columns source, target, label (0/1); pairs not listed stay unknown.

        Args:
            path: CSV/TSV edge list (see :func:`read_edge_table`).
            targets: the target axis (e.g. a dataset's genes; rows naming other targets are ignored);
                default: the targets in the file.
        """
        df = read_edge_table(Path(path))
        if "label" not in df.columns:
            raise DataValidationError(f"Label file {path} needs a 'label' column (0/1).")
        y = pd.to_numeric(df["label"], errors="coerce")
        if y.isna().any() or not y.isin([0, 1]).all():
            raise DataValidationError(f"Label file {path}: the 'label' column must hold only 0 and 1.")
        srcs = sorted(set(df["source"].astype(str)))
        tgts = list(targets) if targets is not None else sorted(set(df["target"].astype(str)))
        vals = np.full((len(srcs), len(tgts)), np.nan)
        si, ti = {g: i for i, g in enumerate(srcs)}, {g: i for i, g in enumerate(tgts)}
        for a, b, v in zip(df["source"].astype(str), df["target"].astype(str), y):
            if b in ti:
                vals[si[a], ti[b]] = float(v)
        return cls(vals, srcs, tgts, provenance=str(path))

    def to_frame(self, dropna: bool = True) -> pd.DataFrame:
        """Long table source, target, label."""
        ii, jj = np.meshgrid(np.arange(len(self.sources)), np.arange(len(self.targets)), indexing="ij")
        mask = ~np.isnan(self.values) if dropna else np.ones(self.values.shape, bool)
        return pd.DataFrame(
            {
                "source": np.asarray(self.sources, dtype=object)[ii[mask]],
                "target": np.asarray(self.targets, dtype=object)[jj[mask]],
                "label": self.values[mask],
            }
        )

    def mask(self, keep: np.ndarray, provenance: str | None = None) -> EdgeLabels:
        """A copy where only pairs with ``keep`` True stay labelled."""
        vals = np.where(keep, self.values, np.nan)
        return EdgeLabels(
            vals, self.sources, self.targets, provenance=provenance or self.provenance, meta=self.meta
        )

    def aligned(self, genes: Sequence[str], exclude_diagonal: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Positions ``(rows, cols)`` into a ``genes x genes`` matrix and labels of every usable pair.

        Pairs whose source or target is not in ``genes`` are dropped. Returns ``(flat_index, labels)``
        where ``flat_index = i * p + j``.
        """
        idx = {g: i for i, g in enumerate(genes)}
        p = len(genes)
        src = np.array([idx.get(s, -1) for s in self.sources])
        tgt = np.array([idx.get(t, -1) for t in self.targets])
        ok_r = np.flatnonzero(src >= 0)
        ok_c = np.flatnonzero(tgt >= 0)
        sub = self.values[np.ix_(ok_r, ok_c)]
        rr, cc = np.nonzero(~np.isnan(sub))
        gi, gj = src[ok_r][rr], tgt[ok_c][cc]
        keep = gi != gj if exclude_diagonal else np.ones(len(gi), bool)
        return (gi[keep] * p + gj[keep]).astype(np.int64), sub[rr, cc][keep]


class CausalGraph(nx.DiGraph):
    """A directed graph of selected causal edges.

    Edge attributes: ``score`` (float), ``sign`` (+1 activates, -1 represses, 0 unknown), ``sources``
    (list of generators/learners that proposed it) and ``evidence`` (list of citations or statistics).

    Example:
        >>> g = CausalGraph.from_edges([("A", "B"), ("B", "C")])
        >>> sorted(g.ancestral_closure().edges)
        [('A', 'B'), ('A', 'C'), ('B', 'C')]
    """

    @classmethod
    def from_edges(
        cls, edges: Iterable[tuple[Any, ...]], nodes: Iterable[str] | None = None, name: str = ""
    ) -> CausalGraph:
        """Build from ``(source, target)`` or ``(source, target, attrs)`` tuples."""
        g = cls(name=name)
        if nodes is not None:
            g.add_nodes_from(nodes)
        for e in edges:
            attrs = dict(e[2]) if len(e) > 2 else {}
            attrs.setdefault("score", 1.0)
            attrs.setdefault("sign", 0)
            attrs.setdefault("sources", [name] if name else [])
            attrs.setdefault("evidence", [])
            g.add_edge(str(e[0]), str(e[1]), **attrs)
        return g

    def ancestral_closure(self) -> CausalGraph:
        """The transitive closure: ``A -> C`` whenever a directed path leads from A to C."""
        closure = nx.transitive_closure(nx.DiGraph(self.edges), reflexive=False)
        out = CausalGraph.from_edges(closure.edges, nodes=self.nodes, name=f"{self.name} (ancestral)")
        return out

    def to_scores(self, genes: Sequence[str] | None = None) -> EdgeScores:
        """Edge scores over ``genes`` (default: nodes); absent pairs score 0."""
        genes = list(genes) if genes is not None else [str(n) for n in self.nodes]
        idx = {g: i for i, g in enumerate(genes)}
        v = np.zeros((len(genes), len(genes)))
        signs = np.zeros((len(genes), len(genes)), dtype=np.int8)
        for a, b, d in self.edges(data=True):
            if a in idx and b in idx:
                v[idx[a], idx[b]] = float(d.get("score", 1.0))
                signs[idx[a], idx[b]] = int(np.sign(d.get("sign", 0) or 0))
        return EdgeScores(v, genes, name=self.name or "graph", signs=signs if signs.any() else None)

    def edge_frame(self) -> pd.DataFrame:
        """Edge list as a table: source, target, score, sign, sources, evidence."""
        rows = [
            {
                "source": a,
                "target": b,
                "score": float(d.get("score", 1.0)),
                "sign": int(d.get("sign", 0)),
                "sources": ";".join(map(str, d.get("sources", []))),
                "evidence": ";".join(map(str, d.get("evidence", []))),
            }
            for a, b, d in self.edges(data=True)
        ]
        return pd.DataFrame(rows, columns=["source", "target", "score", "sign", "sources", "evidence"])

    def write(self, path: str | Path, format: str | None = None) -> Path:
        """Export to GraphML, SIF, JSON node-link or CSV (format inferred from the suffix)."""
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".")).lower()
        if fmt not in GRAPH_FORMATS:
            raise DataValidationError(
                f"Graph format {fmt!r} not recognised. Options: {', '.join(GRAPH_FORMATS)}."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            self.edge_frame().to_csv(path, index=False)
        elif fmt == "sif":
            lines = []
            for a, b, d in self.edges(data=True):
                rel = {1: "activates", -1: "represses"}.get(int(d.get("sign", 0)), "causes")
                lines.append(f"{a}\t{rel}\t{b}")
            connected = {n for e in self.edges for n in e}
            lines += [str(n) for n in self.nodes if n not in connected]
            path.write_text("\n".join(lines) + "\n")
        elif fmt == "json":
            data = nx.node_link_data(self, edges="links")
            path.write_text(json.dumps(data, indent=1, default=str))
        else:
            flat = nx.DiGraph()
            flat.add_nodes_from(self.nodes)
            for a, b, d in self.edges(data=True):
                flat.add_edge(
                    a,
                    b,
                    score=float(d.get("score", 1.0)),
                    sign=int(d.get("sign", 0)),
                    sources=json.dumps(list(d.get("sources", []))),
                    evidence=json.dumps(list(d.get("evidence", [])), default=str),
                )
            nx.write_graphml(flat, path)
        return path

    @classmethod
    def read(cls, path: str | Path, format: str | None = None) -> CausalGraph:
        """Read a graph written by :meth:`write` (or a hand-made CSV/TSV edge list or SIF).

        Raises:
            FileNotFoundError: no file at ``path``.
            DataValidationError: a directory, an unknown format, or a file that does not parse as its format
                (the message names the path and what was wrong).
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"No graph file at {path}.")
        if path.is_dir():
            raise DataValidationError(
                f"{path} is a directory; give a graph file ({', '.join(GRAPH_FORMATS)})."
            )
        fmt = (format or path.suffix.lstrip(".")).lower()
        if fmt == "tsv":
            fmt = "csv"
        if fmt not in GRAPH_FORMATS:
            raise DataValidationError(
                f"Graph format {fmt!r} of {path} not recognised. Options: {', '.join(GRAPH_FORMATS)}."
            )
        try:
            return cls._read(path, fmt)
        except DataValidationError:
            raise
        except (
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            UnicodeDecodeError,
            SyntaxError,
            nx.NetworkXError,
        ) as exc:
            # ParseError (XML) is a SyntaxError; JSONDecodeError and UnicodeDecodeError are ValueErrors
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise DataValidationError(f"Could not read {path} as a {fmt} graph: {detail}") from exc

    @classmethod
    def _read(cls, path: Path, fmt: str) -> CausalGraph:
        if fmt == "csv":
            df = read_edge_table(path)
            edges = []
            for row in df.to_dict("records"):
                attrs: dict[str, Any] = {}
                for key, kind in (("score", float), ("sign", int)):
                    if key in row and pd.notna(row[key]):
                        try:
                            attrs[key] = kind(row[key])
                        except (TypeError, ValueError):
                            raise DataValidationError(
                                f"{path}: {key} of {row['source']} -> {row['target']} is {row[key]!r}, not a number."
                            ) from None
                for key in ("sources", "evidence"):
                    if key in row and isinstance(row[key], str) and row[key]:
                        attrs[key] = row[key].split(";")
                edges.append((row["source"], row["target"], attrs))
            return cls.from_edges(edges, name=path.stem)
        if fmt == "sif":
            g = cls(name=path.stem)
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) == 1:
                    g.add_node(parts[0])
                    continue
                if len(parts) < 3:
                    raise DataValidationError(f"{path}:{n}: SIF lines are 'source relation target...'.")
                sign = {"activates": 1, "represses": -1}.get(parts[1], 0)
                for t in parts[2:]:
                    g.add_edge(parts[0], t, score=1.0, sign=sign, sources=[path.stem], evidence=[])
            return g
        if fmt == "json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or "nodes" not in data:
                raise DataValidationError(
                    f"{path} is not a node-link JSON graph (an object with 'nodes' and 'links')."
                )
            nxg = nx.node_link_graph(data, directed=True, edges="links")
            return cls(nxg, name=path.stem)
        if fmt == "graphml":
            if path.stat().st_size == 0:
                raise DataValidationError(f"{path} is empty.")
            with open(path, "rb") as fh:
                head = fh.read(65_536)
            if b"<!ENTITY" in head or b"<!entity" in head:
                # entity expansion is how XML bombs work; GraphML never needs it
                raise DataValidationError(
                    f"{path} declares XML entities; GraphML with entity declarations is refused."
                )
            nxg = nx.read_graphml(path)
            g = cls(name=path.stem)
            g.add_nodes_from(nxg.nodes)
            for a, b, d in nxg.edges(data=True):
                attrs = dict(d)
                for key in ("sources", "evidence"):
                    if isinstance(attrs.get(key), str):
                        attrs[key] = json.loads(attrs[key])
                g.add_edge(a, b, **attrs)
            return g
        raise DataValidationError(
            f"Graph format {fmt!r} not recognised. Options: {', '.join(GRAPH_FORMATS)}."
        )


def read_edge_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV/TSV edge list with columns source/target (aliases: cause/effect, from/to, tf/target)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No edge table at {path}.")
    sep = "\t" if path.suffix.lower() in {".tsv", ".tab", ".txt"} else ","
    try:
        df = pd.read_csv(path, sep=sep)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, IsADirectoryError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise DataValidationError(f"Could not parse edge table {path}: {detail}") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    aliases = {"cause": "source", "effect": "target", "from": "source", "to": "target", "tf": "source"}
    df = df.rename(columns={k: v for k, v in aliases.items() if k in df.columns and v not in df.columns})
    if not {"source", "target"} <= set(df.columns):
        raise DataValidationError(
            f"Edge table {path} needs columns 'source' and 'target' (or cause/effect); found {list(df.columns)}."
        )
    df["source"] = df["source"].astype(str).str.strip()
    df["target"] = df["target"].astype(str).str.strip()
    return df
