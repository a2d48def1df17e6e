"""The automated hypothesis-to-validation loop.

Round 0: retrieve and hypothesise (LLM or literature evidence), learn graphs with the hypotheses as prior (several
learners + a rank ensemble), predict perturbation effects, and validate against the interventional data held out from
training. Rounds 1..N: ``suggest_experiments`` picks perturbations from the held-out pool, their data are revealed
(simulating running the experiment), models are refitted, and each round is compared with picking at random.
Everything is written to a run directory; a killed run resumes from its last completed round.

Example:
    >>> result = run_loop(LoopConfig(dataset="sachs", rounds=1), out_dir="/tmp/aitia-loop")   # doctest: +SKIP
    >>> result.rounds[-1].active.auroc["consensus"] > 0.5                                       # doctest: +SKIP
    True
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from anndata import AnnData
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from ..causal.acquisition import DEFAULT_STRATEGY
from ..config import get_settings
from ..errors import AitiaError
from ..run import Run, write_atomic

logger = logging.getLogger(__name__)


class LoopConfig(BaseModel):
    """Settings of a loop run (written to ``config.json``)."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(description="Built-in dataset name, or a label for data passed directly.")
    learners: list[str] = Field(default_factory=lambda: ["correlation", "supervised", "deep"])
    rounds: int = Field(default=3, ge=0, description="Experiment rounds after round 0.")
    initial_reveal: int = Field(default=1, ge=1, description="Intervened genes revealed before round 0.")
    per_round: int = Field(default=1, ge=1, description="Perturbations revealed per round.")
    acquisition: str = Field(
        default=DEFAULT_STRATEGY,
        description="How the active arm picks experiments (see aitia.causal.acquisition.available()); the "
        "default (aitia.causal.acquisition.DEFAULT_STRATEGY) is the one benchmarks/acquisition.py found never worse "
        "than random.",
    )
    predictor: str = Field(
        default="context_transfer", description="Perturbation-effect predictor ('' to skip)."
    )
    llm: str = Field(default="none", description="LLM backend for hypotheses (openai | local | none).")
    rag: bool = True
    context: str | None = None
    top_k_graph: int = Field(default=0, description="Edges kept in saved graphs (0: 2 x genes).")
    seed: int = Field(
        default_factory=lambda: get_settings().seed,
        description="Seed of the random arm and first reveal (AITIA_SEED).",
    )
    seeds: int = Field(
        default=1, ge=1, le=50, validation_alias=AliasChoices("seeds", "random_seeds"),
        description="Replicates of the whole experiment: replicate k starts from its own random first reveal "
        "(replicate 0 from `seed`'s) and runs both arms from there, so each active run has a random run on the same "
        "footing; with more than one the report shows both curves' means and 95% CIs and the paired difference "
        "instead of one noisy line per arm. (`random_seeds` in older run directories.)",
    )  # fmt: skip


class ArmResult(BaseModel):
    """What one arm (active or random experiment choice) achieved in one round."""

    model_config = ConfigDict(extra="forbid")

    revealed: list[str] = Field(description="Intervened genes whose data the learners saw.")
    auroc: dict[str, float] = Field(
        default_factory=dict, description="AUROC of the rank ensemble against each reference graph, by name."
    )
    heldout_auroc: float | None = Field(
        default=None,
        description="AUROC against the interventional truth of the not-yet-revealed interventions.",
    )
    heldout_auprc: float | None = Field(default=None, description="AUPRC against the same held-out truth.")
    members: dict[str, float] = Field(
        default_factory=dict, description="AUROC of each fitted learner against the first reference graph."
    )
    prediction: dict[str, float] = Field(
        default_factory=dict,
        description="Per-gene AUROC of DE labels for the held-out perturbations, by predictor (active arm only).",
    )
    picks: list[str] = Field(default_factory=list, description="Perturbations chosen for the next round.")
    event: str = Field(description="Trace event id of the metric event that holds these numbers.")
    choice_event: str | None = Field(default=None, description="Trace event id of the experiment choice.")


class LoopRound(BaseModel):
    """One round of the loop: both arms on the same footing."""

    model_config = ConfigDict(extra="forbid")

    round: int = Field(description="0 = before any chosen experiment.")
    active: ArmResult = Field(description="Experiments chosen by suggest_experiments.")
    random: ArmResult = Field(description="Experiments chosen at random (the baseline).")
    active_replicates: list[ArmResult] = Field(
        default_factory=list, description="Active arms of replicates 1.. (LoopConfig.seeds > 1)."
    )
    random_replicates: list[ArmResult] = Field(
        default_factory=list,
        description="Random arms of replicates 1.. (LoopConfig.seeds > 1), paired with active_replicates.",
    )

    def active_arms(self) -> list[ArmResult]:
        """Every replicate's active arm, the first one included."""
        return [self.active, *self.active_replicates]

    def random_arms(self) -> list[ArmResult]:
        """Every replicate's random arm, the first one included, in the order of :meth:`active_arms`."""
        return [self.random, *self.random_replicates]


class LoopResult(BaseModel):
    """A finished loop run."""

    model_config = ConfigDict(extra="forbid")

    run_dir: str = Field(description="The run directory.")
    rounds: list[LoopRound] = Field(description="Results per round.")
    report_md: str = Field(description="Path of report.md.")
    report_html: str = Field(description="Path of report.html.")


def _subset_rows(adata: AnnData, sources: set[str]) -> AnnData:
    """Controls, non-node interventions and the rows of the revealed perturbations."""
    from ..datasets.validate import NON_NODE_INTERVENTIONS, split_targets

    pert = adata.obs["perturbation"].astype(str)
    itype = adata.obs["intervention_type"].astype(str)
    keep = (
        (pert == "control")
        | itype.isin(NON_NODE_INTERVENTIONS)
        | pert.map(lambda p: bool(set(split_targets(p)) & sources) if p != "control" else False)
    )
    return adata[keep.to_numpy()].copy()


def _labels_for(truth: Any, sources: set[str]) -> Any:
    from ..types.graph import EdgeLabels

    lab = truth.labels
    keep = [i for i, s in enumerate(lab.sources) if s in sources]
    return EdgeLabels(
        lab.values[keep], [lab.sources[i] for i in keep], lab.targets, provenance="revealed interventions"
    )


def data_fingerprint(adata: AnnData) -> str:
    """A short hash of what the loop reads from the data: shape, gene names, samples per perturbation and context,
    and each gene's sum and sum of squares (a resumed run must see the data it started with).

    Example:
        >>> from aitia import datasets
        >>> len(data_fingerprint(datasets.load("dream4-10-1")))
        16
    """
    import hashlib

    import scipy.sparse as sp

    x = adata.X
    if sp.issparse(x):
        sums, squares = np.asarray(x.sum(0)).ravel(), np.asarray(x.multiply(x).sum(0)).ravel()
    else:
        x = np.asarray(x, dtype=np.float64)
        sums, squares = x.sum(0), (x**2).sum(0)
    groups = adata.obs.groupby(["context", "perturbation"], observed=True).size()
    h = hashlib.sha1()
    for part in (adata.shape, list(adata.var_names), sorted(map(str, groups.items())),
                 np.round(sums, 4).tolist(), np.round(squares, 4).tolist()):  # fmt: skip
        h.update(repr(part).encode())
    return h.hexdigest()[:16]


def run_loop(
    config: LoopConfig,
    out_dir: str | Path,
    adata: AnnData | None = None,
    gold: Any = None,
    store: Any = None,
    on_progress: Callable[[str], None] | None = None,
) -> LoopResult:
    """Run (or resume) the loop and write its report.

    Args:
        config: loop settings.
        out_dir: run directory.
        adata: perturbation data (default: ``datasets.load(config.dataset)``).
        gold: reference graph(s) {name: graph} (default: the dataset's graph truths).
        store: literature store for hypotheses (None: the built store of ``$AITIA_HOME`` when ``config.rag``, as
            the CLI does; curated priors only when none is built).
        on_progress: progress callback.
    """
    from .. import datasets
    from ..causal import learners as L
    from ..causal import perturbation as P
    from ..causal.evaluate import dataset_truth

    say = on_progress or (lambda s: None)
    # validate everything before the run directory is touched: a refused run leaves nothing behind
    for name in config.learners:
        L.get(name)
    if config.predictor:
        P.get(config.predictor)
    from .rerank import get_strategy  # the acquisition registry, llm_rerank included

    get_strategy(config.acquisition)
    if config.llm != "none":  # a missing key or URL fails here, before anything is written
        from ..knowledge.llm import get_backend

        get_backend(config.llm)
    if adata is None:
        adata = datasets.load(config.dataset)
    if gold is None:
        gold = datasets.reference_graphs(config.dataset) if config.dataset in datasets.list_datasets() else {}
    genes = [str(g) for g in adata.var_names]
    say("computing interventional truth")
    t0 = time.perf_counter()
    truth = dataset_truth(adata)
    truth_seconds = round(time.perf_counter() - t0, 2)
    pool = [s for s in truth.labels.sources if s in genes]
    if len(pool) < config.initial_reveal + 1:
        raise AitiaError(
            f"{config.dataset} has {len(pool)} intervened genes; the loop needs at least {config.initial_reveal + 1}."
        )

    if store is None and config.rag:  # one configuration path: the same default store as the CLI
        from ..knowledge.store import built_store

        store = built_store()
    run = Run.create(out_dir, config.model_dump())
    with run.exclusive():
        return _run_rounds(config, run, adata, gold, genes, truth, truth_seconds, pool, store, say)


def _run_rounds(config: LoopConfig, run: Run, adata: AnnData, gold: dict[str, Any], genes: list[str], truth: Any,
                truth_seconds: float, pool: list[str], store: Any, say: Callable[[str], None]) -> LoopResult:  # fmt: skip
    """The rounds of a validated loop, in a run directory this process holds exclusively."""
    from .. import datasets
    from ..causal.evaluate import edge_metrics
    from ..knowledge.hypotheses import HypothesisGenerator, HypothesisSet
    from ..types.graph import EdgeScores
    from .report import write_report
    from .rerank import get_strategy  # the acquisition registry, llm_rerank included

    state = run.load_state()
    fingerprint = data_fingerprint(adata)
    started = [e.get("fingerprint") for e in run.events("data")]
    if started and started[0] != fingerprint:
        raise AitiaError(
            f"The data differ from those this run started with (in {run.path}): resuming would mix two data sets. "
            "Restore the original data, or start a new run with another --out."
        )
    if not started:
        run.log("data", fingerprint=fingerprint, n_obs=int(adata.n_obs), n_vars=int(adata.n_vars))
    run.log(
        "truth",
        sources=list(truth.labels.sources),
        n_significant=truth.labels.n_positive,
        seconds=truth_seconds,
    )

    # ---------------------------------------------------------------- hypotheses (cached in the run directory)
    hyp_path = run.path / "hypotheses.json"
    hs = None
    if hyp_path.exists():
        try:
            hs = HypothesisSet.model_validate_json(hyp_path.read_text(encoding="utf-8"))
            say(f"hypotheses: reloaded {len(hs.hypotheses)} from the run directory")
        except ValueError as exc:  # torn by a kill mid-write (older runs wrote it in place): make it again
            run.log("hypotheses_unreadable", path=str(hyp_path), error=" ".join(str(exc).split())[:200])
    if hs is None:
        say(f"hypothesising over {len(genes)} genes ({config.llm} backend)")
        gen = HypothesisGenerator(backend=config.llm, store=store, context=config.context, rag=config.rag,
                                  on_event=lambda e: run.log(f"hypothesis:{e.get('type')}",
                                                             **{k: v for k, v in e.items() if k != "type"}))  # fmt: skip
        hs = gen.generate(genes, organism=datasets.organism_of(adata))
        write_atomic(hyp_path, hs.model_dump_json(indent=1))
    prior = hs.to_scores(genes)
    run.log("hypotheses", generator=hs.generator, n=len(hs.hypotheses), rejected=len(hs.rejected),
            metrics={k: edge_metrics(prior, g).auroc for k, g in gold.items()})  # fmt: skip

    # every random stream derives from (seed, replicate, round): a resumed run repeats the uninterrupted run exactly
    def first_reveal(replicate: int) -> list[str]:
        rng = np.random.default_rng(config.seed if replicate == 0 else [config.seed, replicate])
        return [str(x) for x in rng.choice(pool, config.initial_reveal, replace=False)]

    if "revealed" not in state:
        first = first_reveal(0)
        state = {"revealed": {"active": list(first), "random": list(first)}, "rounds": [], "picks": []}
        run.save_state(state)
    for i in range(1, config.seeds):  # a replicate's two arms share its first reveal, then pick on their own
        first = first_reveal(i)
        state["revealed"].setdefault(f"active:{i}", list(first))
        state["revealed"].setdefault(f"random:{i}", list(first))
    replicas = [f"{arm}:{i}" for i in range(1, config.seeds) for arm in ("active", "random")]
    rounds = [LoopRound.model_validate(r) for r in state["rounds"]]
    effects = _observed_effects(adata) if config.predictor and len(rounds) <= config.rounds else None
    last_scores: dict[str, EdgeScores] = {}

    for r in range(len(rounds), config.rounds + 1):
        arms: dict[str, ArmResult] = {}
        # arms that revealed the same perturbations (all of them in round 0; random replicates that drew the same
        # pick) fit the same learners on the same data: fit once per distinct set per round
        fitted: dict[frozenset[str], tuple[str, dict[str, Any]]] = {}
        for arm in ("active", "random", *replicas):
            kind, _, rep = arm.partition(":")
            replicate = int(rep or 0)
            revealed = set(state["revealed"][arm])
            held = [s for s in pool if s not in revealed]
            train = _subset_rows(adata, revealed)
            labels = _labels_for(truth, revealed)
            key = frozenset(revealed)
            if key in fitted:
                run.log("learner_fit_reused", round=r, arm=arm, from_arm=fitted[key][0])
                members = fitted[key][1]
            else:
                members = _fit_members(config, train, prior, labels, run, r, arm)
                fitted[key] = (arm, members)
            scores = _rank_ensemble([*members.values(), prior], genes, names=[*members, "prior"])
            m: dict[str, Any] = {"revealed": sorted(revealed)}
            m["auroc"] = {gname: edge_metrics(scores, g).auroc for gname, g in gold.items()}
            if held:
                held_metrics = edge_metrics(scores, _labels_for(truth, set(held)))
                m["heldout_auroc"], m["heldout_auprc"] = held_metrics.auroc, held_metrics.auprc
            if gold:
                first = next(iter(gold.values()))
                m["members"] = {name: edge_metrics(s, first).auroc for name, s in members.items()}
            if arm == "active" and config.predictor and held:  # replicate 0 only: it is slow
                m["prediction"] = _predict_heldout(config.predictor, effects, train, held, prior)
            m["event"] = run.log("metric", round=r, arm=arm, **m)["id"]
            if arm == "active":
                last_scores = {**members, "prior": prior, "ensemble": scores}
                top_k = config.top_k_graph or 2 * len(genes)
                scores.to_graph(top_k=top_k).write(run.path / "graphs" / f"round{r}.graphml")
            # pick the next experiments
            if r < config.rounds and held:
                if kind == "active":
                    extra = (
                        {"backend": config.llm, "dataset": config.dataset}
                        if config.acquisition == "llm_rerank"
                        else {}
                    )
                    ranked = get_strategy(config.acquisition, seed=config.seed + r + 1000 * replicate, **extra).rank(
                        [s.values for s in members.values()] + [prior.values], genes, held, config.per_round,
                        prior=prior.values,
                    )  # fmt: skip
                    picks = [x.perturbation for x in ranked]
                    ranking = [x.model_dump() for x in ranked]
                    strategy = config.acquisition
                else:
                    rng = np.random.default_rng(
                        [config.seed, r] if replicate == 0 else [config.seed, r, replicate]
                    )
                    picks = [
                        str(x) for x in rng.choice(held, min(config.per_round, len(held)), replace=False)
                    ]
                    ranking, strategy = [], "random"
                # a decision, not a tool call: the loop ranked the candidates itself
                m["choice_event"] = run.log("experiment_choice", round=r, arm=arm, strategy=strategy,
                                            candidates=held, picks=picks, ranking=ranking)["id"]  # fmt: skip
                m["picks"] = picks
                state["revealed"][arm] = sorted(revealed | set(picks))
            arms[arm] = ArmResult.model_validate(m)
        record = LoopRound(round=r, active=arms["active"], random=arms["random"],
                           active_replicates=[arms[f"active:{i}"] for i in range(1, config.seeds)],
                           random_replicates=[arms[f"random:{i}"] for i in range(1, config.seeds)])  # fmt: skip
        rounds.append(record)
        state["rounds"] = [x.model_dump() for x in rounds]
        run.save_state(state)
        say(_round_summary(record, next(iter(gold), None)))

    if not last_scores:  # resumed after the last round: refit once for the report
        revealed = set(state["revealed"]["active"])
        members = _fit_members(config, _subset_rows(adata, revealed), prior, _labels_for(truth, revealed), run,
                               len(rounds) - 1, "active")  # fmt: skip
        last_scores = {**members, "prior": prior,
                       "ensemble": _rank_ensemble([*members.values(), prior], genes, names=[*members, "prior"])}  # fmt: skip
    md, html = write_report(run, config, rounds, last_scores, gold, truth, hs)
    return LoopResult(run_dir=str(run.path), rounds=rounds, report_md=str(md), report_html=str(html))


def _fit_members(
    config: LoopConfig, train: AnnData, prior: Any, labels: Any, run: Run, r: int, arm: str
) -> dict[str, Any]:
    """Fit every configured learner on the revealed data; a learner that refuses the data is logged and skipped."""
    from ..causal import learners as L

    members: dict[str, Any] = {}
    for name in config.learners:
        t1 = time.perf_counter()
        est = L.get(name)
        try:
            members[name] = est.fit(
                train, prior=prior, labels=labels if est.uses_labels else None
            ).predict_scores()
        except AitiaError as exc:
            run.log("learner_failed", round=r, arm=arm, learner=name, error=str(exc))
            continue
        run.log("learner_fit", round=r, arm=arm, learner=name, n_samples=int(train.n_obs),
                duration_s=round(time.perf_counter() - t1, 3))  # fmt: skip
    return members


def _rank_ensemble(members: list[Any], genes: list[str], names: list[str]) -> Any:
    """Rank-average of the members' scores (the ensemble learner would refit them)."""
    from ..causal.learners.correlation import rank01
    from ..types.graph import EdgeScores

    stack = [rank01(np.nan_to_num(m.values)) for m in members]
    return EdgeScores(np.mean(stack, axis=0), genes, name="ensemble", meta={"members": names})


def _round_summary(record: LoopRound, gold_name: str | None) -> str:
    a = record.active

    def show(arms: list[ArmResult]) -> str:
        vals = [x.auroc.get(gold_name or "", float("nan")) for x in arms]
        return f"{vals[0]:.3f}" if len(vals) == 1 else f"{np.nanmean(vals):.3f} (mean of {len(vals)})"

    parts = [f"round {record.round}:"]
    if gold_name:
        parts.append(
            f"AUROC vs {gold_name} active {show(record.active_arms())} / random {show(record.random_arms())};"
        )
    parts.append(
        f"held-out interventions active {a.heldout_auroc if a.heldout_auroc is not None else float('nan'):.3f}"
    )
    if a.picks:
        parts.append(f"; next: {a.picks}")
    return " ".join(parts)


def _observed_effects(adata: AnnData) -> Any:
    """The dataset's EffectTable (computed once per run), or None when it has no testable perturbations."""
    from ..causal.effects import dataset_effects

    try:
        return dataset_effects(adata)
    except AitiaError as exc:
        logger.info("no effect table for perturbation prediction: %s", exc)
        return None


def _predict_heldout(
    method: str, effects: Any, train: AnnData, held: list[str], prior: Any
) -> dict[str, float]:
    """Perturbation-effect prediction for the held-out perturbations (per-gene AUROC of DE labels)."""
    import pandas as pd

    from ..causal import perturbation as P

    if effects is None:
        return {}
    held_perts = [p for p in effects.perturbations if p in set(held)]
    keep = effects.observed.copy()
    for p in held_perts:
        keep[:, effects.perturbations.index(p)] = False
    if not keep.any() or not held_perts:
        return {}
    tr = effects.subset(keep)
    q = pd.DataFrame([(c, p) for p in held_perts for ci, c in enumerate(effects.contexts)
                      if effects.observed[ci, effects.perturbations.index(p)]], columns=["context", "perturbation"])  # fmt: skip
    out: dict[str, float] = {}
    for name in (method, "mean"):
        try:
            pred = P.get(name).fit(tr, adata=train, prior=prior).predict(q)
            out[name] = P.evaluate_predictions(pred, effects).per_gene_auroc
        except AitiaError as exc:
            logger.info("prediction with %s failed: %s", name, exc)
    return out


def rerender_report(run_dir: str | Path, adata: AnnData | None = None) -> tuple[Path, Path]:
    """Render a finished (or interrupted) loop run's report again from its directory: state, hypotheses and the
    saved scores; nothing is refitted.

    Args:
        run_dir: the run directory.
        adata: the run's data (default: reloaded from the dataset or data file its configuration names).

    Example:
        >>> md, html = rerender_report("runs/demo-sachs")   # doctest: +SKIP
    """
    from .. import datasets
    from ..causal.evaluate import dataset_truth
    from ..knowledge.hypotheses import HypothesisSet
    from ..types.graph import EdgeScores
    from .report import write_report

    run = Run.open(run_dir)
    config = LoopConfig.model_validate(run.config)
    rounds = [LoopRound.model_validate(r) for r in run.load_state().get("rounds", [])]
    if not rounds:
        raise AitiaError(f"{run_dir} has no completed rounds to report; rerun `aitia loop --out {run_dir}`.")
    hs = HypothesisSet.model_validate_json((run.path / "hypotheses.json").read_text())
    scores = {p.stem: EdgeScores.load(p, name=p.stem) for p in sorted((run.path / "scores").glob("*.csv"))}
    if not scores:
        raise AitiaError(f"{run_dir} has no saved scores; rerun `aitia loop --out {run_dir}` to finish it.")
    known = config.dataset in datasets.list_datasets() or Path(config.dataset).is_file()
    if adata is None:
        if not known:
            raise AitiaError(
                f"{run_dir} was run on data passed from Python ({config.dataset!r}); re-render it there "
                "(rerender_report(run_dir, adata=...))."
            )
        adata = datasets.load(config.dataset)
    gold = datasets.reference_graphs(config.dataset) if known else {}  # data passed from Python: none
    return write_report(run, config, rounds, scores, gold, dataset_truth(adata), hs)
