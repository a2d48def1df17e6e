"""The LLM path for perturbation-effect labels: ask a language model, per perturbation and in batches of readout
genes, how likely each gene is differentially expressed; the answers form an EffectTable of DE probabilities that
the usual metrics score (per-gene AUROC). Replies are cached by the backend, so a rerun is free; a batch the model
answers badly gets 0.5 for its genes (counted, never NaN). Offline (``none`` backend) it refuses with one line.

Example:
    >>> import pandas as pd
    >>> q = pd.DataFrame({"context": ["jurkat"], "perturbation": ["AAMP"]})
    >>> llm_de_predictions(q, {"AAMP": ["ATG13"]}, backend="none")      # doctest: +SKIP
    Traceback (most recent call last):
    aitia.knowledge.llm.LLMError: The LLM path needs a language model ...
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ..prompts import load_prompt
from ..types.effects import EffectTable
from .llm import LLMBackend, LLMError, get_backend

logger = logging.getLogger(__name__)


class LLMPredictionStats(BaseModel):
    """What the LLM path cost and how much of it was usable."""

    model_config = ConfigDict(extra="forbid")

    calls: int = Field(description="Prompts sent (cache hits included).")
    cache_hits: int = 0
    unusable_batches: int = Field(
        default=0, description="Batches whose reply could not be read (genes got 0.5)."
    )
    missing_genes: int = Field(default=0, description="Asked genes the reply did not cover (got 0.5).")


def llm_de_predictions(queries: pd.DataFrame, genes_for: Mapping[str, Sequence[str]], backend: Any = None,
                       batch_size: int = 50, progress: bool = False) -> tuple[EffectTable, LLMPredictionStats]:  # fmt: skip
    """DE probabilities from an LLM for each queried (context, perturbation) and its readout genes.

    Args:
        queries: columns ``context`` (cell line or condition, used in the prompt) and ``perturbation``.
        genes_for: readout genes to ask about, per perturbation.
        backend: an LLM backend or its name (None: settings). ``none`` raises :class:`LLMError`.
        batch_size: genes per prompt.
        progress: show a progress bar.
    """
    from rich.progress import track

    from .hypotheses import extract_json

    llm = backend if isinstance(backend, LLMBackend) else get_backend(backend)
    if not llm.available:
        raise LLMError("The LLM path needs a language model: set AITIA_LLM_BASE_URL / OPENAI_API_KEY or use --llm "
                       "openai / local; offline, use the knn predictor with gene features.")  # fmt: skip
    prompt = load_prompt("de")
    genes = list(dict.fromkeys(g for p in queries["perturbation"] for g in genes_for.get(str(p), ())))
    gpos = {g: i for i, g in enumerate(genes)}
    contexts = list(dict.fromkeys(queries["context"].astype(str)))
    perts = list(dict.fromkeys(queries["perturbation"].astype(str)))
    requests, owners = [], []
    for ctx, pert in zip(queries["context"].astype(str), queries["perturbation"].astype(str)):
        asked = list(genes_for.get(pert, ()))
        for start in range(0, len(asked), batch_size):
            chunk = asked[start : start + batch_size]
            text = prompt.render(perturbation=pert, context=ctx, genes=", ".join(chunk))
            requests.append(([{"role": "user", "content": text}], prompt.id))
            owners.append((ctx, pert, chunk))
    stats = LLMPredictionStats(calls=len(requests))
    hits_before = llm.usage.cache_hits
    replies = llm.chat_many(requests, max_tokens=1200)
    stats.cache_hits = llm.usage.cache_hits - hits_before
    rows: dict[tuple[str, str], np.ndarray] = {}
    for (ctx, pert, chunk), reply in track(list(zip(owners, replies)), description="reading LLM answers",
                                           disable=not progress, transient=True):  # fmt: skip
        row = rows.setdefault((ctx, pert), np.full(len(genes), 0.5, np.float32))
        try:
            if isinstance(reply, LLMError):
                raise ValueError(str(reply))
            parsed = extract_json(reply.text)
            if not isinstance(parsed, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            stats.unusable_batches += 1
            logger.info("unusable LLM reply for %s (%s): %s", pert, ctx, exc)
            continue
        for g in chunk:
            value: Any = parsed.get(g)
            try:
                row[gpos[g]] = float(np.clip(float(value), 0.0, 1.0))
            except (TypeError, ValueError):
                stats.missing_genes += 1
    keys = list(rows)
    c_idx = np.array([contexts.index(c) for c, _ in keys], dtype=np.int64)
    p_idx = np.array([perts.index(p) for _, p in keys], dtype=np.int64)
    labels = np.stack([rows[k] for k in keys]) if keys else np.zeros((0, len(genes)), np.float32)
    table = EffectTable.from_rows(contexts, perts, genes, c_idx, p_idx, np.zeros_like(labels), labels,
                                  meta={"predictor": f"llm:{llm.name}:{llm.model}", "effects_known": False})  # fmt: skip
    return table, stats
