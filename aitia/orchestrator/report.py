"""Run reports: ``report.md`` and a self-contained ``report.html`` with figures (ROC/PR curves, learning curves,
the learned graph coloured by agreement with the data) and a per-edge evidence table that flags
"literature says A->B but the data disagree"."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _curves(scores: dict[str, Any], gold_name: str, gold: Any) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve, roc_curve

    from ..causal.evaluate import scored_pairs

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 4))
    for name, s in scores.items():
        x, y, _ = scored_pairs(s, gold)
        if len(np.unique(y)) < 2:
            continue
        fpr, tpr, _ = roc_curve(y, x)
        pr, rc, _ = precision_recall_curve(y, x)
        a1.plot(fpr, tpr, label=name)
        a2.plot(rc, pr, label=name)
    a1.plot([0, 1], [0, 1], "k:", lw=0.8)
    a1.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC vs {gold_name}")
    a2.set(xlabel="recall", ylabel="precision", title=f"PR vs {gold_name}")
    a1.legend(fontsize=7)
    return _png(fig)


def _learning(rounds: list[dict[str, Any]], key: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for arm, style in (("active", "o-"), ("random", "s--")):
        xs = [r["round"] for r in rounds if key in r.get(arm, {})]
        ys = [r[arm][key] for r in rounds if key in r.get(arm, {})]
        ax.plot(xs, ys, style, label=f"{arm} experiment choice")
    ax.set(xlabel="round", ylabel=key.replace("_", " "), title="accuracy per round")
    ax.legend(fontsize=8)
    return _png(fig)


def _graph_figure(scores: Any, truth: Any, k: int) -> tuple[bytes, list[tuple[str, str, str]]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    g = scores.to_graph(top_k=k)
    verdicts = []
    colours = []
    for a, b in g.edges:
        v = edge_verdict(truth, a, b)
        verdicts.append((a, b, v))
        colours.append({"supported": "tab:green", "contradicted": "tab:red"}.get(v, "0.6"))
    fig, ax = plt.subplots(figsize=(6, 5))
    pos = nx.circular_layout(g)
    nx.draw_networkx_nodes(g, pos, node_color="#dde8f5", node_size=600, ax=ax)
    nx.draw_networkx_labels(g, pos, font_size=8, ax=ax)
    nx.draw_networkx_edges(g, pos, edge_color=colours, arrows=True, arrowsize=12, width=1.6, ax=ax,
                           connectionstyle="arc3,rad=0.08")  # fmt: skip
    ax.set_title(
        "top edges: green = intervention shifts target, red = it does not, grey = untested", fontsize=8
    )
    ax.axis("off")
    return _png(fig), verdicts


def edge_verdict(truth: Any, a: str, b: str) -> str:
    lab = truth.labels
    if a not in lab.sources or b not in lab.targets:
        return "untested"
    v = lab.values[lab.sources.index(a), lab.targets.index(b)]
    return "supported" if v == 1 else "contradicted" if v == 0 else "untested"


def evidence_table(hs: Any, scores: Any, truth: Any, gold: dict[str, Any], k: int) -> list[dict[str, Any]]:
    """Top edges by the learned ensemble and by the hypotheses, with literature, data and reference verdicts."""
    hyp = {(h.source, h.target): h for h in hs.hypotheses}
    pairs = [(s, t) for s, t, _ in scores.top_edges(k).itertuples(index=False)]
    pairs += [(h.source, h.target) for h in sorted(hs.hypotheses, key=lambda h: -h.probability)[:k]]
    rows = []
    gname, graph = next(iter(gold.items()), (None, None))
    for s, t in dict.fromkeys(pairs):
        h = hyp.get((s, t))
        verdict = edge_verdict(truth, s, t)
        lit = h.probability if h else 0.0
        flag = ""
        if h and lit >= 0.5 and verdict == "contradicted":
            flag = f"literature says {s}->{t} but the data disagree"
        elif h and lit < 0.2 and verdict == "supported" and scores[s, t] >= np.quantile(scores.values, 0.9):
            flag = "data support an edge the literature does not report"
        rows.append({
            "edge": f"{s} -> {t}", "learned": round(float(scores[s, t]), 3), "literature": round(float(lit), 3),
            "citations": ", ".join(h.citations[:3]) if h else "", "data": verdict,
            "reference": ("yes" if graph.has_edge(s, t) else "no") if graph is not None else "", "flag": flag,
        })  # fmt: skip
    return rows


def write_report(run: Any, config: Any, rounds: list[dict[str, Any]], scores: dict[str, Any], gold: dict[str, Any],
                 truth: Any, hs: Any) -> tuple[Path, Path]:  # fmt: skip
    """Write report.md, report.html and figures/ into the run directory; return the two report paths."""
    figdir = run.path / "figures"
    figdir.mkdir(exist_ok=True)
    (run.path / "scores").mkdir(exist_ok=True)
    for name, s in scores.items():
        s.save(run.path / "scores" / f"{name}.csv")
    figs: dict[str, bytes] = {}
    gname, graph = next(iter(gold.items()), (None, None))
    if graph is not None and gname is not None:
        figs["curves"] = _curves(scores, gname, graph)
        figs["learning"] = _learning(rounds, f"auroc_{gname}")
    elif rounds and "auroc_heldout_interventions" in rounds[0].get("active", {}):
        figs["learning"] = _learning(rounds, "auroc_heldout_interventions")
    ens = scores.get("ensemble") or next(iter(scores.values()))
    k = config.top_k_graph or 2 * len(ens.genes)
    figs["graph"], _ = _graph_figure(ens, truth, min(k, 40))
    for name, data in figs.items():
        (figdir / f"{name}.png").write_bytes(data)
    table = evidence_table(hs, ens, truth, gold, k=15)
    flagged = [r for r in table if r["flag"]]

    lines = [f"# aitia loop report: {config.dataset}", "",
             f"Run directory: `{run.path}`. Hypotheses: {hs.generator or 'none'} ({len(hs.hypotheses)} edges, "
             f"{len(hs.rejected)} rejected). Learners: {', '.join(config.learners)}; rank ensemble with the hypotheses "
             "as a member and as every learner's prior.", "", "## Accuracy per round", ""]  # fmt: skip
    keys = sorted({k_ for r in rounds for arm in ("active", "random") for k_ in r.get(arm, {})
                   if k_.startswith(("auroc", "prediction"))})  # fmt: skip
    lines.append("| round | arm | revealed | " + " | ".join(keys) + " |")
    lines.append("|---|---|---|" + "---|" * len(keys))
    for r in rounds:
        for arm in ("active", "random"):
            m = r.get(arm, {})
            vals = " | ".join(f"{m[k_]:.3f}" if isinstance(m.get(k_), float) else "" for k_ in keys)
            lines.append(f"| {r['round']} | {arm} | {', '.join(m.get('revealed', []))} | {vals} |")
    lines += ["", "Active picks come from `suggest_experiments` (disagreement between sources + uncertainty of the "
              "consensus); random picks are the baseline.", ""]  # fmt: skip
    lines += ["## Edge evidence", "", "| edge | learned | literature | citations | data | reference | flag |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    lines += [f"| {r['edge']} | {r['learned']} | {r['literature']} | {r['citations']} | {r['data']} | {r['reference']} | "
              f"{r['flag']} |" for r in table]  # fmt: skip
    lines += ["", f"{len(flagged)} edges flagged.", "", "## Figures", ""]
    lines += [f"![{n}](figures/{n}.png)" for n in figs]
    md = run.path / "report.md"
    md.write_text("\n".join(lines) + "\n")

    body = [f"<h1>aitia loop report: {html.escape(config.dataset)}</h1>",
            f"<p>Run directory: <code>{html.escape(str(run.path))}</code></p>"]  # fmt: skip
    for n, data in figs.items():
        b64 = base64.b64encode(data).decode()
        body.append(
            f'<figure><img alt="{n}" src="data:image/png;base64,{b64}"/><figcaption>{n}</figcaption></figure>'
        )

    html_path = run.path / "report.html"
    html_path.write_text(_html_page("\n".join(body), lines))
    (run.path / "summary.json").write_text(
        json.dumps({"rounds": rounds, "flagged": flagged}, indent=1, default=str)
    )
    return md, html_path


def _html_page(figures: str, md_lines: list[str]) -> str:
    rows_html = []
    in_table = False
    for line in md_lines:
        if line.startswith("|") and not line.startswith("|---"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            tag = "th" if not in_table else "td"
            rows_html.append("<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>")
            in_table = True
            continue
        if line.startswith("|---"):
            continue
        if in_table:
            rows_html.append("</table>")
            in_table = False
        if line.startswith("# "):
            continue
        if line.startswith("## "):
            rows_html.append(f"<h2>{html.escape(line[3:])}</h2><table>")
            continue
        if line and not line.startswith("!["):
            rows_html.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        rows_html.append("</table>")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;font-size:13px}"
             "td,th{border:1px solid #ccc;padding:3px 6px}img{max-width:100%}")  # fmt: skip
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>aitia report</title><style>{style}</style></head>"
            f"<body>{figures}{''.join(rows_html)}</body></html>")  # fmt: skip
