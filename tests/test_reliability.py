"""The reliability probes: every user mistake is one line and exit code 2, nothing is accepted silently, runs are
exclusive and resume deterministically, dead LLM endpoints fail fast and loudly."""

import json
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from aitia import datasets
from aitia.cli import USER_ERROR, app
from aitia.errors import AitiaError, DataValidationError

runner = CliRunner()


def _user_error(args, match):
    res = runner.invoke(app, args)
    assert res.exit_code == USER_ERROR, res.output
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("error:"), res.output
    assert match.lower() in res.output.lower(), res.output
    return res


BAD_GRAPHS = {
    "empty.graphml": (b"", "is empty"),
    "broken.graphml": (b"<graphml><graph", "could not read"),
    "binary.graphml": (bytes(range(256)) * 2, "could not read"),
    "entities.graphml": (
        b'<?xml version="1.0"?><!DOCTYPE g [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        b'<graphml><graph edgedefault="directed"><node id="&b;"/></graph></graphml>',
        "entity",
    ),
    "score.csv": (b"source,target,score\nRaf,Mek,high\n", "not a number"),
    "sign.csv": (b"source,target,sign\nRaf,Mek,up\n", "not a number"),
    "broken.json": (b'{"nodes": [', "could not read"),
    "shape.json": (b"[1, 2]", "node-link"),
    "short.sif": (b"Raf activates\n", "sif lines"),
}


@pytest.mark.parametrize("name", sorted(BAD_GRAPHS))
def test_bad_graph_files_are_one_line_errors(tmp_path, name):
    data, match = BAD_GRAPHS[name]
    (tmp_path / name).write_bytes(data)
    _user_error(["validate", "--graph", str(tmp_path / name), "--dataset", "sachs"], match)


def test_directory_and_missing_paths(tmp_path):
    _user_error(["validate", "--graph", str(tmp_path), "--dataset", "sachs"], "is a directory")
    _user_error(["predict", "--dataset", str(tmp_path / "missing.h5ad")], "names no existing data file")
    _user_error(["ingest", str(tmp_path / "nothing.jsonl")], "no such file")


def test_outputs_refuse_to_overwrite_and_create_parents(tmp_path):
    out = tmp_path / "new" / "dir" / "truth.csv"
    res = runner.invoke(app, ["truth", "--dataset", "dream4-10-1", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert out.exists()
    _user_error(["truth", "--dataset", "dream4-10-1", "--out", str(out)], "--force")
    res = runner.invoke(app, ["truth", "--dataset", "dream4-10-1", "--out", str(out), "--force", "--json"])
    assert res.exit_code == 0, res.output
    _user_error(
        ["learn", "--dataset", "sachs", "--method", "correlation", "--out", str(out)], "not a directory"
    )
    res = runner.invoke(
        app, ["learn", "--dataset", "sachs", "--method", "correlation", "--out", str(tmp_path / "l")]
    )
    assert res.exit_code == 0, res.output
    _user_error(
        ["learn", "--dataset", "sachs", "--method", "correlation", "--out", str(tmp_path / "l")], "--force"
    )


def test_invalid_option_values(tmp_path):
    _user_error(["loop", "--rounds", "-1", "--out", str(tmp_path / "r")], "rounds")
    assert not (tmp_path / "r").exists()
    _user_error(["loop", "--learners", "correlatoin", "--out", str(tmp_path / "r2")], "did you mean")
    assert not (tmp_path / "r2").exists()  # validated before anything was written


@pytest.mark.parametrize("fmt,body", [
    ("jsonl", b'{"pmid": 1, "abstract": "caf\xe9 TP53 induces CDKN1A"}\n'),
    ("csv", b"pmid,abstract\n1,caf\xe9 TP53 induces CDKN1A\n"),
    ("pubtator", b"1|t|caf\xe9\n1|a|TP53 induces CDKN1A\n\n"),
])  # fmt: skip
def test_non_utf8_corpus(tmp_path, fmt, body):
    path = tmp_path / f"corpus.{'txt' if fmt == 'pubtator' else fmt}"
    path.write_bytes(body)
    _user_error(
        ["ingest", str(path), "--format", fmt, "--store", str(tmp_path / "s"), "--embedding", "hashing"],
        "utf-8",
    )


def test_duplicated_gene_columns_are_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("perturbation,A,B,A\ncontrol,1,2,3\nA,0,1,2\n")
    with pytest.raises(DataValidationError, match=r"^x.csv: duplicated column names \['A'\]"):  # said once
        datasets.read_table(path)


def test_truncated_run_files_resume(tmp_path):
    from aitia.run import Run

    run = Run.create(tmp_path / "r", {"dataset": "x", "rounds": 2})
    run.log("note")
    (tmp_path / "r" / "config.json").write_text('{"dataset": "x", "ro')  # a kill mid-write
    again = Run.create(tmp_path / "r", {"dataset": "x", "rounds": 2})  # restored from the trace's start event
    assert json.loads((tmp_path / "r" / "config.json").read_text()) == {"dataset": "x", "rounds": 2}
    with pytest.raises(AitiaError, match="different configuration"):
        Run.create(tmp_path / "r", {"dataset": "x", "rounds": 3})
    with open(again.trace_path, "a") as fh:
        fh.write('{"type": "x')  # a torn last line
    again.log("after")
    types = [e["type"] for e in again.events()]
    assert types[-2:] == ["resume", "after"]


def test_run_lock(tmp_path):
    from aitia.run import Run

    run = Run.create(tmp_path / "r", {"k": 1})
    with run.exclusive():
        child = subprocess.run(
            [sys.executable, "-c", "from aitia.run import Run\n"
             f"r = Run.create({str(tmp_path / 'r')!r}, {{'k': 1}})\n"
             "with r.exclusive(): pass"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert child.returncode != 0 and "is in use by process" in child.stderr
    # a lock left by a process that is gone is taken over
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    run.lock_path.write_text(
        json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(), "since": time.time()})
    )
    with run.exclusive():
        pass
    assert any(e["type"] == "stale_lock_removed" for e in run.events()) and not run.lock_path.exists()


def test_ask_run_directories_are_unique(tmp_path):
    from aitia.orchestrator.agent import ask

    a = ask("What regulates MYC?", backend="none")
    b = ask("What regulates MYC?", backend="none")
    assert a.run_dir != b.run_dir


def test_learners_refuse_degenerate_input(sachs):
    from aitia.causal import learners

    one_gene = sachs[:, :1].copy()
    constant = sachs.copy()
    constant.X = np.asarray(constant.X).copy()
    constant.X[:, 2] = 1.0
    for name in learners.available():
        with pytest.raises(DataValidationError, match="at least 2 genes"):
            learners.get(name).fit(one_gene)
        with pytest.raises(DataValidationError, match="never vary"):
            learners.get(name).fit(constant)
        with pytest.raises(DataValidationError, match="at least 3 samples"):
            learners.get(name).fit(sachs[:1].copy())


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_dead_llm_endpoint_fails_fast_and_loudly(monkeypatch):
    from aitia.config import get_settings
    from aitia.knowledge.hypotheses import HypothesisGenerator
    from aitia.knowledge.llm import LLMError, get_backend

    monkeypatch.setenv("AITIA_LLM_BASE_URL", f"http://127.0.0.1:{_closed_port()}/v1")
    monkeypatch.setenv("AITIA_LLM_MAX_RETRIES", "0")
    get_settings.cache_clear()
    t0 = time.perf_counter()
    with pytest.raises(LLMError, match="Every LLM call failed"):
        HypothesisGenerator(backend="openai", rag=False).generate(["TP53", "MDM2"])
    assert time.perf_counter() - t0 < 15
    monkeypatch.delenv("AITIA_LLM_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    get_settings.cache_clear()
    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        get_backend("openai")
    get_settings.cache_clear()


def test_download_failure_is_one_line_and_resumable(tmp_path):
    with pytest.raises(DataValidationError, match="Download of .* failed"):
        datasets.download(f"http://127.0.0.1:{_closed_port()}/x.h5ad", tmp_path / "x.h5ad", timeout_s=5)
    assert not (tmp_path / "x.h5ad").exists()
