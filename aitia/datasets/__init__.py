"""Built-in real datasets and loaders for user perturbation data (AnnData in, AnnData out).

Example:
    >>> from aitia import datasets
    >>> datasets.load("kemmeren-mrcl", instance=3).shape
    (86, 50)
"""

from __future__ import annotations

from .builtin import load_dream4_timeseries
from .io import download, read_data, read_h5ad, read_perturbseq, read_table
from .registry import (
    DEFAULT_DATASET,
    IN_SILICO,
    DatasetInfo,
    data_info,
    dataset_name,
    datasets_in_question,
    default_dataset,
    evaluation_truths,
    ground_truth,
    info,
    list_datasets,
    load,
    organism_of,
    question_candidates,
    question_vocabulary,
    reference_graphs,
    register_data,
    registry_version,
    rules,
    rules_for,
    training_labels,
    unregister_data,
    user_file,
)
from .rules import DEFAULT_RULES, DatasetRules, EffectSettings, TruthSettings
from .validate import CONTROL, split_targets, validate_perturbation_data

list = list_datasets  # noqa: A001  (the registry's public name, as in the contract)

__all__ = [
    "CONTROL",
    "DEFAULT_DATASET",
    "DEFAULT_RULES",
    "IN_SILICO",
    "DatasetRules",
    "EffectSettings",
    "TruthSettings",
    "data_info",
    "dataset_name",
    "default_dataset",
    "evaluation_truths",
    "datasets_in_question",
    "question_candidates",
    "question_vocabulary",
    "reference_graphs",
    "register_data",
    "registry_version",
    "unregister_data",
    "rules",
    "rules_for",
    "training_labels",
    "user_file",
    "DatasetInfo",
    "download",
    "ground_truth",
    "info",
    "list",
    "list_datasets",
    "load",
    "load_dream4_timeseries",
    "organism_of",
    "read_data",
    "read_h5ad",
    "read_perturbseq",
    "read_table",
    "split_targets",
    "validate_perturbation_data",
]
