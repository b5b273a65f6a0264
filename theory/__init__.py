"""Closed-form laws of model collapse, derived in SymPy from each model's recursion.

* :mod:`theory.linreg`: OLS refit on its own labels (replace, accumulate).
* :mod:`theory.gaussian`: Gaussian refit on its own samples (replace, accumulate, mix;
  unbiased and MLE covariance).
* :mod:`theory.tails`: tails of the Monte Carlo estimators (when a z-score is honest).
* :mod:`theory.categorical`: a categorical distribution refit on its own (decoded) samples.

Imports nothing from ``experiments``: theory is upstream of simulation. The submodules
are imported on first access (``theory.gaussian``, or ``from theory import gaussian``),
so importing this package does not import SymPy.
"""

from __future__ import annotations

import importlib

__all__ = ["categorical", "gaussian", "linreg", "tails"]


def __getattr__(name: str):
    if name in __all__:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
