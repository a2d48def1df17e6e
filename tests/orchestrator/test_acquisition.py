"""Acquisition strategies: a registry like the learners', each ranking candidates reproducibly."""

import numpy as np
import pytest

from aitia.causal import acquisition as A
from aitia.errors import AitiaError
from aitia.orchestrator import rerank as _rerank  # noqa: F401 - llm_rerank joins the strategy contract
from aitia.orchestrator.loop import LoopConfig, run_loop

GENES = [f"G{i}" for i in range(8)]


def _mats(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random((8, 8)) for _ in range(3)]


@pytest.mark.parametrize("name", A.available())
def test_strategy_contract(name):
    cands = ["G1", "G3", "G4", "G6", "NOT_MEASURED"]
    picks = A.get(name, seed=3).rank(_mats(), GENES, cands, k=3, prior=np.eye(8))
    assert len(picks) == 3 and len({p.perturbation for p in picks}) == 3
    assert all(p.perturbation in cands[:4] and p.reason for p in picks)
    again = A.get(name, seed=3).rank(_mats(), GENES, cands, k=3, prior=np.eye(8))
    assert [p.perturbation for p in again] == [p.perturbation for p in picks]  # reproducible
    assert A.get(name).rank(_mats(), GENES, ["NOT_MEASURED"], k=2) == []


def test_information_gain_prefers_uncertain_rows_and_batches_are_diverse():
    probs = np.tile([0.0, 1.0], (8, 4))  # confident rows: edges clearly absent or present
    probs[2] = 0.5  # G2's outgoing edges sit in the middle of the ranking: the most uncertain
    first = A.get("information_gain", diversity=0.0).rank([probs], GENES, GENES, k=1)[0]
    assert first.perturbation == "G2"
    # with a diversity penalty, a second pick avoids a profile identical to the first
    probs[2] = probs[5] = np.linspace(0.4, 0.6, 8)  # two uncertain rows with the same profile
    plain = A.get("uncertainty", diversity=0.0).rank([probs], GENES, ["G2", "G5", "G1"], k=2)
    diverse = A.get("uncertainty", diversity=5.0).rank([probs], GENES, ["G2", "G5", "G1"], k=2)
    assert {p.perturbation for p in plain} == {"G2", "G5"} and diverse[1].perturbation == "G1"
    with pytest.raises(AitiaError, match="Did you mean"):
        A.get("informaton_gain")


def test_loop_uses_the_configured_strategy(tmp_path):
    cfg = LoopConfig(dataset="dream4-10-1", learners=["correlation"], rounds=1, predictor="", rag=False,
                     acquisition="information_gain")  # fmt: skip
    run_loop(cfg, tmp_path / "r")
    from aitia.run import Run

    choices = [e for e in Run.open(tmp_path / "r").events("experiment_choice") if e["arm"] == "active"]
    assert choices and choices[0]["strategy"] == "information_gain"
    with pytest.raises(AitiaError, match="not recognised"):
        run_loop(LoopConfig(dataset="dream4-10-1", acquisition="oracle"), tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_llm_rerank_orders_the_shortlist_over_the_wire_and_falls_back_offline():
    import json

    from aitia.knowledge.llm import OpenAIBackend
    from aitia.orchestrator.rerank import LLMRerankStrategy

    from .fake_openai import FakeOpenAI, completion

    numeric = A.get("information_gain", seed=1).rank(_mats(), GENES, GENES, k=4)
    last = numeric[-1].perturbation
    offline = LLMRerankStrategy(backend="none", shortlist=4, seed=1).rank(_mats(), GENES, GENES, k=2)
    assert [p.perturbation for p in offline] == [p.perturbation for p in numeric[:2]]
    assert "no LLM configured" in offline[0].reason
    with FakeOpenAI() as server:
        server.script.extend([
            ("json", completion(json.dumps({"order": [last, "NOT_A_CANDIDATE"], "reasons": {last: "a hub upstream of the rest"}}))),
            ("json", completion("I would rather not say.")),
        ])  # fmt: skip
        backend = OpenAIBackend("fake-model", base_url=server.base_url, api_key="k")
        s = LLMRerankStrategy(backend=backend, shortlist=4, seed=1)
        picks = s.rank(_mats(), GENES, GENES, k=2)
        assert picks[0].perturbation == last and "a hub upstream" in picks[0].reason  # the LLM's pick first
        assert picks[1].perturbation == numeric[0].perturbation  # the rest keep the numerical order
        prompt = server.requests[0]["body"]["messages"][0]["content"]
        assert all(p.perturbation in prompt for p in numeric)
        garbage = LLMRerankStrategy(backend=backend, shortlist=4, seed=2).rank(_mats(1), GENES, GENES, k=1)
        assert "unusable" in garbage[0].reason


def test_loop_runs_with_llm_rerank_offline(tmp_path):
    cfg = LoopConfig(dataset="sachs", rounds=1, learners=["correlation"], predictor="", rag=False,
                     acquisition="llm_rerank")  # fmt: skip
    from aitia.run import Run

    res = run_loop(cfg, tmp_path / "run")
    active = [c for c in Run.open(tmp_path / "run").events("experiment_choice") if c["arm"] == "active"][0]
    assert active["strategy"] == "llm_rerank" and "numerical order" in active["ranking"][0]["reason"]
    assert res.rounds[0].active.picks


@pytest.mark.parametrize("name", ["information_gain", "uncertainty", "degree"])
def test_ties_are_broken_at_random_not_by_the_candidates_order(name):
    """Identical rows carry no preference: the pick must not follow the list order (DREAM4 numbers its hubs
    first, so an order-following tie break looked like knowledge), and different seeds pick differently."""
    flat = [np.full((8, 8), 0.5)]
    picks = {A.get(name, seed=s).rank(flat, GENES, GENES, k=1)[0].perturbation for s in range(20)}
    assert len(picks) > 3


def test_the_tool_and_the_loop_choose_experiments_by_one_default_rule(tmp_path):
    from aitia.causal.acquisition import DEFAULT_STRATEGY
    from aitia.orchestrator.loop import LoopConfig
    from aitia.run import Run
    from aitia.tools import ToolBox

    assert LoopConfig(dataset="sachs").acquisition == DEFAULT_STRATEGY == "information_gain"
    tb = ToolBox(run=Run.create(tmp_path / "run", {"kind": "test"}))
    tb.learn_graph("sachs", method="correlation")
    picks = tb.suggest_experiments("sachs", k=2).suggestions
    assert len(picks) == 2 and all("expected information" in p.reason for p in picks)
    perturbed = {"Akt", "PKC", "PIP2", "Mek", "PIP3", "PKA"}  # in the data already: no experiment to suggest
    assert not {p.perturbation for p in tb.suggest_experiments("sachs", k=5).suggestions} & perturbed
