"""The rules a dataset carries: how its interventional truth and effect table are computed, which truths train
and which evaluate, and how questions name it. Every rule about a built-in dataset lives in its registry entry;
user data get :data:`DEFAULT_RULES`.

Example:
    >>> from aitia import datasets
    >>> datasets.rules("dream4-10-1").truth.reference
    'all'
    >>> DEFAULT_RULES.truth.method
    'mannwhitney'
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TruthMethod = Literal["mannwhitney", "ttest", "robust_z"]


class TruthSettings(BaseModel):
    """Keyword arguments of ``interventional_truth`` that suit a design."""

    model_config = ConfigDict(extra="forbid")

    method: TruthMethod = Field(default="mannwhitney", description="Test of 'intervening on A shifts B'.")
    reference: Literal["control", "all"] = Field(
        default="control", description="Compare with controls, or with all samples (one wild-type profile)."
    )
    z_threshold: float = Field(default=5.0, gt=0, description="|robust z| threshold (method robust_z).")

    def kwargs(self) -> dict[str, Any]:
        """As keyword arguments of ``interventional_truth``."""
        return self.model_dump()


class EffectSettings(TruthSettings):
    """How the dataset's EffectTable (context x perturbation x gene) is built."""

    normalize: Literal["auto", "none", "log"] = Field(
        default="auto",
        description="Normalisation before effects ('none' for data that are already on a log scale).",
    )
    load_options: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments of load().")
    contexts_from_intervention_types: list[str] = Field(
        default_factory=list,
        description="One context per listed intervention type (e.g. knockout, knockdown), each compared with "
        "the rows of `shared_intervention_types`; empty: the data's own contexts.",
    )
    shared_intervention_types: list[str] = Field(
        default_factory=list,
        description="Rows that every derived context shares (wild type, multifactorial).",
    )

    @classmethod
    def like(cls, truth: TruthSettings, **extra: Any) -> EffectSettings:
        """Effect settings with the same test as ``truth`` (the usual case) plus effect-only options."""
        return cls(**truth.kwargs(), **extra)

    def effect_kwargs(self) -> dict[str, Any]:
        """As keyword arguments of ``effects_from_adata``."""
        return {k: getattr(self, k) for k in ("method", "reference", "z_threshold", "normalize")}


class DatasetRules(BaseModel):
    """Everything that differs between datasets, in one place."""

    model_config = ConfigDict(extra="forbid")

    truth: TruthSettings = Field(default_factory=TruthSettings, description="Interventional-truth settings.")
    effects: EffectSettings = Field(default_factory=EffectSettings, description="Effect-table settings.")
    training_truth: str | None = Field(
        default=None,
        description="Name of the truth whose labels a supervised learner may train on (None: labels come from "
        "the revealed interventions).",
    )
    evaluation_truths: list[str] = Field(
        default_factory=list, description="Truths that score a learned graph (never the training truth)."
    )
    reference_graphs: list[str] = Field(
        default_factory=list, description="Evaluation truths that are graphs (edges a report can mark)."
    )
    names_in_questions: bool = Field(
        default=False,
        description="Its variable names (e.g. protein names that are not gene symbols) are recognised in questions.",
    )
    question_aliases: list[str] = Field(
        default_factory=list,
        description="Regular expressions (case-insensitive) by which a question names the dataset besides its "
        "registry name, e.g. 'DREAM4 network 1 of size 10'.",
    )
    question_rank: int | None = Field(
        default=None,
        description="Order in which the planner tries datasets for a question that names none (None: only when named).",
    )


DEFAULT_RULES = DatasetRules()
