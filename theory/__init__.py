"""Closed-form laws of model collapse, derived in SymPy from each model's recursion.

Imports nothing from ``experiments``: theory is upstream of simulation.
"""

from . import linreg

__all__ = ["linreg"]
