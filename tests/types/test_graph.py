import numpy as np
import pandas as pd
import pytest

from aitia.errors import DataValidationError, UnknownGeneError
from aitia.types.graph import CausalGraph, EdgeLabels, EdgeScores


def _graph():
    return CausalGraph.from_edges(
        [
            ("A", "B", {"score": 0.9, "sign": 1, "evidence": ["PMID:1"]}),
            ("B", "C", {"score": 0.4, "sign": -1}),
        ],
        nodes=["A", "B", "C", "D"],
        name="toy",
    )


@pytest.mark.parametrize("fmt", ["graphml", "sif", "json", "csv"])
def test_export_roundtrip(tmp_path, fmt):
    g = _graph()
    path = g.write(tmp_path / f"g.{fmt}")
    back = CausalGraph.read(path)
    assert set(back.edges) == {("A", "B"), ("B", "C")}
    assert "D" in back.nodes or fmt == "csv"  # an edge list cannot carry isolated nodes
    if fmt != "sif":
        assert back.edges["A", "B"]["score"] == pytest.approx(0.9)
    assert int(back.edges["B", "C"]["sign"]) == -1


def test_sif_text(tmp_path):
    text = _graph().write(tmp_path / "g.sif").read_text().splitlines()
    assert "A\tactivates\tB" in text and "B\trepresses\tC" in text and "D" in text


def test_bad_format(tmp_path):
    with pytest.raises(DataValidationError, match="Options"):
        _graph().write(tmp_path / "g.xyz")
    (tmp_path / "e.csv").write_text("from_gene,to_gene\nA,B\n")
    with pytest.raises(DataValidationError, match="needs columns 'source' and 'target'"):
        CausalGraph.read(tmp_path / "e.csv")


def test_edge_table_aliases(tmp_path):
    (tmp_path / "e.csv").write_text('"Cause","Effect"\n"A","B"\n')
    assert set(CausalGraph.read(tmp_path / "e.csv").edges) == {("A", "B")}


def test_scores_roundtrip_and_lookup(tmp_path):
    s = EdgeScores(np.array([[0, 0.9, 0.1], [0.2, 0, np.nan], [0.3, 0.5, 0]]), ["A", "B", "C"], name="x")
    assert s["A", "B"] == pytest.approx(0.9)
    with pytest.raises(UnknownGeneError):
        s["A", "Z"]
    top = s.top_edges(2)
    assert top[["source", "target"]].values.tolist() == [["A", "B"], ["C", "B"]]
    assert len(s.to_frame()) == 5  # NaN dropped, diagonal excluded
    back = EdgeScores.load(s.save(tmp_path / "s.csv"))
    assert back["C", "B"] == pytest.approx(0.5)
    sub = s.restrict(["C", "A"])
    assert sub["C", "A"] == pytest.approx(0.3)
    re = s.reindex(["A", "Q"])
    assert np.isnan(re.values[0, 1])
    g = s.to_graph(threshold=0.4)
    assert set(g.edges) == {("A", "B"), ("C", "B")}


def test_scores_validation():
    with pytest.raises(DataValidationError, match="must be 2x2"):
        EdgeScores(np.zeros((3, 3)), ["A", "B"])
    with pytest.raises(DataValidationError, match="Duplicated"):
        EdgeScores(np.zeros((2, 2)), ["A", "A"])
    with pytest.raises(DataValidationError, match="inf"):
        EdgeScores(np.array([[0, np.inf], [0, 0]]), ["A", "B"])
    with pytest.raises(DataValidationError, match="0, 1 or NaN"):
        EdgeLabels(np.array([[0.5]]), ["A"], ["B"])
    df = pd.DataFrame({"source": ["A"], "target": ["B"], "score": ["high"]})
    with pytest.raises(DataValidationError, match="non-numeric"):
        EdgeScores.from_frame(df)


def test_labels_alignment():
    lab = EdgeLabels(np.array([[1, 0, np.nan], [0, 1, 1]]), ["A", "Z"], ["A", "B", "C"])
    flat, y = lab.aligned(["A", "B", "C"])
    # Z is not scored, A->A is the diagonal, A->C unknown: only A->B remains
    assert flat.tolist() == [1] and y.tolist() == [0]


def test_closure():
    g = CausalGraph.from_edges([("A", "B"), ("B", "C"), ("C", "D")])
    assert g.ancestral_closure().number_of_edges() == 6


def test_gene_features_reindex_concat_shuffle():
    import numpy as np

    from aitia.types import GeneFeatures

    f = GeneFeatures(["A", "B"], np.array([[3.0, 4.0], [0.0, 2.0]]), sources=["x"])
    r = f.reindex(["B", "Z", "A"])
    assert r.present.tolist() == [True, False, True] and r.values[1].tolist() == [0.0, 0.0]
    assert np.allclose(np.linalg.norm(f.normalized().values, axis=1), 1.0)
    g = f.concat(GeneFeatures(["B", "C"], np.ones((2, 3)), sources=["y"]))
    assert g.genes == ["A", "B", "C"] and g.dim == 5 and g.sources == ["x", "y"] and g.present.all()
    s = f.shuffled(1)
    assert sorted(s.genes) == ["A", "B"] and s.sources == ["x (shuffled)"]
    with pytest.raises(DataValidationError):
        GeneFeatures(["A"], np.zeros((2, 2)))
