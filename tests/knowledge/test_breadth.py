"""Expression breadth from gene descriptions (offline MiniLM), and its use as a source prior."""

import numpy as np

from aitia.knowledge.breadth import breadth_prior, expression_breadth
from aitia.knowledge.gene_features import gene_description
from aitia.knowledge.priors import prior_scores


def test_yeast_descriptions_and_breadth_rank_expression_machinery_first():
    assert gene_description("YLR357W", organism="yeast").startswith("RSC2 (YLR357W): Component of the RSC")
    assert gene_description("YLR357W") == ""  # not a human gene: nothing is invented
    genes = ["RSC2", "PAF1", "SPO11", "HXK2", "NOT_A_GENE"]
    s = expression_breadth(genes, organism="S. cerevisiae")
    assert np.isnan(s["NOT_A_GENE"])
    assert min(s["RSC2"], s["PAF1"]) > max(s["SPO11"], s["HXK2"])
    human = expression_breadth(["MED1", "SMARCA4", "ALB", "INS"])
    assert min(human["MED1"], human["SMARCA4"]) > max(human["ALB"], human["INS"])


def test_breadth_prior_is_a_source_level_prior():
    genes = ["RSC2", "SPO11", "NOT_A_GENE"]
    p = breadth_prior(genes, organism="yeast")
    assert p.genes == genes and (np.diag(p.values) == 0).all()
    assert p["RSC2", "SPO11"] > p["SPO11", "RSC2"]
    assert p["NOT_A_GENE", "RSC2"] == 0.5  # no description: the median
    again = prior_scores("breadth", genes, organism="yeast")
    assert again is not None
    np.testing.assert_allclose(again.values, p.values)
