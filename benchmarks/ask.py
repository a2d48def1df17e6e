"""The graded question set: does `aitia ask` answer right? Accuracy per intent, offline (and with an LLM when asked).

Each line of ``benchmarks/questions.jsonl`` holds a question and machine-checkable expectations: the intent, the
perturbed and the changed gene (direction), strings that must / must not appear, sentence kinds that must appear
(measured, reference, curated, literature, prediction, note) or must not. A question is correct when every check
passes. In the same run: a trivial baseline (an empty answer, scored by the same checks) and a control that must
fail (each answer scored against the expectations of a question with another intent).

    python benchmarks/ask.py [--store DIR] [--llm openai] [--questions benchmarks/questions.jsonl] [--show-failures]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def check(
    expect: dict[str, Any], intent: str, parse: dict[str, Any], text: str, kinds: set[str]
) -> list[str]:
    """The failed checks of one answer (empty: correct)."""
    failed = []
    low = text.lower()
    if expect.get("intent") and intent != expect["intent"]:
        failed.append(f"intent {intent} != {expect['intent']}")
    for key in ("source", "target", "subject", "dataset"):
        if key in expect and parse.get(key) != expect[key]:
            failed.append(f"{key} {parse.get(key)} != {expect[key]}")
    failed += [f"missing {m!r}" for m in expect.get("must", []) if m.lower() not in low]
    failed += [f"unwanted {m!r}" for m in expect.get("must_not", []) if m.lower() in low]
    failed += [f"no {k} sentence" for k in expect.get("kinds", []) if k not in kinds]
    failed += [f"has a {k} sentence" for k in expect.get("kinds_absent", []) if k in kinds]
    return failed


def _other(results: list[dict[str, Any]], i: int) -> dict[str, Any]:
    """The control's question for answer ``i``: half the set away, then on to the first one with another intent (a
    question asking the same thing in other words, "describe sachs" / "what is in the sachs data", is answered by
    the same text, which is right, not a leak)."""
    n = len(results)
    for step in range(n // 2 + 1, n // 2 + 1 + n):
        other = results[(i + step) % n]["q"]
        if other.get("intent") != results[i]["q"].get("intent"):
            return other
    return results[(i + n // 2 + 1) % n]["q"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", default=str(HERE / "questions.jsonl"))
    ap.add_argument(
        "--store", default=None, help="a built literature store (default: the configured one, if built)"
    )
    ap.add_argument("--llm", default="none", help="none (offline planner) | openai | local")
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args()

    from aitia.knowledge.store import built_store
    from aitia.orchestrator.agent import ask
    from aitia.run import Run

    questions = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    store = built_store(args.store)
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="aitia-ask-bench-"))
    for i, q in enumerate(questions):
        run = Run.create(tmp / f"q{i}", {"kind": "ask-benchmark"})
        t0 = time.perf_counter()
        ans = ask(q["question"], backend=args.llm, store=store, run=run)
        seconds = time.perf_counter() - t0
        parse = ans.parse.model_dump() if ans.parse else {}
        kinds = {s.kind for s in ans.sentences}
        results.append({"q": q, "intent": parse.get("intent", ""), "parse": parse, "text": ans.text,
                        "kinds": kinds, "seconds": seconds,
                        "failed": check(q, parse.get("intent", ""), parse, ans.text, kinds)})  # fmt: skip
    by_intent: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_intent[r["q"]["intent"]].append(r)
    empty = [not check({k: v for k, v in r["q"].items() if k not in ("intent", "source", "target", "subject", "dataset")},
                       "", {}, "", set()) for r in results]  # fmt: skip
    control = [not check(_other(results, i), r["intent"], r["parse"], r["text"], r["kinds"])
               for i, r in enumerate(results)]  # fmt: skip
    print(f"Question set: {len(results)} questions ({args.questions}); backend: {args.llm}; "
          f"store: {'built' if store is not None else 'none'}")  # fmt: skip
    print("| intent | questions | correct | partly (intent right) | accuracy |")
    print("|---|---|---|---|---|")
    for split in sorted({r["q"].get("split", "dev") for r in results}):
        rs = [r for r in results if r["q"].get("split", "dev") == split]
        ok = sum(not r["failed"] for r in rs)
        print(f"| split: {split} | {len(rs)} | {ok} | {sum(bool(r['failed']) and r['intent'] == r['q']['intent'] for r in rs)} | "
              f"{ok / len(rs):.0%} |")  # fmt: skip
    for intent, rs in sorted(by_intent.items()):
        ok = sum(not r["failed"] for r in rs)
        partly = sum(bool(r["failed"]) and r["intent"] == intent for r in rs)
        print(f"| {intent} | {len(rs)} | {ok} | {partly} | {ok / len(rs):.0%} |")
    total = sum(not r["failed"] for r in results)
    print(f"| **all** | {len(results)} | {total} | "
          f"{sum(bool(r['failed']) and r['intent'] == r['q']['intent'] for r in results)} | {total / len(results):.0%} |")  # fmt: skip
    print(f"| baseline: empty answer (content checks only) | {len(results)} | {sum(empty)} | | "
          f"{sum(empty) / len(results):.0%} |")  # fmt: skip
    print(f"| control: answers scored against a question of another intent (must fail) | {len(results)} | {sum(control)} | | "
          f"{sum(control) / len(results):.0%} |")  # fmt: skip
    secs = [r["seconds"] for r in results]
    print(f"\nTime per question: median {statistics.median(secs):.2f} s, max {max(secs):.2f} s "
          f"({max(results, key=lambda r: r['seconds'])['q']['id']}); total {sum(secs):.0f} s")  # fmt: skip
    failures = [r for r in results if r["failed"]]
    if failures:
        print("\nStill failing:")
        for r in failures:
            print(f"- {r['q']['id']} {r['q']['question']!r}: {'; '.join(r['failed'])}")
            if args.show_failures:
                print(f"    answer: {r['text'][:600]}")


if __name__ == "__main__":
    main()
