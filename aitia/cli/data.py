"""Dataset commands: ``datasets list|show``, ``validate``, ``truth``, ``simulate``, ``bench baselines``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import typer

from ..errors import AitiaError
from ._app import (
    app,
    bench_app,
    console,
    context_column_option,
    datasets_app,
    emit,
    load_data,
    output_file,
    perturbation_column_option,
    table,
)


@datasets_app.command("list")
def datasets_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the built-in datasets."""
    from .. import datasets

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
    emit("built-in datasets", rows, as_json)


@datasets_app.command("show")
def datasets_show(
    name: str = typer.Argument(..., help="A built-in dataset, or your data file: how aitia reads it."),
    perturbation_column: str = perturbation_column_option(),
    context_column: str = context_column_option(),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Describe one dataset (or your data file, as aitia reads it) and its perturbation groups."""
    from .. import datasets

    adata = load_data(name, perturbation_column, context_column)
    path = datasets.user_file(name)
    info = datasets.data_info(path.name, adata) if path else datasets.info(name)
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
        f"[bold]{info.name}[/]: {info.description}\n  source: {info.source}\n  truths: "
        f"{', '.join(info.truths) or 'none shipped (its interventions are tested against its controls)'}"
    )
    console.print(f"  shape: {adata.n_obs} samples x {adata.n_vars} genes; load options: {info.load_options}")
    rows = [
        {"context": c, "perturbation": p, "intervention_type": t, "n": int(n)}
        for (c, p, t), n in groups.items()
    ]
    console.print(table("perturbation groups", rows[:40]))
    if len(rows) > 40:
        console.print(f"  ... {len(rows) - 40} more groups")


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
    from .. import datasets
    from ..causal.evaluate import causalbench_statistics, dataset_truths, edge_metrics, graph_metrics
    from ..types.graph import CausalGraph

    g = CausalGraph.read(graph)
    adata = datasets.load(dataset)
    genes = [str(v) for v in adata.var_names]
    unknown = [n for n in g.nodes if n not in set(genes)]
    if unknown:
        raise AitiaError(f"Graph nodes not measured in {dataset}: {unknown[:10]}. Measured: {genes[:12]}...")
    truths = dataset_truths(dataset, adata, method)
    itruth = truths.get("interventional")
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
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=1, default=str) + "\n")
        return
    for r in rows:
        console.print(
            table(f"{graph.name} vs {dataset} / {r['truth']}", [{k: v for k, v in r.items() if k != "truth"}])
        )


@bench_app.command("baselines")
def bench_baselines(
    dataset: str = typer.Option(None, "--dataset", help="Built-in dataset (default: the demo dataset)."),
    seeds: int = typer.Option(20, "--seeds", min=1, help="Random baselines averaged over this many seeds."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score |correlation| and random edge scores against the dataset's truths (the demo)."""
    from .. import datasets

    dataset = dataset or datasets.default_dataset()

    from .. import datasets
    from ..causal.baselines import correlation_scores, random_scores
    from ..causal.evaluate import dataset_truths, edge_metrics

    adata = datasets.load(dataset)
    truths = dataset_truths(dataset, adata)
    itruth = truths.get("interventional")
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
    emit(f"baselines on {dataset}", rows, as_json)
    if itruth is not None and not as_json:
        n_sig = itruth.labels.n_positive
        console.print(
            f"interventional truth: {len(itruth.groups)} intervention groups, {n_sig} significant (source, target) pairs "
            f"({itruth.params['method']}, {itruth.params['correction']}, alpha={itruth.params['alpha']})"
        )


@app.command()
def truth(
    dataset: str = typer.Option(..., "--dataset", help="Built-in dataset."),
    method: str = typer.Option(
        None, "--method", help="mannwhitney | ttest | robust_z (default: the dataset's own test)."
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="q-value threshold."),
    out: Path = typer.Option(None, "--out", help="Write the full statistics table (CSV)."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compute interventional ground truth (which interventions shift which genes)."""
    from .. import datasets
    from ..causal.evaluate import dataset_truth

    if out:
        out = output_file(out, force)
    adata = datasets.load(dataset)
    t = dataset_truth(adata, progress=True, alpha=alpha, **({"method": method} if method else {}))
    df = t.to_frame(significant_only=True)
    if out:
        t.to_frame().to_csv(out, index=False)
    rows = df[["source", "context", "target", "effect", "qvalue", "wasserstein"]].head(200).to_dict("records")
    emit(f"significant effects in {dataset} ({len(df)} pairs)", rows, as_json)


@app.command()
def simulate(
    out: Path = typer.Option(
        ..., "--out", help="Output .h5ad; the true graph is written next to it (.graphml)."
    ),
    genes: int = typer.Option(100, "--genes", min=2),
    cells: int = typer.Option(5000, "--cells", min=10),
    perturbations: int = typer.Option(20, "--perturbations", min=0),
    contexts: int = typer.Option(1, "--contexts", min=1),
    model: str = typer.Option("nb", "--model", help="nb (negative-binomial SCM) or linear."),
    seed: int = typer.Option(0, "--seed"),
    force: bool = typer.Option(False, "--force", help="Overwrite --out (and its .graphml) if they exist."),
) -> None:
    """Simulate a perturbation experiment with a known graph."""
    from ..causal.simulate import simulate_linear_gaussian, simulate_nb

    out = output_file(out, force)
    output_file(out.with_suffix(".graphml"), force)
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
    adata.write_h5ad(out)
    g.write(out.with_suffix(".graphml"))
    console.print(
        f"wrote {out} ({adata.n_obs} cells x {adata.n_vars} genes) and {out.with_suffix('.graphml')}"
    )
