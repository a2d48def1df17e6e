import json

from typer.testing import CliRunner

from aitia.cli import app

runner = CliRunner()


def test_genes_resolve_json():
    res = runner.invoke(app, ["genes", "resolve", "ERK", "p53", "YKR021W", "--organism", "any", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out[0]["symbols"] == ["MAPK1", "MAPK3"] and out[0]["family"] == "ERK"
    assert out[1]["symbols"] == ["TP53"] and out[2]["organism"] == "yeast"


def test_ingest_search_evidence(tmp_path, no_network):
    corpus = tmp_path / "papers.jsonl"
    corpus.write_text(
        '{"pmid": 11, "title": "p53 and p21", "abstract": "TP53 strongly induces CDKN1A expression.", "year": 1999}\n'
        '{"pmid": 12, "title": "MAPK", "abstract": "MEK phosphorylates ERK in T cells.", "year": 2010}\n'
    )
    store = tmp_path / "store"
    res = runner.invoke(
        app, ["ingest", str(corpus), "--store", str(store), "--embedding", "hashing", "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["chunks_added"] == 2
    res = runner.invoke(
        app, ["ingest", str(corpus), "--store", str(store), "--embedding", "hashing", "--json"]
    )
    assert json.loads(res.stdout)[0]["chunks_added"] == 0
    res = runner.invoke(
        app, ["search", "ERK phosphorylation", "--store", str(store), "--genes", "ERK", "--json"]
    )
    assert res.exit_code == 0, res.output
    assert [h["doc_id"] for h in json.loads(res.stdout)] == ["PMID:12"]
    res = runner.invoke(app, ["evidence", "p53", "p21", "--store", str(store), "--json"])
    assert res.exit_code == 0, res.output
    ev = json.loads(res.stdout)
    assert ev["claims"][0]["doc_id"] == "PMID:11" and ev["sign"] == 1
    assert no_network == []


def test_ingest_errors(tmp_path):
    res = runner.invoke(app, ["ingest"])
    assert res.exit_code == 2 and "--default" in res.output
    res = runner.invoke(
        app,
        ["ingest", str(tmp_path / "nope.jsonl"), "--store", str(tmp_path / "s"), "--embedding", "hashing"],
    )
    assert res.exit_code == 2 and "No such file" in res.output


def test_evidence_warns_about_a_name_that_is_no_gene():
    res = runner.invoke(app, ["evidence", "MAPK1", "MAKP1", "--no-store"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "'MAKP1' is no known gene" in text and "Did you mean MAPK1" in text
    res = runner.invoke(app, ["hypothesize", "--genes", "MAKP1,MAPK3", "--llm", "none", "--no-rag"])
    assert res.exit_code == 0 and "'MAKP1' is no known gene" in " ".join(res.output.split()), res.output
    res = runner.invoke(app, ["evidence", "PIP3", "Akt", "--no-store"])  # a messenger and a family: no warning
    assert res.exit_code == 0 and "warning" not in res.output, res.output
