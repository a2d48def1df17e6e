"""Learning commands: ``learn`` (causal structure) and ``predict`` (perturbation effects)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..errors import AitiaError, DataValidationError
from ..knowledge.priors import prior_scores
from ._app import (
    DATASET_HELP,
    app,
    console,
    context_column_option,
    emit,
    load_data,
    output_dir,
    perturbation_column_option,
    working,
)


@app.command()
def learn(
    dataset: str = typer.Option(..., "--dataset", help=DATASET_HELP),
    perturbation_column: str = perturbation_column_option(),
    context_column: str = context_column_option(),
    method: str = typer.Option(
        "supervised",
        "--method",
        help="correlation | partial_correlation | pc | ges | boss | notears | mrcl | supervised | deep | ensemble | "
        "propensity.",
    ),
    prior: str = typer.Option(
        None,
        "--prior",
        help="Edge-list file (source,target[,score]), a curated prior (trrust, signaling, default, ... joined by '+') "
        "or breadth (which perturbations change many genes, from gene descriptions).",
    ),
    labels_from: str = typer.Option(
        "auto",
        "--labels-from",
        help="auto | none | interventions (the data's own tested interventions) | train (the dataset's training "
        "label split) | FILE.",
    ),
    out: Path = typer.Option(None, "--out", help="Write scores.csv, graph.graphml and metrics.json here."),
    top_k: int = typer.Option(None, "--top-k", min=1, help="Edges kept in the graph (default: 2 x genes)."),
    force: bool = typer.Option(False, "--force", help="Overwrite earlier outputs in --out."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Learn a causal graph on a dataset with one of the learners, optionally with a prior and labels.

    Scored against the dataset's truths; on your own data, against its interventional truth (each perturbation tested
    against the controls), marked in-sample when the learner also trained on it (labels from the interventions).
    """
    from .. import datasets
    from ..causal import learners
    from ..causal.evaluate import dataset_truth, edge_metrics
    from ..causal.truth import dataset_truths
    from ..knowledge.genes import guess_organism
    from ..types.graph import EdgeLabels

    if out:
        out = output_dir(out, force, ("scores.csv", "graph.graphml", "metrics.json"))
    adata = load_data(dataset, perturbation_column, context_column)
    user_data = datasets.user_file(dataset) is not None
    genes = [str(g) for g in adata.var_names]
    est = learners.get(method)
    if hasattr(est, "progress"):
        est.progress = not as_json  # per-block / per-epoch bars of the learners that have them
    labels = None
    source = labels_from
    if labels_from == "auto":
        has_split = datasets.rules(dataset).training_truth is not None
        source = "train" if has_split else ("interventions" if est.uses_labels else "none")
    if source == "train":
        labels = datasets.training_labels(dataset)
        if labels is None:
            raise AitiaError(
                f"{dataset} ships no training label split; use --labels-from interventions or a FILE."
            )
    elif source == "interventions":
        labels = dataset_truth(adata).labels
    elif source != "none":
        labels = EdgeLabels.read(Path(source), targets=genes)
    organism = datasets.organism_of(adata)
    organism = guess_organism(genes) if organism == "unknown" else organism
    prior_edges = prior_scores(prior, genes, organism=organism)
    name = Path(dataset).name if user_data else dataset
    with working(f"fitting {method} on {name} ({adata.n_obs} samples x {len(genes)} genes)", as_json):
        scores = est.fit(adata, prior=prior_edges, labels=labels).predict_scores()
    truths = dataset_truths(dataset, adata) if user_data else datasets.evaluation_truths(dataset)
    metrics, unscored = [], []
    for k, t in truths.items():
        try:
            m = edge_metrics(scores, t).model_dump()
        except DataValidationError as exc:  # e.g. user data whose perturbations are not measured genes
            unscored.append(f"not scored against {k}: {exc}")
            continue
        metrics.append({"truth": k, **m, "in_sample": k == "interventional" and source == "interventions"})
    graph = scores.to_graph(top_k=top_k or 2 * len(genes))
    if out:
        scores.save(out / "scores.csv")
        graph.write(out / "graph.graphml")
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    rows = [{"truth": m["truth"] + (" (in-sample: trained on it)" if m["in_sample"] else ""), "auroc": m["auroc"],
             "auprc": m["auprc"], "auprc_ratio": m["auprc_ratio"], "pairs": m["n_pairs"]} for m in metrics]  # fmt: skip
    emit(f"{method} on {name} (labels: {source}, prior: {prior or 'none'})", rows, as_json)
    if not as_json:
        for line in unscored or ([] if truths else ["no truth to score against: no perturbation of a measured gene "
                                                     "with enough samples to test against the controls"]):  # fmt: skip
            console.print(line)
    if out and not as_json:
        console.print(
            f"wrote {out}/scores.csv, graph.graphml ({graph.number_of_edges()} edges), metrics.json"
        )


@app.command()
def predict(
    dataset: str = typer.Option(
        ...,
        "--dataset",
        help="Built-in dataset, your expression data (.h5ad, samples x genes table) or a long effect table "
        "(perturbation or pert, gene, label / effect columns).",
    ),
    perturbation_column: str = perturbation_column_option(),
    context_column: str = context_column_option(),
    method: str = typer.Option(
        "context_transfer",
        "--method",
        help="mean | linear | graph | context_transfer | ensemble | knn | all.",
    ),
    split: str = typer.Option(
        "unseen_perturbation", "--split", help="unseen_perturbation | unseen_pair | leave_one_context_out."
    ),
    context: str = typer.Option(None, "--context", help="Held-out context for leave_one_context_out."),
    prior: str = typer.Option(
        None,
        "--prior",
        help="Edge-list file or a curated prior (trrust, signaling, default, ... joined by '+').",
    ),
    features: str = typer.Option(
        None,
        "--features",
        help="Knowledge features of the perturbed genes for knn: text | network | text+network (gene descriptions, "
        "curated-network neighbourhoods); the way to place perturbations of a label-only table.",
    ),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Predict held-out perturbation effects and print per-gene AUROC, direction accuracy and top-DE Pearson r."""
    from .. import datasets
    from ..causal import perturbation as P
    from ..causal.effects import EffectTable, effects_for_dataset, effects_from_adata

    adata = None
    path = datasets.user_file(dataset)
    if path is not None and _is_effect_table(path):
        effects = EffectTable.read(path)
    elif path is not None:  # expression data: effects from its perturbations against its controls
        adata = load_data(dataset, perturbation_column, context_column)
        effects = effects_from_adata(adata)
    else:
        effects = effects_for_dataset(dataset)
        adata = datasets.load(dataset)
    prior_edges = prior_scores(
        prior, effects.genes, organism=datasets.organism_of(adata) if adata is not None else "human"
    )
    gene_feats = None
    if features:
        from ..causal.perturbation.base import target_of
        from ..knowledge.gene_features import gene_features

        targets = sorted({t for p in effects.perturbations for t in target_of(p)})
        with working(f"gene features ({features}) for {len(targets)} perturbed genes", as_json):
            gene_feats = gene_features(targets, sources=tuple(features.split("+")))
    methods = P.available() if method == "all" else [method]
    rows = []
    skipped: list[str] = []
    for i, m in enumerate(methods, 1):
        est = P.get(m)
        if m == "graph" and prior_edges is None and adata is None:
            continue
        with working(f"[{i}/{len(methods)}] {m}: fitting and scoring the {split} split", as_json):
            extra: dict = {"context": context} if context else {}
            if gene_feats is not None and m == "knn":
                extra["features"] = gene_feats
            try:
                r = P.evaluate_predictor(est, effects, split, adata=adata, prior=prior_edges, seed=seed,  # type: ignore[arg-type]
                                         **extra)  # fmt: skip
            except DataValidationError as exc:
                if method != "all":
                    raise
                skipped.append(f"{m}: {exc}")  # e.g. an effect regressor on a label-only table
                continue
        rows.append({"method": m, **r.model_dump()})
    emit(f"perturbation prediction on {dataset} ({split})", rows, as_json)
    for line in skipped:  # on stderr, so --json output stays one JSON document
        typer.echo(f"skipped {line}", err=True)


def _is_effect_table(path: Path) -> bool:
    """A long (perturbation, gene, label / effect) table rather than a samples x genes expression table."""
    import pandas as pd

    if path.name.lower().endswith(".h5ad"):
        return False
    try:
        if path.name.lower().endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            columns = list(pq.read_schema(path).names)
        else:
            sep = "\t" if path.name.lower().endswith((".tsv", ".tsv.gz", ".tab", ".txt")) else ","
            columns = list(pd.read_csv(path, sep=sep, nrows=0).columns)
    except (OSError, ValueError, pd.errors.ParserError):
        return False  # the expression reader says what is wrong with it
    return "gene" in {str(c).strip().lower() for c in columns}
