"""``llm_rerank``: a numerical acquisition strategy shortlists candidates, an LLM re-ranks the shortlist with
reasons. Without an LLM (the offline default), or when the model's answer is unusable, the numerical order stands
and the reason says so. Registered as an acquisition strategy, so ``LoopConfig(acquisition="llm_rerank")`` uses it.

Example:
    >>> s = LLMRerankStrategy(backend="none")
    >>> picks = s.rank([np.eye(3)], ["A", "B", "C"], ["A", "B"], k=1)
    >>> "numerical order" in picks[0].reason
    True
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..causal.acquisition import Pick, Strategy, get, register
from ..prompts import load_prompt

logger = logging.getLogger(__name__)


class LLMRerankStrategy(Strategy):
    """Shortlist with a numerical strategy, then let an LLM order the shortlist.

    Args:
        base: the numerical strategy that shortlists (see ``aitia.causal.acquisition.available()``).
        shortlist: candidates the LLM sees (at least the number of picks).
        backend: an LLM backend or its name (None: settings; ``none``: no LLM, numerical order).
        dataset: named in the prompt.
        diversity, seed: as for every strategy (passed to the base).
    """

    name = "llm_rerank"

    def __init__(self, base: str = "information_gain", shortlist: int = 5, backend: Any = None,
                 dataset: str = "perturbation", diversity: float = 0.5, seed: int = 0) -> None:  # fmt: skip
        super().__init__(diversity=diversity, seed=seed)
        self.base = base
        self.shortlist = shortlist
        self.backend = backend
        self.dataset = dataset
        self.last_note = ""
        self._reasons: dict[str, str] = {}

    def rank(self, mats: Sequence[np.ndarray], genes: Sequence[str], candidates: Sequence[str], k: int = 1,
             prior: np.ndarray | None = None) -> list[Pick]:  # fmt: skip
        numeric = get(self.base, diversity=self.diversity, seed=self.seed).rank(
            mats, genes, candidates, max(k, self.shortlist), prior=prior
        )
        order = self._llm_order(numeric)
        if order is None:
            return [p.model_copy(update={"reason": f"{p.reason}; {self.last_note}"}) for p in numeric[:k]]
        by_gene = {p.perturbation: p for p in numeric}
        ranked = [by_gene[g] for g in order] + [p for p in numeric if p.perturbation not in order]
        return [p.model_copy(update={"reason": f"LLM: {reasons} (numerical: {p.reason})"})
                for p, reasons in ((p, self._reasons.get(p.perturbation, "re-ranked")) for p in ranked[:k])]  # fmt: skip

    def _llm_order(self, numeric: list[Pick]) -> list[str] | None:
        """The LLM's order of the shortlist, or None (no LLM, failure, garbage) with ``last_note`` saying why."""
        from ..knowledge.hypotheses import extract_json
        from ..knowledge.llm import LLMBackend, LLMError, get_backend

        self._reasons = {}
        if len(numeric) < 2:
            self.last_note = "numerical order (one candidate)"
            return None
        try:
            backend = self.backend if isinstance(self.backend, LLMBackend) else get_backend(self.backend)
        except LLMError as exc:
            self.last_note = f"numerical order (LLM unavailable: {str(exc)[:80]})"
            return None
        if not backend.available:
            self.last_note = "numerical order (no LLM configured; llm_rerank falls back to its base strategy)"
            return None
        prompt = load_prompt("rerank")
        shortlist = "\n".join(f"{i + 1}. {p.perturbation}: {p.reason}" for i, p in enumerate(numeric))
        text = prompt.render(dataset=self.dataset, strategy=self.base, shortlist=shortlist)
        try:
            reply = backend.chat([{"role": "user", "content": text}], prompt_id=prompt.id, max_tokens=400)
            parsed = extract_json(reply.text)
        except (LLMError, ValueError) as exc:
            self.last_note = f"numerical order (LLM reply unusable: {type(exc).__name__})"
            return None
        allowed = [p.perturbation for p in numeric]
        order = [str(g) for g in (parsed.get("order") or [])] if isinstance(parsed, dict) else []
        order = list(dict.fromkeys(g for g in order if g in allowed))
        if not order:
            self.last_note = "numerical order (the LLM named none of the candidates)"
            return None
        raw = parsed.get("reasons")
        reasons = raw if isinstance(raw, dict) else {}
        self._reasons = {str(g): " ".join(str(r).split())[:200] for g, r in reasons.items() if g in allowed}
        self.last_note = f"re-ranked by {backend.name}:{backend.model}"
        return order


register("llm_rerank", LLMRerankStrategy)
#: The acquisition registry with ``llm_rerank`` registered: what the orchestrator calls to resolve a strategy name.
get_strategy = get
