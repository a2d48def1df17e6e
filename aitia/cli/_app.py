"""The typer application, its output helpers and the one error boundary of the command line.

Every user mistake surfaces as an :class:`~aitia.errors.AitiaError` (or a file-system error naming the path) and is
printed here as one line, exit code 2; ``aitia --debug ...`` shows the traceback instead.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pydantic
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from ..errors import AitiaError

# piped output keeps whole rows (rich would otherwise wrap tables at 80 columns); scripts should use --json
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, soft_wrap=True)
#: exit code of a user mistake (bad input, unknown name, missing file); 1 stays for bugs.
USER_ERROR = 2
_USER_ERRORS = (
    AitiaError,
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
    pydantic.ValidationError,
)


class _ErrorBoundary(TyperGroup):
    """Runs every command; a user error becomes one red line and exit code 2 (``--debug``: the traceback)."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except _USER_ERRORS as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            err_console.print(f"[bold red]error:[/] {_one_line(exc)}", markup=True, highlight=False)
            raise typer.Exit(code=USER_ERROR) from None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, pydantic.ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or exc.title
        return f"invalid {where}: {first['msg']} (got {first.get('input')!r})"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    return " ".join(str(exc).split()) or type(exc).__name__


app = typer.Typer(
    cls=_ErrorBoundary,
    help="aitia: from literature to validated causal gene networks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(help="Built-in datasets.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks and the baseline demo.", no_args_is_help=True)
genes_app = typer.Typer(help="Gene names and identifiers.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")
app.add_typer(bench_app, name="bench")
app.add_typer(genes_app, name="genes")
priors_app = typer.Typer(help="Curated prior networks.", no_args_is_help=True)
app.add_typer(priors_app, name="priors")
config_app = typer.Typer(help="Effective settings.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@app.callback()
def _main(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors."),
    ray: str = typer.Option(
        None,
        "--ray",
        help="Run split work (pair blocks, sweeps) on this Ray cluster ('local' starts one here).",
    ),
) -> None:
    ctx.obj = {"debug": debug}
    if ray:  # the same as AITIA_EXECUTOR=ray AITIA_RAY_ADDRESS=...: one configuration path
        import os

        from ..config import get_settings

        os.environ["AITIA_EXECUTOR"] = "ray"
        if ray != "local":
            os.environ["AITIA_RAY_ADDRESS"] = ray
        get_settings.cache_clear()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def working(message: str, quiet: bool = False) -> Any:
    """A spinner on stderr while a long step runs (nothing with ``quiet``, e.g. under ``--json``)."""
    from contextlib import nullcontext

    return nullcontext() if quiet else err_console.status(message)


def table(title: str, rows: list[dict[str, Any]]) -> Table:
    """A rich table of rows (floats to 3 decimals)."""
    out = Table(title=title)
    if not rows:
        return out
    for col in rows[0]:
        out.add_column(str(col), justify="right" if isinstance(rows[0][col], (int, float)) else "left")
    for r in rows:
        out.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in r.values()])
    return out


def emit(title: str, rows: list[dict[str, Any]], as_json: bool) -> None:
    """Print rows as a table, or as JSON for scripts."""
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=1, default=str) + "\n")
    else:
        console.print(table(title, rows))


def split_csv(value: str | None) -> list[str] | None:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; None for an empty option."""
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def output_file(path: Path, force: bool) -> Path:
    """Check an output file before any work: refuse to overwrite without ``--force``; create missing parents."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise AitiaError(f"{path} is a directory; give a file name for the output.")
    if path.exists() and not force:
        raise AitiaError(f"{path} exists; pass --force to overwrite it, or choose another name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def output_dir(path: Path, force: bool, outputs: tuple[str, ...]) -> Path:
    """Check an output directory before any work: it must not be a file, and files named in ``outputs`` are
    overwritten only with ``--force``; the directory (and its parents) is created."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise AitiaError(f"{path} exists and is not a directory; choose another --out.")
    present = [name for name in outputs if (path / name).exists()]
    if present and not force:
        raise AitiaError(
            f"{path} already holds {', '.join(present)}; pass --force to overwrite, or choose another --out."
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


#: Help of every ``--dataset`` that also takes the user's own data.
DATASET_HELP = ("Built-in dataset (`aitia datasets list`), or your own data: an .h5ad file or an expression table "
                "(CSV/TSV/parquet; samples x genes plus a perturbation column).")  # fmt: skip


def dataset_option(help: str, default: Any = None) -> Any:
    """A ``--dataset`` option (``default=...`` makes it required)."""
    return typer.Option(default, "--dataset", help=help)


def perturbation_column_option() -> Any:
    """The ``--perturbation-column`` option of commands whose ``--dataset`` takes a data file."""
    return typer.Option(
        "perturbation", "--perturbation-column",
        help="For a data file: the column (table) or obs column (.h5ad) naming each sample's perturbed gene(s); "
        "controls are 'control', 'non-targeting', 'ctrl', ...",
    )  # fmt: skip


def context_column_option() -> Any:
    """The ``--context-column`` option of commands whose ``--dataset`` takes a data file."""
    return typer.Option(
        None, "--context-column",
        help="For a data file: the column (table) or obs column (.h5ad) naming each sample's context (cell line, "
        "condition); in a table every other column but the perturbation column must be a numeric gene.",
    )  # fmt: skip


def load_data(
    dataset: str, perturbation_column: str = "perturbation", context_column: str | None = None
) -> Any:
    """A built-in dataset by name, or the user's data file (``--perturbation-column`` / ``--context-column`` name its
    columns)."""
    from .. import datasets

    if datasets.user_file(dataset):
        return datasets.load(dataset, perturbation_column=perturbation_column, context_column=context_column)
    if perturbation_column != "perturbation" or context_column:
        raise AitiaError(
            f"--perturbation-column and --context-column are for data files; {dataset} is built in."
        )
    return datasets.load(dataset)


def register_file(dataset: str, perturbation_column: str, context_column: str | None) -> str:
    """Register the user's data file as a session dataset (named after the file) for commands that take names."""
    from .. import datasets

    path = datasets.user_file(dataset)
    if path is None:
        raise AitiaError(
            f"--dataset takes your data file; name a built-in dataset ({dataset}) in the question."
        )
    name = path.stem if path.stem not in datasets.list_datasets() else f"{path.stem}-file"
    return datasets.register_data(name, load_data(dataset, perturbation_column, context_column))


def warn_unknown_genes(names: list[str], consequence: str) -> None:
    """One warning line on stderr per name that is no gene, alias, family, messenger or yeast gene (a typo is never
    silent), with "did you mean"."""
    from ..knowledge.genes import get_resolver

    resolver = get_resolver()
    for name in names:
        if resolver.resolve(name).match == "none" and not resolver.yeast_line(name):
            close = resolver.suggest(name)
            err_console.print(
                f"[yellow]warning:[/] {name!r} is no known gene, alias, family or messenger; {consequence}."
                + (f" Did you mean {', '.join(close)}?" if close else ""),
                highlight=False,
            )


def announce_backend(requested: str | None) -> None:
    """Say once, on stderr, when an LLM backend that goes online was chosen by the implicit rule."""
    from ..config import get_settings

    s = get_settings()
    if requested is None and s.llm_backend == "openai" and "AITIA_LLM_BACKEND" not in s.backend_reason:
        err_console.print(
            f"[dim]using the openai LLM backend because {s.backend_reason}; set AITIA_LLM_BACKEND=none "
            "(or --llm none) to stay offline[/]"
        )
