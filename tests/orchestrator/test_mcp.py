"""The MCP server as a real stdio subprocess (`aitia mcp`), driven by the official SDK's client."""

import asyncio
import json
import sys
import time
from pathlib import Path

from aitia.tools import TOOL_NAMES


async def _session(run_dir: Path, home: Path, data: Path) -> dict:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "aitia.cli", "mcp", "--run-dir", str(run_dir), "--dataset", str(data),
                                      "--perturbation-column", "target"],
        env={"AITIA_HOME": str(home), "HF_HUB_OFFLINE": "1", "AITIA_LLM_BACKEND": "none"},
    )  # fmt: skip
    out: dict = {}
    async with Client(params, read_timeout_seconds=60) as client:
        tools = await client.list_tools()
        out["tools"] = {t.name: t for t in tools.tools}
        out["resolve"] = await client.call_tool("resolve_genes", {"names": ["ERK"]})
        out["validate"] = await client.call_tool(
            "validate_edges", {"dataset": "sachs", "edges": [["Mek", "Erk"]]}
        )
        out["learn"] = await client.call_tool(
            "learn_graph", {"dataset": "sachs", "method": "correlation", "top": 3}
        )
        handle = out["learn"].structured_content["handle"]
        out["by_handle"] = await client.call_tool(
            "validate_edges", {"dataset": "sachs", "handle": handle, "top": 2}
        )
        out["bad"] = await client.call_tool("describe_dataset", {"name": "no-such-dataset"})
        out["mine"] = await client.call_tool("describe_dataset", {"name": "screen"})  # the file served by name
    return out


def test_mcp_round_trip(tmp_path):
    data = tmp_path / "home" / "screen.csv"
    data.parent.mkdir()
    data.write_text("target,A,B\n" + "control,1,2\n" * 3 + "A,0,1\n" * 3)
    t0 = time.perf_counter()
    out = asyncio.run(_session(tmp_path / "run", tmp_path / "home", data))
    seconds = time.perf_counter() - t0
    assert set(out["tools"]) == set(TOOL_NAMES)
    spec = out["tools"]["validate_edges"]
    assert "interventional data" in spec.description and "edges" in spec.input_schema["properties"]
    assert (
        spec.annotations.read_only_hint is True
        and out["tools"]["learn_graph"].annotations.read_only_hint is False
    )
    assert out["resolve"].structured_content["genes"][0]["symbols"] == ["MAPK1", "MAPK3"]
    edge = out["validate"].structured_content["edges"][0]
    assert edge["significant"] is True and edge["reagent"] == "u0126"
    assert len(out["by_handle"].structured_content["edges"]) == 2  # a run-scoped handle, across calls
    assert out["bad"].is_error and "Unknown dataset" in json.dumps(out["bad"].model_dump())
    # every call is in the run's trace, and nothing was written outside the run directory and AITIA_HOME
    trace = [json.loads(line) for line in (tmp_path / "run" / "trace.jsonl").read_text().splitlines()]
    calls = [e for e in trace if e["type"] == "tool_call"]
    assert [c["tool"] for c in calls] == ["resolve_genes", "validate_edges", "learn_graph", "validate_edges",
                                          "describe_dataset", "describe_dataset"] and calls[-2]["ok"] is False  # fmt: skip
    assert out["mine"].structured_content["n_samples"] == 6 and out["mine"].structured_content["genes"] == ["A", "B"]
    assert {p.name for p in tmp_path.iterdir()} <= {"run", "home"}
    assert seconds < 60
