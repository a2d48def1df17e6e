import subprocess
import sys

import pytest


def test_import_is_light():
    """import aitia (and its datasets/causal types) must not pull torch, chromadb, langchain or transformers."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'torch','chromadb','langchain','langchain_core','sentence_transformers','transformers'}:\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import aitia, aitia.config, aitia.datasets, aitia.causal, aitia.knowledge, aitia.tools, aitia.orchestrator\n"
        "import aitia.causal.learners, aitia.causal.perturbation, aitia.prompts\n"
        "aitia.datasets.list_datasets()\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_unknown_attribute():
    import aitia

    with pytest.raises(AttributeError):
        _ = aitia.does_not_exist


def test_settings_defaults_and_env(monkeypatch, tmp_path):
    from aitia.config import Settings

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AITIA_LLM_BASE_URL", raising=False)
    monkeypatch.setenv("AITIA_HOME", str(tmp_path))
    s = Settings()
    assert s.home == tmp_path
    assert s.llm_backend == "none"
    assert s.runs_dir == tmp_path / "runs"
    monkeypatch.setenv("AITIA_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    assert Settings().llm_backend == "openai"
    monkeypatch.setenv("AITIA_DEVICE", "tpu")
    with pytest.raises(ValueError):
        Settings()


def test_settings_toml(monkeypatch, tmp_path):
    from aitia.config import Settings

    (tmp_path / "config.toml").write_text('llm_model = "my-model"\nseed = 7\n')
    monkeypatch.setenv("AITIA_HOME", str(tmp_path))
    s = Settings()
    assert s.llm_model == "my-model" and s.seed == 7
    monkeypatch.setenv("AITIA_SEED", "11")
    assert Settings().seed == 11  # env beats file


def test_default_home(monkeypatch):
    from pathlib import Path

    from aitia.config import Settings

    monkeypatch.delenv("AITIA_HOME", raising=False)
    assert Settings().home == Path("~/.aitia").expanduser()


def test_wheel_contains_every_package_and_data(tmp_path):
    """A built wheel (not just the editable install) carries every subpackage and the shipped data."""
    import zipfile

    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "."],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {out.stderr[-300:]}")
    names = zipfile.ZipFile(next(tmp_path.glob("aitia-*.whl"))).namelist()
    for pkg in (
        "aitia/orchestrator/__init__.py",
        "aitia/tools/__init__.py",
        "aitia/causal/learners/__init__.py",
        "aitia/prompts/pairwise_v1.md",
        "aitia/datasets/files/sachs/sachs_consensus_18edges.csv",
        "aitia/knowledge/files/hgnc/hgnc_entries.tsv.gz",
    ):
        assert pkg in names, pkg
