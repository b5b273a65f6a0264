"""Names and input validation shared by the Gaussian laws (NumPy only, no SymPy)."""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike

ESTIMATORS = ("unbiased", "mle")
REGIMES = ("replace", "accumulate", "mix", "augment", "accumulate-subsample")
REAL_DATA_REGIMES = ("mix", "augment")  # the regimes that take real_fraction
METRICS = ("mean_sq_error", "variance", "std", "log_det", "w2_sq")
STATISTICS = ("mean", "var", "rate")


# ---------------------------------------------------------------------------
# Input validation.
# ---------------------------------------------------------------------------
def _check_int(name: str, value, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < lo:
        raise ValueError(f"{name} must be >= {lo}, got {value}")
    return int(value)


def _check_names(metric: str, regime: str, estimator: str, statistic: str) -> None:
    """Each name one of its allowed values; a ValueError naming them otherwise."""
    for what, value, allowed in (
        ("metric", metric, METRICS),
        ("regime", regime, REGIMES),
        ("estimator", estimator, ESTIMATORS),
        ("statistic", statistic, STATISTICS),
    ):
        if value not in allowed:
            raise ValueError(f"{what} must be one of {allowed}, got {value!r}")


def _check_common(dim, M, sigma2, estimator) -> tuple[int, int, float]:
    dim = _check_int("dim", dim, 1)
    M = _check_int("M (samples per generation)", M, 2)
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    if isinstance(sigma2, bool) or not isinstance(sigma2, numbers.Real) or not math.isfinite(sigma2) or sigma2 <= 0:
        raise ValueError(f"sigma2 must be a finite positive number, got {sigma2!r}")
    return dim, M, float(sigma2)


def _generations(n: ArrayLike) -> np.ndarray:
    arr = np.asarray(n)
    if arr.dtype == bool:
        raise ValueError("generations n must be integers, got booleans")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"generations n must be integers, got dtype {arr.dtype}")
    if np.any(arr < 0):
        raise ValueError("generations n must be >= 0 (0 is the truth)")
    return arr.astype(np.int64)


def _need_det(dim: int, M: int) -> None:
    if M <= dim:
        raise ValueError(f"log_det needs M > dim (a nonsingular fitted covariance), got M={M}, dim={dim}")


def _real_count(real_fraction, M: int, regime: str = "mix") -> int:
    """k = real_fraction * M, the real samples per generation of ``mix`` or ``augment``, checked to be whole."""
    if real_fraction is None:
        what = "fresh" if regime == "mix" else "kept"
        raise ValueError(
            f"regime {regime!r} needs real_fraction (the fraction of the M samples that is {what} real data)"
        )
    if (
        isinstance(real_fraction, bool)
        or not isinstance(real_fraction, numbers.Real)
        or not math.isfinite(real_fraction)
    ):
        raise ValueError(f"real_fraction must be a finite number in [0, 1], got {real_fraction!r}")
    if not 0.0 <= real_fraction <= 1.0:
        raise ValueError(f"real_fraction must be in [0, 1], got {real_fraction!r}")
    k = float(real_fraction) * M
    if abs(k - round(k)) > 1e-9:
        raise ValueError(f"real_fraction * M must be a whole number of samples, got {real_fraction!r} * {M} = {k:g}")
    return int(round(k))


def _mix_count(regime: str, real_fraction, M: int) -> int | None:
    """The real count k for regimes ``mix`` and ``augment``; None otherwise, where ``real_fraction`` must be None."""
    if regime in REAL_DATA_REGIMES:
        return _real_count(real_fraction, M, regime)
    if real_fraction is not None:
        raise ValueError(f"real_fraction applies only to regime 'mix' or 'augment', got regime {regime!r}")
    return None


def _out(values, n_arr: np.ndarray) -> np.ndarray:
    # "+ 0.0" turns the -0.0 of e.g. 0 * negative drift into 0.0
    return np.broadcast_to(np.asarray(values, dtype=np.float64) + 0.0, n_arr.shape).astype(np.float64)
