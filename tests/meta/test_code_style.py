"""House rules that a linter does not check: module size and type hints on the public surface."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("theory", "experiments", "figures")
MAX_LINES = 500


def _modules():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _public_functions(tree: ast.Module):
    """Module-level public functions and public methods of public classes."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            yield node.name, node
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not item.name.startswith("_"):
                    yield f"{node.name}.{item.name}", item


@pytest.mark.parametrize("path", list(_modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}): split it"


def test_public_functions_have_type_hints():
    missing = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        for name, fn in _public_functions(tree):
            args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
            untyped = [a.arg for a in args if a.annotation is None and a.arg not in ("self", "cls")]
            for extra in (fn.args.vararg, fn.args.kwarg):
                if extra is not None and extra.annotation is None:
                    untyped.append(extra.arg)
            if untyped or fn.returns is None:
                what = ", ".join(untyped) + (
                    " and the return" if untyped and fn.returns is None else "the return" if fn.returns is None else ""
                )
                missing.append(f"{path.relative_to(ROOT)}:{fn.lineno} {name}: {what}")
    assert not missing, f"{len(missing)} public functions lack type hints:\n" + "\n".join(missing)


def test_every_subpackage_is_shipped():
    """pyproject's package list names every folder with an ``__init__.py`` (a missing one
    is silently left out of the wheel, as ``experiments.examples`` once was)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for package in PACKAGES:
        for init in (ROOT / package).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).parts
            found.add(".".join(("model_collapse",) + rel))
    assert found == listed, f"not shipped: {sorted(found - listed)}; listed but absent: {sorted(listed - found)}"
