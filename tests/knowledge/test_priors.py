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


def test_signalling_priors_and_licence_setting(monkeypatch):
    from aitia.config import get_settings
    from aitia.knowledge.priors import PRIORS, default_prior

    op, nc = load_prior("signaling"), load_prior("signaling-nc")
    assert len(op) == 6523 and len(nc) == 32076
    mek_erk = op.lookup("MAP2K1", "MAPK1")
    assert mek_erk.sign == 1 and len(mek_erk.pmids) > 3
    assert not PRIORS["signaling-nc"].commercial_use and PRIORS["signaling"].commercial_use
    assert "signaling-nc" in default_prior().split("+")
    monkeypatch.setenv("AITIA_NONCOMMERCIAL_DATA", "false")  # one setting excludes the non-commercial set
    get_settings.cache_clear()
    assert "signaling-nc" not in default_prior().split("+") and "signaling" in default_prior().split("+")
    assert len(load_prior()) < len(load_prior("trrust+collectri+signaling+signaling-nc"))


def test_measured_names_families_phospho_and_proxies():
    from aitia.knowledge.priors import measured_members

    m = measured_members(["Mek", "Akt_pT308", "mTOR_pS2448", "p-ERK", "PIP3", "NOTAGENE1"])
    assert m["Mek"] == ["MAP2K1", "MAP2K2"] and m["Akt_pT308"] == ["AKT1", "AKT2", "AKT3"]
    assert m["mTOR_pS2448"] == ["MTOR"] and m["p-ERK"] == ["MAPK1", "MAPK3"]
    assert "PIK3CA" in m["PIP3"]  # a second messenger stands in for its producers
    assert m["NOTAGENE1"] == ["NOTAGENE1"]


def test_family_edges_and_paths():
    net = load_prior("signaling")
    genes = ["Mek", "Erk", "RPS6KA1"]  # MEK -> ERK -> RSK, no curated MEK -> RSK edge
    direct = net.to_scores(genes, resolve=True)
    assert direct["Mek", "Erk"] > 0 and direct["Erk", "RPS6KA1"] > 0 and direct["Mek", "RPS6KA1"] == 0
    paths = net.path_scores(genes, max_steps=2, decay=0.5)
    assert 0 < paths["Mek", "RPS6KA1"] <= 0.5 * min(paths["Mek", "Erk"], paths["Erk", "RPS6KA1"]) + 1e-9
    assert paths["Mek", "Erk"] == direct["Mek", "Erk"]  # a direct edge keeps its weight
    assert net.path_scores(genes, max_steps=1)["Mek", "RPS6KA1"] == 0
    path = net.shortest_path(["MAP2K1"], ["RPS6KA1"], max_steps=3)
    assert path == ["MAP2K1", "MAPK1", "RPS6KA1"] and net.path_sign(path) == 1


def test_evidence_reports_paths_apart_from_direct_edges():
    from aitia.knowledge.evidence import evidence_for

    direct = evidence_for("Mek", "Erk", prior="signaling")
    assert direct.prior_hits and direct.path is None and direct.support > 0.15
    indirect = evidence_for("Mek", "RPS6KA1", prior="signaling")
    assert indirect.path is not None and indirect.path.steps == 2 and indirect.path.sign == 1
    assert 0 < indirect.path_support < direct.support
    assert indirect.combined_support == indirect.path_support
    strong = evidence_for("MAP2K1", "MAPK1", prior="signaling").support
    thin = evidence_for("ARAF", "MAP2K2", prior="signaling").support  # one resource, one PMID
    assert strong > thin  # evidence strength counts, not just presence


def test_gene_features_from_knowledge():
    from aitia.knowledge.gene_features import gene_description, gene_features, network_features

    assert gene_description("MAPK1").startswith("MAPK1: mitogen-activated protein kinase 1. Families: ERK")
    assert gene_description("NOTAGENE1") == ""
    net = network_features(["MAPK1", "MAPK3", "TP53", "NOTAGENE1"])
    assert net.present.tolist() == [True, True, True, False]
    v = net.normalized().values
    assert v[0] @ v[1] > v[0] @ v[2]  # ERK1 and ERK2 share neighbours; TP53 less so
    both = gene_features(["MAPK1", "MAPK3"], sources=("network",))
    assert both.values.shape[0] == 2 and both.dim > 1000
    with pytest.raises(DataValidationError, match="not recognised"):
        gene_features(["MAPK1"], sources=("pictures",))


def test_second_messengers_are_nodes_of_the_default_network():
    """A measured lipid is its own node (PIP3 recruits Akt; Plcg consumes PIP2), not a stand-in for its producers."""
    from aitia.knowledge.evidence import evidence_for
    from aitia.knowledge.priors import load_prior, measured_members

    net = load_prior()
    assert "messengers" in net.name and net.members_of(["PIP3", "Mek"]) == {
        "PIP3": ["PIP3"],
        "Mek": ["MAP2K1", "MAP2K2"],
    }
    assert measured_members(["PIP3"])["PIP3"][:2] == ["PIP3", "PIK3CA"]  # producers stay as proxies elsewhere
    assert load_prior("signaling").members_of(["PIP3"])["PIP3"][0] == "PIK3CA"  # no messenger node: proxies
    assert net.lookup("PLCG1", "PIP2").sign == -1 and net.lookup("PIP3", "AKT1").sign == 1
    s = net.path_scores(["Plcg", "PIP2", "PIP3", "Akt", "PKC"], max_steps=2)
    assert s["PIP3", "Akt"] > 0 and s["Plcg", "PIP2"] > 0 and s["PIP2", "PKC"] > 0  # PIP2 -> DAG -> PKC
    ev = evidence_for("Plcg", "PIP2", store=None, prior=net)
    assert ev.prior_hits and all(h.source.startswith("PLCG") for h in ev.prior_hits)


def test_feedback_path_is_not_discounted_by_the_reverse_edge():
    """Inhibiting MEK raises RAF through ERK -| RAF: a curated RAF -> MEK edge must not cancel that path."""
    import pandas as pd

    from aitia.knowledge.evidence import evidence_for
    from aitia.knowledge.priors import PriorNetwork

    edges = pd.DataFrame({"source": ["RAF1", "MAP2K1", "MAPK1"], "target": ["MAP2K1", "MAPK1", "RAF1"],
                          "sign": [1, 1, -1], "pmids": [["1", "2", "3", "4"], ["5"], ["6"]]})  # fmt: skip
    loop = PriorNetwork(edges, name="loop")
    chain = PriorNetwork(edges.iloc[1:], name="chain")  # the same path, no RAF -> MEK edge
    with_reverse = evidence_for("MAP2K1", "RAF1", prior=loop)
    without = evidence_for("MAP2K1", "RAF1", prior=chain)
    assert with_reverse.path is not None and with_reverse.path.sign == -1
    assert with_reverse.path_support == without.path_support > 0
    assert (
        with_reverse.support < with_reverse.path_support
    )  # the direct score still sees only the reverse edge


def test_evidence_hypotheses_are_cached_until_an_input_changes(tmp_path, monkeypatch):
    """The no-LLM generator is deterministic: a second run on the same genes and prior reads the hypotheses and their
    trace events back instead of recomputing; an edited prior file is a new input and is recomputed."""
    from aitia.knowledge import evidence
    from aitia.knowledge.hypotheses import HypothesisGenerator

    prior = tmp_path / "prior.csv"
    prior.write_text("source,target,sign\nTP53,CDKN1A,1\nCDKN1A,MDM2,1\n")
    genes = ["TP53", "CDKN1A", "MDM2"]
    seen: list = []
    first = HypothesisGenerator(backend="none", prior=str(prior), rag=False, on_event=seen.append).generate(
        genes
    )
    HypothesisGenerator(backend="none", prior="default", rag=False).generate(genes)

    def recompute(*args, **kwargs):
        raise AssertionError("recomputed")

    monkeypatch.setattr(evidence, "evidence_for", recompute)
    events: list = []
    again = HypothesisGenerator(backend="none", prior=str(prior), rag=False, on_event=events.append).generate(
        genes
    )
    assert again.hypotheses == first.hypotheses and events == seen and len(seen) == 6
    with pytest.raises(AssertionError, match="recomputed"):  # no prior is not the default prior
        HypothesisGenerator(backend="none", prior=None, rag=False).generate(genes)
    prior.write_text("source,target,sign\nTP53,MDM2,1\n")
    with pytest.raises(AssertionError, match="recomputed"):
        HypothesisGenerator(backend="none", prior=str(prior), rag=False).generate(genes)


def test_default_names_the_default_priors_anywhere_a_prior_is_named(monkeypatch):
    from aitia.knowledge.priors import default_prior, expand_prior_spec, prior_scores

    genes = ["MAP2K1", "MAPK1", "TP53", "CDKN1A"]
    assert expand_prior_spec("default") == default_prior()
    assert expand_prior_spec("default+trrust").split("+").count("trrust") == 1
    got, want = prior_scores("default", genes), load_prior().to_scores(genes, resolve=True)
    assert got is not None and (got.values == want.values).all() and got.values.max() > 0
    monkeypatch.setenv("AITIA_NONCOMMERCIAL_DATA", "false")
    from aitia.config import get_settings

    get_settings.cache_clear()
    try:
        assert "signaling-nc" not in expand_prior_spec("default").split("+")
    finally:
        monkeypatch.delenv("AITIA_NONCOMMERCIAL_DATA")
        get_settings.cache_clear()


def test_in_silico_gene_names_get_no_knowledge():
    """DREAM4's and the simulator's G12 / G13 are aliases of real human genes: curated edges between those genes
    must not become hypotheses about a simulated network."""
    from aitia import datasets
    from aitia.causal.simulate import simulate_nb
    from aitia.knowledge.hypotheses import HypothesisGenerator

    genes = ["G3", "G12", "G13", "G18"]
    gen = HypothesisGenerator(backend="none", rag=False)
    leaked = gen.generate(genes).to_scores().values
    assert leaked.max() > leaked[leaked > 0].min()  # read as human aliases, some pairs look supported
    empty = gen.generate(genes, organism=datasets.IN_SILICO)
    assert empty.hypotheses == [] and "in-silico" in empty.generator and not empty.to_scores().values.any()
    sim, _ = simulate_nb(n_genes=12, n_cells=200, n_perturbations=2, seed=0)
    assert datasets.organism_of(sim) == datasets.IN_SILICO == datasets.organism_of(datasets.load("dream4-10-1"))
    assert datasets.organism_of(datasets.load("sachs")) == "human"
    from aitia.knowledge.priors import prior_scores

    for spec in ("trrust", "default", "breadth"):
        with pytest.raises(DataValidationError, match="in silico"):
            prior_scores(spec, genes, organism=datasets.IN_SILICO)
