"""The hypothesis-to-validation loop end to end on a small simulated dataset; resume after a kill; the report."""

from html.parser import HTMLParser
from pathlib import Path

import pytest

from aitia import datasets
from aitia.causal.simulate import simulate_nb
from aitia.orchestrator import loop as loop_mod
from aitia.orchestrator.loop import LoopConfig, LoopRound, run_loop
from aitia.run import Run


@pytest.fixture(scope="module")
def sim():
    adata, graph = simulate_nb(n_genes=15, n_cells=3000, n_perturbations=6, knockdown_factor=0.1, seed=7)
    return adata, {"true": graph}


CFG = dict(
    dataset="simulated", learners=["correlation", "supervised"], rounds=2, predictor="linear", rag=False
)


class _Imgs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs)["src"])


def test_loop_end_to_end(tmp_path, sim):
    adata, gold = sim
    res = run_loop(LoopConfig(**CFG), tmp_path / "run", adata=adata, gold=gold)
    assert [r.round for r in res.rounds] == [0, 1, 2]
    for r in res.rounds:
        assert 0 <= r.active.auroc["true"] <= 1 and "true" in r.random.auroc
        assert len(r.active.revealed) == 1 + r.round
    assert "linear" in res.rounds[0].active.prediction and res.rounds[0].active.picks
    run = Run.open(res.run_dir)
    types = {e["type"] for e in run.events()}
    assert {"start", "truth", "hypotheses", "metric", "learner_fit", "experiment_choice", "report"} <= types
    assert "tool_call" not in types  # the loop calls no tool: the trace says what happened
    # simulated genes (G3 is an alias of a human gene) get no knowledge, and the trace and report say why
    hyp = next(e for e in run.events() if e["type"] == "hypotheses")
    assert hyp["n"] == 0 and "in-silico" in hyp["generator"]
    # the report renders: HTML parses and carries the figures inline
    p = _Imgs()
    p.feed((run.path / "report.html").read_text())
    assert len(p.imgs) == 3 and all(src.startswith("data:image/png;base64,") for src in p.imgs)
    md = (run.path / "report.md").read_text()
    assert "## Accuracy per round" in md and "## Edge evidence" in md
    # which learners improved with the revealed interventions (the issue: "report per round which improved")
    assert "## Learners per round" in md and f"From round 0 to round {res.rounds[-1].round}" in md
    header = next(
        ln for ln in md.splitlines() if ln.startswith("| round | ") and "source" in ln and "arm" not in ln
    )
    for name, auroc in res.rounds[-1].active.members.items():
        assert f" {name} |" in header and f"{auroc:.3f}" in md
    assert (run.path / "graphs" / "round2.graphml").exists() and (run.path / "config.json").exists()


def test_resume_after_kill(tmp_path, sim, monkeypatch):
    adata, gold = sim
    calls = {"n": 0}
    real = loop_mod._predict_heldout

    def dies_in_round_1(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:  # the second round's prediction: simulate a kill
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(loop_mod, "_predict_heldout", dies_in_round_1)
    with pytest.raises(KeyboardInterrupt):
        run_loop(LoopConfig(**CFG), tmp_path / "run", adata=adata, gold=gold)
    run = Run.open(tmp_path / "run")
    assert len(run.load_state()["rounds"]) == 1
    monkeypatch.setattr(loop_mod, "_predict_heldout", real)
    res = run_loop(LoopConfig(**CFG), tmp_path / "run", adata=adata, gold=gold)
    assert [r.round for r in res.rounds] == [0, 1, 2]
    events = run.events()
    assert len({e["id"] for e in events}) == len(events)  # event ids stay unique across the resume
    assert any(e["type"] == "resume" for e in events)
    round0 = [e for e in events if e["type"] == "metric" and e.get("round") == 0]
    assert len(round0) == 2  # round 0 was not recomputed after the resume
    # the resumed run is the run the user asked for: same picks and numbers as an uninterrupted one
    whole = run_loop(LoopConfig(**CFG), tmp_path / "whole", adata=adata, gold=gold)
    ids = {"event", "choice_event"}  # trace ids differ: the resumed trace holds more events
    assert [r.model_dump(exclude={"active": ids, "random": ids}) for r in res.rounds] == [
        r.model_dump(exclude={"active": ids, "random": ids}) for r in whole.rounds
    ]


def test_changed_config_refuses_to_mix(tmp_path, sim):
    adata, gold = sim
    run_loop(LoopConfig(**{**CFG, "rounds": 0}), tmp_path / "run", adata=adata, gold=gold)
    from aitia.errors import AitiaError

    with pytest.raises(AitiaError, match="different configuration"):
        run_loop(LoopConfig(**{**CFG, "rounds": 1, "seed": 3}), tmp_path / "run", adata=adata, gold=gold)


def test_report_claims_resolve_to_trace_events(tmp_path, sim):
    """Every number in the report cites an event; every cited id is one line of trace.jsonl, of the right kind."""
    import re

    adata, gold = sim
    res = run_loop(LoopConfig(**{**CFG, "rounds": 1}), tmp_path / "run", adata=adata, gold=gold)
    run = Run.open(res.run_dir)
    by_id = {e["id"]: e for e in run.events()}
    md = (run.path / "report.md").read_text()
    body = md[: md.index("## Trace events cited")]
    rows = [
        ln
        for ln in body.splitlines()
        if ln.startswith("| ") and not ln.startswith("| round") and not ln.startswith("| edge")
    ]
    assert rows and all(re.search(r"\[e\d+\]\(#e\d+\)", ln) for ln in rows)  # each table row cites
    cited = re.findall(r"\[(e\d+)\]\(#e\d+\)", body)
    assert cited and all(c in by_id for c in cited)
    kinds = {by_id[c]["type"] for c in cited}
    assert {"metric", "experiment_choice", "edge_check", "hypotheses"} <= kinds
    # the cited metric event holds the very number the table shows
    m = next(by_id[c] for c in cited if by_id[c]["type"] == "metric")
    assert f"{m['auroc']['true']:.3f}" in body
    # the appendix anchors every cited event, and the HTML links resolve
    html = (run.path / "report.html").read_text()
    for c in set(cited):
        assert f'id="{c}"' in html and f'href="#{c}"' in html


def test_report_escapes_untrusted_strings(tmp_path):
    from aitia.orchestrator.report import escape_md

    assert escape_md("<img src=x onerror=alert(1)>|x") == "&lt;img src=x onerror=alert(1)&gt;&#124;x"


@pytest.mark.parametrize("name", datasets.list_datasets())
def test_loop_runs_on_builtin_datasets(tmp_path, name):
    """Every built-in dataset runs the loop with its own rules (cells; one wild type; deletions vs wild type)."""
    cfg = LoopConfig(dataset=name, learners=["correlation"], rounds=1, predictor="mean", rag=False)
    res = run_loop(cfg, tmp_path / name)
    assert [r.round for r in res.rounds] == [0, 1]
    assert res.rounds[0].active.heldout_auroc is not None
    assert (tmp_path / name / "report.html").exists()


def test_untrusted_strings_are_escaped_in_both_reports(tmp_path):
    """A document whose id and text carry HTML reaches the report only as text, in markdown and in HTML."""
    from aitia.knowledge.documents import Document
    from aitia.knowledge.embeddings import HashingEmbedding
    from aitia.knowledge.store import LiteratureStore

    evil = '<img src=x onerror="alert(1)">'
    store = LiteratureStore(tmp_path / "store", embedding=HashingEmbedding())
    store.add_documents([Document(id=f"PMID:1{evil}", title="MEK and ERK", text="Mek activates Erk in T cells. " + evil)],
                        progress=False)  # fmt: skip
    cfg = LoopConfig(dataset="sachs", learners=["correlation"], rounds=0, predictor="", rag=True)
    res = run_loop(cfg, tmp_path / "run", store=store)
    md = (tmp_path / "run" / "report.md").read_text()
    html = (tmp_path / "run" / "report.html").read_text()
    hs = (tmp_path / "run" / "hypotheses.json").read_text()
    assert "onerror" in hs  # the citation did travel into the hypotheses ...
    assert "<img" not in md and "&lt;img" in md  # ... and reaches the reports escaped
    assert "<img src=x" not in html and "&lt;img" in html
    assert res.report_md.endswith("report.md")
    assert any(e["type"].startswith("hypothesis:") for e in Run.open(res.run_dir).events())  # real genes: evidence


def test_config_show_and_the_implicit_backend_rule(monkeypatch):
    import json

    from typer.testing import CliRunner

    from aitia.cli import app
    from aitia.config import get_settings

    runner = CliRunner()
    offline = json.loads(runner.invoke(app, ["config", "show", "--json"]).stdout)
    assert offline["offline"] and offline["llm_backend"] == "none"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-test")
    get_settings.cache_clear()
    res = runner.invoke(app, ["config", "show", "--json"])
    payload = json.loads(res.stdout)
    assert payload["llm_backend"] == "openai" and payload["llm_backend_reason"] == "OPENAI_API_KEY is set"
    assert payload["network"] and not payload["offline"] and "sk-secret-test" not in res.stdout
    monkeypatch.setenv(
        "AITIA_LLM_BASE_URL", "http://127.0.0.1:9/v1"
    )  # a dead endpoint: fail fast, after the notice
    get_settings.cache_clear()
    res = runner.invoke(app, ["ask", "Does TP53 regulate MDM2?"])  # implicit (auto): the planner answers
    assert res.exit_code == 0 and "using the openai LLM backend because" in res.output
    assert "AITIA_LLM_BACKEND=none" in res.output and "The LLM was unavailable" in res.output
    res = runner.invoke(
        app, ["ask", "Does TP53 regulate MDM2?", "--llm", "openai"]
    )  # explicit: one clear error
    assert res.exit_code == 2 and "AITIA_LLM_BASE_URL" in res.output and "Traceback" not in res.output
    get_settings.cache_clear()


def test_python_and_cli_run_the_same_loop(tmp_path):
    """One configuration path: the CLI and run_loop resolve the same defaults and give the same rounds."""
    import json

    from typer.testing import CliRunner

    from aitia.cli import app

    res = CliRunner().invoke(app, ["loop", "--dataset", "dream4-10-1", "--learners", "correlation", "--rounds", "1",
                                   "--out", str(tmp_path / "cli"), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    cli_cfg = json.loads((tmp_path / "cli" / "config.json").read_text())
    py = run_loop(LoopConfig(**cli_cfg), tmp_path / "py")
    ids = {"event", "choice_event"}
    cli_rounds = [
        LoopRound.model_validate(r)
        for r in json.loads((tmp_path / "cli" / "state.json").read_text())["rounds"]
    ]
    assert [r.model_dump(exclude={"active": ids, "random": ids}) for r in cli_rounds] == [
        r.model_dump(exclude={"active": ids, "random": ids}) for r in py.rounds
    ]


def test_report_layout_holds_at_1280px_in_a_browser(tmp_path, sim):
    """Headless Chromium renders report.html at 1280 px without horizontal overflow (skipped without a browser)."""
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    adata, gold = sim
    res = run_loop(LoopConfig(**{**CFG, "rounds": 1}), tmp_path / "run", adata=adata, gold=gold)
    page = Path(res.report_html).read_text()
    probe = ("<script>document.body.setAttribute('data-overflow', String(document.documentElement.scrollWidth > "
             "window.innerWidth)); document.body.setAttribute('data-tables', document.querySelectorAll('table').length)"
             "</script></body>")  # fmt: skip
    (tmp_path / "probe.html").write_text(page.replace("</body>", probe))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1000", "--dump-dom"]  # fmt: skip
    dom = subprocess.run([browser, *flags, (tmp_path / "probe.html").as_uri()], capture_output=True, text=True,
                         timeout=120).stdout  # fmt: skip
    assert 'data-overflow="false"' in dom and 'data-tables="3"' in dom  # rounds, learners per round, edges


def test_replicates_give_both_arms_a_confidence_interval(tmp_path):
    """--seeds N: N replicates, each from its own first reveal with an active and a random arm; the report states
    both arms' means and 95% CIs and the paired difference, not one noisy line per arm."""
    from aitia.orchestrator.loop import LoopConfig, run_loop

    cfg = LoopConfig(dataset="sachs", rounds=1, learners=["correlation"], predictor="", rag=False, seeds=3)
    res = run_loop(cfg, tmp_path / "run")
    r0, last = res.rounds[0], res.rounds[-1]
    assert len(last.active_arms()) == 3 and len(last.random_arms()) == 3 and len(r0.random_replicates) == 2
    # a replicate's two arms start from the same first reveal (so round 0 is identical), replicates from their own
    for a, b in zip(r0.active_arms(), r0.random_arms()):
        assert a.revealed == b.revealed and a.auroc == b.auroc
    assert len({tuple(a.revealed) for a in r0.active_arms()}) > 1
    assert all(len(a.revealed) == 2 for a in [*last.active_arms(), *last.random_arms()])
    md = (tmp_path / "run" / "report.md").read_text()
    assert "mean of 3 active replicates, 95% CI [" in md and "mean of 3 random replicates, 95% CI [" in md
    assert "95% CI of the paired difference [" in md and "active, mean of 3 [95% CI]" in md
    # arms that revealed the same genes share one fit: one fit per distinct revealed set and round
    events = Run.open(tmp_path / "run").events()
    for r, record in enumerate(res.rounds):
        fits = [e for e in events if e["type"] == "learner_fit" and e["round"] == r]
        assert len(fits) == len({tuple(a.revealed) for a in [*record.active_arms(), *record.random_arms()]})
    again = run_loop(cfg, tmp_path / "run")  # resuming a finished run repeats nothing and agrees
    assert [a.revealed for a in again.rounds[-1].random_arms()] == [a.revealed for a in last.random_arms()]
    assert [a.revealed for a in again.rounds[-1].active_arms()] == [a.revealed for a in last.active_arms()]
    # run directories written before replicates had an active arm still load
    assert LoopConfig.model_validate({"dataset": "sachs", "random_seeds": 2}).seeds == 2


def test_edge_flags_tell_a_curated_path_from_no_report(tmp_path):
    """An edge the data support and curated knowledge reaches only through a path is not a 'candidate discovery';
    a curated edge without PMIDs cites its database, so it counts as reported."""
    from types import SimpleNamespace

    import numpy as np

    from aitia.knowledge.evidence import evidence_for
    from aitia.knowledge.hypotheses import Hypothesis, HypothesisSet, Provenance
    from aitia.orchestrator.report import check_edges
    from aitia.types.graph import EdgeLabels, EdgeScores

    assert evidence_for("PIP3", "Plcg", prior="messengers").citations == ["curated:Reactome+textbook"]
    genes = ["A", "B", "C"]
    prov = Provenance(generator="evidence (no LLM)", backend="none", model="none")
    hs = HypothesisSet(genes=genes, hypotheses=[
        Hypothesis(source="A", target="B", relation="activates", probability=0.1, path=["A", "X", "B"], provenance=prov),
        Hypothesis(source="A", target="C", relation="causes", probability=0.05, provenance=prov)])  # fmt: skip
    scores = EdgeScores(np.array([[0, 0.9, 0.9], [0, 0, 0], [0, 0, 0]], float), genes)
    truth = SimpleNamespace(labels=EdgeLabels(np.array([[np.nan, 1.0, 1.0]]), ["A"], genes),
                            groups={"source": []}, genes=genes)  # fmt: skip
    run = Run.create(tmp_path / "run", {})
    rows = {r["edge"]: r["flag"] for r in check_edges(run, hs, scores, truth, {}, k=3)}
    assert rows["A -&gt; B"] == "data support it; curated knowledge has only the path A -> X -> B"
    assert rows["A -&gt; C"] == "data support an edge the literature does not report"


def test_resuming_on_other_data_is_refused(tmp_path, sim):
    from aitia.errors import AitiaError

    adata, gold = sim
    cfg = LoopConfig(**{**CFG, "rounds": 0, "learners": ["correlation"], "predictor": ""})
    run_loop(cfg, tmp_path / "run", adata=adata, gold=gold)
    run_loop(cfg, tmp_path / "run", adata=adata, gold=gold)  # the same data: resumes
    edited = adata.copy()
    edited.X = edited.X * 2  # e.g. the user's file re-normalised between two runs
    with pytest.raises(AitiaError, match="data differ from those this run started with"):
        run_loop(cfg, tmp_path / "run", adata=edited, gold=gold)
    assert len(Run.open(tmp_path / "run").events("data")) == 1


def test_a_report_of_data_passed_from_python_re_renders_with_the_data(tmp_path, sim):
    from aitia.errors import AitiaError
    from aitia.orchestrator.loop import rerender_report

    adata, gold = sim
    cfg = LoopConfig(**{**CFG, "rounds": 0, "learners": ["correlation"], "predictor": ""})
    run_loop(cfg, tmp_path / "run", adata=adata, gold=gold)
    with pytest.raises(AitiaError, match="re-render it there"):
        rerender_report(tmp_path / "run")
    md, _ = rerender_report(tmp_path / "run", adata=adata)
    assert md.exists()
