"""Check that README figures still come out of the commands printed next to them (the fast ones).

Re-runs `aitia bench baselines --dataset sachs` and `python benchmarks/hypotheses.py`, renders their rows the way
the README shows them, and reports every README row that no longer matches. Exit code 1 on drift; `--write` prints
the fresh rows to paste. Slow benchmarks (learners, perturbation, PerturbQA) are not re-run here.

    python benchmarks/readme_check.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def baseline_rows() -> list[str]:
    from typer.testing import CliRunner

    from aitia.cli import app

    res = CliRunner().invoke(app, ["bench", "baselines", "--dataset", "sachs", "--json"])
    if res.exit_code != 0:
        raise SystemExit(res.output)
    rows = []
    for r in json.loads(res.stdout):
        method = r["method"].replace("|", "&#124;")
        rows.append(
            f"| {r['truth']} | {method} | {r['auroc']:.3f} | {r['auprc']:.3f} | {r['auprc_ratio']:.2f} |"
        )
    return rows


def hypothesis_rows() -> list[str]:
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "hypotheses.py")], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    return [
        ln
        for ln in out.splitlines()
        if ln.startswith("| ") and not ln.startswith(("| knowledge", "| learner"))
    ]


def main() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    missing = []
    for name, rows in (("baselines", baseline_rows()), ("hypotheses", hypothesis_rows())):
        for row in rows:
            if row not in readme:
                missing.append(f"{name}: {row}")
    if "--write" in sys.argv:
        print("\n".join(m.split(": ", 1)[1] for m in missing))
    if missing:
        print(f"{len(missing)} README rows differ from their commands' output:\n" + "\n".join(missing))
        raise SystemExit(1)
    print("README figures match their commands (baselines, hypotheses).")


if __name__ == "__main__":
    main()
