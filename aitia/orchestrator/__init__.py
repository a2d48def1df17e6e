"""Orchestration: LLM backends, hypothesis generation, the agent and planner, the hypothesis-to-validation loop,
run directories and reports. Submodules import their heavy dependencies (langchain, transformers) on first use."""

from __future__ import annotations

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'aitia.orchestrator' has no attribute {name!r}")
