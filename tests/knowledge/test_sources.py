"""Online connectors against a local HTTP server replaying responses in the services' documented formats
(PubMed E-utilities, Europe PMC REST, OmniPath): parsing, rate limits, retries, caching, clean failures."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from typer.testing import CliRunner

from aitia.cli import USER_ERROR, app
from aitia.config import get_settings

REPLAYS = Path(__file__).parent / "replays"


class Replay:
    """A local server: path -> replay file; `fail[path]` = number of 503/429 answers before the real one."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.fail: dict[str, int] = {}
        self.fail_status = 503
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                replay.requests.append((url.path, query))
                if replay.fail.get(url.path, 0) > 0:
                    replay.fail[url.path] -= 1
                    self.send_response(replay.fail_status)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                name = {
                    "/eutils/esearch.fcgi": "esearch.json",
                    "/eutils/efetch.fcgi": "efetch.xml",
                    "/rest/search": "europepmc.json"
                    if query.get("cursorMark") == "*"
                    else "europepmc_last.json",
                    "/omnipath/interactions": "omnipath.tsv",
                }.get(url.path)
                if name is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                body = (REPLAYS / name).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def replay(monkeypatch):
    r = Replay()
    monkeypatch.setenv("AITIA_PUBMED_URL", f"{r.url}/eutils")
    monkeypatch.setenv("AITIA_EUROPEPMC_URL", f"{r.url}/rest")
    monkeypatch.setenv("AITIA_OMNIPATH_URL", f"{r.url}/omnipath")
    get_settings.cache_clear()
    yield r
    r.server.shutdown()
    get_settings.cache_clear()


def test_pubmed_search_fetch_cache_and_key(replay, monkeypatch):
    from aitia.knowledge.sources import PubMed

    monkeypatch.setenv("AITIA_NCBI_API_KEY", "secret-key")
    get_settings.cache_clear()
    pm = PubMed()
    docs = pm.documents("MAP2K1 AND MAPK1", max_results=5)
    assert [d.id for d in docs] == ["PMID:10567369"]  # the record without an abstract is skipped
    d = docs[0]
    assert (
        d.year == 1999 and d.title == "MEK1 activates ERK2 in T cells." and d.journal.startswith("Molecular")
    )
    assert d.text.startswith("BACKGROUND: MAP2K1 phosphorylates") and "RESULTS: Inhibition" in d.text
    (path, q), _ = replay.requests[0], replay.requests[1]
    assert path == "/eutils/esearch.fcgi" and q["term"] == "MAP2K1 AND MAPK1" and q["api_key"] == "secret-key"
    assert pm.client.min_interval == pytest.approx(0.1)  # 10 requests/s with a key, 3 without
    n = len(replay.requests)
    assert PubMed().documents("MAP2K1 AND MAPK1", max_results=5)[0].id == "PMID:10567369"
    assert len(replay.requests) == n  # served from the cache: a rerun resumes without asking again
    cached = list((get_settings().cache_dir / "http").rglob("*.body"))
    assert cached and not any("secret-key" in p.read_text() for p in cached)


def test_retries_then_success_and_clean_failure(replay):
    from aitia.knowledge.sources import ConnectorError, PoliteClient

    replay.fail["/eutils/esearch.fcgi"] = 2
    client = PoliteClient("t", requests_per_second=0, retries=3, backoff_s=0.01)
    assert "esearchresult" in client.get(f"{replay.url}/eutils/esearch.fcgi", {"term": "x"})
    assert client.requests == 3
    replay.fail["/eutils/esearch.fcgi"] = 10
    with pytest.raises(ConnectorError, match="failed after 2 attempts: HTTP 503"):
        PoliteClient("t", requests_per_second=0, retries=1, backoff_s=0.01).get(
            f"{replay.url}/eutils/esearch.fcgi", {"term": "y"}
        )
    with pytest.raises(ConnectorError, match="HTTP 404"):  # no retry on a 404
        PoliteClient("t", requests_per_second=0, retries=3, backoff_s=0.01).get(f"{replay.url}/nothing")


def test_europepmc_pages_until_the_cursor_stops(replay):
    from aitia.knowledge.sources import EuropePMC

    docs = EuropePMC(page_size=25).documents("MAP2K1 AND MAPK1", max_results=50)
    assert [d.id for d in docs] == ["PMID:10567369", "PPR:PPR12345"] and docs[1].year == 2023
    cursors = [q["cursorMark"] for p, q in replay.requests if p == "/rest/search"]
    assert cursors == ["*", "AoE/123"]


def test_ingest_pubmed_from_the_cli(replay, tmp_path):
    res = CliRunner().invoke(app, ["ingest", "--pubmed", "MAP2K1 AND MAPK1", "--max", "5", "--store",
                                   str(tmp_path / "s"), "--embedding", "hashing", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["documents"] == 1


def test_omnipath_download_and_prior(replay):
    from aitia.knowledge.priors import _builtin, load_prior
    from aitia.knowledge.sources.omnipath import omnipath_path

    _builtin.cache_clear()
    res = CliRunner().invoke(app, ["priors", "download", "omnipath"])
    assert res.exit_code == 0, res.output
    path = omnipath_path()
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["rows"] == 3 and len(meta["sha256"]) == 64 and meta["license"] == "academic"
    net = load_prior("omnipath")
    assert net.lookup("MAP2K1", "MAPK1").sign == 1 and net.lookup("MAP2K1", "MAPK1").pmids == [
        "10567369",
        "8621729",
    ]
    assert (
        net.lookup("MAPK1", "MAP2K1").sign == -1 and net.lookup("RAF1", "MAP2K1").sign == 0
    )  # both flags: 0
    _builtin.cache_clear()


def test_failed_download_leaves_nothing(replay):
    from aitia.knowledge.sources.omnipath import omnipath_path

    replay.fail["/omnipath/interactions"] = 99
    res = CliRunner().invoke(app, ["priors", "download", "omnipath"])
    assert res.exit_code == USER_ERROR and "failed after" in res.output
    folder = omnipath_path().parent
    assert not omnipath_path().exists() and not (
        folder.exists() and list(folder.iterdir())
    )  # no half-written file
