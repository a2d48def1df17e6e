"""Chroma server mode: a real `chroma run` process on a loopback port; ingest, search and reopen through it."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aitia.errors import AitiaError
from aitia.knowledge.documents import Document
from aitia.knowledge.embeddings import HashingEmbedding
from aitia.knowledge.store import LiteratureStore, built_store

DOCS = [
    Document(
        id="d1", title="p53", text="TP53 strongly induces CDKN1A expression after DNA damage.", year=1995
    ),
    Document(id="d2", title="MAPK", text="MEK phosphorylates ERK in response to growth factors.", year=2015),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(exe).exists():
        pytest.skip("the chroma CLI is not installed")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([exe, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma server did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_ingest_search_reopen_through_a_server(chroma_server, monkeypatch, no_network):
    store = LiteratureStore(url=chroma_server, embedding=HashingEmbedding())
    report = store.add_documents(DOCS, progress=False)
    assert report.chunks_added == 2 and store.location == chroma_server
    hits = store.search("MEK ERK phosphorylation", k=1, genes=["MAPK1"])
    assert hits[0].doc_id == "d2"
    # another analyst: AITIA_STORE_URL alone reopens the shared store with the embedding it was built with
    monkeypatch.setenv("AITIA_STORE_URL", chroma_server)
    from aitia.config import get_settings

    get_settings.cache_clear()
    again = built_store()
    assert again is not None and again.count() == 2 and again.embedding.name() == HashingEmbedding().name()
    assert again.search("p53 induces p21", k=1)[0].doc_id == "d1"
    assert again.add_documents(DOCS, progress=False).chunks_added == 0  # idempotent across clients


def test_dead_server_is_one_clear_line():
    with pytest.raises(AitiaError, match="Could not reach the chroma server"):
        LiteratureStore(url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(AitiaError, match="must look like"):
        LiteratureStore(url="chroma-host-without-scheme")
