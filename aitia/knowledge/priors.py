"""Curated prior networks: TRRUST v2, CollecTRI and user edge lists.

Example:
    >>> prior = load_prior("trrust")
    >>> hit = prior.lookup("TP53", "CDKN1A")
    >>> hit.sign, len(hit.pmids) > 5
    (1, True)
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ..errors import DataValidationError
from ..types.graph import CausalGraph, EdgeScores, read_edge_table
from .resources import knowledge_path

logger = logging.getLogger(__name__)

BUILTIN_PRIORS = ("trrust", "collectri")


class PriorEdge(BaseModel):
    """One curated edge."""

    model_config = ConfigDict(extra="forbid")

    source: str
    target: str
    sign: int = Field(description="+1 activation, -1 repression, 0 unknown or mixed.")
    pmids: list[str] = Field(default_factory=list)
    databases: list[str] = Field(default_factory=list)


class PriorNetwork:
    """A signed, cited directed network of curated regulatory edges.

    Attributes:
        edges: table with columns source, target, sign, pmids (list), databases (list); one row per ordered pair.
        name: provenance label.
    """

    def __init__(self, edges: pd.DataFrame, name: str = "prior") -> None:
        missing = {"source", "target"} - set(edges.columns)
        if missing:
            raise DataValidationError(
                f"Prior edges need columns source and target; missing {sorted(missing)}."
            )
        df = edges.copy()
        df["source"] = df["source"].astype(str)
        df["target"] = df["target"].astype(str)
        if "sign" not in df:
            df["sign"] = 0
        if "pmids" not in df:
            df["pmids"] = [[] for _ in range(len(df))]
        if "databases" not in df:
            df["databases"] = [[name] for _ in range(len(df))]
        self.edges = _collapse(df)
        self.name = name
        self._index = {(s, t): i for i, (s, t) in enumerate(zip(self.edges["source"], self.edges["target"]))}

    def __len__(self) -> int:
        return len(self.edges)

    @property
    def genes(self) -> list[str]:
        return sorted(set(self.edges["source"]) | set(self.edges["target"]))

    def lookup(self, source: str, target: str) -> PriorEdge | None:
        """The curated edge source -> target, or None."""
        i = self._index.get((source, target))
        if i is None:
            return None
        row = self.edges.iloc[i]
        return PriorEdge(source=source, target=target, sign=int(row["sign"]), pmids=list(row["pmids"]),
                         databases=list(row["databases"]))  # fmt: skip

    def neighbours(self, gene: str, direction: Literal["out", "in", "both"] = "both") -> pd.DataFrame:
        """Edges from (out), into (in) or touching (both) ``gene``."""
        e = self.edges
        if direction == "out":
            mask = e["source"] == gene
        elif direction == "in":
            mask = e["target"] == gene
        else:
            mask = (e["source"] == gene) | (e["target"] == gene)
        return e[mask].reset_index(drop=True)

    def to_graph(self) -> CausalGraph:
        """The network as a CausalGraph (score = evidence weight, sign, sources = databases, evidence = PMIDs)."""
        g = CausalGraph(name=self.name)
        for s, t, sign, pmids, dbs in self.edges[
            ["source", "target", "sign", "pmids", "databases"]
        ].itertuples(index=False):
            g.add_edge(
                s,
                t,
                score=_weight(len(pmids)),
                sign=int(sign),
                sources=list(dbs),
                evidence=[f"PMID:{p}" for p in pmids],
            )
        return g

    def to_scores(self, genes: Sequence[str], weighted: bool = True, resolve: bool = False) -> EdgeScores:
        """Scores over ``genes``: edge weight (saturating in the number of PMIDs) or 1, else 0.

        Args:
            genes: the gene index (e.g. ``adata.var_names``).
            weighted: ``1 - exp(-n_pmids / 2)`` (at least 0.3) instead of 1 for a curated edge.
            resolve: map each gene through the resolver first (families, aliases); a pair's score is the maximum
                over the members' edges.
        """
        genes = [str(g) for g in genes]
        members: dict[str, list[str]] = {g: [g] for g in genes}
        if resolve:
            from .genes import get_resolver

            r = get_resolver()
            for g in genes:
                res = r.resolve(g)
                members[g] = res.symbols or [g]
        by_symbol: dict[str, list[int]] = {}
        for i, g in enumerate(genes):
            for s in members[g]:
                by_symbol.setdefault(s, []).append(i)
        v = np.zeros((len(genes), len(genes)))
        for s, t, pmids in self.edges[["source", "target", "pmids"]].itertuples(index=False):
            if s in by_symbol and t in by_symbol:
                w = _weight(len(pmids)) if weighted else 1.0
                for i in by_symbol[s]:
                    for j in by_symbol[t]:
                        if i != j:
                            v[i, j] = max(v[i, j], w)
        return EdgeScores(
            v, genes, name=f"prior:{self.name}", meta={"weighted": weighted, "resolve": resolve}
        )

    def combine(self, other: PriorNetwork, name: str | None = None) -> PriorNetwork:
        """Union of two networks (PMIDs and databases merged; conflicting signs become 0)."""
        return PriorNetwork(
            pd.concat([self.edges, other.edges], ignore_index=True), name=name or f"{self.name}+{other.name}"
        )


def _weight(n_pmids: int) -> float:
    return float(max(0.3, 1.0 - np.exp(-n_pmids / 2.0)))


def _collapse(df: pd.DataFrame) -> pd.DataFrame:
    """One row per ordered pair; the sign is the PMID-weighted majority of the rows' signs (ties: 0)."""
    df = df.reset_index(drop=True)
    df["sign"] = df["sign"].astype(int)
    dup = df.duplicated(["source", "target"], keep=False).to_numpy()
    single = df.loc[~dup, ["source", "target", "sign", "pmids", "databases"]].copy()
    single["pmids"] = single["pmids"].map(lambda p: sorted({str(x) for x in (p or [])}))
    single["databases"] = single["databases"].map(lambda d: sorted({str(x) for x in (d or [])}))
    multi = df.loc[dup].copy()
    if len(multi):
        multi["_vote"] = multi["sign"] * multi["pmids"].map(lambda p: max(1, len(p or [])))
        g = multi.groupby(["source", "target"], sort=False)
        merged = pd.DataFrame(
            {
                "sign": np.sign(g["_vote"].sum()).astype(int),
                "pmids": g["pmids"].agg(lambda s: sorted({str(x) for lst in s for x in (lst or [])})),
                "databases": g["databases"].agg(lambda s: sorted({str(x) for lst in s for x in (lst or [])})),
            }
        ).reset_index()
        single = pd.concat([single, merged], ignore_index=True)
    return single.sort_values(["source", "target"], kind="stable").reset_index(drop=True)


def _split_pmids(cell: object) -> list[str]:
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return []
    return [p.strip() for p in str(cell).replace(",", ";").split(";") if p.strip()]


@lru_cache(maxsize=4)
def _builtin(name: str) -> PriorNetwork:
    if name == "trrust":
        with gzip.open(knowledge_path("trrust", "trrust_rawdata.human.tsv.gz"), "rt") as fh:
            df = pd.read_csv(
                fh, sep="\t", header=None, names=["source", "target", "mode", "pmids"], dtype=str
            )
        sign = df["mode"].map({"Activation": 1, "Repression": -1}).fillna(0).astype(int)
        edges = pd.DataFrame({"source": df["source"], "target": df["target"], "sign": sign,
                              "pmids": df["pmids"].map(_split_pmids), "databases": [["TRRUST"]] * len(df)})  # fmt: skip
        return PriorNetwork(edges, name="trrust")
    if name == "collectri":
        with gzip.open(knowledge_path("collectri", "collectri_human.csv.gz"), "rt") as fh:
            df = pd.read_csv(fh, dtype={"PMID": str})
        edges = pd.DataFrame({"source": df["source"], "target": df["target"], "sign": df["weight"].astype(int),
                              "pmids": df["PMID"].map(_split_pmids), "databases": [["CollecTRI"]] * len(df)})  # fmt: skip
        return PriorNetwork(edges, name="collectri")
    raise DataValidationError(f"Unknown prior {name!r}. Options: {', '.join(BUILTIN_PRIORS)} or a file path.")


def load_prior(name_or_path: str | Path, resolve_symbols: bool = False) -> PriorNetwork:
    """Load TRRUST v2 ('trrust'), CollecTRI ('collectri'), both ('trrust+collectri') or a user edge list.

    A user file is CSV/TSV with columns source, target and optionally sign (+1/-1/0 or activates/represses),
    evidence (PMIDs or free text, ';'-separated).

    Args:
        name_or_path: built-in name(s) joined by '+', or a file path.
        resolve_symbols: map user gene names to approved HGNC symbols (unresolvable names are kept and logged).
    """
    spec = str(name_or_path)
    if all(part in BUILTIN_PRIORS for part in spec.split("+")):
        nets = [_builtin(p) for p in spec.split("+")]
        net = nets[0]
        for other in nets[1:]:
            net = net.combine(other)
        return net
    path = Path(spec).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"No prior file at {path} (built-in priors: {', '.join(BUILTIN_PRIORS)}).")
    df = read_edge_table(path)
    if "sign" in df.columns:
        sign_map = {"activates": 1, "activation": 1, "+": 1, "+1": 1, "1": 1, "represses": -1, "repression": -1,
                    "inhibits": -1, "-": -1, "-1": -1, "0": 0, "unknown": 0, "": 0}  # fmt: skip
        raw = df["sign"].astype(str).str.strip().str.lower().replace({"nan": ""})
        bad = ~raw.isin(sign_map)
        if bad.any():
            raise DataValidationError(
                f"{path}: sign values must be +1/-1/0 or activates/represses; got {raw[bad].unique()[:5].tolist()}."
            )
        df["sign"] = raw.map(sign_map).astype(int)
    evidence_col = next((c for c in ("evidence", "pmid", "pmids", "references") if c in df.columns), None)
    df["pmids"] = df[evidence_col].map(_split_pmids) if evidence_col else [[] for _ in range(len(df))]
    if resolve_symbols:
        from .genes import get_resolver

        r = get_resolver()
        mapping: dict[str, str] = {}
        for g in set(df["source"]) | set(df["target"]):
            res = r.resolve(g)
            mapping[g] = res.symbols[0] if len(res.symbols) == 1 else g
            if len(res.symbols) != 1:
                logger.info("prior gene %r kept as is (%s)", g, res.note or res.match)
        df["source"] = df["source"].map(mapping)
        df["target"] = df["target"].map(mapping)
    df["databases"] = [[path.stem]] * len(df)
    return PriorNetwork(df[["source", "target", "sign", "pmids", "databases"]], name=path.stem)


def prior_scores(spec: str | None, genes: list[str]) -> EdgeScores | None:
    """A prior over ``genes`` from a built-in curated network name (``trrust``, ``trrust+collectri``) or an edge
    file (source, target[, score]); None when ``spec`` is empty.

    Example:
        >>> prior_scores("trrust", ["TP53", "CDKN1A", "MDM2"]).values.shape
        (3, 3)
    """
    if not spec:
        return None
    if all(p in BUILTIN_PRIORS for p in spec.split("+")):
        return load_prior(spec).to_scores(genes, resolve=True)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise DataValidationError(f"No prior file {spec!r} (or built-in prior: {', '.join(BUILTIN_PRIORS)}).")
    return EdgeScores.load(path).reindex(genes, fill=0.0)
