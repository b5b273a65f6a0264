r"""Gaussian refitting: SymPy derivations of the model-collapse laws, and fast numeric functions.

The model (Shumailov et al., Nature 2024, "AI models collapse when trained on
recursively generated data", the theorem on recursive Gaussian fitting; Kazdan
et al. 2024 "Collapse or Thrive?"; Alemohammad et al. 2024; Bertrand et al. 2024; Dey & Donoho 2024):

* the truth is :math:`N(\mu, \Sigma)` in ``dim`` dimensions; generation 0 *is*
  the truth;
* generation 1 is fit on ``M`` real samples; generation :math:`n \ge 2` is fit on
  samples of generation :math:`n-1`'s fit, pooled according to the regime:

  - ``replace``: the ``M`` newest samples only, drawn from model :math:`n-1`;
  - ``accumulate``: all :math:`nM` samples so far (``M`` real and ``M`` from each
    of models :math:`1..n-1`), pooled: mean of all, scatter about the pooled mean;
  - ``mix``: ``k = real_fraction * M`` fresh real samples plus ``M - k`` from
    model :math:`n-1`, fit on those ``M``;
  - ``augment``: the *same* ``k = real_fraction * M`` real samples every
    generation (the first ``k`` of generation 1's, kept for good) plus
    ``M - k`` from model :math:`n-1` (:mod:`.augment`; the Nature paper's
    variant, a fresh random ``k`` of the original ``M`` each generation, is in
    :mod:`.resample`, outside :func:`predict` as the simulator has no such regime);
  - ``accumulate-subsample``: no closed form (every function returns ``None``);
* estimators: the sample mean, and the covariance ``scatter / (N - 1)``
  (``"unbiased"``) or ``scatter / N`` (``"mle"``), ``N`` the number of samples
  fitted and scatter :math:`\sum (x - \bar x)(x - \bar x)^T`.

Metrics at generation ``n`` (the simulator reports the same ones, in every
dimension, and :func:`predict` accepts each): ``mean_sq_error``
:math:`= \|\mu_n - \mu\|^2`, ``variance``
:math:`= \operatorname{tr}\Sigma_n / \operatorname{tr}\Sigma`, ``std``
:math:`= \sqrt{\text{variance}}` (:math:`\sigma_n / \sigma` in 1-D), ``log_det``
:math:`= \log\det\Sigma_n - \log\det\Sigma`, ``w2_sq`` the squared
2-Wasserstein distance to the truth, in 1-D
:math:`(\mu_n - \mu)^2 + (\sigma_n - \sigma)^2`. Where no law exists
(``w2_sq`` in several dimensions, for one) :func:`predict` returns None;
:func:`law_kind` says which laws are exact and which are bounds.

Parameterisation. Every law is invariant under translation of the truth and
under rotations, so the numeric functions take :math:`\Sigma = \sigma^2 I` and
the parameters ``dim, M, sigma2`` (and ``real_fraction`` for ``mix`` and ``augment``). The expectations
of ``mean_sq_error`` and ``variance`` depend on :math:`\Sigma` only through
:math:`\operatorname{tr}\Sigma` in every regime (so they hold for any
:math:`\Sigma` with ``dim * sigma2`` read as :math:`\operatorname{tr}\Sigma`);
``log_det`` under ``replace`` does not depend on :math:`\Sigma` at all.

How the laws are obtained ("derive, don't transcribe"). Each regime has a
``*_derivation(estimator)`` function that builds the one-step recursion from
the sampling model with :mod:`sympy.stats` (normal and chi-square moments,
the chi-square Mellin transform :math:`E[X^t]`), checks that the conditional
expectations close linearly in a few moments, and solves the recursion with
``rsolve``, ``summation``, ``product`` or a matrix diagonalisation. The results
are cached (:func:`functools.lru_cache`) and turned into numeric functions with
``sympy.lambdify(..., modules=["scipy", "numpy"])``. Two facts are imported as
modelling assumptions and tested by Monte Carlo rather than derived: the
independence of the sample mean and the sample scatter of Gaussian samples
(Cochran), and the Bartlett decomposition of the Wishart determinant.
Everything else is derived.

Modules: :mod:`.symbolic` (symbols, chi-square and Wishart moments, expectation
helpers, pooling identities), :mod:`.replace`, :mod:`.accumulate`, :mod:`.mix`,
:mod:`.augment`, :mod:`.resample` (each regime's derivation and its numeric functions), :mod:`.bias`
(sampling at a temperature: the tempered recursions of replace, mix and augment), :mod:`.bounds` (Jensen
bounds), :mod:`.laws` (the table of closed forms, :func:`law_kind`),
:mod:`.predict` (the dispatcher) and :mod:`.checks` (names and input validation).
"""

from .accumulate import accumulate_derivation, accumulate_limits, accumulate_mean_sq_error, accumulate_variance
from .augment import augment_derivation, augment_mean_sq_error, augment_stationary, augment_variance
from .bias import (
    bias_derivation,
    mean_effective_size,
    tempered_law_kind,
    tempered_moments,
    tempered_predict,
    tempered_stationary,
)
from .bounds import jensen_log_det_bound, jensen_std_bound
from .checks import ESTIMATORS, METRICS, REGIMES, STATISTICS
from .laws import Law, closed_forms, law_kind
from .mix import _mix_numeric, mix_derivation, mix_mean_sq_error, mix_stationary, mix_variance  # noqa: F401
from .predict import predict
from .replace import (
    replace_derivation,
    replace_log_det,
    replace_log_det_rate,
    replace_mean_sq_error,
    replace_std,
    replace_var_log_det,
    replace_var_variance,
    replace_variance,
    replace_w2_sq,
)
from .resample import (
    resample_derivation,
    resample_mean_sq_error,
    resample_stationary,
    resample_variance,
    srswor_moments,
)
from .symbolic import check_pooling_identities, chi2_moments, in_terms_of_M, symbols, wishart_trace_moments

__all__ = [
    "ESTIMATORS",
    "REGIMES",
    "METRICS",
    "STATISTICS",
    "Law",
    "symbols",
    "in_terms_of_M",
    "chi2_moments",
    "wishart_trace_moments",
    "check_pooling_identities",
    "replace_derivation",
    "accumulate_derivation",
    "mix_derivation",
    "replace_mean_sq_error",
    "replace_variance",
    "replace_std",
    "replace_log_det",
    "replace_w2_sq",
    "replace_var_variance",
    "replace_var_log_det",
    "replace_log_det_rate",
    "accumulate_mean_sq_error",
    "accumulate_variance",
    "accumulate_limits",
    "mix_mean_sq_error",
    "mix_variance",
    "mix_stationary",
    "augment_derivation",
    "augment_mean_sq_error",
    "augment_variance",
    "augment_stationary",
    "srswor_moments",
    "resample_derivation",
    "resample_mean_sq_error",
    "resample_variance",
    "resample_stationary",
    "bias_derivation",
    "tempered_moments",
    "tempered_predict",
    "tempered_stationary",
    "tempered_law_kind",
    "mean_effective_size",
    "jensen_std_bound",
    "jensen_log_det_bound",
    "predict",
    "law_kind",
    "closed_forms",
]
