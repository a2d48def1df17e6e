import pytest

from aitia.errors import UnknownGeneError
from aitia.knowledge.genes import get_resolver, get_tagger, normalize


@pytest.mark.parametrize(
    "query,symbols,match",
    [
        ("TP53", ["TP53"], "symbol"),
        ("tp53", ["TP53"], "symbol"),
        ("7157", ["TP53"], "entrez"),
        ("ENSG00000141510", ["TP53"], "ensembl"),
        ("ENSG00000141510.17", ["TP53"], "ensembl"),
        ("PRKM1", ["MAPK1"], "previous"),
        ("ERK", ["MAPK1", "MAPK3"], "family"),
        ("Raf", ["ARAF", "BRAF", "RAF1"], "family"),
        ("Mek", ["MAP2K1", "MAP2K2"], "family"),
        ("Akt", ["AKT1", "AKT2", "AKT3"], "family"),
    ],
)
def test_resolve(query, symbols, match):
    r = get_resolver().resolve(query)
    assert r.symbols == symbols
    assert r.match == match or (query == "tp53" and r.match == "grounding")


def test_pkc_family_members():
    r = get_resolver().resolve("PKC")
    assert r.match == "family" and {"PRKCA", "PRKCB", "PRKCD"} <= set(r.symbols)


def test_ambiguous_alias_is_reported():
    # 'p33' is an alias of several genes: reported, not guessed
    r = get_resolver().resolve("p33")
    assert r.ambiguous and len(r.symbols) > 1 and "alias" in r.note


def test_non_gene_and_unknown():
    r = get_resolver()
    assert r.resolve("PIP3").match == "non-gene"
    assert r.resolve("NOTAGENE123").symbols == []
    with pytest.raises(UnknownGeneError, match="protein family"):
        r.resolve_one("ERK")
    with pytest.raises(UnknownGeneError, match="Did you mean"):
        r.resolve_one("MAPK1X")
    assert r.resolve_one("p53") == "TP53"


def test_yeast():
    r = get_resolver()
    y = r.resolve("YKR021W", organism="yeast")
    assert y.symbols == ["ALY1"] and y.organism == "yeast"
    assert r.resolve("ALY1", organism="yeast").note == "systematic: YKR021W"
    assert r.resolve("YKR021W", organism="any").match == "yeast"


def test_normalize_variants():
    assert normalize("NF-κB") == normalize("NF-kappaB") == normalize("NF kappa B")
    assert normalize("IL-6") == "il6"


def test_tagger_real_sentences():
    t = get_tagger()
    text = "Phospho-ERK and p-Akt levels rose after TP53 knockdown, while NF-κB and IL-6 were unchanged."
    found = {m.text: m.symbols for m in t.tag(text)}
    assert found["Phospho-ERK"] == ["MAPK1", "MAPK3"]
    assert found["p-Akt"] == ["AKT1", "AKT2", "AKT3"]
    assert found["TP53"] == ["TP53"]
    assert "IL6" in found["IL-6"]
    assert "NF-κB" in found


def test_tagger_skips_common_words():
    t = get_tagger()
    assert t.tag("The cat sat on the mat and was set free in a max of two days.") == []
    # 'CAT' with gene context is a gene (catalase)
    assert [m.symbols for m in t.tag("CAT activity and CAT expression were reduced.")] == [["CAT"], ["CAT"]]


def test_tagger_plural_and_abbreviation_definitions():
    t = get_tagger()
    assert [m.symbols for m in t.tag("ERKs were phosphorylated.")] == [["MAPK1", "MAPK3"]]
    # an abbreviation defined as a disease is not a gene
    text = "Patients with cystic fibrosis (CF) were studied. CF patients had lower CFTR function."
    assert [m.text for m in t.tag(text)] == ["CFTR"]


def test_tagger_on_biored_abstract(biored_test_docs):
    gold, hit = 0, 0
    for doc in biored_test_docs[:20]:
        spans = [(e.start, e.end) for e in doc.genes()]
        pred = get_tagger().tag(doc.text)
        gold += len(spans)
        hit += sum(any(m.start < e and s < m.end for m in pred) for s, e in spans)
    assert hit / gold > 0.6  # overlap recall on real abstracts (the benchmark reports the full split)


def test_phospho_forms_name_their_protein():
    from aitia.knowledge.genes import get_resolver

    r = get_resolver()
    for name, symbols in [("Akt_pT308", ["AKT1", "AKT2", "AKT3"]), ("EGFR-pY1068", ["EGFR"]), ("p-ERK", ["MAPK1", "MAPK3"]),
                          ("phospho-Akt", ["AKT1", "AKT2", "AKT3"]), ("mTOR_pS2448", ["MTOR"])]:  # fmt: skip
        res = r.resolve(name)
        assert res.symbols == symbols and "read as the protein" in res.note
    assert r.resolve("STAT3").symbols == ["STAT3"]  # a symbol ending in T3 is not a phosphosite
    assert r.resolve("XYZT1").symbols == []


def test_guess_organism_of_user_gene_names():
    from aitia.knowledge.genes import guess_organism

    assert guess_organism(["YLR357W", "ERG11", "SPO11", "RSC2"]) == "yeast"
    assert guess_organism(["MAPK1", "TP53", "Akt", "ERK"]) == "human"
    assert guess_organism(["G1", "G2"]) == "human" and guess_organism([]) == "human"


@pytest.mark.parametrize(
    ("query", "symbols"),
    [("MEK1/2", ["MAP2K1", "MAP2K2"]), ("AKT1/2/3", ["AKT1", "AKT2", "AKT3"]), ("SMAD2/3", ["SMAD2", "SMAD3"]),
     ("CDK4/6", ["CDK4", "CDK6"]), ("FOO1/2", [])],
)  # fmt: skip
def test_numbered_members_written_together_resolve_to_each(query, symbols):
    res = get_resolver().resolve(query)
    assert sorted(res.symbols) == symbols and (res.match == "family" or not symbols)
