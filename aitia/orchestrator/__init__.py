"""Orchestration: LLM backends, hypothesis generation, the agent and planner, the hypothesis-to-validation loop,
run directories and reports. Submodules import their heavy dependencies (langchain, transformers) on first use."""

from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "ask": ".agent",
    "Answer": ".agent",
    "HypothesisGenerator": ".hypotheses",
    "Hypothesis": ".hypotheses",
    "HypothesisSet": ".hypotheses",
    "get_backend": ".llm",
    "LoopConfig": ".loop",
    "run_loop": ".loop",
    "Run": ".run",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
