"""Run reports: ``report.md`` and a self-contained ``report.html`` (figures inlined) rendered from jinja2 templates.

Every statement in a report cites the trace event that produced it (``[e12]`` = the line of ``trace.jsonl`` with
``"id": "e12"``): round metrics cite their ``metric`` event, picks their ``experiment_choice`` event, each edge
row an ``edge_check`` event that records the interventional statistic and the literature citations behind it.
Untrusted strings (gene names, document ids, LLM text) are escaped in both renderings.

Example:
    >>> cite("e3")
    '[e3](#e3)'
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined

from ..run import Run

#: Edge flags for data-supported edges: nothing curated or cited (a candidate discovery), or only a curated path
#: (followed by the path's genes).
FLAG_UNREPORTED = "data support an edge the literature does not report"
FLAG_PATH_ONLY = "data support it; curated knowledge has only the path"
#: Edge flag for a reported edge the data test and do not support.
FLAG_CONFLICT = "literature claims it, the data do not"


def cite(event_id: str | None) -> str:
    """A markdown link to a trace event listed at the end of the report."""
    return f"[{event_id}](#{event_id})" if event_id else ""


def escape_md(text: Any) -> str:
    """Escape an untrusted string for a markdown table cell (HTML and pipes are neutralised)."""
    return html.escape(str(text), quote=False).replace("|", "&#124;").replace("\n", " ")


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("aitia.orchestrator", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # markdown: every untrusted value passes through escape_md before it reaches a template
    )
    env.globals["cite"] = cite
    return env


@dataclass
class _Figure:
    name: str
    caption: str
    png: bytes


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _curves(scores: dict[str, Any], gold_name: str, gold: Any) -> bytes:
    from sklearn.metrics import precision_recall_curve, roc_curve

    from ..causal.evaluate import scored_pairs

    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 4))
    for name, s in scores.items():
        x, y, _ = scored_pairs(s, gold)
        if len(np.unique(y)) < 2:
            continue
        fpr, tpr, _ = roc_curve(y, x)
        pr, rc, _ = precision_recall_curve(y, x)
        a1.plot(fpr, tpr, label=name)
        a2.plot(rc, pr, label=name)
    a1.plot([0, 1], [0, 1], "k:", lw=0.8, label="random")
    a1.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC vs {gold_name}")
    a2.set(xlabel="recall", ylabel="precision", title=f"PR vs {gold_name}")
    a1.legend(fontsize=7)
    return _png(fig)


def _learning(rounds: list[Any], value: Any, label: str) -> bytes:
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, style in (("active", "o-"), ("random", "s--")):
        band = [(r.round, *_arm_summary(getattr(r, f"{name}_arms")(), value)) for r in rounds]
        band = [(x, m, lo, hi, n) for x, m, lo, hi, n in band if m is not None]
        if not band:
            continue
        xs, ms, los, his, ns = zip(*band)
        legend = f"{name} experiment choice" + (
            f" (mean, 95% CI over {max(ns)} seeds)" if max(ns) > 1 else ""
        )
        line = ax.plot(xs, ms, style, label=legend)[0]
        if max(ns) > 1:
            ax.fill_between(xs, los, his, alpha=0.2, color=line.get_color())
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="round", ylabel=label, title="accuracy per round")
    ax.legend(fontsize=8)
    return _png(fig)


def _graph_figure(scores: Any, truth: Any, reference: Any, k: int) -> bytes:
    import networkx as nx

    plt = _pyplot()
    g = scores.to_graph(top_k=k)
    colours = [
        {"supported": "tab:green", "contradicted": "tab:red"}.get(edge_verdict(truth, a, b), "0.6")
        for a, b in g.edges
    ]
    styles = ["solid" if reference is not None and reference.has_edge(a, b) else "dashed" for a, b in g.edges]
    fig, ax = plt.subplots(figsize=(6, 5))
    pos = nx.circular_layout(g)
    nx.draw_networkx_nodes(g, pos, node_color="#dde8f5", node_size=600, ax=ax)
    nx.draw_networkx_labels(g, pos, font_size=8, ax=ax)
    nx.draw_networkx_edges(g, pos, edge_color=colours, style=styles, arrows=True, arrowsize=12, width=1.6,
                           ax=ax, connectionstyle="arc3,rad=0.08")  # fmt: skip
    ax.set_title("top edges: green = intervention shifts target, red = it does not, grey = untested;\n"
                 "solid = in the reference graph, dashed = not", fontsize=8)  # fmt: skip
    ax.axis("off")
    return _png(fig)


def edge_verdict(truth: Any, a: str, b: str) -> str:
    """supported / contradicted / untested: the interventional truth's label of a -> b."""
    lab = truth.labels
    if a not in lab.sources or b not in lab.targets:
        return "untested"
    v = lab.values[lab.sources.index(a), lab.targets.index(b)]
    return "supported" if v == 1 else "contradicted" if v == 0 else "untested"


def _edge_statistic(truth: Any, a: str, b: str) -> dict[str, Any]:
    """The strongest intervention group on a for gene b: effect, q and condition (empty when untested)."""
    if a not in set(truth.groups["source"]) or b not in truth.genes:
        return {}
    rows = truth.lookup(a, b)
    best = rows.sort_values("qvalue", na_position="last").iloc[0]
    return {
        "effect": float(best["effect"]),
        "qvalue": float(best["qvalue"]),
        "context": str(best["context"]),
        "intervention_type": str(best["intervention_type"]),
        "n": int(best["n_cells"]),
        "n_control": int(best["n_control"]),
    }


def check_edges(
    run: Run, hs: Any, scores: Any, truth: Any, gold: dict[str, Any], k: int
) -> list[dict[str, Any]]:
    """Top edges by the learned ensemble and by the hypotheses, each checked against the data and the
    literature; every check is one ``edge_check`` event, whose id the report cites."""
    hyp = {(h.source, h.target): h for h in hs.hypotheses}
    pairs = [(s, t) for s, t, _ in scores.top_edges(k).itertuples(index=False)]
    pairs += [(h.source, h.target) for h in sorted(hs.hypotheses, key=lambda h: -h.probability)[:k]]
    graph = next(iter(gold.values()), None)
    high = float(np.quantile(scores.values, 0.9))
    rows = []
    for s, t in dict.fromkeys(pairs):
        h = hyp.get((s, t))
        verdict = edge_verdict(truth, s, t)
        lit = float(h.probability) if h else 0.0
        learned = float(scores[s, t])
        # the literature "reports" an edge when it cites something for it (curated PMIDs, passages) or an LLM is
        # confident; flags compare that with the data, both ways
        reported = h is not None and (bool(h.citations) or lit >= 0.5)
        flag = ""
        if reported and verdict == "contradicted":
            flag = FLAG_CONFLICT
        elif reported and verdict == "untested" and lit >= 0.5:
            flag = "literature only, untested"
        elif not reported and verdict == "supported" and learned >= high:
            flag = f"{FLAG_PATH_ONLY} {' -> '.join(h.path)}" if h is not None and h.path else FLAG_UNREPORTED
        stat = _edge_statistic(truth, s, t)
        event = run.log("edge_check", source=s, target=t, learned=round(learned, 4), literature=round(lit, 4),
                        citations=list(h.citations) if h else [], verdict=verdict, statistic=stat,
                        reference=(graph.has_edge(s, t) if graph is not None else None), flag=flag)  # fmt: skip
        rows.append({
            "edge": escape_md(f"{s} -> {t}"), "learned": f"{learned:.3f}", "literature": f"{lit:.3f}",
            "citations": escape_md(", ".join(h.citations[:3])) if h else "", "data": verdict,
            "effect": f"{stat['effect']:+.3f}" if stat else "", "q": f"{stat['qvalue']:.2g}" if stat else "",
            "condition": escape_md(f"{stat['context']} ({stat['n']} vs {stat['n_control']})") if stat else "",
            "reference": ("yes" if graph.has_edge(s, t) else "no") if graph is not None else "",
            "flag": flag, "event": event["id"],
        })  # fmt: skip
    return rows


def _columns(rounds: list[Any]) -> list[tuple[str, str, Any]]:
    """(label, meaning, getter) of each metric column present in any round."""
    cols: list[tuple[str, str, Any]] = []
    refs = list(dict.fromkeys(n for r in rounds for a in (r.active, r.random) for n in a.auroc))
    for n in refs:
        cols.append((f"AUROC vs {n}", f"rank ensemble against the reference graph '{n}' (0.5 = random).",
                     lambda a, n=n: a.auroc.get(n)))  # fmt: skip
    cols.append(("held-out AUROC", "rank ensemble against the interventional truth of the interventions not yet "
                 "revealed to the learners (empty when none is left).", lambda a: a.heldout_auroc))  # fmt: skip
    cols.append(
        ("held-out AUPRC", "the same, area under the precision-recall curve.", lambda a: a.heldout_auprc)
    )
    preds = list(dict.fromkeys(n for r in rounds for n in r.active.prediction))
    for n in preds:
        cols.append((f"prediction {n}", f"per-gene AUROC of predicting which genes the held-out perturbations "
                     f"shift, with the '{n}' predictor (active arm only; 0.5 = chance).",
                     lambda a, n=n: a.prediction.get(n)))  # fmt: skip
    return cols


def _arm_summary(arms: list[Any], value: Any) -> tuple[float | None, float | None, float | None, int]:
    """Mean, 95% CI bounds (clipped to [0, 1]) and count of one arm's replicates in a round (one replicate: the
    value, no interval)."""
    vals = [value(a) for a in arms]
    vals = [v for v in vals if v is not None and not math.isnan(v)]
    if not vals:
        return None, None, None, 0
    m = float(np.mean(vals))
    if len(vals) == 1:
        return m, m, m, 1
    half = 1.96 * float(np.std(vals, ddof=1)) / math.sqrt(len(vals))
    return m, max(m - half, 0.0), min(m + half, 1.0), len(vals)  # every metric here is an area in [0, 1]


def _mean_ci(summary: tuple[float | None, float | None, float | None, int]) -> str:
    """``mean [lo, hi]`` of a summary over several replicates; empty for fewer than two."""
    m, lo, hi, n = summary
    return f"{_fmt(m)} [{lo:.3f}, {hi:.3f}]" if n > 1 else ""


def _with_ci(summary: tuple[float | None, float | None, float | None, int], noun: str) -> str:
    m, lo, hi, n = summary
    return _fmt(m) if n <= 1 else f"{_fmt(m)} (mean of {n} {noun}, 95% CI [{lo:.3f}, {hi:.3f}])"


def _fmt(v: float | None) -> str:
    if v is None:
        return ""
    return "n/a (one class)" if isinstance(v, float) and math.isnan(v) else f"{v:.3f}"


def _comparison(rounds: list[Any], label: str, value: Any) -> str:
    if len(rounds) < 2:
        return "With one round, active and random choice cannot be compared yet."
    n_rep = min(len(rounds[0].active_arms()), len(rounds[0].random_arms()))
    # per replicate: active minus its own random arm (same first reveal), averaged over rounds 1..N
    diffs = []
    for k in range(n_rep):
        pairs = [(value(r.active_arms()[k]), value(r.random_arms()[k])) for r in rounds[1:]]
        d = [a - b for a, b in pairs if a is not None and b is not None and not math.isnan(a - b)]
        if d:
            diffs.append(float(np.mean(d)))
    if not diffs:
        return ""
    mean = float(np.mean(diffs))
    verdict = "ahead of" if mean > 0 else "behind" if mean < 0 else "level with"
    span = f"rounds 1-{rounds[-1].round}"
    if len(diffs) > 1:
        half = 1.96 * float(np.std(diffs, ddof=1)) / math.sqrt(len(diffs))
        wins = sum(d > 0 for d in diffs)
        settled = (
            "the interval excludes 0" if abs(mean) > half else "the interval includes 0: no difference shown"
        )
        return (f"On {label}, active choice is {verdict} random by {abs(mean):.3f} on average over {span} "
                f"(95% CI of the paired difference [{mean - half:+.3f}, {mean + half:+.3f}] over {len(diffs)} "
                f"replicates, each active arm against the random arm that started from the same first reveal; "
                f"{wins} of {len(diffs)} ahead; {settled}). One dataset: see `benchmarks/acquisition.py` for many "
                "seeds and data sets.")  # fmt: skip
    return (f"On {label}, active choice is {verdict} random by {abs(mean):.3f} on average over {span}. One seed on "
            "one dataset: this is an anecdote, not a benchmark (`aitia loop --seeds N` replicates the experiment "
            "with a CI; see `benchmarks/acquisition.py` for many seeds and data sets).")  # fmt: skip


def _summary(run: Run, rounds: list[Any], edge_rows: list[dict[str, Any]], scores: dict[str, Any], truth: Any,
             headline: tuple[str, str, Any], acquisition: str = "information_gain") -> str:  # fmt: skip
    """Findings first: what the data and the literature say about the top edges, and what to do next."""
    from .rerank import get_strategy  # the acquisition registry, llm_rerank included

    def count(pred: Any) -> int:
        return sum(1 for r in edge_rows if pred(r))

    supported = count(lambda r: r["data"] == "supported")
    novel = count(lambda r: r["flag"] == FLAG_UNREPORTED)
    via_path = count(lambda r: r["flag"].startswith(FLAG_PATH_ONLY))
    conflict = count(lambda r: r["flag"] == FLAG_CONFLICT)
    untested = count(lambda r: r["data"] == "untested")
    lines = [f"- Of the {len(edge_rows)} top edges checked, **{supported}** are supported by the interventional data, "
             f"**{novel}** of them without support in the literature (candidate discoveries) and {via_path} with only "
             f"an indirect curated path (expected: an intervention shifts every descendant), **{conflict}** are "
             f"reported in the literature but not shifted in the data (conflicts), and {untested} are untested "
             "(their source was never perturbed)."]  # fmt: skip
    last = rounds[-1] if rounds else None
    if last is not None:
        active = _with_ci(_arm_summary(last.active_arms(), headline[2]), "active replicates")
        rand = _with_ci(_arm_summary(last.random_arms(), headline[2]), "random replicates")
        lines.append(f"- After round {last.round}: {headline[0]} {active} with chosen experiments, "
                     f"{rand} with random ones {cite(last.active.event)}.")  # fmt: skip
        genes = next(iter(scores.values())).genes
        held = [s for s in truth.labels.sources if s not in set(last.active.revealed) and s in set(genes)]
        if held:
            best = get_strategy(acquisition).rank([s.values for s in scores.values()], list(genes), held, 1)[
                0
            ]
            pick, why = best.perturbation, best.reason
            ev = run.log("experiment_choice", round=last.round + 1, arm="active", strategy=acquisition,
                         candidates=held, picks=[pick], ranking=[{"perturbation": pick, "reason": why}],
                         purpose="recommendation")  # fmt: skip
            lines.append(
                f"- **Next experiment: perturb {escape_md(pick)}** ({escape_md(why)}) {cite(ev['id'])}."
            )
        else:
            lines.append(
                "- Every intervened gene has been revealed: no held-out experiment is left to recommend."
            )
    return "\n".join(lines)


def learner_progress(
    rounds: list[Any], tolerance: float = 0.01
) -> tuple[list[str], list[dict[str, Any]], str]:
    """Each learner's AUROC per round (active arm, first reference graph): the learners, one row per round, and a
    sentence naming the learners that improved from round 0 to the last round by more than ``tolerance``, and those
    that got worse.

    Example:
        >>> from types import SimpleNamespace as N
        >>> rs = [N(round=0, active=N(members={"pc": 0.6, "ges": 0.7}, event="e1")),
        ...       N(round=1, active=N(members={"pc": 0.7, "ges": 0.69}, event="e2"))]
        >>> learner_progress(rs)[2]
        'From round 0 to round 1 (chosen experiments), improved: pc (0.600 -> 0.700); unchanged within 0.01: ges.'
    """
    names = list(dict.fromkeys(n for r in rounds for n in r.active.members))
    if not names:
        return [], [], ""
    rows = [{"round": r.round, "values": [_fmt(r.active.members.get(n)) for n in names], "cite": cite(r.active.event)}
            for r in rounds]  # fmt: skip
    first, last = rounds[0].active.members, rounds[-1].active.members
    up, down, same = [], [], []
    for n in names:
        a, b = first.get(n), last.get(n)
        if a is not None and b is not None and b > a + tolerance:
            up.append(f"{escape_md(n)} ({_fmt(a)} -> {_fmt(b)})")
        elif a is not None and b is not None and b < a - tolerance:
            down.append(f"{escape_md(n)} ({_fmt(a)} -> {_fmt(b)})")
        else:
            same.append(escape_md(n))
    parts = [f"{label}: {', '.join(group)}" for label, group in (("improved", up), ("worse", down)) if group]
    if same:
        parts.append(f"unchanged within {tolerance:g}: {', '.join(same)}")
    sentence = f"From round 0 to round {rounds[-1].round} (chosen experiments), " + "; ".join(parts) + "."
    return [escape_md(n) for n in names], rows, sentence


def _summarise(e: dict[str, Any]) -> str:
    keep = {k: v for k, v in e.items() if k not in ("id", "type", "time")}
    text = json.dumps(keep, default=str)
    return escape_md(text if len(text) <= 300 else text[:297] + "...")


def write_report(run: Run, config: Any, rounds: list[Any], scores: dict[str, Any], gold: dict[str, Any],
                 truth: Any, hs: Any) -> tuple[Path, Path]:  # fmt: skip
    """Write report.md, report.html, figures/ and summary.json into the run directory; return the report paths."""
    import markdown

    figdir = run.path / "figures"
    figdir.mkdir(exist_ok=True)
    (run.path / "scores").mkdir(exist_ok=True)
    for name, s in scores.items():
        s.save(run.path / "scores" / f"{name}.csv")
    ens = scores.get("ensemble") or next(iter(scores.values()))
    gname, graph = next(iter(gold.items()), (None, None))
    columns = _columns(rounds)
    headline = columns[0]
    figures: list[_Figure] = []
    if graph is not None and gname is not None:
        figures.append(_Figure("curves", f"ROC and precision-recall curves of each learner, the hypotheses (prior) "
                               f"and the ensemble against the reference graph '{gname}'.", _curves(scores, gname, graph)))  # fmt: skip
    figures.append(_Figure("learning", f"{headline[0]} per round, active vs random experiment choice.",
                           _learning(rounds, headline[2], headline[0])))  # fmt: skip
    k = config.top_k_graph or 2 * len(ens.genes)
    figures.append(_Figure("graph", "The ensemble's top edges, coloured by the interventional test.",
                           _graph_figure(ens, truth, graph, min(k, 40))))  # fmt: skip
    for f in figures:
        (figdir / f"{f.name}.png").write_bytes(f.png)

    edge_rows = check_edges(run, hs, ens, truth, gold, k=15)
    acquisition = getattr(config, "acquisition", "information_gain")
    summary = _summary(run, rounds, edge_rows, scores, truth, columns[0], acquisition)
    hyp_events = run.events("hypotheses")
    hyp_event = hyp_events[-1]["id"] if hyp_events else None
    round_rows = []
    for r in rounds:
        for arm in ("active", "random"):
            a = getattr(r, arm)
            n = len(getattr(r, f"{arm}_arms")())
            round_rows.append({
                "round": r.round, "arm": arm if n == 1 else f"{arm} (seed 1 of {n})",
                "revealed": escape_md(", ".join(a.revealed)),
                "values": [_fmt(get(a)) for _, _, get in columns], "picks": escape_md(", ".join(a.picks)),
                "cites": " ".join(cite(e) for e in (a.event, a.choice_event) if e),
            })  # fmt: skip
            if n > 1:  # a metric only replicate 1 computes (effect prediction) has no mean to show
                replicates = getattr(r, f"{arm}_arms")()
                round_rows.append({
                    "round": r.round, "arm": f"{arm}, mean of {n} [95% CI]", "revealed": "", "picks": "", "cites": "",
                    "values": [_mean_ci(_arm_summary(replicates, get)) for _, _, get in columns],
                })  # fmt: skip
    progress_learners, progress_rows, progress = learner_progress(rounds)
    md_text = _env().get_template("report.md.j2").render(
        dataset=escape_md(config.dataset), run_dir=escape_md(run.path), summary=summary, acquisition=acquisition, generator=escape_md(hs.generator or "none"),
        n_hypotheses=len(hs.hypotheses), n_rejected=len(hs.rejected), hypotheses_event=hyp_event,
        learners=escape_md(", ".join(config.learners)),
        columns=[{"label": c[0], "meaning": c[1]} for c in columns], round_rows=round_rows,
        comparison=_comparison(rounds, headline[0], headline[2]), alpha=truth.params.get("alpha", 0.05),
        edge_rows=edge_rows, n_flagged=sum(bool(r["flag"]) for r in edge_rows),
        figures=[{"name": f.name, "caption": f.caption} for f in figures],
        progress_rows=progress_rows, progress=progress, progress_learners=progress_learners,
        reference=escape_md(gname or ""),
    )  # fmt: skip
    cited_ids = list(dict.fromkeys(re.findall(r"\[(e\d+)\]\(#e\d+\)", md_text)))
    by_id = {e["id"]: e for e in run.events() if "id" in e}
    cited = [
        {"id": i, "type": by_id[i]["type"], "summary": _summarise(by_id[i])} for i in cited_ids if i in by_id
    ]
    md_text += "\n" + "".join(
        f'- <a id="{e["id"]}"></a>**{e["id"]}** `{e["type"]}`: {e["summary"]}\n' for e in cited
    )
    md = run.path / "report.md"
    md.write_text(md_text, encoding="utf-8")

    body = markdown.markdown(md_text, extensions=["tables"])
    for f in figures:  # self-contained: inline the figures
        body = body.replace(
            f'src="figures/{f.name}.png"', f'src="data:image/png;base64,{base64.b64encode(f.png).decode()}"'
        )
    html_path = run.path / "report.html"
    html_path.write_text(_env().get_template("report.html.j2").render(dataset=html.escape(config.dataset), body=body),
                         encoding="utf-8")  # fmt: skip
    (run.path / "summary.json").write_text(json.dumps(
        {"rounds": [r.model_dump() for r in rounds], "flagged": [r for r in edge_rows if r["flag"]]},
        indent=1, default=str))  # fmt: skip
    run.log("report", markdown=str(md), html=str(html_path), cited=cited_ids)
    return md, html_path
