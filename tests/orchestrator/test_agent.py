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
    assert "Measured in sachs: inhibitor of Mek (u0126)" in a.text and "shifts Erk" in a.text
    assert "mannwhitney" in a.text and "3 of 3 have a direct edge Mek -> Erk" in a.text
    kinds = [e["tool"] for e in toolbox.run.events("tool_call")]
    assert kinds == ["validate_edges", "evidence_for"]
    # every sentence cites the tool result it came from, and the cited event is that tool call
    assert a.sentences and all(s.sources for s in a.sentences)
    calls = {e["id"]: e["tool"] for e in toolbox.run.events("tool_call")}
    assert calls[a.sentences[0].sources[0]] == "validate_edges" and a.sentences[0].kind == "measured"


def test_planner_names_yeast_genes_as_biologists_do(toolbox):
    a = Planner(toolbox).answer("Does deletion of STE5 alter YER040W expression in yeast?")
    assert "Measured in kemmeren-mrcl: knockout of YDR103W (STE5)" in a.text and "YER040W (GLN3)" in a.text
    # the shipped curated networks are human: no "no curated edge" for yeast genes, but why there is none
    assert "none covers the yeast genes of kemmeren-mrcl" in a.text and "No curated direct edge" not in a.text


def test_planner_compares_every_learner_a_question_names(toolbox):
    a = Planner(toolbox).answer("Which is the better learner on dream4-10-1, PC or correlation?")
    calls = [e["arguments"]["method"] for e in toolbox.run.events("tool_call") if e["tool"] == "learn_graph"]
    assert calls == ["pc", "correlation"]
    assert "Compared on dream4-10-1 (AUROC" in a.text and all(s.sources for s in a.sentences)


def test_planner_reads_the_curated_sign_for_the_perturbation_asked_about(toolbox):
    a = Planner(toolbox).answer("What would a JAK2 inhibitor do to STAT5A?")
    assert "By the curated sign, inhibiting JAK2 should lower STAT5A" in a.text
    b = Planner(toolbox).answer("Does knocking out PTEN change AKT1?")
    assert "knocking out PTEN should raise AKT1" in b.text
    assert "By the curated sign" not in Planner(toolbox).answer("Does JAK2 regulate STAT5A?").text  # no perturbation
    # no direct curated edge: the shortest curated path, and its net sign for the perturbation
    c = Planner(toolbox).answer("Would inhibiting EGFR lower MYC?")
    assert "No curated direct edge EGFR -> MYC" in c.text and "Curated indirect path (" in c.text
    assert "By the curated sign of the indirect path, inhibiting EGFR should" in c.text


def test_an_experiment_to_tell_two_named_hypotheses_apart(toolbox):
    a = Planner(toolbox).answer("Which experiment would best distinguish between Raf -> Mek and Mek -> Raf?")
    assert "already perturb Mek" in a.text and "Suggested next perturbations in sachs: Raf (" in a.text


def test_planner_regulators(toolbox):
    a = Planner(toolbox).answer("What regulates MYC?")
    assert "Curated regulators of MYC" in a.text and "STAT3" in a.text
    a = Planner(toolbox).answer("What are the known transcriptional regulators of MYC?")
    assert "regulators of MYC" in a.text and "targets of MYC" not in a.text


def test_planner_direction_targets_not_regulators(toolbox):
    a = Planner(toolbox).answer("What does PKC regulate in T-cell signalling?")
    assert (
        a.parse.intent == "targets"
        and "Curated targets of PKC" in a.text
        and "regulators of PKC" not in a.text
    )
    assert "inhibitor of PKC (g0076)" in a.text and "Raf" in a.text
    # regulators of a measured protein come from the data first
    b = Planner(toolbox).answer("Which kinases phosphorylate Erk?")
    assert b.parse.intent == "regulators" and b.sentences[0].kind == "measured" and "shift Erk" in b.text


def test_planner_unknown_and_misspelled_genes(toolbox):
    a = Planner(toolbox).answer("Does FOOBAR1 regulate TP53?")
    assert "'FOOBAR1' is not a known gene" in a.text and "TP53" not in a.text.replace("regulate TP53", "")
    assert not [s for s in a.sentences if s.kind in ("curated", "measured")]
    b = Planner(toolbox).answer("Does TP35 activate CDKN1A?")
    assert "Did you mean TP53" in b.text and not [s for s in b.sentences if s.kind == "curated"]


def test_planner_data_questions_use_measurements(toolbox):
    a = Planner(toolbox).answer("Which proteins change when PKA is activated?")
    assert a.parse.intent == "perturbation_effect" and "activator of PKA (b2camp)" in a.text
    assert "Mek (-1.20" in a.text and not [s for s in a.sentences if s.kind == "prediction"]
    # a protein nobody perturbed: the answer says so and labels the prediction as one
    b = Planner(toolbox).answer("What would perturbing Erk do in sachs?")
    assert "Erk was not intervened on" in b.text and "Prediction, not a measurement" in b.text


def test_planner_consults_every_reference(toolbox):
    a = Planner(toolbox).answer("Does Erk regulate Akt?")
    assert "2 of 3 have a direct edge Erk -> Akt (bnlearn, tetrad); consensus does not" in a.text


def test_planner_phrasings(toolbox):
    a = Planner(toolbox).answer("What would knocking out G5 do in DREAM4 network 1 of size 10?")
    assert "Measured in dream4-10-1: knockout of G5" in a.text and "Curated" not in a.text
    b = Planner(toolbox).answer("Compare the learned sachs graph with the consensus")
    assert "AUROC consensus" in b.text and "in the consensus graph" in b.text


def test_planner_prediction(toolbox):
    a = Planner(toolbox).answer("Predict the effect of perturbing Raf in sachs.")
    assert "Prediction, not a measurement" in a.text


def test_planner_next_experiment(toolbox):
    a = Planner(toolbox).answer("Which experiment should I run next in sachs?")
    assert a.text.startswith("Suggested next perturbations in sachs")
    assert [e["tool"] for e in toolbox.run.events("tool_call")][-1] == "suggest_experiments"


def test_planner_unknown_question(toolbox):
    a = Planner(toolbox).answer("Hello there")
    assert "I can answer" in a.text


def test_planner_literature_sentences_are_whole_and_unique(tmp_path):
    from aitia.knowledge.documents import Document
    from aitia.knowledge.embeddings import HashingEmbedding
    from aitia.knowledge.store import LiteratureStore

    text = "TP53 strongly induces CDKN1A expression after DNA damage (p21Cip1). This arrests the cell cycle in G1."
    docs = [Document(id=f"d{i}", title="p53", text=text, year=2000, source="toy") for i in range(3)]
    store = LiteratureStore(tmp_path / "store", embedding=HashingEmbedding())
    store.add_documents(docs, progress=False)
    tb = ToolBox(run=Run.create(tmp_path / "run", {"kind": "test"}), store=store)
    ev = tb.evidence_for("TP53", "CDKN1A")
    assert len(ev.claims) == 3 and all(c.endswith("(p21Cip1).") for c in ev.claims)  # one per document, whole
    a = Planner(tb).answer("What regulates CDKN1A?")
    lit = [s for s in a.sentences if s.kind == "literature"]
    assert lit and lit[0].text.count("(p21Cip1).") == 1  # three identical passages collapse into one


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


def test_auto_backend_falls_back_to_the_planner_when_the_endpoint_is_dead(tmp_path, monkeypatch):
    import socket

    with socket.socket() as sock:  # a loopback port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AITIA_LLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("AITIA_LLM_MAX_RETRIES", "0")
    monkeypatch.setenv("AITIA_LLM_TIMEOUT_S", "2")
    monkeypatch.delenv("AITIA_LLM_BACKEND", raising=False)
    from aitia.config import get_settings

    get_settings.cache_clear()
    run = Run.create(tmp_path / "auto", {"kind": "ask"})
    a = ask("Does inhibiting Mek change Erk in sachs?", run=run)
    assert a.mode == "planner" and a.text.startswith("(The LLM was unavailable") and "shifts Erk" in a.text
    assert run.events("llm_fallback")
    # asked for explicitly, the same failure is one clear error naming the settings
    from aitia.knowledge.llm import LLMError

    with pytest.raises(LLMError, match="AITIA_LLM_BASE_URL"):
        ask("Does inhibiting Mek change Erk in sachs?", backend="openai", run=Run.create(tmp_path / "x", {}))


@pytest.fixture
def my_phospho():
    """Sachs as a user's own data: no reagents, no intervention types, no shipped truth; registered for the test."""
    from aitia import datasets

    ad = datasets.load("sachs")
    ad.obs = ad.obs[["perturbation", "context"]].copy()
    ad.uns = {}
    name = datasets.register_data("my-phospho", ad)
    yield name
    datasets.unregister_data(name)


def test_questions_about_the_users_registered_data(toolbox, my_phospho):
    from aitia import datasets

    assert datasets.default_dataset() == my_phospho and datasets.organism_of(datasets.load(my_phospho)) == "unknown"
    a = Planner(toolbox).answer("Does inhibiting Mek change Erk?")  # names no dataset: the user's data first
    assert "Measured in my-phospho: perturbation of Mek" in a.text and "shifts Erk" in a.text
    assert "has no inhibit intervention" not in a.text  # the data do not say the kind: nothing to contrast
    d = Planner(toolbox).answer("Describe the data")
    assert d.parse.intent == "describe_dataset" and "my-phospho: 7466 samples" in d.text and "none shipped" in d.text
    c = Planner(toolbox).answer("How good is a pc graph?")
    assert "AUROC interventional 0.6" in c.text  # scored against its own interventions
    with pytest.raises(Exception, match="built-in dataset"):
        datasets.register_data("sachs", datasets.load("sachs"))


def test_unregistered_data_leave_the_defaults_as_they_were(toolbox):
    from aitia import datasets

    assert datasets.default_dataset() == "sachs"
    a = Planner(toolbox).answer("Does inhibiting Mek change Erk?")
    assert "Measured in sachs: inhibitor of Mek (u0126)" in a.text
