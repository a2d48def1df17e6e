"""Orchestration: the agent and planner, the hypothesis-to-validation loop, evaluation of runs and reports
(hypothesis generation and LLM backends live in :mod:`aitia.knowledge`, the run directory in :mod:`aitia.run`). Submodules import their heavy dependencies (langchain, transformers) on first use."""

from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "ask": ".agent",
    "Answer": ".agent",
    "LoopConfig": ".loop",
    "run_loop": ".loop",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
