"""The architecture contract: layers without cycles (import-linter) and one place for every dataset rule."""

import ast
import os
from pathlib import Path

import pytest

from aitia import datasets

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "aitia"


def test_layers_contract_kept():
    """`lint-imports` with the contract in pyproject.toml; function-level imports count too."""
    importlinter_cli = pytest.importorskip("importlinter.cli")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert importlinter_cli.lint_imports(no_cache=True, no_logo=True) == 0
    finally:
        os.chdir(cwd)


def _string_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants that are not docstrings (examples in docstrings may name datasets)."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def test_no_dataset_name_outside_datasets():
    """Every rule about a built-in dataset lives in its registry entry, so no code elsewhere names one."""
    names = datasets.list_datasets()
    stems = {n.split("-")[0] for n in names}  # sachs, dream4, kemmeren: also catches startswith("dream4")
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if PACKAGE / "datasets" in path.parents:
            continue
        for line, text in _string_literals(ast.parse(path.read_text(), str(path))):
            low = text.lower()
            if any(s in low for s in stems):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}")
    assert not offenders, "dataset names outside aitia/datasets:\n" + "\n".join(offenders)
