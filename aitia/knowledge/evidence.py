"""Evidence extraction: directed, signed gene-gene claims from text, and evidence summaries for a gene pair.

Patterns cover active voice ("MEK phosphorylates ERK"), passive voice ("ERK is activated by MEK"),
nominalisations ("MEK-mediated activation of ERK", "activation of ERK by MEK") and loss of function
("knockdown of A reduced B" means A activates B).

Example:
    >>> [(c.source, c.target, c.sign) for c in extract_claims("TP53 strongly induces CDKN1A expression.")]
    [('TP53', 'CDKN1A', 1)]
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .documents import split_sentences
from .genes import GeneMention, get_tagger
from .resources import knowledge_path

logger = logging.getLogger(__name__)

_POS = r"(?:activat|induc|increas|up-?regulat|enhanc|promot|stimulat|elevat|potentiat|augment|transactivat|stabiliz|positively regulat|drive|trigger|restor)"
_NEG = r"(?:inhibit|repress|suppress|decreas|down-?regulat|reduc|block|attenuat|abolish|abrogat|impair|degrad|antagoniz|diminish|destabiliz|negatively regulat|lower|prevent|silenc|inactivat)"
_NEU = r"(?:regulat|modulat|affect|control|mediat|target|phosphorylat|bind|interact|associat|alter)"
_TRIGGER = re.compile(rf"\b(?P<pos>{_POS})\w*|\b(?P<neg>{_NEG})\w*|\b(?P<neu>{_NEU})\w*", re.IGNORECASE)
_LOSS = r"(?:knock-?down|knock-?out|deletion|silencing|depletion|loss|deficiency|inhibition|ablation|mutation|knocked down|deleted|silenced|depleted|si-?rna)"
_LOSS_BEFORE = re.compile(rf"\b{_LOSS}\s+(?:of\s+)?(?:the\s+)?$", re.IGNORECASE)
_LOSS_AFTER = re.compile(rf"^\s*[-\s]?(?:{_LOSS}|deficient|null|-/-)", re.IGNORECASE)
_NEGATION = re.compile(
    r"\b(?:not|no|neither|nor|failed to|without|unable to|did not|does not|cannot|independent(?:ly)?(?:\s+of)?"
    r"|regardless of|irrespective of|unaffected|unchanged|dispensable|n't)\b|-independent\b",
    re.IGNORECASE,
)
_PASSIVE_BY = re.compile(
    r"\b(?:is|are|was|were|be|been|being)?\s*(?:\w+ly\s+)?\w+(?:ed|en)\s+by\s*$", re.IGNORECASE
)
_NOMINAL_OF_BEFORE = re.compile(
    rf"\b(?P<trig>\w*(?:{_POS}|{_NEG}|{_NEU})\w*)\s+of\s+(?:the\s+)?$", re.IGNORECASE
)
_MEDIATED = re.compile(
    r"^\s*-?\s*(?:mediated|induced|dependent|driven|triggered|stimulated|evoked|elicited)\b", re.IGNORECASE
)

_COORD = re.compile(r"\s*(?:,|,?\s*and|,?\s*or|/)\s*", re.IGNORECASE)

Relation = Literal["activates", "represses", "causes", "associated"]


class Claim(BaseModel):
    """A directed gene-gene statement found in one sentence."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="First resolved symbol of the regulator (see source_symbols).")
    target: str
    source_symbols: list[str]
    target_symbols: list[str]
    source_text: str
    target_text: str
    sign: int = Field(description="+1 activates, -1 represses, 0 unsigned.")
    relation: Relation
    directed: bool = Field(description="False for associations without a direction.")
    trigger: str
    pattern: str = Field(description="active, passive, nominal, mediated, loss-of-function, association.")
    sentence: str
    doc_id: str = ""
    negated: bool = False


def _sign_of(match: re.Match[str]) -> int:
    if match.group("pos"):
        return 1
    if match.group("neg"):
        return -1
    return 0


def _claim(a: GeneMention, b: GeneMention, sign: int, trig: str, pattern: str, sentence: str, doc_id: str,
           directed: bool = True, negated: bool = False) -> Claim:  # fmt: skip
    rel: Relation = (
        "associated" if not directed else ("activates" if sign > 0 else "represses" if sign < 0 else "causes")
    )
    return Claim(
        source=a.symbols[0], target=b.symbols[0], source_symbols=a.symbols, target_symbols=b.symbols,
        source_text=a.text, target_text=b.text, sign=sign, relation=rel, directed=directed, trigger=trig,
        pattern=pattern, sentence=sentence, doc_id=doc_id, negated=negated,
    )  # fmt: skip


def extract_claims(
    text: str,
    doc_id: str = "",
    mentions: Sequence[GeneMention] | None = None,
    max_gap_words: int = 14,
    include_associations: bool = False,
) -> list[Claim]:
    """Directed, signed gene-gene claims in ``text``.

    Args:
        text: a passage (several sentences).
        doc_id: document id recorded on each claim.
        mentions: gene mentions with offsets into ``text`` (default: the gene tagger's).
        max_gap_words: maximum words between the two genes.
        include_associations: also return undirected co-mentions linked by a neutral trigger ("associated with").
    """
    if mentions is None:
        mentions = get_tagger().tag(text)
    claims: list[Claim] = []
    for s_start, s_end in split_sentences(text) or [(0, len(text))]:
        sent = text[s_start:s_end]
        ms = sorted((m for m in mentions if s_start <= m.start and m.end <= s_end), key=lambda m: m.start)
        for i, a in enumerate(ms):
            for b in ms[i + 1 :]:
                if set(a.symbols) & set(b.symbols) or b.start < a.end:
                    continue
                between = [m for m in ms if a.end <= m.start and m.end <= b.start]
                if between:
                    # "A inhibits B1, B2 and B3": b shares the relation only through a coordination
                    if not _COORD.fullmatch(text[between[-1].end : b.start]):
                        continue
                    gap = text[a.end : between[0].start]
                else:
                    gap = text[a.end : b.start]
                if len(gap.split()) > max_gap_words:
                    continue
                c = _pair_claim(text, s_start, a, b, gap, sent, doc_id)
                if c is not None and (c.directed or include_associations):
                    claims.append(c)
    return claims


def _pair_claim(
    text: str, s_start: int, a: GeneMention, b: GeneMention, gap: str, sent: str, doc_id: str
) -> Claim | None:
    before = text[s_start : a.start]
    negated = bool(_NEGATION.search(gap))
    # nominalisation: "<trigger> of B by A" (mentions in text order: B = a, A = b)
    m_of = _NOMINAL_OF_BEFORE.search(before)
    if m_of and re.fullmatch(r"\s*(?:\w+\s+){0,2}?by\s+(?:the\s+)?", gap, re.IGNORECASE):
        trig = _TRIGGER.search(m_of.group("trig"))
        if trig:
            return _claim(b, a, _sign_of(trig), trig.group(0), "nominal", sent, doc_id, negated=negated)
    # "A-mediated activation of B"
    if _MEDIATED.match(gap):
        trig = _TRIGGER.search(gap[_MEDIATED.match(gap).end() :])  # type: ignore[union-attr]
        if trig and re.search(r"\bof\b|\bin\b", gap[trig.end() :] + " of", re.IGNORECASE):
            return _claim(a, b, _sign_of(trig), trig.group(0), "mediated", sent, doc_id, negated=negated)
    trig = _TRIGGER.search(gap)
    if trig is None:
        return None
    sign = _sign_of(trig)
    # passive: "B is activated by A"
    if _PASSIVE_BY.search(gap) and re.search(r"\bby\s*(?:the\s+)?$", gap, re.IGNORECASE):
        return _claim(b, a, sign, trig.group(0), "passive", sent, doc_id, negated=negated)
    # loss of function of A: "knockdown of A reduced B", "A knockdown reduced B"
    loss = bool(_LOSS_BEFORE.search(before)) or bool(_LOSS_AFTER.match(gap))
    if loss and sign != 0:
        return _claim(a, b, -sign, trig.group(0), "loss-of-function", sent, doc_id, negated=negated)
    # active voice: the trigger is a verb governing B ("A activates B", "A strongly induced the expression of B")
    head = gap[: trig.start()]
    if len(head.split()) <= 4 and not re.search(
        r"\b(?:and|or|but|while|whereas|which)\b", head, re.IGNORECASE
    ):
        if trig.group("neu") and re.search(r"associat|interact|bind", trig.group(0), re.IGNORECASE):
            return _claim(
                a, b, 0, trig.group(0), "association", sent, doc_id, directed=False, negated=negated
            )
        return _claim(a, b, sign, trig.group(0), "active", sent, doc_id, negated=negated)
    return None


# ============================================================================ evidence summaries
class PriorHit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    target: str
    sign: int
    database: str
    pmids: list[str]


class PathEvidence(BaseModel):
    """A curated path source -> ... -> target: indirect evidence that perturbing the source changes the target."""

    model_config = ConfigDict(extra="forbid")

    genes: list[str] = Field(description="The genes along the path, source first.")
    sign: int = Field(description="Product of the edge signs (0 if any edge is unsigned).")
    steps: int = Field(description="Number of edges.")


class EvidenceSummary(BaseModel):
    """Everything aitia knows about ``source -> target``: passages, claims, curated edges and a support score."""

    model_config = ConfigDict(extra="forbid")

    source: str
    target: str
    source_symbols: list[str]
    target_symbols: list[str]
    context: str | None = None
    passages: list[Any] = Field(
        default_factory=list, description="SearchHit objects (document id, span, text)."
    )
    claims: list[Claim] = Field(default_factory=list, description="Claims source -> target.")
    reverse_claims: list[Claim] = Field(default_factory=list, description="Claims target -> source.")
    prior_hits: list[PriorHit] = Field(default_factory=list)
    support: float = Field(
        description="P(related) from a logistic model calibrated on BioRED x P(direction source -> target | related)."
    )
    sign: int = Field(description="Majority sign of forward claims and curated edges (0 if none/mixed).")
    path: PathEvidence | None = Field(
        default=None,
        description="Shortest curated path (2+ steps) when no curated edge links the pair directly.",
    )
    path_support: float = Field(
        default=0.0,
        description="Support if the path were a forward curated edge (a direct reverse edge does not count against "
        "it), times path_decay per step beyond the first: indirect "
        "evidence, kept apart from `support`.",
    )
    features: dict[str, float] = Field(default_factory=dict)

    @property
    def combined_support(self) -> float:
        """The stronger of direct and path support (what the no-LLM hypothesis generator reports)."""
        return max(self.support, self.path_support)

    @property
    def citations(self) -> list[str]:
        cites = [c.doc_id for c in self.claims if c.doc_id]
        forward = [h for h in self.prior_hits if h.source in self.source_symbols]
        cites += [f"PMID:{p}" for h in forward for p in h.pmids[:3]]
        # a curated edge without PMIDs (e.g. the second-messenger table) is still a report: cite its database
        cites += [f"curated:{h.database}" for h in forward if not h.pmids]
        return list(dict.fromkeys(cites))


#: Coefficients of the relation model; refit with ``python benchmarks/evidence.py --fit`` (BioRED Train).
_DEFAULT_CALIBRATION = {"intercept": -2.3, "claims": 3.4, "co_mentions": 0.36, "prior": 0.9}


def _calibration() -> dict[str, float]:
    path = knowledge_path("evidence_calibration.json")
    if path.exists():
        return dict(json.loads(path.read_text())["coefficients"])
    return dict(_DEFAULT_CALIBRATION)


def support_features(
    n_forward: int, n_reverse: int, n_co: int, prior_forward: float, prior_reverse: float
) -> dict[str, float]:
    """Undirected features of the relation model (log-scaled counts; ``prior_*`` is the curated edge's evidence
    weight in [0, 1], 0 for none: a bool works, as in the calibration, where every curated edge counted 1)."""
    return {
        "claims": math.log1p(n_forward + n_reverse),
        "co_mentions": math.log1p(n_co),
        "prior": float(max(prior_forward, prior_reverse)),
    }


def relation_probability(features: dict[str, float], coefficients: dict[str, float] | None = None) -> float:
    """P(the pair is related) from a logistic model calibrated on BioRED (document-level gene-gene relations)."""
    coef = coefficients or _calibration()
    z = coef.get("intercept", 0.0) + sum(coef.get(k, 0.0) * v for k, v in features.items())
    return 1.0 / (1.0 + math.exp(-z))


def direction_share(n_forward: int, n_reverse: int, prior_forward: float, prior_reverse: float) -> float:
    """P(source -> target | related): Laplace-smoothed share of directed evidence pointing forward (a curated edge
    counts as two claims times its evidence weight, so a well-cited edge outweighs a thin reverse one)."""
    fwd = n_forward + 2 * prior_forward
    rev = n_reverse + 2 * prior_reverse
    return (fwd + 0.5) / (fwd + rev + 1.0)


def support_probability(
    n_forward: int,
    n_reverse: int,
    n_co: int,
    prior_forward: float,
    prior_reverse: float,
    strength_forward: float | None = None,
    strength_reverse: float | None = None,
) -> float:
    """Support for source -> target = P(related) x P(direction forward | related).

    ``strength_*`` (default: the ``prior_*`` weights) is the curated evidence in each direction for the direction
    share, e.g. summed log citation counts, so 53 PMIDs for MEK -> ERK outweigh 2 for the ERK -> MEK feedback.
    """
    feats = support_features(n_forward, n_reverse, n_co, prior_forward, prior_reverse)
    sf = prior_forward if strength_forward is None else strength_forward
    sr = prior_reverse if strength_reverse is None else strength_reverse
    return relation_probability(feats) * direction_share(n_forward, n_reverse, sf, sr)


def evidence_for(
    source: str,
    target: str,
    context: str | None = None,
    store: Any = None,
    prior: Any = "default",
    k: int = 8,
    year_max: int | None = None,
    max_path_steps: int = 3,
    path_decay: float = 0.5,
) -> EvidenceSummary:
    """Collect and score the evidence that perturbing ``source`` changes ``target``.

    Args:
        source, target: gene names (symbols, aliases or families; resolved).
        context: optional cell type / condition added to the retrieval query.
        store: a :class:`~aitia.knowledge.store.LiteratureStore` (None: no passages, curated priors only).
        prior: a PriorNetwork, built-in prior name(s), ``"default"`` (``AITIA_PRIORS``) or None (no curated edges).
        k: passages to retrieve.
        year_max: only literature published up to this year.
        max_path_steps: longest curated path reported as indirect evidence (1: direct edges only).
        path_decay: discount per path step beyond the first.
    """
    from .priors import PriorNetwork, load_prior, measured_members

    net = None
    if prior is not None:
        net = prior if isinstance(prior, PriorNetwork) else load_prior(None if prior == "default" else prior)
    # literature is about genes (a messenger's producers stand in for it); the prior may hold the messenger itself
    lit = measured_members([source, target])
    la, lb = lit[source], lit[target]
    members = net.members_of([source, target]) if net is not None else lit
    a_syms, b_syms = members[source], members[target]
    passages: list[Any] = []
    if store is not None:
        query = f"{source} regulates {target}" + (f" in {context}" if context else "")
        passages = store.search(query, k=k, genes=[*la[:8], *lb[:8]], gene_mode="any", year_max=year_max)
        both = [h for h in passages if set(h.genes) & set(la) and set(h.genes) & set(lb)]
        if len(both) < k:
            try:
                extra = store.search(query, k=k, genes=[la[0], lb[0]], gene_mode="all", year_max=year_max)
            except Exception:  # noqa: BLE001 - filters may be unsupported by a custom store
                extra = []
            seen = {h.chunk_id for h in passages}
            passages = [*[h for h in extra if h.chunk_id not in seen], *passages][: max(k, len(extra))]
    forward: list[Claim] = []
    reverse: list[Claim] = []
    co = 0
    for h in passages:
        if set(h.genes) & set(la) and set(h.genes) & set(lb):
            co += 1
        for c in extract_claims(h.text, doc_id=h.doc_id):
            if c.negated:
                continue
            if set(c.source_symbols) & set(la) and set(c.target_symbols) & set(lb):
                forward.append(c)
            elif set(c.source_symbols) & set(lb) and set(c.target_symbols) & set(la):
                reverse.append(c)
    hits: list[PriorHit] = []
    if net is not None:
        for x in a_syms[:20]:
            for y in b_syms[:20]:
                for s_, t_ in ((x, y), (y, x)):
                    e = net.lookup(s_, t_)
                    if e is not None:
                        hits.append(
                            PriorHit(
                                source=s_,
                                target=t_,
                                sign=e.sign,
                                database="+".join(e.databases),
                                pmids=e.pmids,
                            )
                        )
    from .priors import edge_weight

    def strongest(forward_dir: bool) -> float:
        ws = [edge_weight(len(h.pmids), len(h.database.split("+")))
              for h in hits if (h.source in a_syms and h.target in b_syms) == forward_dir]  # fmt: skip
        return max(ws, default=0.0)

    def strength(forward_dir: bool) -> float:
        return sum(math.log1p(len(h.pmids) + len(h.database.split("+")))
                   for h in hits if (h.source in a_syms and h.target in b_syms) == forward_dir)  # fmt: skip

    pf, pr = strongest(True), strongest(False)
    sf, sr = strength(True), strength(False)
    feats = support_features(len(forward), len(reverse), co, pf, pr)
    feats["direction_share"] = direction_share(len(forward), len(reverse), sf, sr)
    votes = [c.sign for c in forward] + [h.sign for h in hits if h.source in a_syms]
    total = sum(votes)
    path, path_support = None, 0.0
    if net is not None and pf == 0 and max_path_steps > 1:
        genes = net.shortest_path(a_syms[:20], b_syms[:20], max_steps=max_path_steps)
        if genes is not None and len(genes) > 2:
            path = PathEvidence(genes=genes, sign=net.path_sign(genes), steps=len(genes) - 1)
            # a directed path is scored as if it were a forward curated edge; a direct reverse edge (b -> a) does not
            # count against it: feedback loops are the rule in signalling (MEK -> ERK -| RAF beside RAF -> MEK)
            as_edge = support_probability(len(forward), 0, co, 1.0, 0.0, max(sf, 1.0), 0.0)
            path_support = as_edge * path_decay ** (path.steps - 1)
    return EvidenceSummary(
        source=source, target=target, source_symbols=a_syms, target_symbols=b_syms, context=context,
        passages=passages, claims=forward, reverse_claims=reverse, prior_hits=hits,
        support=support_probability(len(forward), len(reverse), co, pf, pr, sf, sr), sign=(total > 0) - (total < 0),
        path=path, path_support=path_support, features=feats,
    )  # fmt: skip
