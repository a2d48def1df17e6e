"""The hypothesis-to-validation loop end to end on a small simulated dataset; resume after a kill; the report."""

from html.parser import HTMLParser

import pytest

from aitia.causal.simulate import simulate_nb
from aitia.orchestrator import loop as loop_mod
from aitia.orchestrator.loop import LoopConfig, run_loop
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
    assert [r["round"] for r in res.rounds] == [0, 1, 2]
    for r in res.rounds:
        assert 0 <= r["active"]["auroc_true"] <= 1 and "auroc_true" in r["random"]
        assert len(r["active"]["revealed"]) == 1 + r["round"]
    assert "prediction_linear_per_gene_auroc" in res.rounds[0]["active"]
    run = Run.open(res.run_dir)
    types = {e["type"] for e in run.events()}
    assert {"start", "truth", "hypotheses", "metric", "tool_call", "report"} <= types
    assert any(e["type"].startswith("hypothesis:") for e in run.events())
    # the report renders: HTML parses and carries the figures inline
    p = _Imgs()
    p.feed((run.path / "report.html").read_text())
    assert len(p.imgs) == 3 and all(src.startswith("data:image/png;base64,") for src in p.imgs)
    md = (run.path / "report.md").read_text()
    assert "## Accuracy per round" in md and "## Edge evidence" in md
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
    assert [r["round"] for r in res.rounds] == [0, 1, 2]
    events = run.events()
    assert any(e["type"] == "resume" for e in events)
    round0 = [e for e in events if e["type"] == "metric" and e.get("round") == 0]
    assert len(round0) == 2  # round 0 was not recomputed after the resume


def test_changed_config_refuses_to_mix(tmp_path, sim):
    adata, gold = sim
    run_loop(LoopConfig(**{**CFG, "rounds": 0}), tmp_path / "run", adata=adata, gold=gold)
    from aitia.errors import AitiaError

    with pytest.raises(AitiaError, match="different configuration"):
        run_loop(LoopConfig(**{**CFG, "rounds": 1, "seed": 3}), tmp_path / "run", adata=adata, gold=gold)
