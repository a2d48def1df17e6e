"""Literature-store benchmark: ingest throughput and query latency (median, p95) at 10k and 100k chunks.

* Ingest pipeline (chunk + gene tagging + MiniLM embedding + chromadb write) on real shipped abstracts.
* Index build and query latency at 10k / 100k chunks: vectors are real MiniLM embeddings of real chunks, replicated
  with small noise (so the index has realistic geometry) and the real chunks' gene metadata; queries are real
  embedded questions, with and without a gene filter.
Baseline in the same run: exact brute-force cosine search in numpy over the same vectors.
Targets: query median < 50 ms at 100k without filter, < 250 ms with a gene filter.

    python benchmarks/store.py [--sizes 10000 100000] [--real 600]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _measure import print_table  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUERIES = [
    "TP53 induces apoptosis after DNA damage",
    "MEK phosphorylates ERK in the MAPK cascade",
    "insulin signalling through AKT",
    "mutations causing long QT syndrome",
    "transcription factors regulating hematopoiesis",
    "inflammatory cytokines such as IL6 and TNF",
    "STAT3 activation in cancer",
    "genes associated with Alzheimer disease",
    "regulation of the cell cycle by cyclin-dependent kinases",
    "NF-kB target genes in immune response",
]
GENE_FILTERS = ["TP53", "MAPK1", "AKT1", "IL6", "TNF", "STAT3", "APOE", "CDKN1A", "EGFR", "NFKB1"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--real", type=int, default=600, help="real documents through the full ingest pipeline")
    args = ap.parse_args()

    from aitia.knowledge.embeddings import MiniLMEmbedding
    from aitia.knowledge.genes import get_tagger
    from aitia.knowledge.store import LiteratureStore, default_corpus

    ef = MiniLMEmbedding()
    ef(["warm up"])
    get_tagger()
    docs = default_corpus()
    rng = np.random.default_rng(0)
    real = [docs[i] for i in rng.choice(len(docs), args.real, replace=False)]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = LiteratureStore(Path(tmp) / "real", embedding=ef)
        rep = store.add_documents(real, progress=False)
        rows.append({"stage": "ingest pipeline (chunk+tag+embed+write)", "chunks": rep.chunks_added, "seconds": rep.seconds,
                     "chunks_per_s": rep.chunks_per_s})  # fmt: skip
        got = store._col.get(include=["embeddings", "metadatas", "documents"])
        base_vecs = np.asarray(got["embeddings"], dtype=np.float32)
        base_meta, base_docs = got["metadatas"], got["documents"]
        t0 = time.perf_counter()
        ef([f"fresh text {i} " + base_docs[i % len(base_docs)] for i in range(256)])
        dt = time.perf_counter() - t0
        rows.append(
            {"stage": "MiniLM embedding alone", "chunks": 256, "seconds": dt, "chunks_per_s": 256 / dt}
        )
        print_table("ingest throughput (this machine)", rows)

        qvecs = np.asarray(ef(QUERIES), dtype=np.float32)
        lat_rows = []
        for n in args.sizes:
            idx = rng.integers(0, len(base_vecs), n)
            vecs = base_vecs[idx] + rng.normal(0, 0.02, (n, base_vecs.shape[1])).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            s = LiteratureStore(Path(tmp) / f"n{n}", embedding=ef, tag_genes=False)
            t0 = time.perf_counter()
            for b in range(0, n, 5000):
                sl = slice(b, min(n, b + 5000))
                s._col.add(
                    ids=[f"c{i}" for i in range(sl.start, sl.stop)],
                    embeddings=vecs[sl],
                    documents=[base_docs[j] for j in idx[sl]],
                    metadatas=[
                        dict(base_meta[j], doc_id=f"d{i}") for i, j in zip(range(sl.start, sl.stop), idx[sl])
                    ],
                )
            build = time.perf_counter() - t0
            for label, genes in (("no filter", None), ("gene filter", GENE_FILTERS)):
                times = []
                for rep_i in range(3):
                    for qi in range(len(QUERIES)):
                        t0 = time.perf_counter()
                        s._col.query(query_embeddings=qvecs[qi : qi + 1], n_results=10,
                                     where={"genes": {"$contains": genes[qi]}} if genes else None)  # fmt: skip
                        if rep_i:  # first pass warms caches
                            times.append((time.perf_counter() - t0) * 1000)
                lat_rows.append({"chunks": n, "method": f"chromadb HNSW, {label}", "build_s": build,
                                 "median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95))})  # fmt: skip
            times = []
            genes_per_row = [set(base_meta[j].get("genes") or []) for j in idx]
            for qi in range(len(QUERIES)):
                t0 = time.perf_counter()
                sims = vecs @ qvecs[qi]
                np.argpartition(-sims, 10)[:10]
                times.append((time.perf_counter() - t0) * 1000)
            lat_rows.append({"chunks": n, "method": "numpy brute force (baseline), no filter", "build_s": 0.0,
                             "median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95))})  # fmt: skip
            times = []
            for qi in range(len(QUERIES)):
                t0 = time.perf_counter()
                keep = np.fromiter((GENE_FILTERS[qi] in g for g in genes_per_row), bool, n)
                sims = vecs[keep] @ qvecs[qi]
                np.argsort(-sims)[:10]
                times.append((time.perf_counter() - t0) * 1000)
            lat_rows.append({"chunks": n, "method": "numpy brute force (baseline), gene filter", "build_s": 0.0,
                             "median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95))})  # fmt: skip
        print_table("query latency, k = 10", lat_rows)


if __name__ == "__main__":
    main()
