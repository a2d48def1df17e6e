"""The ``aitia`` command line (typer + rich). Every command has ``--help``; scripts use ``--json``."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from .errors import AitiaError

app = typer.Typer(help="aitia: from literature to validated causal gene networks.", no_args_is_help=True)
datasets_app = typer.Typer(help="Built-in datasets.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks and the baseline demo.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")
genes_app = typer.Typer(help="Gene names and identifiers.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.add_typer(genes_app, name="genes")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def _fail(exc: Exception) -> None:
    err_console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


def _table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    if not rows:
        return table
    for col in rows[0]:
        table.add_column(str(col), justify="right" if isinstance(rows[0][col], (int, float)) else "left")
    for r in rows:
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in r.values()])
    return table


def _emit(title: str, rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=1, default=str) + "\n")
    else:
        console.print(_table(title, rows))


@datasets_app.command("list")
def datasets_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the built-in datasets."""
    from . import datasets

    rows = [
        {
            "name": i.name,
            "samples": i.n_samples,
            "genes": i.n_genes,
            "organism": i.organism,
            "truths": ",".join(i.truths),
        }
        for i in (datasets.info(n) for n in datasets.list_datasets())
    ]
    _emit("built-in datasets", rows, as_json)


@datasets_app.command("show")
def datasets_show(name: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Describe one dataset and its perturbation groups."""
    from . import datasets

    try:
        info = datasets.info(name)
        adata = datasets.load(name)
    except AitiaError as exc:
        _fail(exc)
        return
    groups = adata.obs.groupby(["context", "perturbation", "intervention_type"], observed=True).size()
    if as_json:
        payload = info.model_dump() | {
            "groups": [
                {"context": c, "perturbation": p, "intervention_type": t, "n": int(n)}
                for (c, p, t), n in groups.items()
            ]
        }
        sys.stdout.write(json.dumps(payload, indent=1) + "\n")
        return
    console.print(
        f"[bold]{info.name}[/]: {info.description}\n  source: {info.source}\n  truths: {', '.join(info.truths)}"
    )
    console.print(f"  shape: {adata.n_obs} samples x {adata.n_vars} genes; load options: {info.load_options}")
    rows = [
        {"context": c, "perturbation": p, "intervention_type": t, "n": int(n)}
        for (c, p, t), n in groups.items()
    ]
    console.print(_table("perturbation groups", rows[:40]))
    if len(rows) > 40:
        console.print(f"  ... {len(rows) - 40} more groups")


def _truth_for(name: str, adata: Any, method: str | None) -> tuple[dict[str, Any], Any]:
    """Named truths of a dataset plus its interventional truth (when it has node interventions)."""
    from . import datasets
    from .causal.evaluate import interventional_truth, truth_settings

    truths: dict[str, Any] = {}
    info = datasets.info(name)
    for which in info.truths:
        if name == "kemmeren-mrcl" and which == "train":
            continue
        truths[which] = datasets.ground_truth(name, which)
    itruth = None
    if name == "sachs" or name.startswith(("simulated", "dream4")):  # kemmeren has its own labels
        settings = truth_settings(name) | ({"method": method} if method else {})
        itruth = interventional_truth(adata, progress=False, **settings)
    if itruth is not None:
        truths["interventional"] = itruth
    return truths, itruth


@app.command()
def validate(
    graph: Path = typer.Option(
        ..., "--graph", help="Graph or edge-score file: CSV/TSV edge list, GraphML, SIF, JSON."
    ),
    dataset: str = typer.Option(..., "--dataset", help="Built-in dataset whose truths to compare with."),
    method: str = typer.Option(
        None, "--method", help="Test for interventional truth (mannwhitney|ttest|robust_z)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score a graph against a dataset's ground truths and its interventional data."""
    from . import datasets
    from .causal.evaluate import causalbench_statistics, edge_metrics, graph_metrics
    from .types.graph import CausalGraph

    try:
        g = CausalGraph.read(graph)
        adata = datasets.load(dataset)
        genes = [str(v) for v in adata.var_names]
        unknown = [n for n in g.nodes if n not in set(genes)]
        if unknown:
            raise AitiaError(
                f"Graph nodes not measured in {dataset}: {unknown[:10]}. Measured: {genes[:12]}..."
            )
        truths, itruth = _truth_for(dataset, adata, method)
        scores = g.to_scores(genes)
        rows = []
        for tname, t in truths.items():
            m = edge_metrics(scores, t)
            row: dict[str, Any] = {
                "truth": tname,
                "auroc": m.auroc,
                "auprc": m.auprc,
                "auprc_ratio": m.auprc_ratio,
            }
            if hasattr(t, "edges"):
                gm = graph_metrics(g, t)
                row |= {"precision": gm.precision, "recall": gm.recall, "f1": gm.f1, "shd": gm.shd}
            rows.append(row)
        if itruth is not None:
            cb = causalbench_statistics(g, itruth)
            rows.append(
                {
                    "truth": "causalbench",
                    "mean_wasserstein": cb.mean_wasserstein,
                    "false_omission_rate": cb.false_omission_rate,
                }
            )
    except (AitiaError, FileNotFoundError) as exc:
        _fail(exc)
        return
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=1, default=str) + "\n")
        return
    for r in rows:
        console.print(
            _table(
                f"{graph.name} vs {dataset} / {r['truth']}", [{k: v for k, v in r.items() if k != "truth"}]
            )
        )


@bench_app.command("baselines")
def bench_baselines(
    dataset: str = typer.Option("sachs", "--dataset", help="Built-in dataset."),
    seeds: int = typer.Option(20, "--seeds", help="Random baselines averaged over this many seeds."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score |correlation| and random edge scores against the dataset's truths (the demo)."""
    import numpy as np

    from . import datasets
    from .causal.baselines import correlation_scores, random_scores
    from .causal.evaluate import edge_metrics

    try:
        adata = datasets.load(dataset)
        truths, itruth = _truth_for(dataset, adata, None)
    except AitiaError as exc:
        _fail(exc)
        return
    genes = [str(v) for v in adata.var_names]
    rows = []
    for tname, t in truths.items():
        for sname, make in (
            ("|pearson|", lambda s: correlation_scores(adata)),
            ("|spearman|", lambda s: correlation_scores(adata, "spearman")),
            ("random", lambda s: random_scores(genes, seed=s)),
        ):
            reps = [edge_metrics(make(s), t) for s in (range(seeds) if sname == "random" else [0])]
            rows.append(
                {
                    "truth": tname,
                    "method": sname if sname != "random" else f"random (mean of {seeds})",
                    "auroc": float(np.mean([m.auroc for m in reps])),
                    "auprc": float(np.mean([m.auprc for m in reps])),
                    "auprc_ratio": float(np.mean([m.auprc_ratio for m in reps])),
                    "pairs": reps[0].n_pairs,
                    "positives": reps[0].n_positive,
                }
            )
    _emit(f"baselines on {dataset}", rows, as_json)
    if itruth is not None and not as_json:
        n_sig = itruth.labels.n_positive
        console.print(
            f"interventional truth: {len(itruth.groups)} intervention groups, {n_sig} significant (source, target) pairs "
            f"({itruth.params['method']}, {itruth.params['correction']}, alpha={itruth.params['alpha']})"
        )


@app.command()
def truth(
    dataset: str = typer.Option(..., "--dataset", help="Built-in dataset."),
    method: str = typer.Option("mannwhitney", "--method", help="mannwhitney | ttest | robust_z."),
    alpha: float = typer.Option(0.05, "--alpha", help="q-value threshold."),
    out: Path = typer.Option(None, "--out", help="Write the full statistics table (CSV)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compute interventional ground truth (which interventions shift which genes)."""
    from . import datasets
    from .causal.evaluate import interventional_truth

    try:
        adata = datasets.load(dataset)
        ref = "all" if dataset.startswith("dream4") else "control"
        t = interventional_truth(adata, method=method, alpha=alpha, reference=ref)  # type: ignore[arg-type]
    except AitiaError as exc:
        _fail(exc)
        return
    df = t.to_frame(significant_only=True)
    if out:
        t.to_frame().to_csv(out, index=False)
    rows = df[["source", "context", "target", "effect", "qvalue", "wasserstein"]].head(200).to_dict("records")
    _emit(f"significant effects in {dataset} ({len(df)} pairs)", rows, as_json)


@app.command()
def simulate(
    out: Path = typer.Option(
        ..., "--out", help="Output .h5ad; the true graph is written next to it (.graphml)."
    ),
    genes: int = typer.Option(100, "--genes"),
    cells: int = typer.Option(5000, "--cells"),
    perturbations: int = typer.Option(20, "--perturbations"),
    contexts: int = typer.Option(1, "--contexts"),
    model: str = typer.Option("nb", "--model", help="nb (negative-binomial SCM) or linear."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Simulate a perturbation experiment with a known graph."""
    from .causal.simulate import simulate_linear_gaussian, simulate_nb

    try:
        if model == "nb":
            adata, g = simulate_nb(
                n_genes=genes, n_cells=cells, n_perturbations=perturbations, n_contexts=contexts, seed=seed
            )
        elif model == "linear":
            adata, g = simulate_linear_gaussian(
                n_genes=genes, n_cells=cells, n_perturbations=perturbations, n_contexts=contexts, seed=seed
            )
        else:
            raise AitiaError(f"Model {model!r} not recognised. Options: nb, linear.")
    except AitiaError as exc:
        _fail(exc)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    adata.write_h5ad(out)
    g.write(out.with_suffix(".graphml"))
    console.print(
        f"wrote {out} ({adata.n_obs} cells x {adata.n_vars} genes) and {out.with_suffix('.graphml')}"
    )


def _split_csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@genes_app.command("resolve")
def genes_resolve(
    names: list[str] = typer.Argument(
        ..., help="Symbols, aliases, families, Entrez/Ensembl ids, yeast names."
    ),
    organism: str = typer.Option("human", "--organism", help="human | yeast | any."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Resolve gene names to approved symbols (families expanded, ambiguity reported)."""
    from .knowledge.genes import get_resolver

    if organism not in ("human", "yeast", "any"):
        _fail(AitiaError(f"organism {organism!r} not recognised. Options: human, yeast, any."))
    res = get_resolver().resolve_many(names, organism)  # type: ignore[arg-type]
    rows = [
        {"query": r.query, "symbols": ",".join(r.symbols[:12]) + ("..." if len(r.symbols) > 12 else ""), "match": r.match,
         "family": r.family or "", "ambiguous": r.ambiguous, "note": r.note}
        for r in res
    ]  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump() for r in res], indent=1) + "\n")
    else:
        console.print(_table("gene resolution", rows))


def _built_store(store: Path | None = None, enabled: bool = True) -> Any:
    """The literature store at ``store`` (default ``$AITIA_HOME/store``) if one has been built, else None."""
    from .config import get_settings

    store_dir = store or get_settings().store_dir
    return _open_store(store_dir) if enabled and (store_dir / "chroma.sqlite3").exists() else None


def _open_store(store: Path | None, embedding: str | None = None) -> Any:
    from .knowledge.embeddings import make_embedding
    from .knowledge.store import LiteratureStore

    return LiteratureStore(store, embedding=make_embedding(embedding) if embedding else None)


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
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add documents to the literature store (idempotent: re-ingesting adds nothing; resumes after interruption)."""
    from .knowledge.documents import read_documents
    from .knowledge.store import default_corpus

    if not paths and not default:
        _fail(AitiaError("Give files/folders to ingest, or --default for the shipped corpora."))
    try:
        docs = default_corpus() if default else []
        for p in paths or []:
            docs.extend(read_documents(p, format))
        s = _open_store(store, embedding)
        report = s.add_documents(docs)
    except (AitiaError, FileNotFoundError) as exc:
        _fail(exc)
        return
    row = report.model_dump() | {
        "chunks_per_s": report.chunks_per_s,
        "store": str(s.path),
        "store_chunks": s.count(),
    }
    _emit("ingest", [row], as_json)


@app.command()
def search(
    query: str = typer.Argument(..., help="Natural-language query."),
    genes: str = typer.Option(None, "--genes", help="Comma-separated genes the chunks must mention."),
    all_genes: bool = typer.Option(False, "--all", help="Require all --genes (default: any)."),
    k: int = typer.Option(5, "-k", help="Number of hits."),
    year_max: int = typer.Option(None, "--year-max", help="Only documents up to this year."),
    mmr: bool = typer.Option(False, "--mmr", help="Diversify hits (maximal marginal relevance)."),
    store: Path = typer.Option(None, "--store", help="Store directory."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Semantic search of the literature store."""
    from .knowledge.genes import get_resolver

    try:
        gene_list = _split_csv(genes)
        if gene_list:
            r = get_resolver()
            gene_list = [s for g in gene_list for s in (r.resolve(g).symbols or [g])]
        hits = _open_store(store).search(
            query, k=k, genes=gene_list, gene_mode="all" if all_genes else "any", year_max=year_max, mmr=mmr
        )
    except AitiaError as exc:
        _fail(exc)
        return
    if as_json:
        sys.stdout.write(json.dumps([h.model_dump() for h in hits], indent=1) + "\n")
        return
    rows = [
        {"doc": h.doc_id, "score": h.score, "span": f"{h.start}-{h.end}", "text": h.text[:160]} for h in hits
    ]
    _emit(f"search: {query}", rows, False)


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
    from .knowledge.evidence import evidence_for

    try:
        st = _built_store(store, enabled=not no_store)
        summary = evidence_for(source, target, context=context, store=st)
    except AitiaError as exc:
        _fail(exc)
        return
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
        console.print(_table("claims", rows))
    prow = [{"edge": f"{h.source}->{h.target}", "sign": h.sign, "db": h.database, "pmids": ",".join(h.pmids[:5])}
            for h in summary.prior_hits[:10]]  # fmt: skip
    if prow:
        console.print(_table("curated edges", prow))


def _load_prior_scores(prior: str | None, genes: list[str]) -> Any:
    """A prior from a file (edge list with optional score) or a built-in curated network name."""
    if not prior:
        return None
    from .knowledge.priors import BUILTIN_PRIORS, load_prior
    from .types.graph import EdgeScores

    if all(p in BUILTIN_PRIORS for p in prior.split("+")):
        return load_prior(prior).to_scores(genes, resolve=True)
    path = Path(prior)
    if not path.exists():
        raise AitiaError(f"No prior file {prior!r} (or built-in prior: {', '.join(BUILTIN_PRIORS)}).")
    return EdgeScores.load(path).reindex(genes, fill=0.0)


@app.command()
def learn(
    dataset: str = typer.Option(..., "--dataset", help="Built-in dataset."),
    method: str = typer.Option("supervised", "--method", help="Learner name (see `aitia learn --help`)."),
    prior: str = typer.Option(
        None, "--prior", help="Edge-list file (source,target[,score]) or trrust / collectri."
    ),
    labels_from: str = typer.Option(
        "auto",
        "--labels-from",
        help="auto | none | interventions | train (the dataset's training label split) | FILE.",
    ),
    out: Path = typer.Option(None, "--out", help="Write scores.csv, graph.graphml and metrics.json here."),
    top_k: int = typer.Option(None, "--top-k", help="Edges kept in the graph (default: 2 x genes)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Learn a causal graph on a dataset with one of the learners, optionally with a prior and labels."""
    from . import datasets
    from .causal import learners
    from .causal.evaluate import edge_metrics, interventional_truth, truth_settings
    from .types.graph import EdgeLabels, read_edge_table

    try:
        adata = datasets.load(dataset)
        genes = [str(g) for g in adata.var_names]
        est = learners.get(method)
        labels = None
        source = labels_from
        if labels_from == "auto":
            source = (
                "train"
                if "train" in datasets.info(dataset).truths
                else ("interventions" if est.uses_labels else "none")
            )
        if source == "train":
            labels = datasets.ground_truth(dataset, "train")
        elif source == "interventions":
            labels = interventional_truth(adata, progress=False, **truth_settings(dataset)).labels
        elif source != "none":
            df = read_edge_table(Path(source))
            if "label" not in df.columns:
                raise AitiaError(f"Label file {source} needs a 'label' column (0/1).")
            srcs, tgts = sorted(set(df["source"])), genes
            vals = np.full((len(srcs), len(tgts)), np.nan)
            si, ti = {g: i for i, g in enumerate(srcs)}, {g: i for i, g in enumerate(tgts)}
            for a, b, y in df[["source", "target", "label"]].itertuples(index=False):
                if b in ti:
                    vals[si[a], ti[b]] = float(y)
            labels = EdgeLabels(vals, srcs, tgts, provenance=str(source))
        prior_scores = _load_prior_scores(prior, genes)
        scores = est.fit(adata, prior=prior_scores, labels=labels).predict_scores()
        truths: dict[str, Any] = {}
        info = datasets.info(dataset)
        for which in info.truths:
            if which != "train":
                truths[which] = datasets.ground_truth(dataset, which)
        metrics = [{"truth": k, **edge_metrics(scores, t).model_dump()} for k, t in truths.items()]
    except (AitiaError, FileNotFoundError) as exc:
        _fail(exc)
        return
    graph = scores.to_graph(top_k=top_k or 2 * len(genes))
    if out:
        out.mkdir(parents=True, exist_ok=True)
        scores.save(out / "scores.csv")
        graph.write(out / "graph.graphml")
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    rows = [{"truth": m["truth"], "auroc": m["auroc"], "auprc": m["auprc"], "auprc_ratio": m["auprc_ratio"],
             "pairs": m["n_pairs"]} for m in metrics]  # fmt: skip
    _emit(f"{method} on {dataset} (labels: {source}, prior: {prior or 'none'})", rows, as_json)
    if out and not as_json:
        console.print(
            f"wrote {out}/scores.csv, graph.graphml ({graph.number_of_edges()} edges), metrics.json"
        )


@app.command()
def predict(
    dataset: str = typer.Option(
        ..., "--dataset", help="Built-in dataset, or an .h5ad / effect-table CSV path."
    ),
    method: str = typer.Option(
        "context_transfer", "--method", help="mean | linear | graph | context_transfer | ensemble | all."
    ),
    split: str = typer.Option(
        "unseen_perturbation", "--split", help="unseen_perturbation | unseen_pair | leave_one_context_out."
    ),
    context: str = typer.Option(None, "--context", help="Held-out context for leave_one_context_out."),
    prior: str = typer.Option(None, "--prior", help="Edge-list file or trrust / collectri."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Predict held-out perturbation effects and print per-gene AUROC, direction accuracy and top-DE Pearson r."""
    from .causal import perturbation as P
    from .causal.effects import EffectTable, effects_for_dataset, effects_from_adata

    try:
        adata = None
        path = Path(dataset)
        if path.suffix == ".h5ad" and path.exists():
            from .datasets import read_h5ad

            adata = read_h5ad(path)
            effects = effects_from_adata(adata)
        elif path.suffix in (".csv", ".tsv", ".parquet") and path.exists():
            effects = EffectTable.read(path)
        else:
            from . import datasets

            effects = effects_for_dataset(dataset)
            adata = (
                datasets.load(dataset)
                if not dataset.startswith("kemmeren")
                else datasets.load(dataset, instance=0)
            )
        prior_scores = _load_prior_scores(prior, effects.genes)
        methods = P.available() if method == "all" else [method]
        rows = []
        for m in methods:
            est = P.get(m)
            if m == "graph" and prior_scores is None and adata is None:
                continue
            r = P.evaluate_predictor(est, effects, split, adata=adata, prior=prior_scores, seed=seed,  # type: ignore[arg-type]
                                     **({"context": context} if context else {}))  # fmt: skip
            rows.append({"method": m, **r.model_dump()})
    except (AitiaError, FileNotFoundError) as exc:
        _fail(exc)
        return
    _emit(f"perturbation prediction on {dataset} ({split})", rows, as_json)


@app.command()
def hypothesize(
    genes: str = typer.Option(None, "--genes", help="Comma-separated genes."),
    dataset: str = typer.Option(None, "--dataset", help="Use the measured genes of a built-in dataset."),
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
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Causal hypotheses between genes from an LLM (or, with --llm none, from literature evidence and priors)."""
    from . import datasets
    from .knowledge.hypotheses import HypothesisGenerator

    try:
        gene_list = _split_csv(genes) or []
        adata = None
        if dataset:
            adata = datasets.load(dataset)
            gene_list = gene_list or [str(g) for g in adata.var_names]
        if len(gene_list) < 2:
            raise AitiaError("Give --genes A,B,... (at least two) or --dataset NAME.")
        st = _built_store(store, enabled=rag)
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
        hs = gen.generate(gene_list, progress=not as_json)
        report: dict[str, Any] = {}
        if evaluate:
            if not dataset:
                raise AitiaError("--evaluate needs --dataset.")
            from .orchestrator.evaluate import evaluate_hypotheses

            truths, _ = _truth_for(dataset, adata, None)
            report = evaluate_hypotheses(hs, truths, adata=adata)
    except (AitiaError, FileNotFoundError) as exc:
        _fail(exc)
        return
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "hypotheses.json").write_text(hs.model_dump_json(indent=1))
        hs.to_scores().save(out / "scores.csv")
    if as_json:
        sys.stdout.write(json.dumps({"hypotheses": [h.model_dump() for h in hs.hypotheses], "rejected": hs.rejected,
                                     "usage": hs.usage, "evaluation": report}, indent=1, default=str) + "\n")  # fmt: skip
        return
    console.print(f"generator: {hs.generator}; {len(hs.hypotheses)} hypotheses, {len(hs.rejected)} rejected; "
                  f"usage: {hs.usage}")  # fmt: skip
    console.print(_table("hypotheses", hs.table()[:30]))
    if report:
        rows = [{"truth": k, "auroc": v["auroc"], "auprc": v["auprc"], "auprc_ratio": v["auprc_ratio"]}
                for k, v in report["metrics"].items()]  # fmt: skip
        console.print(_table("hypotheses vs truth", rows))
        if "prior_gain" in report:
            console.print(f"as a prior for {report['prior_gain']['learner']}: " + "; ".join(
                f"{k}: AUROC {v['without']:.3f} -> {v['with_hypotheses']:.3f}"
                for k, v in report["prior_gain"].items() if isinstance(v, dict)))  # fmt: skip


@app.command()
def loop(
    dataset: str = typer.Option("sachs", "--dataset", help="Built-in dataset with interventions."),
    learners: str = typer.Option(
        "correlation,supervised,deep", "--learners", help="Comma-separated learners."
    ),
    rounds: int = typer.Option(3, "--rounds", help="Experiment rounds after round 0."),
    out: Path = typer.Option(
        None, "--out", help="Run directory (default $AITIA_HOME/runs/loop-<dataset>-<time>)."
    ),
    llm: str = typer.Option("none", "--llm", help="openai | local | none."),
    rag: bool = typer.Option(True, "--rag/--no-rag", help="Use the literature store if one is built."),
    context: str = typer.Option(None, "--context", help="Experimental context for hypotheses."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Hypothesis-to-validation loop: hypothesise, learn with priors, validate on held-out interventions, pick the
    next experiments, repeat; writes a run directory with trace and report (a killed run resumes)."""
    import time as _time

    from .config import get_settings
    from .orchestrator.loop import LoopConfig, run_loop

    try:
        cfg = LoopConfig(dataset=dataset, learners=_split_csv(learners) or ["correlation"], rounds=rounds, llm=llm,
                         rag=rag, context=context, seed=seed)  # fmt: skip
        run_dir = out or get_settings().runs_dir / f"loop-{dataset}-{_time.strftime('%Y%m%d-%H%M%S')}"
        st = _built_store(enabled=rag)
        result = run_loop(
            cfg, run_dir, store=st, on_progress=(lambda m: None) if as_json else (lambda m: console.print(m))
        )
    except (AitiaError, FileNotFoundError) as exc:
        _fail(exc)
        return
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=1) + "\n")
        return
    console.print(f"[bold]report:[/] {result.report_html}\n        {result.report_md}")


@app.command()
def ask(
    question: str = typer.Argument(
        ..., help="A question about genes, e.g. 'Does inhibiting Mek change Erk in sachs?'"
    ),
    llm: str = typer.Option(None, "--llm", help="openai | local | none (default: from settings)."),
    max_steps: int = typer.Option(12, "--max-steps", help="Agent step limit."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Ask a natural-language question; the agent (or the offline planner) answers with citations."""
    from .orchestrator.agent import ask as ask_fn

    try:
        st = _built_store()
        answer = ask_fn(question, backend=llm, store=st, max_steps=max_steps,
                        on_step=None if as_json else (lambda s: console.print(f"[dim]{s}[/]")))  # fmt: skip
    except AitiaError as exc:
        _fail(exc)
        return
    if as_json:
        sys.stdout.write(answer.model_dump_json(indent=1) + "\n")
        return
    console.print(answer.text)
    console.print(f"[dim]({answer.mode}, {answer.steps} steps; trace: {answer.run_dir}/trace.jsonl)[/]")


@app.command()
def report(run_dir: Path = typer.Argument(..., help="A loop run directory.")) -> None:
    """Re-render a loop run's report from its directory (state, hypotheses and saved scores)."""
    from . import datasets
    from .causal.evaluate import interventional_truth
    from .knowledge.hypotheses import HypothesisSet
    from .orchestrator.loop import LoopConfig
    from .orchestrator.report import write_report
    from .run import Run
    from .types.graph import EdgeScores

    try:
        run = Run.open(run_dir)
        cfg = LoopConfig.model_validate(run.config)
        state = run.load_state()
        if not state.get("rounds"):
            raise AitiaError(f"{run_dir} has no completed rounds to report.")
        hs = HypothesisSet.model_validate_json((run.path / "hypotheses.json").read_text())
        scores = {
            p.stem: EdgeScores.load(p, name=p.stem) for p in sorted((run.path / "scores").glob("*.csv"))
        }
        if not scores:
            raise AitiaError(
                f"{run_dir} has no saved scores; rerun `aitia loop` with --out {run_dir} to finish it."
            )
        adata = datasets.load(cfg.dataset)
        gold = {
            w: g
            for w in datasets.info(cfg.dataset).truths
            if hasattr(g := datasets.ground_truth(cfg.dataset, w), "edges")
        }
        md, html_path = write_report(
            run, cfg, state["rounds"], scores, gold, interventional_truth(adata, progress=False), hs
        )
    except (AitiaError, FileNotFoundError) as exc:
        _fail(exc)
        return
    console.print(f"[bold]report:[/] {html_path}\n        {md}")


if __name__ == "__main__":  # pragma: no cover
    app()
