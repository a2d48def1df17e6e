"""The orchestrator agent: a LangChain agent over the tools, or - with the ``none`` backend - a deterministic planner
that answers the same kinds of question by calling the same tools and composing a cited answer.

Question kinds the planner handles: does A affect B? what regulates A? what would perturbing A do (in context C)?
which experiment next?

Example:
    >>> ans = ask("Does inhibiting Mek change Erk in sachs?", backend="none")   # doctest: +SKIP
    >>> "q =" in ans.text                                                      # doctest: +SKIP
    True
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..datasets.validate import UNKNOWN_INTERVENTION, intervention_label
from ..errors import AitiaError
from ..knowledge.llm import LLMError
from ..prompts import load_prompt
from ..tools.registry import call_tool_traced, langchain_tools
from ..tools.toolbox import ToolBox
from .question import (
    INTERVENTION_TYPES,
    ParsedQuestion,
    dataset_organism,
    find_genes,
    parse_question,
    parse_question_llm,
)

logger = logging.getLogger(__name__)


SentenceKind = Literal["measured", "reference", "curated", "literature", "prediction", "note"]


class AnswerSentence(BaseModel):
    """One sentence of an answer and the trace events (tool results) it came from."""

    model_config = ConfigDict(extra="forbid")

    text: str
    kind: SentenceKind = Field(
        description="measured data, reference graphs, curated, literature, prediction, note."
    )
    sources: list[str] = Field(default_factory=list, description="Ids of the trace events it rests on.")

    def render(self) -> str:
        return self.text + (f" [{', '.join(self.sources)}]" if self.sources else "")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    text: str
    citations: list[str] = Field(default_factory=list)
    steps: int = 0
    mode: str = Field(description="agent (LLM) or planner (no LLM).")
    stopped: str = Field(
        default="", description="Why the agent stopped early (step or time limit), if it did."
    )
    run_dir: str = ""
    sentences: list[AnswerSentence] = Field(
        default_factory=list, description="The planner's sentences, each with the trace events it came from."
    )
    parse: ParsedQuestion | None = Field(default=None, description="How the question was understood.")


def _citations(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"(?:PMID|GENE):\d+", text)))


# ============================================================================ LLM agent
def run_agent(question: str, model: Any, toolbox: ToolBox, max_steps: int = 12, time_limit_s: float = 300.0,
              on_step: Callable[[str], None] | None = None) -> Answer:  # fmt: skip
    """Run a LangChain ``create_agent`` agent over the tools with step and time limits.

    Args:
        question: the user's question.
        model: a LangChain chat model supporting tool calls.
        toolbox: the tools and run state.
        max_steps: maximum model calls.
        time_limit_s: wall-clock limit.
        on_step: progress callback (one line per step).
    """
    from langchain.agents import create_agent
    from langgraph.errors import GraphRecursionError

    on_step = on_step or (lambda s: None)
    agent = create_agent(model, langchain_tools(toolbox), system_prompt=load_prompt("agent_system").template)
    toolbox.run.log("question", text=question, mode="agent")
    t0 = time.perf_counter()
    steps, final, stopped = 0, "", ""
    try:
        for update in agent.stream({"messages": [{"role": "user", "content": question}]},
                                   config={"recursion_limit": 2 * max_steps + 1}, stream_mode="updates"):  # fmt: skip
            for node, payload in update.items():
                for msg in (payload or {}).get("messages", []):
                    if node == "model":
                        steps += 1
                        calls = getattr(msg, "tool_calls", None) or []
                        toolbox.run.log("agent_step", step=steps, tool_calls=[c["name"] for c in calls],
                                        text=str(msg.content)[:500])  # fmt: skip
                        on_step(f"step {steps}: " + (", ".join(c["name"] for c in calls) or "answer"))
                        if not calls:
                            final = str(msg.content)
            if time.perf_counter() - t0 > time_limit_s:
                stopped = f"time limit of {time_limit_s:g}s reached"
                break
    except GraphRecursionError:
        stopped = f"step limit of {max_steps} reached"
    except Exception as exc:
        import openai

        if not isinstance(exc, openai.OpenAIError):
            raise
        toolbox.run.log("llm_failed", error=" ".join(str(exc).split())[:300])
        raise LLMError(
            f"The agent's LLM call failed ({type(exc).__name__}: {' '.join(str(exc).split())[:160]}); check "
            "AITIA_LLM_BASE_URL / AITIA_LLM_MODEL / OPENAI_API_KEY, or ask with --llm none (the offline planner)."
        ) from None
    if stopped and not final:
        final = f"Stopped before a final answer ({stopped}). Partial results are in {toolbox.run.path}/trace.jsonl."
    toolbox.run.log("answer", text=final, stopped=stopped)
    return Answer(question=question, text=final, citations=_citations(final), steps=steps, mode="agent", stopped=stopped,
                  run_dir=str(toolbox.run.path))  # fmt: skip


# ============================================================================ offline planner
def genes_in_question(question: str) -> list[str]:
    """Gene names in a question, in order (known names only; see :func:`~aitia.orchestrator.question.find_genes`).

    Example:
        >>> genes_in_question("Does inhibiting Mek change Erk in sachs?")
        ['Mek', 'Erk']
    """
    from .. import datasets

    named = datasets.datasets_in_question(question)
    return [g.name for g in find_genes(question, named[0] if named else None) if g.known]


def _q(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return "q < 1e-300" if value == 0 else f"q = {value:.2g}"


def _list(items: list[str], limit: int = 8) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


class Planner:
    """Deterministic question answering with the same tools (used when no LLM is configured).

    Every answer puts measured data first (condition, reagent, test, effect, q, n), then reference graphs, curated
    and literature evidence, and predictions last, labelled as predictions; each sentence cites its tool results.
    """

    def __init__(self, toolbox: ToolBox, on_step: Callable[[str], None] | None = None) -> None:
        self.tb = toolbox
        self.on_step = on_step or (lambda s: None)
        self.steps = 0
        self.sentences: list[AnswerSentence] = []

    def _call(self, tool: str, **args: Any) -> tuple[Any, str | None]:
        self.steps += 1
        self.on_step(f"step {self.steps}: {tool}({', '.join(f'{k}={v!r}' for k, v in args.items())})")
        call = call_tool_traced(self.tb, tool, args)
        return (call.text if call.result is None else call.result), call.event

    def _say(self, kind: SentenceKind, text: str, *sources: str | None) -> None:
        if not any(s.text == text for s in self.sentences):  # never the same sentence twice
            self.sentences.append(AnswerSentence(text=text, kind=kind, sources=[s for s in sources if s]))

    def _dataset_for(self, genes: list[str], question: str, intervened: str | None = None) -> str | None:
        """The named dataset, else the first candidate that measures ``genes`` (and intervened on ``intervened``)."""
        from .. import datasets

        named = datasets.datasets_in_question(question)
        candidates = named + [n for n in datasets.question_candidates() if n not in named]
        fallback = None
        for name in candidates:
            try:
                matched = self.tb._match_genes(name, genes)
            except AitiaError:
                continue
            if name in named:
                return name
            if intervened is None:
                return name
            src = matched[genes.index(intervened)] if intervened in genes else intervened
            if src in set(self.tb.interventional_truth(name).groups["source"]):
                return name
            fallback = fallback or name
        return fallback

    def answer(self, question: str, parsed: ParsedQuestion | None = None) -> Answer:
        """Answer ``question`` (parsed with :func:`parse_question` unless a parse is given)."""
        self.tb.run.log("question", text=question, mode="planner")
        p = parsed or parse_question(question)
        self.tb.run.log("question_parse", **p.model_dump(exclude={"question"}))
        if p.unknown:
            self._unknown(p)
        elif p.intent == "next_experiment":
            self._experiment(p)
        elif p.intent == "compare_graphs":
            self._compare(p)
        elif p.intent == "describe_dataset":
            self._describe(p)
        elif p.intent == "effect" and p.source and p.target:
            self._effect(p)
        elif p.intent in ("regulators", "targets") and p.subject:
            self._neighbours(p, "in" if p.intent == "regulators" else "out")
        elif p.intent == "perturbation_effect" and p.subject:
            self._perturbation_effect(p)
        else:
            self._say("note", "I can answer: does perturbing A change B? what regulates A? what does A regulate? what "
                      "happens when A is perturbed (in context C)? which experiment next? how does a learned graph "
                      "compare with the references? what is in a dataset? Please rephrase with gene names.")  # fmt: skip
        if not self.sentences:
            self._say("note", "No data, curated knowledge or literature found for this question.")
        text = " ".join(s.render() for s in self.sentences)
        self.tb.run.log("answer", text=text, sentences=[s.model_dump() for s in self.sentences])
        return Answer(question=question, text=text, citations=_citations(text), steps=self.steps, mode="planner",
                      run_dir=str(self.tb.run.path), sentences=self.sentences, parse=p)  # fmt: skip

    # ------------------------------------------------------------------ question kinds
    def _unknown(self, p: ParsedQuestion) -> None:
        r, ev = self._call("resolve_genes", names=[g.text for g in p.unknown])
        for g in p.unknown:
            hint = (
                f" Did you mean {' or '.join(g.suggestions)}?"
                if g.suggestions
                else " No similar symbol is known."
            )
            self._say("note", f"'{g.text}' is not a known gene: no HGNC symbol, alias, family or measured variable has "
                      f"that name.{hint}", ev)  # fmt: skip
        self._say("note", "Ask again with a known gene name; I do not guess which gene was meant.")

    @staticmethod
    def _has_symbols(p: ParsedQuestion, name: str) -> bool:
        """Whether a gene of the question stands for real genes (simulated network nodes do not)."""
        return any(g.symbols for g in p.genes if g.name == name) or not p.genes

    def _validate(self, ds: str, edges: list[list[str]], p: ParsedQuestion) -> tuple[Any, str | None]:
        """validate_edges with the intervention the question names: its exact type, then related types (a knockdown
        question accepts a knockout), then any type - saying so when the data hold only another kind."""
        kinds = INTERVENTION_TYPES.get(p.perturbation or "perturb", ())
        attempts: list[str | None] = [*dict.fromkeys([kinds[0], ",".join(kinds)])] if kinds else []
        v: Any = None
        ev: str | None = None
        for attempt in [*attempts, None]:
            v, ev = self._call("validate_edges", dataset=ds, edges=edges, intervention=attempt)
            if isinstance(v, str) or any(e.tested for e in v.edges):
                if attempt is None and kinds and not isinstance(v, str):
                    e0 = next(e for e in v.edges if e.tested)
                    # the data do not say which kind it was: nothing to contrast
                    if e0.intervention_type == UNKNOWN_INTERVENTION:
                        return v, ev
                    self._say("note", f"{ds} has no {p.perturbation} intervention on {e0.source}; the measured one is "
                              f"a {e0.intervention_type}.", ev)  # fmt: skip
                return v, ev
        return v, ev

    def _measured_edge(self, ds: str, a: str, b: str, p: ParsedQuestion) -> Any:
        """validate_edges for a -> b, with the intervention type the question asks for when the data have it."""
        return self._validate(ds, [[a, b]], p)

    def _measured_sentence(self, ds: str, method: str, e: Any, ev: str | None) -> None:
        verb = "shifts" if e.significant else "does not significantly shift"
        how = f"{intervention_label(e.intervention_type)} of {_named(ds, e.source)}" + (
            f" ({e.reagent})" if e.reagent else ""
        )
        stats = ", ".join(x for x in (f"effect {e.effect:+.3f}", _q(e.qvalue), f"{method} test") if x)
        self._say("measured", f"Measured in {ds}: {how} in context {e.context} (n = {e.n_cells} samples vs controls) "
                  f"{verb} {_named(ds, e.target)} ({stats}).", ev)  # fmt: skip

    def _reference_sentence(self, ds: str, e: Any, ev: str | None) -> None:
        if not e.references:
            return
        has = [n for n, v in e.references.items() if v]
        lacks = [n for n, v in e.references.items() if not v]
        n = len(e.references)
        text = f"Reference graphs of {ds}: {len(has)} of {n} have a direct edge {e.source} -> {e.target}"
        text += f" ({', '.join(has)})" if has else ""
        text += f"; {', '.join(lacks)} {'does' if len(lacks) == 1 else 'do'} not." if lacks and has else "."
        self._say("reference", text, ev)

    def _human_knowledge(self, ds: str | None) -> bool:
        """Whether the shipped knowledge (human curated networks and literature) applies to genes of ``ds``; for
        yeast data it does not, and the answer says so instead of reporting 'no curated edge'."""
        try:
            yeast = ds is not None and dataset_organism(ds) == "yeast"
        except AitiaError:
            return True
        if yeast:
            self._say("note", f"The shipped curated networks and literature are about human genes; none covers the "
                      f"yeast genes of {ds}.")  # fmt: skip
        return not yeast

    def _evidence_sentences(self, a: str, b: str, perturbation: str | None = None) -> None:
        ev, eid = self._call("evidence_for", source=a, target=b)
        if isinstance(ev, str):
            return
        sign = {1: "activating", -1: "inhibiting"}.get(ev.sign, "unsigned")
        if ev.curated:
            self._say("curated", f"Curated {a} -> {b}: {'; '.join(ev.curated[:4])} (evidence support {ev.support:.2f}, "
                      f"{sign}).", eid)  # fmt: skip
        else:
            self._say("curated", f"No curated direct edge {a} -> {b} in the priors (evidence support {ev.support:.2f}).",
                      eid)  # fmt: skip
            if ev.path:
                net = {1: "activating", -1: "inhibiting"}.get(ev.path_sign or 0, "unsigned")
                self._say("curated", f"Curated indirect path ({len(ev.path) - 1} steps, net {net}): "
                          f"{' -> '.join(ev.path)}.", eid)  # fmt: skip
        if ev.curated_reverse:
            self._say("curated", f"Curated in the reverse direction ({b} -> {a}): {'; '.join(ev.curated_reverse[:3])}.",
                      eid)  # fmt: skip
        if ev.claims:
            self._say("literature", f"Literature ({len(ev.claims)} statements {a} -> {b}): " + " | ".join(ev.claims[:3]),
                      eid)  # fmt: skip
        if ev.citations:
            self._say("literature", f"Sources: {', '.join(ev.citations[:6])}.", eid)
        # what the curated sign says about the perturbation asked about ("a JAK2 inhibitor ... STAT5A")
        lowers = {"inhibit": True, "knockout": True, "knockdown": True, "activate": False}.get(
            perturbation or ""
        )
        curated_sign = ev.sign if ev.curated else (ev.path_sign if ev.path else 0)
        if curated_sign in (1, -1) and lowers is not None:
            falls = (curated_sign == 1) == lowers
            verb = {"inhibit": "inhibiting", "knockout": "knocking out", "knockdown": "knocking down",
                    "activate": "activating"}[str(perturbation)]  # fmt: skip
            via = "" if ev.curated else " of the indirect path"
            self._say("curated", f"By the curated sign{via}, {verb} {a} should {'lower' if falls else 'raise'} {b} "
                      "(a direction from curated knowledge, not a measurement).", eid)  # fmt: skip

    def _effect(self, p: ParsedQuestion) -> None:
        a, b = str(p.source), str(p.target)
        ds = p.dataset or self._dataset_for([a, b], p.question, intervened=a)
        if ds:
            v, ev = self._measured_edge(ds, a, b, p)
            if isinstance(v, str):
                self._say("note", v.removeprefix("ERROR: "), ev)
            elif v.edges:
                e = v.edges[0]
                if e.tested:
                    self._measured_sentence(ds, v.method, e, ev)
                else:
                    self._say("measured", f"In {ds}: {e.note}.", ev)
                    self._prediction(ds, e.source, [e.target], p)
                self._reference_sentence(ds, e, ev)
        # simulated nodes have no literature; yeast genes none in the (human) curated networks
        if all(g.symbols for g in p.genes if g.name in (a, b)) and self._human_knowledge(ds):
            self._evidence_sentences(a, b, p.perturbation)

    def _prediction(self, ds: str, a: str, genes: list[str] | None, p: ParsedQuestion) -> None:
        pr, ev = self._call(
            "predict_perturbation", dataset=ds, perturbation=a, context=p.context, genes=genes
        )
        if isinstance(pr, str) or not pr.top:
            return
        items = ", ".join(f"{x.gene} {x.effect:+.2f} (P(DE) {x.de_probability:.2f})" for x in pr.top[:6])
        self._say("prediction", f"Prediction, not a measurement ({pr.method} in {ds}/{pr.context}"
                  f"{', the measured experiment held out' if pr.observed else ''}): perturbing {pr.perturbation} -> "
                  f"{items}.", ev)  # fmt: skip

    def _curated_neighbours(self, a: str, direction: Literal["in", "out"]) -> None:
        pr, ev = self._call("lookup_prior", gene=a, direction=direction, limit=50)
        if isinstance(pr, str):
            return
        other = (lambda e: e.source) if direction == "in" else (lambda e: e.target)
        seen: dict[str, tuple[int, int, set[str]]] = {}
        for e in pr.edges:
            g = other(e)
            if g in (e.source if direction == "out" else e.target,):
                continue
            n, sign, dbs = seen.get(g, (0, 0, set()))
            seen[g] = (n + e.n_pmids, sign or e.sign, dbs | set(e.databases))
        what = "regulators" if direction == "in" else "targets"
        if not seen:
            self._say("curated", f"No curated {what} of {a} in the priors.", ev)
            return
        items = [f"{g} ({'+' if s > 0 else '-' if s < 0 else '?'}, {n} PMIDs)"
                 for g, (n, s, _) in sorted(seen.items(), key=lambda x: -x[1][0])]  # fmt: skip
        sources = sorted({d for _, _, ds_ in seen.values() for d in ds_})
        self._say("curated", f"Curated {what} of {a} ({', '.join(sources[:6])}; {pr.total} edges in total): "
                  f"{_list(items, 12)}.", ev)  # fmt: skip

    def _measured_neighbours(
        self, ds: str, a: str, direction: Literal["in", "out"], p: ParsedQuestion
    ) -> bool:
        """Which interventions shift ``a`` (in) or which genes intervening on ``a`` shifts (out). False if untestable."""
        adata = self.tb._dataset(ds)
        genes = [str(g) for g in adata.var_names]
        a_ = self.tb._match_genes(ds, [a])[0]
        truth = self.tb.interventional_truth(ds)
        sources = list(dict.fromkeys(str(s) for s in truth.groups["source"]))
        if direction == "out":
            if a_ not in sources:
                return False
            edges = [[a_, g] for g in genes if g != a_]
        else:
            edges = [[s, a_] for s in sources if s != a_]
        if not edges:
            return False
        v, ev = self._validate(ds, edges[:100], p)
        if isinstance(v, str):
            return False
        tested = [e for e in v.edges if e.tested]
        if not tested:
            return False
        hits = sorted((e for e in tested if e.significant), key=lambda e: -abs(e.effect or 0))
        if direction == "out":
            e0 = tested[0]
            how = f"{intervention_label(e0.intervention_type)} of {a_}" + (
                f" ({e0.reagent})" if e0.reagent else ""
            )
            items = [
                f"{e.target} ({e.effect:+.2f}{', ' + _q(e.qvalue) if _q(e.qvalue) else ''})" for e in hits
            ]
            text = (f"Measured in {ds}: {how} in context {e0.context} (n = {e0.n_cells} samples, {v.method} test) "
                    f"significantly shifts {len(hits)} of {len(tested)} measured genes" + (f": {_list(items, 12)}" if hits else "") + ".")  # fmt: skip
        else:
            items = [f"{e.source} ({intervention_label(e.intervention_type)}{', ' + e.reagent if e.reagent else ''}; {e.effect:+.2f})"
                     for e in hits]  # fmt: skip
            quiet = [e.source for e in tested if not e.significant]
            text = (f"Measured in {ds}: {len(hits)} of {len(tested)} interventions significantly shift {a_} "
                    f"({v.method} test)" + (f": {_list(items, 12)}" if hits else "")
                    + (f"; not {', '.join(quiet)}" if quiet else "") + ".")  # fmt: skip
        self._say("measured", text, ev)
        return True

    def _literature(self, query: str, genes: list[str], p: ParsedQuestion) -> None:
        lit, ev = self._call("search_literature", query=query, genes=genes, k=3)
        if not isinstance(lit, str) and lit.hits:
            names = [*genes, *(sym for g in p.genes if g.name in genes for sym in g.symbols)]
            shown: dict[str, str] = {}  # sentence -> first document: duplicate passages collapse
            for h in lit.hits:
                shown.setdefault(_sentence_about(h.text, names), h.doc_id)
            self._say("literature", "Literature: " + " | ".join(f"{d}: {t}" for t, d in shown.items()), ev)

    def _neighbours(self, p: ParsedQuestion, direction: Literal["in", "out"]) -> None:
        """Regulators (``in``) or targets (``out``) of the subject: measured, curated, then literature. Targets are
        looked up in a dataset where the subject was intervened on."""
        a = str(p.subject)
        intervened = {"intervened": a} if direction == "out" else {}
        ds = p.dataset or self._dataset_for([a], p.question, **intervened)
        if ds:
            self._measured_neighbours(ds, a, direction, p)
        if self._has_symbols(p, a) and self._human_knowledge(ds):
            self._curated_neighbours(a, direction)
            self._literature(f"regulation of {a}" if direction == "in" else f"targets of {a}", [a], p)

    def _perturbation_effect(self, p: ParsedQuestion) -> None:
        a = str(p.subject)
        ds = p.dataset or self._dataset_for([a], p.question, intervened=a)
        if ds and not self._measured_neighbours(ds, a, "out", p):
            kind = f" by {p.perturbation}" if p.perturbation and p.perturbation != "perturb" else ""
            self._say("measured", f"{a} was not intervened on{kind} in {ds}: no measurement to report.")
            self._prediction(ds, a, None, p)
        elif not ds:
            self._say("measured", f"No built-in dataset measures {a}.")
        if self._has_symbols(p, a) and self._human_knowledge(ds):
            self._curated_neighbours(a, "out")

    def _experiment(self, p: ParsedQuestion) -> None:
        from .. import datasets

        ds = p.dataset or datasets.default_dataset()
        events = []
        if not [h for h in self.tb.run.objects if h.startswith("scores")]:
            for method in ("correlation", "partial_correlation"):
                events.append(self._call("learn_graph", dataset=ds, method=method)[1])
        # the genes a question names ("distinguish Raf -> Mek from Mek -> Raf") are the candidates; one the data
        # already perturb needs no new experiment
        named = [g.name for g in p.genes if g.known]
        candidates: list[str] = []
        if len(named) >= 2:
            try:
                done = set(self.tb.interventional_truth(ds).groups["source"].astype(str))
            except AitiaError:
                done = set()
            held = [g for g in named if g in done]
            if held:
                self._say("note", f"The data of {ds} already perturb {_list(held)}: ask whether "
                          f"{held[0]} changes {next(g for g in named if g != held[0])} to see what they show.")  # fmt: skip
            candidates = [g for g in named if g not in done]
        s, ev = (
            self._call("suggest_experiments", dataset=ds, k=min(3, len(candidates)), candidates=candidates)
            if candidates
            else self._call("suggest_experiments", dataset=ds, k=3)
        )
        if isinstance(s, str):
            self._say("note", s.removeprefix("ERROR: "), ev)
            return
        self._say("prediction", f"Suggested next perturbations in {ds}: "
                  + "; ".join(f"{x.perturbation} ({x.reason})" for x in s.suggestions) + ".", ev, *events)  # fmt: skip

    def _compare(self, p: ParsedQuestion) -> None:
        from .. import datasets
        from ..causal import learners

        ds = p.dataset or datasets.default_dataset()
        low = p.question.lower()
        # every learner the question names, in its order ("GES or PC?"); the correlation baseline when none. A name
        # inside a longer one ("correlation" in "partial correlation") is not a mention of its own
        spans = [(m.start(), m.end(), name) for name in learners.available()
                 for m in re.finditer(rf"\b{re.escape(name).replace('_', '[ _-]')}\b", low)]  # fmt: skip
        named = sorted((a, name) for a, b, name in spans
                       if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2, _ in spans))  # fmt: skip
        methods = list(dict.fromkeys(name for _, name in named)) or ["correlation"]
        scores: dict[str, dict[str, float]] = {}
        cited: list[str | None] = []
        for method in methods:
            g, ev = self._call("learn_graph", dataset=ds, method=method, top=50)
            if isinstance(g, str):
                self._say("note", g.removeprefix("ERROR: "), ev)
                continue
            scores[method] = dict(g.metrics)
            cited.append(ev)
            metrics = ", ".join(f"{t} {v:.3f}" for t, v in g.metrics.items())
            self._say("measured", f"A {method} graph learned on {ds} scores AUROC {metrics} against the dataset's "
                      "truths (0.5 = random).", ev)  # fmt: skip
            refs = datasets.reference_graphs(ds)
            if p.reference in refs:
                refs = {str(p.reference): refs[str(p.reference)]}
            for name, ref in refs.items():
                k = ref.number_of_edges()
                top = self.tb.run.get(g.handle).top_edges(k)
                hit = [f"{s_}->{t_}" for s_, t_, _ in top.itertuples(index=False) if ref.has_edge(s_, t_)]
                self._say("reference", f"Of its top {k} edges, {len(hit)} are in the {name} graph ({k} edges)"
                          + (f": {_list(hit, 10)}" if hit else "") + ".", ev)  # fmt: skip
        truths = [t for t in next(iter(scores.values()), {}) if all(t in v for v in scores.values())]
        if len(scores) > 1 and truths:
            parts = []
            for t in truths:
                ranked = sorted(scores, key=lambda m: -scores[m][t])
                parts.append(f"{t}: " + " > ".join(f"{m} {scores[m][t]:.3f}" for m in ranked))
            self._say("measured", f"Compared on {ds} (AUROC, one fit each, no seeds: read differences of a few "
                      f"hundredths as ties): {'; '.join(parts)}.", *cited)  # fmt: skip

    def _describe(self, p: ParsedQuestion) -> None:
        ds = str(p.dataset)
        d, ev = self._call("describe_dataset", name=ds)
        if isinstance(d, str):
            self._say("note", d.removeprefix("ERROR: "), ev)
            return
        self._say("measured", f"{ds}: {d.n_samples} samples of {len(d.genes)} genes ({_list(d.genes, 12)}); "
                  f"{len(d.perturbations)} interventions ({_list(d.perturbations, 10)}); contexts: "
                  f"{_list(d.contexts, 6)}; truths: {', '.join(d.truths) or 'none shipped (its interventions are tested against its controls)'}.", ev)  # fmt: skip


def _named(ds: str, gene: str) -> str:
    """A measured name as a biologist reads it: a yeast ORF with its standard name ("YDR103W (STE5)")."""
    from ..knowledge.genes import get_resolver

    try:
        yeast = dataset_organism(ds) == "yeast"
    except AitiaError:
        return gene
    standard = get_resolver().yeast.get(gene, gene) if yeast else gene
    return f"{gene} ({standard})" if standard != gene else gene


def _sentence_about(text: str, names: list[str]) -> str:
    """The passage's first whole sentence that names any of ``names`` (else its first): never cut mid-word."""
    from ..knowledge.documents import split_sentences

    text = " ".join(text.split())
    sentences = [text[a:b].strip() for a, b in split_sentences(text)] or [text]
    for sent in sentences:
        if any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", sent, re.IGNORECASE) for n in names if n):
            return sent
    return sentences[0]


def ask(question: str, backend: Any = None, store: Any = None, run: Any = None, max_steps: int = 12,
        time_limit_s: float = 300.0, on_step: Callable[[str], None] | None = None, model: Any = None) -> Answer:  # fmt: skip
    """Answer a natural-language question about gene networks (agent with an LLM, planner without).

    Args:
        question: the question.
        backend: LLM backend name or instance (default from settings; ``none`` uses the planner).
        store: literature store.
        run: a Run to log into (default: a new one under ``$AITIA_HOME/runs``).
        model: a LangChain chat model to use directly (tests, custom providers).
    """
    from ..config import get_settings
    from ..knowledge.llm import LLMBackend, OpenAIBackend, get_backend
    from ..run import Run

    if run is None:  # a unique directory: two questions in the same second never share a run
        stamp = time.strftime("ask-%Y%m%d-%H%M%S")
        run = Run.create(
            get_settings().runs_dir / f"{stamp}-{uuid.uuid4().hex[:8]}", {"kind": "ask", "question": question}
        )
    if store is None:  # one configuration path: the same default store as the CLI
        from ..knowledge.store import built_store

        store = built_store()
    auto = backend in (None, "auto") and model is None and not os.environ.get("AITIA_LLM_BACKEND")
    if backend == "auto":
        backend = None
    try:
        b = backend if isinstance(backend, LLMBackend) else (get_backend(backend) if model is None else None)
    except LLMError as exc:
        if not auto:
            raise
        logger.warning("LLM backend unavailable (%s); answering with the offline planner", exc)
        b = None
    toolbox = ToolBox(run=run, store=store, backend=b)
    if model is None and b is not None and isinstance(b, OpenAIBackend):
        model = b._client(logprobs=False, max_tokens=1024)
    parsed = parse_question(question)
    if model is not None and parsed.intent == "unknown" and not parsed.unknown:
        parsed = parse_question_llm(question, model)  # the rules could not tell: ask the model, same schema
    if parsed.unknown or model is None:  # an unknown gene is answered without the model: nothing to guess
        return Planner(toolbox, on_step=on_step).answer(question, parsed=parsed)
    hint = (f"{question}\n\n(Understood as: intent {parsed.intent}; genes "
            f"{', '.join(g.name for g in parsed.genes) or 'none'}; dataset {parsed.dataset or 'not named'}.)")  # fmt: skip
    try:
        answer = run_agent(
            hint, model, toolbox, max_steps=max_steps, time_limit_s=time_limit_s, on_step=on_step
        )
    except LLMError as exc:
        if not auto:
            raise
        toolbox.run.log("llm_fallback", error=str(exc)[:300])
        answer = Planner(toolbox, on_step=on_step).answer(question, parsed=parsed)
        answer.text = f"(The LLM was unavailable; answered by the offline planner.) {answer.text}"
        return answer
    return answer.model_copy(update={"question": question, "parse": parsed})
