"""Closed-form laws of model collapse, derived in SymPy from each model's recursion.

* :mod:`theory.linreg`: OLS refit on its own labels (replace, accumulate).
* :mod:`theory.gaussian`: Gaussian refit on its own samples (replace, accumulate, mix;
  unbiased and MLE covariance).

Imports nothing from ``experiments``: theory is upstream of simulation.
"""

from . import gaussian, linreg

__all__ = ["gaussian", "linreg"]
