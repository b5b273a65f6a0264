r"""Jensen upper bounds, for metrics whose expectation does not close under a regime.

Each bound takes an exact-expectation input, the derived variance law of the
regime (:mod:`.replace`, :mod:`.accumulate`, :mod:`.mix`).
"""

from __future__ import annotations

import numpy as np

from .accumulate import accumulate_variance
from .checks import _check_common, _check_k, _generations, _need_det
from .mix import mix_variance
from .replace import replace_variance


# ---------------------------------------------------------------------------
# Bounds.
# ---------------------------------------------------------------------------
def _mean_variance(regime, estimator, n_arr, dim, M, k) -> np.ndarray:
    if regime == "replace":
        return replace_variance(n_arr, dim=dim, M=M, estimator=estimator)
    if regime == "accumulate":
        return accumulate_variance(n_arr, dim=dim, M=M, estimator=estimator)
    if regime == "mix":
        return mix_variance(n_arr, dim=dim, M=M, estimator=estimator, k_real=k)
    raise ValueError(f"no variance law for regime {regime!r}")


def jensen_std_bound(n, *, regime: str, M: int, estimator: str, k_real: int | None = None) -> np.ndarray:
    r"""Upper bound :math:`E[\sigma_n/\sigma] \le \sqrt{E[\sigma_n^2/\sigma^2]}` (1-D; Jensen).

    Exact-expectation input from the derived variance law of the regime.
    Used where :math:`E\sigma_n` has no closed form (accumulate, mix: the
    pooled scatter is not a scaled chi-square).

    Args:
        n: generation(s), integers >= 0.
        regime: ``"replace"``, ``"accumulate"`` or ``"mix"``.
        M, estimator: as elsewhere.
        k_real: for ``mix``.

    Returns:
        float64 array shaped like ``n``.
    """
    _, M, _ = _check_common(1, M, 1.0, estimator)
    k = _check_k(k_real, M) if regime == "mix" else None
    n_arr = _generations(n)
    return np.sqrt(_mean_variance(regime, estimator, n_arr, 1, M, k))


def jensen_log_det_bound(n, *, regime: str, dim: int, M: int, estimator: str,
                         k_real: int | None = None) -> np.ndarray:
    r"""Upper bound :math:`E[\text{log\_det}_n] \le d\log E[\text{variance}_n]`.

    AM-GM gives :math:`\log\det\Sigma_n \le d\log(\operatorname{tr}\Sigma_n/d)`
    and Jensen (log concave) moves the expectation inside; with
    :math:`\Sigma = \sigma^2 I` the right side is :math:`d\log\beta_n`.
    Used for accumulate and mix, where :math:`E\log\det` of the pooled,
    non-central scatter does not close.

    Args:
        n: generation(s), integers >= 0.
        regime: ``"replace"``, ``"accumulate"`` or ``"mix"``.
        dim: dimension d < M.
        M, estimator: as elsewhere.
        k_real: for ``mix``.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    _need_det(dim, M)
    k = _check_k(k_real, M) if regime == "mix" else None
    n_arr = _generations(n)
    return dim * np.log(_mean_variance(regime, estimator, n_arr, dim, M, k))
