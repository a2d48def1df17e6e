"""Run commands: ``loop``, ``ask``, ``report``, ``config show``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from ..knowledge.store import built_store
from ._app import (
    announce_backend,
    app,
    config_app,
    console,
    context_column_option,
    dataset_option,
    load_data,
    perturbation_column_option,
    register_file,
    split_csv,
    table,
)


@app.command()
def loop(
    dataset: str = typer.Option(
        None,
        "--dataset",
        help="Built-in dataset with interventions (default: the demo dataset), or your data file (.h5ad, table) "
        "with perturbations and controls.",
    ),
    perturbation_column: str = perturbation_column_option(),
    context_column: str = context_column_option(),
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
    seeds: int = typer.Option(
        1,
        "--seeds",
        min=1,
        max=50,
        help="Replicates of the experiment, each from its own first reveal with an active and a random arm: the "
        "report shows both curves' means and 95% CIs.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Hypothesis-to-validation loop: hypothesise, learn with priors, validate on held-out interventions, pick the
    next experiments, repeat; writes a run directory with trace and report (a killed run resumes)."""
    import time as _time

    from .. import datasets
    from ..config import get_settings
    from ..orchestrator.loop import LoopConfig, run_loop

    dataset = dataset or datasets.default_dataset()
    adata = load_data(dataset, perturbation_column, context_column)
    path = datasets.user_file(dataset)
    if path:  # the config names the file the run read (absolute: a resumed run reads the same data)
        dataset = str(path.resolve())

    cfg = LoopConfig(dataset=dataset, learners=split_csv(learners) or ["correlation"], rounds=rounds, llm=llm,
                     rag=rag, context=context, seed=seed, seeds=seeds)  # fmt: skip
    label = path.stem if path else dataset
    run_dir = out or get_settings().runs_dir / f"loop-{label}-{_time.strftime('%Y%m%d-%H%M%S')}"
    st = built_store(enabled=rag)
    result = run_loop(
        cfg,
        run_dir,
        adata=adata,
        store=st,
        on_progress=(lambda m: None) if as_json else (lambda m: console.print(m)),
    )
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=1) + "\n")
        return
    console.print(f"[bold]report:[/] {result.report_html}\n        {result.report_md}")


@app.command()
def ask(
    question: str = typer.Argument(
        ..., help="A question about genes, e.g. 'Does inhibiting Mek change Erk?'"
    ),
    llm: str = typer.Option(None, "--llm", help="openai | local | none (default: from settings)."),
    max_steps: int = typer.Option(12, "--max-steps", min=1, max=50, help="Agent step limit."),
    dataset: str = dataset_option(
        "Your data file (.h5ad, table): questions that name no dataset are about it (measured answers first)."
    ),
    perturbation_column: str = perturbation_column_option(),
    context_column: str = context_column_option(),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Ask a natural-language question; the agent (or the offline planner) answers with citations."""
    from ..orchestrator.agent import ask as ask_fn

    if dataset:
        register_file(dataset, perturbation_column, context_column)
    announce_backend(llm)
    st = built_store()
    answer = ask_fn(question, backend=llm, store=st, max_steps=max_steps,
                    on_step=None if as_json else (lambda s: console.print(f"[dim]{s}[/]")))  # fmt: skip
    if as_json:
        sys.stdout.write(answer.model_dump_json(indent=1) + "\n")
        return
    console.print(answer.text)
    console.print(f"[dim]({answer.mode}, {answer.steps} steps; trace: {answer.run_dir}/trace.jsonl)[/]")


@app.command()
def mcp(
    run_dir: Path = typer.Option(
        None,
        "--run-dir",
        help="The run that holds handles and the trace (default: $AITIA_HOME/runs/mcp-...).",
    ),
    dataset: str = dataset_option("Your data file (.h5ad, table), served as a dataset named after the file."),
    perturbation_column: str = perturbation_column_option(),
    context_column: str = context_column_option(),
) -> None:
    """Serve every aitia tool over the Model Context Protocol (stdio) for other agents and MCP clients."""
    from ..orchestrator.mcp_server import serve_stdio

    if dataset:
        register_file(dataset, perturbation_column, context_column)
    serve_stdio(run_dir)


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="A loop run directory."),
    perturbation_column: str = perturbation_column_option(),
    context_column: str = context_column_option(),
) -> None:
    """Re-render a loop run's report from its directory (state, hypotheses and saved scores)."""
    from .. import datasets
    from ..orchestrator.loop import LoopConfig, rerender_report
    from ..run import Run

    dataset = LoopConfig.model_validate(Run.open(run_dir).config).dataset
    known = dataset in datasets.list_datasets() or Path(dataset).is_file()  # else: data passed from Python
    md, html_path = rerender_report(
        run_dir, adata=load_data(dataset, perturbation_column, context_column) if known else None
    )
    console.print(f"[bold]report:[/] {html_path}\n        {md}")


@config_app.command("show")
def config_show(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The effective settings (secrets masked), the LLM backend and why, the store, and what would go online."""
    from ..config import get_settings, settings_path
    from ..knowledge.priors import default_prior

    s = get_settings()
    values = s.model_dump(mode="json")
    for key in ("llm_api_key", "ncbi_api_key"):
        if values.get(key):
            values[key] = "set (hidden)"
    network = s.network_use()
    payload = {
        "settings": values,
        "config_file": str(settings_path()),
        "llm_backend": s.llm_backend,
        "llm_backend_reason": s.backend_reason,
        "store": str(s.store_dir),
        "store_built": (s.store_dir / "chroma.sqlite3").exists(),
        "default_priors": default_prior(),
        "network": network,
        "offline": not network,
    }
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=1) + "\n")
        return
    console.print(table("settings (AITIA_* environment variables or config.toml)",
                        [{"setting": k, "value": str(v)} for k, v in values.items()]))  # fmt: skip
    console.print(f"config file: {payload['config_file']}")
    console.print(f"LLM backend: {s.llm_backend} ({s.backend_reason})")
    console.print(
        f"literature store: {s.store_dir} ({'built' if payload['store_built'] else 'not built: aitia ingest --default'})"
    )
    console.print(f"default priors: {payload['default_priors']}")
    if network:
        console.print("[bold yellow]would use the network:[/] " + "; ".join(network))
    else:
        console.print(
            "offline: nothing in these settings touches the network (online sources run only when asked)"
        )
