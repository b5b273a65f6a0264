r"""Jensen upper bounds, for metrics whose expectation does not close under a regime.

Each bound takes an exact-expectation input, the derived variance law of the
regime (:mod:`.replace`, :mod:`.accumulate`, :mod:`.mix`, :mod:`.augment`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .accumulate import accumulate_variance
from .augment import augment_variance
from .checks import _check_common, _generations, _mix_count, _need_det
from .mix import mix_variance
from .replace import replace_variance


# ---------------------------------------------------------------------------
# Bounds.
# ---------------------------------------------------------------------------
def _mean_variance(regime, estimator, n_arr, dim, M, real_fraction) -> np.ndarray:
    if regime == "replace":
        return replace_variance(n_arr, dim=dim, M=M, estimator=estimator)
    if regime == "accumulate":
        return accumulate_variance(n_arr, dim=dim, M=M, estimator=estimator)
    if regime == "mix":
        return mix_variance(n_arr, dim=dim, M=M, estimator=estimator, real_fraction=real_fraction)
    if regime == "augment":
        return augment_variance(n_arr, dim=dim, M=M, estimator=estimator, real_fraction=real_fraction)
    raise ValueError(f"no variance law for regime {regime!r}")


def jensen_std_bound(
    n: ArrayLike, *, regime: str, M: int, estimator: str, real_fraction: float | None = None, dim: int = 1
) -> np.ndarray:
    r"""Upper bound :math:`E[\text{std}_n] \le \sqrt{E[\text{variance}_n]}` (Jensen; any dim).

    :math:`\text{std}_n = \sqrt{\operatorname{tr}\Sigma_n/\operatorname{tr}\Sigma}`
    (:math:`\sigma_n/\sigma` in 1-D) and the square root is concave. Exact-expectation
    input from the derived variance law of the regime, which does not depend on
    the dimension. Used where :math:`E[\text{std}_n]` has no closed form:
    accumulate, mix and augment (the pooled scatter is not a scaled chi-square), and
    replace in several dimensions (the trace of a Wishart product is not a
    scaled chi-square).

    Args:
        n: generation(s), integers >= 0.
        regime: ``"replace"``, ``"accumulate"``, ``"mix"`` or ``"augment"``.
        M, estimator: as elsewhere.
        real_fraction: for ``mix`` and ``augment`` (fraction of real data, see
            :func:`mix_mean_sq_error`, :func:`augment_mean_sq_error`); must be
            None otherwise.
        dim: dimension d >= 1 (checked; the bound does not depend on it).

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    _mix_count(regime, real_fraction, M)
    n_arr = _generations(n)
    return np.sqrt(_mean_variance(regime, estimator, n_arr, dim, M, real_fraction))


def jensen_log_det_bound(
    n: ArrayLike, *, regime: str, dim: int, M: int, estimator: str, real_fraction: float | None = None
) -> np.ndarray:
    r"""Upper bound :math:`E[\text{log\_det}_n] \le d\log E[\text{variance}_n]`.

    AM-GM gives :math:`\log\det\Sigma_n \le d\log(\operatorname{tr}\Sigma_n/d)`
    and Jensen (log concave) moves the expectation inside; with
    :math:`\Sigma = \sigma^2 I` the right side is :math:`d\log\beta_n`.
    Used for accumulate, mix and augment, where :math:`E\log\det` of the pooled,
    non-central scatter does not close.

    Args:
        n: generation(s), integers >= 0.
        regime: ``"replace"``, ``"accumulate"``, ``"mix"`` or ``"augment"``.
        dim: dimension d < M.
        M, estimator: as elsewhere.
        real_fraction: for ``mix`` and ``augment``, as in :func:`jensen_std_bound`.

    Returns:
        float64 array shaped like ``n``.
    """
    dim, M, _ = _check_common(dim, M, 1.0, estimator)
    _need_det(dim, M)
    _mix_count(regime, real_fraction, M)
    n_arr = _generations(n)
    return dim * np.log(_mean_variance(regime, estimator, n_arr, dim, M, real_fraction))
