"""Knowledge commands: ``genes resolve``, ``ingest``, ``search``, ``evidence``, ``hypothesize``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from ..errors import AitiaError
from ..knowledge.store import built_store, open_store
from ._app import (
    announce_backend,
    app,
    console,
    context_column_option,
    dataset_option,
    emit,
    genes_app,
    load_data,
    output_dir,
    perturbation_column_option,
    priors_app,
    split_csv,
    table,
    warn_unknown_genes,
    working,
)


@genes_app.command("resolve")
def genes_resolve(
    names: list[str] = typer.Argument(
        ..., help="Symbols, aliases, families, Entrez/Ensembl ids, yeast names."
    ),
    organism: str = typer.Option("human", "--organism", help="human | yeast | any."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Resolve gene names to approved symbols (families expanded, ambiguity reported)."""
    from ..knowledge.genes import get_resolver

    if organism not in ("human", "yeast", "any"):
        raise AitiaError(f"organism {organism!r} not recognised. Options: human, yeast, any.")
    res = get_resolver().resolve_many(names, organism)  # type: ignore[arg-type]
    rows = [
        {"query": r.query, "symbols": ",".join(r.symbols[:12]) + ("..." if len(r.symbols) > 12 else ""), "match": r.match,
         "family": r.family or "", "ambiguous": r.ambiguous, "note": r.note}
        for r in res
    ]  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump() for r in res], indent=1) + "\n")
    else:
        console.print(table("gene resolution", rows))


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(None, help="Files or folders to ingest."),
    format: str = typer.Option(
        "auto", "--format", help="auto | pubtator | jsonl | csv | text | pdf | gene-summary."
    ),
    store: Path = typer.Option(None, "--store", help="Store directory (default $AITIA_HOME/store)."),
    default: bool = typer.Option(
        False, "--default", help="Ingest the shipped corpora (BioRED + NCBI gene summaries)."
    ),
    embedding: str = typer.Option(None, "--embedding", help="minilm (default) | hashing | openai:<model>."),
    pubmed: str = typer.Option(
        None, "--pubmed", help="Online: abstracts of a PubMed query, e.g. 'MAP2K1 AND MAPK1'."
    ),
    europepmc: str = typer.Option(None, "--europepmc", help="Online: abstracts of a Europe PMC query."),
    max_results: int = typer.Option(100, "--max", min=1, help="Most abstracts fetched per online query."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add documents to the literature store (idempotent: re-ingesting adds nothing; resumes after interruption)."""
    from ..knowledge.documents import read_documents
    from ..knowledge.store import default_corpus

    if not paths and not default and not pubmed and not europepmc:
        raise AitiaError(
            "Give files/folders to ingest, --default for the shipped corpora, or --pubmed/--europepmc QUERY."
        )
    docs = default_corpus() if default else []
    if pubmed:
        from ..knowledge.sources import PubMed

        docs.extend(PubMed().documents(pubmed, max_results=max_results))
    if europepmc:
        from ..knowledge.sources import EuropePMC

        docs.extend(EuropePMC().documents(europepmc, max_results=max_results))
    for p in paths or []:
        docs.extend(read_documents(p, format))
    s = open_store(store, embedding)
    report = s.add_documents(docs)
    row = report.model_dump() | {
        "chunks_per_s": report.chunks_per_s,
        "store": s.location,
        "store_chunks": s.count(),
    }
    emit("ingest", [row], as_json)


@app.command()
def search(
    query: str = typer.Argument(..., help="Natural-language query."),
    genes: str = typer.Option(None, "--genes", help="Comma-separated genes the chunks must mention."),
    all_genes: bool = typer.Option(False, "--all", help="Require all --genes (default: any)."),
    k: int = typer.Option(5, "-k", min=1, max=100, help="Number of hits."),
    year_max: int = typer.Option(None, "--year-max", help="Only documents up to this year."),
    mmr: bool = typer.Option(False, "--mmr", help="Diversify hits (maximal marginal relevance)."),
    store: Path = typer.Option(None, "--store", help="Store directory."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Semantic search of the literature store."""
    from ..knowledge.genes import get_resolver

    gene_list = split_csv(genes)
    if gene_list:
        r = get_resolver()
        gene_list = [s for g in gene_list for s in (r.resolve(g).symbols or [g])]
    hits = open_store(store).search(
        query, k=k, genes=gene_list, gene_mode="all" if all_genes else "any", year_max=year_max, mmr=mmr
    )
    if as_json:
        sys.stdout.write(json.dumps([h.model_dump() for h in hits], indent=1) + "\n")
        return
    rows = [
        {"doc": h.doc_id, "score": h.score, "span": f"{h.start}-{h.end}", "text": h.text[:160]} for h in hits
    ]
    emit(f"search: {query}", rows, False)


@app.command()
def evidence(
    source: str = typer.Argument(..., help="Regulator (gene, alias or family)."),
    target: str = typer.Argument(..., help="Target gene."),
    context: str = typer.Option(None, "--context", help="Cell type or condition."),
    store: Path = typer.Option(
        None, "--store", help="Store directory; without a built store only curated priors are used."
    ),
    no_store: bool = typer.Option(False, "--no-store", help="Skip literature retrieval."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Evidence that perturbing SOURCE changes TARGET: passages, extracted claims, curated edges, support score."""
    from ..knowledge.evidence import evidence_for

    warn_unknown_genes([source, target], "its evidence rests on text search alone")
    st = built_store(store, enabled=not no_store)
    summary = evidence_for(source, target, context=context, store=st)
    if as_json:
        sys.stdout.write(summary.model_dump_json(indent=1) + "\n")
        return
    console.print(
        f"[bold]{source} -> {target}[/]: support {summary.support:.2f}, sign {summary.sign:+d}; "
        f"{len(summary.claims)} claims, {len(summary.reverse_claims)} reverse, {len(summary.prior_hits)} curated edges, "
        f"{len(summary.passages)} passages"
        + ("" if st else " (no literature store: run `aitia ingest --default`)")
    )
    rows = [
        {"doc": c.doc_id, "sign": c.sign, "pattern": c.pattern, "sentence": c.sentence[:140]}
        for c in summary.claims[:10]
    ]
    if rows:
        console.print(table("claims", rows))
    prow = [{"edge": f"{h.source}->{h.target}", "sign": h.sign, "db": h.database, "pmids": ",".join(h.pmids[:5])}
            for h in summary.prior_hits[:10]]  # fmt: skip
    if prow:
        console.print(table("curated edges", prow))
    if summary.path is not None:
        console.print(f"curated path ({summary.path.steps} steps, sign {summary.path.sign:+d}): "
                      f"{' -> '.join(summary.path.genes)}; path support {summary.path_support:.2f}")  # fmt: skip
    passages = [
        {"doc": h.doc_id, "score": round(h.score, 3), "text": h.text[:140]} for h in summary.passages[:8]
    ]
    if passages:
        console.print(table("passages retrieved", passages))


@app.command()
def hypothesize(
    genes: str = typer.Option(None, "--genes", help="Comma-separated genes."),
    dataset: str = dataset_option(
        "Use the measured genes of a built-in dataset or of your data file (.h5ad, table)."
    ),
    perturbation_column: str = perturbation_column_option(),
    context_column: str = context_column_option(),
    context: str = typer.Option(None, "--context", help="Experimental context, e.g. 'in CD4+ T cells'."),
    llm: str = typer.Option(None, "--llm", help="openai | local | none (default: from settings)."),
    rag: bool = typer.Option(True, "--rag/--no-rag", help="Retrieve passages from the literature store."),
    mode: str = typer.Option("one_to_many", "--mode", help="one_to_many | pairwise."),
    year_max: int = typer.Option(None, "--year-max", help="Only literature up to this year."),
    evaluate: bool = typer.Option(
        False, "--evaluate", help="Score the hypotheses against the dataset's truths."
    ),
    store: Path = typer.Option(None, "--store", help="Literature store directory."),
    out: Path = typer.Option(None, "--out", help="Write hypotheses.json and scores.csv here."),
    force: bool = typer.Option(False, "--force", help="Overwrite earlier outputs in --out."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Causal hypotheses between genes from an LLM (or, with --llm none, from literature evidence and priors)."""
    from .. import datasets
    from ..knowledge.hypotheses import HypothesisGenerator

    if out:
        out = output_dir(out, force, ("hypotheses.json", "scores.csv"))
    announce_backend(llm)
    gene_list = split_csv(genes) or []
    warn_unknown_genes(gene_list, "no knowledge can speak about it")
    adata = None
    if dataset:
        adata = load_data(dataset, perturbation_column, context_column)
        gene_list = gene_list or [str(g) for g in adata.var_names]
    if len(gene_list) < 2:
        raise AitiaError("Give --genes A,B,... (at least two) or --dataset NAME|FILE.")
    st = built_store(store, enabled=rag)
    if mode not in ("one_to_many", "pairwise"):
        raise AitiaError(f"mode {mode!r} not recognised. Options: one_to_many, pairwise.")
    gen = HypothesisGenerator(
        backend=llm,
        store=st,
        mode=mode,  # type: ignore[arg-type]
        context=context,
        rag=rag,
        year_max=year_max,
    )
    hs = gen.generate(gene_list, progress=not as_json,
                      organism=datasets.organism_of(adata) if adata is not None else None)  # fmt: skip
    report = None
    if evaluate:
        if not dataset:
            raise AitiaError("--evaluate needs --dataset.")
        from ..causal.evaluate import dataset_truths
        from ..orchestrator.evaluate import evaluate_hypotheses

        truths = dataset_truths(dataset, adata)
        with working("evaluating: controls and the prior gain of every label-free learner", as_json):
            report = evaluate_hypotheses(hs, truths, adata=adata)
    if out:
        (out / "hypotheses.json").write_text(hs.model_dump_json(indent=1))
        hs.to_scores().save(out / "scores.csv")
    if as_json:
        sys.stdout.write(json.dumps({"hypotheses": [h.model_dump() for h in hs.hypotheses], "rejected": hs.rejected,
                                     "usage": hs.usage, "evaluation": report.model_dump() if report else None}, indent=1, default=str) + "\n")  # fmt: skip
        return
    console.print(f"generator: {hs.generator}; {len(hs.hypotheses)} hypotheses, {len(hs.rejected)} rejected; "
                  f"usage: {hs.usage}")  # fmt: skip
    console.print(table("hypotheses", hs.table()[:30]))
    if report:
        rows = [{"truth": k, "auroc": m.auroc, "auprc": m.auprc, "auprc_ratio": m.auprc_ratio,
                 "shuffled-name control": (f"{report.shuffled_names[k].mean:.3f} ± {report.shuffled_names[k].sd:.3f}"
                                           if k in report.shuffled_names else "")}
                for k, m in report.metrics.items()]  # fmt: skip
        console.print(
            table("hypotheses vs truth (random = 0.5; the shuffled-name control must stay near 0.5)", rows)
        )
        gain = [{"learner": name, **{t: f"{g.without:.3f} -> {g.with_hypotheses:.3f}" for t, g in by_truth.items()}}
                for name, by_truth in report.prior_gain.items()]  # fmt: skip
        if gain:
            console.print(table("AUROC without -> with the hypotheses as prior", gain))


@priors_app.command("list")
def priors_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The built-in curated priors with their licences, and which ones the default uses."""
    from ..knowledge.priors import PRIORS, default_prior

    used = set(default_prior().split("+"))
    rows = [
        {"name": i.name, "kind": i.kind, "licence": i.licence, "commercial use": "yes" if i.commercial_use else "NO",
         "in default": "yes" if i.name in used else "no"}
        for i in PRIORS.values()
    ]  # fmt: skip
    emit(
        f"curated priors (default: {default_prior()}; AITIA_PRIORS, AITIA_NONCOMMERCIAL_DATA)", rows, as_json
    )


@priors_app.command("show")
def priors_show(
    name: str = typer.Argument(..., help="A built-in prior (or several joined by '+'), or an edge file."),
    gene: str = typer.Option(None, "--gene", help="Only edges touching this gene (symbol, alias or family)."),
    limit: int = typer.Option(20, "--limit", min=1, help="Edges listed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Describe a prior: size, source and licence, and its edges (around one gene)."""
    from ..knowledge.priors import PRIORS, load_prior, measured_members

    net = load_prior(name)
    edges = net.edges
    if gene:
        syms = set(measured_members([gene])[gene])
        edges = edges[edges["source"].isin(syms) | edges["target"].isin(syms)]
    rows = [{"source": s_, "target": t_, "sign": int(sg), "resources": ";".join(d), "pmids": len(p_)}
            for s_, t_, sg, d, p_ in edges[["source", "target", "sign", "databases", "pmids"]].head(limit).itertuples(index=False)]  # fmt: skip
    if as_json:
        sys.stdout.write(
            json.dumps({"name": name, "edges": len(net), "genes": len(net.genes), "shown": rows}, indent=1)
            + "\n"
        )
        return
    for part in name.split("+"):
        if part in PRIORS:
            i = PRIORS[part]
            console.print(
                f"[bold]{i.name}[/] ({i.kind}): {i.description}\n  source: {i.source}\n  licence: {i.licence}"
            )
    console.print(
        f"{len(net)} edges over {len(net.genes)} genes" + (f"; {len(edges)} touch {gene}" if gene else "")
    )
    console.print(table("edges", rows))


@priors_app.command("download")
def priors_download(
    name: str = typer.Argument(..., help="omnipath"),
    license: str = typer.Option(
        "academic", "--license", help="academic | commercial (OmniPath's resource filter)."
    ),
    dataset: str = typer.Option(
        "omnipath", "--dataset", help="OmniPath dataset, e.g. omnipath or collectri."
    ),
) -> None:
    """Download a current prior from the web (explicit, online) into $AITIA_HOME/priors."""
    if name != "omnipath":
        raise AitiaError(
            f"Only 'omnipath' can be downloaded; {name!r} is built in or unknown (see `aitia priors list`)."
        )
    if license not in ("academic", "commercial"):
        raise AitiaError(f"--license {license!r} not recognised. Options: academic, commercial.")
    from ..knowledge.sources import download_omnipath

    path = download_omnipath(license=license, dataset=dataset)
    meta = json.loads(path.with_suffix(".json").read_text())
    console.print(
        f"wrote {path}: {meta['rows']} interactions ({dataset}, {license}); sha256 {meta['sha256'][:12]}...; "
        "use it with --prior omnipath or AITIA_PRIORS=...+omnipath"
    )
