"""Gene-mention tagger against BioRED's gold gene annotations.

Prints precision / recall / F1 for (1) mention spans (exact and overlapping), (2) mentions with the right
NCBI Gene (Entrez) id, (3) document-level sets of Entrez ids; plus the main error classes.
Baseline in the same run: exact case-sensitive matching of approved HGNC symbols only.

    python benchmarks/gene_tagger.py [--split Test|Dev|Train]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import print_table  # noqa: E402


def prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


class SymbolOnly:
    """Baseline: approved HGNC symbols, exact case, whole tokens."""

    def __init__(self, resolver):
        import re

        self.resolver = resolver
        self.re = re.compile(r"[A-Za-z0-9-]+")

    def tag(self, text):
        from aitia.knowledge.genes import GeneMention

        out = []
        for m in self.re.finditer(text):
            if m.group(0) in self.resolver.hgnc:
                out.append(
                    GeneMention(
                        start=m.start(), end=m.end(), text=m.group(0), symbols=[m.group(0)], kind="symbol"
                    )
                )
        return out


def evaluate(tagger, docs, resolver):
    c = Counter()
    errors: Counter[str] = Counter()
    t0 = time.perf_counter()
    for doc in docs:
        text = doc.text
        gold = doc.genes()
        pred = tagger.tag(text)
        gold_spans = {(g.start, g.end) for g in gold}
        c["gold"] += len(gold)
        c["pred"] += len(pred)
        c["exact"] += sum((m.start, m.end) in gold_spans for m in pred)
        ids_pred_doc, ids_gold_doc = set(), set()
        for g in gold:
            ids_gold_doc |= set(g.ids)
        for m in pred:
            ids = {resolver.entrez(s) for s in m.symbols} - {None}
            over = [g for g in gold if g.start < m.end and m.start < g.end]
            if over:
                c["overlap"] += 1
                if any(ids & set(g.ids) for g in over):
                    c["id_ok"] += 1
                else:
                    errors["right span, wrong or non-human id"] += 1
            else:
                errors[
                    "false positive: " + ("family/grounding" if m.kind in ("family", "grounding") else m.kind)
                ] += 1
            if len(m.symbols) <= 3:
                ids_pred_doc |= ids
        for g in gold:
            if not any(g.start < m.end and m.start < g.end for m in pred):
                human = any(resolver.symbol_for_entrez(i) for i in g.ids)
                errors["missed: " + ("human gene" if human else "non-human/unknown id")] += 1
        c["doc_tp"] += len(ids_pred_doc & ids_gold_doc)
        c["doc_pred"] += len(ids_pred_doc)
        c["doc_gold"] += len(ids_gold_doc)
        c["doc_gold_human"] += len({i for i in ids_gold_doc if resolver.symbol_for_entrez(i)})
    c["seconds"] = time.perf_counter() - t0
    return c, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--split", default="Test")
    args = ap.parse_args()
    from aitia.knowledge.genes import get_resolver, get_tagger
    from aitia.knowledge.pubtator import biored

    docs = biored(args.split)
    resolver = get_resolver()
    rows = []
    all_errors = {}
    for name, tagger in (
        ("aitia GeneTagger", get_tagger()),
        ("HGNC symbols only (baseline)", SymbolOnly(resolver)),
    ):
        c, errors = evaluate(tagger, docs, resolver)
        all_errors[name] = errors
        for level, tp, n_pred, n_gold in (
            ("span exact", c["exact"], c["pred"], c["gold"]),
            ("span overlap", c["overlap"], c["pred"], c["gold"]),
            ("mention + Entrez id", c["id_ok"], c["pred"], c["gold"]),
            ("document Entrez ids", c["doc_tp"], c["doc_pred"], c["doc_gold"]),
            ("document Entrez ids (human gold only)", c["doc_tp"], c["doc_pred"], c["doc_gold_human"]),
        ):
            p, r, f = prf(tp, n_pred, n_gold)
            rows.append(
                {
                    "tagger": name,
                    "level": level,
                    "precision": p,
                    "recall": r,
                    "f1": f,
                    "docs_per_s": len(docs) / c["seconds"],
                }
            )
    print_table(f"gene tagging on BioRED {args.split} ({len(docs)} abstracts)", rows)
    err_rows = [{"error class": k, "count": v} for k, v in all_errors["aitia GeneTagger"].most_common(8)]
    print_table("main error classes (aitia GeneTagger)", err_rows)


if __name__ == "__main__":
    main()
