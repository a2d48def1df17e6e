"""Question understanding shared by the offline planner and the LLM agent: what is asked (the intent), about which
genes (resolved, with "did you mean" for unknown names), in which dataset and context, and in which direction.

Offline, rules and the gene resolver parse the question (:func:`parse_question`); with an LLM, a structured-output
call fills the same schema and the same resolver validates its genes (:func:`parse_question_llm`).

Example:
    >>> p = parse_question("What does PKC regulate in T-cell signalling?")
    >>> p.intent, p.subject, p.dataset
    ('targets', 'PKC', 'sachs')
    >>> parse_question("Does TP35 activate CDKN1A?").unknown[0].suggestions[0]
    'TP53'
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from ..knowledge.genes import Organism

logger = logging.getLogger(__name__)

Intent = Literal[
    "effect",  # does perturbing A change B?
    "regulators",  # what regulates A?
    "targets",  # what does A regulate?
    "perturbation_effect",  # what happens when A is perturbed (in context C)?
    "next_experiment",  # which experiment next?
    "compare_graphs",  # how does a learned graph compare with the references?
    "describe_dataset",  # what is in a dataset?
    "unknown",
]
PerturbationKind = Literal["inhibit", "activate", "knockout", "knockdown", "perturb"]

#: The intervention types (``obs["intervention_type"]``) that each perturbation kind matches.
INTERVENTION_TYPES: dict[str, tuple[str, ...]] = {
    "inhibit": ("inhibitor", "knockdown", "knockout", "deletion"),
    "activate": ("activator", "overexpression"),
    "knockout": ("knockout", "deletion", "inhibitor", "knockdown"),
    "knockdown": ("knockdown", "knockout", "deletion", "inhibitor"),
    "perturb": (),
}


class GeneMention(BaseModel):
    """A gene named in a question."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="As written.")
    name: str = Field(description="The name to use: a dataset variable (e.g. 'Mek') or the text.")
    symbols: list[str] = Field(default_factory=list, description="Approved symbols it stands for.")
    known: bool = Field(description="Resolved to a gene, family or measured variable.")
    suggestions: list[str] = Field(
        default_factory=list, description="'Did you mean' symbols for an unknown name."
    )
    via_reagent: str | None = Field(
        default=None, description="The reagent named instead of the gene (e.g. U0126)."
    )


class ParsedQuestion(BaseModel):
    """What a question asks, in a form the planner (and the LLM agent) act on."""

    model_config = ConfigDict(extra="forbid")

    question: str
    intent: Intent
    genes: list[GeneMention] = Field(
        default_factory=list, description="Gene mentions in order of appearance."
    )
    source: str | None = Field(
        default=None, description="The perturbed / regulating gene (effect questions)."
    )
    target: str | None = Field(default=None, description="The gene whose change is asked about.")
    subject: str | None = Field(
        default=None, description="The one gene asked about (regulators, targets, ...)."
    )
    dataset: str | None = Field(default=None, description="Built-in dataset the question names, if any.")
    context: str | None = Field(default=None, description="A context of that dataset named in the question.")
    perturbation: PerturbationKind | None = Field(default=None, description="How the gene is perturbed.")
    reference: str | None = Field(default=None, description="A reference graph named (compare questions).")

    @property
    def unknown(self) -> list[GeneMention]:
        return [g for g in self.genes if not g.known]


# ---------------------------------------------------------------------------- patterns
_VERB = (r"(?:(?:regulat|control|activat|repress|inhibit|induc|driv|target|phosphorylat|suppress|stimulat|modulat"
         r"|affect|influenc|up-?regulat|down-?regulat)(?:e|es|ed|s|ing|led|ling)?\b|act\w* on|signal\w* to"
         r"|(?:turn|switch)\w*\s+(?:on|off)\b)")  # fmt: skip
_EXPERIMENT = re.compile(
    r"\b(?:experiments?|perturbations?|interventions?)\b.*\b(?:next|should|most informative|run|do|suggest|choose)\b"
    r"|\b(?:what|which|where|how)\b.*\bshould\b.*\b(?:perturb|knock|inhibit|test|interven)\w*"
    r"|\b(?:experiments?|perturbations?|interventions?)\b.*\b(?:best|resolve|informative|recommend\w*|priorit\w*)\b"
    r"|\b(?:suggest|recommend|propose)\w*\b.*\b(?:experiment|perturbation|intervention)s?\b"
    r"|\bnext\s+(?:(?:\d+|two|three|four|five|few|several|couple\s+of)\s+)?(?:(?:round|batch|set|wave)\s+of\s+)?"
    r"(?:experiment|perturbation|intervention|knock\w*|screen)s?\b"
    r"|\b(?:knock-?outs?|knock-?downs?|deletions?|screens?)\b.*\b(?:to\s+(?:run|do|try|make)\s+next|most informative"
    r"|(?:come|comes|go|run|be done)\s+next)\b",
    re.IGNORECASE,
)
_COMPARE = re.compile(
    r"\bcompar\w*\b|\b(?:vs\.?|versus)\b|\bagree\w*\s+with\b|\bhow (?:good|well|accurate)\b.*\b(?:learn|graph|network)"
    r"|\blearned\b.*\b(?:graph|network)\b.*\b(?:against|consensus|reference|gold)\b"
    r"|\b(?:evaluat|assess|scor|benchmark)\w*\b.*\b(?:graph|network)\b.*\bagainst\b"
    r"|\b(?:graph|network)\b.*\bagainst\s+(?:the\s+|its\s+)?(?:gold|consensus|reference|truth)"
    r"|\b(?:evaluat|assess|scor|benchmark)\w*\b.*\bagainst\b.*\b(?:graph|network|consensus|reference|gold|truth)\b"
    r"|\b(?:graph|network)\b.*\b(?:any good|good enough|accura\w*|quality|reliab\w*)\b"
    r"|\b(?:better|best|worse|worst)\s+(?:\w+\s+)?(?:learner|method|algorithm|model)s?\b"
    r"|\b(?:better|worse|more accurate)\s+than\b|\boutperform\w*\b"
    r"|\b(?:which|what)\s+(?:learner|method|algorithm)s?\b.*\b(?:better|best|most accurate|wins?)\b",
    re.IGNORECASE,
)
# an experiment to tell two hypotheses apart ("which experiment would distinguish Raf -> Mek from Mek -> Raf?")
_DISTINGUISH = re.compile(
    r"\b(?:distinguish|discriminat\w*|tell\s+apart|disambiguat\w*|decide\s+between)\b", re.I
)
_DESCRIBE = re.compile(
    r"\b(?:describe|summari[sz]e|tell me about|overview of)\b|\bwhat(?:'s| is)\s+(?:in|measured in)\b"
    r"|\b(?:which|what)\b.*\b(?:genes|proteins|variables|perturbations|interventions|conditions|contexts)\b.*"
    r"\b(?:measured|perturbed|knocked|intervened|included|in\s+(?:the\s+)?(?:[\w-]+\s+)?(?:dataset|data set|data))\b"
    r"|\bwhat\b.*\b(?:perturbed|measured|contain\w*)\b.*\b(?:dataset|data set|data)\b"
    r"|\bhow many\b.*\b(?:cells|samples|genes|conditions)\b",
    re.IGNORECASE,
)
# perturbation words as perturbations ("inhibiting A", "A is inhibited", "A inhibition", "the A inhibitor"), not
# as the regulation verb of a targets question ("what does A activate?")
_PERTURB = re.compile(
    r"(?P<knockout>knock(?:ing|ed|s)?[- ]?outs?|deleti\w*|delet(?:ing|ed)|remov(?:ing|ed|al)|\bloss\b|-/-|\bnull\b)"
    r"|(?P<knockdown>knock(?:ing|ed|s)?[- ]?downs?|silenc(?:ing|ed)|sirna|shrna|deplet(?:ing|ed|ion))"
    r"|(?P<inhibit>inhibit(?:ing|ed|ion|ors?)\b|block(?:ing|ed|ade)\b|suppress(?:ing|ed|ion)\b)"
    r"|(?P<activate>activat(?:ing|ed|ion|ors?)\b|stimulat(?:ing|ed|ion)\b|overexpress\w*)"
    r"|(?P<perturb>perturb\w*|interven\w*)",
    re.IGNORECASE,
)
_CHANGE = re.compile(
    r"\b(?:chang|shift|affect|alter|respond|mov|differ|go (?:up|down)|increas|decreas|happen|do|consequen)\w*\b",
    re.IGNORECASE,
)
_EFFECT_VERB = re.compile(
    rf"\b(?:{_VERB}|chang\w*|shift\w*|alter\w*|caus\w*|upstream|downstream|lead\w* to|->|→)", re.IGNORECASE
)
_NOT_GENE = {
    "DNA", "RNA", "MRNA", "PCR", "QPCR", "TF", "TFS", "KO", "KD", "DE", "GFP", "CRISPR", "CRISPRI", "CRISPRA", "LLM",
    "MCP", "AUROC", "AUPRC", "ROC", "FDR", "II", "III", "IV", "OK", "USA", "UK", "NIH", "PMID", "PMIDS", "ID", "IDS",
    "WT", "DMSO", "RNAI", "SIRNA", "SHRNA", "FACS", "SCRNA", "SEQ", "ATAC", "CHIP", "HGNC", "NCBI", "PKA?",
}  # fmt: skip


def _gene_pattern(name: str) -> str:
    return rf"(?<![\w-]){re.escape(name)}(?![\w-])"


_SEEN_REGISTRY = [-1]


def _sync_caches() -> None:
    """Drop the per-dataset caches below when the user has registered data since they were filled."""
    from .. import datasets

    version = datasets.registry_version()
    if version != _SEEN_REGISTRY[0]:
        for cached_fn in (_question_vocabulary, _dataset_vocabulary, _reagents, _measured_members, _contexts,
                          dataset_organism):  # fmt: skip
            cached_fn.cache_clear()
        _SEEN_REGISTRY[0] = version


@lru_cache(maxsize=1)
def _question_vocabulary() -> dict[str, str]:
    """:func:`aitia.datasets.question_vocabulary`, loaded once per process."""
    from .. import datasets

    return datasets.question_vocabulary()


@lru_cache(maxsize=32)
def _dataset_vocabulary(name: str) -> dict[str, str]:
    from .. import datasets

    return {str(v).lower(): str(v) for v in datasets.load(name).var_names}


@lru_cache(maxsize=32)
def _reagents(name: str) -> dict[str, tuple[str, str]]:
    """Reagent (lower case) -> (perturbed variable, intervention type), from the data's own ``obs``."""
    from .. import datasets

    obs = datasets.load(name).obs
    if "reagent" not in obs:
        return {}
    rows = obs.loc[
        obs["perturbation"].astype(str) != "control", ["reagent", "perturbation", "intervention_type"]
    ]
    return {str(r).lower(): (str(p), str(t)) for r, p, t in rows.drop_duplicates("reagent").itertuples(index=False)
            if len(str(r)) >= 3}  # fmt: skip


@lru_cache(maxsize=1)
def _learner_names() -> frozenset[str]:
    """The registered causal learners' names (lower case): never genes in a question."""
    from ..causal import learners

    return frozenset(n.lower() for n in learners.available())


def _symbol_like(tok: str) -> bool:
    """Written like a gene symbol: capitals with digits (TP53, G5, FOOBAR1) or three or more capitals (MYC)."""
    return bool(
        re.fullmatch(r"[A-Z][A-Za-z]{0,7}\d{1,4}[A-Za-z]?\d?|[A-Z]{3,8}\d{0,3}|[A-Z][a-z]{1,3}\d+[a-z]?", tok)
    )


def find_genes(question: str, dataset: str | None = None) -> list[GeneMention]:
    """Gene mentions in a question, in order: variables of the named dataset (and of datasets whose variable names
    are recognised in questions), reagents of those datasets, resolvable names, and unknown symbol-like names.

    Example:
        >>> [g.name for g in find_genes("Does inhibiting Mek change Erk in sachs?")]
        ['Mek', 'Erk']
    """
    from .. import datasets
    from ..knowledge.genes import get_resolver

    _sync_caches()
    organism = dataset_organism(dataset)
    vocab = dict(_question_vocabulary())
    reagents: dict[str, tuple[str, str]] = {}
    names = [n for n in datasets.list_datasets() if datasets.rules(n).names_in_questions]
    in_silico: set[str] = set()
    if dataset is not None:
        vocab.update(_dataset_vocabulary(dataset))
        names = [dataset, *names]
        if datasets.info(dataset).organism == "in silico":  # G5 is a node of a simulated network, not GPANK1
            in_silico = set(_dataset_vocabulary(dataset).values())
    for n in names:
        for k, v in _reagents(n).items():
            reagents.setdefault(k, v)
    aliases_text = " ".join(datasets.datasets_in_question(question))
    r = get_resolver()
    found: list[tuple[int, GeneMention]] = []
    for m in re.finditer(r"[A-Za-z0-9][A-Za-z0-9\-/]*[A-Za-z0-9]|[A-Za-z0-9]", question):
        tok = m.group(0)
        low = tok.lower()
        if low in datasets.list_datasets() or (low.startswith("dream") and aliases_text):
            continue
        # an English word written as a word ("max", "set", "Rest") is not the measured gene of that name (MAX)
        worded = (
            tok != vocab.get(low)
            and (tok == low or tok[:1].isupper() and tok[1:].islower())
            and _is_word(tok)
        )
        if low in vocab and not worded:
            var = vocab[low]
            syms = [] if var in in_silico else r.resolve(var, organism).symbols
            found.append((m.start(), GeneMention(text=tok, name=var, symbols=syms, known=True)))
            continue
        if low in reagents:
            target = reagents[low][0]
            found.append((m.start(), GeneMention(text=tok, name=target, symbols=r.resolve(target, organism).symbols, known=True,
                                                 via_reagent=tok)))  # fmt: skip
            continue
        if tok.isdigit():
            continue  # numbers ("network 1 of size 10") are not Entrez ids in a question
        if tok == low and not any(c.isdigit() for c in tok) and low not in ("p53", "p21", "p38"):
            continue  # lower-case words are words, not symbols
        if tok.upper() in _NOT_GENE or (len(tok) < 3 and not any(c.isdigit() for c in tok)):
            continue
        if low in _learner_names():
            continue  # "a NOTEARS graph", "GES on sachs": a method, not a gene
        if tok[0].isupper() and tok[1:].islower() and _is_word(tok):
            continue  # a capitalised English word ("Can", "Does") is not the alias it may also be
        res = r.resolve(tok, organism)
        if res.symbols and res.match != "non-gene":
            name = res.symbols[0] if len(res.symbols) == 1 and res.match != "symbol" else tok
            if dataset is not None:  # a gene measured under another name (PI3K -> PIP3, MAP2K1 -> Mek)
                name = _measured_as(dataset, res.symbols) or name
            elif res.match == "family":  # MEK1/2, phospho-ERK: the measured family
                name = next((hit for n in names if (hit := _measured_as(n, res.symbols))), name)
            found.append((m.start(), GeneMention(text=tok, name=name, symbols=res.symbols[:20], known=True)))
        elif res.match != "non-gene" and _symbol_like(tok) and not _is_word(tok):
            found.append(
                (m.start(), GeneMention(text=tok, name=tok, known=False, suggestions=r.suggest(tok)))
            )
    out: list[GeneMention] = []
    for _, g in sorted(found, key=lambda x: x[0]):
        # one entity named twice ("block MEK1/2 with U0126"): the first mention, under the measured name if any
        same = next(
            (i for i, o in enumerate(out) if o.name == g.name or set(o.symbols) & set(g.symbols)), None
        )
        if same is None:
            out.append(g)
        elif out[same].name != g.name and (g.name in vocab.values() or g.via_reagent):
            out[same] = out[same].model_copy(update={"name": g.name, "via_reagent": out[same].via_reagent
                                                     or g.via_reagent})  # fmt: skip
    return out


@lru_cache(maxsize=32)
def dataset_organism(dataset: str | None) -> Organism:
    """The resolver's organism for names in a question about ``dataset`` (yeast names for yeast data: STE5, not
    the human alias it may also be); human when no dataset is named; for data of unknown organism (registered from
    Python), what most of its gene names are."""
    from .. import datasets
    from ..knowledge.genes import guess_organism, resolver_organism

    if dataset is None:
        return "human"
    organism = datasets.info(dataset).organism
    if organism == "unknown":
        organism = guess_organism(list(_dataset_vocabulary(dataset).values()))
    return resolver_organism(organism)


def _yeast_dataset(unknown: list[str]) -> str | None:
    """The first yeast dataset, when every name unknown to the human tables is a yeast gene (else None)."""
    from .. import datasets
    from ..knowledge.genes import get_resolver, resolver_organism

    r = get_resolver()
    if not unknown or not all(r.resolve(t, "yeast").symbols for t in unknown):
        return None
    return next(
        (n for n in datasets.list_datasets() if resolver_organism(datasets.info(n).organism) == "yeast"), None
    )


def _measured_as(dataset: str, symbols: list[str]) -> str | None:
    """The one variable of ``dataset`` whose genes (families, phospho forms, second-messenger producers) include
    any of ``symbols``, else None."""
    hits = [v for v, members in _measured_members(dataset).items() if set(members) & set(symbols)]
    return hits[0] if len(hits) == 1 else None


@lru_cache(maxsize=32)
def _measured_members(dataset: str) -> dict[str, tuple[str, ...]]:
    from ..knowledge.genes import get_resolver
    from ..knowledge.priors import measured_members

    measured = list(_dataset_vocabulary(dataset).values())
    # yeast data measure systematic names, questions use standard names (YDR103W is STE5)
    if dataset_organism(dataset) == "yeast":
        return {v: (v, get_resolver().yeast.get(v, v)) for v in measured}
    return {v: tuple(m) for v, m in measured_members(measured).items()}


def _is_word(tok: str) -> bool:
    from ..knowledge.genes import _english_words

    return tok.lower() in _english_words() and not any(c.isdigit() for c in tok)


# a bare verb is a perturbation when someone does it: "if I inhibit A", "we knock out A", "to activate A"
_PERTURB_DONE = re.compile(
    r"\b(?:i|we|you|to|should|if|and)\s+(?:then\s+|also\s+)?(?P<verb>inhibit|block|activate|stimulate|knock\s*-?out|"
    r"knock\s*-?down|delete|silence|perturb|overexpress)\b",
    re.IGNORECASE,
)


def _perturbation_kind(text: str) -> PerturbationKind | None:
    done = _PERTURB_DONE.search(text)
    verb = done.group("verb").lower() if done else ""
    m = _PERTURB.search(
        verb if verb.startswith("knock") else re.sub(r"e$", "", verb) + "ing" if verb else text
    )
    if m is None:
        return None
    kind = next(k for k, v in m.groupdict().items() if v)
    return cast(PerturbationKind, kind)


def _direction(q: str, gene: str) -> Literal["regulators", "targets"] | None:
    """Is the one gene the regulated (``regulators``: what regulates X?) or the regulator (``targets``)?"""
    g = _gene_pattern(gene)
    targets = [
        rf"\b(?:does|do|did|can|could|will|would|might)\s+(?:the\s+)?{g}\b.*\b{_VERB}",
        rf"\b(?:targets?|downstream|substrates?|effectors?|consequences?)\b(?:\s+[\w-]+){{0,4}}?\s+(?:of|from)\s+(?:the\s+)?{g}",
        rf"\b{_VERB}\s+by\s+(?:the\s+)?{g}",
        rf"{g}\s+(?:\w+\s+)?{_VERB}\s+(?:what|which)\b",
        rf"{g}'s\s+(?:\w+\s+)?targets",
        rf"\b(?:what|which)\b.*\b(?:is|are)\s+{g}\s+upstream",
    ]
    regulators = [
        rf"\b(?:regulators?|upstream|activators?|repressors?|kinases?|inputs?|drivers?|controllers?)\b(?:\s+[\w-]+){{0,4}}?\s+(?:of|for)\s+(?:the\s+)?(?:\w+\s+)?{g}",
        # "which proteins are known to activate X", not "what are the consequences of inhibiting X"
        rf"\b(?:what|which|who)\b(?:\s+[\w-]+){{0,4}}?\s+(?<!\bof\s)(?<!\bafter\s)(?<!\bupon\s)(?<!\bby\s){_VERB}\s+"
        rf"(?:the\s+)?(?:(?:expression|activity|level|phosphorylation)s?\s+of\s+)?{g}",
        rf"\b(?:what|which|who)\b(?:\s+[\w-]+){{0,3}}?\s+bind\w*\s+(?:to\s+)?(?:and\s+{_VERB}\s+)?(?:the\s+)?{g}",
        rf"{g}\s+(?:is|are)\s+(?:\w+\s+)?{_VERB}\s+by\s+(?:what|which|whom)",
        rf"\bwhat\b.*\b(?:is|are)\s+{g}\s+(?:\w+\s+)?{_VERB}\s+by\b",
        rf"\bwhat\b.*\b(?:is|lies|sits|acts?)\s+upstream\s+of\s+{g}",
        rf"\bbind\w*\s+(?:to\s+)?(?:the\s+)?{g}(?:'s)?\s+(?:promoter|enhancer|locus|gene|regulatory)",
    ]
    for kind, patterns in (("regulators", regulators), ("targets", targets)):
        if any(re.search(p, q, re.IGNORECASE) for p in patterns):
            return kind  # type: ignore[return-value]
    return None


def _related_pair(q: str, genes: list[GeneMention]) -> tuple[GeneMention, GeneMention]:
    """The two genes a question relates: with three or more ("does TGF-beta signalling through SMAD3 induce
    SERPINE1?"), the nearest on either side of the relating verb; else the first two."""
    verb = re.search(rf"\b{_VERB}", q, re.IGNORECASE)
    if len(genes) > 2 and verb is not None:
        at = {id(g): m.start() if (m := re.search(_gene_pattern(g.text), q)) else -1 for g in genes}
        before = [g for g in genes if 0 <= at[id(g)] < verb.start()]
        after = [g for g in genes if at[id(g)] >= verb.end()]
        if before and after:
            return before[-1], after[0]
    return genes[0], genes[1]


def _perturbed_first(gx: str, gy: str) -> list[tuple[str, str | None]]:
    """Patterns saying the gene matched by ``gx`` is perturbed and ``gy`` responds, most specific first: (pattern
    that must match, pattern that must not, or None). Matched case-insensitively."""
    return [
        (rf"{gy}\b.*\b(?:\w+ed|affected|changed|altered|shifted)\s+(?:by|when|after|upon|if|following)\s+"
         rf"(?:the\s+)?(?:\w+ing\s+|\w+ion\s+of\s+|loss\s+of\s+)?(?:the\s+)?{gx}", None),
        # "when / after (treating with) X", unless Y is the one named after "when"
        (rf"\b(?:when|after|upon|if|once|following)\s+(?:the\s+)?(?:\w+ing\s+(?:with\s+)?|\w+ion\s+of\s+)?{gx}",
         rf"\b(?:when|after|upon|if|once|following)\b.*{gy}.*{gx}"),
        (rf"{gx}\s*(?:->|→|-\|)\s*{gy}", None),
        (rf"\b(?:is|are|was|were)\s+(?:the\s+)?{gy}\s+(?:\w+\s+)?(?:\w+ed|affected)\s+by\b.*{gx}", None),
        (rf"{gy}\s+(?:\w+\s+){{0,3}}?(?:downstream|targets?|substrates?|effectors?)(?:\s+\w+)?\s+of\s+"
         rf"(?:the\s+)?{gx}", None),
        (rf"{gy}\b(?:\s+[\w-]+){{0,2}}?\s+respon\w*\s+to\s+(?:the\s+)?(?:[\w-]+\s+(?:of|in)\s+)?{gx}", None),
        (rf"{gy}\b(?:\s+[\w-]+){{0,3}}?\s+(?:depend\w*|rel(?:y|ies|ying)|reli\w*)\s+(?:up)?on\s+"
         rf"(?:the\s+)?(?:\w+\s+){{0,2}}?{gx}", None),
    ]  # fmt: skip


def _source_target(q: str, a: GeneMention, b: GeneMention) -> tuple[str, str]:
    """Which of two genes is perturbed: passive voice, 'when/if/after B is perturbed', '-ing A', else text order."""
    for x, y in ((a, b), (b, a)):
        for must, must_not in _perturbed_first(_gene_pattern(x.text), _gene_pattern(y.text)):
            if re.search(must, q, re.IGNORECASE) and not (must_not and re.search(must_not, q, re.IGNORECASE)):
                return x.name, y.name
    return a.name, b.name


def parse_question(question: str) -> ParsedQuestion:
    """Parse a question with rules and the gene resolver (no LLM).

    Args:
        question: the user's question.

    Example:
        >>> p = parse_question("Is Erk affected when Mek is inhibited?")
        >>> p.intent, p.source, p.target, p.perturbation
        ('effect', 'Mek', 'Erk', 'inhibit')
    """
    from .. import datasets

    _sync_caches()
    q = " ".join(question.strip().split())
    named = datasets.datasets_in_question(q)
    # a question that names no dataset is about the user's registered data, if any (else: resolved per intent)
    registered = (
        datasets.default_dataset() if datasets.default_dataset() != datasets.DEFAULT_DATASET else None
    )
    dataset = named[0] if named else registered
    genes = find_genes(q, dataset)
    if dataset is None and (yeast := _yeast_dataset([g.text for g in genes if not g.known])):
        dataset, genes = (
            yeast,
            find_genes(q, yeast),
        )  # GLN3, YKR039W: a question about yeast that does not say so
    known = [g for g in genes if g.known]
    kind = _perturbation_kind(
        re.sub(r"\b(?:stimulated|activated|treated|resting)\s+(?:t[- ]?)?cells?\b", "", q, flags=re.I)
    )
    if any(g.via_reagent for g in genes) and kind is None:
        reagent = next(g for g in genes if g.via_reagent)
        _, itype = _reagents_for(reagent, dataset)
        kind = "activate" if itype == "activator" else "inhibit"
    reference = next(
        (r for r in ("consensus", "bnlearn", "tetrad", "gold") if re.search(rf"\b{r}\b", q, re.I)), None
    )
    context = _context(q, dataset or (datasets.default_dataset() if known else None))
    base: dict[str, Any] = {"question": question, "genes": genes, "dataset": dataset, "context": context,
                            "perturbation": kind, "reference": reference}  # fmt: skip
    if (
        _EXPERIMENT.search(q)
        and (len(known) <= 1 or _DISTINGUISH.search(q))
        and not re.search(r"\bwhat (?:would|will|happens)\b", q, re.I)
    ):
        return ParsedQuestion(intent="next_experiment", **base)
    learners_named = {w.lower() for w in re.findall(r"[A-Za-z_]+", q)} & _learner_names()
    if (_COMPARE.search(q) or len(learners_named) >= 2) and len(known) < 2:
        return ParsedQuestion(intent="compare_graphs", **base)
    if _DESCRIBE.search(q) and not known and dataset is not None:
        return ParsedQuestion(intent="describe_dataset", **base)
    if len(genes) >= 2:
        a, b = _related_pair(q, genes)
        src, tgt = _source_target(q, a, b)
        return ParsedQuestion(intent="effect", source=src, target=tgt, **base)
    if len(genes) == 1:
        g = genes[0]
        direction = _direction(q, g.text)
        if direction is not None and not (direction == "targets" and kind not in (None, "perturb") and _CHANGE.search(q)
                                          and not re.search(rf"\b{_VERB}", q.split(g.text)[-1], re.I)):  # fmt: skip
            return ParsedQuestion(intent=direction, subject=g.name, **base)
        if (
            kind is not None
            or _CHANGE.search(q)
            or re.search(r"\b(?:effects?|consequences?|respon\w*)\b", q, re.I)
        ):
            return ParsedQuestion(intent="perturbation_effect", subject=g.name, **base)
        return ParsedQuestion(intent="targets", subject=g.name, **base)
    if dataset is not None and (
        _DESCRIBE.search(q) or re.search(r"\b(?:what|which|how|list|show)\b", q, re.I)
    ):
        return ParsedQuestion(intent="describe_dataset", **base)
    return ParsedQuestion(intent="unknown", **base)


def _reagents_for(g: GeneMention, dataset: str | None) -> tuple[str, str]:
    from .. import datasets

    for n in (
        [dataset]
        if dataset
        else [n for n in datasets.list_datasets() if datasets.rules(n).names_in_questions]
    ):
        if n and g.via_reagent and g.via_reagent.lower() in _reagents(n):
            return _reagents(n)[g.via_reagent.lower()]
    return g.name, "inhibitor"


@lru_cache(maxsize=32)
def _contexts(name: str) -> list[str]:
    """A dataset's contexts, longest first (loaded once per process, not once per question)."""
    from .. import datasets

    return sorted({str(c) for c in datasets.load(name).obs["context"]}, key=len, reverse=True)


def _context(q: str, dataset: str | None) -> str | None:
    """A context of the dataset named in the question (punctuation-insensitive: 'CD3/CD28' names 'cd3cd28')."""
    if dataset is None:
        return None
    contexts = _contexts(dataset)
    flat = re.sub(r"[^a-z0-9+]", "", q.lower())
    for c in contexts:
        key = re.sub(r"[^a-z0-9+]", "", c.lower())
        if len(key) >= 3 and key in flat and len(contexts) > 1:
            return c
    return None


# ---------------------------------------------------------------------------- with an LLM
class _LLMParse(BaseModel):
    """The structured output asked of an LLM; genes are validated by the resolver afterwards."""

    intent: Intent = Field(description="What is asked.")
    genes: list[str] = Field(default_factory=list, description="Gene or protein names as written, in order.")
    source: str | None = Field(default=None, description="For effect questions: the perturbed gene.")
    target: str | None = Field(
        default=None, description="For effect questions: the gene whose change is asked."
    )
    dataset: str | None = Field(
        default=None, description="A built-in dataset name, if the question names one."
    )
    perturbation: PerturbationKind | None = None


def parse_question_llm(question: str, model: Any) -> ParsedQuestion:
    """Parse with an LLM's structured output (LangChain ``with_structured_output``), validated by the same schema
    and resolver; falls back to :func:`parse_question` when the model cannot or returns garbage.

    Args:
        question: the user's question.
        model: a LangChain chat model.
    """
    rules = parse_question(question)
    try:
        raw = model.with_structured_output(_LLMParse).invoke(
            "Parse this question about gene networks. Intents: effect (does perturbing A change B), regulators "
            "(what regulates A), targets (what does A regulate), perturbation_effect (what happens when A is "
            "perturbed), next_experiment, compare_graphs, describe_dataset, unknown.\nQuestion: " + question
        )
        parsed = raw if isinstance(raw, _LLMParse) else _LLMParse.model_validate(raw)
    except Exception as exc:  # noqa: BLE001 - any model failure falls back to the rules
        logger.info("LLM question parse failed (%s); using the rule-based parse", type(exc).__name__)
        return rules
    from .. import datasets

    by_text = {g.text.lower(): g for g in rules.genes}
    genes = [by_text.get(t.lower()) or find_genes(t, rules.dataset)[:1] for t in parsed.genes]
    mentions = [g if isinstance(g, GeneMention) else (g[0] if g else GeneMention(text=t, name=t, known=False))
                for g, t in zip(genes, parsed.genes)]  # fmt: skip
    name = {m.text.lower(): m.name for m in mentions}
    dataset = parsed.dataset if parsed.dataset in datasets.list_datasets() else rules.dataset
    return rules.model_copy(update={
        "intent": parsed.intent, "genes": mentions or rules.genes, "dataset": dataset,
        "source": name.get((parsed.source or "").lower(), rules.source),
        "target": name.get((parsed.target or "").lower(), rules.target),
        "subject": (mentions[0].name if len(mentions) == 1 else rules.subject),
        "perturbation": parsed.perturbation or rules.perturbation,
    })  # fmt: skip
