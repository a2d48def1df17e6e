"""aitia's tools over the Model Context Protocol (``aitia mcp``): every ToolBox tool, with its pydantic argument
and result schemas and its docstring as the tool spec, served over stdio with the official ``mcp`` SDK, so other
science agents (and MCP clients such as desktop assistants) can call them.

One server process holds one run: large objects (learned scores, hypotheses) stay in it and are passed between
calls by handle (``scores:1``), every call is recorded in the run's ``trace.jsonl``, and nothing is written outside
the run directory (the tools only read datasets, priors and the literature store).

Example (an MCP client configuration)::

    {"mcpServers": {"aitia": {"command": "aitia", "args": ["mcp"], "env": {"HF_HUB_OFFLINE": "1"}}}}
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
import typing
import uuid
from pathlib import Path
from typing import Any

from ..tools.registry import TOOL_NAMES, call_tool_traced
from ..tools.toolbox import ToolBox

logger = logging.getLogger(__name__)

#: Tools that only look things up; the others compute and keep a handle in the run (still nothing outside it).
READ_ONLY_TOOLS = frozenset(
    {"resolve_genes", "search_literature", "evidence_for", "lookup_prior", "list_datasets", "describe_dataset",
     "validate_edges", "get_run_summary"}
)  # fmt: skip


def _traced(toolbox: ToolBox, name: str) -> Any:
    """The tool as a plain function with resolved type hints (the SDK builds the schema from them) that records
    each call in the run's trace."""
    method = getattr(toolbox, name)
    hints = typing.get_type_hints(method)
    sig = inspect.signature(method)
    params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values()]

    @functools.wraps(method)
    def call(**kwargs: Any) -> Any:
        # the same path as the agent's tool calls: one trace event, anticipated errors as text
        outcome = call_tool_traced(toolbox, name, kwargs)
        if outcome.result is None:
            from mcp.server.mcpserver.exceptions import ToolError

            raise ToolError(outcome.text.removeprefix("ERROR: "))  # the model reads what to fix
        return outcome.result

    del call.__wrapped__  # the SDK must see this signature, not the method's string annotations
    call.__signature__ = sig.replace(parameters=params, return_annotation=hints.get("return"))  # type: ignore[attr-defined]
    call.__annotations__ = hints
    return call


def build_server(toolbox: ToolBox | None = None, run_dir: str | Path | None = None) -> Any:
    """An ``mcp`` MCPServer exposing every ToolBox tool (the toolbox's run holds handles and the trace).

    Args:
        toolbox: the tools and their run (default: a new ToolBox on the default store, in ``run_dir``).
        run_dir: where the run lives (default ``$AITIA_HOME/runs/mcp-<time>-<id>``).
    """
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    if toolbox is None:
        from ..config import get_settings
        from ..knowledge.store import built_store
        from ..run import Run

        path = (
            Path(run_dir)
            if run_dir
            else get_settings().runs_dir / time.strftime(f"mcp-%Y%m%d-%H%M%S-{uuid.uuid4().hex[:6]}")
        )
        toolbox = ToolBox(run=Run.create(path, {"kind": "mcp"}), store=built_store())
    server = MCPServer(
        name="aitia",
        instructions="Causal gene-network tools: literature and curated evidence, datasets with interventional "
        "truth, structure learners, perturbation predictors. Large results are handles (e.g. scores:1) that later "
        "calls accept.",
    )
    for name in TOOL_NAMES:
        doc = inspect.getdoc(getattr(toolbox, name)) or name
        server.add_tool(_traced(toolbox, name), name=name, description=doc,
                        annotations=ToolAnnotations(read_only_hint=name in READ_ONLY_TOOLS, open_world_hint=False))  # fmt: skip
    server._aitia_toolbox = toolbox  # type: ignore[attr-defined]  # for callers that want the run
    return server


def serve_stdio(run_dir: str | Path | None = None) -> None:
    """Serve the tools over stdio until the client disconnects (what ``aitia mcp`` runs)."""
    server = build_server(run_dir=run_dir)
    logger.info("aitia MCP server: run %s", server._aitia_toolbox.run.path)
    server.run("stdio")
