"""Derivations frozen as generated code: users pay nothing, and the derivation stays checked.

Each SymPy derivation of :mod:`model_collapse.theory` (about 10 s in all on first use)
is decorated with :func:`frozen`. Its results, for every argument the package uses,
are written once by ``python -m model_collapse.theory.frozen`` into the generated,
committed package :mod:`model_collapse.theory._derived` (one module per theory module:
``_derived/gaussian_mix.py`` holds what ``theory/gaussian/mix.py`` derives), as Python source text
(``sympy.srepr`` for expressions). A call is then served from that text, evaluated
with SymPy's constructors (milliseconds); a call with arguments that were not frozen
derives as before. The golden test (``tests/theory/test_frozen.py``) re-derives every
frozen result and fails when any differs from its text (a changed derivation, or a
SymPy that derives it differently): regenerate with the command above and review the
diff. ``COLLAPSE_DERIVE=1`` ignores the frozen results and derives everything.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["DERIVATIONS", "decode", "derive_all", "encode", "frozen", "frozen_text", "import_all", "write"]

# name -> (the served function, the live derivation, the arguments to freeze)
DERIVATIONS: dict[str, tuple[Callable, Callable, tuple[tuple, ...]]] = {}
_GENERATED = Path(__file__).with_name("_derived")


def frozen(*calls: tuple) -> Callable[[Callable], Callable]:
    """Serve a derivation from :mod:`._derived` when frozen there; ``calls``: the argument tuples to freeze.

    The decorated function is cached per arguments (as ``functools.cache``); its
    ``derive`` attribute is the live derivation.
    """
    calls = calls or ((),)

    def wrap(fn: Callable) -> Callable:
        name = f"{fn.__module__}.{fn.__qualname__}"

        @functools.cache
        def served(*args):
            if os.environ.get("COLLAPSE_DERIVE", "") not in ("", "0"):
                return fn(*args)
            text = frozen_text().get((name, args))
            return fn(*args) if text is None else decode(text)

        served = functools.wraps(fn)(served)
        served.derive = fn
        DERIVATIONS[name] = (served, fn, tuple(tuple(c) for c in calls))
        return served

    return wrap


@functools.cache
def frozen_text() -> dict[tuple[str, tuple], str]:
    """The generated table ``(derivation, arguments) -> source text`` (empty if not generated)."""
    try:
        package = importlib.import_module(f"{__package__}._derived")
    except ModuleNotFoundError:
        return {}
    table: dict[tuple[str, tuple], str] = {}
    for name in package.MODULES:
        table.update(importlib.import_module(f"{package.__name__}.{name}").DERIVED)
    return table


def encode(obj: Any) -> str:
    """Python source for ``obj``: SymPy objects by ``srepr``; dicts, tuples, lists, dataclasses, scalars."""
    import sympy as sp

    if isinstance(obj, (sp.Basic, sp.MatrixBase)):
        return sp.srepr(obj)
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{encode(k)}: {encode(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, tuple):
        return "(" + "".join(f"{encode(v)}, " for v in obj) + ")"
    if isinstance(obj, list):
        return "[" + ", ".join(encode(v) for v in obj) + "]"
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        fields = ", ".join(f"{f.name}={encode(getattr(obj, f.name))}" for f in dataclasses.fields(obj))
        return f"_dc({cls.__module__!r}, {cls.__qualname__!r})({fields})"
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return repr(obj)
    raise TypeError(f"cannot freeze a {type(obj).__name__}: {obj!r}")


def _dataclass(module: str, qualname: str) -> type:
    target = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


@functools.cache
def _namespace() -> dict[str, Any]:

    space: dict[str, Any] = {}
    exec("from sympy import *", space)  # noqa: S102  (srepr's constructors, by name)
    from sympy.functions.elementary.piecewise import ExprCondPair

    space.update({"ExprCondPair": ExprCondPair, "_dc": _dataclass})
    return space


def decode(text: str) -> Any:
    """The object :func:`encode` wrote (``eval`` of generated, committed source)."""
    return eval(text, dict(_namespace()))  # noqa: S307  (the package's own generated file)


def import_all() -> dict[str, tuple[Callable, Callable, tuple[tuple, ...]]]:
    """Import every module of :mod:`model_collapse.theory` (each registers its derivations): :data:`DERIVATIONS`."""
    package = importlib.import_module(__package__)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{__package__}."):
        if not info.name.startswith(f"{__package__}._derived"):
            importlib.import_module(info.name)
    return DERIVATIONS


def derive_all() -> dict[tuple[str, tuple], str]:
    """Run every live derivation at its frozen arguments: ``(name, args) -> encode(result)``."""
    import_all()
    return {(name, args): encode(fn(*args)) for name, (_, fn, calls) in DERIVATIONS.items() for args in calls}


def _module_of(name: str) -> str:
    """``model_collapse.theory.gaussian.mix.mix_derivation`` -> ``gaussian_mix`` (the generated module's name)."""
    return "_".join(name.removeprefix(f"{__package__}.").split(".")[:-1])


def write(path: Path = _GENERATED) -> Path:
    """Regenerate :mod:`._derived` from the live derivations: one module per theory module."""
    table = derive_all()
    path.mkdir(exist_ok=True)
    for old in path.glob("*.py"):
        old.unlink()
    header = [
        '"""Generated by ``python -m model_collapse.theory.frozen``: do not edit.',
        "",
        "The SymPy derivations of :mod:`model_collapse.theory`, frozen (:mod:`model_collapse.theory.frozen`);",
        "``tests/theory/test_frozen.py`` re-derives each and fails when it differs.",
        '"""',
        "",
    ]
    modules = sorted({_module_of(name) for name, _ in table})
    for module in modules:
        lines = [*header, "# fmt: off", "DERIVED = {"]
        for (name, args), text in sorted(table.items()):
            if _module_of(name) != module:
                continue
            lines.append(f"    ({name!r}, {args!r}): (")
            lines += [f"        {text[i : i + 100]!r}" for i in range(0, len(text), 100)]
            lines.append("    ),")
        (path / f"{module}.py").write_text("\n".join([*lines, "}", ""]))
    names = [f'    "{m}",' for m in modules]
    (path / "__init__.py").write_text("\n".join([*header, "MODULES = (", *names, ")", ""]))
    return path


if __name__ == "__main__":  # run as a script, this file is not the module the derivations registered with
    print(importlib.import_module("model_collapse.theory.frozen").write(), file=sys.stderr)
