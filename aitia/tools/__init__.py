"""Agent tools: plain typed functions over a run (see :class:`ToolBox`); LangChain wrappers built on demand."""

from __future__ import annotations

from .registry import TOOL_NAMES, call_tool, langchain_tools
from .toolbox import ToolBox

__all__ = ["TOOL_NAMES", "ToolBox", "call_tool", "langchain_tools"]
