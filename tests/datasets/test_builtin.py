import numpy as np
import pytest

from aitia import datasets
from aitia.errors import DataValidationError, UnknownDatasetError


def test_registry_lists_all():
    names = datasets.list()
    assert "sachs" in names and "kemmeren-mrcl" in names
    assert {f"dream4-{s}-{k}" for s in (10, 100) for k in range(1, 6)} <= set(names)


def test_unknown_dataset_suggests():
    with pytest.raises(UnknownDatasetError, match="Did you mean sachs"):
        datasets.load("sach")


def test_sachs_layout(sachs):
    assert sachs.shape == (7466, 11)
    obs = sachs.obs
    counts = obs.groupby(["reagent"]).size().to_dict()
    assert counts["cd3cd28"] == 853 and counts["u0126"] == 799 and counts["pma"] == 913
    assert set(obs.loc[obs.reagent == "u0126", "perturbation"]) == {"Mek"}
    assert set(obs.loc[obs.reagent == "ly", "perturbation"]) == {"PIP3"}
    assert set(obs.loc[obs.reagent == "pma", "intervention_type"]) == {"activator"}
    assert set(obs.loc[obs.reagent == "b2camp", "perturbation"]) == {"PKA"}
    # general stimuli are not node interventions
    assert set(obs.loc[obs.reagent == "icam2", "perturbation"]) == {"control"}
    raw = datasets.load("sachs", transform="raw")
    np.testing.assert_allclose(np.log(raw.X[:5] + 10), sachs.X[:5], rtol=1e-5)


def test_sachs_truths():
    cons = datasets.ground_truth("sachs", "consensus")
    bn = datasets.ground_truth("sachs", "bnlearn")
    assert cons.number_of_edges() == 18 and bn.number_of_edges() == 17
    assert cons.has_edge("Raf", "Mek") and cons.has_edge("PKA", "Akt")
    assert bn.has_edge("Erk", "Akt") and not cons.has_edge("Erk", "Akt")
    assert datasets.ground_truth("sachs", "tetrad").number_of_edges() == 20
    with pytest.raises(UnknownDatasetError):
        datasets.ground_truth("sachs", "nope")


@pytest.mark.parametrize("size,net,n_edges", [(10, 1, 15), (100, 2, 249)])
def test_dream4(size, net, n_edges):
    ad = datasets.load(f"dream4-{size}-{net}")
    assert ad.shape == (1 + 3 * size, size)
    assert (ad.obs.intervention_type == "knockout").sum() == size
    ko = ad[ad.obs.intervention_type == "knockout"]
    # the knocked-out gene reads 0 in its own knockout row
    assert np.allclose(np.diag(np.asarray(ko.X)), 0, atol=0.01)  # GeneNetWeaver adds small noise
    assert datasets.ground_truth(f"dream4-{size}-{net}").number_of_edges() == n_edges
    ts = datasets.load_dream4_timeseries(size, net)
    assert ts.obs["series"].nunique() == (5 if size == 10 else 10)


def test_dream4_parts():
    ad = datasets.load("dream4-10-3", parts=("wildtype", "knockouts"))
    assert ad.n_obs == 11
    with pytest.raises(DataValidationError, match="Unknown DREAM4 parts"):
        datasets.load("dream4-10-3", parts=("bogus",))


def test_kemmeren():
    every = datasets.load("kemmeren-mrcl", instance=4, rows="all")
    assert every.shape == (126, 50)
    assert (every.obs.perturbation == "control").sum() == 76
    # deletion rows are in the same order as the genes
    assert list(every.obs.perturbation[76:]) == list(every.var_names)
    full = datasets.ground_truth("kemmeren-mrcl", "all", instance=4)
    train = datasets.ground_truth("kemmeren-mrcl", "train", instance=4)
    test = datasets.ground_truth("kemmeren-mrcl", "test", instance=4)
    revealed = ~np.isnan(train.values)
    assert abs(revealed.mean() - 0.2) < 0.01
    assert np.isnan(test.values[revealed]).all() and not np.isnan(test.values[~revealed]).any()
    np.testing.assert_array_equal(train.values[revealed], full.values[revealed])
    # leak audit: the default load holds no deletion row of a held-out source (their rows make the test labels)
    ad = datasets.load("kemmeren-mrcl", instance=4)
    held = {s for s, row in zip(test.sources, test.values) if (~np.isnan(row)).any()}
    shown = set(ad.obs.perturbation) - {"control"}
    assert ad.shape == (86, 50) and len(held) == 40 and not shown & held
    assert shown == {s for s, row in zip(train.sources, train.values) if (~np.isnan(row)).any()}
    with pytest.raises(DataValidationError, match="instance"):
        datasets.load("kemmeren-mrcl", instance=25)


def test_info_model():
    info = datasets.info("sachs")
    assert info.n_genes == 11 and "consensus" in info.truths
