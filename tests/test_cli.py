import json

from typer.testing import CliRunner

from aitia.cli import app

runner = CliRunner()


def test_datasets_list_json():
    res = runner.invoke(app, ["datasets", "list", "--json"])
    assert res.exit_code == 0, res.output
    names = {r["name"] for r in json.loads(res.stdout)}
    assert {"sachs", "kemmeren-mrcl", "dream4-100-5"} <= names


def test_datasets_show():
    res = runner.invoke(app, ["datasets", "show", "kemmeren-mrcl", "--json"])
    assert res.exit_code == 0
    payload = json.loads(res.stdout)
    assert payload["n_genes"] == 50 and len(payload["groups"]) == 11  # controls + the 10 revealed deletions
    bad = runner.invoke(app, ["datasets", "show", "sachz"])
    assert bad.exit_code == 2 and "Did you mean" in bad.output


def test_validate_graph_against_sachs(tmp_path):
    from aitia import datasets

    path = datasets.ground_truth("sachs", "consensus").write(tmp_path / "consensus.graphml")
    res = runner.invoke(app, ["validate", "--graph", str(path), "--dataset", "sachs", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["truth"]: r for r in json.loads(res.stdout)}
    assert rows["consensus"]["f1"] == 1.0 and rows["consensus"]["shd"] == 0
    assert rows["bnlearn"]["f1"] < 1.0
    assert "interventional" in rows and "causalbench" in rows


def test_validate_bad_inputs(tmp_path):
    (tmp_path / "g.csv").write_text("source,target\nRaf,NOTAGENE\n")
    res = runner.invoke(app, ["validate", "--graph", str(tmp_path / "g.csv"), "--dataset", "sachs"])
    assert res.exit_code == 2 and "not measured" in res.output
    res = runner.invoke(app, ["validate", "--graph", str(tmp_path / "missing.csv"), "--dataset", "sachs"])
    assert res.exit_code == 2 and "No graph file" in res.output


def test_bench_baselines_json():
    res = runner.invoke(app, ["bench", "baselines", "--dataset", "sachs", "--seeds", "3", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    truths = {r["truth"] for r in rows}
    assert {"consensus", "bnlearn", "interventional"} <= truths
    corr = next(r for r in rows if r["truth"] == "consensus" and r["method"] == "|pearson|")
    assert 0.5 < corr["auroc"] < 0.7


def test_truth_and_simulate(tmp_path):
    out = tmp_path / "sim.h5ad"
    res = runner.invoke(
        app, ["simulate", "--out", str(out), "--genes", "15", "--cells", "600", "--perturbations", "3"]
    )
    assert res.exit_code == 0, res.output
    assert out.exists() and out.with_suffix(".graphml").exists()
    res = runner.invoke(app, ["truth", "--dataset", "dream4-10-1", "--method", "robust_z", "--json"])
    assert res.exit_code == 0, res.output
    assert all(r["source"].startswith("G") for r in json.loads(res.stdout))


def test_learn_writes_outputs(tmp_path):
    out = tmp_path / "kem"
    res = runner.invoke(
        app, ["learn", "--dataset", "kemmeren-mrcl", "--method", "correlation", "--out", str(out), "--json"]
    )
    assert res.exit_code == 0, res.output
    rows = {r["truth"]: r for r in json.loads(res.stdout)}
    # scored on the held-out 80% only: "all" contains the revealed training labels
    # leak-free: |correlation| is near chance here (0.83 while held-out deletion rows were in the data)
    assert set(rows) == {"test"} and 0.3 < rows["test"]["auroc"] < 0.6
    assert (
        (out / "scores.csv").exists() and (out / "graph.graphml").exists() and (out / "metrics.json").exists()
    )
    bad = runner.invoke(app, ["learn", "--dataset", "sachs", "--method", "nope"])
    assert bad.exit_code == 2 and "not recognised" in bad.output
    bad = runner.invoke(
        app, ["learn", "--dataset", "sachs", "--method", "correlation", "--prior", "missing.csv"]
    )
    assert bad.exit_code == 2 and "No prior file" in bad.output


def test_ask_planner_json():
    res = runner.invoke(app, ["ask", "Does inhibiting Mek change Erk in sachs?", "--llm", "none", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["mode"] == "planner" and "shifts Erk" in out["text"]


def test_hypothesize_none_json():
    res = runner.invoke(app, ["hypothesize", "--genes", "TP53,CDKN1A", "--llm", "none", "--no-rag", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    h = {(x["source"], x["target"]): x for x in out["hypotheses"]}
    assert h[("TP53", "CDKN1A")]["probability"] > h[("CDKN1A", "TP53")]["probability"]
    assert h[("TP53", "CDKN1A")]["provenance"]["generator"] == "evidence (no LLM)"
    bad = runner.invoke(app, ["hypothesize", "--genes", "TP53"])
    assert bad.exit_code == 2 and "at least two" in bad.output


def test_predict_cli():
    res = runner.invoke(
        app, ["predict", "--dataset", "dream4-10-1", "--method", "linear", "--split", "unseen_pair", "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["method"] == "linear"
    bad = runner.invoke(app, ["predict", "--dataset", "dream4-10-1", "--split", "nope"])
    assert bad.exit_code == 2 and "Split" in bad.output


def test_report_cli_errors(tmp_path):
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "not a run directory" in res.output


def test_learn_help_lists_every_registered_learner():
    from aitia.causal import learners

    help_text = " ".join(runner.invoke(app, ["learn", "--help"], terminal_width=400).output.split())
    assert all(name in help_text for name in learners.available()), help_text


def test_predict_cli_places_a_label_only_screen_by_knowledge_features(tmp_path):
    """A label-only table (pert, gene, label): `--features` lets knn place unseen perturbations; methods that need
    effect sizes are skipped with their reason under `--method all` instead of ending the run."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    perts = ["MED1", "MED4", "MED6", "MED7", "MED8", "MED10", "MED12", "MED14", "SMARCA4", "SMARCB1", "ARID1A",
             "SMARCC1", "SMARCD1", "SMARCE1", "ARID1B", "PBRM1"]  # fmt: skip
    genes = [f"R{i}" for i in range(30)]
    rows = []
    for p in perts:
        hit = (
            set(range(0, 15)) if p.startswith("MED") else set(range(15, 30))
        )  # two complexes, two programmes
        rows += [(p, g, int(i in hit and rng.random() < 0.8)) for i, g in enumerate(genes)]
    path = tmp_path / "screen.csv"
    pd.DataFrame(rows, columns=["pert", "gene", "label"]).to_csv(path, index=False)
    res = runner.invoke(app, ["predict", "--dataset", str(path), "--method", "all", "--features", "text",
                              "--json"], terminal_width=200)  # fmt: skip
    assert res.exit_code == 0, res.output
    out = {r["method"]: r for r in json.loads(res.stdout)}
    assert set(out) >= {"mean", "knn"} and "linear" not in out
    assert out["knn"]["per_gene_auroc"] > 0.8  # the complexes' descriptions separate them
    assert "skipped linear" in res.output and "labels only" in res.output


def _sachs_table(path):
    """Sachs as a user would have it: a CSV with the inhibitor and condition in their own columns."""
    import pandas as pd

    from aitia import datasets

    ad = datasets.load("sachs")
    df = pd.DataFrame(ad.X, columns=list(ad.var_names))
    df.insert(0, "inhibitor", ad.obs["perturbation"].to_numpy())
    df.insert(1, "condition", ad.obs["context"].to_numpy())
    df.to_csv(path, index=False)
    return path


def test_learn_takes_the_users_data_file_and_scores_it_against_its_interventions(tmp_path):
    from aitia import datasets
    from aitia.causal.baselines import correlation_scores
    from aitia.causal.evaluate import dataset_truth, edge_metrics

    data = str(_sachs_table(tmp_path / "phospho.csv"))
    cols = ["--perturbation-column", "inhibitor", "--context-column", "condition"]
    res = runner.invoke(app, ["learn", "--dataset", data, *cols, "--method", "correlation", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["truth"]: r for r in json.loads(res.stdout)}
    builtin = datasets.load("sachs")  # the same numbers as the built-in copy's |correlation| vs its interventions
    expected = edge_metrics(correlation_scores(builtin), dataset_truth(builtin)).auroc
    assert set(rows) == {"interventional"} and abs(rows["interventional"]["auroc"] - expected) < 1e-9
    # a label learner trained on the interventions is marked in-sample when scored on them
    res = runner.invoke(app, ["learn", "--dataset", data, *cols, "--method", "supervised", "--prior", "default",
                              "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert [r["truth"] for r in json.loads(res.stdout)] == ["interventional (in-sample: trained on it)"]
    for args, match in (
        (["learn", "--dataset", data, "--method", "correlation"], "no column 'perturbation'"),
        (["learn", "--dataset", data, "--perturbation-column", "inhibitor"], "non-numeric: ['condition']"),
        (["learn", "--dataset", str(tmp_path / "missing.csv")], "names no existing data file"),
        (["learn", "--dataset", "sachs", "--perturbation-column", "inhibitor"], "are for data files"),
        (["learn", "--dataset", "sachs", "--labels-from", "train"], "ships no training label split"),
    ):
        bad = runner.invoke(app, args)
        assert bad.exit_code == 2 and match in " ".join(bad.output.split()), bad.output


def test_loop_and_report_run_on_the_users_data_file(tmp_path):
    data = _sachs_table(tmp_path / "phospho.csv")
    cols = ["--perturbation-column", "inhibitor", "--context-column", "condition"]
    out = tmp_path / "run"
    res = runner.invoke(app, ["loop", "--dataset", str(data), *cols, "--rounds", "0", "--learners", "correlation",
                              "--no-rag", "--out", str(out), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads((out / "config.json").read_text())["dataset"] == str(data.resolve())
    assert f"# aitia loop report: {data.resolve()}" in (out / "report.md").read_text()
    res = runner.invoke(app, ["report", str(out), *cols])
    assert res.exit_code == 0, res.output
    bad = runner.invoke(app, ["report", str(out)])  # the file needs its columns named again
    assert bad.exit_code == 2 and "--perturbation-column" in bad.output


def test_ask_about_the_users_data_file(tmp_path):
    from aitia import datasets

    data = _sachs_table(tmp_path / "phospho.csv")
    cols = ["--perturbation-column", "inhibitor", "--context-column", "condition"]
    try:
        res = runner.invoke(app, ["ask", "What happens when Akt is inhibited?", "--dataset", str(data), *cols,
                                  "--llm", "none", "--json"])  # fmt: skip
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout)
        assert "Measured in phospho: perturbation of Akt" in out["text"]
    finally:
        datasets.unregister_data("phospho")
    bad = runner.invoke(app, ["ask", "Describe it", "--dataset", "sachs"])
    assert bad.exit_code == 2 and "takes your data file" in bad.output


def test_datasets_show_says_how_aitia_reads_a_data_file(tmp_path):
    data = _sachs_table(tmp_path / "phospho.csv")
    res = runner.invoke(app, ["datasets", "show", str(data), "--perturbation-column", "inhibitor",
                              "--context-column", "condition", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["name"] == "phospho.csv" and out["n_samples"] == 7466 and out["truths"] == []
    groups = {(g["context"], g["perturbation"]) for g in out["groups"]}
    assert ("cd3cd28", "Mek") in groups and ("cd3cd28", "control") in groups


def test_predict_takes_expression_data_or_an_effect_table(tmp_path):
    data = _sachs_table(tmp_path / "phospho.csv")
    res = runner.invoke(app, ["predict", "--dataset", str(data), "--perturbation-column", "inhibitor",
                              "--context-column", "condition", "--method", "mean", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["method"] == "mean"
    long = tmp_path / "screen.csv"  # a long label table is read as effects, not as expression
    long.write_text("perturbation,gene,label\n" + "".join(f"P{i},G{j},{(i + j) % 2}\n" for i in range(6) for j in range(4)))
    res = runner.invoke(app, ["predict", "--dataset", str(long), "--method", "mean", "--json"])
    assert res.exit_code == 0, res.output

