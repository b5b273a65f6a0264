r"""The categorical model: a next-token distribution refit on its own (decoded) samples.

Categories ``0..K-1`` with initial distribution :math:`p_0` (:func:`initial_distribution`); generation
1 is the fit (counts over ``M``) on ``M`` real samples, generation :math:`n \ge 2` refits on samples
of :func:`decode` (temperature, top-k, top-p, greedy) of generation :math:`n-1`, pooled by regime
(replace, accumulate, mix, augment, accumulate-subsample; see :mod:`.gini`). ``n`` counts fits
throughout; generation 0 is :math:`p_0`.

Modules:

* :mod:`.distributions` (NumPy): :math:`p_0`, the tail set, the decoders and their infinite-sample
  iteration;
* :mod:`.moments` and :mod:`.mixing` (SymPy, frozen in :mod:`model_collapse.theory._derived`): the
  one-step multinomial moments and, from them, :math:`E p_n`, :math:`\operatorname{Cov} p_n` and
  :math:`E\,G_n` (Gini-Simpson) under replace, accumulate, mix and augment, with stationary points,
  and Seddik et al. 2024's partially synthetic chain with their eq. (9) checked;
* :mod:`.gini` (numeric): those laws as functions of ``n``, ``p0``, ``M``;
* :mod:`.survival` (NumPy/SciPy): the two-type Wright-Fisher chain of one category's count: exact
  survival, fixation, expected support, absorption, mean absorption time; the published
  approximations and bounds (Suresh et al. 2024; Seddik et al. 2024; the diffusion time);
* :mod:`.tails_of_zipf`: a downstream learner's error (Dohmatob et al. 2024, *A Tale of Tails*),
  exactly at finite ``T``;
* :mod:`.one_step`: one decoded step at finite ``M``, exactly, by enumerating the multinomial's
  outcomes (not re-exported here).

Importing this package does not import SymPy; the first call of a function served from a frozen
derivation does (to evaluate the frozen expressions).
"""

from .distributions import (
    INITS,
    TAIL_MASS,
    decode,
    decode_iterate,
    decode_limit,
    initial_distribution,
    tail_set,
    temperature_power,
)
from .gini import (
    REGIMES,
    expected_covariance,
    expected_gini,
    real_count,
    seddik_eq9,
    seddik_partial_sum_sq,
    stationary_gini,
)
from .mixing import augment_derivation, mix_derivation, seddik_partial_derivation
from .moments import accumulate_derivation, multinomial_moments, replace_derivation, symbols
from .survival import (
    COUNT_REGIMES,
    absorbed_skewness,
    absorption_probability,
    bernoulli_skewness,
    count_distribution,
    diffusion_absorption_time,
    expected_absorption_time,
    expected_support,
    fixation_probability_at,
    fixed_on_mode_skewness,
    seddik_absorption_bounds,
    seddik_absorption_time_bounds,
    suresh_bernoulli_bounds,
    suresh_g,
    suresh_survival,
    survival_probability,
    transition_matrix,
)
from .tails_of_zipf import (
    clean_downstream_error,
    downstream_error_given,
    expected_downstream_error,
    tail_cut_error,
    tail_cut_plateau,
    zipf_clean_downstream_error,
    zipf_constant_derivation,
    zipf_downstream_constant,
)

__all__ = [
    "COUNT_REGIMES",
    "INITS",
    "REGIMES",
    "TAIL_MASS",
    "absorbed_skewness",
    "absorption_probability",
    "accumulate_derivation",
    "augment_derivation",
    "bernoulli_skewness",
    "clean_downstream_error",
    "count_distribution",
    "decode",
    "decode_iterate",
    "decode_limit",
    "diffusion_absorption_time",
    "downstream_error_given",
    "expected_absorption_time",
    "expected_covariance",
    "expected_downstream_error",
    "expected_gini",
    "expected_support",
    "fixation_probability_at",
    "fixed_on_mode_skewness",
    "initial_distribution",
    "mix_derivation",
    "multinomial_moments",
    "real_count",
    "replace_derivation",
    "seddik_absorption_bounds",
    "seddik_absorption_time_bounds",
    "seddik_eq9",
    "seddik_partial_derivation",
    "seddik_partial_sum_sq",
    "stationary_gini",
    "suresh_bernoulli_bounds",
    "suresh_g",
    "suresh_survival",
    "survival_probability",
    "symbols",
    "tail_cut_error",
    "tail_cut_plateau",
    "tail_set",
    "temperature_power",
    "transition_matrix",
    "zipf_clean_downstream_error",
    "zipf_constant_derivation",
    "zipf_downstream_constant",
]
