"""The tools: plain typed functions (methods of :class:`ToolBox`, which holds the run state the LLM never sees).

Each tool takes and returns pydantic objects and has a Google-style docstring - the text the LLM reads. Large objects
(AnnData, score matrices, graphs) stay in the run and are passed between tools by handle (``scores:3``).

Example:
    >>> tb = ToolBox()
    >>> tb.resolve_genes(["ERK"]).genes[0].symbols
    ['MAPK1', 'MAPK3']
"""

from __future__ import annotations

import logging
import tempfile
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..datasets.validate import intervention_label
from ..errors import AitiaError

logger = logging.getLogger(__name__)


#: Hard caps on what one call may ask for, by argument name (also stated in each tool's docstring): the model's
#: context is not a place for a whole store or genome.
CAPS: dict[str, int] = {"k": 20, "top": 50, "limit": 50, "names": 50, "genes": 100, "edges": 100,
                        "candidates": 200, "handles": 10}  # fmt: skip
#: Longest text of one result handed to the model (the registry cuts and marks anything longer).
MAX_RESULT_CHARS = 20_000


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")

    truncated: str = Field(
        default="", description="Set when a cap cut the request or the result: what was cut and the cap."
    )


def capped(method: Any) -> Any:
    """Clip the arguments named in :data:`CAPS` and say so in the result's ``truncated`` field."""
    import functools
    import inspect

    sig = inspect.signature(method)

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = sig.bind(self, *args, **kwargs)
        notes = []
        for name, cap in CAPS.items():
            value = bound.arguments.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value > cap:
                notes.append(f"{name}={value} capped at {cap}")
                bound.arguments[name] = cap
            elif isinstance(value, list) and len(value) > cap:
                notes.append(f"truncated: {len(value) - cap} more {name} (cap {cap})")
                bound.arguments[name] = value[:cap]
        result = method(*bound.args, **bound.kwargs)
        if notes and isinstance(result, _Out):
            result.truncated = "; ".join([*notes, result.truncated] if result.truncated else notes)
        return result

    return wrapper


class ResolvedGene(_Out):
    query: str
    symbols: list[str]
    match: str
    note: str = ""


class ResolveGenesResult(_Out):
    genes: list[ResolvedGene]


class LiteratureHit(_Out):
    doc_id: str
    text: str
    score: float
    year: int | None = None


class SearchResult(_Out):
    hits: list[LiteratureHit]
    note: str = ""


class EvidenceResult(_Out):
    source: str
    target: str
    support: float = Field(description="Calibrated support probability for source -> target.")
    sign: int
    claims: list[str] = Field(
        description="'doc_id: sentence' of claims source -> target (whole sentences, duplicates collapsed; negated "
        "or 'independently of' statements are never counted)."
    )
    reverse_claims: int
    curated: list[str] = Field(
        description="Curated edges source -> target found (database: source->target, sign)."
    )
    curated_reverse: list[str] = Field(default_factory=list, description="Curated edges target -> source.")
    citations: list[str]
    path: list[str] | None = Field(
        default=None, description="When no curated edge links source to target directly: the shortest curated path "
        "(genes, at most 3 steps)."
    )  # fmt: skip
    path_sign: int | None = Field(
        default=None, description="The path's net sign (product of its edges' signs)."
    )


class PriorEdgeOut(_Out):
    source: str
    target: str
    sign: int
    databases: list[str]
    n_pmids: int


class PriorLookupResult(_Out):
    edges: list[PriorEdgeOut]
    total: int


class DatasetSummary(_Out):
    name: str
    description: str
    n_samples: int
    n_genes: int
    truths: list[str]


class DatasetsResult(_Out):
    datasets: list[DatasetSummary]


class DatasetDescription(_Out):
    name: str
    genes: list[str]
    perturbations: list[str] = Field(description="Intervened genes/proteins (with type).")
    contexts: list[str]
    n_samples: int
    truths: list[str]


class EdgeOut(_Out):
    source: str
    target: str
    score: float


class HypothesesResult(_Out):
    handle: str = Field(description="Handle of the hypothesis scores, usable as prior_handle.")
    generator: str
    top: list[EdgeOut]
    rejected: int


class GraphResult(_Out):
    handle: str = Field(description="Handle of the learned edge scores.")
    method: str
    top: list[EdgeOut]
    metrics: dict[str, float] = Field(description="AUROC against each ground truth of the dataset.")


class PredictedEffect(_Out):
    gene: str
    effect: float
    de_probability: float


class PredictionResult(_Out):
    perturbation: str
    context: str
    method: str
    top: list[PredictedEffect]
    observed: bool = Field(
        description="Whether this perturbation was measured in the dataset (then held out)."
    )


class EdgeValidation(_Out):
    source: str
    target: str
    tested: bool
    significant: bool | None = None
    effect: float | None = None
    qvalue: float | None = None
    wasserstein: float | None = None
    in_gold_graph: bool | None = Field(
        default=None, description="Whether the first reference graph has the edge."
    )
    references: dict[str, bool] = Field(
        default_factory=dict, description="Each reference graph of the dataset: does it have the direct edge?"
    )
    intervention_type: str | None = None
    reagent: str | None = Field(
        default=None, description="The reagent of the intervention, when the data name one."
    )
    context: str | None = None
    n_cells: int | None = Field(default=None, description="Intervened samples tested (against the controls).")
    note: str = ""


class ValidationResult(_Out):
    dataset: str
    method: str
    edges: list[EdgeValidation]


class ExperimentSuggestion(_Out):
    perturbation: str
    score: float
    reason: str


class SuggestionResult(_Out):
    suggestions: list[ExperimentSuggestion]


class RunSummary(_Out):
    run_dir: str
    events: int
    tool_calls: int
    handles: list[str]


class ToolBox:
    """Typed tools over one run's state.

    Args:
        run: the Run that receives trace events and holds handles (default: a temporary run).
        store: a LiteratureStore (None: literature tools say so and curated priors still work).
        backend: LLM backend name/instance for ``propose_hypotheses`` (default: settings).
        prior: curated prior name.
    """

    def __init__(
        self, run: Any = None, store: Any = None, backend: Any = None, prior: str | None = None
    ) -> None:
        from ..run import Run

        self.run = run or Run.create(tempfile.mkdtemp(prefix="aitia-run-"), {"kind": "toolbox"})
        self.store = store
        self.backend = backend
        self.prior_name = prior
        self._prior: Any = None
        self._data: dict[str, Any] = {}
        self._truth: dict[str, Any] = {}
        self._var_symbols: dict[str, dict[str, set[str]]] = {}

    # ------------------------------------------------------------------ helpers
    def _prior_net(self) -> Any:
        if self._prior is None:
            from ..knowledge.priors import load_prior

            self._prior = load_prior(self.prior_name)
        return self._prior

    def _dataset(self, name: str) -> Any:
        if name not in self._data:
            from .. import datasets

            self._data[name] = datasets.load(name)
        return self._data[name]

    def interventional_truth(self, name: str) -> Any:
        if name not in self._truth:
            from ..causal.truth import dataset_truth

            self._truth[name] = dataset_truth(self._dataset(name))
        return self._truth[name]

    def _match_genes(self, name: str, genes: list[str]) -> list[str]:
        """Map user gene names onto a dataset's var names (case-insensitive, or via the resolver)."""
        var = [str(v) for v in self._dataset(name).var_names]
        lower = {v.lower(): v for v in var}
        from ..knowledge.genes import get_resolver

        r = get_resolver()
        if name not in self._var_symbols:  # resolving every measured name once per dataset, not once per call
            self._var_symbols[name] = {v: set(r.resolve(v).symbols) for v in var}
        var_syms = self._var_symbols[name]
        out = []
        for g in genes:
            if g in var:
                out.append(g)
            elif g.lower() in lower:
                out.append(lower[g.lower()])
            else:
                syms = set(r.resolve(g).symbols)
                hits = [v for v, s in var_syms.items() if syms and syms & s]
                if not hits:
                    raise AitiaError(f"{g!r} is not measured in {name}. Measured: {', '.join(var[:20])}.")
                out.append(hits[0])
        return out

    def _reagents(self, name: str) -> dict[tuple[str, str, str], str]:
        """(perturbation, context, intervention type) -> reagent, when the data's ``obs`` names reagents."""
        obs = self._dataset(name).obs
        if "reagent" not in obs:
            return {}
        rows = obs[["perturbation", "context", "intervention_type", "reagent"]].astype(str).drop_duplicates()
        return {(p, c, t): r for p, c, t, r in rows.itertuples(index=False) if p != "control"}

    @staticmethod
    def _top(scores: Any, k: int) -> list[EdgeOut]:
        return [
            EdgeOut(source=s, target=t, score=round(float(v), 4))
            for s, t, v in scores.top_edges(k).itertuples(index=False)
        ]

    # ------------------------------------------------------------------ tools
    @capped
    def resolve_genes(self, names: list[str]) -> ResolveGenesResult:
        """Resolve gene names, aliases, protein families (e.g. ERK, Raf, PKC) or ids to approved gene symbols.

        Args:
            names: gene names or identifiers to resolve (at most 50).
        """
        from ..knowledge.genes import get_resolver

        res = get_resolver().resolve_many(names, "any")
        return ResolveGenesResult(genes=[ResolvedGene(query=r.query, symbols=r.symbols[:20], match=r.match, note=r.note)
                                         for r in res])  # fmt: skip

    @capped
    def search_literature(self, query: str, genes: list[str] | None = None, k: int = 5,
                          year_max: int | None = None) -> SearchResult:  # fmt: skip
        """Search the literature store for passages about a question, optionally only those mentioning genes.

        Args:
            query: natural-language query.
            genes: keep passages mentioning any of these genes (at most 100).
            k: number of passages (at most 20).
            year_max: only literature published up to this year.
        """
        if self.store is None:
            return SearchResult(
                hits=[], note="No literature store is configured (run `aitia ingest --default`)."
            )
        from ..knowledge.genes import get_resolver

        syms = [s for g in genes or [] for s in (get_resolver().resolve(g).symbols[:5] or [g])] or None
        hits = self.store.search(query, k=k, genes=syms, year_max=year_max)
        self.run.log("retrieval", query=query, documents=[h.doc_id for h in hits])
        return SearchResult(hits=[LiteratureHit(doc_id=h.doc_id, text=h.text[:600], score=round(h.score, 3), year=h.year)
                                  for h in hits])  # fmt: skip

    @capped
    def evidence_for(self, source: str, target: str, context: str | None = None) -> EvidenceResult:
        """Collect literature claims, curated edges and a calibrated support score for 'perturbing source changes target'.

        Args:
            source: the perturbed gene (symbol, alias or family).
            target: the gene whose change is in question.
            context: optional cell type or condition.
        """
        from ..knowledge.evidence import evidence_for

        ev = evidence_for(source, target, context=context, store=self.store, prior=self._prior_net())
        self.run.log(
            "evidence",
            source=source,
            target=target,
            support=ev.support,
            documents=[p.doc_id for p in ev.passages],
        )
        return EvidenceResult(
            source=source, target=target, support=round(ev.support, 3), sign=ev.sign,
            claims=list(dict.fromkeys(f"{c.doc_id}: {' '.join(c.sentence.split())}" for c in ev.claims))[:5],
            reverse_claims=len(ev.reverse_claims),
            curated=[f"{h.database}: {h.source}->{h.target} ({h.sign:+d})" for h in ev.prior_hits
                     if h.source in ev.source_symbols][:5],
            curated_reverse=[f"{h.database}: {h.source}->{h.target} ({h.sign:+d})" for h in ev.prior_hits
                             if h.source not in ev.source_symbols][:5],
            citations=ev.citations[:8], path=list(ev.path.genes) if ev.path is not None else None,
            path_sign=ev.path.sign if ev.path is not None else None,
        )  # fmt: skip

    @capped
    def lookup_prior(
        self, gene: str, direction: Literal["out", "in", "both"] = "both", limit: int = 20
    ) -> PriorLookupResult:
        """Curated regulatory edges (TRRUST, CollecTRI) touching a gene: its targets (out) or regulators (in).

        Args:
            gene: gene symbol (aliases are resolved).
            direction: 'out' for targets, 'in' for regulators, 'both'.
            limit: maximum edges returned (at most 50).
        """
        from ..knowledge.genes import get_resolver

        syms = get_resolver().resolve(gene).symbols or [gene]
        net = self._prior_net()
        frames = [net.neighbours(s, direction) for s in syms[:10]]
        import pandas as pd

        df = pd.concat(frames) if frames else net.edges.iloc[:0]
        df = df.assign(n=df["pmids"].map(len)).sort_values("n", ascending=False)
        return PriorLookupResult(
            edges=[
                PriorEdgeOut(
                    source=r.source,
                    target=r.target,
                    sign=int(r.sign),
                    databases=list(r.databases),
                    n_pmids=int(r.n),
                )
                for r in df.head(limit).itertuples()
            ],  # fmt: skip
            total=len(df),
            truncated=f"truncated: {len(df) - limit} more edges (limit {limit})" if len(df) > limit else "",
        )

    @capped
    def list_datasets(self) -> DatasetsResult:
        """List the built-in perturbation datasets with their ground truths."""
        from .. import datasets

        return DatasetsResult(datasets=[
            DatasetSummary(name=i.name, description=i.description, n_samples=i.n_samples, n_genes=i.n_genes, truths=i.truths)
            for i in (datasets.info(n) for n in datasets.list_datasets())
        ])  # fmt: skip

    @capped
    def describe_dataset(self, name: str) -> DatasetDescription:
        """Describe a dataset: its genes, which genes were perturbed (and how), its contexts and truths.

        Args:
            name: dataset name from list_datasets.
        """
        from .. import datasets

        adata = self._dataset(name)
        obs = adata.obs
        perts = obs.loc[
            obs["perturbation"] != "control", ["perturbation", "intervention_type"]
        ].drop_duplicates()
        return DatasetDescription(
            name=name, genes=[str(g) for g in adata.var_names],
            perturbations=[f"{p} ({intervention_label(t)})" for p, t in perts.itertuples(index=False)][:200],
            contexts=sorted(set(obs["context"].astype(str))), n_samples=int(adata.n_obs), truths=datasets.info(name).truths,
        )  # fmt: skip

    @capped
    def propose_hypotheses(
        self, genes: list[str], context: str | None = None, top: int = 10
    ) -> HypothesesResult:
        """Propose scored causal hypotheses between genes (LLM if configured, else literature evidence and priors).

        Args:
            genes: genes to hypothesise about (every ordered pair; at most 100).
            context: experimental context, e.g. 'in T cells'.
            top: hypotheses listed in the result (at most 50).
        """
        from ..knowledge.hypotheses import HypothesisGenerator

        gen = HypothesisGenerator(backend=self.backend, store=self.store, prior=self._prior_net(), context=context,
                                  on_event=lambda e: self.run.log(f"hypothesis:{e.get('type')}", **{k: v for k, v in e.items() if k != "type"}))  # fmt: skip
        hs = gen.generate(genes)
        scores = hs.to_scores()
        handle = self.run.put(scores, "hypotheses")
        return HypothesesResult(
            handle=handle, generator=hs.generator, top=self._top(scores, top), rejected=len(hs.rejected)
        )

    @capped
    def learn_graph(self, dataset: str, method: str = "supervised", prior_handle: str | None = None,
                    top: int = 10) -> GraphResult:  # fmt: skip
        """Learn causal edge scores from a dataset with a structure learner, optionally with a prior by handle.

        Args:
            dataset: dataset name.
            method: learner: correlation, partial_correlation, pc, ges, boss, notears, mrcl, supervised, deep, ensemble,
                propensity (label structure + data; with a prior, its row means rank the sources).
            prior_handle: handle of hypothesis or other scores to use as prior.
            top: edges listed in the result (at most 50).
        """
        from .. import datasets
        from ..causal import learners
        from ..causal.evaluate import edge_metrics

        adata = self._dataset(dataset)
        genes = [str(g) for g in adata.var_names]
        prior = None
        if prior_handle:
            p = self.run.get(prior_handle)
            prior = p.reindex(genes, 0.0) if set(p.genes) & set(genes) else None
            if prior is None:
                raise AitiaError(
                    f"Prior {prior_handle} shares no genes with {dataset}; propose hypotheses on its genes."
                )
        est = learners.get(method)
        split = datasets.training_labels(dataset) if est.uses_labels else None
        labels = (split or self.interventional_truth(dataset).labels) if est.uses_labels else None
        scores = est.fit(adata, prior=prior, labels=labels).predict_scores()
        metrics = {}
        truths: dict[str, Any] = dict(datasets.evaluation_truths(dataset))
        if not truths:  # the user's data: its own interventions (in-sample for a learner trained on them)
            in_sample = est.uses_labels and split is None
            truths = {
                "interventional" + (" (in-sample)" if in_sample else ""): self.interventional_truth(dataset)
            }
        for which, truth in truths.items():
            metrics[which] = round(edge_metrics(scores, truth).auroc, 3)
        handle = self.run.put(scores, "scores")
        self.run.log("metric", tool="learn_graph", dataset=dataset, method=method, metrics=metrics)
        return GraphResult(handle=handle, method=method, top=self._top(scores, top), metrics=metrics)

    @capped
    def predict_perturbation(self, dataset: str, perturbation: str, context: str | None = None,
                             method: Literal["context_transfer", "linear", "graph", "mean"] = "context_transfer",
                             top: int = 10, genes: list[str] | None = None) -> PredictionResult:  # fmt: skip
        """Predict what perturbing a gene does to every measured gene (the perturbation is held out if measured).
        These are predictions, not measurements: use validate_edges for what was measured.

        Args:
            dataset: dataset name.
            perturbation: the gene to perturb.
            context: context (cell line / condition) to predict in; default: the first one.
            method: predictor.
            top: genes listed (largest predicted DE probability; at most 50).
            genes: list these genes instead of the top ones (at most 100).
        """
        import pandas as pd

        from ..causal import perturbation as P
        from ..causal.effects import effects_for_dataset

        pert = self._match_genes(dataset, [perturbation])[0]
        effects = effects_for_dataset(dataset)
        ctx = context if context in effects.contexts else effects.contexts[0]
        observed = pert in effects.perturbations
        train = effects
        if observed:
            keep = effects.observed.copy()
            keep[:, effects.perturbations.index(pert)] = False
            train = effects.subset(keep)
        adata = self._dataset(dataset)
        adata = adata[(adata.obs["perturbation"].astype(str) != pert).to_numpy()].copy()
        pred = (
            P.get(method)
            .fit(train, adata=adata, prior=None)
            .predict(pd.DataFrame({"context": [ctx], "perturbation": [pert]}))
        )
        lab, eff = pred.label[0, 0], pred.effect[0, 0]
        order = np.argsort(-lab)[:top]
        if genes:
            wanted = set(self._match_genes(dataset, genes))
            order = np.array([i for i, g in enumerate(pred.genes) if g in wanted], dtype=int)
        return PredictionResult(perturbation=pert, context=ctx, method=method, observed=observed,
                                top=[PredictedEffect(gene=pred.genes[i], effect=round(float(eff[i]), 3),
                                                     de_probability=round(float(lab[i]), 3)) for i in order])  # fmt: skip

    @capped
    def validate_edges(self, dataset: str, edges: list[list[str]] | None = None, handle: str | None = None,
                       top: int = 10, intervention: str | None = None) -> ValidationResult:  # fmt: skip
        """Check edges against the dataset's interventional data: does intervening on the source shift the target?
        Each edge also says which reference graphs of the dataset have it.

        Args:
            dataset: dataset name.
            edges: list of [source, target] pairs (at most 100).
            handle: or the handle of learned/hypothesis scores (its top edges are checked).
            top: edges taken from the handle (at most 50).
            intervention: only interventions of these types, comma-separated (e.g. 'inhibitor' or
                'activator,overexpression'); default: the most significant of any type.
        """
        from .. import datasets

        if not edges and not handle:
            raise AitiaError("Give edges=[[source, target], ...] or a scores handle.")
        pairs = (
            [tuple(e) for e in edges]
            if edges
            else [(s, t) for s, t, _ in self.run.get(str(handle)).top_edges(top).itertuples(index=False)]
        )
        truth = self.interventional_truth(dataset)
        refs = datasets.reference_graphs(dataset)
        reagents = self._reagents(dataset)
        kinds = {k.strip() for k in (intervention or "").split(",") if k.strip()}
        out = []
        for s, t in pairs:
            try:
                s_, t_ = self._match_genes(dataset, [s, t])
            except AitiaError as exc:
                out.append(EdgeValidation(source=s, target=t, tested=False, note=str(exc)))
                continue
            rows = truth.lookup(s_, t_) if s_ in set(truth.groups["source"]) else None
            in_ref = {name: bool(g.has_edge(s_, t_)) for name, g in refs.items()}
            in_gold = next(iter(in_ref.values())) if in_ref else None
            if rows is not None and kinds:
                rows = rows[rows["intervention_type"].astype(str).isin(kinds)]
            if rows is None or rows.empty:
                how = f" by {intervention}" if kinds else ""
                out.append(EdgeValidation(source=s_, target=t_, tested=False, in_gold_graph=in_gold, references=in_ref,
                                          note=f"{s_} was not intervened on{how} in {dataset}"))  # fmt: skip
                continue
            rank = -np.abs(rows["statistic"]) if truth.params.get("method") == "robust_z" else rows["qvalue"]
            best = rows.iloc[int(np.argmin(np.nan_to_num(rank.to_numpy(dtype=float), nan=np.inf)))]
            if kinds:  # the label covers every intervention type: decide on the filtered rows
                sig = bool(truth.significant(rows["statistic"], rows["qvalue"]).any())
            else:
                sig = bool(
                    truth.labels.values[truth.labels.sources.index(s_), truth.labels.targets.index(t_)] == 1
                )
            reagent = reagents.get((s_, str(best.context), str(best.intervention_type)))
            out.append(EdgeValidation(source=s_, target=t_, tested=True, significant=sig, effect=round(float(best.effect), 4),
                                      qvalue=float(best.qvalue), wasserstein=round(float(best.wasserstein), 4),
                                      in_gold_graph=in_gold, references=in_ref, intervention_type=str(best.intervention_type),
                                      reagent=reagent, context=str(best.context), n_cells=int(best.n_cells),
                                      note=f"{intervention_label(best.intervention_type)} of {s_}" + (f" ({reagent})" if reagent else "")
                                      + f" ({best.context}, n={int(best.n_cells)})"))  # fmt: skip
        self.run.log("validation", dataset=dataset, edges=[e.model_dump() for e in out])
        return ValidationResult(dataset=dataset, method=truth.params["method"], edges=out)

    @capped
    def suggest_experiments(self, dataset: str, handles: list[str] | None = None, candidates: list[str] | None = None,
                            k: int = 3) -> SuggestionResult:  # fmt: skip
        """Which perturbations would teach most: the expected information of each candidate's outgoing edges (and
        two-step reach) under the current scores, the loop's default strategy (benchmarked against random picks).

        Args:
            dataset: dataset name.
            handles: score handles to compare (learned graphs, hypotheses; default: every scores handle of this run; at most 10).
            candidates: genes that could be perturbed (default: every measured gene not yet perturbed in the data; at
                most 200).
            k: number of suggestions (at most 20).
        """
        adata = self._dataset(dataset)
        genes = [str(g) for g in adata.var_names]
        handles = handles or [h for h in self.run.objects if h.startswith(("scores", "hypotheses"))]
        mats = [self.run.get(h).reindex(genes, 0.0).values for h in handles]
        if candidates:
            cands = self._match_genes(dataset, candidates)
        else:  # what the data already hold is no experiment to suggest
            from ..datasets import split_targets

            done = {t for p in set(adata.obs["perturbation"].astype(str)) for t in split_targets(p)}
            cands = [g for g in genes if g not in done] or genes
        if not mats:  # nothing learned yet
            return SuggestionResult(suggestions=[ExperimentSuggestion(perturbation=g, score=0.0,
                                    reason="no model yet: uninformed choice") for g in cands[:k]])  # fmt: skip
        from ..causal.acquisition import DEFAULT_STRATEGY
        from ..causal.acquisition import get as get_strategy

        ranked = get_strategy(DEFAULT_STRATEGY).rank(mats, genes, cands, k)
        return SuggestionResult(
            suggestions=[
                ExperimentSuggestion(perturbation=x.perturbation, score=x.score, reason=x.reason)
                for x in ranked
            ]
        )

    @capped
    def get_run_summary(self) -> RunSummary:
        """Summarise this run: its directory, how many events and tool calls, and the handles it holds."""
        events = self.run.events()
        return RunSummary(run_dir=str(self.run.path), events=len(events),
                          tool_calls=sum(e["type"] == "tool_call" for e in events), handles=list(self.run.objects))  # fmt: skip
