import pytest

from aitia.errors import DataValidationError
from aitia.knowledge.priors import load_prior


def test_trrust_lookup_and_neighbours():
    p = load_prior("trrust")
    hit = p.lookup("TP53", "CDKN1A")
    assert hit is not None and hit.sign == 1 and len(hit.pmids) > 10
    assert p.lookup("CDKN1A", "TP53") is None
    out = p.neighbours("TP53", "out")
    assert len(out) > 100 and set(out.source) == {"TP53"}


def test_collectri_and_union():
    c = load_prior("collectri")
    assert c.lookup("MYC", "TERT").sign == 1
    both = load_prior("trrust+collectri")
    assert set(both.lookup("TP53", "CDKN1A").databases) == {"TRRUST", "CollecTRI"}
    assert len(both) >= len(c)


def test_to_scores_with_family_resolution():
    p = load_prior("trrust")
    s = p.to_scores(["TP53", "CDKN1A", "MDM2"])
    assert s["TP53", "CDKN1A"] > 0.9 and s["CDKN1A", "TP53"] == 0
    fam = p.to_scores(["Erk", "ELK1", "TP53"], resolve=True)
    assert fam.values.shape == (3, 3)


def test_user_edge_list(tmp_path):
    path = tmp_path / "edges.tsv"
    path.write_text("source\ttarget\tsign\tevidence\nmek\tERK2\tactivates\t123;456\nA\tB\t-1\t\n")
    p = load_prior(path, resolve_symbols=True)
    hit = p.lookup("mek", "MAPK1")  # 'mek' is a family: kept; ERK2 -> MAPK1
    assert hit is not None and hit.sign == 1 and hit.pmids == ["123", "456"]
    assert p.lookup("A", "B").sign == -1
    bad = tmp_path / "bad.csv"
    bad.write_text("source,target,sign\nA,B,maybe\n")
    with pytest.raises(DataValidationError, match="sign values"):
        load_prior(bad)
    with pytest.raises(FileNotFoundError):
        load_prior(tmp_path / "missing.csv")
