"""The agent: over the wire (real local OpenAI-protocol server with tool calls), with LangChain fake chat models
(bad arguments, a model that loops), and the offline planner on each question kind."""

import json

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from aitia.knowledge.llm import OpenAIBackend
from aitia.orchestrator.agent import Planner, ask, genes_in_question, run_agent
from aitia.run import Run
from aitia.tools import TOOL_NAMES, ToolBox

from .fake_openai import FakeOpenAI, completion


class ToolFakeModel(GenericFakeChatModel):
    """LangChain's fake chat model with tool binding (returns itself)."""

    def bind_tools(self, tools, **kwargs):
        return self


def _call(name, args, i=0):
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": f"call_{name}_{i}", "type": "tool_call"}]
    )


@pytest.fixture
def toolbox(tmp_path):
    return ToolBox(run=Run.create(tmp_path / "run", {"kind": "test"}))


def test_agent_over_the_wire(tmp_path):
    with FakeOpenAI() as server:
        server.script.extend([
            ("json", completion(tool_calls=[{"name": "resolve_genes", "args": {"names": ["ERK"]}}])),
            ("json", completion(tool_calls=[{"name": "validate_edges", "args": {"dataset": "sachs", "edges": [["Mek", "Erk"]]}}])),
            ("json", completion("Yes: in sachs, inhibiting Mek shifts Erk (Mann-Whitney q < 1e-300); see PMID:15845847.")),
        ])  # fmt: skip
        backend = OpenAIBackend("fake-model", base_url=server.base_url, api_key="k")
        run = Run.create(tmp_path / "wire", {"kind": "ask"})
        answer = ask("Does inhibiting Mek change Erk in sachs?", backend=backend, run=run)
        assert (
            answer.mode == "agent"
            and "Mek shifts Erk" in answer.text
            and answer.citations == ["PMID:15845847"]
        )
        first = server.requests[0]["body"]
        assert {t["function"]["name"] for t in first["tools"]} == set(TOOL_NAMES)
        # the tool result went back to the model as a tool message
        third = server.requests[2]["body"]["messages"]
        tool_msgs = [m for m in third if m["role"] == "tool"]
        assert len(tool_msgs) == 2 and '"significant":true' in tool_msgs[1]["content"].replace(" ", "")
    calls = run.events("tool_call")
    assert [c["tool"] for c in calls] == ["resolve_genes", "validate_edges"] and all(c["ok"] for c in calls)


def test_bad_arguments_are_returned_as_text(toolbox):
    model = ToolFakeModel(messages=iter([
        _call("learn_graph", {"dataset": "sachs", "method": "no_such_learner"}),
        _call("describe_dataset", {"nam": "sachs"}, 1),
        AIMessage(content="I could not learn the graph with that method."),
    ]))  # fmt: skip
    answer = run_agent("learn a graph", model, toolbox, max_steps=6)
    assert answer.text == "I could not learn the graph with that method." and not answer.stopped
    calls = toolbox.run.events("tool_call")
    assert calls[0]["ok"] is False and "not recognised" in calls[0]["result"]
    steps = toolbox.run.events("agent_step")
    assert len(steps) == 3


def test_looping_model_hits_the_step_limit(toolbox):
    model = ToolFakeModel(messages=iter([_call("list_datasets", {}, i) for i in range(50)]))
    answer = run_agent("loop forever", model, toolbox, max_steps=4)
    assert "step limit" in answer.stopped and "Stopped before a final answer" in answer.text
    assert answer.steps <= 5


def test_planner_affects(toolbox):
    a = Planner(toolbox).answer("Does inhibiting Mek change Erk in sachs?")
    assert "In sachs, intervening on Mek shifts Erk" in a.text and "mannwhitney" in a.text
    assert "reference graph has a direct edge Mek -> Erk" in a.text
    kinds = [e["tool"] for e in toolbox.run.events("tool_call")]
    assert kinds == ["validate_edges", "evidence_for"]


def test_planner_regulators(toolbox):
    a = Planner(toolbox).answer("What regulates MYC?")
    assert "Curated regulators of MYC" in a.text and "STAT3" in a.text


def test_planner_prediction(toolbox):
    a = Planner(toolbox).answer("What would perturbing PKC do in sachs?")
    assert "Predicted effects of perturbing PKC" in a.text and "held-out measurement" in a.text


def test_planner_next_experiment(toolbox):
    a = Planner(toolbox).answer("Which experiment should I run next in sachs?")
    assert a.text.startswith("Suggested next perturbations in sachs")
    assert [e["tool"] for e in toolbox.run.events("tool_call")][-1] == "suggest_experiments"


def test_planner_unknown_question(toolbox):
    a = Planner(toolbox).answer("Hello there")
    assert "I can answer" in a.text


def test_genes_in_question():
    assert genes_in_question("Does inhibiting Mek change Erk in sachs?") == ["Mek", "Erk"]
    assert genes_in_question("What regulates MYC in K562 cells?")[0] == "MYC"


def test_tools_are_plain_functions(toolbox):
    r = toolbox.resolve_genes(["Raf"])
    assert r.genes[0].symbols == ["ARAF", "BRAF", "RAF1"]
    g = toolbox.learn_graph("sachs", "correlation")
    assert g.handle.startswith("scores:") and 0.5 < g.metrics["consensus"] < 0.7
    v = toolbox.validate_edges("sachs", handle=g.handle, top=3)
    assert len(v.edges) == 3
    s = toolbox.suggest_experiments("sachs", k=2)
    assert len(s.suggestions) == 2
    summary = toolbox.get_run_summary()
    assert "scores:1" in summary.handles
    assert json.loads(toolbox.describe_dataset("sachs").model_dump_json())["genes"][0] == "Raf"


def test_every_tool_result_is_bounded(tmp_path):
    """Asking for everything gets the cap and says so; the cap is in the schema the model sees."""
    from aitia.tools.registry import TOOL_NAMES, call_tool, langchain_tools
    from aitia.tools.toolbox import CAPS, MAX_RESULT_CHARS

    tb = ToolBox(run=Run.create(tmp_path / "r", {"k": "caps"}))
    out = tb.lookup_prior("TP53", direction="out", limit=100_000)
    assert len(out.edges) == CAPS["limit"] and "limit=100000 capped at 50" in out.truncated
    assert "more edges" in out.truncated
    res = tb.resolve_genes([f"GENE{i}" for i in range(500)])
    assert len(res.genes) == CAPS["names"] and "450 more names" in res.truncated
    sug = tb.suggest_experiments("sachs", k=10_000)
    assert len(sug.suggestions) <= CAPS["k"] and "capped" in sug.truncated
    val = tb.validate_edges("sachs", edges=[["Mek", "Erk"]] * 300)
    assert len(val.edges) <= CAPS["edges"] and "200 more edges" in val.truncated
    text = call_tool(tb, "describe_dataset", {"name": "sachs"})
    assert len(text) <= MAX_RESULT_CHARS + 100
    schemas = {t.name: str(t.args_schema.model_json_schema()) for t in langchain_tools(tb)}
    assert "at most 20" in schemas["search_literature"] and "at most 50" in schemas["lookup_prior"]
    assert set(schemas) == set(TOOL_NAMES)
