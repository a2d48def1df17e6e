"""Curated prior networks: transcriptional (TRRUST v2, CollecTRI), protein signalling (an open-licence and a
non-commercial set) and user edge lists; direct edges and paths of a few steps between measured names.

Example:
    >>> prior = load_prior("trrust")
    >>> hit = prior.lookup("TP53", "CDKN1A")
    >>> hit.sign, len(hit.pmids) > 5
    (1, True)
    >>> load_prior("signaling").lookup("MAP2K1", "MAPK1").sign
    1
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ..datasets import IN_SILICO
from ..errors import DataValidationError
from ..types.graph import CausalGraph, EdgeScores, read_edge_table
from .resources import knowledge_path

logger = logging.getLogger(__name__)


class PriorInfo(BaseModel):
    """What a built-in prior is, where it comes from and under which terms."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Name accepted by load_prior (combine with '+').")
    kind: Literal["transcriptional", "signalling", "biochemical"] = Field(
        description="TF -> target, protein -> protein, or enzyme / second messenger reactions."
    )
    description: str = Field(description="What the edges are.")
    source: str = Field(description="Origin and citation.")
    licence: str = Field(description="Licence of the data.")
    commercial_use: bool = Field(description="Whether the licence allows commercial use.")
    folder: str = Field(description="Package-data folder (with SOURCE file).")


PRIORS: dict[str, PriorInfo] = {
    "trrust": PriorInfo(
        name="trrust", kind="transcriptional", folder="trrust",
        description="TRRUST v2 human TF -> target edges with mode of regulation and PMIDs.",
        source="Han et al. 2018 NAR 46:D380 (grnpedia.org/trrust)", licence="CC BY-SA 4.0", commercial_use=True,
    ),
    "collectri": PriorInfo(
        name="collectri", kind="transcriptional", folder="collectri",
        description="CollecTRI human TF -> target edges (signed, PMIDs).",
        source="Mueller-Dott et al. 2023 NAR", licence="'freely available'; constituent licences vary",
        commercial_use=True,
    ),
    "signaling": PriorInfo(
        name="signaling", kind="signalling", folder="signaling_open",
        description="6,523 signed directed human protein -> protein signalling edges (SPIKE, SignaLink, NCI-PID, "
        "CA1, Macrophage, ARN, NRF2ome via pypath 2016); PMIDs on 94%.",
        source="saezlab/pypath data snapshot (see SOURCE.md)", licence="CC BY 4.0 / BSD / CC BY-SA 3.0 (share-alike)",
        commercial_use=True,
    ),
    "signaling-nc": PriorInfo(
        name="signaling-nc", kind="signalling", folder="signaling_nc",
        description="32,076 signed directed human protein -> protein signalling edges (SIGNOR, PhosphoSitePlus, "
        "OmniPath 2020 and the open set); PMIDs on 33%.",
        source="SignalingProfiler PKN, pypath, cosmosR snapshots (see SOURCE.md)",
        licence="NON-COMMERCIAL: CC BY-NC 4.0 (SIGNOR, DEPOD), CC BY-NC-SA 3.0 (PhosphoSitePlus)",
        commercial_use=False,
    ),
    "messengers": PriorInfo(
        name="messengers", kind="biochemical", folder="",
        description="92 signed edges of second-messenger biochemistry (PIP2, PIP3, DAG, IP3, Ca2+, cAMP, cGMP): "
        "the enzymes that make or consume each, precursors, and the proteins each recruits or activates; makes "
        "measured lipids and small molecules nodes of the network.",
        source="curated by the aitia developers from Alberts MBoC ch. 15 and Reactome pathway descriptions",
        licence="CC0", commercial_use=True,
    ),
    "omnipath": PriorInfo(
        name="omnipath", kind="signalling", folder="",
        description="Current OmniPath directed interactions, downloaded on request (`aitia priors download "
        "omnipath`) into $AITIA_HOME/priors; never part of the default.",
        source="Tuerei et al. 2016 Nat Methods; omnipathdb.org", licence="per resource; 'academic' filter by default",
        commercial_use=False,
    ),
}  # fmt: skip
BUILTIN_PRIORS = tuple(PRIORS)


def default_prior() -> str:
    """The prior used when none is named: ``AITIA_PRIORS``, without non-commercial sets when
    ``AITIA_NONCOMMERCIAL_DATA=false``.

    Example:
        >>> "signaling" in default_prior()
        True
    """
    from ..config import get_settings

    s = get_settings()
    parts = [p for p in s.priors.split("+") if p]
    if not s.noncommercial_data:
        parts = [p for p in parts if p not in PRIORS or PRIORS[p].commercial_use]
    return "+".join(parts)


def expand_prior_spec(spec: str) -> str:
    """A prior specification with ``default`` replaced by :func:`default_prior`'s parts (``default+omnipath`` works).

    Example:
        >>> expand_prior_spec("default") == default_prior()
        True
    """
    parts = [q for p in spec.split("+") for q in (default_prior().split("+") if p == "default" else [p]) if q]
    return "+".join(dict.fromkeys(parts))


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
        self._node_set: set[str] | None = None
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
                score=edge_weight(len(pmids)),
                sign=int(sign),
                sources=list(dbs),
                evidence=[f"PMID:{p}" for p in pmids],
            )
        return g

    def to_scores(self, genes: Sequence[str], weighted: bool = True, resolve: bool = False) -> EdgeScores:
        """Scores over ``genes``: edge weight (saturating in the number of PMIDs and resources) or 1, else 0.

        Args:
            genes: the gene index (e.g. ``adata.var_names``).
            weighted: :func:`edge_weight` instead of 1 for a curated edge.
            resolve: map each measured name to genes first (families, aliases, phospho forms, second-messenger
                producers; see :func:`measured_members`); a pair's score is the maximum over the members' edges.
        """
        return self.path_scores(genes, max_steps=1, weighted=weighted, resolve=resolve)

    def path_scores(self, genes: Sequence[str], max_steps: int = 3, decay: float = 0.5, weighted: bool = True,
                    resolve: bool = True) -> EdgeScores:  # fmt: skip
        """Scores over ``genes`` from curated paths of at most ``max_steps`` edges: the best path's product of edge
        weights, times ``decay`` per step beyond the first (a direct edge keeps its weight).

        Interventional truth is ancestral (inhibiting A shifts every descendant), so paths are evidence too, but
        weaker and reported apart from direct edges.

        Example:
            >>> s = load_prior("signaling").path_scores(["Raf", "Mek", "Erk"], max_steps=2)
            >>> s["Raf", "Erk"] > 0 and s["Raf", "Erk"] < s["Raf", "Mek"]
            True
        """
        genes = [str(g) for g in genes]
        nodes = {n: i for i, n in enumerate(self.genes)}
        members = self.members_of(genes) if resolve else {g: [g] for g in genes}
        w_all = self._weights(weighted)
        src = self.edges["source"].map(nodes).to_numpy()
        tgt = self.edges["target"].map(nodes).to_numpy()
        v = np.zeros((len(genes), len(genes)))
        for i, g in enumerate(genes):
            start = [nodes[m] for m in members[g] if m in nodes]
            if not start:
                continue
            best = _propagate(start, src, tgt, w_all, len(nodes), max_steps, decay)
            for j, h in enumerate(genes):
                if i != j:
                    ends = [nodes[m] for m in members[h] if m in nodes and m not in members[g]]
                    if ends:
                        v[i, j] = float(best[ends].max())
        kind = "direct" if max_steps == 1 else f"paths<={max_steps}"
        return EdgeScores(v, genes, name=f"prior:{self.name}:{kind}",
                          meta={"weighted": weighted, "resolve": resolve, "max_steps": max_steps, "decay": decay},
                          signs=self._direct_signs(genes, members, w_all))  # fmt: skip

    def members_of(self, genes: Sequence[str]) -> dict[str, list[str]]:
        """:func:`measured_members` for this network: a second messenger that is a node here stands for itself
        only (its producers are proxies for networks that lack the messenger).

        Example:
            >>> load_prior("signaling+messengers").members_of(["PIP3"])["PIP3"]
            ['PIP3']
        """
        messengers = {name for name, _ in _second_messengers().values()}
        out = {}
        for g, ms in measured_members(genes).items():
            own = ms[0] in messengers and ms[0] in self._index_nodes()
            out[g] = ms[:1] if own else [m for m in ms if m not in messengers] or ms
        return out

    def _index_nodes(self) -> set[str]:
        if self._node_set is None:
            self._node_set = set(self.edges["source"]) | set(self.edges["target"])
        return self._node_set

    def _direct_signs(
        self, genes: list[str], members: dict[str, list[str]], weights: np.ndarray
    ) -> np.ndarray | None:
        """Sign of the heaviest curated direct edge between the members of each pair (0: none or unsigned)."""
        owners: dict[str, list[int]] = {}
        for i, g in enumerate(genes):
            for m in members[g]:
                owners.setdefault(m, []).append(i)
        best = np.zeros((len(genes), len(genes)))
        signs = np.zeros((len(genes), len(genes)), dtype=np.int8)
        for s_, t_, sign, w in zip(self.edges["source"], self.edges["target"], self.edges["sign"], weights):
            for i in owners.get(s_, ()):
                for j in owners.get(t_, ()):
                    if i != j and w > best[i, j]:
                        best[i, j], signs[i, j] = w, int(sign)
        return signs if signs.any() else None

    def shortest_path(
        self, sources: Sequence[str], targets: Sequence[str], max_steps: int = 3
    ) -> list[str] | None:
        """A shortest curated path from any of ``sources`` to any of ``targets`` (gene symbols), or None."""
        import networkx as nx

        g = self._nx()
        tset = set(targets)
        best: list[str] | None = None
        cache = self.__dict__.setdefault("_paths_cache", {})
        for s_ in sources:
            if s_ not in g:
                continue
            if (s_, max_steps) not in cache:
                cache[(s_, max_steps)] = nx.single_source_shortest_path(g, s_, cutoff=max_steps)
            for t_, path in cache[(s_, max_steps)].items():
                if t_ in tset and t_ != s_ and (best is None or len(path) < len(best)):
                    best = path
        return best

    def path_sign(self, path: Sequence[str]) -> int:
        """Product of the edge signs along a path (0 if any edge is unsigned)."""
        sign = 1
        for a, b in zip(path, path[1:]):
            e = self.lookup(a, b)
            sign *= e.sign if e is not None else 0
        return sign

    def _nx(self) -> Any:
        if getattr(self, "_graph_cache", None) is None:
            import networkx as nx

            self._graph_cache = nx.DiGraph()
            self._graph_cache.add_edges_from(zip(self.edges["source"], self.edges["target"]))
        return self._graph_cache

    def _weights(self, weighted: bool) -> np.ndarray:
        if not weighted:
            return np.ones(len(self.edges))
        n_pmids = self.edges["pmids"].map(len).to_numpy()
        n_dbs = self.edges["databases"].map(len).to_numpy()
        return np.array([edge_weight(int(a), int(b)) for a, b in zip(n_pmids, n_dbs)])

    def combine(self, other: PriorNetwork, name: str | None = None) -> PriorNetwork:
        """Union of two networks (PMIDs and databases merged; conflicting signs become 0)."""
        return PriorNetwork(
            pd.concat([self.edges, other.edges], ignore_index=True), name=name or f"{self.name}+{other.name}"
        )


def edge_weight(n_pmids: int, n_resources: int = 1) -> float:
    """Evidence weight of a curated edge, saturating in independent support: ``1 - exp(-n / 2)`` with
    ``n`` = PMIDs + resources beyond the first, at least 0.3 (a curated edge without citations still counts).

    Example:
        >>> edge_weight(0), round(edge_weight(4, 3), 3)
        (0.3, 0.95)
    """
    n = n_pmids + max(0, n_resources - 1)
    return float(max(0.3, 1.0 - np.exp(-n / 2.0)))


def _propagate(start: list[int], src: np.ndarray, tgt: np.ndarray, w: np.ndarray, n: int, max_steps: int,
               decay: float) -> np.ndarray:  # fmt: skip
    """Best (max-product) path score from the start nodes to every node within ``max_steps`` edges."""
    front = np.zeros(n)
    front[start] = 1.0
    best = np.zeros(n)
    for step in range(max_steps):
        nxt = np.zeros(n)
        np.maximum.at(nxt, tgt, front[src] * w)
        best = np.maximum(best, nxt * decay**step)
        front = nxt
    return best


@lru_cache(maxsize=1)
def _second_messengers() -> dict[str, tuple[str, list[str]]]:
    """Lower-case alias -> (name, producer genes)."""
    df = pd.read_csv(knowledge_path("second_messengers.csv"))
    out: dict[str, tuple[str, list[str]]] = {}
    for name, aliases, producers in df[["name", "aliases", "producers"]].itertuples(index=False):
        for alias in str(aliases).split(";"):
            out[alias.strip().lower()] = (str(name), str(producers).split(";"))
    return out


def measured_members(names: Sequence[str]) -> dict[str, list[str]]:
    """Nodes that a measured name stands for in a curated prior: the resolver's symbols (families, aliases,
    phospho forms such as ``Akt_pT308``); for a second messenger its own node (``PIP3``, an entity of the
    ``messengers`` prior) followed by its producers (class I PI3K: a proxy used only by networks without the
    messenger's node); else the name itself.

    Example:
        >>> measured_members(["Mek", "PIP3", "XYZ"])["PIP3"][:3]
        ['PIP3', 'PIK3CA', 'PIK3CB']
    """
    from .genes import get_resolver

    r = get_resolver()
    proxies = _second_messengers()
    out: dict[str, list[str]] = {}
    for g in names:
        syms = r.resolve(str(g)).symbols
        if not syms and str(g).strip().lower() in proxies:
            canonical, producers = proxies[str(g).strip().lower()]
            syms = [canonical, *producers]
        out[str(g)] = list(syms) or [str(g)]
    return out


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


@lru_cache(maxsize=8)
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
    if name == "omnipath":
        from .sources.omnipath import omnipath_path

        path = omnipath_path()
        if not path.exists():
            raise DataValidationError(
                f"The omnipath prior is not downloaded ({path} missing); run `aitia priors download omnipath` once."
            )
        df = pd.read_csv(path, sep="\t", dtype=str).fillna("")
        edges = pd.DataFrame({"source": df["source"], "target": df["target"], "sign": df["sign"].astype(int),
                              "pmids": df["pmids"].map(_split_pmids),
                              "databases": df["sources"].map(lambda v: _split_pmids(v) or ["omnipath"])})  # fmt: skip
        return PriorNetwork(edges, name=name)
    if name == "messengers":
        df = pd.read_csv(knowledge_path("second_messenger_edges.csv"), dtype={"source": str, "target": str})
        edges = pd.DataFrame({"source": df["source"], "target": df["target"], "sign": df["sign"].astype(int),
                              "pmids": [[] for _ in range(len(df))],
                              "databases": [["textbook", "Reactome"] for _ in range(len(df))]})  # fmt: skip
        return PriorNetwork(edges, name=name)
    if name in ("signaling", "signaling-nc"):
        info = PRIORS[name]
        stem = "signaling_open_human" if name == "signaling" else "signaling_nc_human"
        df = pd.read_csv(knowledge_path(info.folder, f"{stem}.tsv.gz"), sep="\t", dtype=str)
        edges = pd.DataFrame({"source": df["source"], "target": df["target"], "sign": df["sign"].astype(int),
                              "pmids": df["pmids"].map(_split_pmids),
                              "databases": df["sources"].map(lambda v: _split_pmids(v) or [name])})  # fmt: skip
        return PriorNetwork(edges, name=name)
    raise DataValidationError(f"Unknown prior {name!r}. Options: {', '.join(BUILTIN_PRIORS)} or a file path.")


@lru_cache(maxsize=8)
def _combined(spec: str) -> PriorNetwork:
    """The built-in priors of ``spec`` merged (~1.6 s for the default four; a disk-cache hit ~0.15 s)."""
    from ..cache import cached, file_stamp

    def build() -> PriorNetwork:
        nets = [_builtin(p) for p in spec.split("+")]
        net = nets[0]
        for other in nets[1:]:
            net = net.combine(other)
        return net

    return cached("priors", [spec, [file_stamp(f) for f in _prior_files(spec)], file_stamp(__file__)], build)


def _prior_files(spec: str) -> list[Path]:
    """The files the built-in priors of ``spec`` are read from (their stamps key the disk cache)."""
    files: list[Path] = []
    for part in spec.split("+"):
        if part == "omnipath":
            from .sources.omnipath import omnipath_path

            files.append(omnipath_path())
        elif part == "messengers":
            files.append(Path(knowledge_path("second_messenger_edges.csv")))
        elif part in PRIORS:
            files.extend(sorted(Path(knowledge_path(PRIORS[part].folder)).glob("*")))
    return files


def prior_stamp(name_or_path: str | Path | None = None) -> list[Any]:
    """What :func:`load_prior` would read, identified cheaply (spec and file stamps), for caches of results computed
    from a prior.

    Example:
        >>> prior_stamp("trrust")[0]
        'trrust'
    """
    from ..cache import file_stamp

    spec = default_prior() if name_or_path in (None, "default") else str(name_or_path)
    if all(part in BUILTIN_PRIORS for part in spec.split("+")):
        return [spec, [file_stamp(f) for f in _prior_files(spec)], file_stamp(__file__)]
    return [spec, file_stamp(Path(spec).expanduser()), file_stamp(__file__)]


def load_prior(name_or_path: str | Path | None = None, resolve_symbols: bool = False) -> PriorNetwork:
    """Load built-in priors by name (``trrust``, ``collectri``, ``signaling``, ``signaling-nc``; combined with
    ``+``), the default (None or ``default``: :func:`default_prior`) or a user edge list.

    A user file is CSV/TSV with columns source, target and optionally sign (+1/-1/0 or activates/represses),
    evidence (PMIDs or free text, ';'-separated).

    Args:
        name_or_path: built-in name(s) joined by '+', or a file path.
        resolve_symbols: map user gene names to approved HGNC symbols (unresolvable names are kept and logged).
    """
    spec = default_prior() if name_or_path is None else str(name_or_path)
    if "default" in spec.split("+"):
        spec = expand_prior_spec(spec)
    if all(part in BUILTIN_PRIORS for part in spec.split("+")):
        return _combined(spec)
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


def prior_scores(spec: str | None, genes: list[str], organism: str = "human") -> EdgeScores | None:
    """A prior over ``genes`` from a built-in curated network name (``trrust``, ``trrust+collectri``), ``breadth``
    (:func:`aitia.knowledge.breadth.breadth_prior`: which perturbations should change many genes, from gene
    descriptions; ``organism`` human or yeast) or an edge file (source, target[, score]); None when ``spec`` is empty.

    Example:
        >>> prior_scores("trrust", ["TP53", "CDKN1A", "MDM2"]).values.shape
        (3, 3)
    """
    if not spec:
        return None
    knowledge = spec == "breadth" or all(p in (*BUILTIN_PRIORS, "default") for p in spec.split("+"))
    if knowledge and organism == IN_SILICO:
        raise DataValidationError(
            f"The data are in silico: their gene names are no real genes, so the {spec!r} prior knows nothing about "
            "them (an edge-list file still works)."
        )
    if spec == "breadth":
        from .breadth import breadth_prior

        return breadth_prior(genes, organism=organism)
    if "default" in spec.split("+"):
        spec = expand_prior_spec(spec)
    if all(p in BUILTIN_PRIORS for p in spec.split("+")):
        return load_prior(spec).to_scores(genes, resolve=True)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise DataValidationError(
            f"No prior file {spec!r} (or built-in prior: default, {', '.join(BUILTIN_PRIORS)}, joined by '+'; or "
            "'breadth')."
        )
    return EdgeScores.load(path).reindex(genes, fill=0.0)
