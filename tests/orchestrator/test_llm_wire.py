"""LLM wire tests against a real local HTTP server speaking the OpenAI chat-completions protocol."""

import json

import pytest

from aitia.knowledge.hypotheses import HypothesisGenerator, extract_json, yes_probability
from aitia.knowledge.llm import LLMError, OpenAIBackend, ReplyCache

from .fake_openai import FakeOpenAI, completion

PAIR = {"answer": "yes", "probability": 0.8, "direction": "decrease", "rationale": "MEK phosphorylates ERK.",
        "citations": ["PMID:1"]}  # fmt: skip


@pytest.fixture
def server():
    with FakeOpenAI() as s:
        yield s


def backend(server, tmp_path=None, **kw):
    cache = ReplyCache(tmp_path / "cache") if tmp_path else None
    return OpenAIBackend("fake-model", base_url=server.base_url, api_key="k", cache=cache, **kw)


def test_plain_reply_usage_and_cache(server, tmp_path):
    server.script.append(("json", completion("hello")))
    b = backend(server, tmp_path)
    msgs = [{"role": "user", "content": "hi"}]
    r = b.chat(msgs, "p1")
    assert r.text == "hello" and r.prompt_tokens == 12 and r.completion_tokens == 7 and not r.cached
    assert server.requests[0]["body"]["temperature"] == 0.0
    again = b.chat(msgs, "p1")  # from the disk cache: no second request
    assert again.cached and again.text == "hello" and len(server.requests) == 1
    assert b.usage.calls == 1 and b.usage.cache_hits == 1


def test_timeout_is_clear(server):
    server.script.append(("sleep", 2.0, completion("late")))
    b = backend(server, timeout_s=0.3, max_retries=0)
    with pytest.raises(LLMError, match="timed out"):
        b.chat([{"role": "user", "content": "x"}], "p")
    assert b.usage.failures == 1


def test_429_then_success(server):
    server.script.extend([("status", 429), ("status", 503), ("json", completion("ok"))])
    r = backend(server, max_retries=3).chat([{"role": "user", "content": "x"}], "p")
    assert r.text == "ok" and len(server.requests) == 3


def test_persistent_500_fails_after_retries(server):
    server.script.extend([("status", 500)] * 3)
    with pytest.raises(LLMError, match="HTTP 500"):
        backend(server, max_retries=2).chat([{"role": "user", "content": "x"}], "p")
    assert len(server.requests) == 3


def test_logprobs_give_probability(server):
    text = json.dumps(PAIR)
    server.script.append(("json", completion(text, logprobs=[('{"', -0.01, {}), ("answer", -0.01, {}), ('":"', -0.01, {}),
                                                             ("yes", -0.2, {"yes": -0.2, "no": -1.8})])))  # fmt: skip
    r = backend(server).chat([{"role": "user", "content": "x"}], "p", logprobs=True)
    assert server.requests[0]["body"]["logprobs"] is True
    p = yes_probability(r)
    assert p == pytest.approx(1 / (1 + 2.718281828 ** (-1.6)), rel=1e-3)


def test_generator_pairwise_with_repair_and_rejection(server, tmp_path):
    # pair 1: valid; pair 2: malformed then repaired; pair 3: malformed twice -> rejected
    server.script.extend([
        ("json", completion(json.dumps(PAIR))),
        ("json", completion("Sure! The answer is probably yes.")),
        ("json", completion("```json\n" + json.dumps({**PAIR, "probability": 0.3}) + "\n```")),
        ("json", completion("{not json")),
        ("json", completion("still not json")),
    ])  # fmt: skip
    events = []
    gen = HypothesisGenerator(backend=backend(server, tmp_path), store=None, mode="pairwise", descriptions=False,
                              on_event=events.append)  # fmt: skip
    hs = gen.generate(
        ["MAP2K1", "MAPK1"], pairs=[("MAP2K1", "MAPK1"), ("MAPK1", "MAP2K1"), ("MAP2K1", "MAPK3")]
    )
    assert [(h.source, h.target) for h in hs.hypotheses] == [("MAP2K1", "MAPK1"), ("MAPK1", "MAP2K1")]
    assert hs.hypotheses[0].probability == pytest.approx(0.8) and hs.hypotheses[0].relation == "activates"
    assert hs.hypotheses[1].probability == pytest.approx(0.3)
    assert hs.rejected and hs.rejected[0]["target"] == "MAPK3"
    kinds = [e["type"] for e in events]
    assert kinds.count("repair") == 2 and kinds.count("rejected") == 1
    scores = hs.to_scores(["MAP2K1", "MAPK1", "MAPK3"])
    assert scores["MAP2K1", "MAPK1"] == pytest.approx(0.8)


def test_generator_one_to_many(server):
    reply = {"effects": [{"target": "MAPK1", "probability": 0.9, "direction": "decrease"},
                         {"target": "TP53", "probability": 0.1}]}  # fmt: skip
    server.default = lambda req: completion(json.dumps(reply))
    gen = HypothesisGenerator(
        backend=backend(server), store=None, descriptions=False, context="in HeLa cells"
    )
    hs = gen.generate(["MAP2K1", "MAPK1", "TP53"], pairs=[("MAP2K1", "MAPK1"), ("MAP2K1", "TP53")])
    assert {(h.target, h.probability) for h in hs.hypotheses} == {("MAPK1", 0.9), ("TP53", 0.1)}
    sent = server.requests[0]["body"]["messages"][-1]["content"]
    assert "in HeLa cells" in sent and "MAPK1, TP53" in sent


def test_extract_json():
    assert extract_json('Here: {"a": {"b": "}"}} trailing') == {"a": {"b": "}"}}
    with pytest.raises(ValueError):
        extract_json("no json here")
