import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from anndata import AnnData

from aitia import datasets
from aitia.errors import DataValidationError


def _table(tmp_path, name="x.csv", text="perturbation,A,B\ncontrol,1,2\ncontrol,1.5,2\nA,0,1\n"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_read_csv_and_tsv(tmp_path):
    ad = datasets.read_table(_table(tmp_path))
    assert ad.shape == (3, 2) and list(ad.var_names) == ["A", "B"]
    tsv = _table(tmp_path, "x.tsv", "pert\tcell_line\tA\tB\nnon-targeting\tK562\t1\t2\nA\tK562\t0\t1\n")
    ad = datasets.read_table(tsv, perturbation_column="pert", context_column="cell_line")
    assert list(ad.obs.perturbation) == ["control", "A"] and set(ad.obs.context) == {"K562"}


def test_screen_control_conventions_are_controls(tmp_path):
    """Numbered control guides, GEARS' 'X+ctrl' singles and drug vehicles are read as controls; genes whose names
    start like a control word (NT5E, NTRK1) are not."""
    labels = ["non-targeting_0042", "NegCtrl3", "ctrl+ctrl", "DMSO", "CBL+ctrl", "NT5E", "NTRK1", "A+B"]
    text = "perturbation,A,B\n" + "".join(f"{lab},1,{i}\n" for i, lab in enumerate(labels))
    ad = datasets.read_table(_table(tmp_path, text=text))
    assert list(ad.obs.perturbation) == ["control"] * 4 + ["CBL", "NT5E", "NTRK1", "A+B"]
    custom = datasets.read_table(_table(tmp_path, text=text), control_labels=["ctrl"])
    assert list(custom.obs.perturbation)[:3] == ["non-targeting_0042", "NegCtrl3", "control"]


def test_an_ensembl_indexed_file_is_named_by_its_symbol_column(tmp_path):
    """Perturbations name genes by symbol; a var index of Ensembl ids would leave no perturbed gene measured."""
    ad = AnnData(np.arange(12, dtype="float32").reshape(4, 3) + 1)
    ad.var_names = ["ENSG00000141510", "ENSG00000124762", "ENSG00000000003"]
    ad.var["gene_name"] = ["TP53", "CDKN1A", "TSPAN6"]
    ad.obs_names = [f"c{i}" for i in range(4)]
    ad.obs["guide"] = ["non-targeting", "non-targeting", "TP53", "TP53"]
    ad.write_h5ad(tmp_path / "x.h5ad")
    out = datasets.read_h5ad(tmp_path / "x.h5ad", perturbation_column="guide")
    assert list(out.var_names) == ["TP53", "CDKN1A", "TSPAN6"]
    assert out.var["gene_name_index"].iloc[0] == "ENSG00000141510"


def test_read_parquet(tmp_path):
    df = pd.DataFrame({"perturbation": ["control", "B"], "A": [1.0, 2.0], "B": [3.0, 0.0]})
    df.to_parquet(tmp_path / "x.parquet")
    assert datasets.read_table(tmp_path / "x.parquet").n_obs == 2


@pytest.mark.parametrize(
    "text,match",
    [
        ("gene,A,B\ncontrol,1,2\n", "no column 'perturbation'"),
        ("perturbation,A,B\nX,1,2\nY,1,2\n", "No control samples"),
        ("perturbation,A,B\ncontrol,1,nan\nA,1,2\n", "NaN/inf"),
        ("perturbation,A,B\ncontrol,1,high\nA,1,2\n", "non-numeric"),
        ("perturbation,A,A\ncontrol,1,2\nA,1,2\n", "Duplicated gene names"),
        ('perturbation,A\n"control,1\n', "Could not parse"),
    ],
)
def test_bad_tables(tmp_path, text, match):
    p = _table(tmp_path, text=text)
    if "A,A" in text:  # pandas renames duplicated headers; emulate a real duplicate through AnnData
        ad = AnnData(np.ones((2, 2)), obs=pd.DataFrame({"perturbation": ["control", "A"]}, index=["a", "b"]))
        ad.var_names = ["A", "A"]
        with pytest.raises(DataValidationError, match=match):
            datasets.validate_perturbation_data(ad)
        return
    with pytest.raises(DataValidationError, match=match):
        datasets.read_table(p)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        datasets.read_table(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataValidationError, match="empty"):
        datasets.read_table(tmp_path / "empty.csv")
    (tmp_path / "junk.h5ad").write_bytes(b"not an hdf5 file at all")
    with pytest.raises(DataValidationError, match="Could not read"):
        datasets.read_h5ad(tmp_path / "junk.h5ad")


def _replogle_like(tmp_path, with_gene_column=True):
    """A tiny file in the Replogle / CausalBench layout: Ensembl var_names, var['gene_name'], obs['gene']."""
    rng = np.random.default_rng(0)
    targets = ["non-targeting"] * 20 + ["GATA1"] * 10 + ["TAL1"] * 10
    obs = pd.DataFrame(
        {"gene_transcript": [f"{i}_{t}_P1P2_ENSG{i:05d}" for i, t in enumerate(targets)]},
        index=[f"cell{i}" for i in range(len(targets))],
    )
    if with_gene_column:
        obs["gene"] = targets
    var = pd.DataFrame({"gene_name": ["GATA1", "TAL1", "MYB"]}, index=["ENSG1", "ENSG2", "ENSG3"])
    x = sp.csr_matrix(rng.poisson(3, (len(targets), 3)).astype(np.float32))
    path = tmp_path / "k562_tiny.h5ad"
    AnnData(x, obs=obs, var=var).write_h5ad(path)
    return path


@pytest.mark.parametrize("with_gene_column", [True, False])
def test_read_perturbseq(tmp_path, with_gene_column):
    ad = datasets.read_perturbseq(_replogle_like(tmp_path, with_gene_column))
    assert list(ad.var_names) == ["GATA1", "TAL1", "MYB"]
    assert (ad.obs.perturbation == "control").sum() == 20
    assert set(ad.obs.perturbation) == {"control", "GATA1", "TAL1"}
    assert set(ad.obs.intervention_type) == {"control", "knockdown"}
    assert set(ad.obs.context) == {"k562_tiny"}


def test_read_h5ad_roundtrip(tmp_path, small_nb):
    adata, _ = small_nb
    path = tmp_path / "sim.h5ad"
    adata.write_h5ad(path)
    back = datasets.read_h5ad(path)
    assert back.shape == adata.shape
    with pytest.raises(DataValidationError, match="no column 'guide'"):
        datasets.read_h5ad(path, perturbation_column="guide")


def test_download_from_local_file(tmp_path):
    """The download code path (resumable .part file, checksum) against a file:// URL; no network."""
    import hashlib

    src = tmp_path / "src.bin"
    src.write_bytes(b"x" * 5000)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    dest = datasets.download(src.as_uri(), tmp_path / "out" / "copy.bin", sha256=digest)
    assert dest.read_bytes() == src.read_bytes()
    with pytest.raises(DataValidationError, match="Checksum mismatch"):
        datasets.download(src.as_uri(), tmp_path / "bad.bin", sha256="0" * 64)
    with pytest.raises(DataValidationError, match="Unknown public file"):
        datasets.download("replogle-nope", tmp_path)


def test_a_data_file_is_a_dataset_without_shipped_truths(tmp_path):
    from aitia.errors import UnknownDatasetError

    path = _table(tmp_path, "screen.tsv", "target\tA\tB\nctrl\t1\t2\nctrl\t1.5\t2\nA\t0\t1\n")
    ad = datasets.load(str(path), perturbation_column="target")
    assert ad.shape == (3, 2) and ad.obs["perturbation"].tolist() == ["control", "control", "A"]
    assert datasets.user_file(str(path)) == path and datasets.user_file("sachs") is None
    assert datasets.rules(str(path)) == datasets.DEFAULT_RULES
    assert datasets.evaluation_truths(str(path)) == {} and datasets.reference_graphs(str(path)) == {}
    assert datasets.training_labels(str(path)) is None
    with pytest.raises(UnknownDatasetError, match="ships no truth"):
        datasets.ground_truth(str(path))
    with pytest.raises(UnknownDatasetError, match="names no existing data file"):
        datasets.load(str(tmp_path / "gone.h5ad"))
    with pytest.raises(UnknownDatasetError, match="or the path of an .h5ad file"):
        datasets.load("my-screen")
    with pytest.raises(DataValidationError, match="unknown data file type"):
        datasets.read_data(_table(tmp_path, "x.json", "{}"))


def test_an_h5ad_with_its_own_column_names(tmp_path):
    ad = AnnData(np.arange(12, dtype=np.float32).reshape(6, 2), var=pd.DataFrame(index=["A", "B"]))
    ad.obs["target_gene"] = ["non-targeting", "non-targeting", "A", "A", "non-targeting", "A"]
    ad.obs["cell_line"] = ["K562"] * 3 + ["HepG2"] * 3
    ad.obs.index = [f"c{i}" for i in range(6)]
    ad.write_h5ad(tmp_path / "screen.h5ad")
    got = datasets.read_data(tmp_path / "screen.h5ad", perturbation_column="target_gene", context_column="cell_line")
    assert got.obs["perturbation"].tolist()[:3] == ["control", "control", "A"]
    assert sorted(set(got.obs["context"])) == ["HepG2", "K562"]
    with pytest.raises(DataValidationError, match="no column 'line'"):
        datasets.read_data(tmp_path / "screen.h5ad", perturbation_column="target_gene", context_column="line")
