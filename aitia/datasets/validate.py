"""Validation of perturbation data (the AnnData convention every loader returns and every consumer accepts)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from ..errors import DataValidationError

logger = logging.getLogger(__name__)

CONTROL = "control"
PERTURBATION_KEY = "perturbation"
CONTEXT_KEY = "context"
INTERVENTION_KEY = "intervention_type"
#: The intervention type of a perturbed sample whose data do not say what kind of perturbation it was.
UNKNOWN_INTERVENTION = "unknown"


def intervention_label(kind: str) -> str:
    """How a sentence names an intervention type: ``"perturbation"`` when the data do not say.

    Example:
        >>> intervention_label("inhibitor"), intervention_label("unknown")
        ('inhibitor', 'perturbation')
    """
    return "perturbation" if kind in (UNKNOWN_INTERVENTION, "") else kind


#: Intervention types that are not interventions on a measured node (no causal edge can be read off them).
NON_NODE_INTERVENTIONS = frozenset({"multifactorial", "stimulus", "observational"})
INTERVENTION_TYPES = (
    frozenset(
        {"control", "knockout", "knockdown", "inhibitor", "activator", "overexpression", "crispra", "crispri"}
    )
    | NON_NODE_INTERVENTIONS
)


def split_targets(label: str) -> list[str]:
    """Targets of a perturbation label (``"A+B"`` -> ``["A", "B"]``; ``"control"`` -> ``[]``).

    Example:
        >>> split_targets("MEK1+MEK2")
        ['MEK1', 'MEK2']
    """
    if label == CONTROL:
        return []
    return [t for t in str(label).split("+") if t]


def validate_perturbation_data(
    adata: AnnData,
    *,
    require_control: bool = True,
    min_group_size: int = 1,
    check_values: bool = True,
    max_rows_checked: int | None = 200_000,
    inplace: bool = True,
) -> AnnData:
    """Check that ``adata`` follows the perturbation-data convention and fill defaults.

    Fills ``obs["context"]`` (``"default"``) and ``obs["intervention_type"]`` (``"control"`` for controls,
    else ``"unknown"``) when absent. With ``inplace=False`` the caller's object is left untouched: the defaults go
    into a new AnnData that shares ``X`` (estimators validate this way, so ``fit`` never modifies its input).

    Raises:
        DataValidationError: with the fix in the message for a missing perturbation column, no controls,
            NaN/inf values, duplicated gene names, empty data or groups smaller than ``min_group_size``.

    Example:
        >>> import numpy as np, pandas as pd
        >>> ad = AnnData(np.ones((2, 2)), obs=pd.DataFrame({"perturbation": ["control", "A"]}, index=["c1", "c2"]))
        >>> validate_perturbation_data(ad).obs["intervention_type"].tolist()
        ['control', 'unknown']
    """
    if not isinstance(adata, AnnData):
        raise DataValidationError(f"Expected an AnnData object, got {type(adata).__name__}.")
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise DataValidationError(
            f"Perturbation data is empty ({adata.n_obs} samples x {adata.n_vars} genes)."
        )
    if not inplace and _needs_defaults(adata) and not getattr(adata, "isbacked", False):
        # a backed file's obs lives in memory anyway; anything else gets a light copy that shares X
        adata = AnnData(adata.X, obs=adata.obs.copy(), var=adata.var.copy(), uns=dict(adata.uns))
    if PERTURBATION_KEY not in adata.obs.columns:
        raise DataValidationError(
            f"adata.obs has no {PERTURBATION_KEY!r} column (columns: {list(adata.obs.columns)[:10]}). "
            "Add one with the target symbol(s) per sample, joined by '+', and 'control' for unperturbed samples."
        )
    pert = adata.obs[PERTURBATION_KEY]
    if pert.isna().any():
        raise DataValidationError(
            f"{int(pert.isna().sum())} samples have no perturbation label; use 'control' for unperturbed samples."
        )
    if not (pert.dtype == object and all(isinstance(v, str) for v in pert.iloc[:1000])):
        adata.obs[PERTURBATION_KEY] = pert.astype(str)
    if require_control and not (adata.obs[PERTURBATION_KEY] == CONTROL).any():
        examples = adata.obs[PERTURBATION_KEY].value_counts().index[:5].tolist()
        raise DataValidationError(
            f"No control samples: no obs['perturbation'] equals {CONTROL!r} (most common labels: {examples}). "
            "Rename your control label (e.g. 'non-targeting') to 'control', or pass control_labels=... to the loader."
        )
    if adata.var_names.has_duplicates:
        dups = adata.var_names[adata.var_names.duplicated()].unique().tolist()
        raise DataValidationError(
            f"Duplicated gene names: {dups[:10]}. Aggregate or rename them (e.g. adata.var_names_make_unique())."
        )
    if CONTEXT_KEY not in adata.obs.columns:
        adata.obs[CONTEXT_KEY] = "default"
    elif adata.obs[CONTEXT_KEY].dtype != object:
        adata.obs[CONTEXT_KEY] = adata.obs[CONTEXT_KEY].astype(str)
    if INTERVENTION_KEY not in adata.obs.columns:
        is_ctrl = adata.obs[PERTURBATION_KEY] == CONTROL
        adata.obs[INTERVENTION_KEY] = np.where(is_ctrl, CONTROL, UNKNOWN_INTERVENTION)
    elif adata.obs[INTERVENTION_KEY].dtype != object:
        adata.obs[INTERVENTION_KEY] = adata.obs[INTERVENTION_KEY].astype(str)
    if min_group_size > 1:
        sizes = adata.obs.groupby([CONTEXT_KEY, PERTURBATION_KEY], observed=True).size()
        small = sizes[sizes < min_group_size]
        if len(small):
            raise DataValidationError(
                f"{len(small)} (context, perturbation) groups have fewer than {min_group_size} samples, "
                f"e.g. {small.index[:5].tolist()}. Drop them or lower min_group_size/min_cells."
            )
    if check_values and not getattr(adata, "isbacked", False):
        _check_finite(adata.X, max_rows_checked)
    return adata


def _needs_defaults(adata: AnnData) -> bool:
    """Whether validation would add or convert an obs column."""
    obs = adata.obs
    if PERTURBATION_KEY in obs.columns and obs[PERTURBATION_KEY].dtype != object:
        return True
    return any(k not in obs.columns or obs[k].dtype != object for k in (CONTEXT_KEY, INTERVENTION_KEY))


def _check_finite(x: object, max_rows: int | None) -> None:
    if x is None:
        raise DataValidationError("adata.X is empty (None); put the expression matrix in X.")
    if sp.issparse(x):
        data = x.data  # type: ignore[attr-defined]
    else:
        arr = np.asarray(x)
        data = arr if max_rows is None else arr[:max_rows]
    if not np.issubdtype(np.asarray(data).dtype, np.number):
        raise DataValidationError("Expression values must be numeric.")
    bad = ~np.isfinite(data)
    if bad.any():
        raise DataValidationError(
            f"Expression matrix has {int(bad.sum())} NaN/inf values. Impute or drop those samples/genes first "
            "(e.g. adata = adata[:, ~np.isnan(adata.X).any(0)])."
        )


def group_indices(
    adata: AnnData, by: Sequence[str] = (CONTEXT_KEY, PERTURBATION_KEY)
) -> dict[tuple, np.ndarray]:
    """Row indices per group (no data copied)."""
    codes = adata.obs[list(by)].astype(str)
    groups = codes.groupby(list(by), observed=True, sort=True).indices
    return {(k if isinstance(k, tuple) else (k,)): np.asarray(v) for k, v in groups.items()}


def as_frame(adata: AnnData) -> pd.DataFrame:
    """Dense samples x genes DataFrame (small data only)."""
    x = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    return pd.DataFrame(x, index=adata.obs_names, columns=adata.var_names)
