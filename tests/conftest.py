"""Shared fixtures: tiny real objects (a simulated SCM with a known DAG, the shipped datasets)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own AITIA_HOME so nothing touches ~/.aitia."""
    monkeypatch.setenv("AITIA_HOME", str(tmp_path / "aitia_home"))
    from aitia.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def small_nb():
    """A 30-gene negative-binomial SCM with 10 knockdowns (5,000 cells) and its true DAG."""
    from aitia.causal.simulate import simulate_nb

    return simulate_nb(n_genes=30, n_cells=5000, n_perturbations=10, seed=3)


@pytest.fixture(scope="session")
def sachs():
    from aitia import datasets

    return datasets.load("sachs")
