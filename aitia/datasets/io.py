"""Loaders for user perturbation data: .h5ad, expression tables (CSV/TSV/parquet), Perturb-seq files.

Every loader returns AnnData in the perturbation-data convention (see :mod:`aitia.datasets.validate`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
from anndata import AnnData

from ..errors import DataValidationError
from .validate import CONTROL, PERTURBATION_KEY, validate_perturbation_data

logger = logging.getLogger(__name__)

#: Labels treated as controls in Perturb-seq screens (case-insensitive).
DEFAULT_CONTROL_LABELS = (
    "control",
    "non-targeting",
    "non_targeting",
    "nontargeting",
    "NT",
    "NTC",
    "ctrl",
    "safe-targeting",
    "wildtype",
    "wild-type",
    "WT",
    "unperturbed",
    "negctrl",
    "scrambled",
    "intergenic",
    "DMSO",
    "vehicle",
)

#: Numbered control guides are controls too: "non-targeting_00042", "NegCtrl3", "safe-targeting-7".
_NUMBERED_CONTROL = re.compile(
    r"^(?:non[-_ ]?targeting|negctrl|neg[-_ ]?control|safe[-_ ]?targeting|scrambled?|intergenic)"
    r"(?:[-_ .]?\d+\w*|[-_ .]\w+)?$",
    re.IGNORECASE,
)


def _require_file(path: str | Path) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"No such file: {path}")
    if path.is_dir():
        raise DataValidationError(f"{path} is a directory; give the data file inside it.")
    if path.stat().st_size == 0:
        raise DataValidationError(f"{path} is empty.")
    return path


def _map_controls(labels: pd.Series, control_labels: Sequence[str]) -> pd.Series:
    """Control labels -> ``"control"``; control parts of a combination are dropped ("CBL+ctrl", GEARS' way of
    writing a single perturbation, is "CBL"; "ctrl+ctrl" is a control)."""
    lowered = {c.lower() for c in control_labels}

    def is_control(part: str) -> bool:
        return part.lower() in lowered or (
            control_labels is DEFAULT_CONTROL_LABELS and bool(_NUMBERED_CONTROL.match(part))
        )

    def one(label: str) -> str:
        if is_control(label):
            return CONTROL
        if "+" not in label:
            return label
        parts = [p for p in label.split("+") if p and not is_control(p.strip())]
        return "+".join(p.strip() for p in parts) if parts else CONTROL

    s = labels.astype(str).str.strip()
    return s.map({v: one(v) for v in pd.unique(s)})


def read_h5ad(
    path: str | Path,
    perturbation_column: str = PERTURBATION_KEY,
    control_labels: Sequence[str] = DEFAULT_CONTROL_LABELS,
    backed: bool = False,
    context_column: str | None = None,
) -> AnnData:
    """Read an AnnData file and bring it to the perturbation-data convention.

    Args:
        path: ``.h5ad`` file.
        perturbation_column: obs column holding the target symbol(s) per sample.
        control_labels: labels meaning "unperturbed" (mapped to ``"control"``); the default also matches numbered
            control guides ("non-targeting_0042", "NegCtrl3") and drops control parts of a combination ("CBL+ctrl"
            is CBL); a list of your own is matched exactly.
        backed: open in backed mode (``"r"``) so only requested rows are read from disk.
        context_column: obs column naming each sample's context (cell line, condition), when it is not ``context``.
    """
    path = _require_file(path)
    try:
        adata = ad.read_h5ad(path, backed="r" if backed else None)
    except Exception as exc:  # h5py/anndata raise many types for a corrupt file
        raise DataValidationError(f"Could not read {path} as .h5ad: {exc}") from exc
    if perturbation_column not in adata.obs.columns:
        raise DataValidationError(
            f"{path.name}: obs has no column {perturbation_column!r} (columns: {list(adata.obs.columns)[:12]}). "
            "Pass perturbation_column=... (CLI: --perturbation-column) naming the per-sample target column."
        )
    adata.obs[PERTURBATION_KEY] = _map_controls(adata.obs[perturbation_column], control_labels)
    if context_column:
        if context_column not in adata.obs.columns:
            raise DataValidationError(
                f"{path.name}: obs has no column {context_column!r} (columns: {list(adata.obs.columns)[:12]})."
            )
        adata.obs["context"] = adata.obs[context_column].astype(str).to_numpy()
    adata.uns.setdefault("aitia", {})["source_file"] = str(path)
    if not backed:
        _name_genes_as_perturbed(adata, path.name)
    return validate_perturbation_data(adata)


#: var columns that hold gene symbols when the var index holds identifiers (Ensembl ids, probe ids)
SYMBOL_COLUMNS = ("gene_name", "gene_names", "gene_symbol", "gene_symbols", "symbol", "feature_name", "gene")


def _name_genes_as_perturbed(adata: AnnData, source: str) -> None:
    """Use the var column of gene symbols as gene names when the perturbations name genes by symbol and the var
    index does not (an Ensembl-indexed Perturb-seq file with ``var["gene_name"]``): otherwise no perturbed gene is
    measured and nothing can be scored. Duplicated symbols get suffixes (``anndata``'s ``var_names_make_unique``)."""
    from .validate import split_targets

    targets = {t for p in pd.unique(adata.obs[PERTURBATION_KEY].astype(str)) for t in split_targets(p)}
    names = set(map(str, adata.var_names))
    if not targets or targets & names:
        return
    for col in SYMBOL_COLUMNS:
        if col in adata.var.columns:
            symbols = adata.var[col].astype(str)
            if len(targets & set(symbols)) > 0:
                adata.var[f"{col}_index"] = adata.var_names.astype(str)
                adata.var_names = pd.Index(symbols.to_numpy())
                if not adata.var_names.is_unique:
                    adata.var_names_make_unique()
                logger.warning(
                    "%s: genes are named by var[%r] (the perturbations name %d of them; the var index named none); "
                    "the index is kept in var[%r].", source, col, len(targets & set(symbols)), f"{col}_index",
                )  # fmt: skip
                return


def read_table(
    path: str | Path,
    perturbation_column: str = PERTURBATION_KEY,
    context_column: str | None = None,
    intervention_column: str | None = None,
    control_labels: Sequence[str] = DEFAULT_CONTROL_LABELS,
    index_column: str | None = None,
) -> AnnData:
    """Read a samples x genes expression table (CSV, TSV or parquet) with a perturbation column.

    Every numeric column other than the metadata columns is taken as a gene.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
        >>> _ = open(p, "w").write("perturbation,A,B\\ncontrol,1,2\\nA,0,1\\n")
        >>> read_table(p).shape
        (2, 2)
    """
    path = _require_file(path)
    suffixes = "".join(path.suffixes).lower()
    try:
        if suffixes.endswith(".parquet") or suffixes.endswith(".pq"):
            df = pd.read_parquet(path)
        else:
            sep = "\t" if any(s in suffixes for s in (".tsv", ".tab", ".txt")) else ","
            df = pd.read_csv(path, sep=sep)
            # pandas renames a repeated header to "A.1": refuse instead of measuring one gene twice
            header = pd.read_csv(path, sep=sep, header=None, nrows=1).iloc[0].astype(str)
            dups = sorted(set(header[header.duplicated()]))
            if dups:
                raise DataValidationError(
                    f"{path.name}: duplicated column names {dups[:8]}; aggregate or rename them first."
                )
    except DataValidationError:
        raise
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, OSError, ValueError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise DataValidationError(f"Could not parse {path}: {detail}") from exc
    if perturbation_column not in df.columns:
        raise DataValidationError(
            f"{path.name} has no column {perturbation_column!r} (columns: {list(df.columns)[:12]}). "
            "Pass perturbation_column=... (CLI: --perturbation-column) naming the per-sample target column."
        )
    meta_cols = [c for c in (perturbation_column, context_column, intervention_column, index_column) if c]
    for c in meta_cols:
        if c not in df.columns:
            raise DataValidationError(f"{path.name} has no column {c!r}.")
    gene_cols = [c for c in df.columns if c not in meta_cols]
    non_numeric = [c for c in gene_cols if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        raise DataValidationError(
            f"{path.name}: gene columns must be numeric; non-numeric: {non_numeric[:8]}. "
            "Declare metadata columns via context_column/intervention_column/index_column (CLI: --context-column), "
            "or fix the values."
        )
    if not gene_cols:
        raise DataValidationError(f"{path.name} has no gene (numeric) columns.")
    obs = pd.DataFrame({PERTURBATION_KEY: _map_controls(df[perturbation_column], control_labels)})
    if context_column:
        obs["context"] = df[context_column].astype(str).to_numpy()
    if intervention_column:
        obs["intervention_type"] = df[intervention_column].astype(str).to_numpy()
    obs.index = df[index_column].astype(str).to_numpy() if index_column else [f"s{i}" for i in range(len(df))]
    adata = AnnData(
        df[gene_cols].to_numpy(dtype=np.float32), obs=obs, var=pd.DataFrame(index=map(str, gene_cols))
    )
    adata.uns["aitia"] = {"source_file": str(path)}
    return validate_perturbation_data(adata)


#: File suffixes :func:`read_data` reads: AnnData, then expression tables.
H5AD_SUFFIXES = (".h5ad",)
TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq", ".csv.gz", ".tsv.gz")


def read_data(path: str | Path, perturbation_column: str = PERTURBATION_KEY,
              context_column: str | None = None) -> AnnData:  # fmt: skip
    """Read perturbation data from a file by its suffix: ``.h5ad`` (:func:`read_h5ad`) or an expression table
    (CSV/TSV/parquet, :func:`read_table`). What ``datasets.load`` and the CLI's ``--dataset FILE`` use.

    Args:
        path: the file.
        perturbation_column: obs column (h5ad) or table column naming each sample's perturbed gene(s).
        context_column: column (table) or obs column (.h5ad) naming each sample's context (cell line, condition).

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
        >>> _ = open(p, "w").write("target,A,B\\ncontrol,1,2\\nA,0,1\\n")
        >>> read_data(p, perturbation_column="target").obs["perturbation"].tolist()
        ['control', 'A']
    """
    name = Path(path).name.lower()
    if name.endswith(H5AD_SUFFIXES):
        return read_h5ad(path, perturbation_column=perturbation_column, context_column=context_column)
    if name.endswith(TABLE_SUFFIXES):
        return read_table(path, perturbation_column=perturbation_column, context_column=context_column)
    raise DataValidationError(
        f"{Path(path).name}: unknown data file type; give an .h5ad file or an expression table "
        f"({', '.join(TABLE_SUFFIXES)})."
    )


def read_perturbseq(
    source: str | Path | AnnData,
    target_column: str | None = None,
    gene_name_column: str | None = "gene_name",
    control_labels: Sequence[str] = DEFAULT_CONTROL_LABELS,
    context: str | None = None,
    intervention_type: str = "knockdown",
    require_control: bool = True,
    backed: bool = False,
) -> AnnData:
    """Read a Perturb-seq file in the Replogle et al. 2022 / CausalBench layout.

    The layout: cells (or pseudobulk rows) x genes; a per-cell target column (``gene``; otherwise parsed from
    ``gene_transcript`` / the obs index ``<id>_<GENE>_<guides>_<ENSG>``), non-targeting controls, and
    ``var["gene_name"]`` holding symbols when ``var_names`` are Ensembl ids.

    Args:
        source: an ``.h5ad`` path or an AnnData already in memory.
        target_column: obs column with the targeted gene; default: ``gene``, else parsed as above.
        gene_name_column: var column with gene symbols to use as ``var_names`` (duplicates made unique).
        control_labels: labels of non-targeting controls (see :func:`read_h5ad`).
        context: cell line / condition to record in ``obs["context"]`` (default: the file stem).
        intervention_type: ``knockdown`` (CRISPRi), ``knockout`` or ``crispra``.
        require_control: z-normalised pseudobulk files have no control rows; pass False for them.
        backed: open the file in backed mode.
    """
    if isinstance(source, AnnData):
        adata, name = source, "adata"
    else:
        path = _require_file(source)
        name = path.stem
        try:
            adata = ad.read_h5ad(path, backed="r" if backed else None)
        except Exception as exc:
            raise DataValidationError(f"Could not read {path} as .h5ad: {exc}") from exc
    obs = adata.obs
    if target_column is None:
        target_column = next((c for c in ("gene", "target", "perturbation") if c in obs.columns), None)
    if target_column is not None:
        if target_column not in obs.columns:
            raise DataValidationError(
                f"obs has no column {target_column!r} (columns: {list(obs.columns)[:12]})."
            )
        targets = obs[target_column].astype(str)
    else:
        ids = (
            obs["gene_transcript"].astype(str) if "gene_transcript" in obs.columns else obs.index.to_series()
        )
        parts = ids.str.split("_")
        if not (parts.str.len() >= 2).all():
            raise DataValidationError(
                "Could not find a target column ('gene', 'target', 'perturbation') nor parse targets from "
                "'<id>_<GENE>_...' identifiers. Pass target_column=..."
            )
        targets = parts.str[1]
    adata.obs[PERTURBATION_KEY] = _map_controls(targets, control_labels).to_numpy()
    is_ctrl = adata.obs[PERTURBATION_KEY] == CONTROL
    adata.obs["intervention_type"] = np.where(is_ctrl, CONTROL, intervention_type)
    adata.obs["context"] = context or name
    if gene_name_column and gene_name_column in adata.var.columns:
        symbols = adata.var[gene_name_column].astype(str)
        if symbols.duplicated().any():
            logger.warning("%d duplicated gene symbols made unique", int(symbols.duplicated().sum()))
        adata.var["gene_id"] = adata.var_names.to_numpy()
        adata.var_names = symbols.to_numpy()
        if not getattr(adata, "isbacked", False):
            adata.var_names_make_unique()
    if not require_control and not is_ctrl.any():
        logger.warning(
            "No non-targeting controls in %s; interventional truth must use reference='all'.", name
        )
    adata.uns.setdefault("aitia", {})["layout"] = "perturbseq"
    return validate_perturbation_data(adata, require_control=require_control)


#: Public Perturb-seq files (Replogle et al. 2022, figshare+ 10.25452/figshare.plus.20029387).
PUBLIC_FILES: dict[str, str] = {
    "replogle-k562-essential-bulk": "https://ndownloader.figshare.com/files/35780870",
    "replogle-k562-gwps-bulk": "https://ndownloader.figshare.com/files/35773217",
    "replogle-rpe1-bulk": "https://ndownloader.figshare.com/files/35775512",
}


def download(
    name_or_url: str,
    dest: str | Path,
    sha256: str | None = None,
    timeout_s: float = 60.0,
    overwrite: bool = False,
) -> Path:
    """Download a public data file (resumable: keeps a ``.part`` file and continues it).

    Args:
        name_or_url: a key of :data:`PUBLIC_FILES` or any ``http(s)://`` / ``file://`` URL.
        dest: target file path (or a directory: the file is named after ``name_or_url``).
        sha256: optional checksum to verify.
        timeout_s: socket timeout.
        overwrite: download again even if ``dest`` exists.
    """
    url = PUBLIC_FILES.get(name_or_url, name_or_url)
    if "://" not in url:
        raise DataValidationError(
            f"Unknown public file {name_or_url!r}. Options: {', '.join(PUBLIC_FILES)} or a URL."
        )
    dest = Path(dest).expanduser()
    if dest.is_dir():
        dest = dest / (f"{name_or_url}.h5ad" if name_or_url in PUBLIC_FILES else Path(url).name)
    if dest.exists() and not overwrite:
        logger.info("%s exists; not downloading again", dest)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_suffix(dest.suffix + ".part")
    start = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    from rich.progress import Progress

    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 (user-requested download)
            if start and getattr(resp, "status", 200) != 206:
                start = 0  # server ignored the range: start over
            total = int(resp.headers.get("Content-Length") or 0) + start
            with open(part, "ab" if start else "wb") as fh, Progress(transient=True) as progress:
                task = progress.add_task(f"download {dest.name}", total=total or None, completed=start)
                while chunk := resp.read(1 << 20):
                    fh.write(chunk)
                    progress.update(task, advance=len(chunk))
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        kept = (
            f"; {part.name} keeps {part.stat().st_size:,} bytes and a rerun resumes" if part.exists() else ""
        )
        raise DataValidationError(f"Download of {url} failed ({reason}){kept}.") from None
    if sha256:
        digest = hashlib.sha256(part.read_bytes()).hexdigest()
        if digest != sha256:
            raise DataValidationError(f"Checksum mismatch for {dest.name}: got {digest}, expected {sha256}.")
    part.replace(dest)
    return dest
