"""Zero-shot causal hypotheses from LLMs and literature (after Newsham et al. 2025).

Pairwise ("does perturbing A change B in <context>?") and one-source-many-targets queries, with optional context,
gene descriptions, retrieval-augmented passages (cited by document id; a year cutoff controls leakage) and optional
chain-of-thought. Replies are parsed into pydantic objects; a malformed reply is repaired once or rejected and
logged. A probability per edge comes from yes/no token log-probabilities when the endpoint returns them, else from
the stated probability. With the ``none`` backend, hypotheses come from :func:`aitia.knowledge.evidence_for`
(literature passages, extracted claims, curated priors) and say so.

Example:
    >>> gen = HypothesisGenerator(backend="none", store=None)
    >>> hs = gen.generate(["TP53", "CDKN1A"])
    >>> hs.hypotheses[0].provenance.generator
    'evidence (no LLM)'
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import datasets
from ..errors import AitiaError
from ..prompts import Prompt, load_prompt
from ..types.graph import EdgeScores
from .llm import LLMBackend, LLMError, LLMReply, get_backend

logger = logging.getLogger(__name__)

Relation = Literal["causes", "activates", "represses"]


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    generator: str = Field(description="'llm' or 'evidence (no LLM)'.")
    backend: str
    model: str
    prompt_id: str = ""
    prompt_hash: str = ""
    probability_source: str = Field(default="", description="logprobs | stated | evidence-support.")


class Hypothesis(BaseModel):
    """A causal hypothesis: perturbing ``source`` changes ``target``."""

    model_config = ConfigDict(extra="forbid")

    source: str
    target: str
    relation: Relation
    probability: float = Field(ge=0, le=1)
    rationale: str = ""
    citations: list[str] = Field(default_factory=list)
    path: list[str] | None = Field(
        default=None,
        description="The curated path its support comes from when no curated edge links the pair directly (genes, "
        "source first); None for direct evidence.",
    )
    provenance: Provenance


class _PairReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    answer: Literal["yes", "no"]
    probability: float = Field(ge=0, le=1)
    direction: Literal["increase", "decrease", "unknown"] = "unknown"
    rationale: str = ""
    citations: list[str] = Field(default_factory=list)


class _EffectItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    target: str
    probability: float = Field(ge=0, le=1)
    direction: Literal["increase", "decrease", "unknown"] = "unknown"
    rationale: str = ""
    citations: list[str] = Field(default_factory=list)


class _ManyReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    effects: list[_EffectItem]


class HypothesisSet(BaseModel):
    """Hypotheses over a gene list plus what it cost to get them."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    genes: list[str]
    hypotheses: list[Hypothesis]
    rejected: list[dict[str, str]] = Field(
        default_factory=list, description="Replies that could not be parsed."
    )
    usage: dict[str, Any] = Field(default_factory=dict)
    note: str = Field(default="", description="Why the set is empty, when it is empty on purpose.")

    def to_scores(self, genes: Sequence[str] | None = None) -> EdgeScores:
        """EdgeScores (probabilities) usable as a prior by every learner and predictor; unasked pairs are 0. The
        relation's direction (activates +1, represses -1) travels as ``signs`` for the predictors that read them."""
        genes = list(genes) if genes is not None else self.genes
        idx = {g: i for i, g in enumerate(genes)}
        v = np.zeros((len(genes), len(genes)))
        signs = np.zeros((len(genes), len(genes)), dtype=np.int8)
        for h in self.hypotheses:
            if h.source in idx and h.target in idx:
                v[idx[h.source], idx[h.target]] = h.probability
                signs[idx[h.source], idx[h.target]] = {"activates": 1, "represses": -1}.get(h.relation, 0)
        return EdgeScores(v, genes, name="hypotheses", meta={"generator": self.generator},
                          signs=signs if signs.any() else None)  # fmt: skip

    @property
    def generator(self) -> str:
        return self.hypotheses[0].provenance.generator if self.hypotheses else self.note

    def table(self) -> list[dict[str, Any]]:
        return [
            {
                "source": h.source,
                "target": h.target,
                "probability": round(h.probability, 3),
                "relation": h.relation,
                "citations": ",".join(h.citations[:3]),
            }  # fmt: skip
            for h in sorted(self.hypotheses, key=lambda h: -h.probability)
        ]


def extract_json(text: str) -> Any:
    """The first JSON object in a reply (code fences and surrounding prose ignored)."""
    text = re.sub(r"```(?:json)?", "", text)
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the reply")
    depth, in_str, esc = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_str:
            esc = (ch == "\\") and not esc
            if ch == '"' and not esc:
                in_str = False
            elif ch != "\\":
                esc = False
            continue
        if ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return json.loads(text[start : i + 1])
    raise ValueError("unterminated JSON object")


def yes_probability(reply: LLMReply) -> float | None:
    """P(yes) from the top log-probabilities at the token where the answer value starts, if the reply has them."""
    if not reply.logprobs:
        return None
    for tok in reply.logprobs:
        word = tok.token.strip().strip('"').lower()
        if word in ("yes", "no"):
            cands = {**tok.top, tok.token: tok.logprob}
            py = sum(math.exp(lp) for t, lp in cands.items() if t.strip().strip('"').lower() == "yes")
            pn = sum(math.exp(lp) for t, lp in cands.items() if t.strip().strip('"').lower() == "no")
            if py + pn > 0:
                return py / (py + pn)
    return None


def _relation(direction: str) -> Relation:
    # direction is the change in the target when the source is reduced
    return {"decrease": "activates", "increase": "represses"}.get(direction, "causes")  # type: ignore[return-value]


class HypothesisGenerator:
    """Turn gene lists into scored, cited causal hypotheses.

    Args:
        backend: an LLM backend or its name (``openai``, ``local``, ``none``; default from settings).
        store: a LiteratureStore for retrieval-augmented prompts and the ``none`` generator's evidence (None with
            ``rag``: the built store of ``$AITIA_HOME``, if any).
        prior: curated prior used by the ``none`` generator (name or PriorNetwork).
        mode: ``one_to_many`` (one query per source) or ``pairwise`` (one query per ordered pair).
        context: experimental context, e.g. "in CD4+ T cells, CRISPRi knockdown".
        rag: add retrieved passages to prompts.
        k: passages per query.
        year_max: only literature up to this year.
        max_path_steps: longest curated path the ``none`` generator counts as (discounted) evidence; 1: direct only.
        descriptions: add NCBI gene summaries to prompts.
        chain_of_thought: ask the model to reason step by step before answering.
        on_event: callback receiving trace events (prompts, retrieved ids, replies, rejections).
    """

    def __init__(self, backend: LLMBackend | str | None = None, store: Any = None, prior: Any = "default",
                 mode: Literal["one_to_many", "pairwise"] = "one_to_many", context: str | None = None, rag: bool = True,
                 k: int = 4, year_max: int | None = None, descriptions: bool = True, chain_of_thought: bool = False,
                 max_path_steps: int = 3,
                 on_event: Callable[[dict[str, Any]], Any] | None = None) -> None:  # fmt: skip
        self.backend = backend if isinstance(backend, LLMBackend) else get_backend(backend)
        if store is None and rag:  # one configuration path: the built default store, as the CLI uses
            from .store import built_store

            store = built_store()
        self.store = store
        self.prior = prior
        self.mode = mode
        self.context = context
        self.rag = rag
        self.k = k
        self.max_path_steps = max_path_steps
        self.year_max = year_max
        self.descriptions = descriptions
        self.chain_of_thought = chain_of_thought
        self.on_event = on_event or (lambda e: None)

    # ------------------------------------------------------------------ public
    def generate(self, genes: Sequence[str], pairs: Sequence[tuple[str, str]] | None = None,
                 progress: bool = False, organism: str | None = None) -> HypothesisSet:  # fmt: skip
        """Hypotheses for every ordered pair of ``genes`` (or the given ``pairs``).

        Args:
            genes: gene names.
            pairs: ordered pairs to ask about instead of all of them.
            progress: show a progress bar.
            organism: the data's organism (:func:`aitia.datasets.organism_of`); ``"in silico"`` gives an empty set:
                a simulated network's G5 is not the human gene whose alias it shares (GPANK1), so no literature,
                curated edge or LLM knows anything about it.
        """
        genes = list(dict.fromkeys(genes))
        if len(genes) < 2 and not pairs:
            raise AitiaError("Give at least two genes (or explicit pairs) to hypothesise about.")
        if organism == datasets.IN_SILICO:
            logger.info("hypotheses: %d in-silico genes, no knowledge applies", len(genes))
            return HypothesisSet(
                genes=genes, hypotheses=[], note="none: in-silico genes, no knowledge applies"
            )
        pairs = list(pairs) if pairs else [(a, b) for a in genes for b in genes if a != b]
        if not self.backend.available:
            hs = self._from_evidence(genes, pairs, progress)
        elif self.mode == "pairwise":
            hs = self._pairwise(genes, pairs)
        else:
            hs = self._one_to_many(genes, pairs)
        hs.usage = self.backend.usage.model_dump()
        usage = self.backend.usage
        if usage.failures and not (usage.calls or usage.cache_hits):
            # never a silent empty success: every call failed, so nothing here is an LLM's judgement
            first = next((r.get("error", "") for r in hs.rejected if r.get("error")), "")
            raise LLMError(
                f"Every LLM call failed ({usage.failures} of {usage.failures}); no hypotheses were made. "
                f"First error: {' '.join(str(first).split())[:200]} Check AITIA_LLM_BASE_URL / AITIA_LLM_MODEL, "
                "or use --llm none."
            )
        return hs

    # ------------------------------------------------------------------ no LLM
    def _from_evidence(self, genes: list[str], pairs: list[tuple[str, str]], progress: bool) -> HypothesisSet:
        """Evidence-scored hypotheses; deterministic, so cached on disk when every input can be identified (a
        built-in or file prior, no store or a local one): a second loop or ``hypothesize`` on the same genes, prior
        and store reads them back (~0.1 s instead of ~5 s for sachs's 110 pairs), trace events included."""
        from ..cache import cached, file_stamp
        from . import evidence, priors
        from . import genes as genes_module

        key = None
        store = self.store if self.rag else None
        store_stamp = store.version_stamp() if store is not None and hasattr(store, "version_stamp") else None
        if isinstance(self.prior, (str, type(None))) and (store is None or store_stamp is not None):
            # prior None means no curated edges, not the default prior (prior_stamp includes the priors module's code)
            prior_key = None if self.prior is None else priors.prior_stamp(self.prior)
            key = [pairs, prior_key, store_stamp, self.context, self.k, self.year_max,
                   self.max_path_steps, [file_stamp(m.__file__ or "") for m in (evidence, genes_module)],
                   file_stamp(__file__)]  # fmt: skip
        events: list[dict[str, Any]] = []

        def build() -> list[Hypothesis]:
            return self._evidence_hypotheses(pairs, progress, events.append)

        if key is None:
            out = build()
        else:
            out, events = cached("hypotheses", key, lambda: (build(), events))
        for event in events:
            self.on_event(event)
        return HypothesisSet(genes=genes, hypotheses=out)

    def _evidence_hypotheses(self, pairs: list[tuple[str, str]], progress: bool,
                             emit: Callable[[dict[str, Any]], Any]) -> list[Hypothesis]:  # fmt: skip
        from rich.progress import track

        from .evidence import evidence_for
        from .priors import PriorNetwork, load_prior

        prior = self.prior
        if isinstance(prior, str):
            prior = load_prior(None if prior == "default" else prior)
        out = []
        for a, b in track(pairs, description="evidence", disable=not progress, transient=True):
            ev = evidence_for(a, b, context=self.context, store=self.store if self.rag else None,
                              prior=prior if isinstance(prior, PriorNetwork) else None, k=self.k, year_max=self.year_max,
                              max_path_steps=self.max_path_steps)  # fmt: skip
            emit({"type": "evidence", "source": a, "target": b, "support": ev.support,
                  "documents": [p.doc_id for p in ev.passages], "claims": len(ev.claims),
                  "curated": len(ev.prior_hits)})  # fmt: skip
            sign = ev.sign if ev.support >= ev.path_support or ev.path is None else ev.path.sign
            rel: Relation = "activates" if sign > 0 else "represses" if sign < 0 else "causes"
            why = (f"[no LLM] {len(ev.claims)} literature claims {a}->{b}, {len(ev.reverse_claims)} reverse, "
                   f"{len(ev.prior_hits)} curated edges, {len(ev.passages)} passages retrieved")  # fmt: skip
            if ev.path is not None:
                why += f"; curated path {' -> '.join(ev.path.genes)} ({ev.path.steps} steps, sign {ev.path.sign:+d})"
            path = list(ev.path.genes) if ev.path is not None and ev.path_support > ev.support else None
            out.append(Hypothesis(source=a, target=b, relation=rel, probability=float(ev.combined_support), rationale=why,
                                  citations=ev.citations[:10], path=path,
                                  provenance=Provenance(generator="evidence (no LLM)", backend="none", model="none",
                                                        probability_source="evidence-support")))  # fmt: skip
        return out

    # ------------------------------------------------------------------ prompt pieces
    def _context_text(self) -> str:
        return f" {self.context}" if self.context else ""

    def _descriptions(self, genes: Sequence[str]) -> str:
        if not self.descriptions:
            return ""
        summaries = gene_summaries()
        from .genes import get_resolver

        r = get_resolver()
        lines = []
        for g in genes:
            syms = r.resolve(g).symbols[:3] or [g]
            text = " ".join(summaries.get(s, "") for s in syms).strip()
            if text:
                lines.append(f"- {g}: {text[:400]}")
        return ("Gene descriptions:\n" + "\n".join(lines) + "\n") if lines else ""

    def _passages(self, source: str, targets: Sequence[str]) -> tuple[str, list[str]]:
        if not (self.rag and self.store is not None):
            return "", []
        from .genes import get_resolver

        r = get_resolver()
        genes = [s for g in [source, *targets] for s in (r.resolve(g).symbols[:4] or [g])]
        query = f"{source} regulates {', '.join(targets[:5])}{self._context_text()}"
        hits = self.store.search(query, k=self.k, genes=genes, year_max=self.year_max)
        ids = [h.doc_id for h in hits]
        self.on_event({"type": "retrieval", "query": query, "documents": ids})
        if not hits:
            return "", []
        body = "\n".join(f"[{h.doc_id}] {h.text}" for h in hits)
        return f"Passages:\n{body}\n", ids

    def _reasoning(self) -> str:
        return (
            "Think step by step about the pathway before answering, then give the JSON.\n"
            if self.chain_of_thought
            else ""
        )

    def _ask(
        self, prompt: Prompt, text: str, schema: type[BaseModel], schema_hint: str
    ) -> tuple[BaseModel | None, LLMReply | None, str]:
        """Send, parse, repair once; returns (parsed or None, reply, error)."""
        system = load_prompt("system")
        messages = [{"role": "system", "content": system.template}, {"role": "user", "content": text}]
        self.on_event(
            {"type": "prompt", "prompt_id": prompt.id, "prompt_hash": Prompt.hash(text), "text": text}
        )
        try:
            reply = self.backend.chat(messages, prompt.id, logprobs=True)
        except LLMError as exc:
            self.on_event({"type": "llm_error", "prompt_id": prompt.id, "error": str(exc)})
            return None, None, str(exc)
        self.on_event({"type": "llm_reply", "prompt_id": prompt.id, "text": reply.text, "cached": reply.cached,
                       "tokens": reply.prompt_tokens + reply.completion_tokens})  # fmt: skip
        try:
            return schema.model_validate(extract_json(reply.text)), reply, ""
        except (ValueError, ValidationError) as exc:
            error = str(exc).splitlines()[0][:200]
        repair = load_prompt("repair")
        fix = repair.render(error=error, reply=reply.text[:2000], schema=schema_hint)
        messages += [{"role": "assistant", "content": reply.text}, {"role": "user", "content": fix}]
        self.on_event({"type": "repair", "prompt_id": repair.id, "error": error})
        try:
            reply2 = self.backend.chat(messages, repair.id, logprobs=True)
            return schema.model_validate(extract_json(reply2.text)), reply2, ""
        except (LLMError, ValueError, ValidationError) as exc:
            msg = str(exc).splitlines()[0][:200]
            self.on_event({"type": "rejected", "prompt_id": prompt.id, "error": msg})
            logger.warning("rejected LLM reply for %s: %s", prompt.id, msg)
            return None, reply, msg

    def _pairwise(self, genes: list[str], pairs: list[tuple[str, str]]) -> HypothesisSet:
        prompt = load_prompt("pairwise")
        out, rejected = [], []
        for a, b in pairs:
            passages, _ = self._passages(a, [b])
            text = prompt.render(source=a, target=b, context=self._context_text(), descriptions=self._descriptions([a, b]),
                                 passages=passages, reasoning=self._reasoning())  # fmt: skip
            parsed, reply, err = self._ask(
                prompt, text, _PairReply, '{"answer": "yes|no", "probability": 0.0, ...}'
            )
            if parsed is None or reply is None:
                rejected.append({"source": a, "target": b, "error": err})
                continue
            assert isinstance(parsed, _PairReply)
            p_lp = yes_probability(reply)
            prob = (
                p_lp
                if p_lp is not None
                else (parsed.probability if parsed.answer == "yes" else min(parsed.probability, 0.5))
            )
            out.append(Hypothesis(source=a, target=b, relation=_relation(parsed.direction), probability=float(prob),
                                  rationale=parsed.rationale, citations=parsed.citations,
                                  provenance=Provenance(generator="llm", backend=reply.backend, model=reply.model,
                                                        prompt_id=prompt.id, prompt_hash=Prompt.hash(text),
                                                        probability_source="logprobs" if p_lp is not None else "stated")))  # fmt: skip
        return HypothesisSet(genes=genes, hypotheses=out, rejected=rejected)

    def _one_to_many(self, genes: list[str], pairs: list[tuple[str, str]]) -> HypothesisSet:
        prompt = load_prompt("one_to_many")
        by_source: dict[str, list[str]] = {}
        for a, b in pairs:
            by_source.setdefault(a, []).append(b)
        out, rejected = [], []
        for a, targets in by_source.items():
            passages, _ = self._passages(a, targets)
            text = prompt.render(source=a, targets=", ".join(targets), context=self._context_text(),
                                 descriptions=self._descriptions([a, *targets]), passages=passages,
                                 reasoning=self._reasoning())  # fmt: skip
            parsed, reply, err = self._ask(
                prompt, text, _ManyReply, '{"effects": [{"target": "B", "probability": 0.0}]}'
            )
            if parsed is None or reply is None:
                rejected += [{"source": a, "target": b, "error": err} for b in targets]
                continue
            assert isinstance(parsed, _ManyReply)
            got = {e.target.strip(): e for e in parsed.effects}
            for b in targets:
                e = got.get(b) or next((v for k, v in got.items() if k.upper() == b.upper()), None)
                if e is None:
                    rejected.append({"source": a, "target": b, "error": "target missing from the reply"})
                    continue
                out.append(Hypothesis(source=a, target=b, relation=_relation(e.direction), probability=e.probability,
                                      rationale=e.rationale, citations=e.citations,
                                      provenance=Provenance(generator="llm", backend=reply.backend, model=reply.model,
                                                            prompt_id=prompt.id, prompt_hash=Prompt.hash(text),
                                                            probability_source="stated")))  # fmt: skip
        return HypothesisSet(genes=genes, hypotheses=out, rejected=rejected)


def gene_summaries() -> dict[str, str]:
    """NCBI gene summaries by official symbol (shipped data)."""
    global _SUMMARIES
    if _SUMMARIES is None:
        from .documents import read_documents
        from .resources import knowledge_path

        _SUMMARIES = {
            d.title.split(":")[0]: d.text
            for d in read_documents(
                knowledge_path("ncbi_gene_summaries", "gene_info_by_entrez.json.gz"), "gene-summary"
            )
        }
    return _SUMMARIES


_SUMMARIES: dict[str, str] | None = None
