"""The explicit tool list, turned into LangChain tools when an agent is built (not at import)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..errors import AitiaError
from .toolbox import MAX_RESULT_CHARS, ToolBox

logger = logging.getLogger(__name__)

TOOL_NAMES = [
    "resolve_genes", "search_literature", "evidence_for", "lookup_prior", "list_datasets", "describe_dataset",
    "propose_hypotheses", "learn_graph", "predict_perturbation", "validate_edges", "suggest_experiments",
    "get_run_summary",
]  # fmt: skip


def call_tool(toolbox: ToolBox, name: str, arguments: dict[str, Any]) -> str:
    """Call one tool by name; record it in the run's trace; errors come back as text the model can act on."""
    return call_tool_traced(toolbox, name, arguments).text


@dataclass
class ToolCall:
    """One traced tool call: the text a model sees, the typed result (None on error) and its trace event id."""

    text: str
    result: Any
    event: str | None


def call_tool_traced(toolbox: ToolBox, name: str, arguments: dict[str, Any]) -> ToolCall:
    """:func:`call_tool`, also returning the typed result and the ``tool_call`` trace event id (what an answer
    sentence cites)."""
    if name not in TOOL_NAMES:
        return ToolCall(f"ERROR: unknown tool {name!r}. Tools: {', '.join(TOOL_NAMES)}.", None, None)
    t0 = time.perf_counter()
    result: Any = None
    try:
        result = getattr(toolbox, name)(**arguments)
        text = result.model_dump_json()
        if len(text) > MAX_RESULT_CHARS:
            text = (
                text[:MAX_RESULT_CHARS] + f" ... [truncated: {len(text) - MAX_RESULT_CHARS} more characters]"
            )
        ok = True
    except (AitiaError, ValidationError, TypeError, ValueError, KeyError, FileNotFoundError) as exc:
        text = f"ERROR: {type(exc).__name__}: {exc}"
        ok = False
    event = toolbox.run.log("tool_call", tool=name, arguments=arguments, ok=ok,
                            duration_s=round(time.perf_counter() - t0, 3), result=text[:500])  # fmt: skip
    return ToolCall(text, result, str(event["id"]))


def langchain_tools(toolbox: ToolBox) -> list[Any]:
    """StructuredTools over the toolbox: schema from type hints, description from the docstring."""
    from langchain_core.tools import StructuredTool

    tools = []
    for name in TOOL_NAMES:
        # schema and description come from the method; calls go through call_tool (trace + errors as text)
        base = StructuredTool.from_function(func=getattr(toolbox, name), name=name, parse_docstring=True)
        tools.append(StructuredTool(name=name, description=base.description, args_schema=base.args_schema,
                                    func=lambda _n=name, **kw: call_tool(toolbox, _n, kw),
                                    handle_validation_error=lambda e: f"ERROR: invalid arguments: {e}"))  # fmt: skip
    return tools
