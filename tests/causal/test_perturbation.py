import numpy as np
import pandas as pd
import pytest

from aitia.causal import perturbation as P
from aitia.causal.effects import EffectTable, effects_for_dataset, effects_from_adata
from aitia.causal.simulate import simulate_nb
from aitia.errors import AitiaError, DataValidationError, NotFittedError


@pytest.fixture(scope="module")
def multi_context():
    adata, graph = simulate_nb(
        n_genes=40, n_cells=12_000, n_perturbations=24, n_contexts=3, knockdown_factor=0.1, seed=5
    )
    return adata, graph, effects_from_adata(adata)


def test_effects_from_adata(multi_context):
    adata, _, eff = multi_context
    assert eff.contexts == ["ctx0", "ctx1", "ctx2"] and len(eff.perturbations) == 24 and len(eff.genes) == 40
    frame = eff.to_frame()
    assert list(frame.columns) == ["context", "perturbation", "gene", "effect", "label"]
    # a knockdown lowers its own target (log fold change < 0, DE)
    own = frame[frame.perturbation == frame.gene]
    assert (own.effect < 0).mean() > 0.9 and own.label.mean() > 0.8


def test_builtin_effect_tables():
    d = effects_for_dataset("dream4-10-1")
    assert d.contexts == ["knockout", "knockdown"] and d.shape == (2, 10, 10)
    k = effects_for_dataset("kemmeren-mrcl")
    assert k.shape == (1, 50, 50) and 0 < np.nanmean(k.label) < 0.2


def test_frame_roundtrip_and_errors(tmp_path):
    df = pd.DataFrame({"pert": ["A", "A", "B"], "gene": ["X", "Y", "X"], "label": [1, 0, 1]})
    t = EffectTable.from_frame(df)
    assert t.shape == (1, 2, 2) and t.label[0, 0, 0] == 1
    path = t.write(tmp_path / "e.csv")
    assert EffectTable.read(path).shape == (1, 2, 2)
    with pytest.raises(DataValidationError, match="lacks columns"):
        EffectTable.from_frame(pd.DataFrame({"gene": ["X"], "label": [1]}))
    with pytest.raises(DataValidationError, match="duplicated"):
        EffectTable.from_frame(pd.DataFrame({"pert": ["A", "A"], "gene": ["X", "X"], "label": [1, 0]}))
    with pytest.raises(DataValidationError, match="non-numeric"):
        EffectTable.from_frame(pd.DataFrame({"pert": ["A"], "gene": ["X"], "effect": ["big"]}))
    with pytest.raises(DataValidationError, match="0 or 1"):
        EffectTable.from_frame(pd.DataFrame({"pert": ["A"], "gene": ["X"], "label": [3]}))
    with pytest.raises(FileNotFoundError):
        EffectTable.read(tmp_path / "missing.csv")


def test_per_gene_auroc_of_measured_pairs_equals_the_dense_metric():
    """The cross-validation scores flat arrays of measured pairs; ties, NaN-free rows and one-class genes must give
    exactly the dense metric's value and gene count."""
    from aitia.causal.perturbation.evaluate import per_gene_auroc_pairs

    rng = np.random.default_rng(0)
    for _ in range(100):
        n_rows, n_genes = int(rng.integers(2, 30)), int(rng.integers(1, 40))
        s = np.round(rng.random((n_rows, n_genes)), int(rng.integers(1, 3)))  # coarse: many ties
        y = (rng.random((n_rows, n_genes)) < 0.3).astype(float)
        y[rng.random((n_rows, n_genes)) < 0.5] = np.nan
        r, c = np.nonzero(~np.isnan(y))
        dense, pairs = P.per_gene_auroc(s, y), per_gene_auroc_pairs(s[r, c], y[r, c], c)
        assert pairs[1] == dense[1]
        assert (np.isnan(dense[0]) and np.isnan(pairs[0])) or pairs[0] == pytest.approx(dense[0], abs=1e-12)


def test_metrics_hand_computed():
    s = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.3]])
    y = np.array([[1, 0], [0, 1], [0, 0]])
    assert P.per_gene_auroc(s, y) == (1.0, 2)
    assert P.per_gene_auroc(1 - s, y)[0] == 0.0
    truth = EffectTable(["c"], ["A", "B"], ["X", "Y", "Z"], np.array([[[2.0, -1.0, 0.1], [-2.0, 1.0, 0.0]]]),
                        np.array([[[1, 1, 0], [1, 0, 0]]]))  # fmt: skip
    pred = EffectTable(["c"], ["A", "B"], ["X", "Y", "Z"], np.array([[[1.0, 1.0, 0.0], [-1.0, 0.5, 0.2]]]),
                       np.array([[[0.9, 0.2, 0.1], [0.8, 0.1, 0.3]]]))  # fmt: skip
    m = P.evaluate_predictions(pred, truth, top_k=3)
    assert m.direction_accuracy == pytest.approx(2 / 3)  # X(+,+) ok, Y(-,+) wrong, B:X(-,-) ok
    r_a = np.corrcoef([1.0, 1.0, 0.0], [2.0, -1.0, 0.1])[0, 1]
    r_b = np.corrcoef([-1.0, 0.5, 0.2], [-2.0, 1.0, 0.0])[0, 1]
    assert m.top_de_pearson == pytest.approx((r_a + r_b) / 2)


@pytest.mark.parametrize("name", ["linear", "graph", "context_transfer", "ensemble"])
def test_predictors_beat_mean(name, multi_context):
    adata, graph, eff = multi_context
    prior = graph.to_scores(list(adata.var_names))
    kind = "unseen_pair" if name in ("linear", "context_transfer", "ensemble") else "unseen_perturbation"
    kw = {"members": ("mean", "linear")} if name == "ensemble" else {}
    mean = P.evaluate_predictor(P.get("mean"), eff, kind, prior=prior, seed=1)
    m = P.evaluate_predictor(P.get(name, **kw), eff, kind, adata=adata, prior=prior, seed=1)
    assert m.per_gene_auroc > mean.per_gene_auroc + 0.1
    assert m.top_de_pearson > mean.top_de_pearson


def test_context_transfer_leave_one_context_out(multi_context):
    _, _, eff = multi_context
    m = P.evaluate_predictor(
        P.get("context_transfer", epochs=200), eff, "leave_one_context_out", context="ctx2"
    )
    assert m.per_gene_auroc > 0.8


def test_predictor_errors(multi_context):
    _, _, eff = multi_context
    with pytest.raises(NotFittedError):
        P.get("mean").predict([("ctx0", "G1")])
    with pytest.raises(DataValidationError, match="EffectTable"):
        P.get("mean").fit(pd.DataFrame())
    with pytest.raises(DataValidationError, match="needs a graph"):
        P.get("graph").fit(eff)
    with pytest.raises(AitiaError, match="not recognised"):
        P.get("gears")
    with pytest.raises(DataValidationError, match="Split"):
        P.split(eff, "random")
    one = eff.subset(np.eye(3, 24, dtype=bool))
    with pytest.raises(DataValidationError, match="at least two contexts"):
        P.split(
            EffectTable(["c"], eff.perturbations, eff.genes, eff.effect[:1], eff.label[:1]),
            "leave_one_context_out",
        )
    assert one.observed.sum() == 3


PREDICTOR_KW = {"ensemble": {"members": ("mean", "linear")}, "context_transfer": {"epochs": 100}}


@pytest.mark.parametrize("name", P.available())
def test_predictor_conformance(name, multi_context):
    """The scikit-learn contract for every registered predictor: clone, not-fitted error, determinism, bad input,
    and fit leaves its inputs untouched."""
    from sklearn.base import clone

    adata, graph, eff = multi_context
    prior = graph.to_scores(list(adata.var_names))
    est = P.get(name, **PREDICTOR_KW.get(name, {}))
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    queries = [("ctx0", p) for p in eff.perturbations[:4]]
    with pytest.raises(NotFittedError):
        est.predict(queries)
    effect_before, label_before = eff.effect.copy(), eff.label.copy()
    obs_before = adata.obs.copy()
    a = est.fit(eff, adata=adata, prior=prior).predict(queries)
    b = clone(est).fit(eff, adata=adata, prior=prior).predict(queries)
    np.testing.assert_allclose(a.label, b.label, rtol=1e-5, atol=1e-6)  # deterministic with a seed
    assert a.shape == (1, 4, len(eff.genes)) and np.isfinite(a.label).all()
    np.testing.assert_array_equal(eff.effect, effect_before)
    np.testing.assert_array_equal(eff.label, label_before)
    pd.testing.assert_frame_equal(adata.obs, obs_before)
    with pytest.raises(DataValidationError):
        clone(est).fit(pd.DataFrame())
    empty = EffectTable(
        eff.contexts, eff.perturbations, eff.genes, np.full(eff.shape, np.nan), np.full(eff.shape, np.nan)
    )
    with pytest.raises(DataValidationError, match="no observed"):
        clone(est).fit(empty, adata=adata, prior=prior)


def test_knn_beats_mean_with_expression_or_knowledge_features(multi_context):
    from aitia.types import GeneFeatures

    adata, graph, eff = multi_context
    genes = list(adata.var_names)
    truth = graph.to_scores(genes).values
    feats = GeneFeatures(
        genes, np.hstack([truth, truth.T]), sources=["true-graph"]
    )  # a perfect "curated network"

    def auroc(est, **kw):  # mean over three splits: each holds out only 6 of 24 perturbations
        return np.mean([P.evaluate_predictor(est, eff, "unseen_perturbation", seed=s, **kw).per_gene_auroc
                        for s in (1, 2, 3)])  # fmt: skip

    mean = auroc(P.get("mean"))
    assert auroc(P.get("knn"), adata=adata) > mean + 0.05  # expression principal components
    known = auroc(P.get("knn"), features=feats)
    shuffled = np.mean([auroc(P.get("knn"), features=feats.shuffled(s)) for s in range(3)])
    assert known > mean + 0.05 and known > shuffled + 0.05  # the control that must fail does
    # the same perturbation measured in another context is its best neighbour (transfer across contexts)
    pair = P.evaluate_predictor(P.get("knn"), eff, "unseen_pair", adata=adata, seed=1)
    assert pair.per_gene_auroc > 0.8
    with pytest.raises(DataValidationError, match="features"):
        P.get("knn").fit(eff)
    with pytest.raises(DataValidationError, match="GeneFeatures"):
        P.get("knn").fit(eff, features=np.zeros((3, 3)))


def test_label_only_tables_are_refused_by_effect_regressors_and_nan_is_never_a_prediction():
    df = pd.DataFrame(
        {"pert": ["A", "A", "B", "B", "C", "C"], "gene": ["X", "Y"] * 3, "label": [1, 0, 0, 1, 1, 1]}
    )
    labels_only = EffectTable.from_frame(df)
    assert not labels_only.effects_known and EffectTable.from_frame(df.assign(effect=1.0)).effects_known
    for name in ("linear", "context_transfer"):
        with pytest.raises(DataValidationError, match="labels only"):
            P.get(name).fit(labels_only)
    pred = P.get("mean").fit(labels_only).predict([("default", "A")])
    pred.label_rows[:] = np.nan
    with pytest.raises(DataValidationError, match="NaN"):
        P.evaluate_predictions(pred, labels_only)


def test_context_transfer_computes_two_step_prior_paths_once(multi_context):
    adata, graph, eff = multi_context
    prior = graph.to_scores(list(adata.var_names))
    est = P.get("context_transfer", epochs=20).fit(eff, prior=prior)
    import torch

    assert torch.allclose(est.NN_, est.N_ @ est.N_)


def test_queries_whose_target_is_not_a_readout_are_listed(multi_context):
    _, _, eff = multi_context
    est = P.get("linear").fit(eff)
    est.predict([("ctx0", eff.perturbations[0]), ("ctx0", "NOT_MEASURED")])
    assert est.unplaced_ == ["NOT_MEASURED"]


def test_curated_signs_reach_the_graph_predictor():
    """A curated repression must flip the predicted direction (signs used to be dropped by prior=)."""
    from aitia.knowledge.priors import PriorNetwork

    genes = ["TP53", "MDM2", "CDKN1A", "MYC"]
    rows = []
    for pert, own in (("MDM2", -2.0), ("CDKN1A", -2.0), ("MYC", -2.0)):  # knockdowns lower their own target
        for g in genes:
            rows.append(
                {
                    "perturbation": pert,
                    "gene": g,
                    "effect": own if g == pert else 0.1,
                    "label": int(g == pert),
                }
            )
    effects = EffectTable.from_frame(pd.DataFrame(rows))
    predicted = {}
    for sign in (1, -1):
        net = PriorNetwork(
            pd.DataFrame({"source": ["TP53"], "target": ["CDKN1A"], "sign": [sign]}), name="toy"
        )
        prior = net.to_scores(genes)
        assert prior.signs is not None and prior.signs[0, 2] == sign
        assert prior.restrict(["CDKN1A", "TP53"]).signs[1, 0] == sign  # signs follow restrict/reindex
        pred = P.get("graph").fit(effects, prior=prior).predict([("default", "TP53")])
        predicted[sign] = float(pred.effect[0, 0, genes.index("CDKN1A")])
    # knocking down an activator lowers its target; knocking down a repressor raises it
    assert predicted[1] < 0 < predicted[-1]
    assert P.get("graph").uses_signs and not P.get("knn").uses_signs


def test_hypotheses_carry_their_relation_as_signs():
    from aitia.knowledge.hypotheses import Hypothesis, HypothesisSet, Provenance

    prov = Provenance(generator="test", backend="none", model="none", probability_source="test")
    hs = HypothesisSet(genes=["A", "B"], hypotheses=[
        Hypothesis(source="A", target="B", relation="represses", probability=0.9, rationale="", provenance=prov),
        Hypothesis(source="B", target="A", relation="activates", probability=0.4, rationale="", provenance=prov),
    ])  # fmt: skip
    s = hs.to_scores()
    assert s.signs.tolist() == [[0, -1], [1, 0]]
    assert s.to_graph(top_k=1).edges["A", "B"]["sign"] == -1


def test_sparse_screens_are_stored_by_observed_pair():
    """Each line perturbs its own genes: the table keeps one row per observed pair, never the dense cube."""
    rng = np.random.default_rng(0)
    rows = []
    for c in range(3):
        for p in range(c * 200, c * 200 + 200):
            g = rng.choice(400, 8, replace=False)
            rows.append(pd.DataFrame({"context": f"l{c}", "perturbation": f"P{p}", "gene": [f"G{x}" for x in g],
                                      "label": rng.integers(0, 2, 8)}))  # fmt: skip
    frame = pd.concat(rows, ignore_index=True)
    t = EffectTable.from_frame(frame)
    dense_bytes = 2 * 4 * np.prod(t.shape)
    assert t.shape == (3, 600, 400) and len(t.effect_rows) == 600 and t.nbytes < dense_bytes / 2.5
    # the row API and the dense view agree; selections keep rows, not cubes
    c, p = t.pair_positions
    assert np.array_equal(t.label[c, p], t.label_rows, equal_nan=True)
    back = t.to_frame().sort_values(["context", "perturbation", "gene"]).reset_index(drop=True)
    want = frame.sort_values(["context", "perturbation", "gene"]).reset_index(drop=True)
    assert np.array_equal(back["label"].to_numpy(), want["label"].to_numpy())
    sub = t.subset(t.observed & (np.arange(600) < 100)[None, :])
    assert len(sub.effect_rows) == 100 and sub.observed.sum() == 100
    re = t.reindex(["l1", "l0"], ["P0", "P250"], [*t.genes, "NEW"])
    assert re.observed.tolist() == [[False, True], [True, False]] and np.isnan(re.row(0, 1)[1][-1])
    assert np.array_equal(re.row(1, 0)[1][:-1], t.row(0, 0)[1], equal_nan=True)
    pred = P.get("mean").fit(t).predict([("l0", "P5"), ("l0", "P5")])  # a repeated query: one row
    assert len(pred.label_rows) == 1


def test_expression_scorecard(multi_context):
    """The mean predictor is the baseline (ratios 1); a predictor with the true graph beats it and recognises its
    perturbations; the same predictions assigned to the wrong perturbations do not."""
    from aitia.causal.perturbation.scorecard import expression_scorecard, split_half_effects

    adata, graph, eff = multi_context
    train, q = P.split(eff, "unseen_pair", seed=0)
    mean = expression_scorecard(P.get("mean").fit(train).predict(q), eff, train)
    assert mean.l2_ratio == pytest.approx(1.0) and mean.deg_weighted_mae_ratio == pytest.approx(1.0)
    pred = P.get("graph").fit(train, prior=graph.to_scores(list(adata.var_names))).predict(q)
    card = expression_scorecard(pred, eff, train, ceiling=split_half_effects(adata))
    assert card.l2_ratio < 1 and card.discrimination < 0.2 and card.de_overlap > mean.de_overlap
    assert card.ceiling_l2_ratio is not None
    wrong = pred.reindex(pred.contexts, pred.perturbations, pred.genes)
    wrong.effect_rows = wrong.effect_rows[::-1].copy()
    assert expression_scorecard(wrong, eff, train).discrimination > 0.3
    with pytest.raises(DataValidationError, match="labels only"):
        labels_only = EffectTable.from_frame(eff.to_frame().drop(columns=["effect"]))
        expression_scorecard(pred, labels_only, train)


def test_knn_averages_each_gene_over_the_neighbours_that_measured_it():
    """A sparse label screen: the closest perturbation did not read out gene Y, so Y comes from the nearest one
    that did (the old global top-k fell back to the training frequency), and "auto" picks by cross-validation."""
    from aitia.types import GeneFeatures

    rows = [("A", "X", 1), ("B", "Y", 1), ("C", "Y", 0), ("C", "X", 0)]
    table = EffectTable.from_frame(pd.DataFrame(rows, columns=["pert", "gene", "label"]))
    v = {"A": [1.0, 0.0, 0.0], "B": [0.9, 0.44, 0.0], "C": [0.0, 0.0, 1.0],
         "Q": [1.0, 0.1, 0.0], "R": [0.05, 0.0, 1.0]}  # fmt: skip
    feats = GeneFeatures(list(v), np.array(list(v.values()), np.float32), ["toy"])
    est = P.get("knn", power=8.0, shrinkage=0.0).fit(table, features=feats)
    pred = est.predict([("default", "Q"), ("default", "R")])
    lab = dict(zip(pred.genes, pred.label_rows.T))
    assert lab["Y"][0] > 0.9 and lab["Y"][1] < 0.1  # Q's Y from B (A never measured Y); R's from C
    assert lab["X"][0] > 0.9 and lab["X"][1] < 0.1
    assert P.get("knn", k=1, power=8.0, shrinkage=0.0).fit(table, features=feats).predict(
        [("default", "Q")]).label_rows[0, list(pred.genes).index("Y")] == pytest.approx(0.5, abs=0.2)  # fmt: skip


def test_knn_auto_power_is_cross_validated_and_per_gene_auroc_matches_sklearn(multi_context):
    from sklearn.metrics import roc_auc_score

    adata, _, eff = multi_context
    est = P.get("knn").fit(eff, adata=adata)
    assert est.power_ in P.knn.POWERS and est.shrinkage_ in P.knn.SHRINKAGES
    grid = len(P.knn.POWERS) * len(P.knn.SHRINKAGES)
    assert len(est.cv_scores_) == grid * len(P.knn.SELF_WEIGHTS)  # three contexts: the self weight is judged
    assert est.source_weights_ == [1.0]  # one feature source: nothing to weigh
    assert max(est.cv_scores_.values()) == est.cv_scores_[(est.power_, est.shrinkage_, est.self_weight_, 1.0)]
    # the same perturbation in another context is what transfers: the cross-validation sees it
    assert est.self_weight_ > 0 and est.cv_scores_[(est.power_, est.shrinkage_, 0.0, 1.0)] < est.cv_scores_[
        (est.power_, est.shrinkage_, est.self_weight_, 1.0)] - 0.1  # fmt: skip
    keep = np.zeros(eff.observed.shape, bool)
    keep[0] = eff.observed[0]
    one = eff.subset(keep)
    single = P.get("knn").fit(one, adata=adata)
    assert len(single.cv_scores_) == grid and single.self_weight_ == 1.0  # one context: nothing to judge
    fixed = P.get("knn", power=2.0, shrinkage=1.0, self_weight=1.0).fit(eff, adata=adata)
    assert fixed.cv_scores_ == {} and (fixed.power_, fixed.shrinkage_, fixed.self_weight_) == (2.0, 1.0, 1.0)
    rng = np.random.default_rng(0)
    y = (rng.random((30, 40)) < 0.3).astype(float)
    s = np.round(rng.random((30, 40)), 1)  # ties
    y[rng.random(y.shape) < 0.2] = np.nan
    ref = [roc_auc_score(y[~np.isnan(y[:, g]), g], s[~np.isnan(y[:, g]), g]) for g in range(40)
           if len(np.unique(y[~np.isnan(y[:, g]), g])) == 2]  # fmt: skip
    assert P.per_gene_auroc(s, y) == (pytest.approx(np.mean(ref)), len(ref))


def test_knn_settings_are_checked(multi_context):
    adata, _, eff = multi_context
    for bad in ({"power": "bogus"}, {"shrinkage": -1.0}, {"self_weight": "high"}, {"k": 0}):
        with pytest.raises(DataValidationError, match="must be"):
            P.get("knn", **bad).fit(eff, adata=adata)


def test_knn_weighs_feature_sources_by_cross_validation():
    """Two feature sources, one that groups perturbations as their effects do and one that is noise: "auto" gives
    the informative one the weight, and a bad source_weights setting is one clear error."""
    from aitia.types import GeneFeatures

    rng = np.random.default_rng(0)
    perts = [f"P{i}" for i in range(60)]
    group = np.arange(60) % 3
    genes = [f"G{j}" for j in range(30)]
    rows = [
        (p, g, int(group[i] == j % 3))
        for i, p in enumerate(perts)
        for j, g in enumerate(genes)
        if rng.random() < 0.5
    ]
    table = EffectTable.from_frame(pd.DataFrame(rows, columns=["pert", "gene", "label"]))
    good = GeneFeatures(perts, np.eye(3, dtype=np.float32)[group] + 0.05 * rng.random((60, 3)), ["good"])
    noise = GeneFeatures(perts, rng.random((60, 8)).astype(np.float32), ["noise"])
    est = P.get("knn").fit(table, features=noise.concat(good))
    assert est.feature_sources_ == ["noise", "good"] and est.source_weights_[1] >= 0.75
    assert len(est.cv_scores_) == len(P.knn.POWERS) * len(P.knn.SHRINKAGES) * len(P.knn.SOURCE_WEIGHTS)
    fixed = P.get("knn", source_weights=[1.0, 0.0], power=4.0, shrinkage=1.0).fit(
        table, features=noise.concat(good)
    )
    assert fixed.source_weights_ == [1.0, 0.0] and fixed.cv_scores_ == {}
    for bad in ([1.0], [0.0, 0.0], "equal"):
        with pytest.raises(DataValidationError, match="source_weights needs 'auto', None or 2 numbers"):
            P.get("knn", source_weights=bad).fit(table, features=noise.concat(good))
