"""Question understanding: intents, direction, datasets named by alias, reagents, unknown genes, the LLM parse."""

import pytest
from langchain_core.runnables import RunnableLambda

from aitia.orchestrator.question import ParsedQuestion, parse_question, parse_question_llm


@pytest.mark.parametrize(
    ("question", "intent", "expected"),
    [
        ("What does PKC regulate in T-cell signalling?", "targets", {"subject": "PKC", "dataset": "sachs"}),
        ("What are the known transcriptional regulators of MYC?", "regulators", {"subject": "MYC"}),
        ("Which genes are regulated by STAT3?", "targets", {"subject": "STAT3"}),
        ("What is Raf regulated by?", "regulators", {"subject": "Raf"}),
        ("Is Erk affected when Mek is inhibited?", "effect", {"source": "Mek", "target": "Erk", "perturbation": "inhibit"}),
        ("Is MDM2 induced by p53?", "effect", {"source": "TP53", "target": "MDM2"}),
        ("What happens to Akt after U0126 treatment?", "effect", {"source": "Mek", "target": "Akt"}),
        ("Which proteins respond to PMA?", "perturbation_effect", {"subject": "PKC", "perturbation": "activate"}),
        ("What would knocking out G5 do in DREAM4 network 1 of size 10?", "perturbation_effect",
         {"subject": "G5", "dataset": "dream4-10-1", "perturbation": "knockout"}),
        ("What changes if you knock down G2 in the 10-gene DREAM4 network #3?", "perturbation_effect",
         {"dataset": "dream4-10-3", "perturbation": "knockdown"}),
        ("Compare the learned sachs graph with the consensus", "compare_graphs", {"reference": "consensus"}),
        ("Which experiment should I run next in sachs?", "next_experiment", {"dataset": "sachs"}),
        ("Describe the kemmeren dataset", "describe_dataset", {"dataset": "kemmeren-mrcl"}),
        ("Would blocking PI3K signalling through PIP3 change Akt levels in the Sachs data?", "effect",
         {"source": "PIP3", "target": "Akt"}),
        ("Can STAT3 drive expression of MYC?", "effect", {"source": "STAT3", "target": "MYC"}),
        ("Hello there", "unknown", {}),
        # numbered members written together, and one protein named twice (gene and reagent)
        ("If we block MEK1/2 with U0126, does phospho-ERK go down?", "effect", {"source": "Mek", "target": "Erk"}),
        ("Does SMAD2/3 regulate SERPINE1?", "effect", {"source": "SMAD2/3", "target": "SERPINE1"}),
        # "B depends on A": A is perturbed
        ("Does MAPK3 depend on MAP2K1?", "effect", {"source": "MAP2K1", "target": "MAPK3"}),
        ("Is AKT activity dependent on PI3K signalling?", "effect", {"source": "PIP3", "target": "Akt"}),
        ("Does Erk rely on Mek in sachs?", "effect", {"source": "Mek", "target": "Erk"}),
        # a method's name is not a gene; a knockout to run next is an experiment
        ("Evaluate a NOTEARS graph for dream4-10-3 against its gold standard.", "compare_graphs",
         {"dataset": "dream4-10-3"}),
        ("What is the most informative knockout to run next in dream4-10-2?", "next_experiment",
         {"dataset": "dream4-10-2"}),
        ("What does the knockout of G5 do in dream4-10-1?", "perturbation_effect", {"subject": "G5"}),
        # "Y responds to X", TFs binding a promoter, consequences of a knockdown, listing, "which knockout next"
        ("Predict how Akt responds to loss of PIP3.", "effect", {"source": "PIP3", "target": "Akt"}),
        ("Does JNK respond to PKC activation?", "effect", {"source": "PKC", "target": "Jnk", "perturbation": "activate"}),
        ("Which TFs bind the MYC promoter?", "regulators", {"subject": "MYC"}),
        ("Tell me the consequences of G7 knockdown in dream4-10-2", "perturbation_effect", {"subject": "G7"}),
        ("List the perturbations in dream4-10-5", "describe_dataset", {"dataset": "dream4-10-5"}),
        ("Which knockout should come next in the sachs experiment?", "next_experiment", {"dataset": "sachs"}),
        ("What does SOX2 turn on?", "targets", {"subject": "SOX2"}),
        ("Where should I intervene next to learn the sachs network?", "next_experiment", {"dataset": "sachs"}),
        ("Benchmark notears against the consensus graph on sachs.", "compare_graphs", {"reference": "consensus"}),
        ("Is the correlation graph for dream4-10-2 any good?", "compare_graphs", {"dataset": "dream4-10-2"}),
        # three genes: the pair around the relating verb; "Y a downstream target of X"; TFs that bind and control
        ("Does TGF-beta signalling through SMAD3 induce SERPINE1?", "effect", {"source": "SMAD3", "target": "SERPINE1"}),
        ("Could p38 be a downstream target of PKA?", "effect", {"source": "PKA", "target": "P38"}),
        ("What transcription factors bind to and control BCL2?", "regulators", {"subject": "BCL2"}),
        ("What are the downstream consequences of inhibiting Akt?", "perturbation_effect", {"subject": "Akt"}),
        ("Which proteins are known to activate Raf?", "regulators", {"subject": "Raf"}),
        ("Plan the next round of knockouts for dream4-100-1.", "next_experiment", {"dataset": "dream4-100-1"}),
        ("Which is the better learner on sachs, GES or PC?", "compare_graphs", {"dataset": "sachs"}),
    ],
)  # fmt: skip
def test_parse(question, intent, expected):
    p = parse_question(question)
    assert p.intent == intent, p
    for key, value in expected.items():
        assert getattr(p, key) == value, (key, p)


def test_unknown_genes_carry_suggestions():
    p = parse_question("Does TP35 activate CDKN1A?")
    assert [g.text for g in p.unknown] == ["TP35"] and p.unknown[0].suggestions[0] == "TP53"
    q = parse_question("Does FOOBAR1 regulate TP53?")
    assert [g.text for g in q.unknown] == ["FOOBAR1"] and q.unknown[0].suggestions == []
    # words, numbers, reagents and dataset names are not unknown genes
    assert not parse_question("What does U0126 do in DREAM4 network 1 of size 10 and in sachs?").unknown


def test_simulated_nodes_are_not_human_genes():
    p = parse_question("Does knocking out G3 change G7 in dream4-10-1?")
    assert [g.name for g in p.genes] == ["G3", "G7"] and all(g.symbols == [] for g in p.genes)


class _StructuredModel:
    """A chat model whose structured output is scripted (or fails)."""

    def __init__(self, reply):
        self.reply = reply

    def with_structured_output(self, schema):
        def run(_prompt):
            if isinstance(self.reply, Exception):
                raise self.reply
            return schema.model_validate(self.reply)

        return RunnableLambda(run)


def test_llm_parse_is_validated_by_the_same_schema_and_resolver():
    model = _StructuredModel(
        {"intent": "effect", "genes": ["p53", "MDM2"], "source": "p53", "target": "MDM2"}
    )
    p = parse_question_llm("Tell me whether p53 has anything to do with MDM2", model)
    assert isinstance(p, ParsedQuestion) and p.intent == "effect"
    assert (p.source, p.target) == ("TP53", "MDM2") and all(g.known for g in p.genes)
    # a model that fails (or returns garbage) falls back to the rules
    for bad in (RuntimeError("endpoint down"), {"intent": "not-an-intent"}):
        q = parse_question_llm("What regulates MYC?", _StructuredModel(bad))
        assert q.intent == "regulators" and q.subject == "MYC"


def test_english_words_are_not_the_measured_genes_of_that_name():
    """A user's genome-wide data measure MAX, SET, REST: the words 'max', 'set', 'rest' in a question are words."""
    import numpy as np
    import pandas as pd
    from anndata import AnnData

    from aitia import datasets

    ad = AnnData(np.random.default_rng(0).random((8, 5)).astype("float32"),
                 var=pd.DataFrame(index=["SET", "MAX", "CAT", "REST", "MYC"]))  # fmt: skip
    ad.obs["perturbation"] = ["control"] * 4 + ["MAX"] * 4
    ad.obs.index = [f"c{i}" for i in range(8)]
    datasets.register_data("word-genes", ad)
    try:
        assert [g.name for g in parse_question("Does MAX regulate MYC?").genes] == ["MAX", "MYC"]
        p = parse_question("What is the max effect of knocking down MYC?")
        assert p.intent == "perturbation_effect" and p.subject == "MYC"
        assert parse_question("What happens at rest when MAX is knocked down?").subject == "MAX"
        assert parse_question("Can you set the next experiment?").genes == []
    finally:
        datasets.unregister_data("word-genes")


def test_yeast_questions_read_yeast_names():
    """In a question about yeast data, STE5 (a human alias of nothing) and its protein Ste5p are the measured ORF
    YDR103W; SET1 is the yeast gene, not the human alias of SETD1A."""
    p = parse_question("Does deletion of STE5 alter YER040W expression in yeast?")
    assert (p.intent, p.dataset, p.source, p.target) == ("effect", "kemmeren-mrcl", "YDR103W", "YER040W")
    assert parse_question("What changes when Ste5p is deleted in the kemmeren data?").subject == "YDR103W"
    yeast = [g.symbols for g in parse_question("Does SET1 affect GLN3 in yeast?").genes]
    assert yeast == [["SET1"], ["GLN3"]]
    assert parse_question("Does SET1 affect TP53?").genes[0].symbols == ["SETD1A"]  # human by default
    # yeast names without the word "yeast": the yeast dataset measures them
    p = parse_question("Does deleting GLN3 change YKR039W?")
    assert (p.dataset, p.source, p.target) == ("kemmeren-mrcl", "YER040W", "YKR039W")
    assert parse_question("Does FOOBAR1 regulate TP53?").dataset is None


def test_registered_yeast_data_of_unknown_organism_read_yeast_names():
    """Data registered from Python do not say their organism: their gene names do."""
    import numpy as np
    import pandas as pd
    from anndata import AnnData

    from aitia import datasets

    orfs = ["YDR103W", "YER040W", "YKR039W", "YLR176C", "YPL045W", "YDR005C"]
    ad = AnnData(np.random.default_rng(0).random((12, 6)).astype("float32"), var=pd.DataFrame(index=orfs))
    ad.obs["perturbation"] = ["control"] * 6 + ["YDR103W"] * 3 + ["YER040W"] * 3
    ad.obs.index = [f"c{i}" for i in range(12)]
    datasets.register_data("my-yeast", ad)
    try:
        p = parse_question("Does deleting STE5 change GLN3?")
        assert (p.dataset, p.source, p.target) == ("my-yeast", "YDR103W", "YER040W")
    finally:
        datasets.unregister_data("my-yeast")
    assert parse_question("Does MAX regulate MYC?").source == "MAX"
