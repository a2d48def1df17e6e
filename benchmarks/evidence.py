"""Claim extraction against BioRED gene-gene relations, and calibration of the evidence support score.

Gold: BioRED relations of type Positive_Correlation / Negative_Correlation / Association between two gene
entities of the same abstract (undirected pairs, document level). Two settings:
  * oracle mentions - extraction run on BioRED's gold gene mentions (isolates relation extraction);
  * end to end      - aitia's gene tagger, pairs compared by human Entrez id.
Baseline in the same run: every pair of genes co-mentioned in a sentence.

    python benchmarks/evidence.py            # evaluate on Test
    python benchmarks/evidence.py --fit      # refit the support model on Train, write evidence_calibration.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _measure import print_table  # noqa: E402

GOLD_TYPES = {"Positive_Correlation": 1, "Negative_Correlation": -1, "Association": 0}


def gold_pairs(doc):
    gene_ids = {i for e in doc.genes() for i in e.ids}
    out = {}
    for r in doc.relations:
        if r.type in GOLD_TYPES and r.id1 in gene_ids and r.id2 in gene_ids and r.id1 != r.id2:
            out[frozenset((r.id1, r.id2))] = GOLD_TYPES[r.type]
    return out


def oracle_mentions(doc):
    from aitia.knowledge.genes import GeneMention

    return [
        GeneMention(start=e.start, end=e.end, text=e.text, symbols=list(e.ids), kind="gold")
        for e in doc.genes()
        if e.ids
    ]


def tagger_mentions(doc, tagger, resolver):
    from aitia.knowledge.genes import GeneMention

    out = []
    for m in tagger.tag(doc.text):
        ids = [i for s in m.symbols[:3] if (i := resolver.entrez(s))]
        if ids and len(m.symbols) <= 3:
            out.append(GeneMention(start=m.start, end=m.end, text=m.text, symbols=ids, kind=m.kind))
    return out


def predicted_pairs(doc, mentions, mode):
    from aitia.knowledge.documents import split_sentences
    from aitia.knowledge.evidence import extract_claims

    pred: dict[frozenset, list[int]] = {}
    if mode == "cooccurrence":
        for s, e in split_sentences(doc.text):
            ms = [m for m in mentions if s <= m.start and m.end <= e]
            for a, b in combinations(ms, 2):
                for x in a.symbols:
                    for y in b.symbols:
                        if x != y:
                            pred.setdefault(frozenset((x, y)), []).append(0)
        return pred
    for c in extract_claims(doc.text, doc_id=doc.pmid, mentions=mentions, include_associations=True):
        if c.negated:
            continue
        for x in c.source_symbols:
            for y in c.target_symbols:
                if x != y:
                    pred.setdefault(frozenset((x, y)), []).append(c.sign)
    return pred


def evaluate(docs, mention_fn, mode):
    c = Counter()
    for doc in docs:
        gold = gold_pairs(doc)
        pred = predicted_pairs(doc, mention_fn(doc), mode)
        c["gold"] += len(gold)
        c["pred"] += len(pred)
        for pair, signs in pred.items():
            if pair in gold:
                c["tp"] += 1
                g = gold[pair]
                s = int(np.sign(sum(signs)))
                if g != 0:
                    c["signed_gold_matched"] += 1
                    if s != 0:
                        c["signed_pred"] += 1
                        c["sign_ok"] += int(s == g)
    p = c["tp"] / c["pred"] if c["pred"] else 0.0
    r = c["tp"] / c["gold"] if c["gold"] else 0.0
    return {
        "pair_precision": p,
        "pair_recall": r,
        "pair_f1": 2 * p * r / (p + r) if p + r else 0.0,
        "sign_accuracy": c["sign_ok"] / c["signed_pred"] if c["signed_pred"] else float("nan"),
        "sign_coverage": c["signed_pred"] / c["signed_gold_matched"]
        if c["signed_gold_matched"]
        else float("nan"),
        "gold_pairs": c["gold"],
    }


def pair_features(doc, mentions, prior, resolver):
    """Features of every co-mentioned pair of gene ids in a document and its label."""
    from aitia.knowledge.documents import split_sentences
    from aitia.knowledge.evidence import extract_claims, support_features

    gold = gold_pairs(doc)
    claims = [c for c in extract_claims(doc.text, doc_id=doc.pmid, mentions=mentions) if not c.negated]
    co = Counter()
    for s, e in split_sentences(doc.text):
        ids = sorted({i for m in mentions if s <= m.start and m.end <= e for i in m.symbols})
        for a, b in combinations(ids, 2):
            co[(a, b)] += 1
            co[(b, a)] += 1
    rows, labels = [], []
    for (a, b), n_co in co.items():
        fwd = sum(1 for c in claims if a in c.source_symbols and b in c.target_symbols)
        rev = sum(1 for c in claims if b in c.source_symbols and a in c.target_symbols)
        sa, sb = resolver.symbol_for_entrez(a), resolver.symbol_for_entrez(b)
        pf = bool(sa and sb and prior.lookup(sa, sb))
        pr = bool(sa and sb and prior.lookup(sb, sa))
        rows.append(support_features(fwd, rev, n_co, pf, pr))
        labels.append(int(frozenset((a, b)) in gold))
    return rows, labels


def fit_calibration(train, test, prior, resolver, write: bool):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score

    from aitia.knowledge.evidence import _DEFAULT_CALIBRATION, relation_probability
    from aitia.knowledge.resources import knowledge_path

    def collect(docs):
        X, y = [], []
        for d in docs:
            feats, labels = pair_features(d, oracle_mentions(d), prior, resolver)
            X += feats
            y += labels
        keys = list(X[0])
        return np.array([[x[k] for k in keys] for x in X]), np.array(y), keys

    Xtr, ytr, keys = collect(train)
    Xte, yte, _ = collect(test)
    model = LogisticRegression(C=1.0).fit(Xtr, ytr)
    coef = {"intercept": float(model.intercept_[0]), **{k: float(v) for k, v in zip(keys, model.coef_[0])}}
    rows = []
    for name, c in (("default (hand-set)", _DEFAULT_CALIBRATION), ("fitted on BioRED Train", coef)):
        p = np.array([relation_probability(dict(zip(keys, x)), c) for x in Xte])
        bins = np.minimum((p * 10).astype(int), 9)
        ece = sum(
            abs(p[bins == b].mean() - yte[bins == b].mean()) * (bins == b).mean()
            for b in range(10)
            if (bins == b).any()
        )
        rows.append({"support model": name, "test_pairs": len(yte), "positives": int(yte.sum()),
                     "auroc": roc_auc_score(yte, p), "brier": brier_score_loss(yte, p), "ece": float(ece)})  # fmt: skip
    print_table(
        "relation probability (support before direction) on BioRED Test, co-mentioned gene pairs", rows
    )
    if write:
        path = knowledge_path("evidence_calibration.json")
        path.write_text(
            json.dumps({"fitted_on": "BioRED Train, oracle gene mentions", "coefficients": coef}, indent=1)
        )
        print(f"wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--split", default="Test")
    ap.add_argument("--fit", action="store_true", help="refit and write the support-model coefficients")
    args = ap.parse_args()
    from aitia.knowledge.genes import get_resolver, get_tagger
    from aitia.knowledge.priors import load_prior
    from aitia.knowledge.pubtator import biored

    docs = biored(args.split)
    tagger, resolver = get_tagger(), get_resolver()
    rows = []
    for setting, fn in (
        ("oracle mentions", oracle_mentions),
        ("end to end (aitia tagger)", lambda d: tagger_mentions(d, tagger, resolver)),
    ):
        for mode, label in (
            ("claims", "aitia extract_claims"),
            ("cooccurrence", "sentence co-occurrence (baseline)"),
        ):
            rows.append({"setting": setting, "method": label, **evaluate(docs, fn, mode)})
    print_table(f"gene-gene relation extraction on BioRED {args.split} ({len(docs)} abstracts)", rows)
    fit_calibration(biored("Train"), docs, load_prior("trrust+collectri"), resolver, write=args.fit)


if __name__ == "__main__":
    main()
