import subprocess
import sys
import textwrap

import pytest

from aitia.errors import DataValidationError
from aitia.knowledge.documents import Document, chunk_document, read_documents
from aitia.knowledge.embeddings import HashingEmbedding
from aitia.knowledge.store import LiteratureStore

DOCS = [
    Document(id="d1", title="p53 and p21", text="TP53 strongly induces CDKN1A expression after DNA damage. "
             "This arrests the cell cycle in G1.", year=1995, source="toy"),
    Document(id="d2", title="MDM2 feedback", text="MDM2 degrades TP53 through ubiquitination. "
             "TP53 in turn activates MDM2 transcription.", year=2005, source="toy"),
    Document(id="d3", title="MAPK cascade", text="MEK phosphorylates ERK in response to growth factors. "
             "Activated ERK enters the nucleus.", year=2015, source="other"),
    Document(id="d4", title="Undated", text="STAT3 drives MYC expression in many cancers.", source="toy"),
]  # fmt: skip


@pytest.fixture
def store(tmp_path):
    s = LiteratureStore(tmp_path / "store", embedding=HashingEmbedding())
    s.add_documents(DOCS, progress=False)
    return s


def test_chunking_spans_and_ids():
    d = Document(id="x", text=" ".join(f"Sentence number {i} mentions TP53." for i in range(30)))
    chunks = chunk_document(d, max_chars=200)
    assert len(chunks) > 3
    for c in chunks:
        assert d.full_text[c.start : c.end] == c.text and len(c.text) <= 200
    assert chunks[0].end > chunks[1].start  # overlapping by one sentence
    assert [c.id for c in chunk_document(d, max_chars=200)] == [c.id for c in chunks]


def test_version_stamp_changes_with_the_contents(tmp_path):
    """Caches of results computed from a store (the evidence hypotheses) are keyed by this stamp."""
    s = LiteratureStore(tmp_path / "v", embedding=HashingEmbedding())
    empty = s.version_stamp()
    s.add_documents(DOCS[:1], progress=False)
    one = s.version_stamp()
    assert (
        empty != one and one == LiteratureStore(tmp_path / "v", embedding=HashingEmbedding()).version_stamp()
    )
    s.add_documents(DOCS, progress=False)
    assert s.version_stamp() != one


def test_idempotent_ingest(store):
    n = store.count()
    again = store.add_documents(DOCS, progress=False)
    assert again.chunks_added == 0 and again.chunks_skipped == again.chunks_total
    assert store.count() == n


def test_resume_after_interruption(tmp_path):
    class Flaky(HashingEmbedding):
        calls = 0

        def __call__(self, input):
            Flaky.calls += 1
            if Flaky.calls == 2:
                raise KeyboardInterrupt("simulated kill")
            return super().__call__(input)

    docs = [
        Document(id=f"doc{i}", text=f"Gene TP53 sentence {i}. Another sentence {i} about MDM2.")
        for i in range(12)
    ]
    s = LiteratureStore(tmp_path / "s", embedding=Flaky())
    with pytest.raises(KeyboardInterrupt):
        s.add_documents(docs, batch_size=4, progress=False)
    partial = s.count()
    assert 0 < partial < 12
    s2 = LiteratureStore(tmp_path / "s", embedding=HashingEmbedding())
    rep = s2.add_documents(docs, batch_size=4, progress=False)
    assert rep.chunks_skipped == partial and s2.count() == 12


def test_search_filters(store):
    hits = store.search("TP53 induces CDKN1A", k=2)
    assert hits[0].doc_id == "d1" and hits[0].score > hits[-1].score - 1e-9
    h = hits[0]
    assert DOCS[0].full_text[h.start : h.end] == h.text
    assert {h.doc_id for h in store.search("protein", k=5, genes=["MDM2"])} == {"d2"}
    both = store.search("protein", k=5, genes=["TP53", "CDKN1A"], gene_mode="all")
    assert {h.doc_id for h in both} == {"d1"}
    any_ = store.search("protein", k=5, genes=["CDKN1A", "MYC"])
    assert {h.doc_id for h in any_} == {"d1", "d4"}
    assert {h.doc_id for h in store.search("protein", k=5, year_max=2000)} == {"d1"}
    assert "d4" in {h.doc_id for h in store.search("protein", k=5, year_max=2000, include_undated=True)}
    assert {h.doc_id for h in store.search("protein", k=5, source="other")} == {"d3"}
    # family mentions are stored as member genes
    assert {h.doc_id for h in store.search("kinase", k=5, genes=["MAPK1"])} == {"d3"}


def test_mmr_diversifies(tmp_path):
    s = LiteratureStore(tmp_path / "m", embedding=HashingEmbedding())
    near = [
        Document(id=f"dup{i}", text=f"TP53 activates CDKN1A transcription strongly {i}.") for i in range(5)
    ]
    s.add_documents(
        [*near, Document(id="other", text="TP53 protein stability depends on MDM2.")], progress=False
    )
    plain = [h.doc_id for h in s.search("TP53 activates CDKN1A", k=2)]
    diverse = [h.doc_id for h in s.search("TP53 activates CDKN1A", k=2, mmr=True, mmr_lambda=0.3)]
    assert all(d.startswith("dup") for d in plain)
    assert "other" in diverse


def test_bad_queries(store):
    with pytest.raises(DataValidationError):
        store.search("  ")
    with pytest.raises(DataValidationError):
        store.search("x", k=0)


def test_readers(tmp_path):
    (tmp_path / "r.jsonl").write_text(
        '{"pmid": 1, "title": "T", "abstract": "TP53 binds DNA.", "year": 2001}\n'
    )
    docs = list(read_documents(tmp_path / "r.jsonl"))
    assert docs[0].id == "PMID:1" and docs[0].year == 2001
    (tmp_path / "r.csv").write_text("id,text,year\nA1,MYC drives growth.,2010\n")
    assert next(read_documents(tmp_path / "r.csv")).text == "MYC drives growth."
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("# My notes\nSTAT3 activates MYC.\n")
    d = next(read_documents(tmp_path / "notes"))
    assert d.title == "My notes" and d.id == "a.md"
    (tmp_path / "bad.jsonl").write_text('{"title": "no id"}\n')
    with pytest.raises(DataValidationError, match="needs 'id'"):
        list(read_documents(tmp_path / "bad.jsonl"))
    (tmp_path / "broken.jsonl").write_text("{not json\n")
    with pytest.raises(DataValidationError, match="invalid JSON"):
        list(read_documents(tmp_path / "broken.jsonl"))
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(DataValidationError, match="PDF"):
        list(read_documents(tmp_path / "x.pdf"))


def test_pdf_reader(tmp_path):
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(200, 200)
    w.add_metadata({"/Title": "Blank"})
    path = tmp_path / "blank.pdf"
    with open(path, "wb") as fh:
        w.write(fh)
    with pytest.raises(DataValidationError, match="no extractable text"):
        list(read_documents(path))


def test_gene_summary_and_pubtator_readers():
    from aitia.knowledge.resources import knowledge_path

    genes = list(
        read_documents(knowledge_path("ncbi_gene_summaries", "gene_info_by_entrez.json.gz"), "gene-summary")
    )
    assert len(genes) > 2000 and all(d.id.startswith("GENE:") for d in genes[:10])
    docs = list(read_documents(knowledge_path("biored", "Test.PubTator.gz"), "pubtator"))
    assert len(docs) == 100 and docs[0].id.startswith("PMID:")


def test_reopen_in_new_process(store, no_network):
    """The embedding function is registered by name: a new process reopens the store without passing it."""
    code = textwrap.dedent(
        f"""
        import chromadb
        from chromadb.config import Settings
        import aitia.knowledge.embeddings  # registers aitia's embedding functions
        c = chromadb.PersistentClient(path={str(store.path)!r}, settings=Settings(anonymized_telemetry=False))
        col = c.get_collection("literature")
        hit = col.query(query_texts=["MDM2 degrades TP53"], n_results=1)
        print(type(col.configuration["embedding_function"]).__name__, col.count(), hit["metadatas"][0][0]["doc_id"])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["HashingEmbedding", str(store.count()), "d2"]
    assert no_network == []


@pytest.mark.slow
def test_minilm_semantic_search(tmp_path, no_network):
    """The default offline model: semantic matches without shared words."""
    s = LiteratureStore(tmp_path / "minilm")
    s.add_documents(DOCS, progress=False)
    hit = s.search("programmed protein breakdown by a ubiquitin ligase", k=1)[0]
    assert hit.doc_id == "d2"
    assert no_network == []


def test_reopen_uses_persisted_embedding(store):
    again = LiteratureStore(
        store.path
    )  # no embedding given: the store's own (hashing), not the default MiniLM
    assert type(again.embedding).__name__ == "HashingEmbedding"
    assert again.search("MDM2 degrades TP53", k=1)[0].doc_id == "d2"


def test_year_filter_on_an_undated_store_says_why(tmp_path):
    from aitia.errors import DataValidationError
    from aitia.knowledge.documents import Document
    from aitia.knowledge.embeddings import HashingEmbedding
    from aitia.knowledge.store import LiteratureStore

    s = LiteratureStore(tmp_path / "s", embedding=HashingEmbedding())
    s.add_documents([Document(id="d1", text="TP53 induces CDKN1A.")], progress=False)
    with pytest.raises(DataValidationError, match="no publication years"):
        s.search("TP53", year_max=2030)
    assert s.search("TP53", year_max=2030, include_undated=True)
    s.add_documents([Document(id="d2", text="MDM2 degrades TP53.", year=2001)], progress=False)
    assert [h.doc_id for h in s.search("TP53", year_max=2030)] == ["d2"]
    assert s.search("TP53", year_max=1990) == []


def test_numpy_minilm_matches_the_torch_model():
    """Queries use a numpy forward pass (no torch import in short commands); it must give the torch model's vectors."""
    import numpy as np

    from aitia.knowledge.embeddings import _load_minilm
    from aitia.knowledge.minilm_numpy import numpy_minilm

    texts = ["MEK phosphorylates ERK in response to growth factors.", "regulation of MYC", "p21Cip1 (CDKN1A)"]
    fast = numpy_minilm().encode(texts)
    ref = _load_minilm("cpu").encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert fast.shape == (3, 384) and np.abs(fast - ref).max() < 1e-4
