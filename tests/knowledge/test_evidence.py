import pytest

from aitia.knowledge.documents import Document
from aitia.knowledge.embeddings import HashingEmbedding
from aitia.knowledge.evidence import evidence_for, extract_claims
from aitia.knowledge.store import LiteratureStore


@pytest.mark.parametrize(
    "sentence,expected",
    [
        ("TP53 strongly induces CDKN1A expression.", ("TP53", "CDKN1A", 1, "active")),
        ("MDM2 degrades TP53 through ubiquitination.", ("MDM2", "TP53", -1, "active")),
        ("CDKN1A is induced by TP53 after irradiation.", ("TP53", "CDKN1A", 1, "passive")),
        ("STAT3-mediated induction of MYC was required.", ("STAT3", "MYC", 1, "mediated")),
        ("Inhibition of CDK2 by CDKN1A arrests cells.", ("CDKN1A", "CDK2", -1, "nominal")),
        ("Knockdown of STAT3 reduced MYC levels.", ("STAT3", "MYC", 1, "loss-of-function")),
        ("PTEN suppresses AKT1 signaling.", ("PTEN", "AKT1", -1, "active")),
    ],
)
def test_patterns(sentence, expected):
    claims = extract_claims(sentence)
    assert [(c.source, c.target, c.sign, c.pattern) for c in claims] == [expected]
    assert claims[0].sentence == sentence


def test_negation_and_coordination():
    neg = extract_claims("SOX2 did not repress NANOG.")
    assert neg[0].negated
    coord = extract_claims("PTEN inhibits AKT1 signaling and TP53 binds MDM2.", include_associations=True)
    pairs = {(c.source, c.target, c.directed) for c in coord}
    assert ("PTEN", "AKT1", True) in pairs and ("TP53", "MDM2", False) in pairs
    assert not any(c.source == "PTEN" and c.target == "TP53" for c in coord)


def test_real_biored_sentences(biored_test_docs):
    """Claims on real abstracts carry the sentence they came from and its document id."""
    n = 0
    for doc in biored_test_docs[:40]:
        for c in extract_claims(doc.text, doc_id=doc.pmid):
            assert c.sentence in doc.text and c.doc_id == doc.pmid
            assert c.source_text in c.sentence and c.target_text in c.sentence
            n += 1
    assert n >= 5


def test_evidence_for_with_store_and_prior(tmp_path):
    store = LiteratureStore(tmp_path / "ev", embedding=HashingEmbedding())
    store.add_documents(
        [
            Document(
                id="PMID:1", text="TP53 strongly induces CDKN1A expression after DNA damage.", year=2000
            ),
            Document(id="PMID:2", text="CDKN1A is induced by TP53 in fibroblasts.", year=2001),
            Document(id="PMID:3", text="MYC represses CDKN1A in tumours.", year=2002),
        ],
        progress=False,
    )
    ev = evidence_for("p53", "p21", store=store)
    assert ev.source_symbols == ["TP53"] and ev.target_symbols == ["CDKN1A"]
    assert {c.doc_id for c in ev.claims} == {"PMID:1", "PMID:2"}
    assert ev.sign == 1 and any(h.database for h in ev.prior_hits)
    assert "PMID:1" in ev.citations
    weak = evidence_for("CDKN1A", "TP53", store=store)
    assert len(weak.reverse_claims) == 2 and not weak.claims
    assert ev.support > weak.support
    none = evidence_for("OR2A4", "OR2B6", store=None)
    assert none.support < ev.support and not none.claims


@pytest.mark.parametrize(
    "sentence",
    [
        "PKCa promotes survival independently of Akt and ERK.",
        "MEK inhibition had no effect on AKT phosphorylation.",
        "TP53 does not induce MDM2 in these cells.",
        "AKT1 phosphorylation was unaffected by MAP2K1 loss.",
        "STAT3 drives proliferation regardless of MYC status.",
    ],
)
def test_negation_and_independence_are_never_support(sentence):
    from aitia.knowledge.evidence import extract_claims

    assert all(c.negated for c in extract_claims(sentence))


def test_llm_de_predictions_over_the_wire():
    """The LLM path: batches of readout genes per perturbation, probabilities read from JSON, a bad batch gets 0.5
    (counted, never NaN), the result scores with the usual metric; offline it refuses in one line."""
    import json

    import pandas as pd

    from aitia.causal import perturbation as P
    from aitia.knowledge.llm import LLMError, OpenAIBackend
    from aitia.knowledge.llm_effects import llm_de_predictions
    from aitia.types.effects import EffectTable

    from ..orchestrator.fake_openai import FakeOpenAI, completion

    q = pd.DataFrame({"context": ["jurkat", "jurkat"], "perturbation": ["AAMP", "TP53"]})
    genes_for = {"AAMP": ["G1", "G2", "G3"], "TP53": ["G1", "G2", "G3"]}
    with pytest.raises(LLMError, match="needs a language model"):
        llm_de_predictions(q, genes_for, backend="none")
    with FakeOpenAI() as server:
        server.script.extend([
            ("json", completion(json.dumps({"G1": 0.9, "G2": 0.1}))),
            ("json", completion(json.dumps({"G3": "high"}))),
            ("json", completion("no idea")),
            ("json", completion(json.dumps({"G3": 0.2}))),
        ])  # fmt: skip
        backend = OpenAIBackend("fake-model", base_url=server.base_url, api_key="k", concurrency=1)
        table, stats = llm_de_predictions(q, genes_for, backend=backend, batch_size=2)
    assert stats.calls == 4 and stats.unusable_batches == 1 and stats.missing_genes == 1
    aamp, tp53 = table.row(0, 0)[1], table.row(0, 1)[1]
    assert aamp.tolist() == pytest.approx([0.9, 0.1, 0.5]) and tp53.tolist() == pytest.approx([0.5, 0.5, 0.2])
    truth = EffectTable.from_frame(pd.DataFrame({"context": "jurkat", "perturbation": ["AAMP"] * 3 + ["TP53"] * 3,
                                                 "gene": ["G1", "G2", "G3"] * 2, "label": [1, 0, 0, 0, 1, 1]}))  # fmt: skip
    assert P.evaluate_predictions(table, truth).n_test_pairs == 2
