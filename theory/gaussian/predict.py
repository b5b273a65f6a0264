"""The dispatcher: the predicted curve for a metric, regime and estimator."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .accumulate import accumulate_mean_sq_error, accumulate_variance
from .augment import augment_mean_sq_error, augment_variance
from .bounds import jensen_log_det_bound, jensen_std_bound
from .checks import _check_common, _check_names, _generations, _mix_count, _need_det, _out
from .laws import law_kind
from .mix import mix_mean_sq_error, mix_variance
from .replace import (
    replace_log_det,
    replace_log_det_rate,
    replace_mean_sq_error,
    replace_std,
    replace_var_log_det,
    replace_var_variance,
    replace_variance,
    replace_w2_sq,
)


def predict(
    metric: str,
    regime: str,
    estimator: str,
    n: ArrayLike,
    *,
    dim: int,
    M: int,
    sigma2: float = 1.0,
    real_fraction: float | None = None,
    statistic: str = "mean",
) -> np.ndarray | None:
    r"""Predicted curve for a metric, regime and estimator (the law's kind: :func:`law_kind`).

    Every metric the simulator reports is accepted, in every dimension; the
    answer is None where no law exists. ``std`` (:math:`\sqrt{\text{variance}}`)
    is exact under replace in 1-D and otherwise the Jensen upper bound
    :math:`\sqrt{E[\text{variance}_n]}` (:func:`jensen_std_bound`).

    Args:
        metric: one of :data:`METRICS` (``mean_sq_error``, ``variance``,
            ``std``, ``log_det``, ``w2_sq``).
        regime: one of :data:`REGIMES`.
        estimator: ``"unbiased"`` or ``"mle"``.
        n: generation(s), integers >= 0 (0 = truth, 1 = first fit on real data).
        dim: dimension, >= 1.
        M: samples per generation, >= 2 (and > dim for ``log_det``).
        sigma2: truth variance per coordinate, :math:`\Sigma = \sigma^2 I`.
        real_fraction: for ``mix`` and ``augment``, the fraction of the ``M``
            samples per generation that is real data (fresh under mix, kept
            from generation 1 under augment), in [0, 1], with
            ``real_fraction * M`` a whole number (the count ``k`` of the
            derivations); must be None for the other regimes.
        statistic: ``"mean"`` (expectation or bound), ``"var"`` (variance of
            the metric across seeds) or ``"rate"`` (a.s. limit of metric / n,
            returned broadcast to the shape of ``n``).

    Returns:
        float64 array shaped like ``n``, or None where no law exists
        (see :func:`closed_forms`).

    Raises:
        ValueError: for invalid names or parameters (checked even when the
            answer would be None).
    """
    _check_names(metric, regime, estimator, statistic)
    dim, M, sigma2 = _check_common(dim, M, sigma2, estimator)
    n_arr = _generations(n)
    _mix_count(regime, real_fraction, M)
    if metric == "log_det":
        _need_det(dim, M)
    kind = law_kind(metric, regime, estimator, dim, statistic)
    if kind is None:
        return None
    kw = dict(dim=dim, M=M, estimator=estimator)
    if regime == "replace":
        if statistic == "mean":
            if metric == "mean_sq_error":
                return replace_mean_sq_error(n_arr, sigma2=sigma2, **kw)
            if metric == "variance":
                return replace_variance(n_arr, **kw)
            if metric == "std" and dim == 1:
                return replace_std(n_arr, **kw)
            if metric == "log_det":
                return replace_log_det(n_arr, **kw)
            if metric == "w2_sq":
                return replace_w2_sq(n_arr, sigma2=sigma2, **kw)
        if statistic == "var":
            if metric == "variance":
                return replace_var_variance(n_arr, **kw)
            if metric == "log_det":
                return replace_var_log_det(n_arr, **kw)
        if statistic == "rate":
            return _out(replace_log_det_rate(**kw), n_arr)
    if regime == "accumulate":
        if metric == "mean_sq_error":
            return accumulate_mean_sq_error(n_arr, sigma2=sigma2, **kw)
        if metric == "variance":
            return accumulate_variance(n_arr, **kw)
    if regime == "mix":
        if metric == "mean_sq_error":
            return mix_mean_sq_error(n_arr, sigma2=sigma2, real_fraction=real_fraction, **kw)
        if metric == "variance":
            return mix_variance(n_arr, real_fraction=real_fraction, **kw)
    if regime == "augment":
        if metric == "mean_sq_error":
            return augment_mean_sq_error(n_arr, sigma2=sigma2, real_fraction=real_fraction, **kw)
        if metric == "variance":
            return augment_variance(n_arr, real_fraction=real_fraction, **kw)
    if metric == "std":
        return jensen_std_bound(n_arr, regime=regime, real_fraction=real_fraction, **kw)
    if metric == "log_det":
        return jensen_log_det_bound(n_arr, regime=regime, real_fraction=real_fraction, **kw)
    raise AssertionError(f"law table and dispatcher disagree on {(metric, regime, estimator, statistic)}")
