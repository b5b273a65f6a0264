"""The table of closed forms: which law exists for which metric, regime, estimator and dimension."""

from __future__ import annotations

from dataclasses import dataclass

from .checks import ESTIMATORS, _check_int, _check_names


# ---------------------------------------------------------------------------
# The law table.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Law:
    """One closed-form law of this module.

    Attributes:
        metric: one of :data:`METRICS`.
        regime: one of :data:`REGIMES`.
        estimator: ``"unbiased"`` or ``"mle"``.
        dims: ``"1"`` (1-D only), ``">1"`` (two or more dimensions only) or
            ``"any"``; see :meth:`applies_to`.
        statistic: ``"mean"`` (of the metric across seeds), ``"var"`` (its
            variance) or ``"rate"`` (a.s. limit of metric / n).
        kind: ``"exact expectation"``, ``"exact variance"``, ``"upper bound"``
            or ``"almost-sure rate"``.
        function: name of the public function computing it.
        source: paper and statement reproduced (or "new" where none states it).
        derivation: ``"derived"`` (SymPy, from the one-step recursion).
    """

    metric: str
    regime: str
    estimator: str
    dims: str
    statistic: str
    kind: str
    function: str
    source: str
    derivation: str = "derived"

    def applies_to(self, dim: int) -> bool:
        """Whether this law is the one for dimension ``dim``."""
        return self.dims == "any" or (self.dims == "1") == (dim == 1)


_SH = "derived here; setting of Shumailov et al. 2024 (Nature), Theorem 3.1 (Gaussian model collapse)"
_SH_STATED = "Shumailov et al. 2024 (Nature), Theorem 3.1 and its proof (E Sigma_n = Sigma, unbiased estimator)"


def _law_rows() -> tuple[Law, ...]:
    rows = []
    for est in ESTIMATORS:
        sh = _SH if est == "unbiased" else "derived here; MLE refit (Kazdan et al. 2024's estimator)"
        rows += [
            Law("mean_sq_error", "replace", est, "any", "mean", "exact expectation", "replace_mean_sq_error", sh),
            Law(
                "variance",
                "replace",
                est,
                "any",
                "mean",
                "exact expectation",
                "replace_variance",
                _SH_STATED if est == "unbiased" else sh,
            ),
            Law("std", "replace", est, "1", "mean", "exact expectation", "replace_std", sh),
            # std = sqrt(tr Sigma_n / tr Sigma) in several dimensions: E of the root does not close
            Law("std", "replace", est, ">1", "mean", "upper bound", "jensen_std_bound", "derived here (Jensen)"),
            Law(
                "log_det",
                "replace",
                est,
                "any",
                "mean",
                "exact expectation",
                "replace_log_det",
                sh + "; the det metric of Kazdan et al. 2024",
            ),
            Law("w2_sq", "replace", est, "1", "mean", "exact expectation", "replace_w2_sq", sh),
            Law("variance", "replace", est, "any", "var", "exact variance", "replace_var_variance", sh),
            Law("log_det", "replace", est, "any", "var", "exact variance", "replace_var_log_det", "derived here"),
            Law("log_det", "replace", est, "any", "rate", "almost-sure rate", "replace_log_det_rate", sh),
            Law(
                "mean_sq_error",
                "accumulate",
                est,
                "any",
                "mean",
                "exact expectation",
                "accumulate_mean_sq_error",
                "derived here; setting of Dey & Donoho 2024 (pi^2/6 pathway), Kazdan et al. 2024",
            ),
            Law(
                "variance",
                "accumulate",
                est,
                "any",
                "mean",
                "exact expectation",
                "accumulate_variance",
                "derived here; setting of Kazdan et al. 2024, Dey & Donoho 2024 (no collapse)",
            ),
            Law("std", "accumulate", est, "any", "mean", "upper bound", "jensen_std_bound", "derived here (Jensen)"),
            Law(
                "log_det",
                "accumulate",
                est,
                "any",
                "mean",
                "upper bound",
                "jensen_log_det_bound",
                "derived here (Jensen)",
            ),
            Law(
                "mean_sq_error",
                "mix",
                est,
                "any",
                "mean",
                "exact expectation",
                "mix_mean_sq_error",
                "derived here (the fresh-data loop of Alemohammad et al. 2024)",
            ),
            Law(
                "variance",
                "mix",
                est,
                "any",
                "mean",
                "exact expectation",
                "mix_variance",
                "derived here (the fresh-data loop of Alemohammad et al. 2024)",
            ),
            Law("std", "mix", est, "any", "mean", "upper bound", "jensen_std_bound", "derived here (Jensen)"),
            Law("log_det", "mix", est, "any", "mean", "upper bound", "jensen_log_det_bound", "derived here (Jensen)"),
            Law(
                "mean_sq_error",
                "augment",
                est,
                "any",
                "mean",
                "exact expectation",
                "augment_mean_sq_error",
                "derived here; setting of Bertrand et al. 2024 and Seddik et al. 2024",
            ),
            Law(
                "variance",
                "augment",
                est,
                "any",
                "mean",
                "exact expectation",
                "augment_variance",
                "derived here; setting of Bertrand et al. 2024 and Seddik et al. 2024",
            ),
            Law("std", "augment", est, "any", "mean", "upper bound", "jensen_std_bound", "derived here (Jensen)"),
            Law(
                "log_det", "augment", est, "any", "mean", "upper bound", "jensen_log_det_bound", "derived here (Jensen)"
            ),
        ]
    return tuple(rows)


def closed_forms() -> tuple[Law, ...]:
    """Every (metric, regime, estimator, dims, statistic) with a law here, and its kind.

    For each dimension at most one law matches a (metric, regime, estimator,
    statistic): ``std`` under replace is exact in 1-D and the Jensen bound
    :math:`\\sqrt{E[\\text{variance}_n]}` in several dimensions.

    Combinations not listed have no closed form in this module: ``w2_sq`` in
    several dimensions (any regime), ``w2_sq`` under accumulate, mix and
    augment (needs :math:`E\\sigma_n`, which does not close), every metric under
    ``accumulate-subsample``, and variances other than those listed.

    Returns:
        tuple of :class:`Law`.
    """
    return _law_rows()


def law_kind(metric: str, regime: str, estimator: str, dim: int, statistic: str = "mean") -> str | None:
    """The kind of law :func:`predict` returns for these arguments, or None.

    None exactly where :func:`predict` returns None.

    Args:
        metric, regime, estimator: as in :func:`predict`.
        dim: dimension, >= 1.
        statistic: ``"mean"``, ``"var"`` or ``"rate"``.

    Returns:
        ``"exact expectation"``, ``"exact variance"``, ``"upper bound"``,
        ``"almost-sure rate"`` or None.

    Raises:
        ValueError: for a name outside :data:`METRICS`, :data:`REGIMES`,
            :data:`ESTIMATORS` or :data:`STATISTICS`, or a dimension < 1.
    """
    _check_names(metric, regime, estimator, statistic)
    dim = _check_int("dim", dim, 1)
    for law in _law_rows():
        if (law.metric, law.regime, law.estimator, law.statistic) == (
            metric,
            regime,
            estimator,
            statistic,
        ) and law.applies_to(dim):
            return law.kind
    return None
