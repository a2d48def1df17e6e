"""Registry of the built-in datasets: ``list()``, ``info(name)``, ``load(name, **kw)``, ``ground_truth(name)``,
``rules(name)``. Each entry owns every rule about its dataset (truth and effect settings, label splits, which
truths evaluate); nothing outside :mod:`aitia.datasets` names a built-in dataset."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anndata import AnnData
from pydantic import BaseModel, ConfigDict, Field

from ..errors import UnknownDatasetError
from ..types.graph import CausalGraph, EdgeLabels
from . import builtin
from .io import H5AD_SUFFIXES, TABLE_SUFFIXES, read_data
from .rules import DEFAULT_RULES, DatasetRules, EffectSettings, TruthSettings

#: The organism of simulated networks (DREAM4, :mod:`aitia.causal.simulate`): their gene names are no real genes.
IN_SILICO = "in silico"


class DatasetInfo(BaseModel):
    """Description of a built-in dataset (or of data registered with :func:`register_data`)."""

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
    rules: DatasetRules = field(default_factory=DatasetRules)


_REGISTRY: dict[str, _Entry] = {}


def _dream4_alias(size: int, net: int) -> str:
    """'DREAM4 network 1 of size 10', 'the 10-gene DREAM4 network #1', 'DREAM4 size 10 net 1'."""
    size_re = rf"(?:\bsize[- ]?{size}\b|\b{size}[- ]?(?:genes?|nodes?)\b|\b{size}-gene\b)"
    net_re = rf"(?:\b(?:network|net|no\.?|number)\s*#?\s*{net}\b|#\s*{net}\b)"
    return (
        rf"\bdream\s*-?\s*4\b(?=.*{size_re})(?=.*{net_re})|(?=.*{size_re})(?=.*{net_re}).*\bdream\s*-?\s*4\b"
    )


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
        DatasetRules(
            # ~800 cells per condition: Mann-Whitney against the controls of the same stimulus
            truth=(sachs_truth := TruthSettings(method="mannwhitney")),
            effects=EffectSettings.like(sachs_truth, normalize="none"),  # distributed as ln(x + 10)
            evaluation_truths=["consensus", "bnlearn", "tetrad"],
            reference_graphs=["consensus", "bnlearn", "tetrad"],
            names_in_questions=True,  # Mek, Erk, PIP3: protein names, not gene symbols
            question_aliases=[
                r"\bsachs\b",
                r"\bt[- ]?cells?\b",
                r"\bcd3\s*/?\s*cd28\b",
                r"\bflow cytometry\b",
                r"\bphospho-?prote\w*",
            ],  # fmt: skip
            question_rank=0,
        ),
    )
    for size in (10, 100):
        for net in range(1, 6):
            name = f"dream4-{size}-{net}"
            _REGISTRY[name] = _Entry(
                DatasetInfo(
                    name=name,
                    description=f"DREAM4 in-silico network {net} with {size} genes (GeneNetWeaver steady states).",
                    organism=IN_SILICO,
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
                DatasetRules(
                    # one wild-type profile cannot define spread: z against all samples of the network
                    truth=(dream_truth := TruthSettings(method="robust_z", reference="all", z_threshold=3.0)),
                    effects=EffectSettings.like(
                        dream_truth,
                        normalize="none",
                        load_options={"parts": builtin.DREAM4_PARTS},
                        contexts_from_intervention_types=["knockout", "knockdown"],
                        shared_intervention_types=["multifactorial", "control"],
                    ),
                    evaluation_truths=["gold"],
                    reference_graphs=["gold"],
                    question_aliases=[_dream4_alias(size, net)],
                    question_rank=2 if (size, net) == (100, 1) else None,
                ),
            )
    _REGISTRY["kemmeren-mrcl"] = _Entry(
        DatasetInfo(
            name="kemmeren-mrcl",
            description="25 instances of 50 yeast genes: 76 wild-type profiles + the deletion mutants of the 10 "
            "sources whose labels are revealed (rows='all': all 50) (Kemmeren et al. 2014, as used by MRCL, "
            "Hill et al. JMLR 2019).",
            organism="S. cerevisiae",
            n_samples=86,
            n_genes=50,
            interventions="gene deletions of every node gene",
            truths=["all", "train", "test"],
            load_options={"instance": "0..24", "rows": "train (default; no held-out deletion rows) | all"},
            source="Kemmeren et al. 2014 Cell; github.com/Steven-M-Hill/MRCL (GPL-3)",
        ),
        builtin.load_kemmeren,
        lambda which="all", instance=0: builtin.kemmeren_labels(instance, which),
        "all",
        DatasetRules(
            # single deletion profiles, scored like the MRCL labels: |robust z| >= 5 against wild type
            truth=(kem_truth := TruthSettings(method="robust_z", reference="control", z_threshold=5.0)),
            # effect tables split perturbations themselves (unseen_perturbation...), so they see every deletion
            effects=EffectSettings.like(
                kem_truth,
                normalize="none",
                load_options={"rows": "all"},
            ),  # fmt: skip
            training_truth="train",  # the revealed 20% of labels; the other 80% ("test") evaluate
            evaluation_truths=["test"],
            question_aliases=[
                r"\bkemmeren\b",
                r"\bmrcl\b",
                r"\byeast\b",
                r"\bdeletion (?:mutants?|profiles?|strains?|screen)",
            ],
            question_rank=1,
        ),
    )


_register()


def user_file(name: str) -> Path | None:
    """The data file a dataset name points to, when it is not a built-in name: an existing ``.h5ad`` or expression
    table (CSV/TSV/parquet). None for built-in names and for names that are not file names.

    Raises:
        UnknownDatasetError: the name looks like a data file but none exists there.

    Example:
        >>> user_file("sachs") is None
        True
    """
    if name in _REGISTRY:
        return None
    path = Path(name).expanduser()
    if not path.name.lower().endswith(H5AD_SUFFIXES + TABLE_SUFFIXES) and "/" not in name:
        return None
    if not path.is_file():
        raise UnknownDatasetError(
            f"{name!r} is not a built-in dataset and names no existing data file (.h5ad or an expression table: "
            f"{', '.join(TABLE_SUFFIXES)}). Built-in: {', '.join(_REGISTRY)}."
        )
    return path


def _entry(name: str) -> _Entry:
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownDatasetError(
            f"Unknown dataset {name!r}.{hint} Available: {', '.join(_REGISTRY)}, or the path of an .h5ad file or "
            "expression table."
        )
    return _REGISTRY[name]


#: The dataset the demo, the CLI and the planner use when none is named.
DEFAULT_DATASET = "sachs"
#: Names registered from the user's data this session (:func:`register_data`), newest last.
_USER_DATA: list[str] = []
_VERSION = [0]


def default_dataset() -> str:
    """The dataset used when a command or question names none: the user's data registered last, else the demo's.

    Example:
        >>> default_dataset() in list_datasets()
        True
    """
    return _USER_DATA[-1] if _USER_DATA else DEFAULT_DATASET


def registry_version() -> int:
    """A counter that changes whenever data are registered: caches keyed by dataset name include it."""
    return _VERSION[0]


def register_data(name: str, adata: AnnData, description: str | None = None, reference: CausalGraph | None = None,
                  organism: str | None = None) -> str:  # fmt: skip
    """Make the user's data a dataset of this session: every API that takes a dataset name (the agent and its
    questions, the ToolBox, learners' truths) then takes ``name``; a question that names no dataset asks it first.

    Args:
        name: the name to use (not a built-in one).
        adata: perturbation data (:func:`aitia.datasets.read_data` and friends, or your own AnnData).
        description: one line about the data.
        reference: a known graph to score learned graphs against (truth ``"reference"``).
        organism: ``human``, ``yeast``, ``in silico``; default: what the data say (:func:`organism_of`).

    Example:
        >>> ad = load("dream4-10-1")
        >>> register_data("my-net", ad, description="a copy"), info("my-net").n_genes, default_dataset()
        ('my-net', 10, 'my-net')
        >>> unregister_data("my-net")
    """
    from .validate import validate_perturbation_data

    if name in _REGISTRY and name not in _USER_DATA:
        raise UnknownDatasetError(f"{name!r} is a built-in dataset; register your data under another name.")
    organism = organism or organism_of(adata)
    adata = validate_perturbation_data(adata.copy())
    adata.uns["aitia"] = {**(adata.uns.get("aitia") or {}), "dataset": name, "organism": organism}
    truths = ["reference"] if reference is not None else []
    _REGISTRY[name] = _Entry(
        data_info(name, adata, description, truths, organism),
        lambda **kw: _user_copy(name, adata, kw),
        lambda which="reference": reference,  # type: ignore[arg-type,return-value]
        "reference",
        DatasetRules(
            evaluation_truths=truths, reference_graphs=truths, names_in_questions=True, question_rank=-1
        ),
    )
    if name in _USER_DATA:
        _USER_DATA.remove(name)
    _USER_DATA.append(name)
    _VERSION[0] += 1
    return name


def data_info(name: str, adata: AnnData, description: str | None = None, truths: list[str] | None = None,
              organism: str | None = None) -> DatasetInfo:  # fmt: skip
    """The description of the user's data (what ``aitia datasets show FILE`` and :func:`register_data` report).

    Example:
        >>> data_info("copy", load("dream4-10-1")).interventions
        'knockdown, knockout, multifactorial'
    """
    kinds = (
        sorted(set(adata.obs["intervention_type"].astype(str)) - {"control"})
        if "intervention_type" in adata.obs
        else []
    )
    source = str((adata.uns.get("aitia") or {}).get("source_file", "data passed from Python"))
    return DatasetInfo(name=name, description=description or f"user data ({source})", organism=organism or organism_of(adata),
                       n_samples=int(adata.n_obs), n_genes=int(adata.n_vars), interventions=", ".join(kinds) or "none",
                       truths=truths or [], source=source)  # fmt: skip


def unregister_data(name: str) -> None:
    """Forget data registered with :func:`register_data` (built-in datasets stay)."""
    if name not in _USER_DATA:
        raise UnknownDatasetError(f"{name!r} is not registered user data.")
    _USER_DATA.remove(name)
    del _REGISTRY[name]
    _VERSION[0] += 1


def _user_copy(name: str, adata: AnnData, kwargs: dict[str, Any]) -> AnnData:
    if kwargs:
        raise UnknownDatasetError(
            f"{name} is registered user data; it takes no load options ({', '.join(kwargs)})."
        )
    return adata.copy()


def rules(name: str) -> DatasetRules:
    """The rules of a built-in dataset (truth and effect settings, label splits, evaluation truths).

    Example:
        >>> rules("kemmeren-mrcl").training_truth
        'train'
    """
    return DEFAULT_RULES if user_file(name) else _entry(name).rules


def dataset_name(adata: AnnData) -> str | None:
    """The registry name a loaded AnnData came from (``uns["aitia"]["dataset"]``), or None for user data."""
    name = (adata.uns.get("aitia") or {}).get("dataset")
    return str(name) if name is not None and str(name) in _REGISTRY else None


def organism_of(adata: AnnData) -> str:
    """The organism of loaded data: its registry entry's, else what the data say (``uns["aitia"]["organism"]``;
    simulated data say :data:`IN_SILICO`), else ``"unknown"``.

    Example:
        >>> organism_of(load("dream4-10-1")), organism_of(load("sachs"))
        ('in silico', 'human')
    """
    name = dataset_name(adata)
    if name:
        return _REGISTRY[name].info.organism
    return str((adata.uns.get("aitia") or {}).get("organism", "unknown"))


def rules_for(adata: AnnData) -> DatasetRules:
    """The rules of the dataset an AnnData was loaded from; :data:`DEFAULT_RULES` for user data.

    Example:
        >>> rules_for(load("dream4-10-1")).truth.z_threshold
        3.0
    """
    name = dataset_name(adata)
    return _REGISTRY[name].rules if name else DEFAULT_RULES


def evaluation_truths(name: str, **kwargs: Any) -> dict[str, CausalGraph | EdgeLabels]:
    """The truths that score a learned graph on a built-in dataset, by name (never the training truth)."""
    return {which: ground_truth(name, which, **kwargs) for which in rules(name).evaluation_truths}


def reference_graphs(name: str) -> dict[str, CausalGraph]:
    """The reference graphs of a built-in dataset, by truth name (empty for label-only truths)."""
    out: dict[str, CausalGraph] = {}
    for which in rules(name).reference_graphs:
        g = ground_truth(name, which)
        if isinstance(g, CausalGraph):
            out[which] = g
    return out


def training_labels(name: str, **kwargs: Any) -> EdgeLabels | None:
    """The labels a supervised learner may train on, when the dataset ships a split (else None)."""
    which = rules(name).training_truth
    if which is None:
        return None
    g = ground_truth(name, which, **kwargs)
    return g if isinstance(g, EdgeLabels) else None


def question_candidates() -> list[str]:
    """Datasets the planner tries, in order, for a question that names none."""
    ranked = [(e.rules.question_rank, n) for n, e in _REGISTRY.items() if e.rules.question_rank is not None]
    return [n for _, n in sorted(ranked)]


def datasets_in_question(text: str) -> list[str]:
    """Built-in datasets a question names, by registry name or by an alias of its rules, most specific first.

    Example:
        >>> datasets_in_question("What would knocking out G5 do in DREAM4 network 1 of size 10?")
        ['dream4-10-1']
        >>> datasets_in_question("Which proteins change in T cells?")
        ['sachs']
    """
    import re

    low = text.lower()
    by_name = [
        n
        for n in sorted(_REGISTRY, key=len, reverse=True)
        if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", low)
    ]
    by_alias = [n for n, e in _REGISTRY.items() if n not in by_name
                and any(re.search(p, low, re.IGNORECASE | re.DOTALL) for p in e.rules.question_aliases)]  # fmt: skip
    return by_name + by_alias


def question_vocabulary() -> dict[str, str]:
    """Lower-case variable name -> name, over datasets whose variable names are recognised in questions."""
    out: dict[str, str] = {}
    for name, entry in _REGISTRY.items():
        if entry.rules.names_in_questions:
            out.update({str(v).lower(): str(v) for v in load(name).var_names})
    return out


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
    """Load a built-in dataset, or a user data file (``.h5ad`` or expression table, :func:`aitia.datasets.read_data`;
    ``perturbation_column=`` / ``context_column=`` name its columns), as perturbation AnnData.

    Example:
        >>> load("dream4-10-1").n_vars
        10
    """
    path = user_file(name)
    return read_data(path, **kwargs) if path else _entry(name).loader(**kwargs)


def ground_truth(name: str, which: str | None = None, **kwargs: Any) -> CausalGraph | EdgeLabels:
    """The ground truth of a built-in dataset: a :class:`CausalGraph` (sachs, dream4) or :class:`EdgeLabels`.

    Example:
        >>> ground_truth("sachs").number_of_edges()
        18
    """
    if user_file(name):
        raise UnknownDatasetError(
            f"{name} is user data: it ships no truth. Test its interventions with "
            "aitia.causal.evaluate.dataset_truth(aitia.datasets.load(name))."
        )
    entry = _entry(name)
    which = which or entry.default_truth
    if which not in entry.info.truths:
        raise UnknownDatasetError(f"{name} has no truth {which!r}. Options: {', '.join(entry.info.truths)}.")
    return entry.truth(which, **kwargs)
