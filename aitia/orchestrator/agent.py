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
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import AitiaError
from ..knowledge.llm import LLMError
from ..prompts import load_prompt
from ..tools.registry import call_tool, langchain_tools
from ..tools.toolbox import ToolBox

logger = logging.getLogger(__name__)


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
_EXPERIMENT = re.compile(
    r"\b(?:which|what)\b.*\b(?:experiment|perturbation)s?\b.*\b(?:next|run|do|should)", re.IGNORECASE
)
_REGULATES = re.compile(
    r"\bwhat\b.*\b(?:regulates?|controls?|drives?|activates?|represses?|upstream)\b", re.IGNORECASE
)
_PREDICT = re.compile(r"\bwhat\b.*\b(?:would|will|does|happens)\b.*\b(?:perturb\w*|knock\w*|inhibit\w*|delet\w*|silenc\w*|do)\b",
                      re.IGNORECASE)  # fmt: skip
_AFFECT = re.compile(r"\b(?:affect|change|regulate|shift|alter|influence|control|cause|activate|repress|inhibit)\w*\b",
                     re.IGNORECASE)  # fmt: skip
_CONTEXT = re.compile(r"\bin\s+(?P<ctx>[A-Za-z0-9+\-]+(?:\s+cells?)?)", re.IGNORECASE)
_STOPWORDS = {"does", "do", "what", "which", "would", "will", "the", "in", "of", "a", "an", "is", "are", "perturbing",
              "inhibiting", "knocking", "down", "out", "change", "affect", "regulates", "regulate", "next", "experiment",
              "should", "run", "i", "we", "cells", "cell", "gene", "genes", "happens", "if", "to", "on", "and", "or"}  # fmt: skip


def genes_in_question(question: str) -> list[str]:
    """Gene names in a question, in order: variable names of datasets whose names are not gene symbols (e.g. 'Mek') and resolvable symbols."""
    from .. import datasets
    from ..knowledge.genes import get_resolver, get_tagger

    var_names = datasets.question_vocabulary()
    found: list[tuple[int, str]] = []
    for m in re.finditer(r"[A-Za-z0-9][A-Za-z0-9\-/]*", question):
        tok = m.group(0)
        low = tok.lower()
        if low in _STOPWORDS or low in datasets.list_datasets():
            continue
        if low in var_names:
            found.append((m.start(), var_names[low]))
        elif tok != low or any(c.isdigit() for c in tok):  # symbols are written with capitals or digits
            res = get_resolver().resolve(tok)
            if res.symbols and res.match != "non-gene":
                found.append((m.start(), tok))
    if not found:
        found = [(m.start, m.text) for m in get_tagger().tag(question)]
    return [g for _, g in sorted(found)]


class Planner:
    """Deterministic question answering with the same tools (used when no LLM is configured)."""

    def __init__(self, toolbox: ToolBox, on_step: Callable[[str], None] | None = None) -> None:
        self.tb = toolbox
        self.on_step = on_step or (lambda s: None)
        self.steps = 0

    def _call(self, name: str, **args: Any) -> Any:
        self.steps += 1
        self.on_step(f"step {self.steps}: {name}({', '.join(f'{k}={v!r}' for k, v in args.items())})")
        text = call_tool(self.tb, name, args)
        if text.startswith("ERROR"):
            return text
        return getattr(self.tb, name).__annotations__["return"] and _parse(self.tb, name, text)

    def _dataset_for(self, genes: list[str], question: str) -> str | None:
        from .. import datasets

        named = [n for n in datasets.list_datasets() if n in question.lower()]
        candidates = named + [n for n in datasets.question_candidates() if n not in named]
        for name in candidates:
            try:
                self.tb._match_genes(name, genes)
                return name
            except AitiaError:
                continue
        return None

    def answer(self, question: str) -> Answer:
        self.tb.run.log("question", text=question, mode="planner")
        q = question.strip()
        genes = genes_in_question(q)
        ctx_m = _CONTEXT.search(q)
        from .. import datasets

        ctx = (
            ctx_m.group("ctx")
            if ctx_m and ctx_m.group("ctx").lower() not in datasets.list_datasets()
            else None
        )
        if _EXPERIMENT.search(q):
            text = self._experiment(q)
        elif _REGULATES.search(q) and len(genes) == 1:
            text = self._regulators(genes[0], q)
        elif _PREDICT.search(q) and len(genes) == 1:
            text = self._predict(genes[0], ctx, q)
        elif _AFFECT.search(q) and len(genes) >= 2:
            text = self._affects(genes[0], genes[1], q)
        elif len(genes) == 1:
            text = self._predict(genes[0], ctx, q)
        else:
            text = ("I can answer: does A affect B? what regulates A? what would perturbing A do (in context C)? "
                    "which experiment next? Please rephrase with gene names.")  # fmt: skip
        self.tb.run.log("answer", text=text)
        return Answer(question=question, text=text, citations=_citations(text), steps=self.steps, mode="planner",
                      run_dir=str(self.tb.run.path))  # fmt: skip

    # ------------------------------------------------------------------ question kinds
    def _affects(self, a: str, b: str, q: str) -> str:
        parts = []
        ds = self._dataset_for([a, b], q)
        if ds:
            v = self._call("validate_edges", dataset=ds, edges=[[a, b]])
            if not isinstance(v, str) and v.edges:
                e = v.edges[0]
                if e.tested:
                    verdict = "shifts" if e.significant else "does not significantly shift"
                    qtxt = f"q = {e.qvalue:.2g}" if e.qvalue else "q < 1e-300"
                    parts.append(f"In {ds}, intervening on {e.source} {verdict} {e.target}: {v.method} {qtxt}, "
                                 f"effect {e.effect:+.3f}, Wasserstein {e.wasserstein:.3f} ({e.note}).")  # fmt: skip
                else:
                    parts.append(f"In {ds}: {e.note}.")
                if e.in_gold_graph is not None:
                    parts.append(f"The {ds} reference graph {'has' if e.in_gold_graph else 'does not have'} a direct "
                                 f"edge {e.source} -> {e.target}.")  # fmt: skip
        ev = self._call("evidence_for", source=a, target=b)
        if not isinstance(ev, str):
            lit = f"Literature and curated evidence: support {ev.support:.2f} (sign {ev.sign:+d})"
            if ev.claims:
                lit += "; claims: " + " | ".join(ev.claims[:3])
            if ev.curated:
                lit += "; curated: " + "; ".join(ev.curated[:3])
            if ev.citations:
                lit += f". Sources: {', '.join(ev.citations[:6])}"
            parts.append(lit + ".")
        return " ".join(parts) or f"No data or evidence found for {a} -> {b}."

    def _regulators(self, a: str, q: str) -> str:
        parts = []
        pr = self._call("lookup_prior", gene=a, direction="in", limit=12)
        if not isinstance(pr, str):
            if pr.edges:
                regs = ", ".join(f"{e.source} ({'+' if e.sign > 0 else '-' if e.sign < 0 else '?'}; {e.n_pmids} PMIDs)"
                                 for e in pr.edges if e.source != e.target)  # fmt: skip
                parts.append(f"Curated regulators of {a} (TRRUST/CollecTRI, {pr.total} in total): {regs}.")
            else:
                parts.append(f"No curated transcriptional regulators of {a} in TRRUST/CollecTRI.")
        ds = self._dataset_for([a], q)
        if ds:
            truth = self.tb.interventional_truth(ds)
            target = self.tb._match_genes(ds, [a])[0]
            j = truth.labels.targets.index(target)
            hits = [
                s
                for i, s in enumerate(truth.labels.sources)
                if truth.labels.values[i, j] == 1 and s != target
            ]
            if hits:
                parts.append(f"In {ds}, interventions on {', '.join(hits)} significantly shift {target} "
                             f"({truth.params['method']}, q <= {truth.params['alpha']}).")  # fmt: skip
        lit = self._call("search_literature", query=f"regulation of {a}", genes=[a], k=3)
        if not isinstance(lit, str) and lit.hits:
            parts.append("Literature: " + " | ".join(f"{h.doc_id}: {h.text[:150]}" for h in lit.hits))
        return " ".join(parts)

    def _predict(self, a: str, ctx: str | None, q: str) -> str:
        ds = self._dataset_for([a], q)
        parts = []
        if ds:
            p = self._call("predict_perturbation", dataset=ds, perturbation=a, context=ctx)
            if not isinstance(p, str):
                top = ", ".join(
                    f"{e.gene} ({e.effect:+.2f}, P(DE) {e.de_probability:.2f})" for e in p.top[:6]
                )
                parts.append(f"Predicted effects of perturbing {p.perturbation} in {ds}/{p.context} ({p.method}, the "
                             f"measured experiment held out): {top}.")  # fmt: skip
                if p.observed:
                    v = self._call(
                        "validate_edges", dataset=ds, edges=[[p.perturbation, e.gene] for e in p.top[:6]]
                    )
                    if not isinstance(v, str):
                        ok = sum(1 for e in v.edges if e.significant)
                        parts.append(f"Checked against the held-out measurement: {ok} of {len(v.edges)} predicted "
                                     "genes are significantly shifted.")  # fmt: skip
        pr = self._call("lookup_prior", gene=a, direction="out", limit=8)
        if not isinstance(pr, str) and pr.edges:
            tg = [f"{e.target} ({e.sign:+d})" for e in pr.edges if e.target != e.source][:8]
            parts.append(f"Curated targets of {a}: " + ", ".join(tg) + ".")
        return " ".join(parts) or f"No dataset measures {a} and no curated targets are known."

    def _experiment(self, q: str) -> str:
        from .. import datasets

        named = [n for n in datasets.list_datasets() if n in q.lower()]
        ds = named[0] if named else datasets.default_dataset()
        if not [h for h in self.tb.run.objects if h.startswith("scores")]:
            for method in ("correlation", "partial_correlation"):
                self._call("learn_graph", dataset=ds, method=method)
        s = self._call("suggest_experiments", dataset=ds, k=3)
        if isinstance(s, str):
            return s
        return (
            f"Suggested next perturbations in {ds}: "
            + "; ".join(f"{x.perturbation} ({x.reason})" for x in s.suggestions)
            + "."
        )


def _parse(tb: ToolBox, name: str, text: str) -> Any:
    ret = getattr(tb, name).__annotations__["return"]
    from ..tools import toolbox as mod

    cls = getattr(mod, ret) if isinstance(ret, str) else ret
    return cls.model_validate_json(text)


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
    b = backend if isinstance(backend, LLMBackend) else (get_backend(backend) if model is None else None)
    toolbox = ToolBox(run=run, store=store, backend=b)
    if model is None and b is not None and isinstance(b, OpenAIBackend):
        model = b._client(logprobs=False, max_tokens=1024)
    if model is not None:
        return run_agent(
            question, model, toolbox, max_steps=max_steps, time_limit_s=time_limit_s, on_step=on_step
        )
    return Planner(toolbox, on_step=on_step).answer(question)
