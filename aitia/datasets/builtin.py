"""Loaders of the real datasets shipped with aitia (package data under ``aitia/datasets/files``)."""

from __future__ import annotations

import gzip
import logging
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from anndata import AnnData

from ..errors import DataValidationError
from ..types.graph import CausalGraph, EdgeLabels
from .validate import CONTROL, validate_perturbation_data

logger = logging.getLogger(__name__)


def data_path(*parts: str) -> Path:
    """Path of a shipped data file."""
    return Path(str(resources.files("aitia.datasets").joinpath("files", *parts)))


# --------------------------------------------------------------------------------------------- sachs
#: Measured proteins in the file's column order, named as in bnlearn / the consensus graph.
SACHS_PROTEINS = ["Raf", "Mek", "Plcg", "PIP2", "PIP3", "Erk", "Akt", "PKA", "PKC", "P38", "Jnk"]
_SACHS_FILE_COLUMNS = ["raf", "mek", "plc", "pip2", "pip3", "erk", "akt", "pka", "pkc", "p38", "jnk"]
#: Reagent -> (measured target, intervention type). cd3cd28 and icam2 are general stimuli, not node interventions.
SACHS_INTERVENTIONS: dict[str, tuple[str, str]] = {
    "aktinhib": ("Akt", "inhibitor"),
    "g0076": ("PKC", "inhibitor"),
    "psitect": ("PIP2", "inhibitor"),
    "u0126": ("Mek", "inhibitor"),
    "ly": ("PIP3", "inhibitor"),
    "pma": ("PKC", "activator"),
    "b2camp": ("PKA", "activator"),
}
_SACHS_CONSENSUS_NAMES = {
    "praf": "Raf", "pmek": "Mek", "plcg": "Plcg", "PIP2": "PIP2", "PIP3": "PIP3", "p44/42": "Erk",
    "pakts473": "Akt", "PKA": "PKA", "PKC": "PKC", "P38": "P38", "pjnk": "Jnk",
}  # fmt: skip
_TETRAD_NAMES = dict(zip(_SACHS_FILE_COLUMNS, SACHS_PROTEINS))


@lru_cache(maxsize=2)
def _sachs_frame() -> pd.DataFrame:
    return pd.read_csv(
        data_path("sachs", "sachs.2005.continuous.discrete.experimental.mixed.maximum.2.txt.gz"), sep="\t"
    )


def load_sachs(transform: Literal["log", "raw", "arcsinh"] = "log") -> AnnData:
    """Sachs et al. (2005): 7,466 single cells x 11 phospho-proteins in 9 conditions.

    Args:
        transform: ``"log"`` = ln(raw + 10) as distributed; ``"raw"`` = the measured intensities;
            ``"arcsinh"`` = arcsinh(raw / 5), the usual cytometry transform.

    Returns:
        AnnData with ``obs`` columns ``perturbation`` (measured target or ``"control"``), ``reagent``,
        ``context`` (``"cd3cd28"``, ``"cd3cd28+icam2"`` or ``"unstimulated"``) and ``intervention_type``.

    Example:
        >>> ad = load_sachs()
        >>> ad.obs.query("reagent == 'u0126'")["perturbation"].iloc[0]
        'Mek'
    """
    df = _sachs_frame()
    logx = df[_SACHS_FILE_COLUMNS].to_numpy(dtype=np.float64)
    if transform == "log":
        x = logx
    elif transform == "raw":
        x = np.exp(logx) - 10.0
    elif transform == "arcsinh":
        x = np.arcsinh((np.exp(logx) - 10.0) / 5.0)
    else:
        raise DataValidationError(f"transform {transform!r} not recognised. Options: log, raw, arcsinh.")
    reagents = np.full(len(df), "cd3cd28", dtype=object)
    for reagent in SACHS_INTERVENTIONS:
        reagents[df[reagent].to_numpy() == 1] = reagent
    reagents[(df["icam2"] == 1).to_numpy()] = "icam2"
    pert = np.array([SACHS_INTERVENTIONS[r][0] if r in SACHS_INTERVENTIONS else CONTROL for r in reagents])
    itype = np.array([SACHS_INTERVENTIONS[r][1] if r in SACHS_INTERVENTIONS else CONTROL for r in reagents])
    stim = df["cd3_cd28"].to_numpy() == 1
    context = np.where(
        stim, np.where(df["icam2"].to_numpy() == 1, "cd3cd28+icam2", "cd3cd28"), "unstimulated"
    )
    obs = pd.DataFrame(
        {"perturbation": pert, "reagent": reagents, "context": context, "intervention_type": itype},
        index=[f"cell{i}" for i in range(len(df))],
    )
    adata = AnnData(x.astype(np.float32), obs=obs, var=pd.DataFrame(index=SACHS_PROTEINS))
    adata.uns["aitia"] = {
        "dataset": "sachs",
        "transform": transform,
        "source": "Sachs et al. 2005 Science 308:523; cmu-phil/example-causal-datasets (CC0)",
        "note": "cd3cd28 and icam2 are general stimuli; pma/b2camp cells were not cd3cd28-stimulated.",
    }
    return validate_perturbation_data(adata)


def sachs_graph(which: Literal["consensus", "bnlearn", "tetrad"] = "consensus") -> CausalGraph:
    """A Sachs ground-truth graph over :data:`SACHS_PROTEINS`.

    ``consensus``: the 18-edge graph used by CDT and most benchmarks; ``bnlearn``: the 17-edge network of the
    bnlearn repository; ``tetrad``: the 20-edge graph of cmu-phil's example-causal-datasets.

    Example:
        >>> sachs_graph("consensus").number_of_edges(), sachs_graph("bnlearn").number_of_edges()
        (18, 17)
    """
    if which == "consensus":
        df = pd.read_csv(data_path("sachs", "sachs_consensus_18edges.csv"))
        edges = [
            (_SACHS_CONSENSUS_NAMES[a], _SACHS_CONSENSUS_NAMES[b]) for a, b in df.itertuples(index=False)
        ]
    elif which == "bnlearn":
        with gzip.open(data_path("sachs", "sachs.bif.gz"), "rt") as fh:
            text = fh.read()
        edges = []
        for child, parents in re.findall(r"probability\s*\(\s*(\w+)\s*\|\s*([\w\s,]+)\)", text):
            edges += [(p.strip(), child) for p in parents.split(",")]
        edges = [(_canon_sachs(a), _canon_sachs(b)) for a, b in edges]
    elif which == "tetrad":
        text = data_path("sachs", "sachs.2005.ground.truth.graph.txt").read_text()
        edges = [
            (_TETRAD_NAMES[a], _TETRAD_NAMES[b]) for a, b in re.findall(r"\d+\.\s*(\w+)\s*-->\s*(\w+)", text)
        ]
    else:
        raise DataValidationError(
            f"Sachs graph {which!r} not recognised. Options: consensus, bnlearn, tetrad."
        )
    return CausalGraph.from_edges(edges, nodes=SACHS_PROTEINS, name=f"sachs-{which}")


def _canon_sachs(name: str) -> str:
    lookup = {p.lower(): p for p in SACHS_PROTEINS}
    return lookup[name.lower()]


# --------------------------------------------------------------------------------------------- DREAM4
def _dream_dir(size: int, net: int) -> Path:
    if size not in (10, 100) or net not in range(1, 6):
        raise DataValidationError(
            f"DREAM4 networks are size 10 or 100, numbered 1-5; got size={size}, net={net}."
        )
    return data_path("dream4", f"insilico_size{size}_{net}")


def _read_dream(size: int, net: int, kind: str) -> pd.DataFrame:
    return pd.read_csv(_dream_dir(size, net) / f"{kind}.tsv.gz", sep="\t")


DREAM4_PARTS = ("wildtype", "knockouts", "knockdowns", "multifactorial")


def load_dream4(size: int, net: int, parts: tuple[str, ...] = DREAM4_PARTS) -> AnnData:
    """DREAM4 in-silico steady-state data (GeneNetWeaver) for one network.

    Args:
        size: 10 or 100 genes.
        net: network 1-5.
        parts: which experiments to include: wildtype (control), knockouts, knockdowns, multifactorial
            (random multifactorial perturbations; ``perturbation="multifactorial"``, not node interventions).

    Example:
        >>> ad = load_dream4(10, 1)
        >>> int(ad.obs["intervention_type"].value_counts()["knockout"])
        10
    """
    unknown = set(parts) - set(DREAM4_PARTS)
    if unknown:
        raise DataValidationError(
            f"Unknown DREAM4 parts {sorted(unknown)}. Options: {', '.join(DREAM4_PARTS)}."
        )
    frames, obs = [], []
    for part in parts:
        df = _read_dream(size, net, part)
        genes = list(df.columns)
        frames.append(df.to_numpy(dtype=np.float64))
        for i in range(len(df)):
            if part == "wildtype":
                obs.append(("control", "control", f"wildtype_{i}"))
            elif part in ("knockouts", "knockdowns"):
                obs.append((genes[i], part[:-1], f"{part[:-1]}_{genes[i]}"))
            else:
                obs.append(("multifactorial", "multifactorial", f"multifactorial_{i}"))
    x = np.vstack(frames)
    o = pd.DataFrame(obs, columns=["perturbation", "intervention_type", "name"]).set_index("name")
    o["context"] = "insilico"
    adata = AnnData(x.astype(np.float32), obs=o, var=pd.DataFrame(index=genes))
    adata.uns["aitia"] = {
        "dataset": f"dream4-{size}-{net}",
        "source": "DREAM4 in silico (Marbach et al. 2010)",
    }
    return validate_perturbation_data(adata, require_control="wildtype" in parts)


def load_dream4_timeseries(size: int, net: int) -> AnnData:
    """DREAM4 time series: obs ``time`` and ``series`` (each series perturbs a few genes for its first half)."""
    df = _read_dream(size, net, "timeseries")
    times = df.pop("Time").to_numpy()
    series = np.cumsum(np.r_[1, (np.diff(times) < 0).astype(int)]) - 1
    o = pd.DataFrame({"time": times, "series": series, "perturbation": "unknown", "context": "insilico"})
    o["intervention_type"] = "multifactorial"
    o.index = [f"ts{s}_t{t:g}" for s, t in zip(series, times)]
    adata = AnnData(df.to_numpy(np.float32), obs=o, var=pd.DataFrame(index=df.columns))
    adata.uns["aitia"] = {"dataset": f"dream4-{size}-{net}", "part": "timeseries"}
    return adata


def dream4_graph(size: int, net: int) -> CausalGraph:
    """The gold-standard network of a DREAM4 in-silico challenge."""
    df = pd.read_csv(
        _dream_dir(size, net) / "goldStandard.tsv.gz", sep="\t", header=None, names=["a", "b", "y"]
    )
    genes = list(_read_dream(size, net, "wildtype").columns)
    return CausalGraph.from_edges(
        [(a, b) for a, b, y in df.itertuples(index=False) if y == 1], nodes=genes, name=f"dream4-{size}-{net}"
    )


# --------------------------------------------------------------------------------------------- Kemmeren (MRCL)
KEMMEREN_INSTANCES = 25


@lru_cache(maxsize=1)
def _kemmeren_arrays() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    with np.load(data_path("kemmeren_mrcl", "yeast_rowwise_GIES_25x50genes.npz")) as a:
        data = {k: a[k] for k in a.files}
    with np.load(data_path("kemmeren_mrcl", "yeast_rowwise_GIES_labelsplit_rho0.2.npz")) as b:
        split = {k: b[k] for k in b.files}
    return data, split


def _check_instance(instance: int) -> int:
    if not 0 <= int(instance) < KEMMEREN_INSTANCES:
        raise DataValidationError(
            f"kemmeren-mrcl instance must be 0..{KEMMEREN_INSTANCES - 1}, got {instance}."
        )
    return int(instance)


def load_kemmeren(instance: int = 0, rows: Literal["train", "all"] = "train") -> AnnData:
    """One of the 25 MRCL instances of Kemmeren et al. (2014) yeast deletion data (Hill et al., JMLR 2019).

    Columns are 50 node genes (systematic ORF names), column-standardised (as in the MRCL repository for ``"all"``;
    again over the kept rows for ``"train"``, since the repository's scaling used the held-out deletions). Rows: 76
    wild-type samples (``control``) and the deletion mutants of the node genes.

    Args:
        instance: 0..24.
        rows: ``"train"`` (default) keeps only the deletion rows of the 10 sources whose labels are revealed
            (the ``train`` split): the held-out labels are computed from the other 40 deletion rows, so those rows
            must not reach a learner. ``"all"``: every deletion row (for effect tables, whose evaluation splits
            perturbations itself, or to reproduce the earlier, leaky numbers).

    Example:
        >>> ad = load_kemmeren(0)
        >>> ad.shape, int((ad.obs["perturbation"] == "control").sum())
        ((86, 50), 76)
        >>> load_kemmeren(0, rows="all").shape
        (126, 50)
    """
    i = _check_instance(instance)
    if rows not in ("train", "all"):
        raise DataValidationError(f"rows {rows!r} not recognised. Options: train, all.")
    return _kemmeren_data(i, _kemmeren_revealed(i) if rows == "train" else None, rows)


def _kemmeren_revealed(instance: int) -> list[str]:
    """The sources whose label rows the instance reveals (the ``train`` split), in gene order."""
    data, split = _kemmeren_arrays()
    genes = [str(g) for g in data["gene_names"][instance]]
    return [genes[k] for k in np.flatnonzero((~np.isnan(split["Gobs"][instance])).any(axis=1))]


def _kemmeren_data(instance: int, deletions: list[str] | None, rows: str) -> AnnData:
    """The wild-type rows and the deletion rows of ``deletions`` (None: every row, as shipped). A subset is
    column-standardised again over the rows it keeps: the shipped columns were standardised over all 126 rows, so
    their centre and scale carry the deletions left out, whose rows the held-out labels are computed from."""
    data, _ = _kemmeren_arrays()
    names = [str(r) for r in data["row_names"][instance]]
    genes = [str(g) for g in data["gene_names"][instance]]
    x = data["X"][instance]
    if deletions is not None:
        wanted = set(deletions)
        keep = np.array([r.startswith("wt-") or r in wanted for r in names])
        names, x = [r for r, k in zip(names, keep) if k], x[keep]
        sd = x.std(axis=0, ddof=1)
        x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    is_wt = np.array([r.startswith("wt-") for r in names])
    obs = pd.DataFrame(
        {
            "perturbation": np.where(is_wt, CONTROL, names),
            "intervention_type": np.where(is_wt, CONTROL, "knockout"),
            "context": "yeast",
        },
        index=[f"{r}#{k}" for k, r in enumerate(names)],
    )
    adata = AnnData(x.astype(np.float32), obs=obs, var=pd.DataFrame(index=genes))
    adata.uns["aitia"] = {"dataset": "kemmeren-mrcl", "instance": instance, "rows": rows,
                          "source": "Kemmeren 2014; MRCL (GPL-3)"}  # fmt: skip
    return validate_perturbation_data(adata)


def kemmeren_unlabelled_split(
    instance: int = 0, n_unlabelled: int = 20, seed: int = 0, with_revealed: bool = True
) -> tuple[AnnData, EdgeLabels, EdgeLabels, list[str]]:
    """One instance with deletion rows nobody labelled, as the published protocol's non-node training deletions:
    ``n_unlabelled`` random held-out deletions enter the data without labels, and only the other held-out sources
    are scored. ``with_revealed=False``: the revealed sources' deletion rows stay out of the data too (the published
    row-wise protocol: labels, but no data, for the revealed sources). Columns are standardised over the kept rows.

    Returns:
        The data (controls, the revealed deletions unless left out, the unlabelled ones), the revealed labels, the
        held-out labels of the sources that stay unseen, and the unlabelled deletions' genes.

    Example:
        >>> adata, train, scored, extra = kemmeren_unlabelled_split(0, n_unlabelled=20)
        >>> adata.n_obs, len(extra), len(scored.sources)
        (106, 20, 20)
        >>> kemmeren_unlabelled_split(0, n_unlabelled=20, with_revealed=False)[0].n_obs
        96
    """
    i = _check_instance(instance)
    data, _ = _kemmeren_arrays()
    genes = [str(g) for g in data["gene_names"][i]]
    revealed = _kemmeren_revealed(i)
    held = [g for g in genes if g not in revealed]
    if not 0 < n_unlabelled < len(held):
        raise DataValidationError(f"n_unlabelled must be within 1..{len(held) - 1}, got {n_unlabelled}.")
    extra = [str(g) for g in np.random.default_rng([seed, i]).choice(held, n_unlabelled, replace=False)]
    adata = _kemmeren_data(i, (revealed if with_revealed else []) + extra, "unlabelled split")
    test = kemmeren_labels(i, "test")
    keep = [k for k, s in enumerate(test.sources) if s in held and s not in extra]
    scored = EdgeLabels(test.values[keep], [test.sources[k] for k in keep], test.targets,
                        provenance=f"kemmeren-mrcl[{i}] test, sources without data")  # fmt: skip
    return adata, kemmeren_labels(i, "train"), scored, extra


def kemmeren_labels(instance: int = 0, split: Literal["all", "train", "test"] = "all") -> EdgeLabels:
    """Labels of one instance: ``(i, j) = 1`` iff deleting gene i shifts gene j by |robust z| >= 5.

    ``split="train"`` gives the 20% revealed labels (``Gobs``), ``"test"`` the held-out 80% (``Gtest``).
    The diagonal is labelled (mostly 1); metrics exclude it by default.
    """
    i = _check_instance(instance)
    data, sp = _kemmeren_arrays()
    genes = [str(g) for g in data["gene_names"][i]]
    if split == "all":
        values = data["labels"][i]
    elif split == "train":
        values = sp["Gobs"][i]
    elif split == "test":
        values = sp["Gtest"][i]
    else:
        raise DataValidationError(f"split {split!r} not recognised. Options: all, train, test.")
    return EdgeLabels(values, genes, genes, provenance=f"kemmeren-mrcl[{i}] {split} (|robust z| >= 5)")
