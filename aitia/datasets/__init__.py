"""Built-in real datasets and loaders for user perturbation data (AnnData in, AnnData out).

Example:
    >>> from aitia import datasets
    >>> datasets.load("kemmeren-mrcl", instance=3).shape
    (126, 50)
"""

from __future__ import annotations

from .builtin import load_dream4_timeseries
from .io import download, read_h5ad, read_perturbseq, read_table
from .registry import DatasetInfo, ground_truth, info, list_datasets, load
from .validate import CONTROL, split_targets, validate_perturbation_data

list = list_datasets  # noqa: A001  (the registry's public name, as in the contract)

__all__ = [
    "CONTROL",
    "DatasetInfo",
    "download",
    "ground_truth",
    "info",
    "list",
    "list_datasets",
    "load",
    "load_dream4_timeseries",
    "read_h5ad",
    "read_perturbseq",
    "read_table",
    "split_targets",
    "validate_perturbation_data",
]
