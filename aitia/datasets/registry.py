"""Registry of the built-in datasets: ``list()``, ``info(name)``, ``load(name, **kw)``, ``ground_truth(name)``."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from anndata import AnnData
from pydantic import BaseModel, ConfigDict, Field

from ..causal.graph import CausalGraph, EdgeLabels
from ..errors import UnknownDatasetError
from . import builtin


class DatasetInfo(BaseModel):
    """Description of a built-in dataset."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Registry name.")
    description: str = Field(description="What the data are.")
    organism: str = Field(description="Organism or 'in silico'.")
    n_samples: int = Field(description="Samples (cells or conditions) in the default load.")
    n_genes: int = Field(description="Measured genes or proteins.")
    interventions: str = Field(description="Kinds of interventions.")
    truths: list[str] = Field(description="Names accepted by ground_truth(name, which=...).")
    load_options: dict[str, str] = Field(default_factory=dict, description="Keyword arguments of load().")
    source: str = Field(description="Citation and licence.")


@dataclass
class _Entry:
    info: DatasetInfo
    loader: Callable[..., AnnData]
    truth: Callable[..., CausalGraph | EdgeLabels]
    default_truth: str
    extra: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, _Entry] = {}


def _register() -> None:
    _REGISTRY["sachs"] = _Entry(
        DatasetInfo(
            name="sachs",
            description="Flow cytometry of 11 phospho-proteins in human T cells, 9 conditions (Sachs et al. 2005).",
            organism="human",
            n_samples=7466,
            n_genes=11,
            interventions="inhibitors of Akt, PKC, PIP2, Mek, PIP3; activators of PKC, PKA; general stimuli",
            truths=["consensus", "bnlearn", "tetrad"],
            load_options={"transform": "log | raw | arcsinh"},
            source="Sachs et al. 2005 Science; cmu-phil/example-causal-datasets (CC0 1.0)",
        ),
        builtin.load_sachs,
        lambda which="consensus": builtin.sachs_graph(which),
        "consensus",
    )
    for size in (10, 100):
        for net in range(1, 6):
            name = f"dream4-{size}-{net}"
            _REGISTRY[name] = _Entry(
                DatasetInfo(
                    name=name,
                    description=f"DREAM4 in-silico network {net} with {size} genes (GeneNetWeaver steady states).",
                    organism="in silico",
                    n_samples=1 + 3 * size,
                    n_genes=size,
                    interventions="knockouts, knockdowns of every gene; multifactorial",
                    truths=["gold"],
                    load_options={"parts": "subset of wildtype, knockouts, knockdowns, multifactorial"},
                    source="Marbach et al. 2010 PNAS; Bioconductor DREAM4 (GPL)",
                ),
                lambda size=size, net=net, **kw: builtin.load_dream4(size, net, **kw),
                lambda which="gold", size=size, net=net: builtin.dream4_graph(size, net),
                "gold",
            )
    _REGISTRY["kemmeren-mrcl"] = _Entry(
        DatasetInfo(
            name="kemmeren-mrcl",
            description="25 instances of 50 yeast genes: 76 wild-type + 50 deletion-mutant profiles each "
            "(Kemmeren et al. 2014, as used by MRCL, Hill et al. JMLR 2019).",
            organism="S. cerevisiae",
            n_samples=126,
            n_genes=50,
            interventions="gene deletions of every node gene",
            truths=["all", "train", "test"],
            load_options={"instance": "0..24"},
            source="Kemmeren et al. 2014 Cell; github.com/Steven-M-Hill/MRCL (GPL-3)",
        ),
        builtin.load_kemmeren,
        lambda which="all", instance=0: builtin.kemmeren_labels(instance, which),
        "all",
    )


_register()


def _entry(name: str) -> _Entry:
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownDatasetError(f"Unknown dataset {name!r}.{hint} Available: {', '.join(_REGISTRY)}.")
    return _REGISTRY[name]


def list_datasets() -> list[str]:
    """Names of the built-in datasets.

    Example:
        >>> "sachs" in list_datasets()
        True
    """
    return list(_REGISTRY)


def info(name: str) -> DatasetInfo:
    """Description of a built-in dataset."""
    return _entry(name).info


def load(name: str, **kwargs: Any) -> AnnData:
    """Load a built-in dataset as perturbation AnnData.

    Example:
        >>> load("dream4-10-1").n_vars
        10
    """
    return _entry(name).loader(**kwargs)


def ground_truth(name: str, which: str | None = None, **kwargs: Any) -> CausalGraph | EdgeLabels:
    """The ground truth of a built-in dataset: a :class:`CausalGraph` (sachs, dream4) or :class:`EdgeLabels`.

    Example:
        >>> ground_truth("sachs").number_of_edges()
        18
    """
    entry = _entry(name)
    which = which or entry.default_truth
    if which not in entry.info.truths:
        raise UnknownDatasetError(f"{name} has no truth {which!r}. Options: {', '.join(entry.info.truths)}.")
    return entry.truth(which, **kwargs)
